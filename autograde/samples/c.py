"""Typical mistakes in task (c) and the bonus (and one right answer that leans on an example cell), as submissions

Each variant is the reference answer of solutions/sheet03/c_mlp_jacobians.ipynb with slips put in.
Every slip is wrong on every network the grader may draw, so the points do not depend on the secret.
"""
from .sources import reference_with

VARIANTS = {
    # y feeds z3 as well; softmax Jacobian without −z3 z3ᵀ; 1 − z1 for tanh' in J_z1(x);
    # only the final forms in c3; the bonus's memory counted in float32
    "mistake_c_softmax_diag": {
        "c1_answer": reference_with("c1_answer", ('"softmax(W3·z2 + b3)", z2, d=[J("z3", "z2")]',
                                         '"softmax(W3·z2 + b3)", z2, y, d=[J("z3", "z2"), None]')),
        "c2_answer": reference_with("c2_answer", ("(np.diag(z3) - np.outer(z3, z3)) @ W3", "np.diag(z3) @ W3"),
                           ("return (1.0 - z1 ** 2)[:, None] * W1", "return (1.0 - z1)[:, None] * W1")),
        "c3_answer": reference_with("c3_answer", ("((e(u) + e(-u)) ** 2 - (e(u) - e(-u)) ** 2) / (e(u) + e(-u)) ** 2,", ""),
                           ("1 - ((e(u) - e(-u)) / (e(u) + e(-u))) ** 2,", ""),
                           ("(delta * e(o_i) * S - e(o_i) * e(o_j)) / S ** 2,", ""),
                           ("e(o_i) / S * (delta - e(o_j) / S),", "")),
        "bonus_answer": reference_with("bonus_answer", ('"bytes": n1 * n1 * n0 * 8', '"bytes": n1 * n1 * n0 * 4')),
    },
    # the column layout, but J_z2(z1) left in the row layout; J_z1(b1) without the tanh step;
    # δ_ij forgotten in the softmax derivation; the bonus with a matrix for the tensor and x δ1ᵀ
    "mistake_c_column_layout": {
        "c2_answer": reference_with(
            "c2_answer",
            ("return row\n", "return row.T\n"),
            ("(np.diag(z3) - np.outer(z3, z3)) @ W3", "((np.diag(z3) - np.outer(z3, z3)) @ W3).T"),
            ("return (1.0 - z1 ** 2)[:, None] * W1", "return ((1.0 - z1 ** 2)[:, None] * W1).T"),
            ("return np.diag(1.0 - z1 ** 2)", "return np.eye(z1.size)"),
            ('"layout": "row"', '"layout": "column"'),
            ("((1, n3), J_L_z3)", "((n3, 1), J_L_z3)"), ("((n3, n2), J_z3_z2)", "((n2, n3), J_z3_z2)"),
            ("((n2, n1), J_z2_z1)", "((n1, n2), J_z2_z1)"), ("((n1, n0), J_z1_x)", "((n0, n1), J_z1_x)"),
            ('"grad_x": ["J_L(z3)", "J_z3(z2)", "J_z2(z1)", "J_z1(x)"]',
             '"grad_x": ["J_z1(x)", "J_z2(z1)", "J_z3(z2)", "J_L(z3)"]'),
            ('"grad_b1": ["J_L(z3)", "J_z3(z2)", "J_z2(z1)", "J_z1(b1)"]',
             '"grad_b1": ["J_z1(b1)", "J_z2(z1)", "J_z3(z2)", "J_L(z3)"]')),
        "c3_answer": reference_with("c3_answer", ("(delta * e(o_i) * S - e(o_i) * e(o_j)) / S ** 2",
                                         "(e(o_i) * S - e(o_i) * e(o_j)) / S ** 2")),
        "bonus_answer": reference_with("bonus_answer", ('"shape": (n1, n1, n0)', '"shape": (n1, n0)'),
                              ('"bytes": n1 * n1 * n0 * 8', '"bytes": n1 * n0 * 8'),
                              ("return x[l] if i == k else 0.0", "return x[l]"),
                              ("return np.outer(d1, x)", "return np.outer(x, d1)")),
    },
    # hostile code in the grading kernel: an 8 GB allocation, a string for a step, an endless loop
    "mistake_c_hostile": {
        "c2_answer": reference_with("c2_answer", ("return np.diag(1.0 - z1 ** 2)", "return np.ones(10 ** 9)")),
        "c3_answer": reference_with("c3_answer", ("1 - sp.tanh(u) ** 2,", '"1 - tanh(u)**2",')),
        "bonus_answer": reference_with("bonus_answer", ("return x[l] if i == k else 0.0", "while True:\n        pass")),
    },
    # right, and reading names bound by cells that only show something (the softmax examples' z, the plot's
    # slope): those cells, and the examples they read, then run when graded (autograde/display_cells.py)
    "right_c_reads_an_example": {
        "bonus_answer": reference_with("bonus_answer", ("return x[l] if i == k else 0.0",
                                                        "return x[l] if i == k else 0.0 * z[0] * slope[0]")),
    },
}

# graded cell -> points, where they differ from full marks (the bonus cell always has 0 points)
EXPECTED = {
    # c1: labels only (0.2); c2: chains 0.2 + shapes 0.3 + 3 of 5 values 0.24 = 0.74 × 3;
    # c3: the two final forms, 0.4 × 0.5 each, × 2
    "mistake_c_softmax_diag": {"c1": 0.2, "c2": 2.22, "c3": 0.8},
    # c2: chains 0.2 + 4 of 5 shapes 0.24 + 3 of 5 values 0.24 = 0.68 × 3;
    # c3: tanh 0.5 + softmax's final form 0.2, × 2
    "mistake_c_column_layout": {"c2": 2.04, "c3": 1.4},
    # c2: J_z1(b1) has neither shape nor value, grad_b1 cannot be formed: 0.2 + 0.24 + 0.32 + 0.05 = 0.81 × 3;
    # c3: the softmax half
    "mistake_c_hostile": {"c2": 2.43, "c3": 1.0},
}

# bonus cell -> Grade.extra_credit after grading (4 for the reference)
EXTRA_CREDIT = {
    "reference": {"c_bonus": 4.0},
    "mistake_c_softmax_diag": {"c_bonus": 3.6},    # all but the memory (0.1 × 4)
    "mistake_c_column_layout": {"c_bonus": 0.0},
    "mistake_c_hostile": {"c_bonus": 2.8},         # all but the entries (0.3 × 4)
    "right_c_reads_an_example": {"c_bonus": 4.0},
}

# phrases each variant's feedback must show
MESSAGES = {
    "mistake_c_softmax_diag": ["y enters only L", "the term −z3·z3ᵀ is missing", "1 − tanh without the square",
                               "step 1 is its derivative", "float32"],
    "mistake_c_column_layout": ["in the column layout it is", "the step o1 → z1 is missing", "needs δ_ij",
                                "the index i of o1_i is lost", "transposed, ∇_{W1}L has the shape of W1"],
    "mistake_c_hostile": ["ran out of memory", "got a string", "did not return within"],
}
