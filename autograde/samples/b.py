"""Typical mistakes in task (b), as submissions (answer cell sources) and the points they earn.

Each variant is the reference answer with one slip put in, so the sources are derived from
solutions/sheet03/b_rosenbrock_graph.ipynb rather than copied.
"""
from .sources import reference_with


VARIANTS = {
    # M1: ∂(x2 − v1)/∂v1 written as +1; adjoints and ∇f still right
    "mistake_b_sign_on_edge": {
        "b1_answer": reference_with("b1_answer", ('d=[1, -1]', 'd=[1, 1]')),
    },
    # M7: the adjoint of x1 keeps only the path through v1, and ∇f copies it
    "mistake_b_fan_out": {
        "b3_answer": reference_with("b3_answer", ("x1: -400 * x1 * v2 - 2 * v5", "x1: -400 * x1 * v2"),
                           (" - 2 * (1 - x1)", "")),
    },
    # one node squares and scales at once; b3 then refers to a node that no longer exists
    "mistake_b_super_node": {
        "b1_answer": reference_with("b1_answer", ('v3 = G.op("v3", "pow", v2, e=2, d=[2 * v2])\n', ""),
                           ('"*", c100, v3, d=[None, c100]', '"100 * square", v2, d=[200 * v2]')),
    },
}

# graded cell -> points, where they differ from full marks (checked by tests/test_task_b.py through the verdict)
EXPECTED = {
    "mistake_b_sign_on_edge": {"b2": 1.33},                  # 8 of 9 labels × 1.5
    "mistake_b_fan_out": {"b3": 1.64},                       # (½·8/9 + ½·(1 + ½)/2) × 2: ∇f's x1 is a follow-on
    # b1: the super node is the one problem (the unused c100 a note): ½ of the structure half; b2: 7 of 8 edges,
    # only the super node's own is lost; b3: NameError, nothing handed in
    "mistake_b_super_node": {"b1": 0.38, "b2": 1.31, "b3": 0.0},
}

# phrases the feedback must show for each variant
MESSAGES = {
    "mistake_b_sign_on_edge": ["the label has the wrong sign"],
    "mistake_b_fan_out": ["has only the path through v1; x1 also feeds v5"],
    "mistake_b_super_node": ["is not an operation of the graph", "its edges cannot be judged",
                             "the constant c100 is not used by any node; it changes nothing"],
}
