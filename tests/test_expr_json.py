import json
import math

import numpy as np
import pytest
import sympy as sp

from course_lib import expr_json as ej

x, y = sp.symbols("x y")
f = sp.Function("sigma")


@pytest.mark.parametrize("expr", [
    x * y + 3, (x - y) ** 2 / 7, sp.Rational(1, 4) ** (x + 1), sp.Abs(x) * sp.exp(-y), f(x * y) * 2.5,
    sp.pi * x, sp.E ** x, sp.tanh(x) + sp.sin(y) - sp.cos(x) + sp.log(y ** 2 + 1), -x,
])
def test_round_trip_is_the_same_expression(expr):
    data = json.loads(json.dumps(ej.to_data(expr)))
    ej.validate(data, {"x", "y"}, {"sigma"})
    assert sp.simplify(ej.from_data(data, functions={"sigma": f}) - expr) == 0


def test_evaluate_matches_sympy():
    expr = (x - y) ** 2 / 7 + sp.Abs(x) * sp.exp(-y) + sp.Rational(1, 3)
    pts = {"x": np.array([0.5, -2.0]), "y": np.array([1.5, 3.0])}
    expected = [float(expr.subs({x: a, y: b})) for a, b in zip(pts["x"], pts["y"])]
    assert np.allclose(ej.evaluate(ej.to_data(expr), pts), expected, rtol=1e-12)


def test_python_numbers_are_accepted():
    assert ej.to_data(3) == ["int", "3"]
    assert ej.to_data(0.25) == ["float", "0.25"]


@pytest.mark.parametrize("bad, message", [
    ("x + 1", "string"), (lambda: x, "function"), (float("nan"), "finite"), (sp.nan, "NaN"),
    (sp.zoo, "infinite"), (True, "True/False"), ([x], "list"), (sp.Derivative(f(x), x), "derivative"),
    (sp.floor(x), "floor"), (sp.Integral(x, x), "Integral"),
    (sp.Piecewise((x, sp.Contains(x, sp.Interval(0, 1))), (0, True)), "condition"),
])
def test_wrong_kinds_of_input_get_one_line_messages(bad, message):
    with pytest.raises(ej.ExpressionError, match=message) as info:
        ej.to_data(bad)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("data, message", [
    (["sym", "z"], "unknown symbol 'z'"),
    (["call", "__import__", ["sym", "x"]], "not allowed"),
    (["call", "eval", ["sym", "x"]], "not allowed"),
    (["int", "1" * 500], "malformed"),
    (["float", "nan"], "NaN"),
    (["rat", "1", "0"], "malformed rational"),
    (["lambda", "x"], "unknown node kind"),
    ({"op": "add"}, "malformed"),
    ("x + y", "malformed"),
    (["add", ["sym", "x"]], "malformed sum"),
])
def test_validate_rejects_what_is_not_whitelisted(data, message):
    with pytest.raises(ej.ExpressionError, match=message):
        ej.validate(data, {"x", "y"}, {"sigma"})


def test_huge_and_deep_data_is_refused_quickly():
    deep = ["sym", "x"]
    for _ in range(ej.MAX_DEPTH + 5):
        deep = ["call", "sigma", deep]
    with pytest.raises(ej.ExpressionError, match="too large"):
        ej.validate(deep, {"x"}, {"sigma"})
    wide = ["add", *([["sym", "x"]] * (ej.MAX_NODES + 1))]
    with pytest.raises(ej.ExpressionError, match="too large"):
        ej.validate(wide, {"x"}, set())
    with pytest.raises(ej.ExpressionError, match="too large"):
        ej.to_data(sp.Add(*sp.symbols(f"s0:{ej.MAX_NODES + 1}")))


def test_overflow_evaluates_to_inf_not_an_exception():
    out = ej.evaluate(ej.to_data(sp.exp(x) ** 1000), {"x": np.array([10.0])})
    assert not math.isfinite(out[0])


@pytest.mark.parametrize("expr", [sp.Max(x, -x), sp.Min(x, 2, -x), sp.Piecewise((x, x >= 0), (-x, True)),
                                  sp.Piecewise((x, sp.And(x > 0, sp.Not(x > 5))), (0, sp.Or(x <= 0, x > 5))),
                                  x * sp.sign(x), 1 / sp.cosh(x) ** 2, sp.sech(x) + sp.sinh(x)], ids=str)
def test_max_min_piecewise_and_hyperbolic_functions_round_trip_and_evaluate(expr):
    data = ej.to_data(expr)
    ej.validate(data, {"x"}, set())
    assert ej.from_data(data, {"x": x}) == expr
    points = np.array([-2.0, 0.5, 3.0, 7.0])
    expected = sp.lambdify(x, expr, "numpy")(points)
    assert np.allclose(ej.evaluate(data, {"x": points}), expected)


@pytest.mark.parametrize("data", [["max", ["sym", "x"]], ["piecewise"], ["piecewise", [["sym", "x"]]],
                                  ["piecewise", [["sym", "x"], ["rel", "<>", ["sym", "x"], ["int", "0"]]]],
                                  ["piecewise", [["sym", "x"], ["and", ["true"]]]],
                                  ["piecewise", [["sym", "x"], ["rel", "<", ["sym", "y"], ["int", "0"]]]],
                                  ["piecewise", [["sym", "x"], ["and", *[["true"]] * (ej.MAX_NODES + 1)]]]])
def test_malformed_max_and_piecewise_data_is_refused(data):
    with pytest.raises(ej.ExpressionError):
        ej.validate(data, {"x"}, set())


# --- hostile data: powers whose size multiplies down nested exponents -----------------------------

def _nested(base, exponent, times):
    for _ in range(times):
        base = ["pow", base, ["int", str(exponent)]]
    return base


@pytest.mark.parametrize("data", [
    ["pow", ["rat", str(10**59), str(10**59 + 1)], ["int", str(10**59)]],   # 1.0 in float64, 10^61 digits in SymPy
    _nested(["add", ["sym", "x"], ["int", "1"]], 64, 5),                     # (x+1)**(64**5), each exponent ≤ 64
    _nested(["sym", "n0"], 64, 3),                                          # n0 under nested exponents
    ["pow", ["sym", "n0"], ["pow", ["int", "2"], ["int", "64"]]],            # a tower
    ["pow", ["sym", "x"], ["float", "1e300"]],
])
def test_powers_are_bounded_by_their_product_along_the_nesting(data):
    with pytest.raises(ej.ExpressionError, match="power"):
        ej.validate(data, {"x", "n0"}, set())


@pytest.mark.parametrize("expr", [x**64, (x + 1)**100 * (x - 1)**-3, ((x**2 + 1)**10)**100, x**(1 / y),
                                  sp.Rational(1, 4)**(y - 1), sp.sqrt(x)**(y + 2)])
def test_ordinary_powers_pass(expr):
    ej.validate(ej.to_data(expr), {"x", "y"}, set())
