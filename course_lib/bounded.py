"""Calling a student's code in the kernel, bounded in time and in memory, with a one-line message if it fails.

``bounded("J_z1(x)", lambda: fn(**kwargs))`` gives (result, None), or (None, why) when the
call raises, runs longer than CALL_SECONDS (SIGALRM, see probe.time_limit) or allocates
more than MEMORY_HEADROOM of address space.

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

from .probe import _Timeout, time_limit
from .tasks import AnswerError

CALL_SECONDS = 5.0
MEMORY_HEADROOM = 2**30  # address space one call may add; the largest Jacobian here takes 1.6 MB


@contextlib.contextmanager
def memory_limit(headroom: int):
    """Lower the soft address-space limit (RLIMIT_AS) to the current size + ``headroom`` inside the block.

    An allocation beyond it fails at once with MemoryError instead of touching gigabytes.
    The limit is restored on leaving, and the headroom leaves the kernel's own threads room.
    """
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        with open("/proc/self/statm") as f:
            size = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        limit = size + headroom
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        if soft != resource.RLIM_INFINITY and soft <= limit:
            yield  # a tighter limit is already in force
            return
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (OSError, ValueError):
        yield  # no /proc or no permission: run without the bound
        return
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def bounded(what: str, call):
    """call() bounded in time and memory: (result, None) or (None, one-line message)."""
    try:
        with time_limit(CALL_SECONDS), memory_limit(MEMORY_HEADROOM):
            return call(), None
    except _Timeout:
        return None, f"{what} did not return within {CALL_SECONDS:g} s (an endless loop?)"
    except MemoryError:
        return None, f"{what} ran out of memory: it allocates far more than this network needs"
    except NotImplementedError:
        return None, f"not answered yet: {what} raises NotImplementedError"
    except AnswerError as e:  # raised by our own checks of what the call returns
        return None, str(e)
    except RecursionError:
        return None, f"{what} recursed without end"
    except Exception as e:
        return None, f"{what} raised {type(e).__name__}: {str(e)[:160]}"


def hung(result) -> bool:
    """Whether an encoded result is a time-out; the same call is then not tried on the next network."""
    return isinstance(result, dict) and " did not return within " in str(result.get("error"))
