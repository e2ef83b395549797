"""The one call a student needs: ``check("a1", answer)``.

It encodes the answer exactly as the graded hand-in would, checks it against
what the problem statement implies and public probes, and returns Feedback,
which Jupyter shows as HTML and a terminal as text. It never raises. When the notebook
is graded it only says that the grader judges the answer (course_lib/graded_run.py).
"""
from __future__ import annotations

import functools

from threadpoolctl import ThreadpoolController

from . import answers, arrays, graded_run, tasks
from .errors import unusable
from .feedback import Feedback
from .i18n import _


def check(task_id: str, answer) -> Feedback:
    if graded_run.graded():  # (no check runs: looking up the BLAS libraries is lost work)
        return checked(task_id, answer)
    # The checks' matrix products are small: BLAS threads only fight each other (and the browser) for the cores.
    with blas().limit(limits=1):
        return checked(task_id, answer)


@functools.cache
def blas() -> ThreadpoolController:
    """The kernel's BLAS libraries, found at the first check (threadpoolctl walks every loaded library to find them;
    NumPy's is loaded with course_lib)."""
    return ThreadpoolController()


def checked(task_id: str, answer) -> Feedback:
    title = _("Self-check {task}").format(task=task_id)
    if graded_run.graded():  # the grader judges every answer itself, in its own process: a check here is lost work
        return Feedback(str(task_id), 0.0, title=title).add(
            "", "skipped", _("the grader judges this answer itself; its verdict is in the graded cell below"))
    try:
        task = tasks.get(task_id)
    except KeyError as e:
        return Feedback(str(task_id), 0.0, title=title).add("", "invalid", e.args[0])
    request = task.public_request()
    with arrays.read_back():  # the check judges the arrays it has just encoded: no base64 decoded again
        data = answers.encode(task, answer, request)
        why = unusable(data)
        if why is not None:
            return Feedback(task_id, 0.0, title=title).add("", "blank" if data.get("blank") else "invalid", why)
        try:
            feedback = task.self_check(data, request)
        except Exception as e:  # the checker's own failure: say so in one line, not a traceback
            return Feedback(task_id, 0.0, title=title).add(
                "", "invalid", _("the check could not run on this answer ({error})").format(
                    error=f"{type(e).__name__}: {str(e)[:120]}"))
    feedback.title = title
    return feedback
