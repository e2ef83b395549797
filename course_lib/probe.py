"""Equivalence of answers: numeric probing first, symbolic confirmation under a time bound.

Two expressions f and g are *numerically equivalent* on probe points p_1..p_m when

    |f(p_j) - g(p_j)| <= atol + rtol * max(|f(p_j)|, |g(p_j)|)   for every j.

With random points in float64 and rtol = 1e-7 two different smooth expressions
agree by accident with negligible probability; a symbolic check of f - g == 0,
cut off after a few seconds, then confirms what the numbers say.
"""
from __future__ import annotations

import hashlib

import numpy as np
import sympy as sp

from .bounded import call

RTOL = 1e-7
ATOL = 1e-12


def close(a, b, rtol: float = RTOL, atol: float = ATOL) -> np.ndarray:
    """Element-wise closeness with the relative band above; NaN never counts as close."""
    a, b = np.broadcast_arrays(np.asarray(a, float), np.asarray(b, float))
    with np.errstate(all="ignore"):
        scale = np.maximum(np.abs(a), np.abs(b))
        return np.isfinite(a) & np.isfinite(b) & (np.abs(a - b) <= atol + rtol * scale)


def all_close(a, b, **kw) -> bool:
    return bool(np.all(close(a, b, **kw)))


def rng_for(*parts: object) -> np.random.Generator:
    """A generator seeded from the given parts (a secret, a student, a task ...), stable across runs."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:16], "little"))


def signed_uniform(rng: np.random.Generator, low: float, high: float, size) -> np.ndarray:
    """Uniform magnitudes in [low, high] with random signs: keeps probes away from 0."""
    return rng.uniform(low, high, size) * rng.choice([-1.0, 1.0], size)


def symbolically_equal(a: sp.Expr, b: sp.Expr, seconds: float = 2.0, rational: bool = False) -> bool | None:
    """True if SymPy proves a - b == 0 within ``seconds``; None if it cannot tell in time.

    Never returns False: failing to simplify to zero is no proof of a difference,
    which is why the numeric probes decide and this only confirms.

    ``rational``: a and b are rational functions (of exp, c3's derivations), so cancel is tried before
    expand: expand proves those only where the terms cancel as they stand, and spent about 15 ms on
    each identity of a correct derivation that it could not prove, before cancel did.
    """
    def proves_zero():
        diff = a - b
        # cancel settles the rational identities of exp the derivations are (10 ms) before simplify tries
        # everything else (and imports sympy.physics on its first call, half a second)
        tactics = (sp.cancel, sp.expand) if rational else (sp.expand, sp.cancel)
        if diff == 0 or any(tactic(diff) == 0 for tactic in tactics):
            return True
        return True if sp.simplify(diff) == 0 else None

    return call(proves_zero, seconds, memory=None, catch=(RecursionError, MemoryError), only_bounded=True).value
