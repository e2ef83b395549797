r"""Evaluating a graph read by ``graph_read``: values forward, adjoints by the reverse sweep.

The adjoint of a node is v̄ = ∂f/∂v, the derivative of the output f with respect
to v with everything upstream of v held fixed. The reverse sweep computes all of
them at once: f̄ = 1, and going from the output towards the inputs,

    ū = Σ over edges u → v of  v̄ · (label of u → v),

so a node that feeds several others (fan-out) sums one term per edge. The sweep
takes the edge values as given: the graph's own labels (``label_sweep``) or the true
local derivatives of each node's operation (``true_sweep``), so that a check can
compare the two. Both walk ``Model.order``, the hand-written topological order of
the nodes that can be computed (``graph_read`` says why it is hand-written).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

from . import expr_json as ej
from .graph_operations import apply, local_derivative
from .graph_read import Model
from .i18n import N_, _

NO_LABEL = N_("no label")   # also a sentinel: task b's edge tree tests for it, shown translated elsewhere

MAX_LABEL_EXPONENT = 1000  # product of nested |exponents| in a label; more makes SymPy compute huge integers


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
        return NO_LABEL
    if isinstance(data, dict):
        return str(data.get("error", _("malformed")))[:240]
    try:
        ej.validate(data, names, set())
    except ej.ExpressionError as e:
        return str(e)
    stack = [(data, 1.0)]   # with the product of the exponents above: nested powers multiply
    while stack:
        node, power = stack.pop()
        if node[0] == "pow":
            if node[2][0] not in ("int", "rat", "float"):
                return _("exponents must be numbers")
            power *= max(1.0, abs(float(ej.evaluate(node[2], {}))))
            if power > MAX_LABEL_EXPONENT:
                return _("powers above {most} are not graded").format(most=MAX_LABEL_EXPONENT)
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
            return _("uses {name}, which cannot be computed: {why}").format(
                name=missing[0], why=self.model.why_not_computable(missing[0]))

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
        why = label_problem(label, set(model.nodes) | set(model.variables)) if label is not None else NO_LABEL
        ev.labels[(head, slot)] = why or ev._numeric(label, labels_env)
    return ev
