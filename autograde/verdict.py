"""The verdict for one graded cell: payload -> task.judge with the key -> Feedback.

Runs in the grader's process, never in the student's kernel. Probes and the
request are drawn from the grader's secret, the student and the notebook, so the
verdict does not depend on anything the kernel wrote except the answer data.
The verdict has no title: JudgeAnswers gives it one, with the points.
"""
from __future__ import annotations

import logging

from course_lib import tasks
from course_lib.diagnose import recording
from course_lib.feedback import Feedback
from course_lib.probe import rng_for

from .answer_notes import notes_for
from .keys import Key, all_keys
from .language import _
from .payloads import PayloadError, read_payload

log = logging.getLogger(__name__)


def request_for(task_id: str, secret: str, student: str, notebook: str, keys: dict[str, Key] | None = None) -> dict:
    """What the grader asks of this student's answer to this task (recomputed, never read back).

    ``keys``: the course's keys where the caller has looked them up already (the steps, once per notebook)."""
    return (keys or all_keys())[task_id].request(rng_for(secret, student, notebook, task_id, "request"))


def judge_cell(task_id: str, outputs: list, secret: str, student: str, notebook: str, stopped: str = "",
               keys: dict[str, Key] | None = None, requests: dict[str, dict] | None = None) -> Feedback:
    """Feedback (with credit 0..1 and the answer notes) for the graded cell of ``task_id``. Never raises.

    ``stopped`` says why execution ended early (a dead kernel), for a cell that never ran; ``keys`` as
    for request_for; ``requests``: task -> request_for's request, where the caller has made them already
    (WriteGraderRequests, for the kernel), so that the judge need not draw the hidden networks again.
    """
    with recording() as taken:
        feedback = _judge(task_id, outputs, secret, student, notebook, stopped, keys or all_keys(), requests or {})
    feedback.notes = notes_for(task_id, taken, feedback)
    return feedback


def _judge(task_id: str, outputs: list, secret: str, student: str, notebook: str, stopped: str,
           keys: dict[str, Key], requests: dict[str, dict]) -> Feedback:
    if task_id not in keys:
        return Feedback(task_id, 0.0).add("", "invalid", _("this graded cell has no key; ask the course staff"))
    try:
        data = read_payload(outputs, task_id)
        if "error" in data:
            status = "blank" if data.get("blank") is True else "invalid"
            return Feedback(task_id, 0.0).add("", status, str(data["error"])[:300])
        request = requests[task_id] if task_id in requests else request_for(task_id, secret, student, notebook, keys)
        rng = rng_for(secret, student, notebook, task_id, "probes")
        feedback = tasks.get(task_id).judge(data, request, keys[task_id].reference, rng)
    except PayloadError as e:
        why = _("no answer was handed in: {why}").format(why=stopped) if stopped and not outputs else str(e)
        return Feedback(task_id, 0.0).add("", "invalid", why)
    except MemoryError:
        return Feedback(task_id, 0.0).add("", "invalid", _("this answer could not be judged within "
                                                           "the judge's memory budget"))
    except Exception:  # a malformed answer must cost its points, never the run
        log.exception("judging %s for %s failed", task_id, student)
        return Feedback(task_id, 0.0).add("", "invalid", _("the answer could not be judged (malformed data)"))
    feedback.credit = min(max(float(feedback.credit), 0.0), 1.0)
    return feedback
