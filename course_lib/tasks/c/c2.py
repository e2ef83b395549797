"""c2: ∇_x L and ∇_{b1} L as chains of Jacobians.

A layout ("row": the sheet's, gradients are rows and the factor nearest L stands on the left; "column":
every factor transposed, the order reversed), the factors — each with its shape in the layer sizes n0..n3
and a NumPy function of forward quantities — and the two chains. Judged per factor (stated and returned
shape, value on every network, FACTOR_TREE naming the typical mistakes) and per chain (its order, and its
product against central differences of L).
"""
from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass

import numpy as np
import sympy as sp

from ... import bounded, gradcheck, mlp
from ...diagnose import Branch, Outcome, diagnose, guarded
from ...errors import AnswerError, Unusable
from ...feedback import Feedback
from ...i18n import _
from ...probe import rng_for
from .. import Task
from .common import (SIZE_SYMBOLS, Compared, FD_NOTE, FLOAT32_NOTE, agrees_as, dims_at, dims_text, fits,
                     known_mistake, n0, n1, n2, n3, once_for_public, read_array, read_dims, run_factor,
                     scaled, shape_answer, size_text)

NODE_SIZE = {"x": n0, "b1": n1, "o1": n1, "z1": n1, "o2": n2, "z2": n2, "o3": n3, "z3": n3, "L": sp.Integer(1)}
FACTOR_NAME = re.compile(r"J_([A-Za-z]\w{0,3})\((\w{1,4})\)\Z")
PUBLIC_SIZES = [mlp.SIZES, (9, 7, 5, 4)]


CHAIN_TARGETS = {"grad_x": "x", "grad_b1": "b1"}
ANCHORS = ("L", "z3", "z2", "z1")       # the sheet's nodes: every chain passes each of them …
FUSED = {("L", "o3"): "z3"}             # … except J_L(o3) = (z3 − e_y)ᵀ, softmax and cross-entropy in one step
WEIGHTS_C2 = {"chains": 0.2, "shapes": 0.3, "values": 0.4, "gradients": 0.1}


@functools.lru_cache(maxsize=1)
def _public_c2_request() -> dict:
    rng = rng_for("public", "c2")
    return {"networks": [mlp.drawn(s, rng) for s in PUBLIC_SIZES]}


@once_for_public(_public_c2_request)
def forwards(request: dict) -> list[mlp.Forward]:
    return [mlp.Forward(mlp.network_from(c)) for c in request["networks"]]


# ------------------------------------------------------------------ the chains


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
            return _("after reaching {at} the next factor must be J_{at}(·), not {name}").format(at=at, name=name)
        if node not in order or order.index(node) <= order.index(out):
            return _("{name} is no step from {target} towards L in the graph").format(name=name, target=target)
        skipped = [a for a in order[order.index(out) + 1:order.index(node)]
                   if a in ANCHORS and FUSED.get((out, node)) != a]
        if skipped:
            return _("{name} jumps over the node {node}: give one factor per step of the graph "
                     "(the o nodes may be left out)").format(name=name, node=skipped[0])
        at = node
    return None if at == target else _("the chain stops at {at} and does not reach {target}").format(
        at=at, target=target)


def check_chain(names, layout: str, target: str, factors: dict) -> str | None:
    """The structure problem of one chain as listed by the student, or None."""
    if not names:
        return _("the chain is empty")
    if not all(isinstance(name, str) for name in names):
        return _("the chain lists factor names, such as \"J_z1(x)\"")
    for name in names:
        if name not in factors:
            return _("{name} is not one of your factors").format(name=name)
        if parse_factor(name) is None:
            return _("{name} is not a factor name: write J_<output>(<input>), such as J_z1(x)").format(name=name)
    steps = [parse_factor(n) for n in names]
    along = (steps, names) if layout == "row" else (steps[::-1], names[::-1])
    problem = chain_problem(*along, target)
    if problem and chain_problem(along[0][::-1], along[1][::-1], target) is None:
        said = _("the factors stand in reverse order: in the {layout} layout the factor nearest L stands on the left, "
                 "or the product cannot be computed") if layout == "row" else \
            _("the factors stand in reverse order: in the {layout} layout the factor nearest L stands on the right, "
              "or the product cannot be computed")
        return said.format(layout=layout)
    return problem


# ------------------------------------------------------------------ mistakes, one step at a time
def step_mistakes(fwd: mlp.Forward, step, E: np.ndarray, reference):
    """(wrong Jacobian of one elementary step, what the mistake is), for the typical mistakes of the sheet."""
    out, node = step
    if out == "L":
        y, z = fwd["y"], fwd["z3"]
        yield -E, _("the minus sign of L = −log z3_y is missing")
        yield -1 / z[None, :], _("−1/z is taken of every component of z3, but L depends on z3_y alone: "
                                 "only one entry is nonzero")
        if node == "z3":
            e_y = np.eye(z.size)[y - 1]
            yield (z - e_y)[None, :], _("that is ∂L/∂o3, the step through softmax as well; J_L(z3) differentiates "
                                        "−log z3_y with respect to z3 alone (or name the factor J_L(o3) and leave "
                                        "out J_z3(o3))")
        for shifted in (y - 1, y + 1):
            if 1 <= shifted <= z.size:
                # not a format string: {1, …, n3} is a set
                yield reference(fwd.relabel(shifted), step), _(
                    "the nonzero entry sits one place off: y ∈ {1, …, n3} counts from 1, NumPy indices from 0")
    elif out == "z3":
        z = fwd["z3"]
        yield E + np.outer(z, z), _("only diag(z3): the term −z3·z3ᵀ is missing (every o_j enters the sum)")
        yield np.diag(np.diag(E)), _("diagonal only: ∂z3_i/∂o3_j is not zero for i ≠ j (every o_j enters the sum)")
        yield np.outer(z, 1 - z), _("z_i(1 − z_j) in every entry: the 1 belongs on the diagonal only (δ_ij)")
        yield E - np.diag(z), _("only −z3·z3ᵀ: the diagonal term from differentiating e^(o_i) itself is missing")
    elif out in ("z1", "z2"):
        z, o = fwd[out], fwd["o" + out[1]]
        yield np.diag(1 - z), _("1 − tanh without the square on the diagonal of the tanh step {o} → {out}").format(
            o="o" + out[1], out=out)
        yield np.diag(1 - o ** 2), _("1 − o² on the diagonal of the tanh step {o} → {out}: that squares the "
                                     "pre-activation, the derivative needs tanh of it").format(o="o" + out[1], out=out)


def chain_product(ms: list) -> np.ndarray:
    """``functools.reduce(np.matmul, ms)`` for the steps' Jacobians, a diagonal factor (a tanh step's
    diag(1 − z ⊙ z)) applied as a scaling of the other factor's rows or columns.

    The numbers are matmul's: each entry's other terms are products with exact zeros, which add
    nothing. The work is not: diag · W1 is 256·256·784 multiplications for J_z1(x) at full size, the
    scaling 256·784. Only for finite factors of matching shapes; otherwise matmul, whose 0·inf is NaN
    and which says why shapes do not fit.
    """
    def times(a, b):
        if a.ndim == b.ndim == 2 and a.shape[1] == b.shape[0] and np.all(np.isfinite(a)) and np.all(np.isfinite(b)):
            if (d := _diagonal(a)) is not None:
                return d[:, None] * b
            if (d := _diagonal(b)) is not None:
                return a * d
        return a @ b
    return functools.reduce(times, ms)


def _diagonal(m: np.ndarray) -> np.ndarray | None:
    """The diagonal of a square matrix with nothing off it, else None."""
    if m.shape[0] != m.shape[1] or m.shape[0] < 2:
        return None
    d = np.diagonal(m)
    return d if np.array_equal(m, np.diag(d)) else None


def factor_hypotheses(fwd: mlp.Forward, steps: list, Es: list, reference):
    """(matrix, message) for the factor with one step mistaken or left out."""
    for k, step in enumerate(steps):
        for M, message in step_mistakes(fwd, step, Es[k], reference):
            yield chain_product(Es[:k] + [M] + Es[k + 1:]), message
    if len(steps) > 1:
        for k, (out, node) in enumerate(steps):
            rest = Es[:k] + Es[k + 1:]
            if all(a.shape[1] == b.shape[0] for a, b in zip(rest, rest[1:])):
                yield chain_product(rest), _("the step {node} → {out} is missing from this factor").format(
                    node=node, out=out)


@dataclass
class FactorContext(Compared):
    S: np.ndarray        # the student's factor, turned into the row layout
    E: np.ndarray        # the Jacobian of the step(s), row layout
    hypotheses: object   # callable -> iterable of (matrix, message)
    entry: str           # what entry (i, j) holds in the declared layout
    exact: bool = False
    float32: bool = False


FACTOR_TREE = [
    Branch("not finite", lambda c: not np.all(np.isfinite(c.S)), Outcome(0, "contains NaN or infinity")),
    Branch("agrees", agrees_as("agrees"), Outcome(1, "{report} (agrees)")),
    Branch("float32", agrees_as("float32"), Outcome(gradcheck.FLOAT32_CREDIT, FLOAT32_NOTE, "info")),
    Branch("finite differences", agrees_as("finite differences"), Outcome(0, FD_NOTE)),
    Branch("transposed", lambda c: c.S.shape[0] == c.S.shape[1] and fits(c.S.T, c.E) and {"entry": c.entry}, Outcome(
        0, "transposed: in your layout entry (i, j) is {entry}")),
    Branch("known mistake", known_mistake, Outcome(0, "{mistake}")),
    Branch("sign", lambda c: fits(-c.S, c.E), Outcome(0, "right magnitude, wrong sign")),
    Branch("scaled", scaled, Outcome(0, "off by a constant factor: {factor} times the Jacobian")),
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
        return _("a single number, where a {r}×{c} matrix belongs").format(r=r, c=c)
    if a.ndim == 1:
        if r == c == a.size:
            return _("a vector of {size} entries: a Jacobian is a matrix (np.diag puts a vector on the diagonal)").format(
                size=a.size)
        return _("a 1-D array of {size} entries: a Jacobian is a 2-D array, here {r}×{c}").format(size=a.size, r=r, c=c)
    return _("{name} is {shape} here; in the {layout} layout it is {r}×{c}").format(
        name=name, shape=gradcheck.shape_text(a.shape), layout=layout, r=r, c=c)


def stated_problem(dims, step, layout: str, name: str, all_sizes: list) -> str | None:
    """Why the stated shape (SymPy dimensions) is not the one the layout requires, or None."""
    if isinstance(dims, str):
        return dims
    if len(dims) != 2:
        return _("a Jacobian of a vector function is a matrix: give (rows, columns), not {count} sizes").format(
            count=len(dims))
    need = required_dims(step, layout)
    at = [dims_at(dims, s) for s in all_sizes]
    if all(got == dims_at(need, s) for got, s in zip(at, all_sizes)):
        return None
    if all(got == dims_at(need[::-1], s) for got, s in zip(at, all_sizes)):
        other = "column" if layout == "row" else "row"
        return _("stated {dims}: that is its shape in the {other} layout, but you declared the {layout} layout").format(
            dims=dims_text(dims), other=other, layout=layout)
    if not any(d.free_symbols for d in dims) and dims_at(dims, mlp.SIZES) == dims_at(need, mlp.SIZES):
        return _("stated in numbers ({dims}); state it in the layer sizes n0, n1, n2, n3, "
                 "so that it holds for networks of every size").format(dims=dims_text(dims))
    out, node = step
    rows, cols = (out, node) if layout == "row" else (node, out)
    return _("stated {dims}, which is not the shape of {name} in the {layout} layout: "
             "it has a row per entry of {rows} and a column per entry of {cols}").format(
        dims=dims_text(dims), name=name, layout=layout, rows=rows, cols=cols)


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
        where = _("{problem} (network {sizes})")
        sizes = size_text(fwd.sizes)
        a, why = read(name, k)
        if why:
            failed = failed or where.format(problem=why, sizes=sizes)
            continue
        why = array_problem(a, name, required_shape(step, layout, fwd), layout)
        if why:
            shape_note = shape_note or where.format(problem=why, sizes=sizes)
            continue
        steps = fwd.path(*step)
        Es = [reference(fwd, s) for s in steps]
        S = a.astype(np.float64)
        ctx = FactorContext(S if layout == "row" else S.T, reference_product(fwd, steps, Es, reference),
                            lambda fwd=fwd, steps=steps, Es=Es: factor_hypotheses(fwd, steps, Es, reference),
                            entry_text(step, layout), exact, a.dtype == np.float32)
        d = diagnose(FACTOR_TREE, ctx)
        if d.outcome.credit < 1 and d.outcome.status != "info":
            value_note = value_note or where.format(problem=d.message, sizes=sizes)
        elif d.outcome.credit < 1:
            notes.append(d.message)
        value = min(value, d.outcome.credit)
        errors.append(ctx.error)
    shape_ok = not (stated_wrong or shape_note or failed)
    value_ok = not (shape_note or value_note or failed) and bool(errors)
    if shape_ok and value_ok:
        return _factor_finding(fb, name, True, value, [
            _("{dims} as the {layout} layout requires").format(dims=dims_text(stated), layout=layout),
            _("the values match {against} on {count} networks (largest relative error {error})").format(
                against=against, count=len(fwds), error=f"{max(errors):.1e}"),
            *dict.fromkeys(notes)])
    return _factor_finding(fb, name, shape_ok, value if value_ok else 0.0,
                           [stated_wrong, shape_note, value_note, failed, *dict.fromkeys(notes)])


def reference_product(fwd: mlp.Forward, steps: list, Es: list, reference) -> np.ndarray:
    """The product of the steps' reference Jacobians Es, once per network and reference (read-only)."""
    def product():
        E = chain_product(Es)
        E.flags.writeable = False
        return E
    return fwd.once(("product", reference, tuple(steps)), product)


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
            fb.add(grad, "info", _("the product is not checked: a factor has no matrix to multiply (see above)"))
            return False
        problem = gradcheck.product_shape_problem(names, [m.shape for m in mats])
        if problem:
            fb.add(grad, "wrong", _("not computable on the network {sizes}: {problem}").format(
                sizes=size_text(fwd.sizes), problem=problem))
            return False
        low_precision = low_precision or any(m.dtype == np.float32 for m in mats)
        product = functools.reduce(np.matmul, [m.astype(np.float64) for m in mats])
        numeric = fwd.numeric_jacobian("L", target)
        errors.append(gradcheck.relative_error(product if layout == "row" else product.T, numeric)
                      if product.shape in (numeric.shape, numeric.shape[::-1]) else math.inf)
    status, text = gradcheck.report(max(errors))
    if low_precision and max(errors) <= gradcheck.FLOAT32_LIMIT:
        status, text = "ok", _("relative error {error} (agrees to float32 precision)").format(error=f"{max(errors):.1e}")
    fb.add(grad, status, _("{product} against central differences of L on {count} networks: {result}").format(
        product=" · ".join(names), count=len(fwds), result=text))
    return status == "ok"


def judge_c2(data: dict, request: dict, reference, against: str, exact: bool) -> Feedback:
    """Judge the chains; ``reference(fwd, (out, node))`` is the row-layout Jacobian of one elementary step,
    ``against`` says what it is (for the messages), ``exact`` whether it is exact or central differences."""
    fb = Feedback("c2")
    if not isinstance(data, dict):
        return fb.add("", "invalid", _("malformed answer"))
    layout = data.get("layout")
    factors, chains, cases = data.get("factors"), data.get("chains"), data.get("cases")
    if layout not in ("row", "column") or not isinstance(factors, dict) or not isinstance(chains, dict) \
            or not isinstance(cases, list):
        return fb.add("", "invalid", _("malformed answer"))
    fwds = forwards(request)
    if len(cases) != len(fwds) or not all(isinstance(c, dict) for c in cases):
        return fb.add("", "invalid", _("the answer does not cover the requested networks"))
    credit, chain_ok = 0.0, {}
    for grad, target in CHAIN_TARGETS.items():
        names = chains.get(grad)
        problem = _("missing") if not isinstance(names, list) else check_chain(names, layout, target, factors)
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

    def public_request(self):
        return _public_c2_request()

    def encode(self, answer, request):
        keys = ("layout", "factors", "grad_x", "grad_b1")
        if not isinstance(answer, dict) or set(keys) - set(answer):
            raise AnswerError(_("c2 expects a dict with the keys {keys}").format(keys=", ".join(keys)))
        if answer["layout"] not in ("row", "column"):
            raise AnswerError(_('the layout is "row" (the sheet\'s) or "column"'))
        if not isinstance(answer["factors"], dict):
            raise AnswerError(_('"factors" maps names such as "J_z1(x)" to (shape, function)'))
        chains = {}
        for grad in CHAIN_TARGETS:
            names = answer[grad]
            if not isinstance(names, (list, tuple)) or not all(isinstance(n, str) for n in names) or len(names) > 12:
                raise AnswerError(_('"{grad}" lists factor names in the order of the product, such as ["J_L(z3)", …]')
                                  .format(grad=grad))
            chains[grad] = [n[:40] for n in names]
        used = [n for n in dict.fromkeys(chains["grad_x"] + chains["grad_b1"]) if n in answer["factors"]]
        factors, functions = {}, {}
        for name in used:
            entry = answer["factors"][name]
            if not isinstance(entry, (tuple, list)) or len(entry) != 2 or not callable(entry[1]):
                factors[name] = {"shape": Unusable(_("{name}: give (shape, function)").format(name=name))}
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
                    case[name] = Unusable(_("{name}: no function given").format(name=name))
                elif bounded.hung(previous):
                    case[name] = previous
                else:
                    case[name] = run_factor(name, functions[name], fwd, limit)
            cases.append(case)
        return {"layout": answer["layout"], "factors": factors, "chains": chains, "cases": cases}

    def self_check(self, data, request):
        return judge_c2(data, request, numeric_step, _("central differences of the step"), exact=False)

    def judge(self, data, request, key, rng):
        return judge_c2(data, request, key, _("the step's exact Jacobian"), exact=True)


