"""Task (a): every correct form passes, every typical mistake gets its own message, hostile input a clear one."""
import functools
import operator

import numpy as np
import pytest
import sympy as sp

from autograde import verdict
from autograde.keys import all_keys
from course_lib import check, tasks
from grading import grade
from course_lib.tasks.a import dsigma, h, i, n, sigma, w, x


def layer(k):
    return w[k] * dsigma(w[k] * h(k - 1))


def first(i_):
    return h(i_ - 1) * dsigma(w[i_] * h(i_ - 1))


# --------------------------------------------------------------------- a1: correct forms
def loop(n, i):
    out = first(i)
    for k in range(i + 1, n + 1):
        out *= layer(k)
    return out


def reversed_order(n, i):
    out = sp.Integer(1)
    for k in range(n, i, -1):
        out = out * dsigma(w[k] * h(k - 1)) * w[k]
    return out * dsigma(w[i] * h(i - 1)) * h(i - 1)


def recursive(n, i):
    return first(i) if n == i else layer(n) * recursive(n - 1, i)


def with_reduce(n, i):
    return functools.reduce(operator.mul, (layer(k) for k in range(i + 1, n + 1)), first(i))


def with_mul_and_expand(n, i):
    return sp.expand(sp.Mul(*[layer(k) for k in range(i + 1, n + 1)]) * first(i) * 2) / 2


def with_pre_activations(n, i):
    a = {k: w[k] * h(k - 1) for k in range(1, n + 1)}
    return h(i - 1) * sp.prod([dsigma(a[k]) for k in range(i, n + 1)]) * sp.prod([w[k] for k in range(i + 1, n + 1)])


CORRECT = [loop, reversed_order, recursive, with_reduce, with_mul_and_expand, with_pre_activations]


@pytest.mark.parametrize("answer", CORRECT, ids=lambda f: f.__name__)
def test_a1_every_correct_form_passes_self_check_and_grading(answer):
    fb = check("a1", answer)
    assert fb.passed, fb.text()
    graded = grade("a1", answer)
    assert graded.credit == 1.0, graded.text()
    assert "confirmed symbolically" in graded.text()


def test_a1_key_agrees_with_sympys_derivative_of_the_chain():
    key = all_keys()["a1"].reference
    for n_ in range(1, 7):
        for i_ in range(1, n_ + 1):
            d = sp.diff(h(n_), w[i_]).doit()
            d = d.replace(lambda e: isinstance(e, sp.Subs), lambda e: dsigma(e.point[0]))
            d = d.replace(lambda e: isinstance(e, sp.Derivative), lambda e: dsigma(e.variables[0]))
            assert sp.expand(key(n_, i_) - d) == 0


# --------------------------------------------------------------------- a1: typical mistakes
def missing_h(n, i):
    return loop(n, i) / h(i - 1)


def with_w_i(n, i):
    return loop(n, i) * w[i]


def without_dsigma_i(n, i):
    return loop(n, i) / dsigma(w[i] * h(i - 1))


def range_to_n_minus_1(n, i):
    return loop(n, i) / layer(n) if n > i else loop(n, i)


def extra_earlier_layer(n, i):
    return loop(n, i) * dsigma(w[1] * x) if i > 1 else loop(n, i) * dsigma(w[1] * x)


def dsigma_of_h_prev(n, i):
    return loop(n, i).replace(dsigma, lambda a: dsigma(a / a.as_ordered_factors()[0]) if a.is_Mul else dsigma(a))


def dsigma_of_w(n, i):
    return h(i - 1) * sp.prod([dsigma(w[k]) for k in range(i, n + 1)]) * sp.prod([w[k] for k in range(i + 1, n + 1)])


def as_sum(n, i):
    return first(i) + sum((layer(k) for k in range(i + 1, n + 1)), sp.Integer(0))


def sign_flipped(n, i):
    return -loop(n, i)


def doubled(n, i):
    return 2 * loop(n, i)


def sigmoid_specific(n, i):
    return loop(n, i).replace(dsigma, lambda a: sigma(a) * (1 - sigma(a)))


def zero_for_last(n, i):
    return sp.Integer(0) if i == n else loop(n, i)


def sigma_for_dsigma(n, i):
    return h(i - 1) * sp.prod([sigma(w[k] * h(k - 1)) for k in range(i, n + 1)]) * sp.prod(
        [w[k] for k in range(i + 1, n + 1)])


def tanh_identity(n, i):
    return loop(n, i).replace(dsigma, lambda a: 1 - sigma(a) ** 2)


def weights_shifted_down(n, i):
    return h(i - 1) * sp.prod([dsigma(w[k] * h(k - 1)) for k in range(i, n + 1)]) * sp.prod(
        [w[k - 1] for k in range(i + 1, n + 1)])


def argument_weight_shifted(n, i):
    return h(i - 1) * dsigma(w[i] * h(i - 1)) * sp.prod(
        [w[k] * dsigma(w[k - 1] * h(k - 1)) for k in range(i + 1, n + 1)])


MISTAKES = [
    (missing_h, "missing the factor x"),
    (with_w_i, "contains w_i"),
    (without_dsigma_i, "one σ' factor too few"),
    (range_to_n_minus_1, "skips layer"),
    (extra_earlier_layer, "one σ' factor too many"),
    (dsigma_of_w, "σ' is evaluated at w_"),
    (as_sum, "a sum where a product belongs"),
    (sign_flipped, "sign error"),
    (doubled, "constant factor: 2 times"),
    (sigmoid_specific, "right only when σ is the sigmoid"),
    (zero_for_last, "empty product is 1"),
    (sigma_for_dsigma, "σ(...) stands where the slope σ'(...) belongs"),
    (tanh_identity, "right only when σ is tanh: 1 − σ² is its derivative"),
    (weights_shifted_down, "the weight indices are shifted by one"),
    (argument_weight_shifted, "the weight index shifted by one"),
    (lambda n, i: h(i - 1) * dsigma(w[i] * h(i)) * sp.prod([w[k] * dsigma(w[k] * h(k)) for k in range(i + 1, n + 1)]),
     "the index of h shifted by one"),
    (lambda n, i: h(i - 1) * sp.prod([h(k - 1) * (1 - h(k - 1)) for k in range(i, n + 1)]) * sp.prod(
        [w[k] for k in range(i + 1, n + 1)]), "σ(1 − σ) is taken of the layer's input h_(k−1)"),
    (lambda n, i: loop(n, i).replace(dsigma, sigma), "σ(...) stands where the slope σ'(...) belongs"),
]


@pytest.mark.parametrize("answer, message", MISTAKES, ids=lambda v: getattr(v, "__name__", ""))
def test_a1_each_typical_mistake_gets_its_message(answer, message):
    for fb in (check("a1", answer), grade("a1", answer)):
        assert not fb.passed and fb.credit < 1
        assert message in fb.text(), fb.text()


def test_a1_wrong_argument_names_h_prev():
    def dsigma_at_h(n, i):
        return h(i - 1) * sp.prod([dsigma(h(k - 1)) for k in range(i, n + 1)]) * sp.prod(
            [w[k] for k in range(i + 1, n + 1)])
    text = check("a1", dsigma_at_h).text()
    assert "σ' is evaluated at x" in text and "σ' is evaluated at h_1" in text


def test_a1_the_student_library_hands_out_no_derivative():
    import course_lib.tasks.a as a_module
    assert not hasattr(a_module, "derived_a1")
    for name in dir(a_module):
        value = getattr(a_module, name)
        if callable(value) and not isinstance(value, type) and getattr(value, "__module__", "") == a_module.__name__:
            for args in ((2, 1), (3, 2)):
                try:
                    out = value(*args)
                except Exception:
                    continue
                assert not (isinstance(out, sp.Basic) and out.has(dsigma)), name


def test_a1_mistake_messages_do_not_print_the_reference():
    text = grade("a1", missing_h).text() + check("a1", as_sum).text()
    assert "dsigma(" not in text and "∏" not in text


def test_a1_partial_credit_is_the_share_of_correct_cases():
    fb = grade("a1", range_to_n_minus_1)  # right exactly when i == n
    cases = verdict.request_for("a1", "secret", "s1", "nb")["cases"]
    assert fb.credit == pytest.approx(sum(n_ == i_ for n_, i_ in cases) / len(cases))


def test_a1_fitting_the_public_cases_earns_nothing_hidden():
    public = set(map(tuple, tasks.get("a1").public_request()["cases"]))

    def fitted(n_, i_):
        return loop(n_, i_) if (n_, i_) in public else sp.Integer(1)
    assert check("a1", fitted).passed
    assert grade("a1", fitted).credit < 0.5


# --------------------------------------------------------------------- a1: hostile input
def endless(n_, i_):
    while True:
        pass


@pytest.mark.parametrize("answer, message", [
    (0.25, "expects a function dh_dw(n, i), got a float"),
    ("h(i-1)*dsigma(...)", "got a str"),
    (loop(3, 1), "not one expression"),
    (lambda n_, i_: "x*w1", "got a string"),
    (lambda n_, i_: sp.nan, "NaN"),
    (lambda n_, i_: float("nan"), "finite"),
    (lambda n_, i_: sp.Symbol("y") * x, "unknown symbol 'y'"),
    (lambda n_, i_: w[n_ + 1] * x if n_ < 10 else x, "uses w_(n+1), which the chain does not have"),
    (lambda n_, i_: 1 / 0, "raised ZeroDivisionError"),
    (lambda n_, i_: sp.diff(h(n_), w[i_]), "unevaluated derivative"),
    (lambda n_, i_: [x], "got a list"),
    (lambda n_, i_: w[0], "w[0] does not exist"),
    (recursive.__wrapped__ if hasattr(recursive, "__wrapped__") else (lambda n_, i_: (lambda f: f(f))(lambda f: f(f))),
     "RecursionError"),
    (endless, "did not return within"),
])
def test_a1_hostile_input_gets_a_one_line_message_and_no_points(answer, message):
    fb = check("a1", answer)
    assert fb.credit == 0 and message in fb.text(), fb.text()
    assert all("\n" not in f.message and "Traceback" not in f.message for f in fb.findings)


def test_a1_self_check_is_fast_after_the_first_call():
    import time
    check("a1", loop)
    t = time.perf_counter()
    check("a1", loop)
    assert time.perf_counter() - t < 1.0  # generous: the README quotes the measured median


# --------------------------------------------------------------------- a2
A2 = {
    "max_dsigmoid": sp.Rational(1, 4),
    "sigmoid_bound": sp.Rational(1, 4) ** (n - i + 1),
    "i1_bound_has_abs_x": True,
    "bound_attained_for_i_lt_n": False,
    "relu_sup": sp.Abs(x),
    "relu_sup_depends_on_depth": False,
}


@pytest.mark.parametrize("changes", [
    {},
    {"sigmoid_bound": 4 ** (i - n - 1)},
    {"sigmoid_bound": 0.25 ** (n - i + 1), "max_dsigmoid": 0.25},
    {"sigmoid_bound": 2 ** (-2 * (n - i + 1))},
    {"relu_sup": sp.sqrt(x ** 2)},
    {"i1_bound_has_abs_x": np.bool_(True)},
], ids=str)
def test_a2_correct_forms_get_full_credit(changes):
    answer = {**A2, **changes}
    assert grade("a2", answer).credit == pytest.approx(1.0)
    assert not any(f.status in ("wrong", "invalid") for f in check("a2", answer).findings)


@pytest.mark.parametrize("field, value, message", [
    ("max_dsigmoid", sp.Rational(1, 2), "σ(0)"),
    ("max_dsigmoid", 1, "largest slope of tanh"),
    ("sigmoid_bound", sp.Rational(1, 4) ** (n - i), "one factor of max σ' too few"),
    ("sigmoid_bound", sp.Rational(1, 2) ** (n - i + 1), "not the largest slope"),
    ("sigmoid_bound", sp.Rational(1, 4) ** n, "violated: at n=6, i=6"),
    ("sigmoid_bound", sp.Rational(1, 4) ** (n - i + 1) * (1 + 1 / n), "only through the number of layers"),
    ("sigmoid_bound", sp.Rational(1, 4) ** (n - i + 2), "violated: at n=2, i=2 a sampled network with |w_k| < 1 "
                                                        "reaches 4 times your bound — one factor of max σ' too many"),
    ("sigmoid_bound", sp.Integer(1), "never exceeds max σ' = 1/4, as your max_dsigmoid says"),
    ("sigmoid_bound", sp.Rational(1, 4), "does not shrink"),
    ("i1_bound_has_abs_x", False, "unbounded"),
    ("bound_attained_for_i_lt_n", True, "not attained"),
    ("relu_sup", sp.Integer(1), "grows with the input"),
    ("relu_sup", x, "negative for x < 0"),
    ("relu_sup", x ** 2, "grows like |x|^2"),
    ("relu_sup", sp.Integer(100), "a constant: the slope grows with the input"),
    ("relu_sup", sp.Abs(x) / 2, "violated: at x ="),
    ("relu_sup_depends_on_depth", True, "no factor that shrinks"),
])
def test_a2_each_mistake_costs_its_part_with_its_message(field, value, message):
    fb = grade("a2", {**A2, field: value})
    assert fb.credit < 1 and message in fb.text(), fb.text()
    assert any(f.part == field and f.status == "wrong" for f in fb.findings)


@pytest.mark.parametrize("relu_sup", [sp.Max(x, -x), -sp.Min(x, -x), sp.Piecewise((x, x >= 0), (-x, True)),
                                      x * sp.sign(x)], ids=str)
def test_a2_every_form_of_the_absolute_value_passes(relu_sup):
    assert grade("a2", {**A2, "relu_sup": relu_sup}).credit == pytest.approx(1.0)


@pytest.mark.parametrize("bound", [sp.Rational(1, 4) ** (n - i + 2), sp.Rational(1, 8) ** (n - i + 1),
                                   sp.Rational(1, 4) ** n], ids=str)
def test_a2_self_check_and_grader_agree_on_violated(bound):
    mine, graded = check("a2", {**A2, "sigmoid_bound": bound}), grade("a2", {**A2, "sigmoid_bound": bound})
    for fb in (mine, graded):
        assert any(f.part == "sigmoid_bound" and f.status == "wrong" and f.message.startswith("violated")
                   for f in fb.findings), fb.text()


@pytest.mark.parametrize("bound, reading", [
    (sp.Rational(1, 2) ** (n - i), "this far above every sampled slope"),
    (sp.Rational(1, 2) ** (n - i + 1), "pulls away from the slopes"),
    (sp.Integer(1), "this far above every sampled slope"),
], ids=str)
def test_a2_self_check_says_how_close_the_samples_come_to_a_loose_bound(bound, reading):
    fb = check("a2", {**A2, "sigmoid_bound": bound})
    finding = next(f for f in fb.findings if f.part == "sigmoid_bound")
    assert finding.status == "wrong" and reading in finding.message and "sampled networks come within" in finding.message
    assert "1/4" not in finding.message and "0.25" not in finding.message


def test_a2_self_check_on_the_right_bound_reports_closeness_without_the_bound():
    finding = next(f for f in check("a2", A2).findings if f.part == "sigmoid_bound")
    assert finding.status == "info" and "sampled networks come within 100% of it" in finding.message
    assert "1/4" not in finding.message and "4^" not in finding.message


def test_a2_a_bound_of_1_names_max_dsigmoid_only_as_the_student_gave_it():
    text = grade("a2", {**A2, "sigmoid_bound": sp.Integer(1), "max_dsigmoid": sp.Rational(1, 2)}).text()
    assert "never exceeds max σ' (your max_dsigmoid)" in text and "1/4" not in text


def test_a2_relu_self_check_and_grader_agree_on_violated():
    for fb in (check("a2", {**A2, "relu_sup": sp.Integer(1)}), grade("a2", {**A2, "relu_sup": sp.Integer(1)})):
        assert any(f.part == "relu_sup" and f.message.startswith("violated") for f in fb.findings), fb.text()


def test_a2_self_check_finds_violated_bounds_without_the_key():
    fb = check("a2", {**A2, "sigmoid_bound": sp.Rational(1, 8) ** (n - i + 1), "relu_sup": sp.Integer(1)})
    assert "sigmoid_bound: violated" in fb.text() and "relu_sup: violated" in fb.text()
    # the yes/no answers are not revealed by the self-check
    fb = check("a2", {**A2, "bound_attained_for_i_lt_n": True})
    assert "recorded; judged when graded" in fb.text() and "not attained" not in fb.text()


@pytest.mark.parametrize("answer, message", [
    ([1, 2], "expects a dict"),
    ({}, "not answered yet"),                        # the release's a2 = {…} before anything is written
    ({"max_dsigmoid": sp.Rational(1, 4)}, "missing"),
    ({**A2, "max_dsigmoid": "1/4"}, "string"),
    ({**A2, "i1_bound_has_abs_x": "yes"}, "must be True or False"),
    ({**A2, "sigmoid_bound": sp.Symbol("k")}, "unknown symbol 'k'"),
    ({**A2, "relu_sup": float("nan")}, "finite"),
])
def test_a2_hostile_input(answer, message):
    fb = grade("a2", answer)
    assert message in fb.text() and fb.credit < 1
    assert message in check("a2", answer).text()
