"""Every message the grading kernel sends, counted and checked before the grader believes it.

The kernel holds its session key, so it can send anything on its sockets: comm messages
with megabytes of buffers, display data that is not JSON, JSON nested 100,000 deep. The
guard sits where jupyter_client turns frames into a message (``Session.deserialize``), for
every channel of the grading kernel:

* every byte of every frame counts against the notebook's output limit, whatever the
  message type (comm_open/comm_msg/comm_close and their buffers included);
* a message that does not parse, or whose JSON is nested deeper than MAX_DEPTH, is refused;
* a refused message ends the kernel (``refuse`` says why); it and every later message
  becomes an empty message addressed to nobody, which nbclient skips, so the cells
  before keep their outputs and nbclient sees a dead kernel.

Before that, ZeroMQ itself drops frames larger than the limit (``bound_sockets``).
"""
from __future__ import annotations

from typing import Callable

import zmq

from . import message_dates
from .language import _

# Deeper than any answer payload (autograde/payloads.py allows 500) and shallow enough that
# nbclient's and nbformat's recursive copies and writers stay far from Python's recursion limit.
MAX_DEPTH = 600
QUEUED_MESSAGES = 64  # per socket, received but not yet read


def _nobody() -> dict:
    header = {"msg_id": "", "msg_type": "course_lib_refused", "session": "", "username": "", "version": "5.3"}
    return {"header": header, "msg_id": "", "msg_type": header["msg_type"], "parent_header": {},
            "metadata": {}, "content": {}, "buffers": []}


def too_deep(value, limit: int = MAX_DEPTH) -> bool:
    """Whether JSON data nests containers more than ``limit`` deep (iteratively: no recursion)."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, (dict, list)):
            if depth > limit:
                return True
            stack.extend((child, depth + 1) for child in (node.values() if isinstance(node, dict) else node))
    return False


def bound_sockets(context: zmq.Context, frame_bytes: int) -> None:
    """Sockets made by ``context`` from now on drop a peer sending a frame over ``frame_bytes``
    and queue few messages, so ZeroMQ holds little for the grader before the guard counts it."""
    context.setsockopt(zmq.MAXMSGSIZE, frame_bytes)
    context.setsockopt(zmq.RCVHWM, QUEUED_MESSAGES)


def guard(session, output_bytes: int, refuse: Callable[[str], None]) -> None:
    """Make ``session`` (the grading kernel's) count and check what it deserialises."""
    message_dates.install()  # its dates read faster, the same datetimes
    deserialize = session.deserialize
    state = {"left": output_bytes, "refused": False}

    def guarded(msg_list, content=True, copy=True):
        if state["refused"]:
            return _nobody()
        state["left"] -= sum(len(frame) for frame in msg_list)
        if state["left"] < 0:
            return _refuse(_("the notebook's output passed its limit of {size}").format(size=size(output_bytes)))
        try:
            msg = deserialize(msg_list, content=content, copy=copy)
        except (ValueError, TypeError, KeyError, RecursionError, UnicodeDecodeError, MemoryError):
            return _refuse(_("the kernel sent a malformed message"))
        if any(too_deep(msg.get(part)) for part in ("header", "parent_header", "metadata", "content")):
            return _refuse(_("the kernel sent a message nested more than {depth} deep").format(depth=MAX_DEPTH))
        return msg

    def _refuse(why: str) -> dict:
        state["refused"] = True
        refuse(why)
        return _nobody()

    session.deserialize = guarded


def size(n: int) -> str:
    return f"{n / 2**30:g} GiB" if n >= 2**30 else f"{n / 2**20:g} MiB"
