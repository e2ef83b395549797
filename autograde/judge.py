"""The judge: a notebook's verdicts computed in a process of its own, within a time and a memory budget.

Answer data is hostile too. A numerically correct answer can hold a SymPy expression
that takes hours to build or to simplify (``(10**59/(10**59+1))**(10**59)`` is 1.0 in
float64), and SymPy's integer powers and ``evaluate=False`` paths are not interruptible
everywhere, so no timer inside the grader's process can stop it. Instead the grader
forks a judge; the judge gets an address-space limit (``RLIMIT_AS``, its size at the
fork plus ``Judge.memory_bytes``) and judges the cells one after another, writing
each verdict as one line of JSON (``Feedback.to_data``) into a pipe. The grader waits
at most ``Judge.seconds`` for each line. A cell that takes longer gets 0 with a plain
note, the judge is killed, and a fresh one is forked for the cells after it; a judge
that dies (out of memory, a crash) costs only the cell it was judging. Nothing the
judge sends is unpickled: each line is parsed as JSON, the verdict into a Feedback,
whatever its fields, beside the proofs the judge found on the way (course_lib/proofs.py),
which the grader keeps for the judges it forks later.

Outside ``keep_one`` a judge is forked for each notebook and ends with it. Inside (an
autograde run, SafeAutograde) a judge that judged its notebook in time, alive and grown by
less than half its memory budget, waits for the next one: its cells and whom they are from
come as a line of JSON (the keys it was forked with stay; a notebook graded with other keys
gets a fork of its own). One fork instead of one per notebook: each fork made the judge copy
every page of the grader it wrote to, and the grader every page it wrote to afterwards.

Each judge starts as a copy of the grader's process, and what it computes dies with it, so
what every judge would compute the same way ``warm_up`` does once, in the grader, before the
first fork: import networkx (the graphs of b and c1), read both languages' message catalogues,
name the diagnosis trees (the answer notes), build a1's key for every case a request can ask
and c3's SymPy model of the definitions. All of it comes from the course and the keys, none of
it from a submission.
"""
from __future__ import annotations

import contextlib
import functools
import json
import math
import os
import resource
import select
import signal
import time
from dataclasses import dataclass
from typing import Mapping

from threadpoolctl import ThreadpoolController
from traitlets import Float, Integer
from traitlets.config import Configurable

from course_lib import proofs
from course_lib.feedback import Feedback
from course_lib.i18n import language, set_language

from .keys import Key, all_keys
from .language import _
from .lifetime import die_with_parent
from .verdict import judge_cell

MAX_LINE = 4 * 2**20  # one verdict: findings are a few short messages


class Judge(Configurable):
    seconds = Float(10.0, help="Wall time the grader gives the verdict of one graded cell.").tag(config=True)
    memory_bytes = Integer(2 * 2**30, help="Memory a judge may take beyond what the grader's process held when "
                                           "it was forked; a kept judge grown by half of it is replaced.").tag(config=True)

    def judge_all(self, cells: list[tuple[str, list]], secret: str, student: str, notebook: str,
                  stopped: str = "", keys: dict | None = None, requests: dict | None = None) -> list[Feedback]:
        """Feedback for each (task id, outputs) of ``cells``, in order; never raises, never hangs.

        ``stopped``, ``keys`` and ``requests`` as for verdict.judge_cell."""
        warm_up()
        job = _Job(secret, student, notebook, stopped, keys or all_keys(), requests or {}, language())
        verdicts: list[Feedback] = []
        while len(verdicts) < len(cells):
            verdicts += self._judge_from(cells, len(verdicts), job)
        return verdicts

    def _judge_from(self, cells, first: int, job: _Job) -> list[Feedback]:
        """Verdicts for cells[first:] from one judge process, up to and including the first that fails."""
        global _kept
        judge = _kept.take(cells[first:], job) if _kept and _kept.starter == os.getpid() else None
        if judge is None:
            _retire()
            judge = _Process.fork(cells[first:], job, self.memory_bytes)
        _kept = None
        verdicts = []
        while first + len(verdicts) < len(cells):
            task = cells[first + len(verdicts)][0]
            line, judge.buffer, why = _next_line(judge.verdicts, judge.buffer, time.monotonic() + self.seconds)
            if line is None:
                status = judge.end(killed=why != "exited")
                late = _("this answer could not be judged within {seconds} s").format(seconds=f"{self.seconds:g}")
                verdicts.append(_unjudged(task, _exit_reason(status) if why == "exited" else why or late))
                return verdicts
            verdicts.append(_verdict(task, line))
        if _keeping and judge.grown() < self.memory_bytes / 2:
            _kept = judge
        else:
            judge.end()
        return verdicts


@dataclass
class _Job:
    """One notebook's cells' context, as verdict.judge_cell takes it."""
    secret: str
    student: str
    notebook: str
    stopped: str
    keys: Mapping[str, Key]
    requests: dict
    language: str                  # the feedback's (SpeakTheNotebooksLanguage set it for this notebook)

    def context(self) -> tuple:
        return self.secret, self.student, self.notebook, self.stopped, self.keys, self.requests

    def line(self, cells) -> bytes:
        """``cells`` and this job, keys apart, as the JSON line a kept judge reads (``from_line``)."""
        who = [self.secret, self.student, self.notebook, self.stopped]
        return json.dumps({"cells": cells, "who": who, "requests": self.requests,
                           "language": self.language}).encode() + b"\n"

    def from_line(self, line: bytes) -> tuple[list, _Job]:
        """The cells and the job that a line made by ``line`` holds, with this job's keys."""
        data = json.loads(line)
        return data["cells"], _Job(*data["who"], self.keys, data["requests"], data["language"])


@dataclass
class _Process:
    """A judge process: its first notebook's cells come with the fork, any later ones (kept between notebooks,
    ``keep_one``) as a JSON line on ``jobs``; each verdict goes back as a JSON line on ``verdicts``."""
    pid: int
    jobs: int
    verdicts: int
    keys: Mapping[str, Key]    # a later notebook's must be the same (its JSON line does not carry them)
    size: int                  # its address space at the fork
    starter: int               # the process that forked it (a forked batch job inherits the record, not the child)
    buffer: bytes = b""

    @classmethod
    def fork(cls, cells, job: _Job, memory_bytes: int) -> _Process:
        verdicts_read, verdicts_write = os.pipe()
        jobs_read, jobs_write = os.pipe()
        size = _address_space()
        pid = os.fork()
        if pid == 0:  # the judge
            os.close(verdicts_read)
            os.close(jobs_write)
            _serve(verdicts_write, jobs_read, cells, job, size + memory_bytes)
        os.close(verdicts_write)
        os.close(jobs_read)
        os.set_blocking(jobs_write, False)
        return cls(pid, jobs_write, verdicts_read, job.keys, size, os.getpid())

    def take(self, cells, job: _Job) -> _Process | None:
        """This judge, given ``cells`` of ``job``; None if it cannot take them (other keys, data that is not
        JSON, a judge that is gone or does not read them at once)."""
        if job.keys is not self.keys:
            return None
        try:
            line = job.line(cells)
        except (TypeError, ValueError, RecursionError):
            return None
        deadline = time.monotonic() + 1.0  # it is waiting for a line: this is only a pipe's buffer at a time
        while line:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([], [self.jobs], [], left)[1]:
                return None
            try:
                line = line[os.write(self.jobs, line):]
            except OSError:
                return None
        return self

    def grown(self) -> float:
        try:
            return _address_space(self.pid) - self.size
        except OSError:  # gone: not to be kept
            return math.inf

    def end(self, killed: bool = True) -> int:
        """Its exit status, after a SIGKILL unless it has ``exited`` on its own (its status says how)."""
        os.close(self.jobs)
        os.close(self.verdicts)
        if killed:
            os.kill(self.pid, signal.SIGKILL)  # (a zombie too: it stays one until reaped here)
        return os.waitpid(self.pid, 0)[1]


_kept: _Process | None = None   # the judge waiting for the next notebook, inside keep_one()
_keeping = 0                    # how many keep_one blocks are open (a batch's job process opens one for its jobs)


@contextlib.contextmanager
def keep_one():
    """Inside: a judge that has judged a notebook stays for the next one (the module's docstring says when)."""
    global _keeping
    _keeping += 1
    try:
        yield
    finally:
        _keeping -= 1
        if not _keeping:
            _retire()


def _retire() -> None:
    global _kept
    if _kept is not None and _kept.starter == os.getpid():
        _kept.end()
    _kept = None


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


def _serve(verdicts: int, jobs: int, cells, job: _Job, memory_limit: int) -> None:
    """In the judge: verdicts as JSON lines, for ``cells`` and then for each job line, until the grader closes
    ``jobs``; then exit without running the grader's exit handlers."""
    code = 0
    try:
        die_with_parent()  # a grader killed at its job limit takes its judge along
        resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))
        # One BLAS thread: a judge runs beside the batch's other work, and c2's finite differences at full
        # size took 40 to 120 ms with two threads contending for the cores, 31 ms with one. (The product's
        # summation, so the last digit of a reported relative error, depends on the thread count.)
        blas().limit(limits=1)
        proofs.take_new()  # the grader's own, if any: it has them
        with os.fdopen(verdicts, "wb") as out, os.fdopen(jobs, "rb") as lines:
            while cells is not None:
                set_language(job.language)  # a kept judge's last notebook may have been in another
                for task, outputs in cells:
                    verdict = judge_cell(task, outputs, *job.context())
                    out.write(json.dumps({"verdict": verdict.to_data(), "proved": proofs.take_new()}).encode() + b"\n")
                    out.flush()
                line = lines.readline()
                cells, job = job.from_line(line) if line else (None, job)
    except BaseException:  # MemoryError while writing, or anything else: the grader sees a dead judge
        code = 1
    os._exit(code)


def _address_space(pid: int | str = "self") -> int:
    with open(f"/proc/{pid}/statm") as f:
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
