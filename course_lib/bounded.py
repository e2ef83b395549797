"""Bounded calls: a student's function or a SymPy computation, stopped after a time and (for students) a memory limit.

``call(lambda: fn(**kwargs))`` gives a Bounded: the value, or the exception that stopped the call
(errors.Timeout when it ran out of time, MemoryError past the memory limit, or whatever it raised);
``.or_unusable("J_z1(x)")`` is the value, or an errors.Unusable that says which in one line, naming the
function. ``Budget`` shares seconds among several calls (SymPy confirming one answer after another).

Why SIGALRM: the call runs in this thread, so that a student's function sees the kernel it was
written in, and SymPy's own loops can be interrupted anywhere.

Why an address-space limit: np.ones(10**9) asks for 8 GB and, on a machine that has it,
gets it and touches it all before any check could look at the result. A soft RLIMIT_AS,
lowered only for the duration of the call to the current size plus a headroom far above
what any answer needs, makes such an allocation fail at once with MemoryError. It is
restored right after, and the headroom leaves the kernel's own threads (ZeroMQ, history)
room for their small allocations, so the kernel itself keeps working.
"""
from __future__ import annotations

import contextlib
import os
import resource
import signal
import threading
import time
from dataclasses import dataclass

from .errors import AnswerError, ExpressionError, Timeout, Unusable
from .i18n import _

CALL_SECONDS = 5.0
MEMORY_HEADROOM = 2**30  # address space one call may add; the largest Jacobian here takes 1.6 MB


@contextlib.contextmanager
def time_limit(seconds: float):
    """Raise Timeout inside the block after ``seconds`` (SIGALRM; main thread only).

    Yields False when no limit can be set (another thread, no time left), so the caller can skip work.
    """
    if threading.current_thread() is not threading.main_thread() or seconds <= 0:
        yield False
        return

    armed = True

    def on_alarm(signum, frame):
        if armed:
            raise Timeout

    previous = signal.signal(signal.SIGALRM, on_alarm)
    # Again every 0.1 s: a Timeout raised inside a __del__ or a weakref callback is swallowed by Python.
    signal.setitimer(signal.ITIMER_REAL, seconds, 0.1)
    try:
        yield True
    finally:
        armed = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextlib.contextmanager
def memory_limit(headroom: int | None):
    """Lower the soft address-space limit (RLIMIT_AS) to the current size + ``headroom`` inside the block.

    An allocation beyond it fails at once with MemoryError instead of touching gigabytes.
    The limit is restored on leaving, and the headroom leaves the kernel's own threads room.
    ``headroom=None``: no limit.
    """
    previous = None if headroom is None else _lower(headroom)
    if previous is None:
        yield
        return
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, previous)


def _lower(headroom: int) -> tuple | None:
    """Lower RLIMIT_AS's soft limit to the current size + ``headroom``: the previous (soft, hard), or None
    where nothing was lowered (a tighter limit is in force; no /proc or no permission: no bound)."""
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        with open("/proc/self/statm") as f:
            size = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        limit = size + headroom if hard == resource.RLIM_INFINITY else min(size + headroom, hard)
        if soft != resource.RLIM_INFINITY and soft <= limit:
            return None
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (OSError, ValueError):
        return None
    return soft, hard


@dataclass(frozen=True)
class Bounded:
    """What a bounded call gave: its ``value``, or the ``failure`` that stopped it (then value is None)."""
    value: object = None
    failure: BaseException | None = None
    seconds: float = 0.0

    @property
    def timed_out(self) -> bool:
        return isinstance(self.failure, Timeout)

    def unusable(self, what: str) -> Unusable:
        """The failure as an unusable value, in one line naming ``what``, the function called."""
        e = self.failure
        if isinstance(e, Timeout):
            return Unusable(_("{what} did not return within {seconds} s (an endless loop?)").format(
                what=what, seconds=f"{self.seconds:g}"), timed_out=True)
        if isinstance(e, MemoryError):
            return Unusable(_("{what} ran out of memory: it allocates far more than any answer here needs").format(
                what=what))
        if isinstance(e, NotImplementedError):
            return Unusable(_("not answered yet: {what} raises NotImplementedError").format(what=what))
        if isinstance(e, AnswerError):  # raised by our own checks of what the call returns
            return Unusable(str(e))
        if isinstance(e, ExpressionError):
            return Unusable(_("{what} returned an unusable value: {error}").format(what=what, error=e))
        if isinstance(e, RecursionError):
            return Unusable(_("{what} raised RecursionError: it recursed without end").format(what=what))
        return Unusable(_("{what} raised {kind}: {error}").format(what=what, kind=type(e).__name__, error=str(e)[:160]))

    def or_unusable(self, what: str):
        """The value, or the failure as an unusable value naming ``what``."""
        return self.unusable(what) if self.failure else self.value


def call(fn, seconds: float | None = None, memory: int | None = MEMORY_HEADROOM, *,
         catch: tuple = (Exception,), only_bounded: bool = False) -> Bounded:
    """fn() within ``seconds`` (default CALL_SECONDS) and ``memory`` bytes of added address space (None: no
    memory limit, for SymPy in the grader). Exceptions in ``catch`` and a Timeout become the result's failure;
    others propagate. ``only_bounded``: where no time limit can be set (another thread, no time left), fn is
    not called at all and the result is a time-out — for SymPy, which may never finish."""
    seconds = CALL_SECONDS if seconds is None else seconds
    try:
        with time_limit(seconds) as limited, memory_limit(memory):
            if only_bounded and not limited:
                return Bounded(None, Timeout(), seconds)
            return Bounded(fn(), None, seconds)
    except (Timeout, *catch) as e:
        return Bounded(None, _without_frames(e), seconds)


def _without_frames(e: BaseException) -> BaseException:
    """``e`` (and the exceptions it was raised from or during) without tracebacks: their frames would keep
    what the call allocated alive, and the next call would pay for fresh memory (10**7 indices: 25 times slower)."""
    stack, seen = [e], set()
    while stack:
        x = stack.pop()
        if x is not None and id(x) not in seen:
            seen.add(id(x))
            x.__traceback__ = None
            stack += [x.__cause__, x.__context__]
    return e


def hung(result) -> bool:
    """Whether a result is an Unusable from a time-out; the same call is then not tried on the next network."""
    return isinstance(result, Unusable) and result.timed_out


class Budget:
    """Seconds shared by several bounded calls: each may take what is left, and at most ``per_call``."""

    def __init__(self, seconds: float, per_call: float | None = None):
        self.deadline = time.monotonic() + seconds
        self.per_call = seconds if per_call is None else per_call

    def left(self) -> float:
        return min(self.per_call, self.deadline - time.monotonic())
