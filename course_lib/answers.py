"""Answers leave the student's kernel as data: one JSON payload per graded cell.

``hand_in("a1", dh_dw)`` encodes the answer for the grader's request and shows it
as display data with a custom MIME type. The grader reads it from the cell's
outputs after the kernel has finished and judges it in its own process; nothing
the kernel says about correctness is believed, only the data.
"""
from __future__ import annotations

import json
import math
import os

from . import tasks
from .graph import MAX_NODES, Graph
from .errors import AnswerError, Unusable, unusable
from .i18n import _

MIME = "application/vnd.course-lib.answer+json"
PAYLOAD_VERSION = 1
# Written next to the notebook by the grader before the kernel starts; absent for students.
REQUEST_FILE = "grader_request.json"


_read: tuple | None = None  # (the request file's path and stat, its JSON or None if unreadable)


def requests() -> dict | None:
    """The grader's request file's requests, None without one; read again only when the file changes (a notebook
    hands in several answers)."""
    global _read
    try:
        stat = os.stat(REQUEST_FILE)
    except OSError:
        return None
    key = (os.path.abspath(REQUEST_FILE), stat.st_ino, stat.st_mtime_ns, stat.st_size)
    if _read is None or _read[0] != key:
        try:
            with open(REQUEST_FILE, encoding="utf-8") as f:
                found = json.load(f)
        except (OSError, ValueError):
            found = None
        _read = (key, found if isinstance(found, dict) else None)
    return _read[1]


def request_for(task: tasks.Task) -> dict:
    """The grader's request for this task if there is one, else the public request."""
    given = requests()
    if given is not None and task.id in given:
        return given[task.id]
    return task.public_request()


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
    """Task data for the answer, or an Unusable saying why there is none; never raises, and is JSON-clean.

    An answer not written yet gives Unusable("not answered yet…", blank=True)."""
    try:
        if blank(answer):
            return Unusable(_("not answered yet: the answer cell is as handed out"), blank=True)
        return json_clean(task.encode(answer, request))
    except AnswerError as e:
        return Unusable(str(e))
    except Exception as e:  # a bug in the student's code must not stop the hand-in
        return Unusable(f"{type(e).__name__}: {str(e)[:200]}")


def json_clean(data):
    """``json.loads(json.dumps(data, allow_nan=False))``, the same value or the same exception, without the text in
    between (megabytes of base64 for c2 and the bonus) for the data encoders make: dicts (and Unusables) with str
    keys, lists, tuples, str, bool, None, finite floats and ints of up to 64 bits. Strings are kept, not copied.
    Anything else (another key or type, a NaN, a cycle) takes the round trip, which converts or refuses it as before."""
    try:
        return _plain(data)
    except (ValueError, RecursionError):  # _plain's ValueError: not plain data
        return json.loads(json.dumps(data, allow_nan=False))


def _plain(x):
    kind = type(x)
    if kind is str or kind is bool or x is None:
        return x
    if kind is float:
        if not math.isfinite(x):
            raise ValueError
        return x
    if kind is int:
        if x.bit_length() > 64:
            raise ValueError
        return x
    if kind is list or kind is tuple:
        return [_plain(v) for v in x]
    if kind is dict or kind is Unusable:  # (Unusable is a plain dict and what the kernel keeps beside it stays)
        if not all(type(k) is str for k in x):
            raise ValueError
        return {k: _plain(v) for k, v in x.items()}
    raise ValueError


def display_data(task_id: str, data: dict) -> dict:
    """The display data that hands ``data`` (from encode) in for ``task_id``: the payload, and a line for people."""
    why = unusable(data)
    said = (_("Answer {task} handed in for grading.") if why is None
            else _("Answer {task} {error}.") if data.get("blank") else _("Answer {task} could not be encoded: {error}."))
    return {MIME: {"task": task_id, "version": PAYLOAD_VERSION, "data": data},
            "text/plain": said.format(task=task_id, error=why)}


def hand_in(task_id: str, answer) -> None:
    """Hand the answer for ``task_id`` to the grader, as data in this cell's output."""
    from IPython.display import display

    task = tasks.get(task_id)
    display(display_data(task_id, encode(task, answer, request_for(task))), raw=True)

