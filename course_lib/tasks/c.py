r"""Task (c): backpropagation through the 784-256-256-10 MLP of course_lib.mlp, and the bonus.

c1       The loss as a graph over x, z1, z2, z3, y, L (W, b and o nodes optional), written
         with task (b)'s ``Graph``; every edge u → v carries its Jacobian ``J("v", "u")``.
c2       ∇_x L and ∇_{b1} L as chains of Jacobians: a layout ("row": the sheet's, gradients
         are rows and the factor nearest L stands on the left; "column": every factor
         transposed, the order reversed), the factors — each with its shape in the layer
         sizes n0..n3 and a NumPy function of forward quantities — and the two chains.
c3       tanh' and ∂s_i/∂o_j derived from the definitions, each as a list of SymPy steps.
c_bonus  J_{o1}(W1): its shape, its size in bytes, its entries as a rule entry(i, k, l, x),
         and ∇_{W1} L as a function of forward quantities.

The self-checks derive what they compare with from the problem statement alone: the
forward pass with central differences (course_lib.mlp, course_lib.gradcheck) and SymPy's
derivatives of the definitions. A student's function runs in this kernel only inside
``encode``, on the networks of the request, bounded in time and in memory.
"""
from __future__ import annotations

import functools
import json
import math
import re
import time
from dataclasses import dataclass

import numpy as np
import sympy as sp

from .. import expr_json as ej
from .. import gradcheck, mlp
from ..answers import array_from_data, array_to_data
from ..diagnose import Branch, Outcome, always, diagnose, guarded
from ..feedback import Feedback
from ..bounded import bounded, hung
from ..probe import all_close, rng_for, symbolically_equal
from . import AnswerError, Task

# ------------------------------------------------------------------ the symbols students use
n0, n1, n2, n3 = sp.symbols("n0 n1 n2 n3", positive=True, integer=True)
SIZE_SYMBOLS = {s.name: s for s in (n0, n1, n2, n3)}
NODE_SIZE = {"x": n0, "b1": n1, "o1": n1, "z1": n1, "o2": n2, "z2": n2, "o3": n3, "z3": n3, "L": sp.Integer(1)}

u = sp.Symbol("u", real=True)                       # tanh's argument
o_i, o_j = sp.symbols("o_i o_j", real=True)         # two entries of softmax's input
S = sp.Symbol("S", positive=True)                   # Σ_k e^{o_k}
delta = sp.Symbol("delta")                          # δ_ij: 1 if i = j, else 0
s_i, s_j = sp.symbols("s_i s_j", positive=True)     # softmax's outputs i and j


def J(out: str, node: str) -> sp.Symbol:
    """The label of the edge node → out in the loss graph: the Jacobian J_out(node)."""
    return sp.Symbol(f"J_{out}({node})")


MAX_EXPONENT = 64
FACTOR_NAME = re.compile(r"J_([A-Za-z]\w{0,3})\((\w{1,4})\)\Z")
PUBLIC_SIZES = [mlp.SIZES, (9, 7, 5, 4)]


def size_text(sizes) -> str:
    return "-".join(map(str, sizes))


# ================================================================== answers from student code
def array_answer(what: str, value, max_entries: int) -> dict:
    """A returned array as data (float32 kept as float32, so that the judge can say so), or {"error": why it is
    no array we can grade}."""
    if value is None:
        return {"error": f"{what} returned None (a missing return?)"}
    try:
        a = np.asarray(value)
    except Exception:
        return {"error": f"{what} returned a {type(value).__name__}, not an array"}
    if a.dtype.kind not in "iuf":
        kind = "objects (SymPy values?)" if a.dtype.hasobject else f"dtype {a.dtype}"
        return {"error": f"{what} returned an array of {kind}; return a NumPy array of float64"}
    if a.dtype.kind == "f" and a.dtype.itemsize < 4:
        return {"error": f"{what} returned {a.dtype}, too imprecise to check; compute in float64 (NumPy's default)"}
    if a.dtype.kind == "f" and a.dtype.itemsize > 8:
        a = a.astype(np.float64)
    if a.size > max_entries:
        return {"error": f"{what} returned {a.size:,} numbers, more than any answer here has"}
    return array_to_data(a)


def run_factor(what: str, fn, fwd: mlp.Forward, max_entries: int) -> dict:
    """fn called with the forward quantities it names, bounded; its array as data, or {"error"}."""
    try:
        kwargs = mlp.arguments_for(fn, fwd.values)
    except (TypeError, ValueError) as e:
        return {"error": f"{what}: {e}"}
    result, error = bounded(what, lambda: array_answer(what, fn(**kwargs), max_entries))
    return {"error": error} if error else result


def expr_answer(value, what: str):
    try:
        return ej.to_data(value)
    except ej.ExpressionError as e:
        return {"error": f"{what}: {e}"}


def shape_answer(shape, what: str):
    if not isinstance(shape, (tuple, list)) or not 1 <= len(shape) <= 4:
        return {"error": f"{what}: give the shape as a tuple such as (n1, n0)"}
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
            return f"exponents must be numbers of at most {MAX_EXPONENT} here"
        if not symbols_in(node[1]) and not abs(float(ej.evaluate(node, {}))) < 1e15:
            return "a number in the expression is too large"
    return None


def read_dims(data, symbols: dict):
    """Validated expression data of a shape -> SymPy expressions, or a one-line problem (str)."""
    if isinstance(data, dict):
        return str(data.get("error", "malformed"))[:240]
    if not isinstance(data, list) or not data:
        return "malformed shape"
    for d in data:
        if isinstance(d, dict):
            return str(d.get("error", "malformed"))[:240]
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
        v = float(d.subs({SIZE_SYMBOLS[k]: n for k, n in zip(("n0", "n1", "n2", "n3"), sizes)}))
    except (TypeError, ValueError, OverflowError):  # e.g. a division by zero
        v = math.nan
    return int(v) if v.is_integer() else v


def dims_text(dims) -> str:
    return "×".join(sp.sstr(d) for d in dims)


def once_for_public(public_request):
    """Decorator: f(request) is computed once for the request ``public_request()`` returns, which a self-check
    sends every call; so its networks' forward passes and finite differences are reused. Any other request
    (the grader's) gets a fresh result."""
    def wrap(f):
        public = functools.lru_cache(maxsize=1)(lambda: f(public_request()))
        return functools.wraps(f)(lambda request: public() if request is public_request() else f(request))
    return wrap


@functools.lru_cache(maxsize=1)
def _public_c2_request() -> dict:
    rng = rng_for("public", "c2")
    return {"networks": [mlp.network_to_data(mlp.random_network(s, rng)) for s in PUBLIC_SIZES]}


@once_for_public(_public_c2_request)
def forwards(request: dict) -> list[mlp.Forward]:
    return [mlp.Forward(mlp.network_from_data(c)) for c in request["networks"]]


# ================================================================== c2: the Jacobian chains
CHAIN_TARGETS = {"grad_x": "x", "grad_b1": "b1"}
ANCHORS = ("L", "z3", "z2", "z1")       # the sheet's nodes: every chain passes each of them …
FUSED = {("L", "o3"): "z3"}             # … except J_L(o3) = (z3 − e_y)ᵀ, softmax and cross-entropy in one step
WEIGHTS_C2 = {"chains": 0.2, "shapes": 0.3, "values": 0.4, "gradients": 0.1}
MATCH = 1e-6  # relative error under which a value counts as equal to a hypothesis (finite differences: ~1e-9)


def parse_factor(name: str):
    """"J_z1(x)" -> ("z1", "x"), or None for anything else."""
    m = FACTOR_NAME.match(name) if isinstance(name, str) else None
    if not m or m.group(1) not in NODE_SIZE or m.group(2) not in NODE_SIZE:
        return None
    return m.group(1), m.group(2)


def required_dims(step, layout: str) -> tuple:
    """The shape of J_out(node) in the layout, in the size symbols."""
    out, node = step
    dims = (NODE_SIZE[out], NODE_SIZE[node])
    return dims if layout == "row" else dims[::-1]


def required_shape(step, layout: str, fwd: mlp.Forward) -> tuple:
    out, node = step
    shape = (fwd.size(out), fwd.size(node))
    return shape if layout == "row" else shape[::-1]


def chain_problem(steps: list, names: list, target: str) -> str | None:
    """Why the factors, read from L towards ``target``, are no chain along the graph; None if they are."""
    order = ("L", "z3", "o3", "z2", "o2", "z1", "o1", target)
    at = "L"
    for (out, node), name in zip(steps, names):
        if out != at:
            return f"after reaching {at} the next factor must be J_{at}(·), not {name}"
        if node not in order or order.index(node) <= order.index(out):
            return f"{name} is no step from {target} towards L in the graph"
        skipped = [a for a in order[order.index(out) + 1:order.index(node)]
                   if a in ANCHORS and FUSED.get((out, node)) != a]
        if skipped:
            return (f"{name} jumps over the node {skipped[0]}: give one factor per step of the graph "
                    "(the o nodes may be left out)")
        at = node
    return None if at == target else f"the chain stops at {at} and does not reach {target}"


def check_chain(names, layout: str, target: str, factors: dict) -> str | None:
    """The structure problem of one chain as listed by the student, or None."""
    if not names:
        return "the chain is empty"
    if not all(isinstance(name, str) for name in names):
        return "the chain lists factor names, such as \"J_z1(x)\""
    for name in names:
        if name not in factors:
            return f"{name} is not one of your factors"
        if parse_factor(name) is None:
            return f"{name} is not a factor name: write J_<output>(<input>), such as J_z1(x)"
    steps = [parse_factor(n) for n in names]
    along = (steps, names) if layout == "row" else (steps[::-1], names[::-1])
    problem = chain_problem(*along, target)
    if problem and chain_problem(along[0][::-1], along[1][::-1], target) is None:
        side = "left" if layout == "row" else "right"
        return (f"the factors stand in reverse order: in the {layout} layout the factor nearest L "
                f"stands on the {side}, or the product cannot be computed")
    return problem


# ------------------------------------------------------------------ mistakes, one step at a time
def step_mistakes(fwd: mlp.Forward, step, E: np.ndarray, reference):
    """(wrong Jacobian of one elementary step, what the mistake is), for the typical mistakes of the sheet."""
    out, node = step
    if out == "L":
        y, z = fwd["y"], fwd["z3"]
        yield -E, "the minus sign of L = −log z3_y is missing"
        yield -1 / z[None, :], ("−1/z is taken of every component of z3, but L depends on z3_y alone: "
                                "only one entry is nonzero")
        if node == "z3":
            e_y = np.eye(z.size)[y - 1]
            yield (z - e_y)[None, :], ("that is ∂L/∂o3, the step through softmax as well; J_L(z3) differentiates "
                                       "−log z3_y with respect to z3 alone (or name the factor J_L(o3) and leave "
                                       "out J_z3(o3))")
        for shifted in (y - 1, y + 1):
            if 1 <= shifted <= z.size:
                yield reference(fwd.relabel(shifted), step), (
                    "the nonzero entry sits one place off: y ∈ {1, …, n3} counts from 1, NumPy indices from 0")
    elif out == "z3":
        z = fwd["z3"]
        yield E + np.outer(z, z), "only diag(z3): the term −z3·z3ᵀ is missing (every o_j enters the sum)"
        yield np.diag(np.diag(E)), "diagonal only: ∂z3_i/∂o3_j is not zero for i ≠ j (every o_j enters the sum)"
        yield np.outer(z, 1 - z), "z_i(1 − z_j) in every entry: the 1 belongs on the diagonal only (δ_ij)"
        yield E - np.diag(z), "only −z3·z3ᵀ: the diagonal term from differentiating e^(o_i) itself is missing"
    elif out in ("z1", "z2"):
        z, o = fwd[out], fwd["o" + out[1]]
        yield np.diag(1 - z), f"1 − tanh without the square on the diagonal of the tanh step o{out[1]} → {out}"
        yield np.diag(1 - o ** 2), (f"1 − o² on the diagonal of the tanh step o{out[1]} → {out}: that squares the "
                                    "pre-activation, the derivative needs tanh of it")


def factor_hypotheses(fwd: mlp.Forward, steps: list, Es: list, reference):
    """(matrix, message) for the factor with one step mistaken or left out."""
    def product(ms):
        return functools.reduce(np.matmul, ms)

    for k, step in enumerate(steps):
        for M, message in step_mistakes(fwd, step, Es[k], reference):
            yield product(Es[:k] + [M] + Es[k + 1:]), message
    if len(steps) > 1:
        for k, (out, node) in enumerate(steps):
            rest = Es[:k] + Es[k + 1:]
            if all(a.shape[1] == b.shape[0] for a, b in zip(rest, rest[1:])):
                yield product(rest), f"the step {node} → {out} is missing from this factor"


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


@dataclass
class FactorContext(Compared):
    S: np.ndarray        # the student's factor, turned into the row layout
    E: np.ndarray        # the Jacobian of the step(s), row layout
    hypotheses: object   # callable -> iterable of (matrix, message)
    entry: str           # what entry (i, j) holds in the declared layout
    exact: bool = False
    float32: bool = False


def _fits(a, b) -> bool:
    return a.shape == b.shape and gradcheck.relative_error(a, b) <= MATCH


def _agrees_as(kind: str):
    """A test: the answer agrees with the reference in the way ``kind`` names (see gradcheck.agreement)."""
    return lambda c: c.agreement == kind and {"report": f"relative error {c.error:.1e}"}


FLOAT32_NOTE = ("returned in float32: agrees to float32 precision; float64, NumPy's default, is what the checks "
                "need (a small deduction)")
FD_NOTE = "agrees only to finite-difference precision ({report}): the task asks for the formula"


def _known_mistake(c: FactorContext):
    for M, message in c.hypotheses():
        if _fits(c.S, M):
            return {"mistake": message}
    return False


def _scaled(c: Compared):
    scale = float(np.vdot(c.S, c.E) / max(np.vdot(c.E, c.E), 1e-300))
    return abs(scale) > 1e-12 and _fits(c.S, scale * c.E) and {"factor": f"{scale:.4g}"}


FACTOR_TREE = [
    Branch("not finite", lambda c: not np.all(np.isfinite(c.S)), Outcome(0, "contains NaN or infinity")),
    Branch("agrees", _agrees_as("agrees"), Outcome(1, "{report} (agrees)")),
    Branch("float32", _agrees_as("float32"), Outcome(gradcheck.FLOAT32_CREDIT, FLOAT32_NOTE, "info")),
    Branch("finite differences", _agrees_as("finite differences"), Outcome(0, FD_NOTE)),
    Branch("transposed", lambda c: c.S.shape[0] == c.S.shape[1] and _fits(c.S.T, c.E) and {"entry": c.entry}, Outcome(
        0, "transposed: in your layout entry (i, j) is {entry}")),
    Branch("known mistake", _known_mistake, Outcome(0, "{mistake}")),
    Branch("sign", lambda c: _fits(-c.S, c.E), Outcome(0, "right magnitude, wrong sign")),
    Branch("scaled", _scaled, Outcome(0, "off by a constant factor: {factor} times the Jacobian")),
    Branch("other", lambda c: {"report": gradcheck.report(c.error)[1]}, Outcome(
        0, "does not match the Jacobian of this step: {report}")),
]


def entry_text(step, layout: str) -> str:
    out, node = step
    return f"∂{out}_i/∂{node}_j" if layout == "row" else f"∂{out}_j/∂{node}_i"


def array_problem(a: np.ndarray, name: str, required: tuple, layout: str) -> str | None:
    """Why the returned array does not have the shape the layout requires, or None."""
    r, c = required
    if a.ndim == 2 and a.shape == required:
        return None
    if a.ndim == 0:
        return f"a single number, where a {r}×{c} matrix belongs"
    if a.ndim == 1:
        if r == c == a.size:
            return f"a vector of {a.size} entries: a Jacobian is a matrix (np.diag puts a vector on the diagonal)"
        return f"a 1-D array of {a.size} entries: a Jacobian is a 2-D array, here {r}×{c}"
    return f"{name} is {gradcheck.shape_text(a.shape)} here; in the {layout} layout it is {r}×{c}"


def stated_problem(dims, step, layout: str, name: str, all_sizes: list) -> str | None:
    """Why the stated shape (SymPy dimensions) is not the one the layout requires, or None."""
    if isinstance(dims, str):
        return dims
    if len(dims) != 2:
        return f"a Jacobian of a vector function is a matrix: give (rows, columns), not {len(dims)} sizes"
    need = required_dims(step, layout)
    at = [dims_at(dims, s) for s in all_sizes]
    if all(got == dims_at(need, s) for got, s in zip(at, all_sizes)):
        return None
    if all(got == dims_at(need[::-1], s) for got, s in zip(at, all_sizes)):
        other = "column" if layout == "row" else "row"
        return f"stated {dims_text(dims)}: that is its shape in the {other} layout, but you declared the {layout} layout"
    if not any(d.free_symbols for d in dims) and dims_at(dims, mlp.SIZES) == dims_at(need, mlp.SIZES):
        return (f"stated in numbers ({dims_text(dims)}); state it in the layer sizes n0, n1, n2, n3, "
                "so that it holds for networks of every size")
    out, node = step
    rows, cols = (out, node) if layout == "row" else (node, out)
    return (f"stated {dims_text(dims)}, which is not the shape of {name} in the {layout} layout: "
            f"it has a row per entry of {rows} and a column per entry of {cols}")


@dataclass
class FactorVerdict:
    shape_ok: bool
    value: float     # share of the value's credit: 1, FLOAT32_CREDIT, or 0


def judge_factor(fb: Feedback, name: str, entry, read: "ReadArrays", fwds: list, layout: str, reference,
                 against: str, exact: bool) -> FactorVerdict:
    """Judge one factor's stated shape, and its arrays on every network; adds one finding.

    Every network is looked at, so that a function which fails on one still gets the diagnosis another shows.
    """
    step = parse_factor(name)
    stated = read_dims(entry.get("shape") if isinstance(entry, dict) else None, SIZE_SYMBOLS)
    stated_wrong = stated_problem(stated, step, layout, name, [f.sizes for f in fwds])
    shape_note = value_note = failed = None
    errors, value, notes = [], 1.0, []
    for k, fwd in enumerate(fwds):
        where = f" (network {size_text(fwd.sizes)})"
        a, why = read(name, k)
        if why:
            failed = failed or why + where
            continue
        why = array_problem(a, name, required_shape(step, layout, fwd), layout)
        if why:
            shape_note = shape_note or why + where
            continue
        steps = fwd.path(*step)
        Es = [reference(fwd, s) for s in steps]
        S = a.astype(np.float64)
        ctx = FactorContext(S if layout == "row" else S.T, reference_product(fwd, steps, Es, reference),
                            lambda fwd=fwd, steps=steps, Es=Es: factor_hypotheses(fwd, steps, Es, reference),
                            entry_text(step, layout), exact, a.dtype == np.float32)
        d = diagnose(FACTOR_TREE, ctx)
        if d.outcome.credit < 1 and d.outcome.status != "info":
            value_note = value_note or d.message + where
        elif d.outcome.credit < 1:
            notes.append(d.message)
        value = min(value, d.outcome.credit)
        errors.append(ctx.error)
    shape_ok = not (stated_wrong or shape_note or failed)
    value_ok = not (shape_note or value_note or failed) and bool(errors)
    if shape_ok and value_ok:
        return _factor_finding(fb, name, True, value, [
            f"{dims_text(stated)} as the {layout} layout requires",
            f"the values match {against} on {len(fwds)} networks (largest relative error {max(errors):.1e})",
            *dict.fromkeys(notes)])
    return _factor_finding(fb, name, shape_ok, value if value_ok else 0.0,
                           [stated_wrong, shape_note, value_note, failed, *dict.fromkeys(notes)])


def reference_product(fwd: mlp.Forward, steps: list, Es: list, reference) -> np.ndarray:
    """The product of the steps' reference Jacobians Es, once per network and reference (read-only)."""
    def product():
        E = functools.reduce(np.matmul, Es)
        E.flags.writeable = False
        return E
    return fwd.once(("product", reference, tuple(steps)), product)


def read_array(data) -> tuple:
    """(array, None) from array data, or (None, why there is none)."""
    if isinstance(data, dict) and "error" in data:
        return None, str(data["error"])[:240]
    try:
        return array_from_data(data), None
    except (ValueError, TypeError):
        return None, "the returned array could not be read"


class ReadArrays:
    """The cases' arrays, each decoded once: a factor's own check and the chains' products read the same data."""

    def __init__(self, cases: list):
        self.cases, self.decoded = cases, {}

    def __call__(self, name: str, k: int) -> tuple:
        """read_array of factor ``name`` on network ``k``."""
        if (name, k) not in self.decoded:
            self.decoded[name, k] = read_array(self.cases[k].get(name))
        return self.decoded[name, k]


def _factor_finding(fb, name, shape_ok, value, notes) -> FactorVerdict:
    status = "wrong" if not (shape_ok and value) else "ok" if value >= 1 else "info"  # info: float32
    fb.add(name, status, "; ".join(n for n in notes if n))
    return FactorVerdict(shape_ok, value)


def judge_gradient(fb: Feedback, grad: str, names: list, read: "ReadArrays", fwds: list, layout: str) -> bool:
    """The chain's product on every network against central differences of L; adds one finding."""
    target = CHAIN_TARGETS[grad]
    errors, low_precision = [], False
    for k, fwd in enumerate(fwds):
        arrays = [read(n, k) for n in names]
        mats = [a for a, why in arrays if not why]
        if len(mats) != len(names) or any(m.ndim != 2 for m in mats):
            fb.add(grad, "info", "the product is not checked: a factor has no matrix to multiply (see above)")
            return False
        problem = gradcheck.product_shape_problem(names, [m.shape for m in mats])
        if problem:
            fb.add(grad, "wrong", f"not computable on the network {size_text(fwd.sizes)}: {problem}")
            return False
        low_precision = low_precision or any(m.dtype == np.float32 for m in mats)
        product = functools.reduce(np.matmul, [m.astype(np.float64) for m in mats])
        numeric = fwd.numeric_jacobian("L", target)
        errors.append(gradcheck.relative_error(product if layout == "row" else product.T, numeric)
                      if product.shape in (numeric.shape, numeric.shape[::-1]) else math.inf)
    status, text = gradcheck.report(max(errors))
    if low_precision and max(errors) <= gradcheck.FLOAT32_LIMIT:
        status, text = "ok", f"relative error {max(errors):.1e} (agrees to float32 precision)"
    product_text = " · ".join(names)
    fb.add(grad, status, f"{product_text} against central differences of L on {len(fwds)} networks: {text}")
    return status == "ok"


def judge_c2(data: dict, request: dict, reference, against: str, exact: bool) -> Feedback:
    """Judge the chains; ``reference(fwd, (out, node))`` is the row-layout Jacobian of one elementary step,
    ``against`` says what it is (for the messages), ``exact`` whether it is exact or central differences."""
    fb = Feedback("c2")
    if not isinstance(data, dict):
        return fb.add("", "invalid", "malformed answer")
    layout = data.get("layout")
    factors, chains, cases = data.get("factors"), data.get("chains"), data.get("cases")
    if layout not in ("row", "column") or not isinstance(factors, dict) or not isinstance(chains, dict) \
            or not isinstance(cases, list):
        return fb.add("", "invalid", "malformed answer")
    fwds = forwards(request)
    if len(cases) != len(fwds) or not all(isinstance(c, dict) for c in cases):
        return fb.add("", "invalid", "the answer does not cover the requested networks")
    credit, chain_ok = 0.0, {}
    for grad, target in CHAIN_TARGETS.items():
        names = chains.get(grad)
        problem = "missing" if not isinstance(names, list) else check_chain(names, layout, target, factors)
        chain_ok[grad] = problem is None
        if problem:
            fb.add(grad, "wrong", problem)
        credit += WEIGHTS_C2["chains"] / 2 * chain_ok[grad]
    listed = sum((c for c in chains.values() if isinstance(c, list)), [])
    used = [n for n in dict.fromkeys(n for n in listed if isinstance(n, str)) if n in factors and parse_factor(n)]
    read = ReadArrays(cases)
    verdicts = [guarded(fb, n, FactorVerdict(False, 0.0), judge_factor, fb, n, factors[n], read, fwds, layout,
                        reference, against, exact) for n in used]
    if verdicts:
        credit += WEIGHTS_C2["shapes"] * sum(v.shape_ok for v in verdicts) / len(verdicts)
        credit += WEIGHTS_C2["values"] * sum(v.value for v in verdicts) / len(verdicts)
    for grad in CHAIN_TARGETS:
        if chain_ok[grad]:
            credit += WEIGHTS_C2["gradients"] / 2 * guarded(fb, grad, False, judge_gradient, fb, grad, chains[grad],
                                                            read, fwds, layout)
    fb.credit = round(credit, 6)
    return fb


def numeric_step(fwd: mlp.Forward, step) -> np.ndarray:
    """The Jacobian of one elementary step by central differences of the forward pass."""
    return fwd.numeric_jacobian(*step)


class C2(Task):
    id = "c2"
    title = "c2: ∇_x L and ∇_{b1} L as chains of Jacobians"

    def public_request(self):
        return _public_c2_request()

    def encode(self, answer, request):
        keys = ("layout", "factors", "grad_x", "grad_b1")
        if not isinstance(answer, dict) or set(keys) - set(answer):
            raise AnswerError(f"c2 expects a dict with the keys {', '.join(keys)}")
        if answer["layout"] not in ("row", "column"):
            raise AnswerError('the layout is "row" (the sheet\'s) or "column"')
        if not isinstance(answer["factors"], dict):
            raise AnswerError('"factors" maps names such as "J_z1(x)" to (shape, function)')
        chains = {}
        for grad in CHAIN_TARGETS:
            names = answer[grad]
            if not isinstance(names, (list, tuple)) or not all(isinstance(n, str) for n in names) or len(names) > 12:
                raise AnswerError(f'"{grad}" lists factor names in the order of the product, such as ["J_L(z3)", …]')
            chains[grad] = [n[:40] for n in names]
        used = [n for n in dict.fromkeys(chains["grad_x"] + chains["grad_b1"]) if n in answer["factors"]]
        factors, functions = {}, {}
        for name in used:
            entry = answer["factors"][name]
            if not isinstance(entry, (tuple, list)) or len(entry) != 2 or not callable(entry[1]):
                factors[name] = {"shape": {"error": f"{name}: give (shape, function)"}}
                continue
            factors[name] = {"shape": shape_answer(entry[0], name)}
            functions[name] = entry[1]
        cases = []
        for fwd in forwards(request):
            limit = max(fwd.sizes) ** 2
            case = {}
            for name in used:
                previous = cases[-1].get(name) if cases else None
                if name not in functions:
                    case[name] = {"error": f"{name}: no function given"}
                elif hung(previous):
                    case[name] = previous
                else:
                    case[name] = run_factor(name, functions[name], fwd, limit)
            cases.append(case)
        return {"layout": answer["layout"], "factors": factors, "chains": chains, "cases": cases}

    def self_check(self, data, request):
        return judge_c2(data, request, numeric_step, "central differences of the step", exact=False)

    def judge(self, data, request, key, rng):
        return judge_c2(data, request, key, "the step's exact Jacobian", exact=True)


# ================================================================== c3: derivatives from the definitions
@dataclass(frozen=True)
class Derivation:
    """What a derivation of one derivative may use, and where it must start and end."""
    name: str
    symbols: dict            # name -> symbol, for every step
    start_symbols: frozenset  # the first step is the definition's derivative, in these terms …
    start_functions: frozenset
    end_symbols: frozenset    # … and the last step is in the required form, in these
    end_functions: frozenset
    definition: str
    form: str


DERIVATIONS = {
    "tanh": Derivation("tanh", {"u": u}, frozenset({"u"}), frozenset({"exp"}), frozenset({"u"}),
                       frozenset({"tanh"}), "tanh u = (e^u − e^−u)/(e^u + e^−u)", "an expression in tanh(u) alone"),
    "softmax": Derivation("softmax", {"o_i": o_i, "o_j": o_j, "S": S, "delta": delta, "s_i": s_i, "s_j": s_j},
                          frozenset({"o_i", "o_j", "S", "delta"}), frozenset({"exp"}),
                          frozenset({"s_i", "s_j", "delta"}), frozenset(),
                          "s_i = e^(o_i)/S with S = Σ_k e^(o_k)", "an expression in s_i, s_j and delta alone"),
}
WEIGHTS_C3 = {"start": 0.3, "steps": 0.3, "form": 0.4}  # of each derivation; the two count half each
SOFTMAX_SIZE = 3   # the concrete softmax the checks differentiate: o = (o1, o2, o3), i = 1, j = 2 or 1
MAX_STEPS = 20


def tanh_definition(v):
    return (sp.exp(v) - sp.exp(-v)) / (sp.exp(v) + sp.exp(-v))


@functools.lru_cache(maxsize=1)
def concrete_model():
    """SymPy's derivatives of the definitions: tanh'(u), and ∂s_1/∂o_2 (i ≠ j), ∂s_1/∂o_1 (i = j)."""
    o = sp.symbols(f"o1:{SOFTMAX_SIZE + 1}", real=True)
    total = sum(sp.exp(q) for q in o)
    return {"tanh": ([u], [sp.diff(tanh_definition(u), u)]),
            "softmax": (list(o), [sp.diff(sp.exp(o[0]) / total, o[1]), sp.diff(sp.exp(o[0]) / total, o[0])])}


def concrete(kind: str, expr: sp.Expr) -> list:
    """A step in the concrete model's terms: tanh written out; for softmax the cases i ≠ j and i = j."""
    if kind == "tanh":
        return [expr.replace(sp.tanh, tanh_definition)]
    o = concrete_model()["softmax"][0]
    total = sum(sp.exp(q) for q in o)
    return [expr.subs({delta: d, o_i: o[0], o_j: o[j]}).subs(
        {s_i: sp.exp(o[0]) / S, s_j: sp.exp(o[j]) / S}).subs(S, total) for d, j in ((0, 1), (1, 0))]


@dataclass
class Probes:
    """Points at which every step is evaluated: ``env`` for the students' symbols, ``args`` for the model."""
    kind: str
    env: dict
    args: list     # per case of concrete(): the model's arguments, arrays
    split: int     # softmax: points [:split] have i ≠ j, the rest i = j


def probes(kind: str, rng, points: int = 24) -> Probes:
    if kind == "tanh":
        v = rng.uniform(0.1, 3.0, points) * rng.choice([-1.0, 1.0], points)
        return Probes(kind, {"u": v}, [[v]], points)
    half = points // 2
    o = rng.normal(0.0, 1.5, (points, SOFTMAX_SIZE))
    j = np.where(np.arange(points) < half, 1, 0)
    e = np.exp(o)
    env = {"o_i": o[:, 0], "o_j": o[np.arange(points), j], "S": e.sum(axis=1),
           "delta": (j == 0).astype(float)}
    env["s_i"], env["s_j"] = e[:, 0] / env["S"], e[np.arange(points), j] / env["S"]
    return Probes(kind, env, [list(o[:half].T), list(o[half:].T)], half)


@functools.lru_cache(maxsize=None)
def model_functions(kind: str) -> list:
    """concrete_model()'s derivatives as NumPy functions (lambdify is slow, so once per kernel)."""
    args, exprs = concrete_model()[kind]
    return [sp.lambdify(args, e, "numpy") for e in exprs]


def derived(kind: str, p: Probes) -> np.ndarray:
    """The derivative at the probes, from SymPy's differentiation of the definition (the self-check's reference)."""
    parts = [np.broadcast_to(f(*a), np.shape(a[0])) for f, a in zip(model_functions(kind), p.args)]
    return np.concatenate(parts).astype(float)


@dataclass
class StepContext:
    kind: str
    V: np.ndarray      # the step's values at the probes
    E: np.ndarray      # the derivative's values
    env: dict


def _eq(c: StepContext, hypothesis) -> bool:
    return all_close(c.V, hypothesis, rtol=1e-9)


def _off_diagonal(c):
    return 1.0 - c.env["delta"]


START_TREES = {
    "tanh": [
        Branch("equal", lambda c: _eq(c, c.E), Outcome(1, "the derivative of the definition")),
        Branch("sign", lambda c: _eq(c, -c.E), Outcome(0, "sign error: the quotient rule is (f′g − fg′)/g²")),
        Branch("other", always, Outcome(0, "not the derivative of (e^u − e^−u)/(e^u + e^−u); check the quotient "
                                           "rule, and that (e^−u)′ = −e^−u")),
    ],
    "softmax": [
        Branch("equal", lambda c: _eq(c, c.E), Outcome(1, "the derivative of the definition")),
        Branch("no delta", lambda c: _eq(c, c.E + _off_diagonal(c) * c.env["s_i"]), Outcome(
            0, "for i ≠ j the numerator e^(o_i) does not depend on o_j: its derivative needs δ_ij")),
        Branch("S constant", lambda c: _eq(c, c.E + c.env["s_i"] * c.env["s_j"]), Outcome(
            0, "S is treated as a constant, but S = Σ_k e^(o_k) depends on o_j as well")),
        Branch("sign", lambda c: _eq(c, -c.E), Outcome(0, "sign error: the quotient rule is (f′g − fg′)/g²")),
        Branch("other", always, Outcome(0, "not the derivative of e^(o_i)/S with respect to o_j")),
    ],
}
END_TREES = {
    "tanh": [
        Branch("equal", lambda c: _eq(c, c.E), Outcome(1, "correct")),
        Branch("no square", lambda c: _eq(c, 1 - np.tanh(c.env["u"])), Outcome(0, "1 − tanh(u): the square is missing")),
        Branch("sign", lambda c: _eq(c, -c.E), Outcome(0, "right magnitude, wrong sign")),
        Branch("other", always, Outcome(0, "not equal to tanh′(u)")),
    ],
    "softmax": [
        Branch("equal", lambda c: _eq(c, c.E), Outcome(1, "correct")),
        Branch("no delta", lambda c: _eq(c, c.E + _off_diagonal(c) * c.env["s_i"]), Outcome(
            0, "right for i = j only: the term that exists only on the diagonal needs δ_ij")),
        Branch("diagonal only", lambda c: _eq(c, c.E * c.env["delta"]), Outcome(
            0, "zero for i ≠ j, but s_i depends on every o_j through the sum")),
        Branch("sign", lambda c: _eq(c, -c.E), Outcome(0, "right magnitude, wrong sign")),
        Branch("other", always, Outcome(0, "not equal to ∂s_i/∂o_j")),
    ],
}


def judge_derivation(fb: Feedback, spec: Derivation, steps, p: Probes, E: np.ndarray, seconds: float) -> float:
    """Adds findings for one derivation; returns its credit 0..1."""
    name = spec.name
    if not isinstance(steps, list) or not steps:
        fb.add(name, "invalid", "no steps given")
        return 0.0
    values = []
    for k, data in enumerate(steps, 1):
        if isinstance(data, dict):
            fb.add(f"{name}, step {k}", "invalid", str(data.get("error", "malformed"))[:240])
            return 0.0
        problem = expression_problem(data, spec.symbols)
        if problem:
            fb.add(f"{name}, step {k}", "invalid", problem)
            return 0.0
        v = np.broadcast_to(ej.evaluate(data, p.env), E.shape).astype(float)
        if not np.all(np.isfinite(v)):
            fb.add(f"{name}, step {k}", "wrong", "evaluates to NaN or infinity at some points")
            return 0.0
        values.append(v)
    credit = 0.0
    first, last = steps[0], steps[-1]
    if symbols_in(first) <= spec.start_symbols and functions_in(first) <= spec.start_functions:
        d = diagnose(START_TREES[name], StepContext(name, values[0], E, p.env))
        start_ok = d.outcome.credit >= 1
        fb.add(f"{name}, step 1", "ok" if start_ok else "wrong", d.message)
    else:
        start_ok = False
        fb.add(f"{name}, step 1", "wrong", f"the derivation starts from the definition {spec.definition}: step 1 "
                                           f"is its derivative, written in {', '.join(sorted(spec.start_symbols))} "
                                           f"and exp only")
    broken = next((k for k in range(1, len(values)) if not all_close(values[k], values[k - 1], rtol=1e-9)), None)
    if broken is not None:
        fb.add(f"{name}, step {broken + 1}", "wrong", f"step {broken + 1} is not equal to step {broken}")
    if symbols_in(last) <= spec.end_symbols and functions_in(last) <= spec.end_functions:
        d = diagnose(END_TREES[name], StepContext(name, values[-1], E, p.env))
        end_ok = d.outcome.credit >= 1
        fb.add(f"{name}, last step", "ok" if end_ok else "wrong", d.message)
    else:
        end_ok = False
        fb.add(f"{name}, last step", "wrong", f"the last step must be {spec.form}")
    credit += WEIGHTS_C3["start"] * start_ok + WEIGHTS_C3["form"] * end_ok
    if start_ok and end_ok and broken is None:
        credit += WEIGHTS_C3["steps"]
        how = " (confirmed symbolically)" if _confirmed(name, steps, spec, seconds) else ""
        fb.add(name, "ok", f"{len(steps)} steps from the definition to the required form, each equal to the "
                           f"one before{how}")
    elif start_ok and end_ok:
        fb.add(name, "info", "the derivation points need every step to equal the one before")
    return credit


PROVED: set[tuple[str, str]] = set()  # (kind, the steps' data as JSON) whose proof was found
PROVED_LIMIT = 256


def _confirmed(kind: str, steps: list, spec: Derivation, seconds: float) -> bool:
    """SymPy proves, within the time budget, that step 1 is the derivative and every step equals the next.

    A proof found once holds for the same data: it is remembered (a failure is not, it may be the budget's)."""
    key = (kind, json.dumps(steps, sort_keys=True))
    if key in PROVED:
        return True
    if prove(kind, steps, spec, seconds):
        if len(PROVED) >= PROVED_LIMIT:
            PROVED.clear()
        PROVED.add(key)
        return True
    return False


def prove(kind: str, steps: list, spec: Derivation, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    exprs = [concrete(kind, ej.from_data(s, spec.symbols)) for s in steps]
    pairs = [(exprs[0], concrete_model()[kind][1])] + list(zip(exprs, exprs[1:]))
    for a, b in pairs:
        for x_, y_ in zip(a, b):
            budget = deadline - time.monotonic()
            if budget <= 0 or not symbolically_equal(x_, y_, budget):
                return False
    return True


def judge_c3(data: dict, rng, reference, seconds: float) -> Feedback:
    """``reference(kind, probes)`` gives the derivative's values at the probes."""
    fb = Feedback("c3")
    if not isinstance(data, dict):
        return fb.add("", "invalid", "malformed answer")
    credit = 0.0
    for kind, spec in DERIVATIONS.items():
        p = probes(kind, rng)
        credit += 0.5 * guarded(fb, kind, 0.0, judge_derivation, fb, spec, data.get(kind), p, reference(kind, p),
                                seconds)
    fb.credit = round(credit, 6)
    return fb


class C3(Task):
    id = "c3"
    title = "c3: tanh′ and the softmax Jacobian from the definitions"

    def encode(self, answer, request):
        if not isinstance(answer, dict) or set(DERIVATIONS) - set(answer):
            raise AnswerError(f"c3 expects a dict with the keys {', '.join(DERIVATIONS)}, each a list of SymPy steps")
        out = {}
        for kind in DERIVATIONS:
            steps = answer[kind]
            if not isinstance(steps, (list, tuple)) or not 1 <= len(steps) <= MAX_STEPS:
                raise AnswerError(f'"{kind}" is a list of 1 to {MAX_STEPS} SymPy expressions, one per step')
            out[kind] = [expr_answer(s, f"{kind}, step {k}") for k, s in enumerate(steps, 1)]
        return out

    def self_check(self, data, request):
        return judge_c3(data, rng_for("public", "c3"), derived, seconds=1.0)

    def judge(self, data, request, key, rng):
        return judge_c3(data, rng, key, seconds=6.0)


# ================================================================== c_bonus: J_{o1}(W1) and ∇_{W1} L
WEIGHTS_BONUS = {"shape": 0.2, "bytes": 0.1, "entries": 0.3, "gradient": 0.4}
ENTRY_SIZES = (6, 4, 5, 3)      # public: every entry of a small tensor …
SAMPLED_ENTRIES = 200           # … and sampled entries of the full-size one
GRADIENT_SIZES = [(6, 4, 5, 3), (9, 7, 5, 4)]
GRADIENT_PROBES = 12            # entries of ∇_{W1} L checked by central differences of L
FLOAT64_BYTES = np.dtype(np.float64).itemsize


@dataclass(frozen=True)
class BonusReference:
    entries: object   # (fwd, triples) -> ∂o1_i/∂W1_kl at each triple (i, k, l)
    delta1: object    # fwd -> δ1 = (∇_{o1} L)ᵀ
    exact: bool = False  # exact values (the grader's key), not central differences


def all_triples(fwd: mlp.Forward) -> list:
    n1_, n0_ = fwd["W1"].shape
    return [[i, k, l] for i in range(n1_) for k in range(n1_) for l in range(n0_)]


def sampled_triples(fwd: mlp.Forward, rng, count: int) -> list:
    """Random (i, k, l), half of them with i = k, where the tensor is not zero."""
    n1_, n0_ = fwd["W1"].shape
    i = rng.integers(0, n1_, count)
    k = np.where(np.arange(count) % 2 == 0, i, rng.integers(0, n1_, count))
    return np.stack([i, k, rng.integers(0, n0_, count)], axis=1).tolist()


def with_weight(fwd: mlp.Forward, k: int, l: int, value: float) -> mlp.Forward:
    W1 = fwd["W1"].copy()
    W1[k, l] = value
    return mlp.Forward({**fwd.net, "W1": W1})


def numeric_entries(fwd: mlp.Forward, triples) -> np.ndarray:
    """∂o1_i/∂W1_kl by central differences of o1_i = W1_i·x + b1_i, one weight at a time: no tensor is built,
    and only row i of W1 enters, so no full-size matrix is copied or multiplied per entry."""
    W1, x, b1 = fwd["W1"], fwd["x"], fwd["b1"]

    def o1_i(i, k, l, w):
        row = W1[i].copy()
        if i == k:
            row[l] = w
        return row @ x + b1[i]

    def partial(i, k, l):
        return gradcheck.numeric_jacobian(
            lambda v: np.array([o1_i(i, k, l, w) for w in v.ravel()]), [W1[k, l]])[0, 0]
    return np.array([partial(*t) for t in triples])


def numeric_delta1(fwd: mlp.Forward) -> np.ndarray:
    return fwd.numeric_jacobian("L", "b1")[0]


NUMERIC_BONUS = BonusReference(numeric_entries, numeric_delta1)


def numeric_weight_gradient(fwd: mlp.Forward, entries) -> np.ndarray:
    """∂L/∂W1_kl at the given (k, l) by central differences of L."""
    return np.array([gradcheck.numeric_jacobian(
        lambda v: np.array([with_weight(fwd, k, l, w)["L"] for w in v.ravel()]), [fwd["W1"][k, l]])[0, 0]
        for k, l in entries])


# ------------------------------------------------------------------ the shape and the size
O1_DIMS, W1_DIMS = (n1,), (n1, n0)
# A Jacobian's indices are the output's, then the input's: (i) of o1_i, then (k, l) of W1_kl.
TENSOR_DIMS = O1_DIMS + W1_DIMS


def tensor_shape_problem(dims, all_sizes) -> tuple[bool, str]:
    """(accepted, message) for the stated shape of J_{o1}(W1)."""
    if isinstance(dims, str):
        return False, dims
    at = [dims_at(dims, s) for s in all_sizes]

    def means(shape):
        return all(got == dims_at(shape, s) for got, s in zip(at, all_sizes))

    if means(TENSOR_DIMS):
        return True, f"{dims_text(dims)}: the index i of o1_i, then k and l of W1_kl"
    if means(O1_DIMS + (sp.Mul(*W1_DIMS),)):
        return True, f"{dims_text(dims)}: the vectorised form, with W1 flattened; accepted"
    if means(W1_DIMS):
        return False, "a matrix: the index i of o1_i is lost; ∂o1_i/∂W1_kl has three indices"
    if means((sp.Integer(1),) + W1_DIMS):
        return False, "that is the shape of ∇_{W1}L as a 1×n1×n0 array, after the contraction"
    if not any(d.free_symbols for d in dims) and dims_at(dims, mlp.SIZES) == dims_at(TENSOR_DIMS, mlp.SIZES):
        return False, f"stated in numbers ({dims_text(dims)}); state it in the layer sizes n0, n1"
    if len(dims) == 3 and all(sorted(got) == sorted(dims_at(TENSOR_DIMS, s)) for got, s in zip(at, all_sizes)):
        return False, "the right sizes in another order: list them in the order of the indices i, k, l"
    return False, f"{dims_text(dims)} is not the shape of J_o1(W1)"


def bytes_problem(value: float) -> tuple[bool, str]:
    """(right, message) for the stated memory of the full-size tensor in float64."""
    entries = math.prod(dims_at(TENSOR_DIMS, mlp.SIZES))
    if value == entries * FLOAT64_BYTES:
        return True, f"{value:,.0f} bytes ({value / 2**20:.0f} MiB) in float64"
    readings = {
        math.prod(dims_at(W1_DIMS, mlp.SIZES)) * FLOAT64_BYTES:
            "that is the size of an n1×n0 matrix; the tensor has a third index",
        entries * 4: "4 bytes per entry is float32; NumPy's default float64 takes 8",
        entries: "that counts entries, not bytes",
        entries * FLOAT64_BYTES / 2**20: "that is in MiB; give bytes",
        entries * FLOAT64_BYTES / 1e6: "that is in MB; give bytes",
    }
    for wrong, message in readings.items():
        if math.isclose(value, wrong, rel_tol=1e-6):
            return False, message
    return False, "not the memory the full-size tensor takes in float64"


# ------------------------------------------------------------------ the entries
@dataclass
class EntryContext:
    S: np.ndarray
    E: np.ndarray
    at: object        # (triples) -> reference values there


def _entries_eq(c: EntryContext, values) -> bool:
    return all_close(c.S, values, rtol=1e-7, atol=1e-10)


ENTRY_TREE = [
    Branch("equal", lambda c: _entries_eq(c, c.E), Outcome(1, "correct")),
    Branch("no delta", lambda c: _entries_eq(c, c.at(lambda i, k, l: (k, k, l))), Outcome(
        0, "nonzero also for i ≠ k: o1_i depends on row i of W1 only")),
    Branch("shifted", lambda c: _entries_eq(c, c.at(lambda i, k, l: (i, k, l - 1))), Outcome(
        0, "shifted by one place: entry(i, k, l, x) receives 0-based indices, like NumPy")),
    Branch("sign", lambda c: _entries_eq(c, -c.E), Outcome(0, "right magnitude, wrong sign")),
    Branch("other", always, Outcome(0, "not ∂o1_i/∂W1_kl at the checked entries")),
]


def judge_entries(fb: Feedback, cases, request, fwds: list, reference) -> bool:
    for case, fwd, given in zip(request["entries"], fwds, cases):
        where = f"network {size_text(fwd.sizes)}, {len(case['triples'])} entries"
        if isinstance(given, dict) or not isinstance(given, list) or len(given) != len(case["triples"]):
            message = given.get("error", "malformed") if isinstance(given, dict) else "malformed"
            fb.add("entry", "invalid", str(message)[:240])
            return False
        triples = np.array(case["triples"])
        n0_ = fwd.sizes[0]

        def at(move, fwd=fwd, triples=triples):
            moved = np.array([move(*t) for t in triples.tolist()])
            moved[:, 2] %= n0_  # x[-1] is NumPy's last entry, which is what a shifted index reads
            return reference.entries(fwd, moved.tolist())
        d = diagnose(ENTRY_TREE, EntryContext(np.array(given, float), reference.entries(fwd, case["triples"]), at))
        if d.outcome.credit < 1:
            fb.add("entry", "wrong", f"{d.message} ({where})")
            return False
    fb.add("entry", "ok", "∂o1_i/∂W1_kl at every entry of the small tensor and at sampled entries of the "
                          "full-size one")
    return True


# ------------------------------------------------------------------ ∇_{W1} L
@dataclass
class GradientContext(Compared):
    S: np.ndarray        # the student's ∇_{W1}L
    E: np.ndarray        # δ1·xᵀ
    delta1: np.ndarray
    x: np.ndarray
    hypotheses: object   # callable -> iterable of (matrix, message): ∇_{W1}L with one typical slip
    exact: bool = False
    float32: bool = False


def _grad_fits(a, b) -> bool:
    return a.shape == b.shape and gradcheck.relative_error(a, b) <= MATCH


def _gradient_slip(c: GradientContext):
    for M, message in c.hypotheses():
        if _grad_fits(c.S, M):
            return {"mistake": message}
    return False


def gradient_slips(fwd: mlp.Forward, reference, delta1: np.ndarray):
    """(∇_{W1}L with one typical slip, what the slip is)."""
    x = fwd["x"]
    yield np.outer(np.full_like(delta1, delta1.sum()), x), (
        "every row is (Σ_i δ1_i)·xᵀ: the contraction lost δ_ik, only i = k contributes")
    with np.errstate(all="ignore"):
        yield np.outer(delta1 / (1.0 - fwd["z1"] ** 2), x), (
            "δ1 lacks the factor of the tanh step o1 → z1: δ1 is the gradient with respect to o1, not z1")
    for shifted in (fwd["y"] - 1, fwd["y"] + 1):
        if 1 <= shifted <= fwd.sizes[3]:
            yield np.outer(reference.delta1(fwd.relabel(shifted)), x), (
                "δ1 belongs to another label: e_y has its 1 one place off (y counts from 1, NumPy indices from 0)")


GRADIENT_TREE = [
    Branch("not finite", lambda c: not np.all(np.isfinite(c.S)), Outcome(0, "contains NaN or infinity")),
    Branch("equal", _agrees_as("agrees"), Outcome(1, "correct")),
    Branch("float32", _agrees_as("float32"), Outcome(gradcheck.FLOAT32_CREDIT, FLOAT32_NOTE, "info")),
    Branch("finite differences", _agrees_as("finite differences"), Outcome(0, FD_NOTE)),
    Branch("transposed", lambda c: _grad_fits(c.S, c.E.T), Outcome(
        0, "transposed: ∇_{W1}L has the shape of W1, so that W1 − η·∇_{W1}L is defined")),
    Branch("slip", _gradient_slip, Outcome(0, "{mistake}")),
    Branch("sign", lambda c: _grad_fits(c.S, -c.E), Outcome(0, "right magnitude, wrong sign")),
    Branch("scaled", lambda c: _scaled(c), Outcome(0, "off by a constant factor: {factor} times ∇_{W1}L")),
    Branch("other", lambda c: {"report": gradcheck.report(c.error)[1]}, Outcome(0, "not ∇_{W1}L: {report}")),
]


def gradient_shape_problem(G: np.ndarray, shape: tuple) -> str | None:
    if G.shape == shape:
        return None
    if G.ndim == 0:
        return "a single number: ∇_{W1}L has one entry per weight"
    if G.shape == shape[::-1]:
        return (f"{gradcheck.shape_text(G.shape)}: transposed, ∇_{{W1}}L has the shape of W1 "
                f"({gradcheck.shape_text(shape)})")
    return f"{gradcheck.shape_text(G.shape)} where the shape of W1, {gradcheck.shape_text(shape)}, belongs"


def judge_gradients(fb: Feedback, cases, fwds: list, reference, rng) -> float:
    """The share of the gradient's credit: 1, FLOAT32_CREDIT for float32, or 0."""
    worst, share, notes = 0.0, 1.0, []
    for fwd, given in zip(fwds, cases):
        where = f" (network {size_text(fwd.sizes)})"
        if isinstance(given, dict) and "error" in given:
            fb.add("grad_W1", "invalid", str(given["error"])[:240])
            return 0.0
        try:
            G = array_from_data(given)
        except (ValueError, TypeError):
            fb.add("grad_W1", "invalid", "the returned array could not be read")
            return 0.0
        if G.shape == (1, *fwd["W1"].shape):  # the Jacobian convention's 1×n1×n0, read as n1×n0
            G = G[0]
        problem = gradient_shape_problem(G, fwd["W1"].shape)
        if problem:
            fb.add("grad_W1", "wrong", problem + where)
            return 0.0
        delta1 = reference.delta1(fwd)
        d = diagnose(GRADIENT_TREE, GradientContext(
            G.astype(np.float64), np.outer(delta1, fwd["x"]), delta1, fwd["x"],
            lambda fwd=fwd, delta1=delta1: gradient_slips(fwd, reference, delta1), reference.exact,
            G.dtype == np.float32))
        if d.outcome.credit < 1 and d.outcome.status != "info":
            fb.add("grad_W1", "wrong", d.message + where)
            return 0.0
        share = min(share, d.outcome.credit)
        notes.append(d.message)
        picks = [(int(rng.integers(0, G.shape[0])), int(rng.integers(0, G.shape[1]))) for _ in range(GRADIENT_PROBES)]
        numeric = numeric_weight_gradient(fwd, picks)
        worst = max(worst, gradcheck.relative_error(np.array([G[p] for p in picks], dtype=float), numeric))
    status, text = gradcheck.report(worst)
    if share < 1 and worst <= gradcheck.FLOAT32_LIMIT:
        status, text = "info", f"relative error {worst:.1e}"
    note = "".join(f"; {n}" for n in dict.fromkeys(notes) if n != "correct")
    fb.add("grad_W1", status, f"equals δ1·xᵀ on {len(cases)} networks; {GRADIENT_PROBES} sampled entries per network "
                              f"against central differences of L: {text}{note}")
    return share if status != "wrong" else 0.0


def judge_tensor_shape(fb: Feedback, shape, all_sizes) -> bool:
    ok, message = tensor_shape_problem(read_dims(shape, SIZE_SYMBOLS), all_sizes)
    fb.add("shape", "ok" if ok else "wrong", message)
    return ok


def judge_bytes(fb: Feedback, data) -> bool:
    size = read_dims([data], SIZE_SYMBOLS)
    if isinstance(size, str):
        fb.add("bytes", "invalid", size)
        return False
    ok, message = bytes_problem(dims_at(size, mlp.SIZES)[0])
    fb.add("bytes", "ok" if ok else "wrong", message)
    return ok


def judge_bonus(data: dict, request: dict, reference: BonusReference, rng) -> Feedback:
    fb = Feedback("c_bonus")
    if not isinstance(data, dict):
        return fb.add("", "invalid", "malformed answer")
    fwds = bonus_forwards(request)
    all_sizes = [mlp.SIZES] + [fwd.sizes for fwd in fwds["gradients"]]
    credit = WEIGHTS_BONUS["shape"] * guarded(fb, "shape", False, judge_tensor_shape, fb, data.get("shape"), all_sizes)
    credit += WEIGHTS_BONUS["bytes"] * guarded(fb, "bytes", False, judge_bytes, fb, data.get("bytes"))
    entries, gradients = data.get("entries"), data.get("gradients")
    if not isinstance(entries, list) or not isinstance(gradients, list) \
            or len(entries) != len(request["entries"]) or len(gradients) != len(request["gradients"]):
        fb.credit = round(credit, 6)
        return fb.add("", "invalid", "the answer does not cover the requested networks")
    credit += WEIGHTS_BONUS["entries"] * guarded(fb, "entry", False, judge_entries, fb, entries, request,
                                                 fwds["entries"], reference)
    credit += WEIGHTS_BONUS["gradient"] * guarded(fb, "grad_W1", 0.0, judge_gradients, fb, gradients,
                                                  fwds["gradients"], reference, rng)
    fb.credit = round(credit, 6)
    return fb


def entry_values(entry, fwd: mlp.Forward, triples):
    """entry(i, k, l, x) at every triple, bounded as one call: a list of floats, or {"error"}."""
    x = fwd["x"]

    def run():
        out = []
        for i, k, l in triples:
            v = entry(i, k, l, x.copy())
            if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.number, np.ndarray)) \
                    or np.size(v) != 1:
                raise AnswerError(f"entry({i}, {k}, {l}, x) returned a {type(v).__name__}; it returns one number")
            value = float(np.asarray(v).ravel()[0])
            if not math.isfinite(value):
                raise AnswerError(f"entry({i}, {k}, {l}, x) is {value}")
            out.append(value)
        return out

    values, error = bounded("entry", run)
    return {"error": error} if error else values


class CBonus(Task):
    id = "c_bonus"
    title = "bonus: J_{o1}(W1) and ∇_{W1} L"
    KEYS = ("shape", "bytes", "entry", "grad_W1")

    def public_request(self):
        return _public_bonus_request()

    def encode(self, answer, request):
        if not isinstance(answer, dict) or set(self.KEYS) - set(answer):
            raise AnswerError(f"the bonus expects a dict with the keys {', '.join(self.KEYS)}")
        if not callable(answer["entry"]) or not callable(answer["grad_W1"]):
            raise AnswerError('"entry" and "grad_W1" are functions')
        out = {"shape": shape_answer(answer["shape"], "shape"), "bytes": expr_answer(answer["bytes"], "bytes")}
        out["entries"], out["gradients"] = [], []
        fwds = bonus_forwards(request)
        for case, fwd in zip(request["entries"], fwds["entries"]):
            previous = out["entries"][-1] if out["entries"] else None
            out["entries"].append(previous if hung(previous) else entry_values(answer["entry"], fwd, case["triples"]))
        for fwd in fwds["gradients"]:
            previous = out["gradients"][-1] if out["gradients"] else None
            out["gradients"].append(previous if hung(previous) else
                                    run_factor("grad_W1", answer["grad_W1"], fwd, 4 * fwd["W1"].size))
        return out

    def self_check(self, data, request):
        return judge_bonus(data, request, NUMERIC_BONUS, rng_for("public", "c_bonus", "probes"))

    def judge(self, data, request, key, rng):
        return judge_bonus(data, request, key, rng)


@functools.lru_cache(maxsize=1)
def _public_bonus_request() -> dict:
    return bonus_request(rng_for("public", "c_bonus"), ENTRY_SIZES, GRADIENT_SIZES)


@once_for_public(_public_bonus_request)
def bonus_forwards(request: dict) -> dict[str, list[mlp.Forward]]:
    """The forward passes of the request's networks: those whose entries, and those whose gradient is asked."""
    return {"entries": [mlp.Forward(mlp.network_from_data(c["network"])) for c in request["entries"]],
            "gradients": [mlp.Forward(mlp.network_from_data(n)) for n in request["gradients"]]}


def bonus_request(rng, entry_sizes, gradient_sizes) -> dict:
    """Every entry of a small J_{o1}(W1), sampled entries of the full-size one, ∇_{W1} L on small networks.

    The full-size network is asked only for single entries: nothing builds the 392 MiB tensor.
    """
    small = mlp.random_network(entry_sizes, rng)
    full = mlp.random_network(mlp.SIZES, rng)
    return {
        "entries": [{"network": mlp.network_to_data(small), "triples": all_triples(mlp.Forward(small))},
                    {"network": mlp.network_to_data(full),
                     "triples": sampled_triples(mlp.Forward(full), rng, SAMPLED_ENTRIES)}],
        "gradients": [mlp.network_to_data(mlp.random_network(s, rng)) for s in gradient_sizes],
    }


# ================================================================== c1: the loss as a graph
REQUIRED_NODES = ("x", "y", "z1", "z2", "z3", "L")
OPTIONAL_NODES = ("W1", "W2", "W3", "b1", "b2", "b3", "o1", "o2", "o3")
LEAF_NODES = ("x", "y", "W1", "W2", "W3", "b1", "b2", "b3")
WEIGHTS_C1 = {"structure": 0.8, "labels": 0.2}


def definition_inputs(present: set) -> dict[str, set]:
    """The inputs of each computed node by the sheet's recursion z^(l) = φ(W^(l) z^(l−1) + b^(l)), z^(0) = x,
    and L = −log z3_y, for the nodes drawn: without o_l, z_l takes what o_l would; W and b only if drawn."""
    inputs, previous = {}, "x"
    for layer in "123":
        feeds = {previous} | ({f"W{layer}", f"b{layer}"} & present)
        if f"o{layer}" in present:
            inputs[f"o{layer}"], inputs[f"z{layer}"] = feeds, {f"o{layer}"}
        else:
            inputs[f"z{layer}"] = feeds
        previous = f"z{layer}"
    inputs["L"] = {"z3", "y"}
    return inputs


def graph_problems(nodes: dict) -> list[tuple[str, str]]:
    """(node, problem) for the structure of the student's graph: {name: (op, [inputs])}."""
    problems = []
    for name, (op, _) in nodes.items():
        if name not in REQUIRED_NODES + OPTIONAL_NODES:
            problems.append((name, f"{name} is not a quantity of this network: the graph has x, y, z1, z2, z3 and L "
                                   "(W, b and o nodes may be added)"))
        elif name in LEAF_NODES and op != "input":
            problems.append((name, f"{name} is given, not computed: make it an input"))
        elif name not in LEAF_NODES and op in ("input", "const"):
            problems.append((name, f"{name} is computed from other nodes, not an {op}"))
    problems += [(name, f"the node {name} is missing") for name in REQUIRED_NODES if name not in nodes]
    want = definition_inputs(set(nodes))
    for head, (op, tails) in nodes.items():
        if head not in want or head in LEAF_NODES:
            continue
        for tail in sorted(set(tails)):
            if tails.count(tail) > 1:
                problems.append((head, f"{tail} enters {head} twice"))
            elif tail == "y" and head != "L":
                problems.append((head, f"y → {head}: y enters only L, where it picks the component z3_y"))
            elif tail not in want[head]:
                problems.append((head, f"{head} does not take {tail} directly"))
        for tail in sorted(want[head] - set(tails)):
            problems.append((head, f"the edge {tail} → {head} is missing: {head} is computed from {tail}"))
    return problems


def paths_from(nodes: dict, start: str, end: str) -> int | None:
    """The number of paths start → end in the graph; None if it has a cycle.

    Counted, never enumerated (a graph of 40 nodes each feeding every later one has 2^37):
    paths(v) = Σ paths(u) over the edges u → v, in topological order, with paths(start) = 1.
    """
    import networkx as nx
    g = nx.DiGraph([(t, h) for h, (_, tails) in nodes.items() for t in tails])
    if start not in g or end not in g:
        return 0
    if not nx.is_directed_acyclic_graph(g):
        return None
    paths = dict.fromkeys(g, 0)
    paths[start] = 1
    for node in nx.topological_sort(g):
        for head in g.successors(node):
            paths[head] += paths[node]
    return paths[end]


def label_problems(labels: dict) -> list[str]:
    """Problems with the edge labels {(tail, head): label data or None}."""
    out = []
    for (tail, head), label in labels.items():
        if tail == "y":
            if label is not None:
                out.append(f"y → {head} carries no Jacobian: y is an integer label, never differentiated")
        elif label is None:
            out.append(f"the edge {tail} → {head} has no Jacobian; label it J(\"{head}\", \"{tail}\")")
        elif label != ["sym", f"J_{head}({tail})"]:
            out.append(f"the edge {tail} → {head} carries the Jacobian of {head} with respect to {tail}, "
                       f"J(\"{head}\", \"{tail}\")")
    return out


def read_loss_graph(data) -> tuple[dict, dict] | str:
    """{name: (op, [inputs])} and {(tail, head): label} from task (b)'s graph data, or why it is unreadable."""
    if not isinstance(data, dict) or not isinstance(data.get("nodes"), list) or len(data["nodes"]) > 40:
        return "malformed graph data"
    nodes, labels = {}, {}
    for raw in data["nodes"]:
        if not isinstance(raw, dict) or not isinstance(raw.get("name"), str) or not isinstance(raw.get("op"), str):
            error = raw.get("name", raw.get("op")) if isinstance(raw, dict) else None
            return str(error.get("error"))[:200] if isinstance(error, dict) else "malformed node"
        name, op = raw["name"][:30], raw["op"][:40]
        if name in nodes:
            return f"two nodes are named {name}"
        tails = raw.get("in", [])
        d = raw.get("d", [])
        if not isinstance(tails, list) or not all(isinstance(t, str) for t in tails) or not isinstance(d, list):
            bad = next((t for t in tails if isinstance(t, dict)), {}) if isinstance(tails, list) else {}
            return f"an input of {name}: {str(bad.get('error', 'not a node name'))[:200]}"
        nodes[name] = (op, tails)
        for slot, tail in enumerate(tails):
            labels[(tail, name)] = d[slot] if slot < len(d) else None
    return nodes, labels


def judge_c1(data) -> Feedback:
    fb = Feedback("c1")
    read = read_loss_graph(data)
    if isinstance(read, str):
        return fb.add("", "invalid", read)
    nodes, labels = read
    problems = graph_problems(nodes)
    for part, message in problems[:6]:
        fb.add(part, "wrong", message)
    credit = 0.0
    if not problems:
        extra = sorted(set(nodes) - set(REQUIRED_NODES))
        drawn = ", ".join(REQUIRED_NODES) + (f" (and {', '.join(extra)})" if extra else "")
        paths = paths_from(nodes, "x", "L")
        fb.add("structure", "ok", f"{drawn}: every node computed from what the network's definition says; "
                                  f"y enters only L; {paths} path from x to L, so the chain rule is one product")
        credit += WEIGHTS_C1["structure"]
    wrong_labels = label_problems({k: v for k, v in labels.items() if k[0] in nodes and k[1] in nodes})
    for message in wrong_labels[:4]:
        fb.add("labels", "wrong", message)
    if not wrong_labels and paths_from(nodes, "x", "L"):  # labels count once there is a path to label
        fb.add("labels", "ok", "every edge carries its Jacobian, the edge from y none")
        credit += WEIGHTS_C1["labels"]
    fb.credit = round(credit, 6)
    return fb


class C1(Task):
    id = "c1"
    title = "c1: the loss as a graph"

    def encode(self, answer, request):
        from ..graph import Graph, GraphError
        if not isinstance(answer, Graph):
            raise AnswerError(f"c1 expects a Graph (from course_lib.graph), got a {type(answer).__name__}")
        try:
            return answer.to_data()
        except GraphError as e:
            raise AnswerError(str(e)) from None

    def self_check(self, data, request):
        return judge_c1(data)

    def judge(self, data, request, key, rng):
        return judge_c1(data)
