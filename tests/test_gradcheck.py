"""Central differences, relative errors and their bands, shape messages; and the MLP they probe."""
import json
import math

import numpy as np
import pytest

from autograde.keys.c import distinct_sizes, step_jacobian
from course_lib import gradcheck, mlp


def test_central_differences_of_a_nonlinear_map():
    A = np.array([[1.0, -2.0, 0.5], [0.3, 0.0, 4.0]])

    def f(U):  # R^3 -> R^2, one input per column
        return np.sin(A @ U) * np.sum(U ** 2, axis=0)

    u = np.array([0.7, -1.3, 0.2])
    exact = np.cos(A @ u)[:, None] * A * np.sum(u ** 2) + np.sin(A @ u)[:, None] * 2 * u[None, :]
    J = gradcheck.numeric_jacobian(f, u)
    assert J.shape == (2, 3)
    assert gradcheck.relative_error(J, exact) < 1e-9


def test_central_differences_of_a_scalar_function_and_selected_columns():
    u = np.array([0.05, 2.0, -3.0, 0.0])
    J = gradcheck.numeric_jacobian(lambda U: -np.log(U[0]) + U[1] * U[2], u, columns=[0, 2])
    assert J.shape == (1, 2)
    assert J[0] == pytest.approx([-1 / 0.05, 2.0], rel=1e-8)


def test_relative_error_is_normwise_symmetric_and_refuses_nan():
    a, b = np.array([1.0, 1e-12]), np.array([1.0, 2e-12])
    assert gradcheck.relative_error(a, b) < 1e-11          # a tiny entry cannot blow it up
    assert gradcheck.relative_error(a, b) == gradcheck.relative_error(b, a)
    assert gradcheck.relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert gradcheck.relative_error([np.nan], [1.0]) == math.inf
    assert gradcheck.relative_error([1.0], [-1.0]) == 2.0


@pytest.mark.parametrize("error, status, words", [
    (3e-10, "ok", "agrees"),
    (1e-7, "ok", "agrees"),
    (2e-6, "wrong", "close"),
    (5e-3, "wrong", "usually wrong"),
    (0.4, "wrong", "does not match"),
    (math.inf, "wrong", "does not match"),
])
def test_bands_read_the_error_as_cs231n_does(error, status, words):
    got_status, text = gradcheck.report(error)
    assert got_status == status and words in text and f"{error:.1e}" in text


def test_shape_messages():
    assert gradcheck.shape_text((256, 784)) == "256×784"
    assert gradcheck.shape_text(()) == "a single number"
    assert gradcheck.product_shape_problem(["A", "B"], [(1, 10), (10, 256)]) is None
    message = gradcheck.product_shape_problem(["J_z1(x)", "J_z2(z1)"], [(256, 784), (256, 256)])
    assert "J_z1(x) (256×784) · J_z2(z1) (256×256)" in message and "784 columns against 256 rows" in message


# ------------------------------------------------------------------ the MLP and its steps
STEPS = [("L", "z3"), ("z3", "o3"), ("o3", "z2"), ("z2", "o2"), ("o2", "z1"), ("z1", "o1"), ("o1", "x"), ("o1", "b1")]


@pytest.mark.parametrize("seed", range(6))
def test_central_differences_of_every_step_agree_with_the_closed_forms(seed):
    rng = np.random.default_rng(seed)
    fwd = mlp.Forward(mlp.random_network(mlp.SIZES if seed == 0 else distinct_sizes(rng), rng))
    for step in STEPS:
        assert gradcheck.relative_error(fwd.numeric_jacobian(*step), step_jacobian(fwd, step)) < 1e-8, step


def test_the_whole_gradient_by_central_differences_is_inside_the_ok_band():
    """The bands' promise: float64 central differences of L itself stay far below 1e-7."""
    worst = 0.0
    for seed in range(10):
        rng = np.random.default_rng(100 + seed)
        fwd = mlp.Forward(mlp.random_network(mlp.SIZES if seed < 2 else distinct_sizes(rng), rng))
        d3 = fwd["z3"] - np.eye(fwd.sizes[3])[fwd["y"] - 1]
        d1 = (1 - fwd["z1"] ** 2) * (fwd["W2"].T @ ((1 - fwd["z2"] ** 2) * (fwd["W3"].T @ d3)))
        worst = max(worst, gradcheck.relative_error(fwd.numeric_jacobian("L", "b1")[0], d1),
                    gradcheck.relative_error(fwd.numeric_jacobian("L", "x")[0], fwd["W1"].T @ d1))
    assert worst < 1e-8


def test_probe_networks_stay_away_from_saturation_and_the_loss_is_finite():
    rng = np.random.default_rng(7)
    for sizes in [mlp.SIZES, (9, 7, 5, 4)]:
        fwd = mlp.Forward(mlp.random_network(sizes, rng))
        assert fwd.sizes == sizes
        assert np.abs(fwd["o1"]).max() < 3 and np.abs(fwd["o2"]).max() < 3
        assert np.isfinite(fwd["L"]) and fwd["L"] == pytest.approx(-np.log(fwd["z3"][fwd["y"] - 1]))


def test_stable_softmax_and_log_softmax_where_the_naive_forms_fail():
    assert np.all(np.isfinite(mlp.softmax(np.array([1000.0, 0.0, -5.0]))))
    assert mlp.cross_entropy(np.array([0.0, -800.0, 3.0]), 2) == pytest.approx(803.0486, abs=1e-4)


def test_a_recipe_draws_the_network_its_generator_drew_and_the_generator_moves_on_as_it_would():
    rng, twin = np.random.default_rng(7), np.random.default_rng(7)
    recipes = [mlp.drawn(sizes, rng) for sizes in ((5, 4, 3, 2), mlp.SIZES)]
    for recipe, sizes in zip(recipes, ((5, 4, 3, 2), mlp.SIZES)):
        mlp._drawn.clear()  # drawn again from the recipe alone, as a kernel reading its request file does
        again, expected = mlp.network_from(json.loads(json.dumps(recipe))), mlp.random_network(sizes, twin)
        assert all(np.array_equal(again[k], expected[k]) for k in ("x", *mlp.PARAMETERS))
        assert again["y"] == expected["y"]
    assert rng.random() == twin.random()
    assert len(json.dumps(recipes)) < 1000


@pytest.mark.parametrize("recipe", [
    None, [], {}, {"sizes": [5, 4, 3, 2]}, {"sizes": [5, 4, 3], "state": {}},
    {"sizes": [5, 4, 3, 10**6], "state": np.random.default_rng(0).bit_generator.state},
    {"sizes": [5, 4, 3, 2.0], "state": np.random.default_rng(0).bit_generator.state},
    {"sizes": [5, 4, 3, True], "state": np.random.default_rng(0).bit_generator.state},
    {"sizes": [5, 4, 3, 2], "state": {**np.random.default_rng(0).bit_generator.state, "bit_generator": "MT19937"}},
    {"sizes": [5, 4, 3, 2], "state": {"bit_generator": "PCG64", "state": {"state": "x", "inc": 1}}},
])
def test_anything_but_a_recipe_is_refused_with_a_value_error(recipe):
    with pytest.raises(ValueError, match="not a network's recipe"):
        mlp.network_from(recipe)


def test_a_function_gets_the_forward_quantities_it_names():
    fwd = mlp.Forward(mlp.random_network((5, 4, 3, 2), np.random.default_rng(0)))
    def product(W2, z1):
        return W2 @ z1
    assert product(**mlp.arguments_for(product, fwd.values)) == pytest.approx(fwd["o2"] - fwd["b2"])
    assert set(mlp.arguments_for(lambda **everything: None, fwd.values)) == set(mlp.FORWARD_NAMES)
    with pytest.raises(ValueError, match="'W' is not a forward quantity"):
        mlp.arguments_for(lambda W, x: None, fwd.values)
