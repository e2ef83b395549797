"""The sheet's graded parts. One module per task; each part is a Task object.

A Task turns a student's answer into plain data (``encode``, in the student's
kernel), checks that data against what the problem statement implies
(``self_check``, in the student's kernel) and judges it against a reference key
(``judge``, in the grader's process, which holds the key). The same ``encode``
serves the self-check and the graded hand-in, so both see the same data.
"""
from __future__ import annotations

import importlib

from ..feedback import Feedback
from ..i18n import _

# task id -> (module, attribute); modules are imported on first use to keep `import course_lib` light
REGISTRY = {
    "a1": ("course_lib.tasks.a", "A1"),
    "a2": ("course_lib.tasks.a", "A2"),
    "b1": ("course_lib.tasks.b", "B1"),
    "b2": ("course_lib.tasks.b", "B2"),
    "b3": ("course_lib.tasks.b", "B3"),
    "c1": ("course_lib.tasks.c", "C1"),
    "c2": ("course_lib.tasks.c", "C2"),
    "c3": ("course_lib.tasks.c", "C3"),
    "c_bonus": ("course_lib.tasks.c", "CBonus"),
    **{f"d{k}": ("course_lib.tasks.d", f"D{k}") for k in range(1, 6)},   # practice notebook, ungraded
}


class Task:
    id: str = ""

    def public_request(self) -> dict:
        """What a self-check asks of the answer (cases, inputs): fixed, published with the notebook."""
        return {}

    def encode(self, answer, request: dict) -> dict:
        """The answer as JSON-able data for this request. Raises AnswerError for a wrong kind of answer."""
        raise NotImplementedError

    def self_check(self, data: dict, request: dict) -> Feedback:
        """Judge data against facts derived from the problem statement alone."""
        raise NotImplementedError

    def judge(self, data: dict, request: dict, key, rng) -> Feedback:
        """Judge data against the reference ``key``, with fresh probes from ``rng``."""
        raise NotImplementedError


def get(task_id: str) -> Task:
    if task_id not in REGISTRY:
        raise KeyError(_("unknown task {task}; known: {known}").format(task=repr(task_id), known=", ".join(REGISTRY)))

    module, name = REGISTRY[task_id]
    return getattr(importlib.import_module(module), name)()
