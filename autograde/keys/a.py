"""Keys for task (a): the boxed formula of a1 and the facts a2 asks for."""
from __future__ import annotations

import functools

import sympy as sp

from course_lib.tasks.a import dsigma, h, w
from . import Key


DEEPEST = 8  # the largest n a request asks for


@functools.cache
def a1_reference(n: int, i: int) -> sp.Expr:
    """∂h_n/∂w_i = h_{i-1} σ'(w_i h_{i-1}) ∏_{k=i+1}^{n} w_k σ'(w_k h_{k-1}).

    Built once per case in a grading process: the judges' warm-up builds every case of ``a1_cases``."""
    return h(i - 1) * dsigma(w[i] * h(i - 1)) * sp.Mul(*(w[k] * dsigma(w[k] * h(k - 1)) for k in range(i + 1, n + 1)))


def a1_request(rng) -> dict:
    """Every case up to n = 5, and three deeper cases drawn per student."""
    cases = [[n, i] for n in range(1, 6) for i in range(1, n + 1)]
    while len(cases) < 18:
        n = int(rng.integers(6, DEEPEST + 1))
        case = [n, int(rng.integers(1, n + 1))]
        if case not in cases:
            cases.append(case)
    return {"cases": cases}


def a1_cases() -> list[tuple[int, int]]:
    """Every (n, i) a request can ask for."""
    return [(n, i) for n in range(1, DEEPEST + 1) for i in range(1, n + 1)]


A2_REFERENCE = {
    "max_dsigmoid": lambda p: 0.25,
    "sigmoid_bound": lambda p: 0.25 ** (p["n"] - p["i"] + 1),
    "i1_bound_has_abs_x": True,
    "bound_attained_for_i_lt_n": False,
    "relu_sup": lambda p: abs(p["x"]),
    "relu_sup_depends_on_depth": False,
}

KEYS = {
    "a1": Key(request=a1_request, reference=a1_reference),
    "a2": Key(request=lambda rng: {}, reference=A2_REFERENCE),
}
