"""Answers leave the student's kernel as data: one JSON payload per graded cell.

``hand_in("a1", dh_dw)`` encodes the answer for the grader's request and shows it
as display data with a custom MIME type. The grader reads it from the cell's
outputs after the kernel has finished and judges it in its own process; nothing
the kernel says about correctness is believed, only the data.
"""
from __future__ import annotations

import base64
import io
import json
import os

import numpy as np

from . import tasks
from .graph import MAX_NODES, Graph
from .tasks import AnswerError

MIME = "application/vnd.course-lib.answer+json"
PAYLOAD_VERSION = 1
# Written next to the notebook by the grader before the kernel starts; absent for students.
REQUEST_FILE = "grader_request.json"


def request_for(task: tasks.Task) -> dict:
    """The grader's request for this task if there is one, else the public request."""
    if os.path.exists(REQUEST_FILE):
        try:
            with open(REQUEST_FILE, encoding="utf-8") as f:
                requests = json.load(f)
            if task.id in requests:
                return requests[task.id]
        except (OSError, ValueError):
            pass
    return task.public_request()


NOT_ANSWERED = "not answered yet"


def _empty_body(): pass


def _empty_body_with_docstring():
    """A docstring and nothing else, like a stub in the release."""


# bytecode of an empty body -> the index of the constant it returns (None; a function returning
# another constant has the same bytecode)
_EMPTY_BODIES = {f.__code__.co_code: f.__code__.co_consts.index(None) for f in (_empty_body, _empty_body_with_docstring)}


def blank(answer) -> bool:
    """Whether ``answer`` is what the release's answer cell leaves before anything is written: ``...``,
    an empty dict or list, a Graph with inputs only, a function whose body is empty, or a dict of
    these around such a Graph (b3's ``{"graph": G, "adjoints": {}, "grad": []}``)."""
    if answer is ...:
        return True
    if isinstance(answer, (list, tuple)):
        return len(answer) == 0
    if type(answer) is Graph:  # a subclass may encode differently, an oversized one is refused: the task says so
        return answer.operations == 0 and len(answer) <= MAX_NODES
    if isinstance(answer, dict):
        return len(answer) == 0 or (all(map(blank, answer.values()))
                                    and any(type(v) is Graph for v in answer.values()))
    code = getattr(answer, "__code__", None)  # functions only; a callable object is an answer
    returned = _EMPTY_BODIES.get(getattr(code, "co_code", None))
    return callable(answer) and returned is not None and len(code.co_consts) > returned \
        and code.co_consts[returned] is None


def encode(task: tasks.Task, answer, request: dict) -> dict:
    """Task data for the answer, or {"error": message}; never raises, and is JSON-clean.

    An answer not written yet gives {"error": "not answered yet…", "blank": True}."""
    try:
        if blank(answer):
            return {"error": f"{NOT_ANSWERED}: the answer cell is as handed out", "blank": True}
        data = task.encode(answer, request)
        return json.loads(json.dumps(data, allow_nan=False))
    except AnswerError as e:
        return {"error": str(e)}
    except Exception as e:  # a bug in the student's code must not stop the hand-in
        return {"error": f"{type(e).__name__}: {str(e)[:200]}"}


def display_data(task_id: str, data: dict) -> dict:
    """The display data that hands ``data`` (from encode) in for ``task_id``: the payload, and a line for people."""
    note = ("handed in for grading" if "error" not in data else data["error"] if data.get("blank")
            else "could not be encoded: " + data["error"])
    return {MIME: {"task": task_id, "version": PAYLOAD_VERSION, "data": data},
            "text/plain": f"Answer {task_id} {note}."}


def hand_in(task_id: str, answer) -> None:
    """Hand the answer for ``task_id`` to the grader, as data in this cell's output."""
    from IPython.display import display

    task = tasks.get(task_id)
    display(display_data(task_id, encode(task, answer, request_for(task))), raw=True)


# --- arrays as data -------------------------------------------------------------
def array_to_data(a) -> dict:
    """A numeric array as {"npy": base64 of the .npy bytes}; object arrays are refused."""
    a = np.asarray(a)
    if a.dtype.hasobject or a.dtype.kind not in "biuf":
        raise AnswerError(f"expected a numeric array, got dtype {a.dtype}")
    buf = io.BytesIO()
    np.save(buf, a, allow_pickle=False)
    return {"npy": base64.b64encode(buf.getvalue()).decode("ascii")}


def array_from_data(d, max_bytes: int = 64 * 2**20) -> np.ndarray:
    """Inverse of array_to_data, without pickles; raises ValueError on anything else."""
    if not isinstance(d, dict) or not isinstance(d.get("npy"), str) or len(d["npy"]) > max_bytes * 4 // 3 + 8:
        raise ValueError("not an array payload")
    a = np.load(io.BytesIO(base64.b64decode(d["npy"], validate=True)), allow_pickle=False)
    return a.astype(np.float64) if a.dtype.kind in "biu" else a
