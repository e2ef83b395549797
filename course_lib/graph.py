r"""Computation graphs written by hand: the students' face of the graph modules.

A graph is a list of nodes. Leaves are the function's inputs and constants; every
other node applies one operation to its ordered inputs (the table of them is
``graph_operations.OPERATIONS``):

    "+"    a + b
    "-"    a − b, or −a with a single input (negation)
    "*"    a · b              (a and b may be the same node: x1 * x1)
    "pow"  a^e                with a natural exponent e = 1, 2, 3, …

An edge u → v exists for every input slot of v that u fills, so x1 * x1 has two
parallel edges. Each edge carries a label, the local derivative ∂v/∂u with v's
other inputs held fixed, written as a SymPy expression in node names (a node's
name stands for its value). Edges leaving constants need no label.

Students build graphs with ``Graph`` (or get the skeleton from ``trace``) and hand
in ``G.to_data()``. The rest lives in modules of its own and is imported here too:

    graph_operations  the table of operations (arity, value, local derivative, drawing,
                      degree, Python operators): adding an operation is one entry there
    graph_read        reading the data back into a ``Model`` without trusting it
                      (a cycle, an unknown name, a wrong arity is reported, not evaluated)
    graph_eval        values forward, adjoints by the reverse sweep, both at probe points

Task (c1) uses ``Graph`` for a second graph language: the nodes are the network's
quantities (x, y, z1, z2, z3, L; W1…b3 and o1…o3 if drawn), an "operation" is a
free text that describes the step (``G.op("z1", "tanh(W1·x + b1)", x, d=[J("z1",
"x")])``), and each label is the symbol of a Jacobian, ``J("z1", "x")`` = J_z1(x),
or None for y → L. Such a graph is never read by ``graph_read`` nor evaluated — its
operations are not in the table and its values are vectors —: c1 reads the same
``to_data()`` form itself (``course_lib.tasks.c.read_loss_graph``) and judges only
which node takes which inputs and that each edge carries its Jacobian's symbol. It
imports ``Graph`` and ``GraphError`` from here, as students do.
"""
from __future__ import annotations

import inspect
import numbers

import sympy as sp

from . import expr_json as ej
from .errors import Unusable
from .graph_eval import contributions, evaluate_at, forward, gradient, label_problem, sweep
from .graph_operations import LEAVES, OPERATIONS, REFUSED, SLOT_SYMBOLS, Operation, local_derivative
from .graph_read import MAX_NODES, GraphError, Model, Node, read
from .i18n import _

# What the tasks, draw and the tests use, importable from the one module students know.
__all__ = ["Graph", "trace", "encode_expr",
           "LEAVES", "OPERATIONS", "SLOT_SYMBOLS", "local_derivative",
           "GraphError", "MAX_NODES", "Model", "Node", "read",
           "contributions", "evaluate_at", "forward", "gradient", "label_problem", "sweep"]


# ====================================================================== building a graph
class Graph:
    """A computation graph written node by node. Every method returns the node's symbol,
    so labels can be written with the names: ``d=[2*x1]``.

        G = Graph()
        x = G.input("x")
        y = G.input("y")
        c3 = G.const("c3", 3)
        s = G.op("s", "+", x, y, d=[1, 1])
        g = G.op("g", "*", c3, s, d=[None, c3])      # g = 3 (x + y); constants need no label

    Inputs may be given as the returned symbols or as names; a node may use a node
    that is only added further down. ``G.input("x1b", copy_of="x1")`` adds a second
    leaf for x1, for a tree that draws x1 once per use.
    """

    def __init__(self):
        self._nodes: list[dict] = []

    def input(self, name, copy_of=None) -> sp.Symbol:
        self._nodes.append({"name": name, "op": "input", "copy_of": copy_of})
        return _symbol(name)

    def const(self, name, value) -> sp.Symbol:
        self._nodes.append({"name": name, "op": "const", "value": value})
        return _symbol(name)

    def op(self, name, op, *inputs, e=None, d=None) -> sp.Symbol:
        """Add the node ``name`` = op(inputs); ``d`` lists one label per input (``...`` or None: none yet)."""
        labels = [None] * len(inputs) if d is None else list(d) if isinstance(d, (list, tuple)) else [d]
        self._nodes.append({"name": name, "op": op, "in": list(inputs), "e": e, "d": labels})
        return _symbol(name)

    def __len__(self) -> int:
        return len(self._nodes)

    @property
    def operations(self) -> int:
        """How many nodes are operations (not inputs or constants)."""
        return sum(n["op"] not in LEAVES for n in self._nodes)

    def __repr__(self) -> str:
        ops = self.operations
        return _("<Graph: {leaves} leaves, {operations} operation nodes; G.code() lists them>").format(
            leaves=len(self._nodes) - ops, operations=ops)

    # --- as data ---------------------------------------------------------------------
    def to_data(self) -> dict:
        """The graph as JSON-able data; a bad name, input or label becomes {"error": why} in its place."""
        if len(self._nodes) > MAX_NODES:
            raise GraphError(_("the graph has {count} nodes; at most {most} are graded").format(
                count=len(self._nodes), most=MAX_NODES))
        return {"nodes": [_node_to_data(n) for n in self._nodes]}

    # --- as code -----------------------------------------------------------------------
    def code(self, var: str = "G") -> str:
        """Python lines that build this graph; ``...`` marks each label still to be written."""
        consts = {n["name"] for n in self._nodes if n["op"] == "const"}
        lines = [f"{var} = Graph()"]
        for n in self._nodes:
            name = n["name"]
            if n["op"] == "input":
                copy = f', copy_of="{n["copy_of"]}"' if n["copy_of"] else ""
                lines.append(f'{name} = {var}.input("{name}"{copy})')
            elif n["op"] == "const":
                lines.append(f'{name} = {var}.const("{name}", {n["value"]!r})')
            else:
                args = "".join(f", {_ref_text(a)}" for a in n["in"])
                e = f", e={n['e']!r}" if n["e"] is not None else ""
                labels = ", ".join(_label_text(lab, _ref_text(a) in consts) for lab, a in zip(n["d"], n["in"]))
                lines.append(f'{name} = {var}.op("{name}", "{n["op"]}"{args}{e}, d=[{labels}])')
        return "\n".join(lines)


def _symbol(name):
    return sp.Symbol(name) if isinstance(name, str) and name else None


def _ref_text(ref) -> str:
    return ref.name if isinstance(ref, sp.Symbol) else str(ref)


def _label_text(label, from_const: bool) -> str:
    if label is None or label is Ellipsis:
        return "None" if from_const else "..."
    return sp.sstr(label)


def _node_to_data(n: dict) -> dict:
    out = {"name": n["name"] if isinstance(n["name"], str) else _error(
               _("the name {name} is not a string").format(name=f"{n['name']!r:.30}")),
           "op": n["op"] if isinstance(n["op"], str) else _error(
               _("the operation {op} is not a string").format(op=f"{n['op']!r:.30}"))}
    if n["op"] == "input":
        out["copy_of"] = n["copy_of"] if n["copy_of"] is None or isinstance(n["copy_of"], str) else \
            _ref_to_data(n["copy_of"])
    elif n["op"] == "const":
        out["value"] = encode_expr(n["value"])
    else:
        out["in"] = [_ref_to_data(a) for a in n["in"]]
        out["e"] = _exponent_to_data(n["e"])
        out["d"] = [None if lab is None or lab is Ellipsis else encode_expr(lab) for lab in n["d"]]
    return out


def _error(message: str) -> dict:
    return Unusable(message)


def _ref_to_data(ref):
    if isinstance(ref, str):
        return ref
    if isinstance(ref, sp.Symbol):
        return ref.name
    if isinstance(ref, sp.Basic):
        return _error(_("{expression} is an expression, not a node; make it a node of its own").format(
            expression=sp.sstr(ref)[:40]))
    return _error(_("got a {kind} where a node (its symbol or name) belongs").format(kind=type(ref).__name__))


def _exponent_to_data(e):
    if e is None or isinstance(e, bool):
        return None if e is None else _error(_("e is True/False, not a number"))
    if isinstance(e, numbers.Integral) or (isinstance(e, sp.Basic) and e.is_Integer):
        return int(e)
    if isinstance(e, numbers.Real) or (isinstance(e, sp.Basic) and e.is_Number):
        return float(e)
    return _error(_("e = {e} is not a number").format(e=str(e)[:30]))


def encode_expr(value):
    """Expression data for a label or adjoint, or {"error": why}; never raises."""
    try:
        return ej.to_data(value)
    except ej.ExpressionError as err:
        return _error(str(err))
    except Exception as err:  # a strange object must not stop the rest of the graph from being encoded
        return _error(_("could not be read ({kind}: {error})").format(kind=type(err).__name__, error=str(err)[:80]))


# ====================================================================== tracing (micrograd style)
class _Traced:
    """A value in a traced computation: arithmetic on it adds nodes to the graph (the operators are added
    below, from the table of operations)."""
    __array_priority__ = 1000  # make NumPy scalars defer to us

    def __init__(self, graph: Graph, name: str):
        self.graph, self.name = graph, name

    def _node(self, op, *args, e=None):
        self.graph._count += 1
        name = f"v{self.graph._count}"
        self.graph.op(name, op, *(self._wrap(a) for a in args), e=e)
        return _Traced(self.graph, name)

    def _wrap(self, a) -> str:
        if isinstance(a, _Traced):
            return a.name
        if isinstance(a, bool) or not isinstance(a, (numbers.Real, sp.Number)):
            raise TypeError(_("cannot trace an operation with a {kind}; use numbers and the inputs").format(
                kind=type(a).__name__))
        return self.graph._constant(a)

    def __truediv__(self, o):
        raise TypeError(_(REFUSED["/"]))

    __rtruediv__ = __truediv__


def _operator(op: Operation, operands: str):
    """_Traced's method for one Python operator of ``op``, with operands "ab", "ba" (reflected) or "a"."""
    if op.exponent:
        def method(self, e):
            if isinstance(e, bool) or not isinstance(e, numbers.Integral) or e < 1:
                raise TypeError(_("u ** {e}: only natural exponents 1, 2, 3, … are graph operations").format(e=repr(e)))
            return self._node(op.name, self, e=int(e))
    elif operands == "a":
        def method(self):
            return self._node(op.name, self)
    else:
        def method(self, other):
            return self._node(op.name, *((self, other) if operands == "ab" else (other, self)))
    return method


for _op in OPERATIONS.values():   # the operators come from the table, so trace knows every operation
    for _name, _operands in _op.python.items():
        setattr(_Traced, _name, _operator(_op, _operands))


class _TracingGraph(Graph):
    def __init__(self):
        super().__init__()
        self._count = 0
        self._consts: dict = {}

    def _constant(self, value) -> str:
        if value not in self._consts:
            integral = float(value).is_integer()
            name = f"c{int(value)}" if integral and value >= 0 else f"c_{len(self._consts) + 1}"
            self.const(name, int(value) if integral else value)
            self._consts[value] = name
        return self._consts[value]


def trace(fn, *names: str) -> Graph:
    """The skeleton of ``fn``'s graph, found by running ``fn`` on traced inputs (as micrograd does).

    Nodes are named v1, v2, … in the order Python computes them, the result f,
    constants c<value>; no edge has a label yet. ``print(trace(fn).code())``
    gives the lines to copy and complete.
    """
    names = names or tuple(inspect.signature(fn).parameters)
    graph = _TracingGraph()
    result = fn(*(_Traced(graph, graph.input(n).name) for n in names))
    if not isinstance(result, _Traced) or result.graph is not graph or graph._nodes[-1]["name"] != result.name:
        raise TypeError(_("the function must return the result of operations on its inputs"))

    graph._nodes[-1]["name"] = "f"
    return graph
