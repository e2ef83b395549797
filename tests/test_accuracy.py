"""Issue 10: no verdict raises, shortcuts earn no value points, every equivalent form passes, each mistake is named.

The diagnosis trees of every task are walked and every outcome rendered; c2 and the bonus are graded against
exact values at a precision float64 formulas meet and central differences cannot."""
import importlib

import numpy as np
import pytest
import sympy as sp

from course_lib import check, mlp
from course_lib.diagnose import Branch, Outcome, always, diagnose, guarded, outcomes, render
from course_lib.feedback import Feedback
from course_lib.tasks.c import bonus, c2
from course_lib.tasks.c import n0, n1, n2, n3, u

from grading import grade
from test_task_c import BONUS, ROW, TANH, SOFTMAX, grad_W1, one_line, with_factor


# ====================================================================== every tree, every outcome
def trees():
    for module in ("course_lib.tasks.a", "course_lib.tasks.b", "course_lib.tasks.c.c2", "course_lib.tasks.c.c3",
                   "course_lib.tasks.c.bonus"):
        m = importlib.import_module(module)
        for name, value in vars(m).items():
            candidates = value.values() if isinstance(value, dict) else [value]
            for k, tree in enumerate(candidates):
                if isinstance(tree, list) and tree and all(isinstance(b, Branch) for b in tree):
                    yield f"{module}.{name}[{k}]", tree


ALL_TREES = list(trees())


def test_every_task_module_has_its_trees():
    names = " ".join(name for name, _ in ALL_TREES)
    for tree in ("A1_TREE", "SIGMOID_BOUND_TREE", "EDGE_TREE", "BACK_TREE", "VALUE_TREE", "FACTOR_TREE",
                 "GRADIENT_TREE", "ENTRY_TREE", "START_TREES", "END_TREES"):
        assert tree in names


@pytest.mark.parametrize("name, tree", ALL_TREES, ids=[n for n, _ in ALL_TREES])
def test_every_outcome_renders_with_and_without_its_fields(name, tree):
    for path, outcome in outcomes(tree):
        assert outcome.status in ("ok", "wrong", "invalid", "info") and 0 <= outcome.credit <= 1, path
        bare = render(outcome.message, {})
        assert bare == outcome.message
        filled = render(outcome.message, {"k": 3, "W1": "{x}", "mistake": "∇_{W1}L", "report": "r"})
        assert isinstance(filled, str) and "\n" not in filled


def test_braces_that_are_no_placeholder_stay_and_a_failing_test_is_a_no():
    tree = [Branch("boom", lambda c: 1 / 0, Outcome(1, "never")),
            Branch("named", lambda c: {"k": 2}, Outcome(0, "∇_{W1}L at {k}, {unknown}, {{x}}"))]
    d = diagnose(tree, None)
    assert d.message == "∇_{W1}L at 2, {unknown}, {{x}}" and d.failed == ("boom (ZeroDivisionError)",)
    d = diagnose([Branch("boom", lambda c: 1 / 0, Outcome(1, "never"))], None)
    assert d.outcome.credit == 0 and "no more detail" in d.message


def test_a_crash_in_one_check_costs_that_check_only():
    fb = Feedback("t")
    assert guarded(fb, "part", 0.0, lambda: 1 / 0) == 0.0
    assert fb.findings[0].part == "part" and "ZeroDivisionError" in fb.findings[0].message


def test_a_bonus_check_that_fails_keeps_the_other_parts(monkeypatch):
    monkeypatch.setattr(bonus, "judge_entries", lambda *a: 1 / 0)
    fb = check("c_bonus", BONUS)
    assert fb.credit == pytest.approx(1 - bonus.WEIGHTS_BONUS["entries"]), fb.text()
    assert "could not be completed (ZeroDivisionError)" in fb.text()


# ====================================================================== shortcuts: finite differences
def forward_of(**q):
    return mlp.Forward({k: q[k] for k in ("x", "y", "W1", "b1", "W2", "b2", "W3", "b3")})


def by_differences(out, node):
    def fn(x, y, W1, b1, W2, b2, W3, b3):
        return np.array(forward_of(**locals()).numeric_jacobian(out, node))
    return fn


FD_ROW = {**ROW, "factors": {name: (dims, by_differences(*c2.parse_factor(name)))
                             for name, (dims, _) in ROW["factors"].items()}}


def test_c2_factors_by_finite_differences_earn_no_value_points():
    fb = grade("c2", FD_ROW)
    fd = [f for f in fb.findings if "agrees only to finite-difference precision" in f.message]
    assert len(fd) >= 4 and all(f.status == "wrong" for f in fd), fb.text()
    assert "the task asks for the formula" in fd[0].message
    assert fb.credit <= c2.WEIGHTS_C2["chains"] + c2.WEIGHTS_C2["shapes"] + c2.WEIGHTS_C2["gradients"] + 0.4 / 5 + 1e-9


def test_bonus_by_finite_differences_earns_no_gradient_points():
    def grad_by_differences(x, y, W1, b1, W2, b2, W3, b3):
        return np.outer(forward_of(**locals()).numeric_jacobian("L", "b1")[0], x)
    fb = grade("c_bonus", {**BONUS, "grad_W1": grad_by_differences})
    assert "agrees only to finite-difference precision" in fb.text(), fb.text()
    assert fb.credit == pytest.approx(1 - bonus.WEIGHTS_BONUS["gradient"])


def test_the_formulas_agree_with_the_key_far_below_the_finite_difference_band():
    fb = grade("c2", ROW)
    assert fb.credit == 1.0
    for f in fb.findings:
        if f.part.startswith("J_"):
            error = float(f.message.split("largest relative error ")[1].rstrip(")"))
            assert error < 1e-14


# ====================================================================== equivalent forms
def as_float32(answer):
    def cast(fn):
        return lambda **q: fn(**mlp.arguments_for(fn, q)).astype(np.float32)
    return {**answer, "factors": {n: (d, cast(fn)) for n, (d, fn) in answer["factors"].items()}}


def test_c2_in_float32_keeps_almost_all_points_and_says_why():
    for fb in (grade("c2", as_float32(ROW)), check("c2", as_float32(ROW))):
        assert fb.credit == pytest.approx(1 - c2.WEIGHTS_C2["values"] * (1 - 0.9)), fb.text()
        assert "returned in float32" in fb.text() and "small deduction" in fb.text()


def test_bonus_in_float32_keeps_almost_all_points():
    cast = {**BONUS, "grad_W1": lambda **q: grad_W1(**mlp.arguments_for(grad_W1, q)).astype(np.float32)}
    fb = grade("c_bonus", cast)
    assert fb.credit == pytest.approx(1 - bonus.WEIGHTS_BONUS["gradient"] * 0.1), fb.text()
    assert "float32" in fb.text()


def J_L_o3(z3, y):
    return (z3 - np.eye(z3.size)[y - 1])[None, :]


FUSED = {
    "layout": "row",
    "factors": {"J_L(o3)": ((1, n3), J_L_o3), "J_o3(z2)": ((n3, n2), lambda W3: W3),
                **{k: v for k, v in ROW["factors"].items() if k in ("J_z2(z1)", "J_z1(x)", "J_z1(b1)")}},
    "grad_x": ["J_L(o3)", "J_o3(z2)", "J_z2(z1)", "J_z1(x)"],
    "grad_b1": ["J_L(o3)", "J_o3(z2)", "J_z2(z1)", "J_z1(b1)"],
}


def test_c2_the_fused_softmax_cross_entropy_factor_passes():
    assert check("c2", FUSED).credit == 1.0
    fb = grade("c2", FUSED)
    assert fb.credit == 1.0, fb.text()


def test_c3_hyperbolic_steps_pass():
    tanh = [TANH[0], 1 / sp.cosh(u) ** 2, sp.sech(u) ** 2, 1 - sp.tanh(u) ** 2]
    answer = {"tanh": tanh, "softmax": SOFTMAX}
    assert check("c3", answer).credit == 1.0
    assert grade("c3", answer).credit == 1.0
    last_sech = {"tanh": tanh[:-1], "softmax": SOFTMAX}   # the sheet asks for a form in tanh(u)
    assert "an expression in tanh(u) alone" in check("c3", last_sech).text()


# ====================================================================== mistakes named
def test_c2_J_L_z3_confused_with_the_fused_step_is_named():
    fb = grade("c2", with_factor(ROW, "J_L(z3)", fn=J_L_o3))
    message = next(f.message for f in fb.findings if f.part == "J_L(z3)")
    assert "that is ∂L/∂o3" in message, fb.text()


def test_c2_transposed_square_factor_is_named_although_it_raises_on_the_small_networks():
    def transposed_then_padded(z2, W2):
        return W2.T @ np.diag(1 - z2 ** 2) + np.zeros((z2.size, z2.size))   # raises unless n1 = n2
    fb = grade("c2", with_factor(ROW, "J_z2(z1)", fn=transposed_then_padded))
    message = next(f.message for f in fb.findings if f.part == "J_z2(z1)")
    assert "transposed" in message and "raised ValueError" in message, fb.text()


def _delta1_variant(x, y, W2, W3, z1, z2, z3, label=None, tanh_prime=True, scale=1.0):
    d3 = z3 - np.eye(z3.size)[(y if label is None else label) - 1]
    d1 = W2.T @ ((1 - z2 ** 2) * (W3.T @ d3))
    return scale * np.outer((1 - z1 ** 2) * d1 if tanh_prime else d1, x)


@pytest.mark.parametrize("variant, phrase", [
    (lambda **q: _delta1_variant(**q, label=q["y"] % q["z3"].size + 1), "δ1 belongs to another label"),
    (lambda **q: _delta1_variant(**q, tanh_prime=False), "lacks the factor of the tanh step o1 → z1"),
    (lambda **q: _delta1_variant(**q, scale=2.0), "2 times ∇_{W1}L"),
])
def test_bonus_gradient_slips_are_named_and_never_crash(variant, phrase):
    def fn(x, y, W2, W3, z1, z2, z3):
        return variant(x=x, y=y, W2=W2, W3=W3, z1=z1, z2=z2, z3=z3)
    for fb in (check("c_bonus", {**BONUS, "grad_W1": fn}), grade("c_bonus", {**BONUS, "grad_W1": fn})):
        assert fb.credit == pytest.approx(1 - bonus.WEIGHTS_BONUS["gradient"]), fb.text()
        assert one_line(fb) and "could not" not in fb.text()
        assert phrase in fb.text() or "not ∇_{W1}L" in fb.text(), fb.text()
    assert phrase in check("c_bonus", {**BONUS, "grad_W1": fn}).text()


# ====================================================================== no verdict raises on mangled data
JUNK = [None, 0, -1, 1e308, float("nan"), "", "x", [], {}, [[]], ["sym"], ["call", "tanh"], ["piecewise"],
        ["max", ["int", "1"]], {"error": 5}, {"npy": "AAAA"}, ["int", "9" * 70], [["true"]], True]


def mangled(data, rng):
    """The data with one subtree, picked at random, replaced by junk (or itself junk)."""
    if isinstance(data, (dict, list)) and data and rng.random() < 0.75:
        data = dict(data) if isinstance(data, dict) else list(data)
        key = rng.choice(list(data)) if isinstance(data, dict) else rng.randrange(len(data))
        data[key] = mangled(data[key], rng) if rng.random() < 0.6 else rng.choice(JUNK)
        return data
    return rng.choice(JUNK)


def honest_answers():
    import test_task_a as ta
    import test_task_b as tb
    from test_task_c import SOFTMAX as softmax
    return {"a1": ta.loop, "a2": ta.A2, "b2": tb.ALTERNATIVES["canonical"],
            "b3": {"graph": tb.ALTERNATIVES["canonical"], "adjoints": tb.CANON_ADJ, "grad": list(tb.GRAD)},
            "c2": FUSED, "c3": {"tanh": TANH, "softmax": softmax}, "c_bonus": BONUS}


@pytest.mark.parametrize("task_id", ["a1", "a2", "b2", "b3", "c2", "c3", "c_bonus"])
def test_mangled_answer_data_never_makes_a_check_raise(task_id):
    import random
    from autograde import verdict
    from autograde.keys import all_keys
    from course_lib import answers, tasks
    from course_lib.probe import rng_for
    task, rng = tasks.get(task_id), random.Random(task_id)
    request = verdict.request_for(task_id, "secret", "s1", "nb")
    data = answers.encode(task, honest_answers()[task_id], request)
    for _ in range(6 if task_id.startswith("c") else 40):
        bad = mangled(data, rng)
        assert isinstance(task.self_check(bad, task.public_request()), Feedback)
        assert isinstance(task.judge(bad, request, all_keys()[task_id].reference, rng_for("t")), Feedback)
