r"""Reading a computation graph back from the data that leaves the kernel, trusting nothing in it.

``read(data, variables)`` turns the JSON form that ``Graph.to_data()`` writes,

    {"nodes": [{"name": "x1", "op": "input", "copy_of": None},
               {"name": "c3", "op": "const", "value": <expression data>},
               {"name": "v1", "op": "pow", "in": ["x1"], "e": 2, "d": [<label data>]}, …]}

into a ``Model``: the nodes by name, every structural problem as (part, message), the
nodes that can be computed in an order with every node after its inputs, and the
output. The data may come from a submission, so it may be anything: a cycle, an
unknown name, a wrong arity, an operation that is not in the table
(``graph_operations``) or a node that does too much is reported, never evaluated;
only data that is no graph at all (wrong type, too large) raises ``GraphError``.

The topological order and the search for a cycle are written here by hand (Kahn's
algorithm, an iterative depth-first search) rather than taken from networkx: the
graph is untrusted and may be cyclic, and the checks need to name the cycle and
still compute what does not depend on it; and the self-check runs in the student's
kernel on every ``check``, where importing networkx (about 0.4 s) would cost a
thousand times what reading the graph does. networkx is used only for drawing
(``draw``), where it is imported on first use.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import numpy as np

from . import expr_json as ej
from .errors import GraphError
from .graph_operations import LEAVES, OPERATIONS, REFUSED
from .i18n import _

MAX_NODES = 300            # a graph for f needs a few dozen; more is not graded
MAX_EXPONENT = 64
MAX_DATA_CHARS = 2_000_000
NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,30}\Z")


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
            return _("{name} is not a valid node (see the structure check)").format(name=name)
        if self.cycle and name in self.cycle:
            return _("{name} lies on a cycle").format(name=name)
        return _("{name} depends on a node that cannot be computed").format(name=name)


def read(data, variables: tuple) -> Model:
    """Read graph data, collecting every structural problem. Raises GraphError only if it is no graph at all."""
    if not isinstance(data, dict) or not isinstance(data.get("nodes"), list):
        raise GraphError(_("malformed graph data"))
    if len(data["nodes"]) > MAX_NODES:
        raise GraphError(_("the graph has {count} nodes; at most {most} are graded").format(
            count=len(data["nodes"]), most=MAX_NODES))
    if len(json.dumps(data)) > MAX_DATA_CHARS:
        raise GraphError(_("the graph data is too large to grade"))
    model = Model({}, tuple(variables))
    for k, raw in enumerate(data["nodes"]):
        _read_node(model, k, raw)
    for var in variables:
        if not model.inputs_of(var):
            model.problems.append((var, _("there is no input node for {var}; f depends on {variables}").format(
                var=var, variables=_(" and ").join(variables))))
    for node in model.nodes.values():
        unknown = [a for a in node.inputs if a not in model.nodes]
        if unknown and node.name not in model.broken:
            model.broken.add(node.name)
            model.problems.append((node.name, _("uses {name}, which is not a node of the graph").format(
                name=repr(unknown[0]))))
    _order(model)
    _outputs(model)
    return model


def _read_node(model: Model, k: int, raw) -> None:
    def problem(part, message):
        model.problems.append((part, message))

    if not isinstance(raw, dict):
        return problem(_("node {number}").format(number=k + 1), _("malformed node data"))
    name, op = raw.get("name"), raw.get("op")
    if isinstance(name, dict) or isinstance(op, dict):
        return problem(_("node {number}").format(number=k + 1),
                       str((name if isinstance(name, dict) else op).get("error"))[:200])
    if not isinstance(name, str) or not NAME.match(name):
        return problem(_("node {number}").format(number=k + 1), _(
            "the name {name} is not allowed: use a letter, then letters, digits or _ (such as v1, c100)").format(
            name=repr(str(name)[:30])))
    if name in model.nodes:
        return problem(name, _("two nodes are named {name}; the second one is ignored").format(name=name))
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
            return broken(_("the input {name} is not a variable of f (f has {variables})").format(
                name=repr(node.var), variables=", ".join(model.variables)))
        return
    if name in model.variables:
        return broken(_("{name} is the name of an input; a computed node needs a name of its own").format(name=name))
    if op == "const":
        return _read_constant(node, raw.get("value"), broken)
    inputs, labels = raw.get("in"), raw.get("d")
    if not isinstance(inputs, list) or not isinstance(labels, list):
        return broken(_("malformed node data"))
    errors = [a["error"] for a in inputs if isinstance(a, dict) and "error" in a]
    if errors or not all(isinstance(a, str) for a in inputs):
        return broken(_("an input of {name}: {why}").format(
            name=name, why=str(errors[0] if errors else _("not a node name"))[:200]))
    node.inputs, node.labels = tuple(inputs), tuple(labels)
    if op not in OPERATIONS:
        reason = _(REFUSED[op.lower()]).format(op=op[:20]) if op.lower() in REFUSED else \
            _("{op} is not an operation of the graph").format(op=repr(op[:20]))
        return broken(_("{reason}; a node does one of {operations} — a composite such as 100·(·)² is several nodes")
                      .format(reason=reason, operations=", ".join(OPERATIONS)))
    if len(inputs) not in OPERATIONS[op].arities:
        want = _(" or ").join(map(str, OPERATIONS[op].arities))
        return broken(_("'{op}' takes {want} inputs, {name} has {count}").format(
            op=op, want=want, name=name, count=len(inputs)) if want != "1" else
            _("'{op}' takes 1 input, {name} has {count}").format(op=op, name=name, count=len(inputs)))
    if OPERATIONS[op].exponent:
        message = _exponent_problem(op, raw.get("e"))
        if message:
            return broken(message)
        node.e = int(raw["e"])
    elif raw.get("e") is not None:
        takers = " and ".join(f"'{o.name}'" for o in OPERATIONS.values() if o.exponent)
        return broken(_("e belongs to {operations} only, {name} is '{op}'").format(operations=takers, name=name, op=op))


def _read_constant(node: Node, value, broken) -> None:
    if isinstance(value, dict):
        return broken(_("the value of {name}: {why}").format(name=node.name, why=str(value.get("error"))[:200]))
    try:
        ej.validate(value, set(), set())
    except ej.ExpressionError:
        symbols = sorted({n[1] for n in ej.walk(value) if isinstance(n, list) and n and n[0] == "sym"}) \
            if isinstance(value, list) else []
        if symbols:
            return broken(_("a constant is a number; {name} is an expression in {symbols} — split such a composite "
                            "into nodes").format(name=node.name, symbols=", ".join(symbols[:4])))
        return broken(_("the value of {name} is not a number").format(name=node.name))
    if not np.isfinite(ej.evaluate(value, {})):
        return broken(_("the value of {name} is not finite").format(name=node.name))
    node.value = value


def _exponent_problem(op: str, e) -> str | None:
    if isinstance(e, dict):
        return str(e.get("error"))[:200]
    if e is None:
        return _("'{op}' needs its exponent: e=2 for a square").format(op=op)
    if isinstance(e, bool) or not isinstance(e, (int, float)):
        return _("e must be a natural number such as 2")
    if not float(e).is_integer():
        return _("e = {e} is no natural number (roots and fractional powers are not graph operations)").format(e=f"{e:g}")
    if e < 0:
        return _("e = {e} is negative, which divides: not a graph operation").format(e=f"{e:g}")
    if e == 0:
        return _("e = 0 makes a constant; e must be 1, 2, 3, …")
    if e > MAX_EXPONENT:
        return _("e = {e} is larger than {most}; no power that large is needed").format(e=f"{e:g}", most=MAX_EXPONENT)
    return None


def _order(model: Model) -> None:
    """Topological order of the computable nodes (Kahn; by hand, see the module docstring); name one cycle if
    there is one."""
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
        for head, _slot in users[name]:
            if head in waiting:
                waiting[head] -= 1
                if waiting[head] == 0:
                    ready.append(head)
    stuck = set(waiting) - set(model.order)
    model.cycle = _find_cycle(model, stuck)
    if model.cycle:
        path = " → ".join(model.cycle + [model.cycle[0]])
        model.problems.append((_("cycle"), _("{path} is a cycle: a node cannot depend on itself").format(path=path)))


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
            model.notes.append((name, _("the constant {name} is not used by any node; it changes nothing").format(
                name=name)))
        elif model.nodes[name].op in LEAVES:
            model.problems.append((name, _("{name} is not used by any node").format(name=name)))
    if not sinks:
        if not model.cycle:
            model.problems.append((_("output"), _("the graph has no output: no operation node is left unused")))
        return
    model.output = "f" if "f" in sinks else sinks[-1]
    for name in sinks:
        if name != model.output:
            model.problems.append((name, _("{name} is not used by any node: a graph for f has one output "
                                           "(here {output}); remove {name} or use it").format(name=name, output=model.output)))



