r"""Computation graphs written by hand: build one, read it back as data, evaluate it, sweep it backwards.

A graph is a list of nodes. Leaves are the function's inputs and constants; every
other node applies one operation to its ordered inputs:

    "+"    a + b
    "-"    a − b, or −a with a single input (negation)
    "*"    a · b              (a and b may be the same node: x1 * x1)
    "pow"  a^e                with a natural exponent e = 1, 2, 3, …

An edge u → v exists for every input slot of v that u fills, so x1 * x1 has two
parallel edges. Each edge carries a label, the local derivative ∂v/∂u with v's
other inputs held fixed, written as a SymPy expression in node names (a node's
name stands for its value). Edges leaving constants need no label.

The adjoint of a node is v̄ = ∂f/∂v, the derivative of the output f with respect
to v with everything upstream of v held fixed. The reverse sweep computes all of
them at once: f̄ = 1, and going from the output towards the inputs,

    ū = Σ over edges u → v of  v̄ · (label of u → v),

so a node that feeds several others (fan-out) sums one term per edge.

Students build graphs with ``Graph`` (or get the skeleton from ``trace``); the
checks read the data with ``read`` and never trust it: a cycle, an unknown name,
a wrong arity or a node that does too much is reported, not evaluated.
"""
from __future__ import annotations

import functools
import hashlib
import inspect
import json
import numbers
import re
from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from . import expr_json as ej
from .errors import GraphError, Unusable

OPERATIONS = {"+": (2,), "-": (1, 2), "*": (2,), "pow": (1,)}   # operation -> allowed numbers of inputs
LEAVES = ("input", "const")
MAX_NODES = 300            # a graph for f needs a few dozen; more is not graded
MAX_EXPONENT = 64
MAX_LABEL_EXPONENT = 1000  # product of nested |exponents| in a label; more makes SymPy compute huge integers
MAX_DATA_CHARS = 2_000_000
NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,30}\Z")

# Operations students sometimes reach for, with the reason they are not nodes here.
REFUSED = {
    **dict.fromkeys(("/", "div", "divide", "truediv"), "division is not one of the graph's operations"),
    **dict.fromkeys(("exp", "log", "ln", "sqrt", "sin", "cos", "tanh", "abs", "sigmoid", "relu"),
                    "{op} is not one of the graph's operations"),
    **dict.fromkeys(("**", "^", "square", "sq", "power"), "write a power as the operation 'pow' with e=…"),
}


# ====================================================================== operations
def apply(op: str, args: list, e=None):
    """The value of one operation on numbers, NumPy arrays or SymPy expressions alike."""
    if op == "pow":
        return args[0] ** e
    if op == "-" and len(args) == 1:
        return -args[0]
    a, b = args
    return a + b if op == "+" else a - b if op == "-" else a * b


SLOT_SYMBOLS = sp.symbols("a0 a1")


@functools.lru_cache(maxsize=256)
def local_derivative(op: str, arity: int, e, slot: int) -> sp.Expr:
    """SymPy's own derivative of the operation with respect to input ``slot``, in the symbols a0, a1.

    The inputs are distinct symbols here, so for x1 * x1 each of the two parallel
    edges gets its own share.
    """
    args = list(SLOT_SYMBOLS[:arity])
    return sp.diff(apply(op, args, e), args[slot])


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
        return f"<Graph: {len(self._nodes) - ops} leaves, {ops} operation nodes; G.code() lists them>"

    # --- as data ---------------------------------------------------------------------
    def to_data(self) -> dict:
        """The graph as JSON-able data; a bad name, input or label becomes {"error": why} in its place."""
        if len(self._nodes) > MAX_NODES:
            raise GraphError(f"the graph has {len(self._nodes)} nodes; at most {MAX_NODES} are graded")
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
    out = {"name": n["name"] if isinstance(n["name"], str) else _error(f"the name {n['name']!r:.30} is not a string"),
           "op": n["op"] if isinstance(n["op"], str) else _error(f"the operation {n['op']!r:.30} is not a string")}
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
        return _error(f"{sp.sstr(ref)[:40]} is an expression, not a node; make it a node of its own")
    return _error(f"got a {type(ref).__name__} where a node (its symbol or name) belongs")


def _exponent_to_data(e):
    if e is None or isinstance(e, bool):
        return None if e is None else _error("e is True/False, not a number")
    if isinstance(e, numbers.Integral) or (isinstance(e, sp.Basic) and e.is_Integer):
        return int(e)
    if isinstance(e, numbers.Real) or (isinstance(e, sp.Basic) and e.is_Number):
        return float(e)
    return _error(f"e = {str(e)[:30]} is not a number")


def encode_expr(value):
    """Expression data for a label or adjoint, or {"error": why}; never raises."""
    try:
        return ej.to_data(value)
    except ej.ExpressionError as err:
        return _error(str(err))
    except Exception as err:  # a strange object must not stop the rest of the graph from being encoded
        return _error(f"could not be read ({type(err).__name__}: {str(err)[:80]})")


# ====================================================================== tracing (micrograd style)
class _Traced:
    """A value in a traced computation: arithmetic on it adds nodes to the graph."""
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
            raise TypeError(f"cannot trace an operation with a {type(a).__name__}; use numbers and the inputs")
        return self.graph._constant(a)

    def __add__(self, o): return self._node("+", self, o)
    def __radd__(self, o): return self._node("+", o, self)
    def __sub__(self, o): return self._node("-", self, o)
    def __rsub__(self, o): return self._node("-", o, self)
    def __mul__(self, o): return self._node("*", self, o)
    def __rmul__(self, o): return self._node("*", o, self)
    def __neg__(self): return self._node("-", self)

    def __pow__(self, e):
        if isinstance(e, bool) or not isinstance(e, numbers.Integral) or e < 1:
            raise TypeError(f"u ** {e!r}: only natural exponents 1, 2, 3, … are graph operations")
        return self._node("pow", self, e=int(e))

    def __truediv__(self, o):
        raise TypeError("division is not one of the graph's operations")

    __rtruediv__ = __truediv__


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
        raise TypeError("the function must return the result of operations on its inputs")
    graph._nodes[-1]["name"] = "f"
    return graph


# ====================================================================== reading data back
@dataclass
class Node:
    name: str
    op: str
    inputs: tuple = ()
    e: int | None = None
    value: object = None        # a constant's value as expression data
    var: str | None = None      # an input: the variable of f it stands for
    labels: tuple = ()          # per input slot: expression data, None, or {"error": why}


@dataclass
class Model:
    """A graph read from data: its nodes, what is wrong with it, and what can be computed."""
    nodes: dict[str, Node]
    variables: tuple
    problems: list = field(default_factory=list)   # (part, message) for every structural problem
    notes: list = field(default_factory=list)      # (part, message) for what is harmless, such as an unused constant
    broken: set = field(default_factory=set)       # nodes that cannot be computed because of their own problem
    order: list = field(default_factory=list)      # computable nodes, every node after its inputs
    consumers: dict = field(default_factory=dict)  # node -> [(head, slot), …]
    output: str | None = None
    cycle: list | None = None

    def edges(self):
        """(tail, head, slot) for every edge, in node order."""
        for node in self.nodes.values():
            if node.op not in LEAVES and node.name not in self.broken:
                for slot, tail in enumerate(node.inputs):
                    yield tail, node.name, slot

    def is_constant(self, name: str) -> bool:
        return self.nodes[name].op == "const"

    def inputs_of(self, var: str) -> list[str]:
        return [n.name for n in self.nodes.values() if n.op == "input" and n.var == var]

    def why_not_computable(self, name: str) -> str:
        if name in self.broken:
            return f"{name} is not a valid node (see the structure check)"
        if self.cycle and name in self.cycle:
            return f"{name} lies on a cycle"
        return f"{name} depends on a node that cannot be computed"


def read(data, variables: tuple) -> Model:
    """Read graph data, collecting every structural problem. Raises GraphError only if it is no graph at all."""
    if not isinstance(data, dict) or not isinstance(data.get("nodes"), list):
        raise GraphError("malformed graph data")
    if len(data["nodes"]) > MAX_NODES:
        raise GraphError(f"the graph has {len(data['nodes'])} nodes; at most {MAX_NODES} are graded")
    if len(json.dumps(data)) > MAX_DATA_CHARS:
        raise GraphError("the graph data is too large to grade")
    model = Model({}, tuple(variables))
    for k, raw in enumerate(data["nodes"]):
        _read_node(model, k, raw)
    for var in variables:
        if not model.inputs_of(var):
            model.problems.append((var, f"there is no input node for {var}; f depends on {' and '.join(variables)}"))
    for node in model.nodes.values():
        unknown = [a for a in node.inputs if a not in model.nodes]
        if unknown and node.name not in model.broken:
            model.broken.add(node.name)
            model.problems.append((node.name, f"uses {unknown[0]!r}, which is not a node of the graph"))
    _order(model)
    _outputs(model)
    return model


def _read_node(model: Model, k: int, raw) -> None:
    def problem(part, message):
        model.problems.append((part, message))

    if not isinstance(raw, dict):
        return problem(f"node {k + 1}", "malformed node data")
    name, op = raw.get("name"), raw.get("op")
    if isinstance(name, dict) or isinstance(op, dict):
        return problem(f"node {k + 1}", str((name if isinstance(name, dict) else op).get("error"))[:200])
    if not isinstance(name, str) or not NAME.match(name):
        return problem(f"node {k + 1}", f"the name {str(name)[:30]!r} is not allowed: use a letter, then letters, "
                                        "digits or _ (such as v1, c100)")
    if name in model.nodes:
        return problem(name, f"two nodes are named {name}; the second one is ignored")
    if not isinstance(op, str):
        return problem(name, "the operation is not a string")
    node = Node(name, op)
    model.nodes[name] = node

    def broken(message):
        model.broken.add(name)
        problem(name, message)

    if op == "input":
        copy = raw.get("copy_of")
        node.var = name if copy is None else copy if isinstance(copy, str) else None
        if isinstance(copy, dict):
            return broken(str(copy.get("error"))[:200])
        if node.var not in model.variables:
            return broken(f"the input {node.var!r} is not a variable of f (f has {', '.join(model.variables)})")
        return
    if name in model.variables:
        return broken(f"{name} is the name of an input; a computed node needs a name of its own")
    if op == "const":
        return _read_constant(node, raw.get("value"), broken)
    inputs, labels = raw.get("in"), raw.get("d")
    if not isinstance(inputs, list) or not isinstance(labels, list):
        return broken("malformed node data")
    errors = [a["error"] for a in inputs if isinstance(a, dict) and "error" in a]
    if errors or not all(isinstance(a, str) for a in inputs):
        return broken(f"an input of {name}: " + str(errors[0] if errors else "not a node name")[:200])
    node.inputs, node.labels = tuple(inputs), tuple(labels)
    if op not in OPERATIONS:
        reason = REFUSED.get(op.lower(), "{op!r} is not an operation of the graph")
        return broken(reason.format(op=op[:20]) + "; a node does one of +, −, *, pow — a composite such as "
                                                   "100·(·)² is several nodes")
    if len(inputs) not in OPERATIONS[op]:
        want = " or ".join(map(str, OPERATIONS[op]))
        return broken(f"'{op}' takes {want} input{'s' if want != '1' else ''}, {name} has {len(inputs)}")
    if op == "pow":
        message = _exponent_problem(raw.get("e"))
        if message:
            return broken(message)
        node.e = int(raw["e"])
    elif raw.get("e") is not None:
        return broken(f"e belongs to 'pow' only, {name} is '{op}'")


def _read_constant(node: Node, value, broken) -> None:
    if isinstance(value, dict):
        return broken(f"the value of {node.name}: {str(value.get('error'))[:200]}")
    try:
        ej.validate(value, set(), set())
    except ej.ExpressionError:
        symbols = sorted({n[1] for n in ej.walk(value) if isinstance(n, list) and n and n[0] == "sym"}) \
            if isinstance(value, list) else []
        if symbols:
            return broken(f"a constant is a number; {node.name} is an expression in {', '.join(symbols[:4])} — "
                          "split such a composite into nodes")
        return broken(f"the value of {node.name} is not a number")
    if not np.isfinite(ej.evaluate(value, {})):
        return broken(f"the value of {node.name} is not finite")
    node.value = value


def _exponent_problem(e) -> str | None:
    if isinstance(e, dict):
        return str(e.get("error"))[:200]
    if e is None:
        return "'pow' needs its exponent: e=2 for a square"
    if isinstance(e, bool) or not isinstance(e, (int, float)):
        return "e must be a natural number such as 2"
    if not float(e).is_integer():
        return f"e = {e:g} is no natural number (roots and fractional powers are not graph operations)"
    if e < 0:
        return f"e = {e:g} is negative, which divides: not a graph operation"
    if e == 0:
        return "e = 0 makes a constant; e must be 1, 2, 3, …"
    if e > MAX_EXPONENT:
        return f"e = {e:g} is larger than {MAX_EXPONENT}; no power that large is needed"
    return None


def _order(model: Model) -> None:
    """Topological order of the computable nodes (Kahn); name one cycle if there is one."""
    waiting = {n.name: len(n.inputs) for n in model.nodes.values() if n.name not in model.broken}
    users: dict[str, list] = {name: [] for name in model.nodes}
    for node in model.nodes.values():
        for slot, tail in enumerate(node.inputs):
            if tail in users:
                users[tail].append((node.name, slot))
    model.consumers = users
    ready = [name for name, count in waiting.items() if count == 0]
    while ready:
        name = ready.pop(0)
        model.order.append(name)
        for head, _ in users[name]:
            if head in waiting:
                waiting[head] -= 1
                if waiting[head] == 0:
                    ready.append(head)
    stuck = set(waiting) - set(model.order)
    model.cycle = _find_cycle(model, stuck)
    if model.cycle:
        path = " → ".join(model.cycle + [model.cycle[0]])
        model.problems.append(("cycle", f"{path} is a cycle: a node cannot depend on itself"))


def _find_cycle(model: Model, among: set) -> list | None:
    """One cycle among the given nodes (following edges tail → head), by iterative depth-first search."""
    state: dict[str, int] = {}   # 1: on the current path, 2: done
    for start in sorted(among):
        if state.get(start):
            continue
        path, stack = [], [(start, iter(h for h, _ in model.consumers[start]))]
        state[start] = 1
        path.append(start)
        while stack:
            name, heads = stack[-1]
            head = next((h for h in heads if h in among and state.get(h) != 2), None)
            if head is None:
                state[name] = 2
                path.pop()
                stack.pop()
            elif state.get(head) == 1:
                return path[path.index(head):]
            else:
                state[head] = 1
                path.append(head)
                stack.append((head, iter(h for h, _ in model.consumers[head])))
    return None


def _outputs(model: Model) -> None:
    """The output is the one operation node nothing uses; unused nodes and leaves are problems."""
    unused = [n.name for n in model.nodes.values() if not model.consumers[n.name]]
    sinks = [name for name in unused if model.nodes[name].op not in LEAVES]
    for name in unused:
        if model.nodes[name].op == "const":
            model.notes.append((name, f"the constant {name} is not used by any node; it changes nothing"))
        elif model.nodes[name].op in LEAVES:
            model.problems.append((name, f"{name} is not used by any node"))
    if not sinks:
        if not model.cycle:
            model.problems.append(("output", "the graph has no output: no operation node is left unused"))
        return
    model.output = "f" if "f" in sinks else sinks[-1]
    for name in sinks:
        if name != model.output:
            model.problems.append((name, f"{name} is not used by any node: a graph for f has one output "
                                         f"(here {model.output}); remove {name} or use it"))


# ====================================================================== evaluation
def forward(model: Model, inputs: dict, constant) -> dict:
    """Values of all computable nodes for the given values of f's variables (numbers, arrays or SymPy);
    ``constant(data)`` gives a constant's value in the same kind."""
    values = {}
    for name in model.order:
        node = model.nodes[name]
        if node.op == "input":
            values[name] = inputs[node.var]
        elif node.op == "const":
            values[name] = constant(node.value)
        else:
            values[name] = apply(node.op, [values[a] for a in node.inputs], node.e)
    return values


def contributions(model: Model, name: str, adjoints: dict, edges: dict) -> list | None:
    """[(head, slot, adjoint of head · label)] for every edge leaving ``name``; None if one is unknown."""
    terms = []
    for head, slot in model.consumers[name]:
        a, d = adjoints.get(head), edges.get((head, slot))
        if a is None or d is None:
            return None
        terms.append((head, slot, a * d))
    return terms


def sweep(model: Model, edges: dict, one=1.0) -> dict:
    """Adjoints ∂output/∂v of all computable nodes from edge values {(head, slot): value}.

    Pulled in reverse topological order from the consumers, so fan-out sums its
    terms; a node with an unknown term gets None, a node that does not reach the
    output gets 0.
    """
    adjoints: dict = {}
    for name in reversed(model.order):
        if name == model.output:
            adjoints[name] = one
            continue
        terms = contributions(model, name, adjoints, edges)
        adjoints[name] = None if terms is None else sum((t for _, _, t in terms), 0 * one)
    return adjoints


def gradient(model: Model, adjoints: dict) -> dict:
    """∂f/∂var for each variable: the adjoints of all its input leaves added (several only in a tree)."""
    out = {}
    for var in model.variables:
        parts = [adjoints.get(n) for n in model.inputs_of(var)]
        out[var] = None if not parts or any(p is None for p in parts) else sum(parts[1:], parts[0])
    return out


def label_problem(data, names: set) -> str | None:
    """Why a label (or adjoint) cannot be evaluated, or None: missing, invalid, unknown names, huge exponents."""
    if data is None:
        return "no label"
    if isinstance(data, dict):
        return str(data.get("error", "malformed"))[:240]
    try:
        ej.validate(data, names, set())
    except ej.ExpressionError as e:
        return str(e)
    stack = [(data, 1.0)]   # with the product of the exponents above: nested powers multiply
    while stack:
        node, power = stack.pop()
        if node[0] == "pow":
            if node[2][0] not in ("int", "rat", "float"):
                return "exponents must be numbers"
            power *= max(1.0, abs(float(ej.evaluate(node[2], {}))))
            if power > MAX_LABEL_EXPONENT:
                return f"powers above {MAX_LABEL_EXPONENT} are not graded"
            stack.append((node[1], power))
        elif node[0] in ("add", "mul", "max", "min"):
            stack.extend((a, power) for a in node[1:])
        elif node[0] == "call":
            stack.append((node[2], power))
        elif node[0] == "piecewise":
            stack.extend((a, power) for a in ej.walk(node) if a is not node and a[0] == "pow")
    return None


@dataclass
class Evaluation:
    """A graph evaluated at a set of points: forward values, true local derivatives and its own labels.

    A node that cannot be computed (invalid, on a cycle, or after such a node) gets a *stand-in*: invalid and
    cycle nodes random values, the nodes after them their operation applied to those. A local derivative needs
    only the values of its node's inputs, so every valid node's edges can be judged, and one invalid node
    costs only its own edges.
    """
    model: Model
    size: int
    values: dict     # computable node -> values
    env: dict        # values, plus each variable of f, for expressions in node names
    true: dict       # (head, slot) -> local derivative of head's operation (SymPy's)
    labels: dict     # (head, slot) -> the graph's own label evaluated, or a str saying why it cannot be
    local: dict = field(default_factory=dict)   # values and stand-ins: what edge labels are evaluated with

    def evaluate(self, data):
        """Expression data (in node names and variables) at the points, or a str saying why not."""
        why = label_problem(data, set(self.model.nodes) | set(self.model.variables))
        if why:
            return why
        missing = sorted({n[1] for n in ej.walk(data) if n[0] == "sym"} - set(self.env))
        if missing:
            return f"uses {missing[0]}, which cannot be computed: {self.model.why_not_computable(missing[0])}"
        return self._numeric(data, self.env)

    def _numeric(self, data, env):
        return np.broadcast_to(ej.evaluate(data, env), (self.size,)).astype(float)

    def label_sweep(self) -> dict:
        """Adjoints by the reverse sweep over the graph's own labels (unknown where a label is unusable)."""
        return sweep(self.model, {k: v for k, v in self.labels.items() if not isinstance(v, str)}, self.one)

    def true_sweep(self) -> dict:
        return sweep(self.model, self.true, self.one)

    @property
    def one(self):
        return np.ones(self.size)


def stand_ins(model: Model, values: dict, size: int) -> dict:
    """Values for the nodes that cannot be computed: random for invalid nodes and, one at a time, for a node
    of a cycle; the others their operation applied to their inputs. Deterministic for given values."""
    seed = hashlib.sha256(b"".join(np.ascontiguousarray(v, float).tobytes() for v in values.values())).digest()
    rng = np.random.default_rng(int.from_bytes(seed[:8], "little"))
    local = dict(values)
    waiting = [n for n in model.nodes if n not in local]
    while waiting:
        ready = [n for n in waiting if n not in model.broken
                 and all(a in local for a in model.nodes[n].inputs) and model.nodes[n].inputs]
        if ready:
            node = model.nodes[ready[0]]
            with np.errstate(all="ignore"):
                local[node.name] = np.asarray(apply(node.op, [local[a] for a in node.inputs], node.e), float)
        else:
            broken = [n for n in waiting if n in model.broken or not model.nodes[n].inputs]
            name = (broken or sorted(waiting))[0]
            local[name] = rng.uniform(0.3, 2.0, size) * rng.choice([-1.0, 1.0], size)
        waiting.remove(node.name if ready else name)
    return local


def evaluate_at(model: Model, point: dict) -> Evaluation:
    """Evaluate the graph at points {variable: array of equal length}."""
    size = np.size(next(iter(point.values())))
    point = {v: np.broadcast_to(np.asarray(x, float), (size,)) for v, x in point.items()}
    ev = Evaluation(model, size, {}, {}, {}, {})
    ev.values = forward(model, point, constant=lambda d: ev._numeric(d, {}))
    ev.env = {**ev.values, **point}
    ev.local = stand_ins(model, ev.values, size)
    labels_env = {**ev.local, **point}
    for _, head, slot in model.edges():
        node = model.nodes[head]
        derivative = local_derivative(node.op, len(node.inputs), node.e, slot)
        ev.true[(head, slot)] = ev._numeric(ej.to_data(derivative),
                                            {f"a{k}": ev.local[a] for k, a in enumerate(node.inputs)})
        label = node.labels[slot] if slot < len(node.labels) else None
        why = label_problem(label, set(model.nodes) | set(model.variables)) if label is not None else "no label"
        ev.labels[(head, slot)] = why or ev._numeric(label, labels_env)
    return ev
