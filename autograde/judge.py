"""The judge: a notebook's verdicts computed in a process of its own, within a time and a memory budget.

Answer data is hostile too. A numerically correct answer can hold a SymPy expression
that takes hours to build or to simplify (``(10**59/(10**59+1))**(10**59)`` is 1.0 in
float64), and SymPy's integer powers and ``evaluate=False`` paths are not interruptible
everywhere, so no timer inside the grader's process can stop it. Instead the grader
forks a judge once per notebook; the judge gets an address-space limit
(``RLIMIT_AS``, its size at the fork plus ``Judge.memory_bytes``) and judges the cells
one after another, writing each verdict as one line of JSON (``Feedback.to_data``)
into a pipe. The grader waits at most ``Judge.seconds`` for each line. A cell that
takes longer gets 0 with a plain note, the judge is killed, and a fresh one is forked
for the cells after it; a judge that dies (out of memory, a crash) costs only the cell
it was judging. Nothing the judge sends is unpickled: each line is parsed as JSON, the
verdict into a Feedback, whatever its fields, beside the proofs the judge found on the way
(course_lib/proofs.py), which the grader keeps for the judges it forks later.

Each judge starts as a copy of the grader's process, and what it computes dies with it, so
what every judge would compute the same way ``warm_up`` does once, in the grader, before the
first fork: import networkx (the graphs of b and c1), read both languages' message catalogues,
name the diagnosis trees (the answer notes), build a1's key for every case a request can ask
and c3's SymPy model of the definitions. All of it comes from the course and the keys, none of
it from a submission.
"""
from __future__ import annotations

import functools
import json
import math
import os
import resource
import select
import signal
import time

from threadpoolctl import ThreadpoolController
from traitlets import Float, Integer
from traitlets.config import Configurable

from course_lib import proofs
from course_lib.feedback import Feedback

from .language import _
from .lifetime import die_with_parent
from .verdict import judge_cell

MAX_LINE = 4 * 2**20  # one verdict: findings are a few short messages


class Judge(Configurable):
    seconds = Float(10.0, help="Wall time the grader gives the verdict of one graded cell.").tag(config=True)
    memory_bytes = Integer(2 * 2**30, help="Memory the judge of one notebook may take beyond what the "
                                           "grader's process already holds.").tag(config=True)

    def judge_all(self, cells: list[tuple[str, list]], secret: str, student: str, notebook: str,
                  stopped: str = "", keys: dict | None = None, requests: dict | None = None) -> list[Feedback]:
        """Feedback for each (task id, outputs) of ``cells``, in order; never raises, never hangs.

        ``stopped``, ``keys`` and ``requests`` as for verdict.judge_cell."""
        warm_up()
        verdicts: list[Feedback] = []
        while len(verdicts) < len(cells):
            verdicts += self._judge_from(cells, len(verdicts), (secret, student, notebook, stopped, keys, requests))
        return verdicts

    def _judge_from(self, cells, first: int, who: tuple) -> list[Feedback]:
        """Verdicts for cells[first:] from one judge process, up to and including the first that fails."""
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the judge
            os.close(read)
            _serve(write, cells[first:], who, self.memory_bytes)
        os.close(write)
        verdicts, buffer, status = [], b"", None
        try:
            while first + len(verdicts) < len(cells):
                task = cells[first + len(verdicts)][0]
                line, buffer, why = _next_line(read, buffer, time.monotonic() + self.seconds)
                if line is None:
                    if why == "exited":
                        status = os.waitpid(pid, 0)[1]
                        why = _exit_reason(status)
                    late = _("this answer could not be judged within {seconds} s").format(seconds=f"{self.seconds:g}")
                    verdicts.append(_unjudged(task, why or late))
                    break
                verdicts.append(_verdict(task, line))
        finally:
            os.close(read)
            if status is None:  # still running (past its deadline) or about to exit: end it now
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
        return verdicts


@functools.cache
def blas() -> ThreadpoolController:
    """The grader's BLAS libraries, found once (threadpoolctl walks every loaded library to find them)."""
    return ThreadpoolController()


@functools.cache
def warm_up() -> None:
    """Once per grader process: the work every judge's first verdict would repeat, none of it a submission's."""
    import networkx  # noqa: F401  (imported by the b and c1 judges when they first read a graph)

    from course_lib.i18n import COURSE_LIB, LANGUAGES
    from course_lib.tasks.a import reference_data
    from course_lib.tasks.c.c3 import concrete_model

    from .answer_notes import note_path
    from .keys.a import a1_cases, a1_reference
    from .language import GRADER

    for language in LANGUAGES:
        COURSE_LIB.translations(language), GRADER.translations(language)
    note_path("", [], ())
    for n, i in a1_cases():
        reference_data(a1_reference(n, i))
    concrete_model()
    blas()


def _serve(write: int, cells, who: tuple, memory_bytes: int) -> None:
    """In the judge: verdicts as JSON lines, then exit without running the grader's exit handlers."""
    code = 0
    try:
        die_with_parent()  # a grader killed at its job limit takes its judge along
        size = _address_space()
        resource.setrlimit(resource.RLIMIT_AS, (size + memory_bytes, size + memory_bytes))
        # One BLAS thread: a judge runs beside the batch's other work, and c2's finite differences at full
        # size took 40 to 120 ms with two threads contending for the cores, 31 ms with one. (The product's
        # summation, so the last digit of a reported relative error, depends on the thread count.)
        blas().limit(limits=1)
        proofs.take_new()  # the grader's own, if any: it has them
        with os.fdopen(write, "wb") as out:
            for task, outputs in cells:
                verdict = judge_cell(task, outputs, *who)
                out.write(json.dumps({"verdict": verdict.to_data(), "proved": proofs.take_new()}).encode() + b"\n")
                out.flush()
    except BaseException:  # MemoryError while writing, or anything else: the grader sees a dead judge
        code = 1
    os._exit(code)


def _address_space() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[0]) * resource.getpagesize()


def _next_line(fd: int, buffer: bytes, deadline: float):
    """(line, rest, None), or (None, rest, why): why is "exited", "" for the deadline, or a reason."""
    while b"\n" not in buffer:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            return None, buffer, ""
        chunk = os.read(fd, 2**16)
        if not chunk:
            return None, buffer, "exited"
        buffer += chunk
        if len(buffer) > MAX_LINE:
            return None, b"", "the verdict was too large to report"
    line, _newline, rest = buffer.partition(b"\n")
    return line, rest, None


def _verdict(task: str, line: bytes) -> Feedback:
    """The judge's line as Feedback, its credit a finite fraction; the proofs it reports are kept."""
    try:
        data = json.loads(line)
        proofs.learn(data.get("proved"))
        feedback = Feedback.from_data(data["verdict"])
        feedback.credit = min(max(feedback.credit, 0.0), 1.0) if math.isfinite(feedback.credit) else 0.0
        return feedback
    except (ValueError, TypeError, KeyError, AttributeError):
        return _unjudged(task, _("this answer could not be judged: judging it failed"))


def _exit_reason(status: int) -> str:
    if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL:
        return _("this answer could not be judged: judging it ran out of memory")
    return _("this answer could not be judged: judging it failed")


def _unjudged(task: str, why: str) -> Feedback:
    return Feedback(task, 0.0).add("", "invalid", why)
