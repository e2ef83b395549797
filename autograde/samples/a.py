"""Typical mistakes in task (a), as submissions (answer cell sources) and the points they earn."""

_A1 = '''def dh_dw(n, i):
    result = {first}
    for k in range({start}, n + 1):
        result *= w[k] * dsigma(w[k] * h(k - 1))
    return result
'''

VARIANTS = {
    # a1 without the factor h_(i-1); a2 with max σ' = 1/2 and the ReLU bound 1
    "mistake_a_missing_h": {
        "a1_answer": _A1.format(first="dsigma(w[i] * h(i - 1))", start="i + 1"),
        "a2_answer": '''a2 = {
    "max_dsigmoid": sp.Rational(1, 2),
    "sigmoid_bound": sp.Rational(1, 2) ** (n - i + 1),
    "i1_bound_has_abs_x": True,
    "bound_attained_for_i_lt_n": True,
    "relu_sup": sp.Integer(1),
    "relu_sup_depends_on_depth": False,
}
''',
    },
    # a1 with the product starting at k = i, so that it contains w_i; a2 correct
    "mistake_a_product_range": {
        "a1_answer": _A1.format(first="h(i - 1)", start="i"),
    },
    # right answers, but the graded cell of a1 was edited to print a score: nbgrader restores it
    "edited_graded_cell": {"a1": "print(2.0)\n2.0\n"},
    # the kernel dies in the a2 answer cell: a1, handed in before, keeps its points
    "crash_in_a2": {"a2_answer": "import os\nos._exit(1)\n"},
}

# graded cell -> points, where they differ from full marks
EXPECTED = {
    "mistake_a_missing_h": {"a1": 0.0, "a2": 0.3},  # a2: only the two right yes/no answers (0.1 + 0.1) × 1.5
    "mistake_a_product_range": {"a1": 0.0},
    "crash_in_a2": {"a2": 0.0},
}

# phrases the feedback must show for each variant
MESSAGES = {
    "mistake_a_missing_h": ["missing the factor x", "that is σ(0)", "the bound is not attained",
                            "the slope grows with the input"],
    "mistake_a_product_range": ["the product contains w_i"],
    "crash_in_a2": ["the kernel died"],
}
