"""Task (c) and the bonus: correct forms pass in both layouts, each typical mistake gets its own message,
hostile input a clear one-line message, and grading the bonus never builds the full tensor."""
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np
import pytest
import sympy as sp

from autograde import display_cells
from autograde.course import ASSIGNMENT, ROOT
from autograde.keys import all_keys
from autograde.keys.c import C3_REFERENCE, exact_delta1, step_jacobian
from autograde.samples import c as samples
from autograde.samples import reference_answers
from autograde.steps import SaveExtraCredit
from autograde.steps.common import STATE, Grading
from course_lib import bounded, check, graded_run, mlp, tasks
from course_lib.graph import Graph
from course_lib.tasks.c.bonus import SAMPLED_ENTRIES, all_triples, numeric_delta1, numeric_entries
from course_lib.tasks.c.c2 import forwards
from course_lib.tasks.c.c3 import derived, probes
from course_lib.tasks.c import J, S, delta, n0, n1, n2, n3, o_i, o_j, s_i, s_j, u

from grading import grade  # as the grader does: hidden request, payload, judge_cell


def one_line(fb):
    return all("\n" not in f.message and "Traceback" not in f.message for f in fb.findings)


# ====================================================================== c2: correct forms
def J_L_z3(z3, y):
    row = np.zeros((1, z3.size))
    row[0, y - 1] = -1.0 / z3[y - 1]
    return row


def J_z3_o3(z3):
    return np.diag(z3) - np.outer(z3, z3)


def J_z3_z2(z3, W3):
    return J_z3_o3(z3) @ W3


def J_z2_z1(z2, W2):
    return (1 - z2 ** 2)[:, None] * W2


def J_z1_x(z1, W1):
    return np.diag(1 - z1 ** 2) @ W1


def J_z1_b1(z1):
    return np.diag(1 - z1 ** 2)


ROW = {
    "layout": "row",
    "factors": {"J_L(z3)": ((1, n3), J_L_z3), "J_z3(z2)": ((n3, n2), J_z3_z2), "J_z2(z1)": ((n2, n1), J_z2_z1),
                "J_z1(x)": ((n1, n0), J_z1_x), "J_z1(b1)": ((n1, n1), J_z1_b1)},
    "grad_x": ["J_L(z3)", "J_z3(z2)", "J_z2(z1)", "J_z1(x)"],
    "grad_b1": ["J_L(z3)", "J_z3(z2)", "J_z2(z1)", "J_z1(b1)"],
}


def transposed(fn):
    return lambda **q: fn(**mlp.arguments_for(fn, q)).T


COLUMN = {
    "layout": "column",
    "factors": {name: ((dims[1], dims[0]), transposed(fn)) for name, (dims, fn) in ROW["factors"].items()},
    "grad_x": ROW["grad_x"][::-1],
    "grad_b1": ROW["grad_b1"][::-1],
}

FINE = {  # every step through the pre-activations, the identity as an integer matrix
    "layout": "row",
    "factors": {
        "J_L(z3)": ((1, n3), J_L_z3), "J_z3(o3)": ((n3, n3), J_z3_o3), "J_o3(z2)": ((n3, n2), lambda W3: W3),
        "J_z2(o2)": ((n2, n2), lambda z2: np.diag(1 - z2 ** 2)), "J_o2(z1)": ((n2, n1), lambda W2: W2),
        "J_z1(o1)": ((n1, n1), lambda z1: np.diag(1 - z1 ** 2)), "J_o1(x)": ((n1, n0), lambda W1: W1),
        "J_o1(b1)": ((n1, n1), lambda b1: np.eye(b1.size, dtype=int)),
    },
    "grad_x": ["J_L(z3)", "J_z3(o3)", "J_o3(z2)", "J_z2(o2)", "J_o2(z1)", "J_z1(o1)", "J_o1(x)"],
    "grad_b1": ["J_L(z3)", "J_z3(o3)", "J_o3(z2)", "J_z2(o2)", "J_o2(z1)", "J_z1(o1)", "J_o1(b1)"],
}


def with_factor(answer, name, fn=None, shape=None, **changes):
    factors = dict(answer["factors"])
    old_shape, old_fn = factors[name]
    factors[name] = (old_shape if shape is None else shape, old_fn if fn is None else fn)
    return {**answer, "factors": factors, **changes}


@pytest.mark.parametrize("answer", [ROW, COLUMN, FINE], ids=["row", "column", "through o"])
def test_c2_correct_chains_pass_self_check_and_grading(answer):
    fb = check("c2", answer)
    assert fb.passed and fb.credit == 1.0, fb.text()
    graded = grade("c2", answer)
    assert graded.credit == 1.0, graded.text()
    assert "on 3 networks" in graded.text()


def test_c2_keyword_signatures_and_mixed_splits_are_fine():
    answer = with_factor(ROW, "J_z1(x)", fn=lambda **q: (1 - q["z1"] ** 2)[:, None] * q["W1"])
    answer["factors"]["J_o1(b1)"] = ((n1, n1), lambda z1: np.eye(z1.size))
    answer["factors"]["J_z1(o1)"] = ((n1, n1), J_z1_b1)
    answer["grad_b1"] = ["J_L(z3)", "J_z3(z2)", "J_z2(z1)", "J_z1(o1)", "J_o1(b1)"]
    assert check("c2", answer).credit == 1.0


# ====================================================================== c2: mistakes, each with its message
def label_plus_one(z3, y):  # indexes z3 with the 1-based label itself
    row = np.zeros((1, z3.size))
    row[0, y % z3.size] = -1.0 / z3[y % z3.size]
    return row


MISTAKES = [
    ("softmax without −zzᵀ", with_factor(ROW, "J_z3(z2)", fn=lambda z3, W3: np.diag(z3) @ W3),
     "J_z3(z2)", "the term −z3·z3ᵀ is missing"),
    ("softmax diagonal only", with_factor(ROW, "J_z3(z2)", fn=lambda z3, W3: np.diag(z3 * (1 - z3)) @ W3),
     "J_z3(z2)", "diagonal only"),
    ("softmax z_i(1 − z_j)", with_factor(ROW, "J_z3(z2)", fn=lambda z3, W3: np.outer(z3, 1 - z3) @ W3),
     "J_z3(z2)", "in every entry"),
    ("softmax only −zzᵀ", with_factor(ROW, "J_z3(z2)", fn=lambda z3, W3: -np.outer(z3, z3) @ W3),
     "J_z3(z2)", "only −z3·z3ᵀ"),
    ("tanh without the square", with_factor(ROW, "J_z2(z1)", fn=lambda z2, W2: (1 - z2)[:, None] * W2),
     "J_z2(z1)", "without the square"),
    ("1 − o² at the pre-activation", with_factor(ROW, "J_z1(x)", fn=lambda o1, W1: (1 - o1 ** 2)[:, None] * W1),
     "J_z1(x)", "1 − o²"),
    ("no minus in −log", with_factor(ROW, "J_L(z3)", fn=lambda z3, y: -J_L_z3(z3, y)), "J_L(z3)", "minus sign"),
    ("−1/z everywhere", with_factor(ROW, "J_L(z3)", fn=lambda z3: -1 / z3[None, :]), "J_L(z3)", "every component"),
    ("label off by one", with_factor(ROW, "J_L(z3)", fn=label_plus_one), "J_L(z3)", "counts from 1"),
    ("bias without tanh step", with_factor(ROW, "J_z1(b1)", fn=lambda z1: np.eye(z1.size)),
     "J_z1(b1)", "the step o1 → z1 is missing"),
    ("weights missing", with_factor(ROW, "J_z2(z1)", fn=lambda z2: np.diag(1 - z2 ** 2)),
     "J_z2(z1)", "is 5×5 here; in the row layout it is 5×7"),
    ("transposed factor", with_factor(ROW, "J_z2(z1)", fn=lambda z2, W2: ((1 - z2 ** 2)[:, None] * W2).T),
     "J_z2(z1)", "is 7×5 here; in the row layout it is 5×7"),
    ("sign", with_factor(ROW, "J_z1(x)", fn=lambda z1, W1: -J_z1_x(z1, W1)), "J_z1(x)", "wrong sign"),
    ("factor 2", with_factor(ROW, "J_z1(x)", fn=lambda z1, W1: 2 * J_z1_x(z1, W1)), "J_z1(x)", "2 times"),
    ("tanh as a vector", with_factor(FINE, "J_z1(o1)", fn=lambda z1: 1 - z1 ** 2), "J_z1(o1)", "np.diag"),
    ("a single number", with_factor(ROW, "J_L(z3)", fn=lambda z3, y: -1 / z3[y - 1]), "J_L(z3)", "single number"),
    ("shape transposed", with_factor(ROW, "J_z1(x)", shape=(n0, n1)), "J_z1(x)", "column layout"),
    ("shape in numbers", with_factor(ROW, "J_z1(x)", shape=(256, 784)), "J_z1(x)", "stated in numbers"),
    ("shape wrong", with_factor(ROW, "J_z1(x)", shape=(n1, n1)), "J_z1(x)", "a row per entry of z1"),
    ("forward order", {**ROW, "grad_x": ROW["grad_x"][::-1]}, "grad_x", "reverse order"),
    ("column layout in row order", {**COLUMN, "grad_x": ROW["grad_x"]}, "grad_x", "reverse order"),
    ("a step jumped", {**ROW, "factors": {**ROW["factors"], "J_L(z2)": ((1, n2), lambda: np.zeros((1, 1)))},
                       "grad_x": ["J_L(z2)", "J_z2(z1)", "J_z1(x)"]}, "grad_x", "jumps over the node z3"),
    ("chain stops early", {**ROW, "grad_b1": ROW["grad_b1"][:3]}, "grad_b1", "does not reach b1"),
    ("chain with a gap", {**ROW, "grad_x": ["J_L(z3)", "J_z2(z1)", "J_z1(x)"]}, "grad_x", "must be J_z3(·)"),
    ("unknown factor", {**ROW, "grad_x": ["J_L(z3)", "J_z3(z2)", "J_z2(z1)", "Jx"]}, "grad_x", "not one of your"),
    ("bad name", {**ROW, "factors": {**ROW["factors"], "Jx": ((1, 1), J_z1_b1)},
                  "grad_x": ["J_L(z3)", "J_z3(z2)", "J_z2(z1)", "Jx"]}, "grad_x", "not a factor name"),
]


@pytest.mark.parametrize("answer, part, phrase", [m[1:] for m in MISTAKES], ids=[m[0] for m in MISTAKES])
def test_c2_each_mistake_is_named_at_its_factor(answer, part, phrase):
    fb = check("c2", answer)
    assert fb.credit < 1 and not fb.passed
    messages = [f.message for f in fb.findings if f.part == part and f.status == "wrong"]
    assert any(phrase in m for m in messages), fb.text()
    assert one_line(fb)


def test_c2_square_transposed_factor_is_caught_by_its_values():
    fb = check("c2", with_factor(FINE, "J_o2(z1)", fn=lambda W2: W2.T))
    message = next(f.message for f in fb.findings if f.part == "J_o2(z1)")
    assert "transposed: in your layout entry (i, j) is ∂o2_i/∂z1_j" in message


def test_c2_credit_adds_up_by_parts():
    fb = grade("c2", MISTAKES[0][1])  # one of five factors wrong in value; both gradients wrong
    assert fb.credit == pytest.approx(0.2 + 0.3 + 0.4 * 4 / 5)
    fb = grade("c2", {**ROW, "grad_x": ROW["grad_x"][::-1]})  # grad_x not a chain: its half of the chain points
    assert fb.credit == pytest.approx(1.0 - 0.1 - 0.05)


def test_c2_answers_fitted_to_the_public_networks_fail_the_hidden_ones():
    request = tasks.get("c2").public_request()
    fwds = forwards(request)
    memo = {name: [fn(**mlp.arguments_for(fn, fwd.values)) for fwd in fwds] for name, (_, fn) in ROW["factors"].items()}
    counter = {}

    def replay(name):
        def fn(x):
            k = counter.setdefault(name, 0)
            counter[name] = k + 1
            return memo[name][k % len(fwds)]
        return fn

    fitted = {**ROW, "factors": {n: (dims, replay(n)) for n, (dims, _) in ROW["factors"].items()}}
    assert check("c2", fitted).credit == 1.0
    assert grade("c2", fitted).credit < 0.5


def test_c2_key_agrees_with_central_differences():
    fwd = forwards(tasks.get("c2").public_request())[1]
    for out, node in [("L", "z3"), ("z3", "o3"), ("z1", "o1"), ("o1", "b1"), ("o2", "z1")]:
        assert np.allclose(step_jacobian(fwd, (out, node)), fwd.numeric_jacobian(out, node), atol=1e-7)


# ====================================================================== c2: hostile input
def loops(z1):
    while True:
        pass


HOSTILE = [
    ("raises", lambda z1: 1 / 0, "raised ZeroDivisionError"),
    ("not answered", lambda z1: (_ for _ in ()).throw(NotImplementedError()), "not answered yet"),
    ("returns None", lambda z1: None, "returned None"),
    ("complex", lambda z1: np.eye(z1.size) * 1j, "dtype complex128"),
    ("float16", lambda z1: np.eye(z1.size, dtype=np.float16), "too imprecise"),
    ("objects", lambda z1: sp.eye(z1.size), "objects"),
    ("strings", lambda z1: np.array([["a"]]), "dtype <U1"),
    ("booleans", lambda z1: np.eye(z1.size, dtype=bool), "dtype bool"),
    ("huge result", lambda z1: np.zeros((800, 800)), "more than any answer"),
    ("unknown parameter", lambda W, z1: W, "'W' is not a forward quantity"),
    ("8 GB", lambda z1: np.ones(10 ** 9), "ran out of memory"),
]


@pytest.mark.parametrize("fn, phrase", [h[1:] for h in HOSTILE], ids=[h[0] for h in HOSTILE])
def test_c2_hostile_factor_gets_one_line_and_the_rest_is_still_judged(fn, phrase):
    start = time.monotonic()
    fb = check("c2", with_factor(ROW, "J_z1(b1)", fn=fn))
    assert time.monotonic() - start < 10
    bad = next(f for f in fb.findings if f.part == "J_z1(b1)")
    assert bad.status == "wrong" and phrase in bad.message, fb.text()
    assert one_line(fb)
    assert fb.credit == pytest.approx(0.2 + 0.3 * 4 / 5 + 0.4 * 4 / 5 + 0.05)  # grad_x still earns its part
    assert [f.status for f in fb.findings if f.part == "J_z1(x)"] == ["ok"]


def test_c2_nan_has_the_right_shape_but_no_value():
    fb = check("c2", with_factor(ROW, "J_z1(b1)", fn=lambda z1: np.full((z1.size, z1.size), np.nan)))
    assert "contains NaN or infinity" in fb.text() and one_line(fb)
    assert fb.credit == pytest.approx(0.2 + 0.3 + 0.4 * 4 / 5 + 0.05)


def test_c2_a_loop_is_cut_after_the_time_limit_and_not_retried(monkeypatch):
    monkeypatch.setattr(bounded, "CALL_SECONDS", 0.3)
    start = time.monotonic()
    fb = check("c2", with_factor(ROW, "J_z1(b1)", fn=loops))
    assert time.monotonic() - start < 3  # 2 networks, but the second one is not tried
    assert "did not return within 0.3 s" in fb.text()


def test_c2_memory_limit_is_lifted_after_each_call():
    before = resource.getrlimit(resource.RLIMIT_AS)
    check("c2", with_factor(ROW, "J_z1(b1)", fn=lambda z1: np.ones(10 ** 9)))
    assert resource.getrlimit(resource.RLIMIT_AS) == before
    np.ones(10 ** 8)  # 800 MB can be allocated again


@pytest.mark.parametrize("answer, phrase", [
    ("chains", "a dict with the keys layout, factors, grad_x, grad_b1"),
    ({**ROW, "layout": "rows"}, 'the layout is "row"'),
    ({**ROW, "grad_x": "J_L(z3) J_z3(z2)"}, "lists factor names"),
    ({**ROW, "factors": [1, 2]}, "maps names"),
    ({k: v for k, v in ROW.items() if k != "grad_b1"}, "a dict with the keys"),
])
def test_c2_wrong_kind_of_answer(answer, phrase):
    fb = check("c2", answer)
    assert fb.credit == 0 and phrase in fb.text() and one_line(fb)


def test_c2_a_factor_without_a_function_or_with_a_bad_shape():
    answer = {**ROW, "factors": {**ROW["factors"], "J_z1(b1)": J_z1_b1, "J_z1(x)": ("n1, n0", J_z1_x)}}
    text = check("c2", answer).text()
    assert "give (shape, function)" in text and "give the shape as a tuple" in text


def test_c2_malformed_data_costs_the_points_not_the_run():
    request = all_keys()["c2"].request(np.random.default_rng(0))
    for data in ({}, {"layout": "row", "factors": {}, "chains": {}, "cases": "x"},
                 {"layout": "row", "factors": {"J_L(z3)": {"shape": [["sym", "n3"]]}},
                  "chains": {"grad_x": ["J_L(z3)"]}, "cases": [{"J_L(z3)": {"npy": "!!"}}] * 3}):
        fb = tasks.get("c2").judge(data, request, step_jacobian, None)
        assert fb.credit == 0


# ====================================================================== c3
E = sp.exp
TANH = [((E(u) + E(-u)) ** 2 - (E(u) - E(-u)) ** 2) / (E(u) + E(-u)) ** 2,
        1 - ((E(u) - E(-u)) / (E(u) + E(-u))) ** 2, 1 - sp.tanh(u) ** 2]
SOFTMAX = [(delta * E(o_i) * S - E(o_i) * E(o_j)) / S ** 2, E(o_i) / S * (delta - E(o_j) / S), s_i * (delta - s_j)]


@pytest.mark.parametrize("tanh, softmax", [
    (TANH, SOFTMAX),
    ([sp.diff((E(u) - E(-u)) / (E(u) + E(-u)), u), (1 - sp.tanh(u)) * (1 + sp.tanh(u))],
     [SOFTMAX[0], delta * s_j - s_i * s_j]),                    # δ_ij s_j = δ_ij s_i
    ([4 / (E(u) + E(-u)) ** 2, 1 - sp.tanh(u) ** 2], [SOFTMAX[0], SOFTMAX[1], s_i * delta - s_i * s_j]),
], ids=["reference", "sympy's derivative, other final forms", "short"])
def test_c3_correct_derivations_pass(tanh, softmax):
    answer = {"tanh": tanh, "softmax": softmax}
    assert check("c3", answer).credit == 1.0
    graded = grade("c3", answer)
    assert graded.credit == 1.0 and "confirmed symbolically" in graded.text(), graded.text()


@pytest.mark.parametrize("tanh, softmax, phrase, credit", [
    ([TANH[-1]], [SOFTMAX[-1]], "step 1 is its derivative", 0.4),
    ([-TANH[0], TANH[-1]], SOFTMAX, "sign error: the quotient rule", 0.5 + 0.2),
    (TANH, [(E(o_i) * S - E(o_i) * E(o_j)) / S ** 2, SOFTMAX[-1]], "needs δ_ij", 0.5 + 0.2),
    (TANH, [delta * E(o_i) / S, SOFTMAX[-1]], "S is treated as a constant", 0.5 + 0.2),
    (TANH[:1] + [TANH[1] + 1] + TANH[2:], SOFTMAX, "step 2 is not equal to step 1", 0.5 + 0.35),
    (TANH[:2], SOFTMAX, "an expression in tanh(u) alone", 0.5 + 0.15),
    (TANH[:2] + [1 - sp.tanh(u)], SOFTMAX, "the square is missing", 0.5 + 0.15),
    (TANH, SOFTMAX[:2] + [s_i * (1 - s_j)], "right for i = j only", 0.5 + 0.15),
    (TANH, SOFTMAX[:2] + [delta * s_i * (1 - s_j)], "zero for i ≠ j", 0.5 + 0.15),
])
def test_c3_mistakes_are_named_and_earn_their_share(tanh, softmax, phrase, credit):
    fb = check("c3", {"tanh": tanh, "softmax": softmax})
    assert phrase in fb.text() and fb.credit == pytest.approx(credit), fb.text()
    assert grade("c3", {"tanh": tanh, "softmax": softmax}).credit == pytest.approx(credit)


@pytest.mark.parametrize("answer, phrase", [
    ({"tanh": TANH}, "a dict with the keys tanh, softmax"),
    ({"tanh": TANH[-1], "softmax": SOFTMAX}, "a list of 1 to 20"),
    ({"tanh": [], "softmax": SOFTMAX}, "a list of 1 to 20"),
    ({"tanh": ["1 - tanh(u)**2"], "softmax": SOFTMAX}, "got a string"),
    ({"tanh": [sp.nan], "softmax": SOFTMAX}, "NaN"),
    ({"tanh": [sp.Symbol("v")], "softmax": SOFTMAX}, "unknown symbol 'v'"),
    ({"tanh": TANH, "softmax": [S / (S - S) + s_i]}, "infinite"),
    ({"tanh": [1 / (sp.tanh(u) - sp.tanh(u) + 0 * u)], "softmax": SOFTMAX}, "infinite"),
])
def test_c3_hostile_or_malformed_steps(answer, phrase):
    fb = check("c3", answer)
    assert phrase in fb.text() and fb.credit < 1 and one_line(fb), fb.text()


HUGE = ["pow", ["pow", ["pow", ["int", "2"], ["int", "64"]], ["int", "64"]], ["int", "0"]]  # 2^4096^…, then ^0


@pytest.mark.parametrize("task, data", [
    ("c3", {"tanh": [["add", ["int", "1"], HUGE]], "softmax": [["sym", "s_i"]]}),
    ("c3", {"tanh": [["pow", ["sym", "u"], ["int", "10000000000"]]], "softmax": [["sym", "s_i"]]}),
    ("c_bonus", {"shape": [HUGE, ["sym", "n1"], ["sym", "n0"]], "bytes": HUGE, "entries": [], "gradients": []}),
])
def test_crafted_data_with_huge_powers_is_refused_quickly(task, data):
    """A patched encoder can hand in any data; SymPy in the grader must never compute 2^4096^64."""
    key = all_keys()[task]
    start = time.monotonic()
    fb = tasks.get(task).judge(data, key.request(np.random.default_rng(0)), key.reference, np.random.default_rng(1))
    assert time.monotonic() - start < 5
    assert fb.credit < 0.5 and ("too large" in fb.text() or "exponents must be numbers" in fb.text()), fb.text()


def test_c3_key_agrees_with_sympys_derivative_of_the_definitions():
    rng = np.random.default_rng(3)
    for kind in C3_REFERENCE:
        p = probes(kind, rng)
        assert np.allclose(all_keys()["c3"].reference(kind, p), derived(kind, p), rtol=1e-12)


# ====================================================================== c1
def loss_graph(*, params=False, pre=False, skip=None, y_into=None, label=J):
    G = Graph()
    x, y = G.input("x"), G.input("y")
    previous = x
    for layer, act in (("1", "tanh"), ("2", "tanh"), ("3", "softmax")):
        extra = [G.input(f"W{layer}"), G.input(f"b{layer}")] if params else []
        z = f"z{layer}"
        inputs = [previous, *extra] + ([y] if y_into == z else []) + ([x] if skip == z else [])
        labels = [None if i is y else label(("o" if pre else "z") + layer, str(i)) for i in inputs]
        if pre:
            o = G.op(f"o{layer}", "affine", *inputs, d=labels)
            previous = G.op(z, act, o, d=[label(z, f"o{layer}")])
        else:
            previous = G.op(z, act, *inputs, d=labels)
    G.op("L", "−log z3_y", previous, y, d=[label("L", "z3"), None])
    return G


@pytest.mark.parametrize("graph", [loss_graph(), loss_graph(params=True), loss_graph(pre=True),
                                   loss_graph(params=True, pre=True)], ids=["plain", "W b", "o", "W b o"])
def test_c1_correct_graphs_pass(graph):
    assert check("c1", graph).credit == 1.0
    assert grade("c1", graph).credit == 1.0


def build(*ops, inputs=("x", "y")):
    G = Graph()
    for name in inputs:
        G.input(name)
    for name, *tails in ops:
        G.op(name, "op", *tails, d=[J(name, t) if t != "y" else None for t in tails])
    return G


@pytest.mark.parametrize("graph, phrase, credit", [
    (loss_graph(y_into="z3"), "y enters only L", 0.2),
    (loss_graph(skip="z2"), "z2 does not take x directly", 0.2),
    (build(("z1", "x"), ("z2", "z1"), ("z3", "z2"), ("L", "z3")), "the edge y → L is missing", 0.2),
    (build(("z1", "x"), ("z2", "z1"), ("z3", "z2")), "the node L is missing", 0.0),   # no path: no labels
    (build(("z1", "x", "z2"), ("z2", "z1"), ("z3", "z2"), ("L", "z3", "y")), "z1 does not take z2", 0.0),
    (Graph(), "not answered yet", 0.0),                  # the release's loss_graph = Graph()
    (build(("z1", "x", "x"), ("z2", "z1"), ("z3", "z2"), ("L", "z3", "y")), "x enters z1 twice", 0.2),
    (build(("x", "y"), ("z1", "x"), ("z2", "z1"), ("z3", "z2"), ("L", "z3", "y"), inputs=("y",)),
     "x is given, not computed", 0.2),
    (build(("z1", "x"), ("h", "z1"), ("z2", "h"), ("z3", "z2"), ("L", "z3", "y")), "not a quantity", 0.2),
    (loss_graph(label=lambda out, node: J(node, out)), "carries the Jacobian of z1 with respect to x", 0.8),
    (loss_graph(label=lambda out, node: None), "has no Jacobian", 0.8),
])
def test_c1_mistakes(graph, phrase, credit):
    fb = check("c1", graph)
    assert phrase in fb.text() and fb.credit == pytest.approx(credit), fb.text()


def test_c1_a_label_on_the_edge_from_y_and_hostile_graphs():
    G = Graph()
    x, y = G.input("x"), G.input("y")
    z3 = G.op("z3", "op", G.op("z2", "op", G.op("z1", "op", x, d=[J("z1", "x")]), d=[J("z2", "z1")]),
              d=[J("z3", "z2")])
    G.op("L", "op", z3, y, d=[J("L", "z3"), J("L", "y")])
    assert "y is an integer label" in check("c1", G).text()
    assert "expects a Graph" in check("c1", {"nodes": []}).text()
    G = Graph()
    G.op("z1", "op", sp.Symbol("x") + 1, d=["J"])
    fb = check("c1", G)
    assert fb.credit == 0 and one_line(fb)
    big = Graph()
    for k in range(400):
        big.input(f"x{k}")
    assert "at most" in check("c1", big).text()


# ====================================================================== the bonus
def grad_W1(x, y, W2, W3, z1, z2, z3):
    d3 = z3 - np.eye(z3.size)[y - 1]
    d1 = (1 - z1 ** 2) * (W2.T @ ((1 - z2 ** 2) * (W3.T @ d3)))
    return np.outer(d1, x)


def grad_by_contraction(x, y, W2, W3, z1, z2, z3):  # the naive way: fine on the small networks it gets
    d1 = grad_W1(x, y, W2, W3, z1, z2, z3)[:, 0] / x[0]
    return np.tensordot(d1, np.einsum("ik,l->ikl", np.eye(z1.size), x), axes=1)


BONUS = {"shape": (n1, n1, n0), "bytes": n1 * n1 * n0 * 8, "entry": lambda i, k, l, x: float(i == k) * x[l],
         "grad_W1": grad_W1}


@pytest.mark.parametrize("changes", [
    {},
    {"shape": (n1, n1 * n0), "bytes": 411041792, "entry": lambda i, k, l, x: (i == k) * x[l]},
    {"grad_W1": grad_by_contraction},
    {"grad_W1": lambda **q: grad_W1(**mlp.arguments_for(grad_W1, q))[None]},   # 1×n1×n0
], ids=["reference", "vectorised, a number, numpy bool", "by contraction", "1×n1×n0"])
def test_bonus_correct_forms(changes):
    answer = {**BONUS, **changes}
    assert check("c_bonus", answer).credit == 1.0
    assert grade("c_bonus", answer).credit == 1.0


@pytest.mark.parametrize("changes, phrase", [
    ({"shape": (n1, n0)}, "the index i of o1_i is lost"),
    ({"shape": (1, n1, n0)}, "after the contraction"),
    ({"shape": (n1, n0, n1)}, "in another order"),
    ({"shape": (256, 256, 784)}, "stated in numbers"),
    ({"shape": (n0, n0, n0)}, "is not the shape"),
    ({"bytes": n1 * n1 * n0 * 4}, "float32"),
    ({"bytes": n1 * n1 * n0}, "counts entries"),
    ({"bytes": n1 * n0 * 8}, "third index"),
    ({"bytes": 392}, "MiB"),
    ({"entry": lambda i, k, l, x: x[l]}, "nonzero also for i ≠ k"),
    ({"entry": lambda i, k, l, x: float(i == k) * x[l - 1]}, "0-based indices"),
    ({"entry": lambda i, k, l, x: -float(i == k) * x[l]}, "wrong sign"),
    ({"entry": lambda i, k, l, x: float(i == k) * x[l] if x.size < 100 else 0.0}, "network 784-256-256-10"),
    ({"grad_W1": lambda **q: grad_W1(**mlp.arguments_for(grad_W1, q)).T}, "transposed"),
    ({"grad_W1": lambda **q: -grad_W1(**mlp.arguments_for(grad_W1, q))}, "wrong sign"),
    ({"grad_W1": lambda x, **q: np.outer(np.full(q["z1"].size, grad_W1(x=x, **{k: q[k] for k in (
        "y", "W2", "W3", "z1", "z2", "z3")})[:, 0].sum() / x[0]), x)}, "lost δ_ik"),
    ({"grad_W1": lambda x, z1: float(z1 @ x[:z1.size])}, "a single number"),
])
def test_bonus_mistakes(changes, phrase):
    fb = check("c_bonus", {**BONUS, **changes})
    assert fb.credit < 1 and phrase in fb.text(), fb.text()


@pytest.mark.parametrize("changes, phrase", [
    ({"entry": lambda i, k, l, x: "x_l"}, "returned a str"),
    ({"entry": lambda i, k, l, x: x[:2]}, "returned a ndarray"),
    ({"entry": lambda i, k, l, x: np.nan}, "is nan"),
    ({"entry": lambda i, k, l, x: [][0]}, "raised IndexError"),
    ({"grad_W1": lambda x: np.ones(10 ** 9)}, "ran out of memory"),
    ({"grad_W1": "outer"}, '"entry" and "grad_W1" are functions'),
    ({"shape": "n1 x n1 x n0"}, "give the shape as a tuple"),
])
def test_bonus_hostile(changes, phrase):
    fb = check("c_bonus", {**BONUS, **changes})
    assert fb.credit < 1 and phrase in fb.text() and one_line(fb), fb.text()


def test_bonus_entry_that_loops_is_cut_once(monkeypatch):
    monkeypatch.setattr(bounded, "CALL_SECONDS", 0.3)

    def entry(i, k, l, x):
        while True:
            pass
    start = time.monotonic()
    assert "did not return within 0.3 s" in check("c_bonus", {**BONUS, "entry": entry}).text()
    assert time.monotonic() - start < 2


def test_bonus_key_agrees_with_central_differences():
    fwd = mlp.Forward(mlp.random_network((7, 5, 4, 3), np.random.default_rng(2)))
    triples = all_triples(fwd)
    assert np.allclose(all_keys()["c_bonus"].reference.entries(fwd, triples), numeric_entries(fwd, triples))
    assert np.allclose(exact_delta1(fwd), numeric_delta1(fwd), rtol=1e-7)


def test_bonus_requests_never_ask_for_the_full_tensor():
    request = all_keys()["c_bonus"].request(np.random.default_rng(5))
    full = [case for case in request["entries"] if mlp.network_from(case["network"])["x"].size == 784]
    assert len(full) == 1 and len(full[0]["triples"]) == SAMPLED_ENTRIES
    assert all(mlp.network_from(n)["W1"].size < 2000 for n in request["gradients"])


MEMORY_PROBE = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
import numpy as np
from autograde import verdict
from course_lib import check, tasks
from course_lib.answers import display_data, encode
from course_lib.tasks.c import n0, n1

def status(field):
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith(field))

def grad_W1(x, y, W2, W3, z1, z2, z3):
    d3 = z3 - np.eye(z3.size)[y - 1]
    return np.outer((1 - z1 ** 2) * (W2.T @ ((1 - z2 ** 2) * (W3.T @ d3))), x)

bonus = {"shape": (n1, n1, n0), "bytes": n1 * n1 * n0 * 8, "entry": lambda i, k, l, x: float(i == k) * x[l],
         "grad_W1": grad_W1}
check("c_bonus", bonus)  # warm up: imports and caches are baseline, not grading
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")          # reset the peak to the current size
base = status("VmRSS:")
assert check("c_bonus", bonus).credit == 1.0
request = verdict.request_for("c_bonus", "secret", "s", "nb")
data = encode(tasks.get("c_bonus"), bonus, request)
outputs = [{"output_type": "display_data", "data": display_data("c_bonus", data)}]
assert verdict.judge_cell("c_bonus", outputs, "secret", "s", "nb").credit == 1.0
print(json.dumps({"peak_above_baseline": status("VmHWM:") - base}))
"""


def test_grading_the_bonus_at_full_size_stays_under_100_MB():
    """Self-check, hand-in encoding and verdict, all in one process (so kernel and grader at once)."""
    done = subprocess.run([sys.executable, "-c", MEMORY_PROBE, str(ROOT)], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "COURSE_GRADER_SECRET": "memory"})
    assert done.returncode == 0, done.stderr[-2000:]
    peak = json.loads(done.stdout.strip().splitlines()[-1])["peak_above_baseline"]
    assert peak < 100 * 2 ** 20, f"{peak / 2**20:.1f} MB"


# ====================================================================== samples and extra credit
def run_sample(student):
    """The student's answers as a graded run leaves them: every code cell of the notebook with the sample's
    answers, in order, but the test cells and the cells a graded run leaves out (autograde/display_cells.py).
    Run with NBGRADER_EXECUTION set, as nbgrader sets it: the self-checks only say that the grader judges."""
    answers = reference_answers(ROOT / "solutions" / ASSIGNMENT)
    answers.update(samples.VARIANTS.get(student, {}))
    cells = json.loads((ROOT / "exercises" / ASSIGNMENT / "c_mlp_jacobians.ipynb").read_text())["cells"]
    for cell in cells:
        grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell["source"] = answers[grade_id]
    left_out = display_cells.skipped(cells, display_cells.marked_sources(ASSIGNMENT, "c_mlp_jacobians"))
    ns = {}
    for k, cell in enumerate(cells):
        meta = cell["metadata"].get("nbgrader", {})
        if cell["cell_type"] == "code" and k not in left_out and not (meta.get("grade") and not meta.get("solution")):
            exec(display_cells._source(cell), ns)
    return {"c1": ns["loss_graph"], "c2": ns["chains"], "c3": ns["derivations"], "c_bonus": ns["bonus"]}


POINTS = {"c1": 1, "c2": 3, "c3": 2}


@pytest.mark.parametrize("student", ["reference", *samples.VARIANTS])
def test_samples_earn_their_expected_points_and_extra_credit(student, monkeypatch):
    monkeypatch.setenv(graded_run.EXECUTION_ENV, graded_run.GRADED)
    answers = run_sample(student)
    for task, points in POINTS.items():
        got = round(points * grade(task, answers[task], student).credit, 2)
        assert got == pytest.approx(samples.EXPECTED.get(student, {}).get(task, points)), task
    bonus = grade("c_bonus", answers["c_bonus"], student)
    extra = round(all_keys()["c_bonus"].extra_credit * bonus.credit, 2)
    assert extra == pytest.approx(samples.EXTRA_CREDIT[student]["c_bonus"])


@pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")  # nbgrader's own add_submission
def test_save_extra_credit_writes_the_bonus_into_the_gradebook_on_every_run(tmp_path, monkeypatch):
    from nbformat.v4 import new_code_cell, new_notebook
    from nbgrader.api import Gradebook
    monkeypatch.setenv("PATH", f"{os.path.dirname(sys.executable)}{os.pathsep}{os.environ['PATH']}")  # alembic
    db = f"sqlite:///{tmp_path / 'gradebook.db'}"
    with Gradebook(db) as gb:
        gb.add_assignment(ASSIGNMENT)
        gb.add_notebook("c_mlp_jacobians", ASSIGNMENT)
        gb.add_grade_cell("c_bonus", "c_mlp_jacobians", ASSIGNMENT, max_score=0, cell_type="code")
        gb.add_student("ana")
        gb.add_submission(ASSIGNMENT, "ana")
    cell = new_code_cell("hand_in('c_bonus', bonus)")
    cell.metadata["nbgrader"] = {"grade": True, "solution": False, "grade_id": "c_bonus", "points": 0}
    nb = new_notebook(cells=[cell])
    for credit, expected in ((0.9, 3.6), (1.0, 4.0)):   # a second run (autograde --force) overwrites
        resources = {"nbgrader": {"student": "ana", "notebook": "c_mlp_jacobians", "assignment": ASSIGNMENT,
                                  "db_url": db}, STATE: Grading(credit={"c_bonus": credit})}
        SaveExtraCredit().preprocess(nb, resources)
        with Gradebook(db) as gb:
            grade_ = gb.find_grade("c_bonus", "c_mlp_jacobians", ASSIGNMENT, "ana")
            grade_.auto_score = 0.0
            gb.db.commit()
            assert grade_.extra_credit == expected and grade_.score == expected
            assert gb.find_submission(ASSIGNMENT, "ana").score == expected


def test_release_notebook_gives_the_bonus_zero_points_and_the_sheet_its_six():
    import nbformat
    nb = nbformat.read(ROOT / "solutions" / ASSIGNMENT / "c_mlp_jacobians.ipynb", as_version=4)
    points = {cell.metadata["nbgrader"]["grade_id"]: cell.metadata["nbgrader"]["points"] for cell in nb.cells
              if cell.metadata.get("nbgrader", {}).get("grade")}
    assert points == {"c1": 1, "c2": 3, "c3": 2, "c_bonus": 0}
    assert all_keys()["c_bonus"].extra_credit == 4
