r"""The operations a node of a computation graph may do: the one table everything else reads.

Each entry says all there is to know about one operation:

    name     how a node names it: ``G.op("v1", "pow", x1, e=2)``
    arities  the numbers of inputs it takes ("-" takes one, for −a, or two)
    apply    its value, on numbers, NumPy arrays and SymPy expressions alike; the local
             derivatives are SymPy's derivatives of it (``local_derivative``), so they
             need no entry of their own
    tex      how ``draw`` writes the node's right-hand side, from its inputs' TeX
    degree   a bound on its polynomial degree from its inputs' degrees (task b skips the
             symbolic confirmation of graphs whose degree is too high)
    python   the Python operator methods ``trace`` turns into it, each with the order of
             its operands: "ab" for ``a + b`` (``a.__add__(b)``), "ba" for the reflected
             ``2 + a`` (``a.__radd__(2)``), "a" for a unary operator or a power
    exponent whether it takes the natural exponent e (then only e, never a node, follows
             the Python operator)

Adding an operation is adding an entry here: reading (``graph_read``), evaluation and
the sweeps (``graph_eval``), ``trace``, ``draw`` and task (b)'s checks take it from this
table; tests/test_graph.py runs every entry through all of them. (Task b2 also names a few
slips typical of "pow" and "*", ``tasks.b.edge_slips``; an operation without such
extras is graded all the same, its wrong labels found by value.)
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Callable

import sympy as sp

from .i18n import N_

LEAVES = ("input", "const")   # the kinds of node that do no operation


@dataclass(frozen=True)
class Operation:
    name: str
    arities: tuple[int, ...]
    apply: Callable       # (inputs, e) -> value
    tex: Callable         # (inputs as TeX, e) -> TeX
    degree: Callable      # (inputs' degrees, e) -> degree
    python: dict          # operator method -> order of operands
    exponent: bool = False


def _minus(args, e=None):
    return -args[0] if len(args) == 1 else args[0] - args[1]


OPERATIONS = {op.name: op for op in (
    Operation("+", (2,), lambda a, e: a[0] + a[1], lambda t, e: f"{t[0]} + {t[1]}", lambda d, e: max(d),
              {"__add__": "ab", "__radd__": "ba"}),
    Operation("-", (1, 2), _minus, lambda t, e: f"-{t[0]}" if len(t) == 1 else f"{t[0]} - {t[1]}",
              lambda d, e: max(d), {"__sub__": "ab", "__rsub__": "ba", "__neg__": "a"}),
    Operation("*", (2,), lambda a, e: a[0] * a[1], lambda t, e: rf"{t[0]} \cdot {t[1]}", lambda d, e: sum(d),
              {"__mul__": "ab", "__rmul__": "ba"}),
    Operation("pow", (1,), lambda a, e: a[0] ** e, lambda t, e: f"{t[0]}^{{{e}}}", lambda d, e: d[0] * e,
              {"__pow__": "a"}, exponent=True),
)}

# Operations students sometimes reach for, with the reason they are not nodes here.
REFUSED = {
    **dict.fromkeys(("/", "div", "divide", "truediv"), N_("division is not one of the graph's operations")),
    **dict.fromkeys(("exp", "log", "ln", "sqrt", "sin", "cos", "tanh", "abs", "sigmoid", "relu"),
                    N_("{op} is not one of the graph's operations")),
    **dict.fromkeys(("**", "^", "square", "sq", "power"), N_("write a power as the operation 'pow' with e=…")),

}


def apply(op: str, args: list, e=None):
    """The value of one operation on numbers, NumPy arrays or SymPy expressions alike."""
    return OPERATIONS[op].apply(args, e)


SLOT_SYMBOLS = sp.symbols(f"a0:{max(max(op.arities) for op in OPERATIONS.values())}")   # a0, a1: one per input slot


@functools.lru_cache(maxsize=256)
def local_derivative(op: str, arity: int, e, slot: int) -> sp.Expr:
    """SymPy's own derivative of the operation with respect to input ``slot``, in the symbols a0, a1.

    The inputs are distinct symbols here, so for x1 * x1 each of the two parallel
    edges gets its own share.
    """
    args = list(SLOT_SYMBOLS[:arity])
    return sp.diff(apply(op, args, e), args[slot])
