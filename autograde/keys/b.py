"""Keys for task (b): the Rosenbrock function and its gradient, written out from the reference solution.

The graph itself has no key: any graph of the allowed operations that computes f
is right, its edges are judged against SymPy's derivative of each node's
operation, and its adjoints against the reverse sweep over it. What a graph must
compute, and the gradient every correct graph leads to, are these.
"""
from __future__ import annotations

from course_lib.tasks.b import x1, x2
from . import Key

B_REFERENCE = {
    "f": 100 * (x2 - x1**2) ** 2 + (1 - x1) ** 2,
    # ∇f = (−400 x1 (x2 − x1²) − 2 (1 − x1), 200 (x2 − x1²)), expanded
    "grad": (400 * x1**3 - 400 * x1 * x2 + 2 * x1 - 2, 200 * x2 - 200 * x1**2),
}

# Everything is judged from the answer data with fresh probes; nothing is asked of the kernel.
KEYS = {task: Key(request=lambda rng: {}, reference=B_REFERENCE) for task in ("b1", "b2", "b3")}
