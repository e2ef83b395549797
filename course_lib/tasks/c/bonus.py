"""The bonus: J_{o1}(W1) — its shape, its size in bytes, its entries as a rule entry(i, k, l, x) — and ∇_{W1} L
as a function of forward quantities.

Grading never builds the full third-order tensor: the entry rule is checked on every entry of a small one
and on sampled entries of the full-size one, ∇_{W1} L on small networks against δ1·xᵀ and on sampled
entries against central differences of L.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import sympy as sp

from ... import bounded, gradcheck, mlp
from ...diagnose import Branch, Outcome, always, diagnose, guarded
from ...errors import AnswerError, unusable
from ...feedback import Feedback
from ...i18n import _
from ...probe import all_close, rng_for
from .. import Task
from .common import (SIZE_SYMBOLS, Compared, FD_NOTE, FLOAT32_NOTE, agrees_as, dims_at, dims_text, expr_answer, fits,
                     known_mistake, n0, n1, once_for_public, read_array, read_dims, run_factor, scaled,
                     shape_answer, size_text)

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
        return True, _("{dims}: the index i of o1_i, then k and l of W1_kl").format(dims=dims_text(dims))
    if means(O1_DIMS + (sp.Mul(*W1_DIMS),)):
        return True, _("{dims}: the vectorised form, with W1 flattened; accepted").format(dims=dims_text(dims))
    if means(W1_DIMS):
        return False, _("a matrix: the index i of o1_i is lost; ∂o1_i/∂W1_kl has three indices")
    if means((sp.Integer(1),) + W1_DIMS):
        return False, _("that is the shape of ∇_{W1}L as a 1×n1×n0 array, after the contraction")
    if not any(d.free_symbols for d in dims) and dims_at(dims, mlp.SIZES) == dims_at(TENSOR_DIMS, mlp.SIZES):
        return False, _("stated in numbers ({dims}); state it in the layer sizes n0, n1").format(dims=dims_text(dims))
    if len(dims) == 3 and all(sorted(got) == sorted(dims_at(TENSOR_DIMS, s)) for got, s in zip(at, all_sizes)):
        return False, _("the right sizes in another order: list them in the order of the indices i, k, l")
    return False, _("{dims} is not the shape of J_o1(W1)").format(dims=dims_text(dims))


def bytes_problem(value: float) -> tuple[bool, str]:
    """(right, message) for the stated memory of the full-size tensor in float64."""
    entries = math.prod(dims_at(TENSOR_DIMS, mlp.SIZES))
    if value == entries * FLOAT64_BYTES:
        return True, _("{bytes} bytes ({mib} MiB) in float64").format(bytes=f"{value:,.0f}", mib=f"{value / 2**20:.0f}")
    readings = {
        math.prod(dims_at(W1_DIMS, mlp.SIZES)) * FLOAT64_BYTES:
            _("that is the size of an n1×n0 matrix; the tensor has a third index"),
        entries * 4: _("4 bytes per entry is float32; NumPy's default float64 takes 8"),
        entries: _("that counts entries, not bytes"),
        entries * FLOAT64_BYTES / 2**20: _("that is in MiB; give bytes"),
        entries * FLOAT64_BYTES / 1e6: _("that is in MB; give bytes"),
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
        if isinstance(given, dict) or not isinstance(given, list) or len(given) != len(case["triples"]):
            fb.add("entry", "invalid", (unusable(given) or _("malformed"))[:240])
            return False
        triples = np.array(case["triples"])
        n0_ = fwd.sizes[0]

        def at(move, fwd=fwd, triples=triples):
            moved = np.array([move(*t) for t in triples.tolist()])
            moved[:, 2] %= n0_  # x[-1] is NumPy's last entry, which is what a shifted index reads
            return reference.entries(fwd, moved.tolist())
        d = diagnose(ENTRY_TREE, EntryContext(np.array(given, float), reference.entries(fwd, case["triples"]), at))
        if d.outcome.credit < 1:
            fb.add("entry", "wrong", _("{message} (network {sizes}, {count} entries)").format(
                message=d.message, sizes=size_text(fwd.sizes), count=len(case["triples"])))
            return False
    fb.add("entry", "ok", _("∂o1_i/∂W1_kl at every entry of the small tensor and at sampled entries of the "
                            "full-size one"))
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


def gradient_slips(fwd: mlp.Forward, reference, delta1: np.ndarray):
    """(∇_{W1}L with one typical slip, what the slip is)."""
    x = fwd["x"]
    yield np.outer(np.full_like(delta1, delta1.sum()), x), _(
        "every row is (Σ_i δ1_i)·xᵀ: the contraction lost δ_ik, only i = k contributes")
    with np.errstate(all="ignore"):
        yield np.outer(delta1 / (1.0 - fwd["z1"] ** 2), x), _(
            "δ1 lacks the factor of the tanh step o1 → z1: δ1 is the gradient with respect to o1, not z1")
    for shifted in (fwd["y"] - 1, fwd["y"] + 1):
        if 1 <= shifted <= fwd.sizes[3]:
            yield np.outer(reference.delta1(fwd.relabel(shifted)), x), _(
                "δ1 belongs to another label: e_y has its 1 one place off (y counts from 1, NumPy indices from 0)")


GRADIENT_TREE = [
    Branch("not finite", lambda c: not np.all(np.isfinite(c.S)), Outcome(0, "contains NaN or infinity")),
    Branch("equal", agrees_as("agrees"), Outcome(1, "correct")),
    Branch("float32", agrees_as("float32"), Outcome(gradcheck.FLOAT32_CREDIT, FLOAT32_NOTE, "info")),
    Branch("finite differences", agrees_as("finite differences"), Outcome(0, FD_NOTE)),
    Branch("transposed", lambda c: fits(c.S, c.E.T), Outcome(
        0, "transposed: ∇_{W1}L has the shape of W1, so that W1 − η·∇_{W1}L is defined")),
    Branch("slip", known_mistake, Outcome(0, "{mistake}")),
    Branch("sign", lambda c: fits(c.S, -c.E), Outcome(0, "right magnitude, wrong sign")),
    Branch("scaled", scaled, Outcome(0, "off by a constant factor: {factor} times ∇_{W1}L")),
    Branch("other", lambda c: {"report": gradcheck.report(c.error)[1]}, Outcome(0, "not ∇_{W1}L: {report}")),
]


def gradient_shape_problem(G: np.ndarray, shape: tuple) -> str | None:
    if G.shape == shape:
        return None
    if G.ndim == 0:
        return _("a single number: ∇_{W1}L has one entry per weight")
    if G.shape == shape[::-1]:
        return _("{given}: transposed, ∇_{{W1}}L has the shape of W1 ({shape})").format(
            given=gradcheck.shape_text(G.shape), shape=gradcheck.shape_text(shape))
    return _("{given} where the shape of W1, {shape}, belongs").format(
        given=gradcheck.shape_text(G.shape), shape=gradcheck.shape_text(shape))


def judge_gradients(fb: Feedback, cases, fwds: list, reference, rng) -> float:
    """The share of the gradient's credit: 1, FLOAT32_CREDIT for float32, or 0."""
    worst, share, notes = 0.0, 1.0, []
    for fwd, given in zip(fwds, cases):
        where = _("{problem} (network {sizes})")
        sizes = size_text(fwd.sizes)
        G, why = read_array(given)
        if why:
            fb.add("grad_W1", "invalid", why)
            return 0.0
        if G.shape == (1, *fwd["W1"].shape):  # the Jacobian convention's 1×n1×n0, read as n1×n0
            G = G[0]
        problem = gradient_shape_problem(G, fwd["W1"].shape)
        if problem:
            fb.add("grad_W1", "wrong", where.format(problem=problem, sizes=sizes))
            return 0.0
        delta1 = reference.delta1(fwd)
        d = diagnose(GRADIENT_TREE, GradientContext(
            G.astype(np.float64), np.outer(delta1, fwd["x"]), delta1, fwd["x"],
            lambda fwd=fwd, delta1=delta1: gradient_slips(fwd, reference, delta1), reference.exact,
            G.dtype == np.float32))
        if d.outcome.credit < 1 and d.outcome.status != "info":
            fb.add("grad_W1", "wrong", where.format(problem=d.message, sizes=sizes))
            return 0.0
        share = min(share, d.outcome.credit)
        notes.append(d.message)
        picks = [(int(rng.integers(0, G.shape[0])), int(rng.integers(0, G.shape[1]))) for _ in range(GRADIENT_PROBES)]
        numeric = numeric_weight_gradient(fwd, picks)
        worst = max(worst, gradcheck.relative_error(np.array([G[p] for p in picks], dtype=float), numeric))
    status, text = gradcheck.report(worst)
    if share < 1 and worst <= gradcheck.FLOAT32_LIMIT:
        status, text = "info", _("relative error {error}").format(error=f"{worst:.1e}")
    note = "".join(f"; {n}" for n in dict.fromkeys(notes) if n != _("correct"))
    fb.add("grad_W1", status, _("equals δ1·xᵀ on {count} networks; {probes} sampled entries per network against "
                                "central differences of L: {result}").format(
        count=len(cases), probes=GRADIENT_PROBES, result=text) + note)
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
        return fb.add("", "invalid", _("malformed answer"))
    fwds = bonus_forwards(request)
    all_sizes = [mlp.SIZES] + [fwd.sizes for fwd in fwds["gradients"]]
    credit = WEIGHTS_BONUS["shape"] * guarded(fb, "shape", False, judge_tensor_shape, fb, data.get("shape"), all_sizes)
    credit += WEIGHTS_BONUS["bytes"] * guarded(fb, "bytes", False, judge_bytes, fb, data.get("bytes"))
    entries, gradients = data.get("entries"), data.get("gradients")
    if not isinstance(entries, list) or not isinstance(gradients, list) \
            or len(entries) != len(request["entries"]) or len(gradients) != len(request["gradients"]):
        fb.credit = round(credit, 6)
        return fb.add("", "invalid", _("the answer does not cover the requested networks"))
    credit += WEIGHTS_BONUS["entries"] * guarded(fb, "entry", False, judge_entries, fb, entries, request,
                                                 fwds["entries"], reference)
    credit += WEIGHTS_BONUS["gradient"] * guarded(fb, "grad_W1", 0.0, judge_gradients, fb, gradients,
                                                  fwds["gradients"], reference, rng)
    fb.credit = round(credit, 6)
    return fb


def entry_values(entry, fwd: mlp.Forward, triples):
    """entry(i, k, l, x) at every triple, bounded as one call: a list of floats, or an Unusable."""
    x = fwd["x"]

    def run():
        out = []
        for i, k, l in triples:
            v = entry(i, k, l, x.copy())
            if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.number, np.ndarray)) \
                    or np.size(v) != 1:
                raise AnswerError(_("entry({i}, {k}, {l}, x) returned a {kind}; it returns one number").format(
                    i=i, k=k, l=l, kind=type(v).__name__))
            value = float(np.asarray(v).ravel()[0])
            if not math.isfinite(value):
                raise AnswerError(_("entry({i}, {k}, {l}, x) is {value}").format(i=i, k=k, l=l, value=value))
            out.append(value)
        return out

    return bounded.call(run).or_unusable("entry")


class CBonus(Task):
    id = "c_bonus"
    KEYS = ("shape", "bytes", "entry", "grad_W1")

    def public_request(self):
        return _public_bonus_request()

    def encode(self, answer, request):
        if not isinstance(answer, dict) or set(self.KEYS) - set(answer):
            raise AnswerError(_("the bonus expects a dict with the keys {keys}").format(keys=", ".join(self.KEYS)))
        if not callable(answer["entry"]) or not callable(answer["grad_W1"]):
            raise AnswerError(_('"entry" and "grad_W1" are functions'))

        out = {"shape": shape_answer(answer["shape"], "shape"), "bytes": expr_answer(answer["bytes"], "bytes")}
        out["entries"], out["gradients"] = [], []
        fwds = bonus_forwards(request)
        for case, fwd in zip(request["entries"], fwds["entries"]):
            previous = out["entries"][-1] if out["entries"] else None
            out["entries"].append(previous if bounded.hung(previous) else entry_values(answer["entry"], fwd, case["triples"]))
        for fwd in fwds["gradients"]:
            previous = out["gradients"][-1] if out["gradients"] else None
            out["gradients"].append(previous if bounded.hung(previous) else
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
    return {"entries": [mlp.Forward(mlp.network_from(c["network"])) for c in request["entries"]],
            "gradients": [mlp.Forward(mlp.network_from(n)) for n in request["gradients"]]}


def bonus_request(rng, entry_sizes, gradient_sizes) -> dict:
    """Every entry of a small J_{o1}(W1), sampled entries of the full-size one, ∇_{W1} L on small networks.

    The full-size network is asked only for single entries: nothing builds the 392 MiB tensor.
    """
    small = mlp.drawn(entry_sizes, rng)
    full = mlp.drawn(mlp.SIZES, rng)
    return {
        "entries": [{"network": small, "triples": all_triples(mlp.Forward(mlp.network_from(small)))},
                    {"network": full,
                     "triples": sampled_triples(mlp.Forward(mlp.network_from(full)), rng, SAMPLED_ENTRIES)}],
        "gradients": [mlp.drawn(s, rng) for s in gradient_sizes],
    }

