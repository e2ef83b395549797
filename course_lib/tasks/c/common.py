"""What the parts of task (c) share: the layer sizes, arrays and shapes from students' functions, comparing arrays.

A student's function runs in the kernel only here (``run_factor``, through course_lib.bounded), on the
networks of the request; what it returns leaves as array data or as an errors.Unusable saying why not.
"""
from __future__ import annotations

import functools
import math

import numpy as np
import sympy as sp

from ... import bounded, gradcheck, mlp
from ... import expr_json as ej
from ...arrays import array_from_data, array_to_data
from ...errors import Unusable, unusable
from ...i18n import N_, _

# ------------------------------------------------------------------ the layer sizes n0 … n3, for shapes
n0, n1, n2, n3 = sp.symbols("n0 n1 n2 n3", positive=True, integer=True)
SIZE_SYMBOLS = {s.name: s for s in (n0, n1, n2, n3)}
SIZE_ORDER = (n0, n1, n2, n3)
MAX_EXPONENT = 64


def size_text(sizes) -> str:
    return "-".join(map(str, sizes))


# ================================================================== answers from student code
def array_answer(what: str, value, max_entries: int) -> dict:
    """A returned array as data (float32 kept as float32, so that the judge can say so), or an Unusable: why it is
    no array we can grade."""
    if value is None:
        return Unusable(_("{what} returned None (a missing return?)").format(what=what))
    try:
        a = np.asarray(value)
    except Exception:
        return Unusable(_("{what} returned a {kind}, not an array").format(what=what, kind=type(value).__name__))
    if a.dtype.kind not in "iuf":
        said = _("{what} returned an array of objects (SymPy values?); return a NumPy array of float64") \
            if a.dtype.hasobject else _("{what} returned an array of dtype {dtype}; return a NumPy array of float64")
        return Unusable(said.format(what=what, dtype=a.dtype))
    if a.dtype.kind == "f" and a.dtype.itemsize < 4:
        return Unusable(_("{what} returned {dtype}, too imprecise to check; compute in float64 (NumPy's default)")
                        .format(what=what, dtype=a.dtype))
    if a.dtype.kind == "f" and a.dtype.itemsize > 8:
        a = a.astype(np.float64)
    if a.size > max_entries:
        return Unusable(_("{what} returned {count} numbers, more than any answer here has").format(
            what=what, count=f"{a.size:,}"))
    return array_to_data(a)


def run_factor(what: str, fn, fwd: mlp.Forward, max_entries: int) -> dict:
    """fn called with the forward quantities it names, bounded; its array as data, or an Unusable."""
    try:
        kwargs = mlp.arguments_for(fn, fwd.values)
    except (TypeError, ValueError) as e:
        return Unusable(f"{what}: {e}")
    return bounded.call(lambda: array_answer(what, fn(**kwargs), max_entries)).or_unusable(what)


def expr_answer(value, what: str):
    try:
        return ej.to_data(value)
    except ej.ExpressionError as e:
        return Unusable(f"{what}: {e}")


def shape_answer(shape, what: str):
    if not isinstance(shape, (tuple, list)) or not 1 <= len(shape) <= 4:
        return Unusable(_("{what}: give the shape as a tuple such as (n1, n0)").format(what=what))
    return [expr_answer(d, what) for d in shape]


def functions_in(data) -> set:
    return {n[1] for n in ej.walk(data) if n[0] == "call"}


def symbols_in(data) -> set:
    return {n[1] for n in ej.walk(data) if n[0] == "sym"}


def expression_problem(data, symbols) -> str | None:
    """Why expression data cannot be used here, or None: malformed, unknown names, or a power that would
    make SymPy compute a huge number (such as (2**64)**64**64) — SymPy is only handed small ones."""
    try:
        ej.validate(data, set(symbols), set())
    except ej.ExpressionError as e:
        return str(e)
    for node in ej.walk(data):
        if node[0] != "pow":
            continue
        exponent = node[2]
        if exponent[0] not in ("int", "rat", "float") or not abs(float(ej.evaluate(exponent, {}))) <= MAX_EXPONENT:
            return _("exponents must be numbers of at most {most} here").format(most=MAX_EXPONENT)
        if not symbols_in(node[1]) and not abs(float(ej.evaluate(node, {}))) < 1e15:
            return _("a number in the expression is too large")
    return None


def read_dims(data, symbols: dict):
    """Validated expression data of a shape -> SymPy expressions, or a one-line problem (str)."""
    if isinstance(data, dict):
        return (unusable(data) or _("malformed"))[:240]
    if not isinstance(data, list) or not data:
        return _("malformed shape")
    for d in data:
        if isinstance(d, dict):
            return (unusable(d) or _("malformed"))[:240]
        problem = expression_problem(d, symbols)
        if problem:
            return problem
    return [ej.from_data(d, symbols) for d in data]


def dims_at(dims: list, sizes) -> tuple:
    """Shape expressions at concrete layer sizes (non-integers stay as floats, and never match)."""
    return tuple(dim_at(d, tuple(map(int, sizes))) for d in dims)


@functools.lru_cache(maxsize=4096)  # SymPy's subs is slow; the same few shapes come at the same few sizes
def dim_at(d: sp.Expr, sizes: tuple) -> int | float:
    try:
        if d in SIZE_ORDER:  # most dimensions are one size or a number: what subs gives, without its 0.5 ms
            v = float(sizes[SIZE_ORDER.index(d)])
        elif d.is_Number:
            v = float(d)
        else:
            v = float(d.subs({SIZE_SYMBOLS[k]: n for k, n in zip(("n0", "n1", "n2", "n3"), sizes)}))
    except (TypeError, ValueError, OverflowError):  # e.g. a division by zero
        v = math.nan
    return int(v) if v.is_integer() else v


def dims_text(dims) -> str:
    return "×".join(sp.sstr(d) for d in dims)


def once_for_public(public_request):
    """Decorator: f(request) is computed once for the request ``public_request()`` returns, which a self-check
    sends every call; so its networks' forward passes and finite differences are reused. Any other request
    (the grader's) gets a fresh result.

    ``public_request`` is an lru_cache: a request can only be its result once it has been built, so a
    process that never built it (a judge) does not build it (networks, their forward passes) just to
    tell that its own request is another."""
    def wrap(f):
        public = functools.lru_cache(maxsize=1)(lambda: f(public_request()))

        def once(request):
            built = public_request.cache_info().currsize
            return public() if built and request is public_request() else f(request)
        return functools.wraps(f)(once)
    return wrap


def read_array(data) -> tuple:
    """(array, None) from array data, or (None, why there is none)."""
    if (why := unusable(data)) is not None:
        return None, why[:240]
    try:
        return array_from_data(data), None
    except (ValueError, TypeError):
        return None, "the returned array could not be read"


# ================================================================== comparing arrays
MATCH = 1e-6  # relative error under which a value counts as equal to a hypothesis (finite differences: ~1e-9)


class Compared:
    """An answer S compared with a reference E: the relative error, and how they agree (gradcheck.agreement);
    ``exact`` says E is exact (the grader's key), not central differences; ``float32`` that S came as float32."""
    S: np.ndarray
    E: np.ndarray
    exact: bool
    float32: bool

    @functools.cached_property
    def error(self) -> float:
        return gradcheck.relative_error(self.S, self.E)

    @property
    def agreement(self) -> str | None:
        return gradcheck.agreement(self.error, self.exact, self.float32)


def fits(a, b) -> bool:
    """a has b's shape and equals it up to MATCH."""
    return a.shape == b.shape and gradcheck.relative_error(a, b) <= MATCH


def agrees_as(kind: str):
    """A test: the answer agrees with the reference in the way ``kind`` names (see gradcheck.agreement)."""
    return lambda c: c.agreement == kind and {"report": _("relative error {error}").format(error=f"{c.error:.1e}")}


FLOAT32_NOTE = N_("returned in float32: agrees to float32 precision; float64, NumPy's default, is what the checks "
                  "need (a small deduction)")
FD_NOTE = N_("agrees only to finite-difference precision ({report}): the task asks for the formula")



def known_mistake(c):
    """A test: the answer fits one of ``c.hypotheses()``, (matrix, message) pairs of typical mistakes."""
    for M, message in c.hypotheses():
        if fits(c.S, M):
            return {"mistake": message}
    return False


def scaled(c: Compared):
    """A test: the answer is the reference times a constant."""
    scale = float(np.vdot(c.S, c.E) / max(np.vdot(c.E, c.E), 1e-300))
    return abs(scale) > 1e-12 and fits(c.S, scale * c.E) and {"factor": f"{scale:.4g}"}

