r"""Task (a): the activation function and the vanishing gradient.

The chain: h_0 = x, a_k = w_k h_{k-1}, h_k = σ(a_k) for k = 1..n; h_n is the output.

a1  A function ``dh_dw(n, i)`` returning ∂h_n/∂w_i as a SymPy expression in the
    symbols ``x, w[1..n]``, the undefined function ``sigma`` and ``dsigma`` for σ'
    (``h(k)`` builds h_k). Checked for every requested (n, i) at random points with
    σ replaced by the sigmoid, tanh and sin (σ' by their derivatives), then
    confirmed symbolically.
a2  A dict with the sigmoid's largest slope, the bound on |∂h_n/∂w_i| as an
    expression in ``n`` and ``i`` (i ≥ 2, |w_k| < 1), whether the i = 1 bound carries
    |x|, whether the bound is attained for i < n, the ReLU supremum as an expression
    in ``x``, and whether that supremum depends on the depth.

The self-checks derive what they compare with from the chain itself, as numbers: a1
from forward-mode differentiation of the chain with concrete activations (``slopes``),
a2 from sampled networks. Neither holds an answer, and nothing here returns one.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import sympy as sp

from .. import bounded
from .. import expr_json as ej
from ..diagnose import Branch, Outcome, always, diagnose, guarded
from ..errors import AnswerError, Unusable, unusable
from ..feedback import Feedback
from ..i18n import N_, _
from ..probe import all_close, rng_for, signed_uniform, symbolically_equal
from . import Task

N_MAX = 10

# ------------------------------------------------------------------ the symbols students use
x = sp.Symbol("x")
n, i = sp.symbols("n i")
sigma = sp.Function("sigma")
dsigma = sp.Function("dsigma")


class _Weights:
    """w[1] .. w[N_MAX]; w[0] is an error because layers are numbered from 1."""

    def __init__(self):
        self._w = [sp.Symbol(f"w{k}") for k in range(N_MAX + 1)]

    def __getitem__(self, k):
        if not isinstance(k, (int, np.integer)) or not 1 <= k <= N_MAX:
            raise IndexError(_("w[{k}] does not exist: the weights are w[1] .. w[{last}]").format(k=repr(k), last=N_MAX))
        return self._w[k]

    def __repr__(self):
        return f"w[1..{N_MAX}]"


w = _Weights()


def h(k: int) -> sp.Expr:
    """h_k of the chain: h(0) = x, h(k) = sigma(w[k] * h(k - 1))."""
    if not isinstance(k, (int, np.integer)) or k < 0:
        raise IndexError(_("h({k}) does not exist: h(0) = x, h(1), h(2), ...").format(k=repr(k)))
    out = x
    for j in range(1, k + 1):
        out = sigma(w[j] * out)
    return out


def symbols_for(n_: int) -> dict[str, sp.Symbol]:
    return {"x": x, **{f"w{k}": w[k] for k in range(1, n_ + 1)}}


FUNCTIONS = {"sigma": sigma, "dsigma": dsigma}


# ------------------------------------------------------------------ activations for probing
def _sigmoid(a):
    return 0.5 * (1.0 + np.tanh(0.5 * a))  # overflow-free form of 1/(1+e^-a)


ACTIVATIONS = {
    "sigmoid": (_sigmoid, lambda a: _sigmoid(a) * (1.0 - _sigmoid(a))),
    "tanh": (np.tanh, lambda a: 1.0 - np.tanh(a) ** 2),
    "sin": (np.sin, np.cos),
}


@dataclass
class Chain:
    """Forward quantities of the chain at probe points, for one activation."""
    x: np.ndarray
    w: list          # w[k], k = 1..n (w[0] unused)
    h: list          # h[k], k = 0..n
    a: list          # a[k] = w[k] h[k-1], k = 1..n (a[0] unused)
    ds: list         # σ'(a[k])

    @classmethod
    def forward(cls, x_, ws, act) -> "Chain":
        f, df = ACTIVATIONS[act]
        hs, as_, ds = [x_], [None], [None]
        for k in range(1, len(ws)):
            as_.append(ws[k] * hs[-1])
            hs.append(f(as_[-1]))
            ds.append(df(as_[-1]))
        return cls(x_, ws, hs, as_, ds)

    def env(self) -> dict:
        return {"x": self.x, **{f"w{k}": self.w[k] for k in range(1, len(self.w))}}


def probe_chains(n_: int, rng, points: int = 16) -> dict[str, Chain]:
    """Random probe points, shared by all activations: x and w_k with |·| in [0.3, 1.6]."""
    x_ = signed_uniform(rng, 0.3, 2.0, points)
    ws = [None] + [signed_uniform(rng, 0.3, 1.6, points) for _ in range(n_)]
    return {act: Chain.forward(x_, ws, act) for act in ACTIVATIONS}


# ------------------------------------------------------------------ a1
def _ratio_const(ctx, value=None):
    """S/E is one constant over all probes (that constant, or ``value`` if given).

    Only a constant found here is named ({factor}): the branches that give one (1, −1) never show it, and
    nsimplify costs a millisecond a case."""
    r = np.concatenate([ctx.S[a] / ctx.E[a] for a in ctx.S])
    if not np.all(np.isfinite(r)):
        return False
    c = np.median(r) if value is None else value
    return bool(all_close(r, c, rtol=1e-6)) and (value is not None or {"factor": _fmt(c)})


def _fmt(c: float) -> str:
    frac = sp.nsimplify(c, tolerance=1e-9, rational=True)
    return str(frac) if frac.q <= 1000 else f"{c:.4g}"


def _hname(k: int) -> str:
    return "x" if k == 0 else f"h_{k}"


def _missing(ctx, values) -> bool:
    """The answer times the factor equals the reference: that factor is missing."""
    return all(all_close(ctx.S[a] * values[a], ctx.E[a], rtol=1e-6) for a in ctx.S)


def _extra(ctx, values) -> bool:
    return all(all_close(ctx.S[a], ctx.E[a] * values[a], rtol=1e-6) for a in ctx.S)


def _first_k(ctx, ks, test, field_values) -> dict | bool:
    for k in ks:
        if test(ctx, {a: field_values(c, k) for a, c in ctx.chains.items()}):
            return {"k": k, "hk": _hname(k - 1)}
    return False


def _not_finite(ctx):
    return any(not np.all(np.isfinite(ctx.S[a])) for a in ctx.S)


IDENTITIES = {  # an activation's derivative written through the activation itself
    "sigmoid": "the sigmoid: σ(1 − σ) is its derivative",
    "tanh": "tanh: 1 − σ² is its derivative",
    "sin": "sin: cos is its derivative",
}


def _one_activation_only(ctx):
    """Right for exactly one of the probing activations: σ' was written as that activation's derivative."""
    right = [a for a in ctx.S if all_close(ctx.S[a], ctx.E[a])]
    return len(right) == 1 and {"identity": IDENTITIES[right[0]]}


def _replaced(data, targets: set, name: str):
    """A copy of expression data with the call nodes in ``targets`` (by id) calling ``name`` instead."""
    if not isinstance(data, list) or not data:
        return data
    if data[0] == "call":
        return ["call", name if id(data) in targets else data[1], _replaced(data[2], targets, name)]
    if data[0] in ("add", "mul", "pow"):
        return [data[0], *(_replaced(a, targets, name) for a in data[1:])]
    return data


def _sigma_for_dsigma(ctx):
    """Writing σ(...) where σ'(...) belongs explains the answer: the σ factors of the product, or one σ call."""
    calls = [node for node in ej.walk(ctx.data) if node[0] == "call" and node[1] == "sigma"]
    top = [a for a in ctx.data[1:] if a[0] == "call" and a[1] == "sigma"] if ctx.data[0] == "mul" else []
    # all σ factors of the product, all but one of them (one may be h_(i−1) = σ(…)), or a single σ call
    candidates = [top] + [top[:k] + top[k + 1:] for k in range(len(top))] if top else []
    for chosen in candidates + [[c] for c in calls[:40]]:
        data = _replaced(ctx.data, {id(c) for c in chosen}, "dsigma")
        if all(all_close(ej.evaluate(data, c.env(), ctx.numeric_functions[a]), ctx.E[a])
               for a, c in ctx.chains.items()):
            return True
    return False


def _sigmoid_slope_one_layer_early(ctx):
    """For the sigmoid: h_(k−1)(1 − h_(k−1)) in place of σ'(a_k) = h_k(1 − h_k), for every k = i..n."""
    c, i_, n_ = ctx.chains["sigmoid"], ctx.i, ctx.n
    early = c.h[i_ - 1] * np.prod([c.h[k - 1] * (1 - c.h[k - 1]) for k in range(i_, n_ + 1)], axis=0) * \
        np.prod([c.w[k] for k in range(i_ + 1, n_ + 1)] or [np.ones_like(c.x)], axis=0)
    return all_close(ctx.S["sigmoid"], early, rtol=1e-6)


def _weights_shifted(ctx):
    """The weights w_i … w_(n−1) in place of w_(i+1) … w_n: S · w_n = E · w_i."""
    return ctx.i < ctx.n and all(all_close(ctx.S[a] * c.w[ctx.n], ctx.E[a] * c.w[ctx.i], rtol=1e-6)
                                 for a, c in ctx.chains.items())


def _wrong_argument(ctx):
    """Some dsigma(...) is evaluated at something other than a pre-activation w_k h_{k-1}."""
    for node in ej.walk(ctx.data):
        if node[0] != "call" or node[1] != "dsigma":
            continue
        vals = {a: ej.evaluate(node[2], c.env(), ctx.numeric_functions[a]) for a, c in ctx.chains.items()}
        if any(all(all_close(vals[a], c.a[k]) for a, c in ctx.chains.items()) for k in range(1, ctx.n + 1)):
            continue
        shifted = [(_("w_{j}·{h} (the weight index shifted by one: layer {k} multiplies by w_{k})").format(
                        j=j, h=_hname(k - 1), k=k), lambda c, j=j, k=k: c.w[j] * c.h[k - 1])
                   for k in range(1, ctx.n + 1) for j in (k - 1, k + 1) if 1 <= j <= ctx.n]
        shifted += [(_("w_{k}·{h} (the index of h shifted by one: layer {k} takes {input} as its input)").format(
                         k=k, h=_hname(j), input=_hname(k - 1)), lambda c, j=j, k=k: c.w[k] * c.h[j])
                    for k in range(1, ctx.n + 1) for j in (k - 2, k) if 0 <= j <= ctx.n]
        names = shifted + [(f"w_{k}", lambda c, k=k: c.w[k]) for k in range(1, ctx.n + 1)]
        names += [(_hname(k), lambda c, k=k: c.h[k]) for k in range(0, ctx.n + 1)]
        for label, get in names:
            if all(all_close(vals[a], get(c)) for a, c in ctx.chains.items()):
                return {"arg": label}
        return {"arg": _("an expression that is no pre-activation")}
    return False


def _layer_factor(ch, k):
    return ch.w[k] * ch.ds[k]


def _is_zero(ctx):
    return all(np.all(ctx.S[a] == 0) for a in ctx.S)


def _is_sum(ctx):
    return ctx.data[0] == "add"


A1_TREE = [
    Branch("not finite", _not_finite, Outcome(
        0, "evaluates to NaN or infinity at some probe points (a division by zero, or log of a negative?)")),
    Branch("equivalent", lambda c: _ratio_const(c, 1.0), Outcome(1, "correct")),
    Branch("one activation only", _one_activation_only, Outcome(
        0, "right only when σ is {identity}; a1 is for any σ, so write σ' as dsigma(...)")),
    Branch("sign", lambda c: _ratio_const(c, -1.0), Outcome(0, "sign error: right magnitude, wrong sign")),
    Branch("sigmoid slope one layer early", _sigmoid_slope_one_layer_early, Outcome(
        0, "σ(1 − σ) is taken of the layer's input h_(k−1): the sigmoid's slope in layer k is σ'(w_k·h_(k−1)), "
           "which is h_k(1 − h_k); and a1 is for any σ, so write σ' as dsigma(...)")),
    Branch("σ for σ'", _sigma_for_dsigma, Outcome(
        0, "σ(...) stands where the slope σ'(...) belongs: the chain rule multiplies the derivative of each layer "
           "from i to n, written dsigma(...), not the layer's value")),
    Branch("σ' argument", _wrong_argument, Outcome(
        0, "σ' is evaluated at {arg}; the chain rule evaluates σ' at the pre-activation w_k·h_(k−1)")),
    Branch("h_{i-1} missing", lambda c: _missing(c, {a: ch.h[c.i - 1] for a, ch in c.chains.items()})
           and {"hk": _hname(c.i - 1)}, Outcome(
        0, "missing the factor {hk}: the derivative of w_i·h_(i−1) with respect to w_i is h_(i−1)")),
    Branch("w_i included", lambda c: _extra(c, {a: ch.w[c.i] for a, ch in c.chains.items()}), Outcome(
        0, "the product contains w_i; w_i appears only inside layer i, the weights come from the later layers")),
    Branch("weights shifted", _weights_shifted, Outcome(
        0, "the weight indices are shifted by one: the product has w_i … w_(n−1); the step from layer k back to "
           "layer k−1 multiplies by the weight of layer k itself")),
    Branch("weight missing", lambda c: _first_k(c, range(c.i + 1, c.n + 1), _missing, lambda ch, k: ch.w[k]), Outcome(
        0, "missing the factor w_{k}: the step from layer {k} back to layer {k}−1 contributes σ'(w_{k}·{hk})·w_{k}")),
    Branch("σ' too few", lambda c: _first_k(c, range(c.i, c.n + 1), _missing, lambda ch, k: ch.ds[k]), Outcome(
        0, "one σ' factor too few: σ'(w_{k}·{hk}) is missing; every layer from i to n contributes one")),
    Branch("σ' too many", lambda c: _first_k(c, range(1, c.n + 1), _extra, lambda ch, k: ch.ds[k]), Outcome(
        0, "one σ' factor too many: σ'(w_{k}·{hk}) does not belong (count the layers the path from w_i to h_n passes)")),
    Branch("layer skipped", lambda c: _first_k(c, range(c.i + 1, c.n + 1), _missing, _layer_factor), Outcome(
        0, "the product skips layer {k}: its factor σ'(w_{k}·{hk})·w_{k} is missing (check the range of k)")),
    Branch("layer too many", lambda c: _first_k(c, range(1, c.i + 1), _extra, _layer_factor), Outcome(
        0, "the product has a factor σ'(w_{k}·{hk})·w_{k} for layer {k}, which does not lie between w_i and h_n")),
    Branch("zero", _is_zero, Outcome(
        0, "is 0, yet w_i changes h_n (for i = n the product over k = i+1..n is empty, and an empty product is 1)")),
    Branch("constant factor", _ratio_const, Outcome(0, "off by a constant factor: {factor} times the correct value")),
    Branch("sum", _is_sum, Outcome(
        0, "a sum where a product belongs: w_i reaches h_n along one path only, so the chain rule gives one product")),
    Branch("other", always, Outcome(
        0, "not equal to ∂h_n/∂w_i at the probe points (σ replaced by sigmoid, tanh and sin)")),
]


WEIGHT_BEYOND_N = N_("uses w_(n+1), which the chain does not have: is a weight index shifted by one? Layer k multiplies by w_k")


@dataclass
class A1Context:
    n: int
    i: int
    data: list
    chains: dict
    S: dict                  # student's values per activation
    E: dict                  # reference values per activation
    numeric_functions: dict  # per activation: {"sigma": f, "dsigma": f'}


class A1(Task):
    id = "a1"
    PUBLIC_CASES = [(1, 1), (2, 1), (2, 2), (3, 1), (3, 2), (3, 3), (4, 2)]

    def public_request(self):
        return {"cases": self.PUBLIC_CASES}

    def encode(self, answer, request):
        if isinstance(answer, sp.Basic):
            raise AnswerError(_("a1 expects a function dh_dw(n, i) that returns an expression, not one expression"))
        if not callable(answer):
            raise AnswerError(_("a1 expects a function dh_dw(n, i), got a {kind}").format(kind=type(answer).__name__))
        out = []
        for n_, i_ in request["cases"]:
            result = _call_encoded(answer, n_, i_)
            out.append([n_, i_, result])
            if bounded.hung(result):
                break  # one hang is enough: the other cases would hang as well
        return {"cases": out}

    def self_check(self, data, request):
        return judge_a1(data, request, None, rng_for("public", "a1"), symbolic_seconds=0)

    def judge(self, data, request, key, rng):
        return judge_a1(data, request, key, rng, symbolic_seconds=2.0)


CALL_SECONDS = 3.0


def _call_encoded(fn, n_, i_):
    """The student's function for one case, bounded; its expression as data, or an Unusable.

    Messages leave out n and i so that a mistake repeated over all cases is reported once.
    """
    return bounded.call(lambda: ej.to_data(fn(n_, i_)), CALL_SECONDS).or_unusable("dh_dw")


def judge_a1(data, request, reference, rng, symbolic_seconds: float) -> Feedback:
    """Judge every requested case; credit is the share of cases that are correct.

    ``reference(n, i)`` gives the expected SymPy expression (the key), which also confirms a correct
    answer symbolically; without it (the self-check) the expected values come from ``slopes``.
    """
    fb = Feedback("a1")
    given = {}
    entries = data.get("cases") if isinstance(data, dict) else None
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, list) and len(entry) == 3 and all(isinstance(v, int) for v in entry[:2]):
            given[(entry[0], entry[1])] = entry[2]
    cases = [tuple(c) for c in request["cases"]]
    outcomes: dict[str, list] = {}
    correct = confirmed = 0
    budget = bounded.Budget(symbolic_seconds * 3, per_call=symbolic_seconds)
    for n_, i_ in cases:
        label = _("n={n}, i={i}").format(n=n_, i=i_)
        answer = given.get((n_, i_))
        if answer is None:
            outcomes.setdefault(("invalid", _("no answer handed in for this case")), []).append(label)
            continue
        if isinstance(answer, dict):
            outcomes.setdefault(("invalid", (unusable(answer) or _("malformed answer"))[:240]), []).append(label)
            continue
        try:
            ej.validate(answer, set(symbols_for(n_)), set(FUNCTIONS))
        except ej.ExpressionError as e:
            if _uses_weight_beyond(answer, n_):
                outcomes.setdefault(("wrong", _(WEIGHT_BEYOND_N)), []).append(label)
            else:
                outcomes.setdefault(("invalid", str(e)), []).append(label)
            continue
        ref = reference(n_, i_) if reference else None
        try:
            diag = _diagnose_case(n_, i_, answer, ref, rng)
        except Exception as e:  # noqa: BLE001 — one case that cannot be checked costs that case only
            outcomes.setdefault(("invalid", _("this case could not be checked ({error})").format(
                error=type(e).__name__)), []).append(label)
            continue
        if diag.outcome.credit >= 1:
            correct += 1
            if ref is not None:
                student = ej.from_data(answer, symbols_for(n_), FUNCTIONS)
                confirmed += bool(symbolically_equal(student, ref, budget.left()))
        else:
            outcomes.setdefault((diag.outcome.status, diag.message), []).append(label)
    for (status, message), labels in outcomes.items():
        fb.add(_("all {count} cases").format(count=len(cases)) if len(labels) == len(cases) else "; ".join(labels),
               status, message)
    fb.credit = correct / len(cases) if cases else 0.0
    if correct:
        said = _("{correct} of {total} cases equal ∂h_n/∂w_i at random points with σ = sigmoid, tanh, sin, "
                 "{confirmed} of them confirmed symbolically") if confirmed else \
            _("{correct} of {total} cases equal ∂h_n/∂w_i at random points with σ = sigmoid, tanh, sin")
        fb.add("", "ok" if correct == len(cases) else "info",
               said.format(correct=correct, total=len(cases), confirmed=confirmed))
    return fb


def _uses_weight_beyond(answer, n_: int) -> bool:
    """The answer is valid once w_(n+1) is allowed: it names the weight of a layer the chain does not have."""
    try:
        ej.validate(answer, set(symbols_for(n_)) | {f"w{n_ + 1}"}, set(FUNCTIONS))
    except ej.ExpressionError:
        return False
    return True


def _diagnose_case(n_, i_, answer, ref, rng):
    """``ref`` is the key's expression, or None: then the chain's own slopes are the expected values."""
    chains = probe_chains(n_, rng)
    fns = {a: {"sigma": ACTIVATIONS[a][0], "dsigma": ACTIVATIONS[a][1]} for a in ACTIVATIONS}
    S = {a: np.broadcast_to(ej.evaluate(answer, c.env(), fns[a]), c.x.shape) for a, c in chains.items()}
    if ref is None:
        E = {a: slopes(a, c.x, c.w)[i_ - 1] for a, c in chains.items()}
    else:
        ref_data = reference_data(ref)
        E = {a: np.broadcast_to(ej.evaluate(ref_data, c.env(), fns[a]), c.x.shape) for a, c in chains.items()}
    return diagnose(A1_TREE, A1Context(n_, i_, answer, chains, S, E, fns))


@functools.lru_cache(maxsize=64)
def reference_data(ref: sp.Expr) -> list:
    """The key's expression of one case as data (read-only): encoded once per grading process, as every
    student is asked the same cases (the judges' warm-up, autograde/judge.py, encodes them all)."""
    return ej.to_data(ref)


# ------------------------------------------------------------------ a2
A2_FIELDS = {
    # name: (kind, weight in a2's autograded credit)
    "max_dsigmoid": ("number", 0.2),
    "sigmoid_bound": ("expr_ni", 0.3),
    "i1_bound_has_abs_x": ("bool", 0.1),
    "bound_attained_for_i_lt_n": ("bool", 0.1),
    "relu_sup": ("expr_x", 0.2),
    "relu_sup_depends_on_depth": ("bool", 0.1),
}
A2_SYMBOLS = {"number": {}, "expr_ni": {"n": n, "i": i}, "expr_x": {"x": x}}
BOUND_CASES = [(n_, i_) for n_ in range(2, 11) for i_ in range(2, n_ + 1)]


@dataclass
class FieldContext:
    S: np.ndarray       # student's values
    E: np.ndarray       # expected values (same points)
    points: dict        # the probe points (n, i or x arrays)
    max_slope: str = "" # the student's max_dsigmoid where it is right, to name it (never the key's value)


def _eq(c, f=lambda E, p: E):
    return all_close(c.S, f(c.E, c.points), rtol=1e-9)


MAX_DSIGMOID_TREE = [
    Branch("equal", _eq, Outcome(1, "correct")),
    Branch("sigma(0)", lambda c: _eq(c, lambda E, p: 2 * E), Outcome(
        0, "that is σ(0), the sigmoid's value at 0, not its largest slope")),
    Branch("tanh", lambda c: _eq(c, lambda E, p: 4 * E), Outcome(0, "that is the largest slope of tanh, not of the sigmoid")),
    Branch("other", always, Outcome(0, "not the largest value of σ'(a) = σ(a)(1 − σ(a))")),
]
SIGMOID_BOUND_TREE = [
    Branch("equal", _eq, Outcome(1, "correct")),
    Branch("violated", lambda c: bound_violation(c.S, c.points), [
        Branch("one factor too many", lambda c: _eq(c, lambda E, p: E / 4), Outcome(
            0, "violated: {where} — one factor of max σ' too many: count the σ' factors of the chain from layer i to n")),
        Branch("below the samples", always, Outcome(0, "violated: {where}, so it is no upper bound")),
    ]),
    Branch("exponent n-i", lambda c: _eq(c, lambda E, p: 4 * E), Outcome(
        0, "one factor of max σ' too few: layer i contributes σ'(w_i·h_(i−1)) as well")),
    Branch("per-layer 1/2", lambda c: _eq(c, lambda E, p: np.sqrt(E)) or _eq(c, lambda E, p: 2 * np.sqrt(E)), Outcome(
        0, "the factor per layer is not the largest slope of the sigmoid (1/2 is σ(0))")),
    Branch("bound 1", lambda c: _eq(c, lambda E, p: np.ones_like(E)) and {
        "max": _("max σ' = {value}, as your max_dsigmoid says").format(value=c.max_slope) if c.max_slope
        else _("max σ' (your max_dsigmoid)")},
        Outcome(0, "1 bounds each σ' factor by 1, but the sigmoid's slope never exceeds {max}: bound every σ' "
                   "factor of the chain by that")),
    Branch("not n-i", lambda c: not _depends_on_distance_only(c), Outcome(
        0, "the bound should depend on n and i only through the number of layers between them, n − i")),
    Branch("no decay", lambda c: np.ptp(c.S) < 1e-12, Outcome(0, "the bound does not shrink with depth")),
    Branch("other", always, Outcome(0, "not the bound that follows from σ' ≤ max σ', |w_k| < 1 and 0 < h_(i−1) < 1")),
]
RELU_SUP_TREE = [
    Branch("equal", _eq, Outcome(1, "correct")),
    Branch("no x", lambda c: np.ptp(c.S) < 1e-12 and relu_violation(c.S, c.points), Outcome(
        0, "violated: {where}; the slope grows with the input: h_(i−1) carries x through the active layers")),
    Branch("no x, large", lambda c: np.ptp(c.S) < 1e-12, Outcome(
        0, "a constant: the slope grows with the input without bound, h_(i−1) carries x through the active layers")),
    Branch("x not |x|", lambda c: _eq(c, lambda E, p: p["x"]), Outcome(
        0, "negative for x < 0; a supremum of |∂h_n/∂w_i| cannot be negative")),
    Branch("other power", lambda c: _power_of_abs_x(c), Outcome(
        0, "grows like |x|^{power}, but on an active path h_(i−1) is x times weights: the slope grows linearly "
           "in |x|")),
    Branch("violated", lambda c: relu_violation(c.S, c.points), Outcome(0, "violated: {where}")),
    Branch("other", always, Outcome(0, "not the supremum of |∂h_n/∂w_i| for ReLU with |w_k| < 1")),
]
BOOL_MESSAGES = {
    "i1_bound_has_abs_x": N_("for i = 1 the factor h_0 = x is unbounded, so the bound for w_1 carries |x|"),
    "bound_attained_for_i_lt_n": N_("σ' takes its largest value only at w_k·h_(k−1) = 0, which for i < n forces "
                                    "w_(i+1) = 0 and a zero gradient: the bound is not attained"),
    "relu_sup_depends_on_depth": N_("on an active path each ReLU layer contributes σ' = 1, so the activation adds no "
                                    "factor that shrinks with depth"),
}
FIELD_TREES = {"number": MAX_DSIGMOID_TREE, "expr_ni": SIGMOID_BOUND_TREE, "expr_x": RELU_SUP_TREE}


def _power_of_abs_x(c) -> dict | bool:
    """S = a·|x|^p with p ≠ 1 (a > 0): the power as a short number."""
    ax = np.abs(c.points["x"])
    if np.any(c.S <= 0) or np.ptp(ax) == 0:
        return False
    p, log_a = np.polyfit(np.log(ax), np.log(c.S), 1)
    fits = all_close(c.S, np.exp(log_a) * ax ** p, rtol=1e-6)
    return fits and abs(p - 1) > 1e-6 and abs(p) > 1e-6 and {"power": _fmt(p)}


def _depends_on_distance_only(c) -> bool:
    d = c.points["n"] - c.points["i"]
    return all(np.ptp(c.S[d == v]) <= 1e-9 * max(1.0, np.abs(c.S[d == v]).max()) for v in np.unique(d))


def _field_points(kind: str, rng) -> dict:
    if kind == "expr_ni":
        ns, is_ = np.array(BOUND_CASES, dtype=float).T
        return {"n": ns, "i": is_}
    if kind == "expr_x":
        return {"x": signed_uniform(rng, 0.1, 20.0, 40)}
    return {}


class A2(Task):
    id = "a2"

    def encode(self, answer, request):
        if not isinstance(answer, dict):
            raise AnswerError(_("a2 expects a dict with the keys {keys}; got a {kind}").format(
                keys=", ".join(A2_FIELDS), kind=type(answer).__name__))
        out = {}
        for name, (kind, _weight) in A2_FIELDS.items():
            if name not in answer:
                out[name] = Unusable(_("missing"))
            elif kind == "bool":
                v = answer[name]
                out[name] = bool(v) if isinstance(v, (bool, np.bool_)) else Unusable(_("must be True or False"))
            else:
                try:
                    out[name] = ej.to_data(answer[name])
                except ej.ExpressionError as e:
                    out[name] = Unusable(str(e))
        unknown = sorted(set(answer) - set(A2_FIELDS), key=str)
        if unknown:
            out["_unknown"] = [str(k)[:40] for k in unknown[:5]]
        return out

    def self_check(self, data, request):
        return _judge_a2(data, _sampled_expectations(), rng_for("public", "a2"), self_check=True)

    def judge(self, data, request, key, rng):
        return _judge_a2(data, key, rng, self_check=False)


def _judge_a2(data, expected, rng, self_check: bool) -> Feedback:
    """``expected`` maps each field to its value (bool) or a function of the probe points."""
    fb = Feedback("a2")
    if not isinstance(data, dict):
        return fb.add("", "invalid", _("malformed answer"))
    for name in data.get("_unknown", []):
        fb.add(str(name), "info", _("unknown key, ignored"))
    credit = 0.0
    max_slope = "" if self_check else guarded(fb, "max_dsigmoid", "", _right_max_slope, data.get("max_dsigmoid"),
                                              expected)
    for name, (kind, weight) in A2_FIELDS.items():
        judged = guarded(fb, name, None, _judge_field, name, kind, data.get(name), expected, rng, self_check,
                         max_slope)
        if judged:
            status, message, share = judged
            credit += weight * share
            fb.add(name, status, message)
    fb.credit = round(credit, 6)
    return fb


def _right_max_slope(value, expected) -> str:
    """The student's max_dsigmoid as written, if it is right; else ""."""
    try:
        ej.validate(value, set(), set())
    except ej.ExpressionError:
        return ""
    given = float(ej.evaluate(value, {}))
    return _fmt(given) if all_close(given, expected["max_dsigmoid"]({}), rtol=1e-9) else ""


def _judge_field(name, kind, value, expected, rng, self_check: bool, max_slope: str = "") -> tuple[str, str, float]:
    """(status, message, share of the field's weight) for one field of a2."""
    if isinstance(value, dict) or value is None:
        return "invalid", (unusable(value) or _("missing"))[:240], 0.0
    if kind == "bool":
        if not isinstance(value, bool):
            return "invalid", _("must be True or False"), 0.0
        if self_check:
            return "info", _("recorded; judged when graded"), 0.0
        return ("ok", _("correct"), 1.0) if value == expected[name] else ("wrong", _(BOOL_MESSAGES[name]), 0.0)
    try:
        ej.validate(value, set(A2_SYMBOLS[kind]), set())
    except ej.ExpressionError as e:
        return "invalid", str(e), 0.0
    points = _field_points(kind, rng)
    S = np.broadcast_to(ej.evaluate(value, points), _shape(points)).astype(float)
    if not np.all(np.isfinite(S)):
        return "wrong", _("evaluates to NaN or infinity at some points"), 0.0
    if self_check and kind != "number":
        return (*expected[name](S, points), 0.0)
    E = np.broadcast_to(np.asarray(expected[name](points), float), _shape(points))
    d = diagnose(FIELD_TREES[kind], FieldContext(S, E, points, max_slope))
    return d.outcome.status, d.message, d.outcome.credit


def _shape(points):
    return next(iter(points.values())).shape if points else ()


# ------------------------------------------------------------------ sampled networks (self-check, plots)
def _relu(a):
    return np.maximum(a, 0.0)


def _drelu(a):
    return (a > 0).astype(float)  # the convention σ'(0) = 0 of PyTorch and TensorFlow


def slopes(act: str, x_: np.ndarray, ws: list) -> np.ndarray:
    """∂h_n/∂w_i for i = 1..n (rows) at the given networks (columns), by forward-mode differentiation.

    Carries d_k = ∂h_k/∂w_i forward: d_k = σ'(a_k)·(w_k·d_{k-1} + [k = i]·h_{k-1}), d_0 = 0.
    """
    f, df = (_relu, _drelu) if act == "relu" else ACTIVATIONS[act]
    n_ = len(ws) - 1
    out = np.zeros((n_, np.size(x_)))
    for i_ in range(1, n_ + 1):
        hk, d = x_, np.zeros(np.size(x_))
        for k in range(1, n_ + 1):
            a = ws[k] * hk
            d = df(a) * (ws[k] * d + (hk if k == i_ else 0.0))
            hk = f(a)
        out[i_ - 1] = d
    return out


def largest_slopes(act: str, n_: int, rng, samples: int = 4000) -> np.ndarray:
    """Largest |∂h_n/∂w_i| (index i = 1..n; index 0 unused) over sampled networks with |w_k| < 1.

    Sigmoid: weights over (−1, 1) and, a third of the time, near 0 (where σ' peaks), x up to 50.
    ReLU: the active path (w_1 with the sign of x, the rest in (0.5, 1)), divided by |x|.
    """
    x_ = signed_uniform(rng, 1e-3, 50.0, samples)
    if act == "relu":
        ws = [None] + [rng.uniform(0.5, 1.0, samples) for _ in range(n_)]
        ws[1] = ws[1] * np.sign(x_)
    else:
        ws = [None] + [rng.uniform(-1, 1, samples) * np.where(rng.random(samples) < 0.3, 0.02, 1.0)
                       for _ in range(n_)]
    g = np.abs(slopes(act, x_, ws)) / (np.abs(x_) if act == "relu" else 1.0)
    return np.concatenate([[0.0], g.max(axis=1)])


def gradient_profile(act: str, depth: int = 20, samples: int = 2000, seed: int = 0):
    """(layers 1..depth, largest |∂h_n/∂w_i| per layer) over random networks with 0.9 < w_k < 1, x = 1.

    Positive weights keep every ReLU active, so the picture compares the activations, not dead units.
    """
    rng = np.random.default_rng(seed)
    ws = [None] + [rng.uniform(0.9, 1.0, samples) for _ in range(depth)]
    g = np.abs(slopes(act, np.ones(samples), ws)).max(axis=1)
    return np.arange(1, depth + 1), g


@functools.lru_cache(maxsize=1)
def sampled_sigmoid_maxima() -> dict:
    """n -> largest sampled |∂h_n/∂w_i| (index i) for the sigmoid, n = 2..6: what a valid bound must exceed.

    Fixed (a public seed), so that the self-check and the grader call the same bounds violated.
    """
    rng = rng_for("public", "a2", "samples")
    return {n_: largest_slopes("sigmoid", n_, rng) for n_ in range(2, 7)}


@functools.lru_cache(maxsize=1)
def sampled_relu_slope() -> float:
    """The largest sampled ReLU slope per unit |x| (n = 2 and 4): a valid supremum is at least |x| times it."""
    rng = rng_for("public", "a2", "samples", "relu")
    return max(largest_slopes("relu", n_, rng)[1:].max() for n_ in (2, 4))


def relu_violation(S, points) -> dict | bool:
    """A sampled ReLU network exceeds the answer at some probe x (self-check and grader alike)."""
    over = np.abs(points["x"]) * sampled_relu_slope() > S * (1 + 1e-9)
    return bool(over.any()) and {"where": _("at x = {x} a sampled ReLU network exceeds it").format(
        x=f"{points['x'][over][0]:.3g}")}


def _sampled_ratios(S, points) -> list:
    """[(largest sampled slope / bound, n, i)] for the sampled depths, i ≥ 2."""
    maxima = sampled_sigmoid_maxima()
    out = []
    for n_, i_, s in zip(points["n"].astype(int), points["i"].astype(int), S):
        if n_ in maxima:
            out.append((maxima[n_][i_] / s if s > 0 else math.inf, n_, i_))
    return out


def bound_violation(S, points) -> dict | bool:
    """A sampled network exceeds the bound somewhere: where, and by how much (never the bound itself)."""
    ratio, n_, i_ = max(_sampled_ratios(S, points))
    if ratio <= 1 + 1e-9:
        return False
    where = _("at n={n}, i={i} a sampled network with |w_k| < 1 has a positive slope where your bound is ≤ 0") \
        if math.isinf(ratio) else _("at n={n}, i={i} a sampled network with |w_k| < 1 reaches {ratio} times your bound")
    return {"where": where.format(n=n_, i=i_, ratio=f"{ratio:.3g}")}


def bound_closeness(S, points) -> tuple[str, str]:
    """(status, message): how close the sampled slopes come to a bound they do not exceed."""
    ratios = _sampled_ratios(S, points)
    (best, bn, bi), (worst, wn, wi) = max(ratios), min(ratios)
    seen = dict(best=f"{best:.0%}", bn=bn, bi=bi, worst=f"{worst:.1%}", wn=wn, wi=wi)
    if best < 0.4:
        return "wrong", _("holds, but sampled networks come within {best} of it at n={bn}, i={bi}, and within {worst} "
                          "at n={wn}, i={wi}: a bound this far above every sampled slope is not the one that follows "
                          "from the largest σ' and |w_k| < 1").format(**seen)
    if worst < 0.2 * best:
        return "wrong", _("holds, but sampled networks come within {best} of it at n={bn}, i={bi}, and within {worst} "
                          "at n={wn}, i={wi}: towards the input it pulls away from the slopes, so it shrinks more "
                          "slowly per layer than they do").format(**seen)
    return "info", _("holds for 20,000 sampled networks; sampled networks come within {best} of it at n={bn}, i={bi}, "
                     "and within {worst} at n={wn}, i={wi}; whether it is the bound that follows is judged when "
                     "graded").format(**seen)


def _sampled_expectations():
    grid = np.linspace(-10, 10, 20001)

    def bound_check(S, points):
        violated = bound_violation(S, points)
        return ("wrong", _("violated: {where}").format(**violated)) if violated else bound_closeness(S, points)

    def relu_check(S, points):
        violated = relu_violation(S, points)
        return ("wrong", _("violated: {where}").format(**violated)) if violated else \
            ("info", _("holds for sampled ReLU networks; judged exactly when graded"))


    ds = ACTIVATIONS["sigmoid"][1](grid)
    return {"max_dsigmoid": lambda p: ds.max(), "sigmoid_bound": bound_check, "relu_sup": relu_check}
