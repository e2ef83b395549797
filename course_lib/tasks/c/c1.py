"""c1: the loss as a graph over x, z1, z2, z3, y, L (W, b and o nodes optional), written with task (b)'s ``Graph``.

Every edge u → v carries its Jacobian ``J("v", "u")``, the edge from y none. Judged by its structure
against the network's definition, and by its labels.

This is another graph language than task (b)'s: a node here stands for a vector quantity and its edge
label is a symbol naming a Jacobian, not an expression to differentiate; only the builder is shared,
and the graph is read from its data here, not by course_lib.graph.
"""
from __future__ import annotations

import sympy as sp

from ...errors import AnswerError, GraphError, unusable
from ...feedback import Feedback
from ...i18n import _
from ...graph import Graph
from .. import Task

def J(out: str, node: str) -> sp.Symbol:
    """The label of the edge node → out in the loss graph: the Jacobian J_out(node)."""
    return sp.Symbol(f"J_{out}({node})")



REQUIRED_NODES = ("x", "y", "z1", "z2", "z3", "L")
OPTIONAL_NODES = ("W1", "W2", "W3", "b1", "b2", "b3", "o1", "o2", "o3")
LEAF_NODES = ("x", "y", "W1", "W2", "W3", "b1", "b2", "b3")
WEIGHTS_C1 = {"structure": 0.8, "labels": 0.2}


def definition_inputs(present: set) -> dict[str, set]:
    """The inputs of each computed node by the sheet's recursion z^(l) = φ(W^(l) z^(l−1) + b^(l)), z^(0) = x,
    and L = −log z3_y, for the nodes drawn: without o_l, z_l takes what o_l would; W and b only if drawn."""
    inputs, previous = {}, "x"
    for layer in "123":
        feeds = {previous} | ({f"W{layer}", f"b{layer}"} & present)
        if f"o{layer}" in present:
            inputs[f"o{layer}"], inputs[f"z{layer}"] = feeds, {f"o{layer}"}
        else:
            inputs[f"z{layer}"] = feeds
        previous = f"z{layer}"
    inputs["L"] = {"z3", "y"}
    return inputs


def graph_problems(nodes: dict) -> list[tuple[str, str]]:
    """(node, problem) for the structure of the student's graph: {name: (op, [inputs])}."""
    problems = []
    for name, (op, _tails) in nodes.items():
        if name not in REQUIRED_NODES + OPTIONAL_NODES:
            problems.append((name, _("{name} is not a quantity of this network: the graph has x, y, z1, z2, z3 and L "
                                     "(W, b and o nodes may be added)").format(name=name)))
        elif name in LEAF_NODES and op != "input":
            problems.append((name, _("{name} is given, not computed: make it an input").format(name=name)))
        elif name not in LEAF_NODES and op in ("input", "const"):
            problems.append((name, _("{name} is computed from other nodes, not an {op}").format(name=name, op=op)))
    problems += [(name, _("the node {name} is missing").format(name=name)) for name in REQUIRED_NODES
                 if name not in nodes]
    want = definition_inputs(set(nodes))
    for head, (op, tails) in nodes.items():
        if head not in want or head in LEAF_NODES:
            continue
        for tail in sorted(set(tails)):
            if tails.count(tail) > 1:
                problems.append((head, _("{tail} enters {head} twice").format(tail=tail, head=head)))
            elif tail == "y" and head != "L":
                problems.append((head, _("y → {head}: y enters only L, where it picks the component z3_y").format(
                    head=head)))
            elif tail not in want[head]:
                problems.append((head, _("{head} does not take {tail} directly").format(head=head, tail=tail)))
        for tail in sorted(want[head] - set(tails)):
            problems.append((head, _("the edge {tail} → {head} is missing: {head} is computed from {tail}").format(
                tail=tail, head=head)))
    return problems


def paths_from(nodes: dict, start: str, end: str) -> int | None:
    """The number of paths start → end in the graph; None if it has a cycle.

    Counted, never enumerated (a graph of 40 nodes each feeding every later one has 2^37):
    paths(v) = Σ paths(u) over the edges u → v, in topological order, with paths(start) = 1.
    """
    import networkx as nx
    g = nx.DiGraph([(t, h) for h, (_, tails) in nodes.items() for t in tails])
    if start not in g or end not in g:
        return 0
    if not nx.is_directed_acyclic_graph(g):
        return None
    paths = dict.fromkeys(g, 0)
    paths[start] = 1
    for node in nx.topological_sort(g):
        for head in g.successors(node):
            paths[head] += paths[node]
    return paths[end]


def label_problems(labels: dict) -> list[str]:
    """Problems with the edge labels {(tail, head): label data or None}."""
    out = []
    for (tail, head), label in labels.items():
        if tail == "y":
            if label is not None:
                out.append(_("y → {head} carries no Jacobian: y is an integer label, never differentiated").format(
                    head=head))
        elif label is None:
            out.append(_("the edge {tail} → {head} has no Jacobian; label it J(\"{head}\", \"{tail}\")").format(
                tail=tail, head=head))
        elif label != ["sym", f"J_{head}({tail})"]:
            out.append(_("the edge {tail} → {head} carries the Jacobian of {head} with respect to {tail}, "
                         "J(\"{head}\", \"{tail}\")").format(tail=tail, head=head))
    return out


def read_loss_graph(data) -> tuple[dict, dict] | str:
    """{name: (op, [inputs])} and {(tail, head): label} from task (b)'s graph data, or why it is unreadable."""
    if not isinstance(data, dict) or not isinstance(data.get("nodes"), list) or len(data["nodes"]) > 40:
        return _("malformed graph data")
    nodes, labels = {}, {}
    for raw in data["nodes"]:
        if not isinstance(raw, dict) or not isinstance(raw.get("name"), str) or not isinstance(raw.get("op"), str):
            error = raw.get("name", raw.get("op")) if isinstance(raw, dict) else None
            return (unusable(error) or _("malformed node"))[:200]
        name, op = raw["name"][:30], raw["op"][:40]
        if name in nodes:
            return _("two nodes are named {name}").format(name=name)
        tails = raw.get("in", [])
        d = raw.get("d", [])
        if not isinstance(tails, list) or not all(isinstance(t, str) for t in tails) or not isinstance(d, list):
            bad = next((t for t in tails if isinstance(t, dict)), {}) if isinstance(tails, list) else {}
            return _("an input of {name}: {why}").format(name=name, why=(unusable(bad) or _("not a node name"))[:200])
        nodes[name] = (op, tails)
        for slot, tail in enumerate(tails):
            labels[(tail, name)] = d[slot] if slot < len(d) else None
    return nodes, labels


def judge_c1(data) -> Feedback:
    fb = Feedback("c1")
    read = read_loss_graph(data)
    if isinstance(read, str):
        return fb.add("", "invalid", read)
    nodes, labels = read
    problems = graph_problems(nodes)
    for part, message in problems[:6]:
        fb.add(part, "wrong", message)
    credit = 0.0
    if not problems:
        extra = sorted(set(nodes) - set(REQUIRED_NODES))
        drawn = ", ".join(REQUIRED_NODES)
        if extra:
            drawn = _("{nodes} (and {extra})").format(nodes=drawn, extra=", ".join(extra))
        paths = paths_from(nodes, "x", "L")
        # the parts "structure" and "labels" stay as written: they name the grader's answer notes (c1 has no tree)
        fb.add("structure", "ok", _(
            "{nodes}: every node computed from what the network's definition says; y enters only L; {paths} path "
            "from x to L, so the chain rule is one product").format(nodes=drawn, paths=paths))
        credit += WEIGHTS_C1["structure"]
    wrong_labels = label_problems({k: v for k, v in labels.items() if k[0] in nodes and k[1] in nodes})
    for message in wrong_labels[:4]:
        fb.add("labels", "wrong", message)
    if not wrong_labels and paths_from(nodes, "x", "L"):  # labels count once there is a path to label
        fb.add("labels", "ok", _("every edge carries its Jacobian, the edge from y none"))
        credit += WEIGHTS_C1["labels"]
    fb.credit = round(credit, 6)
    return fb


class C1(Task):
    id = "c1"

    def encode(self, answer, request):
        if not isinstance(answer, Graph):
            raise AnswerError(_("c1 expects a Graph (from course_lib.graph), got a {kind}").format(
                kind=type(answer).__name__))

        try:
            return answer.to_data()
        except GraphError as e:
            raise AnswerError(str(e)) from None

    def self_check(self, data, request):
        return judge_c1(data)

    def judge(self, data, request, key, rng):
        return judge_c1(data)

