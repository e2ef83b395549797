"""Keys for task (c) and the bonus: the Jacobians in closed form, and hidden networks of random sizes.

Every hidden request has the full 784-256-256-10 network with fresh weights and
smaller networks whose four sizes are drawn per student and differ from each
other, so that a transposed factor cannot have the right shape by accident.
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from course_lib import expr_json as ej
from course_lib import mlp
from course_lib.tasks.c import BonusReference, bonus_request, delta, s_i, s_j, u
from . import Key


def distinct_sizes(rng) -> tuple:
    """(n0, n1, n2, n3), all different: n0 in 8..40, n1 and n2 in 5..30, n3 in 3..12."""
    while True:
        sizes = (int(rng.integers(8, 41)), int(rng.integers(5, 31)), int(rng.integers(5, 31)), int(rng.integers(3, 13)))
        if len(set(sizes)) == 4:
            return sizes


def c2_request(rng) -> dict:
    sizes = [mlp.SIZES, distinct_sizes(rng), distinct_sizes(rng)]
    return {"networks": [mlp.drawn(s, rng) for s in sizes]}


def step_jacobian(fwd: mlp.Forward, step) -> np.ndarray:
    """The row-layout Jacobian of one elementary step of the chain."""
    out, node = step
    if out == "L":
        z, y = fwd["z3"], fwd["y"]
        row = np.zeros((1, z.size))
        row[0, y - 1] = -1.0 / z[y - 1]                        # −e_yᵀ / z3_y
        return row
    if out == "z3":
        z = fwd["z3"]
        return np.diag(z) - np.outer(z, z)                     # s_i (δ_ij − s_j)
    if out in ("z1", "z2"):
        return np.diag(1.0 - fwd[out] ** 2)                    # diag(1 − z ⊙ z)
    if node == "b1":
        return np.eye(fwd.size("o1"))                          # J_{o1}(b1) = I
    return fwd["W" + out[1]].copy()                            # J_{o_l}(z_{l−1}) = W_l


C3_REFERENCE = {"tanh": 1 - sp.tanh(u) ** 2, "softmax": s_i * (delta - s_j)}


def c3_reference(kind: str, probes) -> np.ndarray:
    return np.broadcast_to(ej.evaluate(ej.to_data(C3_REFERENCE[kind]), probes.env),
                           next(iter(probes.env.values())).shape).astype(float)


def exact_entries(fwd: mlp.Forward, triples) -> np.ndarray:
    """∂o1_i/∂W1_kl = δ_ik x_l."""
    t = np.asarray(triples, dtype=int).reshape(-1, 3)
    return np.where(t[:, 0] == t[:, 1], fwd["x"][t[:, 2]], 0.0)


def exact_delta1(fwd: mlp.Forward) -> np.ndarray:
    """δ1 = (∇_{o1} L)ᵀ by the backprop recursion, from δ3 = z3 − e_y."""
    d3 = fwd["z3"].copy()
    d3[fwd["y"] - 1] -= 1.0
    d2 = (1.0 - fwd["z2"] ** 2) * (fwd["W3"].T @ d3)
    return (1.0 - fwd["z1"] ** 2) * (fwd["W2"].T @ d2)


def bonus_sizes(rng) -> tuple:
    """A small network for all entries of J_{o1}(W1): n0 in 4..9, n1 in 3..6, n1 ≠ n0."""
    n0_ = int(rng.integers(4, 10))
    n1_ = int(rng.choice([n for n in range(3, 7) if n != n0_]))
    return (n0_, n1_, int(rng.integers(3, 7)), int(rng.integers(3, 6)))


KEYS = {
    "c1": Key(request=lambda rng: {}, reference=None),  # the structure follows from the sheet's definition alone
    "c2": Key(request=c2_request, reference=step_jacobian),
    "c3": Key(request=lambda rng: {}, reference=c3_reference),
    "c_bonus": Key(request=lambda rng: bonus_request(rng, bonus_sizes(rng), [distinct_sizes(rng), distinct_sizes(rng)]),
                   reference=BonusReference(exact_entries, exact_delta1, exact=True), extra_credit=4.0),
}
