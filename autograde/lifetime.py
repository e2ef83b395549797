"""Processes that must not outlive the process that started them.

A grading job, a kernel launcher: if what started them is killed (a TA's Ctrl-C
that did not get through, SIGKILL, the OOM killer), they must go too, and with
them the kernels they run. The kernel delivers the signal; no cleanup code has to
survive for it.
"""
from _signal import SIGKILL  # (not signal.py's enum: every kernel launcher runs this, see sandbox/protocol.py)

from .sandbox import libc


def die_with_parent() -> None:
    """SIGKILL this process when its parent (the thread that forked it) dies."""
    libc.prctl(libc.PR_SET_PDEATHSIG, SIGKILL)
