r"""Task (b): the Rosenbrock function f(x1, x2) = 100 (x2 − x1²)² + (1 − x1)² as a computation graph.

b1  The ``Graph``: acyclic, one output, the inputs x1 and x2, constants as leaves, only
    +, −, *, pow nodes (natural e) with the right number of inputs — and it computes f.
    Credit: ½ for the structure (−¼ per problem found), ½ for computing f.
b2  The same graph's edge labels: the edge u → v carries ∂v/∂u (parallel edges of
    x1 * x1 add up). Credit: the share of edges labelled correctly.
b3  ``{"graph": G, "adjoints": {node: ∂f/∂node}, "grad": [∂f/∂x1, ∂f/∂x2]}``.
    Credit: ½ for the adjoints (share of nodes), ½ for ∇f (¼ per component).
    An adjoint or component that is wrong only because it carries an earlier
    mistake forward (a wrong label, a wrong adjoint upstream, a graph that
    computes something else) earns half.

Labels, adjoints and ∇f may be written in node names (a name stands for the
node's value) or in x1, x2; they are compared by value at random points, then
confirmed symbolically within a time budget. What they are compared with comes
from the problem statement and the student's own graph: SymPy's derivative of f
and of each node's operation, and the reverse sweep over that graph. The grader
passes its key (f and ∇f) in place of the derived ones.
"""
from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from .. import bounded
from .. import expr_json as ej
from .. import graph as gr
from ..diagnose import Branch, Outcome, always, diagnose
from ..errors import AnswerError, Unusable, unusable
from ..feedback import Feedback
from ..i18n import N_, _, ngettext
from ..probe import all_close, rng_for, signed_uniform, symbolically_equal
from . import Task

VARIABLES = ("x1", "x2")
x1, x2 = sp.symbols(VARIABLES)
ROSENBROCK = 100 * (x2 - x1**2) ** 2 + (1 - x1) ** 2   # the function the sheet states
POINTS = 12
ENCODE_SECONDS = 10.0
MAX_DEGREE = 256           # symbolic confirmation skips graphs whose polynomial degree exceeds this
MAX_MUTATION_NODES = 80    # larger graphs skip the "which single edge slip explains it" search
MAX_FANOUT_SUBSETS = 8     # fan-out diagnosis tries every subset of up to this many out-edges


@functools.lru_cache(maxsize=1)
def derived_reference() -> dict:
    """f as stated, and ∇f by SymPy's differentiation of it."""
    return {"f": ROSENBROCK, "grad": tuple(sp.diff(ROSENBROCK, v) for v in (x1, x2))}


# ====================================================================== probing one answer
class Probe:
    """The student's graph evaluated at random points, with everything the trees compare."""

    def __init__(self, model: gr.Model, rng):
        self.model = model
        self.point = {v: signed_uniform(rng, 0.3, 2.0, POINTS) for v in VARIABLES}
        self.ev = gr.evaluate_at(model, self.point)
        self.true = self.ev.true_sweep()    # adjoints from SymPy's local derivatives
        self.own = self.ev.label_sweep()    # adjoints from the graph's own labels

    def evaluate(self, data):
        return self.ev.evaluate(data)

    def reference(self, expr: sp.Expr) -> np.ndarray:
        return np.broadcast_to(ej.evaluate(ej.to_data(expr), self.point), (POINTS,)).astype(float)

    @functools.cached_property
    def groups(self) -> dict:
        """(head, tail) -> the slots of head that tail fills (two for x1 * x1)."""
        out: dict = {}
        for tail, head, slot in self.model.edges():
            out.setdefault((head, tail), []).append(slot)
        return out

    def true_group(self, head, tail):
        return sum(self.ev.true[(head, s)] for s in self.groups[(head, tail)])

    @functools.cached_property
    def mutated(self) -> list:
        """[(edge, slip, adjoints, ∇f)]: the reverse sweep with one edge's label changed by one typical slip."""
        if len(self.model.order) > MAX_MUTATION_NODES:
            return []
        out = []
        for (head, tail), slots in self.groups.items():
            if head not in self.ev.values:
                continue
            for value, kind, slip in edge_slips(self, head, tail):
                edges = {**self.ev.true, **{(head, s): value / len(slots) for s in slots}}
                adjoints = gr.sweep(self.model, edges, self.ev.one)
                out.append((f"{tail}→{head}", kind, slip, adjoints, gr.gradient(self.model, adjoints)))
        return out


# What a slip does to a label, said of any edge (when several edges would explain the answer).
SLIP_KINDS = {
    "sign": N_("has the wrong sign"),
    "value": N_("carries its node's value instead of the derivative"),
    "power factor": N_("misses the factor e of the power rule"),
    "exponent": N_("keeps the exponent e instead of lowering it to e − 1"),
    "own tail": N_("carries its own tail instead of the other factor"),
    "factor": N_("misses a constant factor"),
}


def edge_slips(probe: Probe, head: str, tail: str) -> list:
    """[(wrong label value, kind, what is wrong)] for the typical slips on the edge tail → head."""
    node, ev = probe.model.nodes[head], probe.ev
    d, u = probe.true_group(head, tail), ev.local[tail]
    slips = [(-d, "sign", _("has the wrong sign")),
             (ev.local[head], "value", _("is the value of {head}, not its derivative").format(head=head))]
    if node.op == "pow" and node.e > 1:
        slips += [(d / node.e, "power factor", _("misses the factor {e} of the power rule").format(e=node.e)),
                  (d * u, "exponent", _("keeps the exponent {e} instead of lowering it to {lower}").format(
                      e=node.e, lower=node.e - 1))]
    if node.op == "*" and len(set(node.inputs)) == 2:
        slips.append((u, "own tail", _("is {tail} itself instead of the other factor").format(tail=tail)))
    if np.ptp(d) == 0 and abs(d[0]) not in (0.0, 1.0):
        slips.append((d / d[0], "factor", _("misses the factor {factor}").format(factor=_fmt(d[0]))))
    return slips


def _fmt(c: float) -> str:
    frac = sp.nsimplify(c, tolerance=1e-9, rational=True)
    return str(frac) if frac.q <= 1000 else f"{c:.4g}"


def _same(a, b) -> bool:
    return a is not None and b is not None and not isinstance(a, str) and not isinstance(b, str) and all_close(a, b)


def _not_finite(c) -> bool:
    return not np.all(np.isfinite(c.S))


def _sign(c) -> bool:
    return _same(c.S, -c.T)


def _factor(c):
    with np.errstate(all="ignore"):
        r = c.S / c.T
    if not np.all(np.isfinite(r)) or not all_close(r, np.median(r), rtol=1e-6):
        return False
    return {"factor": _fmt(float(np.median(r)))}


def _slip(c):
    """The answer equals what one typical slip on an edge gives; name every edge where that slip fits."""
    fits: dict[str, list] = {}
    for edge, kind, slip, adjoints, grad in c.probe.mutated:
        if _same(c.S, c.pick(adjoints, grad)):
            fits.setdefault(kind, []).append((edge, slip))
    if not fits:
        return False
    kind, matches = next(iter(fits.items()))
    if len(matches) == 1:
        return {"edge": _("the edge {edge} {slip}").format(edge=matches[0][0], slip=matches[0][1])}
    return {"edge": _("one of the edges {edges} {slip}").format(edges=", ".join(e for e, _slip in matches),
                                                                 slip=_(SLIP_KINDS[kind]))}


def _subset_sums(terms: list) -> list:
    """[(used heads, unused heads, sum)] over proper non-empty subsets of the terms, grouped by head."""
    by_head: dict = {}
    for head, value in terms:
        by_head[head] = by_head.get(head, 0) + value
    heads = list(by_head)
    if len(heads) < 2:
        return []
    sizes = range(1, len(heads)) if len(heads) <= MAX_FANOUT_SUBSETS else (1,)
    return [(used, [h for h in heads if h not in used], sum(by_head[h] for h in used))
            for k in sizes for used in itertools.combinations(heads, k)]


class Findings:
    """Problems with the same message, collected so that one line names all the parts they concern."""

    def __init__(self):
        self.parts: dict[tuple, list] = {}

    def add(self, part: str, status: str, message: str) -> None:
        self.parts.setdefault((status, message), []).append(part)

    def into(self, fb: Feedback) -> None:
        for (status, message), parts in self.parts.items():
            fb.add(", ".join(parts), status, message)


# ====================================================================== b1: structure and value
@dataclass
class ValueCase:
    S: np.ndarray | str      # the graph's output at the probes, or why it cannot be computed
    T: np.ndarray            # f at the probes
    terms: list              # [(term of f, its values)]
    point: dict


def _missing_term(c):
    for term, values in c.terms:
        if _same(c.S, c.T - values):
            return {"term": sp.sstr(term)}
    return False


def _missing_factor(c):
    for term, values in c.terms:
        k, rest = term.as_coeff_Mul()
        if k not in (1, -1) and _same(c.S, c.T - values + values / float(k)):
            return {"factor": str(k), "term": sp.sstr(rest)}
    return False


def _term_sign(c):
    for term, values in c.terms:
        if _same(c.S, c.T - 2 * values):
            return {"term": sp.sstr(term)}
    return False


def _first_point(c):
    return {"p": f"({c.point['x1'][0]:.3g}, {c.point['x2'][0]:.3g})", "s": f"{c.S[0]:.6g}", "t": f"{c.T[0]:.6g}"}


VALUE_TREE = [
    Branch("not computable", lambda c: isinstance(c.S, str) and {"why": c.S}, Outcome(
        0, "the graph's output cannot be computed: {why}")),
    Branch("not finite", _not_finite, Outcome(0, "the graph's output is NaN or infinite at some probe points")),
    Branch("equal", lambda c: _same(c.S, c.T), Outcome(1, "the graph computes f")),
    Branch("term missing", _missing_term, Outcome(0, "the graph computes f without its term {term}")),
    Branch("factor missing", _missing_factor, Outcome(0, "the factor {factor} in front of {term} is missing")),
    Branch("term sign", _term_sign, Outcome(0, "the term {term} enters the graph's output with the wrong sign")),
    Branch("factor", _factor, Outcome(0, "the graph computes {factor} times f")),
    Branch("other", _first_point, Outcome(
        0, "the graph does not compute f: at (x1, x2) = {p} its output is {s}, f is {t}")),
]

STRUCTURE_PENALTY = 0.5   # of the structure half, per problem found


def judge_b1(data, reference, rng, seconds: float) -> Feedback:
    fb = Feedback("b1")
    model = _read_or_report(data, fb)
    if model is None:
        return fb
    for part, message in model.problems:
        fb.add(part, "wrong", message)
    for part, message in model.notes:
        fb.add(part, "info", message)
    structure = max(0.0, 1.0 - STRUCTURE_PENALTY * len(model.problems))
    if not model.problems:
        fb.add(_("structure"), "ok", _("a valid graph: {count} nodes, one output {output}").format(
            count=len(model.nodes), output=model.output))
    probe = Probe(model, rng)
    output = probe.ev.values.get(model.output) if model.output else None
    why = _("the graph has no output") if model.output is None else model.why_not_computable(model.output)
    terms = [(t, probe.reference(t)) for t in sp.Add.make_args(reference["f"])]
    d = diagnose(VALUE_TREE, ValueCase(why if output is None else output, probe.reference(reference["f"]),
                                       terms, probe.point))
    message = d.message
    if d.outcome.credit >= 1:
        symbolic = Symbolic(model, seconds)
        if symbolic.equal(lambda: symbolic.values[model.output], reference["f"]):
            message = _("{message} (confirmed symbolically)").format(message=message)
    fb.add(_("value"), d.outcome.status, message)
    fb.credit = 0.5 * structure + 0.5 * d.outcome.credit
    return fb


def _read_or_report(data, fb: Feedback) -> gr.Model | None:
    graph = data.get("graph") if isinstance(data, dict) else None
    if (why := unusable(graph)) is not None:
        fb.add(_("graph"), "invalid", why[:240])
        return None
    try:
        return gr.read(graph, VARIABLES)
    except gr.GraphError as e:
        fb.add(_("graph"), "invalid", str(e))
        return None


# ====================================================================== symbolic confirmation
class Symbolic:
    """Confirms symbolically what the probes found equal, within one time budget for the whole answer."""

    def __init__(self, model: gr.Model, seconds: float):
        self.model = model
        # a quarter per item, so that one expression that hangs SymPy does not starve the others
        self.budget = bounded.Budget(seconds, per_call=seconds / 4)

    def _bounded(self, fn):
        """fn() within the time left; None when out of time or SymPy fails."""
        left = self.budget.left()
        if left <= 0.01:
            return None
        return bounded.call(fn, left, memory=None, only_bounded=True).value

    @functools.cached_property
    def values(self) -> dict | None:
        """Node -> SymPy expression in x1, x2 (None for a graph of too high a degree, or out of time)."""
        if _max_degree(self.model) > MAX_DEGREE:
            return None
        return self._bounded(lambda: gr.forward(self.model, {"x1": x1, "x2": x2}, constant=ej.from_data))

    @functools.cached_property
    def edges(self) -> dict:
        """(head, slot) -> local derivative of head's operation, in x1, x2 (computable heads)."""
        out = {}
        for _tail, head, slot in self.model.edges():
            node = self.model.nodes[head]
            if head not in self.values:
                continue
            subs = {gr.SLOT_SYMBOLS[k]: self.values[a] for k, a in enumerate(node.inputs)}
            out[(head, slot)] = gr.local_derivative(node.op, len(node.inputs), node.e, slot).xreplace(subs)
        return out

    @functools.cached_property
    def adjoints(self) -> dict:
        return gr.sweep(self.model, self.edges, sp.Integer(1))

    def expr(self, data) -> sp.Expr:
        """Expression data in node names, written in x1, x2."""
        names = {sp.Symbol(n): v for n, v in self.values.items()}
        return ej.from_data(data).xreplace(names)

    def equal(self, student, truth) -> bool:
        """Whether student() (built within the budget) equals truth() symbolically."""
        if self.values is None:
            return False
        pair = self._bounded(lambda: (student(), truth() if callable(truth) else truth))
        if pair is None or any(p is None for p in pair):
            return False
        try:
            return bool(symbolically_equal(pair[0], pair[1], self.budget.left()))
        except Exception:  # SymPy failing on an odd expression proves nothing either way
            return False


def _max_degree(model: gr.Model) -> int:
    """An upper bound on the polynomial degree of each node (each operation's rule in the table: pow multiplies,
    * adds)."""
    degree: dict[str, int] = {}
    for name in model.order:
        node = model.nodes[name]
        degree[name] = {"input": 1, "const": 0}.get(node.op) if node.op in gr.LEAVES else \
            gr.OPERATIONS[node.op].degree([degree[a] for a in node.inputs], node.e)
    return max(degree.values(), default=0)


# ====================================================================== b2: edge labels
@dataclass
class EdgeCase:
    S: np.ndarray | str      # the student's label (summed over parallel edges), or why it is unusable
    T: np.ndarray            # ∂head/∂tail from SymPy's derivative of head's operation
    k: int                   # number of parallel edges
    slips: list              # [(wrong value, kind, what is wrong)] from edge_slips


def _slip_on_edge(c):
    for value, _kind, slip in c.slips:
        if _same(c.S, value):
            return {"slip": slip}
    return False


EDGE_TREE = [
    Branch("no label", lambda c: isinstance(c.S, str) and c.S == "no label", Outcome(
        0, "has no label: write ∂head/∂tail on it")),
    Branch("unusable", lambda c: isinstance(c.S, str) and {"why": c.S}, Outcome(0, "{why}", "invalid")),
    Branch("not finite", _not_finite, Outcome(0, "the label is NaN or infinite at some probe points")),
    Branch("equal", lambda c: _same(c.S, c.T), Outcome(1, "correct")),
    Branch("parallel counted twice", lambda c: c.k > 1 and _same(c.S, c.k * c.T) and {"k": c.k}, Outcome(
        0, "the {k} parallel edges together carry {k} times the derivative: each edge carries its own share, "
           "and the shares add up")),
    Branch("slip", _slip_on_edge, Outcome(0, "the label {slip}")),
    Branch("factor", _factor, Outcome(0, "the label is {factor} times the local derivative")),
    Branch("other", always, Outcome(0, "the label is not the local derivative ∂head/∂tail")),
]


def judge_b2(data, reference, rng, seconds: float) -> Feedback:
    """Every edge that needs a label (edges from constants only if labelled) is one item of equal weight."""
    fb = Feedback("b2")
    model = _read_or_report(data, fb)
    if model is None:
        return fb
    probe, symbolic = Probe(model, rng), Symbolic(model, seconds)
    items = correct = confirmed = 0
    wrong = Findings()
    for node in model.nodes.values():
        if node.op in gr.LEAVES:
            continue
        if node.name in model.broken:
            items += 1
            wrong.add(node.name, "wrong", _("its edges cannot be judged: the node is not valid (see b1)"))
            continue
        if len(node.labels) != len(node.inputs):
            items += 1
            count = len(node.labels)
            wrong.add(node.name, "invalid", ngettext("has {inputs} inputs but {count} label",
                                                     "has {inputs} inputs but {count} labels", count).format(
                inputs=len(node.inputs), count=count))
            continue
        for tail in dict.fromkeys(node.inputs):
            slots = probe.groups[(node.name, tail)]
            given = [node.labels[s] for s in slots]
            if model.is_constant(tail) and all(g is None for g in given):
                continue
            items += 1
            edge = f"{tail}→{node.name}"
            if len(slots) > 1:
                edge = _("{edge} ({count} parallel edges)").format(edge=edge, count=len(slots))
            if model.cycle and {tail, node.name} <= set(model.cycle):
                wrong.add(edge, "wrong", _("cannot be judged: the edge lies on the cycle (see b1)"))
                continue
            d = diagnose(EDGE_TREE, _edge_case(probe, node.name, tail, slots))
            if d.outcome.credit >= 1:
                correct += 1
                confirmed += symbolic.equal(lambda: sum(symbolic.expr(g) for g in given),
                                            lambda: sum(symbolic.edges[(node.name, s)] for s in slots))
            elif node.name not in probe.ev.values:  # judged with stand-ins for the nodes that cannot be computed
                wrong.add(edge, d.outcome.status, _("{message} (judged with a stand-in value for {nodes})").format(
                    message=d.message, nodes=_upstream_problem(model, node.name)))
            else:
                wrong.add(edge, d.outcome.status, d.message)
    wrong.into(fb)
    if correct:
        said = _("{correct} of {total} edges carry their local derivative ∂head/∂tail; {confirmed} confirmed "
                 "symbolically") if confirmed else _("{correct} of {total} edges carry their local derivative ∂head/∂tail")
        fb.add("", "ok" if correct == items else "info", said.format(correct=correct, total=items, confirmed=confirmed))
    elif not items:
        fb.add("", "wrong", _("the graph has no edges to label"))
    fb.credit = correct / items if items else 0.0
    return fb


def _upstream_problem(model: gr.Model, name: str) -> str:
    """The nodes whose problem keeps ``name`` from being computed: the invalid ones, or a cycle."""
    bad = sorted(model.broken) or (model.cycle or [])
    return (_("the invalid node {nodes}") if model.broken else _("the nodes of the cycle {nodes}")).format(
        nodes=", ".join(bad))


def _edge_case(probe: Probe, head: str, tail: str, slots: list) -> EdgeCase:
    values = [probe.ev.labels[(head, s)] for s in slots]
    why = next((v for v in values if isinstance(v, str)), None)
    return EdgeCase(why or sum(values), probe.true_group(head, tail), len(slots), edge_slips(probe, head, tail))


# ====================================================================== b3: adjoints and ∇f
@dataclass
class BackCase:
    """One adjoint ∂f/∂v, or one component ∂f/∂x of ∇f (then ``var`` is set)."""
    name: str
    S: np.ndarray | str              # the student's answer, or why it cannot be evaluated
    T: np.ndarray | None             # the truth: reverse sweep with true local derivatives (∇f: the reference)
    probe: Probe
    given: dict                      # the student's adjoints that could be evaluated
    var: str | None = None
    notes: dict = field(default_factory=dict)

    def pick(self, adjoints, grad):
        return grad.get(self.var) if self.var else adjoints.get(self.name)

    @property
    def leaves(self) -> list:
        """The nodes whose adjoints make up this answer: the node, or all input leaves of the variable."""
        return self.probe.model.inputs_of(self.var) if self.var else [self.name]


def _terms(c: BackCase, adjoints: dict, edges: dict) -> list | None:
    """[(head, adjoint · label)] over the edges leaving the leaves, or None if one is unknown."""
    out = []
    for leaf in c.leaves:
        terms = gr.contributions(c.probe.model, leaf, adjoints, edges)
        if terms is None:
            return None
        out += [(f"{leaf}→{head}" if c.var and len(c.leaves) > 1 else head, t) for head, _, t in terms]
    return out


def _follow_on(c: BackCase):
    """Right step, wrong input: the answer follows from the student's own adjoints of the consumers
    (or of the variable's leaves) and the graph's own labels, one of which is wrong."""
    if c.var:
        own = [c.given.get(leaf) for leaf in c.leaves]
        if all(o is not None for o in own) and _same(c.S, sum(own)) and \
                not all(_same(o, c.probe.true.get(leaf)) for o, leaf in zip(own, c.leaves)):
            return {"why": _("your adjoint of {nodes}, which is not right").format(nodes=", ".join(c.leaves))}
        graph = gr.gradient(c.probe.model, c.probe.true).get(c.var)
        if _same(c.S, graph):
            return {"why": _("your graph, which does not compute f (see b1)")}
        own_labels = gr.gradient(c.probe.model, c.probe.own).get(c.var)
        if _same(c.S, own_labels):
            return {"why": _("the reverse sweep over your edge labels, some of which are wrong (see b2)")}
        return False
    model, ev = c.probe.model, c.probe.ev
    labels = {k: v for k, v in ev.labels.items() if not isinstance(v, str)}
    terms = gr.contributions(model, c.name, c.given, {**ev.true, **labels})
    if not terms or not _same(c.S, sum(t for _, _, t in terms)):
        return False
    wrong = [_("your adjoint of {node}").format(node=h) for h in dict.fromkeys(h for h, _s, _t in terms)
             if not _same(c.given[h], c.probe.true.get(h))]
    wrong += [_("the label on {edge}").format(edge=f"{c.name}→{h}") for h, s, _t in terms if (h, s) in labels
              and not _same(labels[(h, s)], ev.true[(h, s)])]
    return bool(wrong) and {"why": _("{wrong}, which is not right").format(wrong=_(" and ").join(dict.fromkeys(wrong)))}


def _value_for_adjoint(c: BackCase):
    return c.var is None and _same(c.S, c.probe.ev.values.get(c.name)) and {"node": c.name}


def _mixed_up(c: BackCase):
    """One consumer's value was used where its adjoint belongs in the step ū = Σ v̄ · ∂v/∂u."""
    terms = _terms(c, c.probe.true, c.probe.ev.true)
    if not terms:
        return False
    ev = c.probe.ev
    for leaf in c.leaves:
        for head, slot in c.probe.model.consumers[leaf]:
            swapped = ev.values[head] * ev.true[(head, slot)] - c.probe.true[head] * ev.true[(head, slot)]
            if _same(c.S, sum(t for _, t in terms) + swapped):
                return {"head": head}
    return False


def _fan_out(c: BackCase):
    terms = _terms(c, c.probe.true, c.probe.ev.true)
    for used, unused, total in _subset_sums(terms or []):
        if _same(c.S, total):
            if c.var and len(c.leaves) > 1 and _leaf_subset(used, c.leaves):
                return {"msg": _("{var} appears as the leaves {leaves}: ∂f/∂{var} adds the adjoints of all of them")
                        .format(var=c.var, leaves=", ".join(c.leaves))}
            return {"msg": ngettext("has only the path through {used}; {node} also feeds {unused}, and the terms of "
                                    "all paths add up",
                                    "has only the paths through {used}; {node} also feeds {unused}, and the terms of "
                                    "all paths add up", len(used)).format(
                used=", ".join(used), node=c.var or c.name, unused=", ".join(unused))}
    return False


def _leaf_subset(used, leaves) -> bool:
    """The used terms are all the edges of some leaves and none of the others (a tree's copies not added)."""
    return len({u.split("→")[0] for u in used}) < len(leaves)


BACK_COMMON = [
    Branch("value for adjoint", _value_for_adjoint, Outcome(
        0, "this is the value of {node}; its adjoint is ∂f/∂{node}")),
    Branch("value and adjoint mixed up", _mixed_up, Outcome(
        0, "the step uses the value of {head} where its adjoint ∂f/∂{head} belongs")),
    Branch("fan-out not summed", _fan_out, Outcome(0, "{msg}")),
    Branch("sign", _sign, Outcome(0, "right magnitude, wrong sign")),
    Branch("one slip on an edge", _slip, Outcome(0, "matches the reverse sweep if {edge}")),
    Branch("factor", _factor, Outcome(0, "{factor} times the right value")),
]
BACK_TREE = [
    Branch("missing", lambda c: isinstance(c.S, str) and c.S == "missing", Outcome(0, "not given", "invalid")),
    Branch("unusable", lambda c: isinstance(c.S, str) and {"why": c.S}, Outcome(0, "{why}", "invalid")),
    Branch("not judgeable", lambda c: c.T is None and {"why": c.notes.get("why", "")}, Outcome(
        0, "cannot be judged: {why}")),
    Branch("not finite", _not_finite, Outcome(0, "NaN or infinite at some probe points")),
    Branch("equal", lambda c: _same(c.S, c.T), Outcome(1, "correct")),
    Branch("follow-on", _follow_on, Outcome(0.5, "wrong, but it follows correctly from {why} (half credit)")),
    *BACK_COMMON,
    Branch("other", lambda c: {"what": f"∂f/∂{c.var or c.name}"}, Outcome(0, "not {what}")),
]


def judge_b3(data, reference, rng, seconds: float) -> Feedback:
    fb = Feedback("b3")
    model = _read_or_report(data, fb) or gr.Model({}, VARIABLES)
    probe, symbolic = Probe(model, rng), Symbolic(model, seconds)
    adjoints = _named_entries(data.get("adjoints") if isinstance(data, dict) else None)
    for name in adjoints:
        if name not in model.nodes:
            fb.add(str(name)[:30], "info", _("not a node of the graph; ignored"))
    given = {n: v for n, v in ((n, probe.evaluate(d)) for n, d in adjoints.items()) if not isinstance(v, str)}
    need = [n for n in model.nodes if not model.is_constant(n) or n in adjoints]   # constants' are optional
    adj_credit = _judge_items(
        fb, symbolic, [(_("adjoint of {node}").format(node=n), BackCase(n, probe.evaluate(adjoints[n]) if n in adjoints else "missing",
                                            probe.true.get(n), probe, given, notes=_why(model, probe, n)),
                        adjoints.get(n), lambda n=n: symbolic.adjoints[n]) for n in need])
    grad = _grad_entries(data.get("grad") if isinstance(data, dict) else None)
    if isinstance(grad, str):
        fb.add("∇f", "invalid", grad)
        grad_credit = 0.0
    else:
        grad_credit = _judge_items(fb, symbolic, [
            (f"∇f: ∂f/∂{v}", BackCase(v, probe.evaluate(g), probe.reference(r), probe, given, var=v), g, r)
            for v, g, r in zip(VARIABLES, grad, reference["grad"])])
    fb.credit = 0.5 * adj_credit + 0.5 * grad_credit
    return fb


def _why(model: gr.Model, probe: Probe, name: str) -> dict:
    if name not in model.nodes:
        return {}
    if model.output is None:
        return {"why": _("the graph has no output")}
    if name not in probe.ev.values:
        return {"why": model.why_not_computable(name)}
    return {"why": _("an adjoint it depends on cannot be computed (an edge into an invalid node)")}


def _judge_items(fb: Feedback, symbolic: Symbolic, items: list) -> float:
    """Diagnose each (part, case, data, truth); add findings; return the mean credit."""
    total = confirmed = correct = 0.0
    wrong = Findings()
    for part, case, data, truth in items:
        d = diagnose(BACK_TREE, case)
        total += d.outcome.credit
        if d.outcome.credit >= 1:
            correct += 1
            confirmed += symbolic.equal(lambda: symbolic.expr(data), truth)
        else:
            wrong.add(part, d.outcome.status, d.message)
    wrong.into(fb)
    if correct:
        if items[0][1].var:
            said = _("{correct} of {total} components of ∇f correct; {confirmed} confirmed symbolically") if confirmed \
                else _("{correct} of {total} components of ∇f correct")
        else:
            said = _("{correct} of {total} adjoints correct; {confirmed} confirmed symbolically") if confirmed \
                else _("{correct} of {total} adjoints correct")
        fb.add("", "ok" if correct == len(items) else "info",
               said.format(correct=int(correct), total=len(items), confirmed=int(confirmed)))
    return total / len(items) if items else 0.0


def _named_entries(entries) -> dict:
    """[[name, data], …] -> {name: data}, dropping anything malformed."""
    if not isinstance(entries, list):
        return {}
    return {e[0]: e[1] for e in entries[:gr.MAX_NODES]
            if isinstance(e, list) and len(e) == 2 and isinstance(e[0], str)}


def _grad_entries(grad):
    if isinstance(grad, dict):
        return (unusable(grad) or _("malformed"))[:240]
    if not isinstance(grad, list) or len(grad) != len(VARIABLES):
        return _("∇f has {count} components, ∂f/∂x1 and ∂f/∂x2").format(count=len(VARIABLES))
    return grad


# ====================================================================== encoding and the tasks
def _graph_data(answer, task_id: str) -> dict:
    if not isinstance(answer, gr.Graph):
        raise AnswerError(_("{task} expects the Graph you built (G = Graph(), then G.input, G.const, G.op), "
                            "got an object of type {kind}").format(task=task_id, kind=type(answer).__name__))
    try:
        return answer.to_data()
    except gr.GraphError as e:
        raise AnswerError(str(e)) from None


def _backward_data(answer) -> dict:
    if not isinstance(answer, dict) or not {"graph", "adjoints", "grad"} <= set(answer):
        raise AnswerError(_('b3 expects {form}').format(
            form='{"graph": G, "adjoints": {node: ∂f/∂node, …}, "grad": [∂f/∂x1, ∂f/∂x2]}'))
    adjoints, grad = answer["adjoints"], answer["grad"]
    if not isinstance(adjoints, dict):
        raise AnswerError(_("adjoints must be a dict {form}, got a {kind}").format(
            form="{node: ∂f/∂node}", kind=type(adjoints).__name__))
    if len(adjoints) > gr.MAX_NODES:
        raise AnswerError(_("{count} adjoints; the graph has at most {most} nodes").format(
            count=len(adjoints), most=gr.MAX_NODES))
    if isinstance(grad, (sp.MatrixBase, np.ndarray)):
        grad = list(np.asarray(grad, dtype=object).ravel())
    return {
        "graph": _graph_data(answer["graph"], "b3"),
        "adjoints": [[_key_name(k), gr.encode_expr(v)] for k, v in adjoints.items()],
        "grad": [gr.encode_expr(g) for g in grad] if isinstance(grad, (list, tuple)) and len(grad) <= 10
        else Unusable(_("grad must be a list [∂f/∂x1, ∂f/∂x2], got a {kind}").format(kind=type(grad).__name__)),
    }


def _key_name(key) -> str:
    return key.name if isinstance(key, sp.Symbol) else key if isinstance(key, str) else f"<{type(key).__name__}>"


class _GraphTask(Task):
    judge_fn = None

    def encode(self, answer, request):
        result = bounded.call(lambda: self._encode(answer), ENCODE_SECONDS)
        if result.timed_out:
            raise AnswerError(_("reading the answer took longer than {seconds} s").format(seconds=f"{ENCODE_SECONDS:g}"))

        if result.failure:
            raise result.failure  # answers.encode says what it was
        return result.value

    def _encode(self, answer) -> dict:
        return {"graph": _graph_data(answer, self.id)}

    def self_check(self, data, request):
        return type(self).judge_fn(data, derived_reference(), rng_for("public", "b"), seconds=0.3)

    def judge(self, data, request, key, rng):
        return type(self).judge_fn(data, key, rng, seconds=3.0)


class B1(_GraphTask):
    id = "b1"
    judge_fn = judge_b1


class B2(_GraphTask):
    id = "b2"
    judge_fn = judge_b2


class B3(_GraphTask):
    id = "b3"
    judge_fn = judge_b3

    def _encode(self, answer):
        return _backward_data(answer)
