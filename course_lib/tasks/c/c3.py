"""c3: tanh′ and ∂s_i/∂o_j derived from the definitions, each as a list of SymPy steps.

Every step is evaluated at random points and must equal the one before; the first must be the derivative
of the definition (in exp), the last in the required form. What the steps are compared with is SymPy's
derivative of the definitions (the self-check) or the key; a derivation found right numerically is then
confirmed symbolically within a time budget.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import sympy as sp

from ... import bounded, proofs
from ... import expr_json as ej
from ...diagnose import Branch, Outcome, always, diagnose, guarded
from ...errors import AnswerError, unusable
from ...feedback import Feedback
from ...i18n import _
from ...probe import all_close, rng_for, symbolically_equal
from .. import Task
from .common import expr_answer, expression_problem, functions_in, symbols_in

# ------------------------------------------------------------------ the symbols of the derivations
u = sp.Symbol("u", real=True)                       # tanh's argument
o_i, o_j = sp.symbols("o_i o_j", real=True)         # two entries of softmax's input
S = sp.Symbol("S", positive=True)                   # Σ_k e^{o_k}
delta = sp.Symbol("delta")                          # δ_ij: 1 if i = j, else 0
s_i, s_j = sp.symbols("s_i s_j", positive=True)     # softmax's outputs i and j



# ------------------------------------------------------------------ the derivations
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
        fb.add(name, "invalid", _("no steps given"))
        return 0.0
    values = []
    for k, data in enumerate(steps, 1):
        if isinstance(data, dict):
            fb.add(step_label(name, k), "invalid", (unusable(data) or _("malformed"))[:240])
            return 0.0
        problem = expression_problem(data, spec.symbols)
        if problem:
            fb.add(step_label(name, k), "invalid", problem)
            return 0.0
        v = np.broadcast_to(ej.evaluate(data, p.env), E.shape).astype(float)
        if not np.all(np.isfinite(v)):
            fb.add(step_label(name, k), "wrong", _("evaluates to NaN or infinity at some points"))
            return 0.0
        values.append(v)
    credit = 0.0
    first, last = steps[0], steps[-1]
    if symbols_in(first) <= spec.start_symbols and functions_in(first) <= spec.start_functions:
        d = diagnose(START_TREES[name], StepContext(name, values[0], E, p.env))
        start_ok = d.outcome.credit >= 1
        fb.add(step_label(name, 1), "ok" if start_ok else "wrong", d.message)
    else:
        start_ok = False
        fb.add(step_label(name, 1), "wrong", _("the derivation starts from the definition {definition}: step 1 is its "
                                               "derivative, written in {symbols} and exp only").format(
            definition=spec.definition, symbols=", ".join(sorted(spec.start_symbols))))
    broken = next((k for k in range(1, len(values)) if not all_close(values[k], values[k - 1], rtol=1e-9)), None)
    if broken is not None:
        fb.add(step_label(name, broken + 1), "wrong", _("step {step} is not equal to step {before}").format(
            step=broken + 1, before=broken))
    if symbols_in(last) <= spec.end_symbols and functions_in(last) <= spec.end_functions:
        d = diagnose(END_TREES[name], StepContext(name, values[-1], E, p.env))
        end_ok = d.outcome.credit >= 1
        fb.add(_("{name}, last step").format(name=name), "ok" if end_ok else "wrong", d.message)
    else:
        end_ok = False
        fb.add(_("{name}, last step").format(name=name), "wrong", _("the last step must be {form}").format(
            form=spec.form))
    credit += WEIGHTS_C3["start"] * start_ok + WEIGHTS_C3["form"] * end_ok
    if start_ok and end_ok and broken is None:
        credit += WEIGHTS_C3["steps"]
        said = _("{count} steps from the definition to the required form, each equal to the one before (confirmed "
                 "symbolically)") if _confirmed(name, steps, spec, seconds) else \
            _("{count} steps from the definition to the required form, each equal to the one before")
        fb.add(name, "ok", said.format(count=len(steps)))
    elif start_ok and end_ok:
        fb.add(name, "info", _("the derivation points need every step to equal the one before"))
    return credit


def step_label(name: str, k: int) -> str:
    """The part a step of a derivation is, "du_dsi, step 2"."""
    return _("{name}, step {k}").format(name=name, k=k)


def _confirmed(kind: str, steps: list, spec: Derivation, seconds: float) -> bool:
    """SymPy proves, within the time budget, that step 1 is the derivative and every step equals the next.

    A proof found once holds for the same data: it is remembered (course_lib/proofs.py)."""
    proof = proofs.key("c3", kind, steps)
    if proofs.known(proof):
        return True
    if prove(kind, steps, spec, seconds):
        proofs.remember(proof)
        return True
    return False


def prove(kind: str, steps: list, spec: Derivation, seconds: float) -> bool:
    budget = bounded.Budget(seconds)
    exprs = [concrete(kind, ej.from_data(s, spec.symbols)) for s in steps]
    pairs = [(exprs[0], concrete_model()[kind][1])] + list(zip(exprs, exprs[1:]))
    for a, b in pairs:
        for x_, y_ in zip(a, b):
            left = budget.left()
            if left <= 0 or not symbolically_equal(x_, y_, left, rational=True):
                return False
    return True


def judge_c3(data: dict, rng, reference, seconds: float) -> Feedback:
    """``reference(kind, probes)`` gives the derivative's values at the probes."""
    fb = Feedback("c3")
    if not isinstance(data, dict):
        return fb.add("", "invalid", _("malformed answer"))
    credit = 0.0
    for kind, spec in DERIVATIONS.items():
        p = probes(kind, rng)
        credit += 0.5 * guarded(fb, kind, 0.0, judge_derivation, fb, spec, data.get(kind), p, reference(kind, p),
                                seconds)
    fb.credit = round(credit, 6)
    return fb


class C3(Task):
    id = "c3"

    def encode(self, answer, request):
        if not isinstance(answer, dict) or set(DERIVATIONS) - set(answer):
            raise AnswerError(_("c3 expects a dict with the keys {keys}, each a list of SymPy steps").format(
                keys=", ".join(DERIVATIONS)))
        out = {}
        for kind in DERIVATIONS:
            steps = answer[kind]
            if not isinstance(steps, (list, tuple)) or not 1 <= len(steps) <= MAX_STEPS:
                raise AnswerError(_('"{kind}" is a list of 1 to {most} SymPy expressions, one per step').format(
                    kind=kind, most=MAX_STEPS))
            out[kind] = [expr_answer(s, step_label(kind, k)) for k, s in enumerate(steps, 1)]

        return out

    def self_check(self, data, request):
        return judge_c3(data, rng_for("public", "c3"), derived, seconds=1.0)

    def judge(self, data, request, key, rng):
        return judge_c3(data, rng, key, seconds=6.0)

