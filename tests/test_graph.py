"""course_lib.graph and course_lib.draw: building, reading back, evaluating, sweeping and drawing graphs."""
import json

import numpy as np
import pytest
import sympy as sp

from course_lib import graph as gr
from course_lib.draw import draw, draw_gradient_field, layout, node_text

VARS = ("x1", "x2")
x1, x2, v1, v2, v3, v5 = sp.symbols("x1 x2 v1 v2 v3 v5")


def rosenbrock() -> gr.Graph:
    G = gr.Graph()
    a, b = G.input("x1"), G.input("x2")
    c1, c100 = G.const("c1", 1), G.const("c100", 100)
    n1 = G.op("v1", "pow", a, e=2, d=[2 * a])
    n2 = G.op("v2", "-", b, n1, d=[1, -1])
    n3 = G.op("v3", "pow", n2, e=2, d=[2 * n2])
    n4 = G.op("v4", "*", c100, n3, d=[None, c100])
    n5 = G.op("v5", "-", c1, a, d=[None, -1])
    n6 = G.op("v6", "pow", n5, e=2, d=[2 * n5])
    G.op("f", "+", n4, n6, d=[1, 1])
    return G


def read(G) -> gr.Model:
    return gr.read(json.loads(json.dumps(G.to_data())), VARS)


def at(model, p1, p2):
    return gr.evaluate_at(model, {"x1": np.array([p1]), "x2": np.array([p2])})


# --------------------------------------------------------------------- reading and evaluating
def test_canonical_graph_reads_without_problems_in_an_order_that_respects_its_edges():
    model = read(rosenbrock())
    assert model.problems == [] and model.output == "f"
    assert set(model.order) == set(model.nodes)
    position = {n: k for k, n in enumerate(model.order)}
    assert all(position[tail] < position[head] for tail, head, _ in model.edges())


@pytest.mark.parametrize("point, value, grad", [((0, 0), 1, (-2, 0)), ((1, 1), 0, (0, 0)),
                                                ((-1.2, 1), 24.2, (-215.6, -88)), ((2, 3), 101, (802, -200))])
def test_forward_values_and_both_sweeps_give_the_reference_test_values(point, value, grad):
    model = read(rosenbrock())
    ev = at(model, *point)
    assert ev.values["f"][0] == pytest.approx(value)
    for adjoints in (ev.true_sweep(), ev.label_sweep()):
        g = gr.gradient(model, adjoints)
        assert (g["x1"][0], g["x2"][0]) == pytest.approx(grad)


def test_fan_out_adds_one_term_per_edge_and_parallel_edges_add_up():
    G = gr.Graph()
    a = G.input("x1")
    q = G.op("q", "*", a, a, d=[a, a])              # x1², two parallel edges
    G.op("f", "*", q, a, d=[a, q])                  # x1³: x1 feeds q twice and f once
    model = gr.read(G.to_data(), ("x1",))
    ev = gr.evaluate_at(model, {"x1": np.array([1.5])})
    assert gr.gradient(model, ev.label_sweep())["x1"][0] == pytest.approx(3 * 1.5**2)
    assert sorted(h for h, _ in model.consumers["x1"]) == ["f", "q", "q"]


def test_local_derivatives_come_from_sympy_per_input_slot():
    a0, a1 = gr.SLOT_SYMBOLS
    assert gr.local_derivative("*", 2, None, 0) == a1 and gr.local_derivative("*", 2, None, 1) == a0
    assert gr.local_derivative("-", 2, None, 1) == -1 and gr.local_derivative("-", 1, None, 0) == -1
    assert gr.local_derivative("pow", 1, 3, 0) == 3 * a0**2


def test_a_tree_with_a_copied_leaf_adds_the_copies_adjoints():
    G = gr.Graph()
    a, a2 = G.input("x1"), G.input("x1b", copy_of="x1")
    G.op("f", "*", a, a2, d=[a2, a])
    model = gr.read(G.to_data(), ("x1",))
    ev = gr.evaluate_at(model, {"x1": np.array([2.0])})
    adjoints = ev.label_sweep()
    assert adjoints["x1"][0] == adjoints["x1b"][0] == 2.0
    assert gr.gradient(model, adjoints)["x1"][0] == 4.0


def test_a_missing_or_unusable_label_leaves_the_adjoints_it_feeds_unknown():
    G = rosenbrock()
    G._nodes[-1]["d"] = [1, "one"]   # the label of v6 → f is text
    model = read(G)
    ev = at(model, 0.5, 0.5)
    assert isinstance(ev.labels[("f", 1)], str)
    own = ev.label_sweep()
    assert own["v6"] is None and own["x1"] is None and own["x2"] is not None


def test_nodes_may_be_written_in_any_order():
    G = gr.Graph()
    G.op("f", "+", "s", "x2", d=[1, 1])
    G.op("s", "*", "x1", "x1", d=[x1, x1])
    G.input("x1")
    G.input("x2")
    model = gr.read(G.to_data(), VARS)
    assert model.problems == [] and model.order[-1] == "f"


# --------------------------------------------------------------------- structural problems
def problems_of(G):
    return [f"{part}: {message}" for part, message in read(G).problems]


def mutate(**nodes):
    """The canonical graph with some operation nodes replaced: name -> (op, inputs, e, labels) or None."""
    G = rosenbrock()
    kept = []
    for n in G._nodes:
        if n["name"] in nodes:
            if nodes[n["name"]] is None:
                continue
            op, ins, e, d = nodes[n["name"]]
            n = {"name": n["name"], "op": op, "in": ins, "e": e, "d": d}
        kept.append(n)
    G._nodes = kept
    return G


@pytest.mark.parametrize("change, phrase", [
    (dict(v2=("-", ["x2", "v3"], None, [1, -1])), "v2 → v3 → v2 is a cycle"),
    (dict(v2=("-", ["x2", "v2"], None, [1, -1])), "v2 → v2 is a cycle"),
    (dict(v2=("-", ["x2", "w"], None, [1, -1])), "uses 'w', which is not a node"),
    (dict(v4=("/", ["v3", "c100"], None, [1, None])), "division is not one of the graph's operations"),
    (dict(v6=("exp", ["v5"], None, [1])), "exp is not one of the graph's operations"),
    (dict(v6=("sqrt", ["v5"], None, [1])), "sqrt is not one of the graph's operations"),
    (dict(v3=("**", ["v2"], 2, [2 * v2])), "write a power as the operation 'pow'"),
    (dict(v4=("square_scale", ["v2"], None, [200 * v2]), v3=None), "is not an operation of the graph"),
    (dict(v4=("*", ["v3"], None, [100])), "'*' takes 2 inputs, v4 has 1"),
    (dict(v5=("-", ["c1", "x1", "x2"], None, [None, -1, 0])), "'-' takes 1 or 2 inputs"),
    (dict(v3=("pow", ["v2"], 0.5, [1])), "e = 0.5 is no natural number"),
    (dict(v3=("pow", ["v2"], -1, [1])), "negative"),
    (dict(v3=("pow", ["v2"], 0, [1])), "e = 0 makes a constant"),
    (dict(v3=("pow", ["v2"], None, [1])), "'pow' needs its exponent"),
    (dict(v3=("pow", ["v2"], 10**6, [1])), "larger than 64"),
    (dict(v3=("+", ["v2", "v2"], 2, [1, 1])), "e belongs to 'pow' only"),
    (dict(f=("+", ["v4", "v4"], None, [1, 1])), "v6 is not used by any node: a graph for f has one output"),
    (dict(v2=("-", ["x1", "v1"], None, [1, -1])), "x2: x2 is not used by any node"),
])
def test_each_structural_problem_is_named_with_its_node(change, phrase):
    assert any(phrase in p for p in problems_of(mutate(**change))), problems_of(mutate(**change))


def test_builder_mistakes_are_reported_not_raised():
    G = gr.Graph()
    a = G.input("x1")
    G.input("y")
    G.const("k", a**2)                                  # an expression as a "constant": a super node
    G.op("x2", "+", a, a, d=[1, 1])                     # an operation named like an input
    G.op("s", "+", a, a**2, d=[1, 1])                   # an expression as an input
    G.op(3, "+", a, a, d=[1, 1])                        # a name that is no string
    G.op("s", "*", a, a, d=[a, a])                      # a second node named s
    text = "\n".join(problems_of(G))
    for phrase in ("'y' is not a variable of f", "a constant is a number; k is an expression in x1",
                   "x2 is the name of an input", "x1**2 is an expression, not a node",
                   "is not a string", "two nodes are named s"):
        assert phrase in text, (phrase, text)


def test_input_missing_and_graph_without_operations():
    G = gr.Graph()
    G.input("x1")
    problems = "\n".join(problems_of(G))
    assert "there is no input node for x2" in problems and "the graph has no output" in problems


@pytest.mark.parametrize("data", [None, [], {"nodes": "x"}, {"nodes": [1, "a", {"name": {}}]}, {"no": 1}])
def test_malformed_data_never_raises_anything_but_graph_error(data):
    try:
        model = gr.read(data, VARS)
    except gr.GraphError:
        return
    assert model.problems


def test_huge_graphs_are_refused_at_once():
    data = {"nodes": [{"name": f"v{k}", "op": "+", "in": ["x1", "x1"], "d": [None, None]} for k in range(10**5)]}
    with pytest.raises(gr.GraphError, match="100000 nodes"):
        gr.read(data, VARS)
    G = gr.Graph()
    G._nodes = data["nodes"]
    with pytest.raises(gr.GraphError, match="at most 300"):
        G.to_data()


def test_a_long_cycle_is_found_without_recursion():
    nodes = [{"name": "x1", "op": "input"}, {"name": "x2", "op": "input"}]
    nodes += [{"name": f"v{k}", "op": "+", "in": [f"v{(k + 1) % 290}", "x1"], "d": [1, 1]} for k in range(290)]
    model = gr.read({"nodes": nodes}, VARS)
    assert model.cycle and len(model.cycle) == 290 and model.order == ["x1", "x2"]


@pytest.mark.parametrize("label, phrase", [
    (None, "no label"),
    ({"error": "got a string"}, "got a string"),
    (["sym", "nobody"], "unknown symbol 'nobody'"),
    (["pow", ["sym", "x1"], ["sym", "x2"]], "exponents must be numbers"),
    (["pow", ["pow", ["int", "10"], ["int", "100"]], ["int", "100"]], "powers above 1000"),
    (["call", "evil", ["sym", "x1"]], "not allowed"),
    (["what"], "unknown node kind"),
])
def test_unusable_labels_say_why(label, phrase):
    assert phrase in gr.label_problem(label, {"x1", "x2"})


# --------------------------------------------------------------------- trace and code
def test_trace_builds_the_skeleton_and_code_rebuilds_the_same_graph():
    traced = gr.trace(lambda x1, x2: 100 * (x2 - x1**2) ** 2 + (1 - x1) ** 2)
    model = read(traced)
    assert model.problems == [] and model.output == "f"
    assert [n.op for n in model.nodes.values() if n.op not in gr.LEAVES] == ["pow", "-", "pow", "*", "-", "pow", "+"]
    assert all(label is None for node in model.nodes.values() for label in node.labels)
    code = traced.code()
    assert "d=[None, ...]" in code and code.count("...") == 9
    namespace = {"Graph": gr.Graph}
    exec(rosenbrock().code(), namespace)                      # code() of a labelled graph round-trips
    assert namespace["G"].to_data() == rosenbrock().to_data()


@pytest.mark.parametrize("fn, phrase", [(lambda x: x / 2, "division"), (lambda x: x ** 0.5, "natural exponents"),
                                        (lambda x: x * "a", "cannot trace"), (lambda x: 3, "must return")])
def test_trace_refuses_what_is_no_graph_operation(fn, phrase):
    with pytest.raises(TypeError, match=phrase):
        gr.trace(fn)


# --------------------------------------------------------------------- drawing
def test_layout_puts_inputs_left_of_what_they_feed_and_keeps_rows_apart():
    model = read(rosenbrock())
    pos = layout(model)
    assert all(pos[tail][0] < pos[head][0] for tail, head, _ in model.edges())
    for a in pos:
        for b in pos:
            if a != b and pos[a][0] == pos[b][0]:
                assert abs(pos[a][1] - pos[b][1]) >= 1.0


def test_node_text_names_the_operation():
    nodes = read(rosenbrock()).nodes
    assert node_text(nodes["v2"]) == "$v_{2} = x_{2} - v_{1}$"
    assert node_text(nodes["v1"]) == "$v_{1} = x_{1}^{2}$" and node_text(nodes["c100"]) == "$c_{100} = 100$"


def test_drawings_of_good_and_broken_graphs_have_every_label(tmp_path):
    fig = draw(rosenbrock(), at={"x1": -1.2, "x2": 1})
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert sum("adjoint" in t for t in texts) == 9 and "$2 x_{1}$" in texts and "$c_{100}$" in texts
    broken = mutate(v2=("-", ["x2", "v3"], None, [1, "oops"]), v6=("exp", ["v5"], None, [None]))
    texts = [t.get_text() for t in draw(broken).axes[0].texts]
    assert "!" in texts and "?" in texts and any("exp" in t for t in texts)
    fig = draw_gradient_field(rosenbrock(), arrows=5)
    assert fig.axes[0].collections
    fig.savefig(tmp_path / "field.png")


def test_drawing_keeps_every_arc_in_the_figure_and_its_text_readable_where_shown():
    from course_lib.draw import SHOWN_WIDTH
    for where in (None, {"x1": -1.2, "x2": 1}):
        fig = draw(rosenbrock(), at=where)
        fig.canvas.draw()
        frame = fig.bbox
        for arc in fig.axes[0].patches:
            box = arc.get_window_extent()
            assert frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1, where
        shrink = min(1.0, SHOWN_WIDTH / fig.get_figwidth())   # a wider figure is shown scaled down
        assert min(t.get_fontsize() for t in fig.axes[0].texts) * shrink >= 11


def test_gradient_field_levels_do_not_crowd_into_the_valley():
    fig = draw_gradient_field(rosenbrock(), arrows=5)
    levels = np.asarray(fig.axes[0].collections[0].levels)   # the contour set
    assert len(levels) <= 20 and levels.min() >= levels.max() * 1e-3 * 0.99
    assert np.allclose(np.diff(np.log(levels)), np.log(levels[1] / levels[0]))   # evenly spaced in log



# --------------------------------------------------------------------- the table of operations
def one_node_graph(op: gr.Operation, arity: int, factor=1) -> gr.Graph:
    """g = op(x1[, x2]) labelled with ``factor`` times the table's local derivatives; f = g + x2 if op takes
    one input, so that both variables of task (b) are used."""
    G = gr.Graph()
    ins = [G.input("x1"), G.input("x2")]
    e = 3 if op.exponent else None
    d = [factor * gr.local_derivative(op.name, arity, e, k).xreplace(dict(zip(gr.SLOT_SYMBOLS, ins)))
         for k in range(arity)]
    g = G.op("g" if arity == 1 else "f", op.name, *ins[:arity], e=e, d=d)
    if arity == 1:
        G.op("f", "+", g, ins[1], d=[1, 1])
    return G


EVERY_ARITY = [(op, arity) for op in gr.OPERATIONS.values() for arity in op.arities]


@pytest.mark.parametrize("op, arity", EVERY_ARITY, ids=[f"{op.name}/{k}" for op, k in EVERY_ARITY])
def test_every_operation_of_the_table_is_read_evaluated_swept_drawn_and_graded(op, arity):
    from matplotlib.mathtext import MathTextParser
    from course_lib import check
    from course_lib.tasks import b as task_b

    G = one_node_graph(op, arity)
    model = read(G)
    assert model.problems == [] and model.output == "f"
    point = {"x1": np.array([0.7, -1.3]), "x2": np.array([1.9, 0.4])}
    ev = gr.evaluate_at(model, point)
    head, e, args = "g" if arity == 1 else "f", 3 if op.exponent else None, [point["x1"], point["x2"]][:arity]
    assert np.allclose(ev.values[head], op.apply(args, e))
    for slot in range(arity):   # each local derivative against a central difference of the operation's value
        up, down = list(args), list(args)
        up[slot], down[slot] = args[slot] + 1e-6, args[slot] - 1e-6
        assert np.allclose(ev.true[(head, slot)], (op.apply(up, e) - op.apply(down, e)) / 2e-6, rtol=1e-5)
    own, true = gr.gradient(model, ev.label_sweep()), gr.gradient(model, ev.true_sweep())
    assert all(np.allclose(own[v], true[v]) for v in VARS)
    text = node_text(model.nodes[head])
    MathTextParser("path").parse(text)   # the drawing's text is valid mathtext, written by the table
    assert text.startswith(f"${head} = ") and "mathrm" not in text
    value = gr.forward(model, {"x1": x1, "x2": x2}, constant=sp.Integer)[head]
    assert task_b._max_degree(model) >= sp.Poly(value, x1, x2).total_degree()
    assert check("b2", G).credit == pytest.approx(1.0)
    assert check("b2", one_node_graph(op, arity, factor=2)).credit < 1.0


def trace_operator(op: gr.Operation, method: str, operands: str):
    """(traced graph, the same on numbers) for one Python operator of ``op``."""
    if operands == "ab":
        fn = lambda a, b: getattr(a, method)(b)   # noqa: E731
        return gr.trace(fn), fn(1.7, -0.6)
    fn = lambda a: getattr(a, method)(*{"ba": (2,), "a": (3,) if op.exponent else ()}[operands])   # noqa: E731
    return gr.trace(fn), fn(1.7)


OPERATORS = [(op, m, o) for op in gr.OPERATIONS.values() for m, o in op.python.items()]


@pytest.mark.parametrize("op, method, operands", OPERATORS, ids=[m for _, m, _ in OPERATORS])
def test_trace_turns_every_python_operator_of_the_table_into_its_operation(op, method, operands):
    traced, on_numbers = trace_operator(op, method, operands)
    f = traced.to_data()["nodes"][-1]
    assert f["op"] == op.name and f["in"] == {"ab": ["a", "b"], "ba": ["c2", "a"], "a": ["a"]}[operands]
    variables = ("a", "b") if operands == "ab" else ("a",)
    ev = gr.evaluate_at(gr.read(traced.to_data(), variables), {"a": np.array([1.7]), "b": np.array([-0.6])})
    assert ev.values["f"][0] == pytest.approx(on_numbers)   # the table computes what Python does


def test_the_tracer_has_exactly_the_operators_the_table_names():
    from course_lib.graph import _Traced
    arithmetic = {f"__{r}{name}__" for r in ("", "r") for name in ("add", "sub", "mul", "pow", "matmul", "mod",
                                                                   "floordiv")} | {"__neg__", "__pos__", "__abs__"}
    assert arithmetic & set(vars(_Traced)) == {m for op in gr.OPERATIONS.values() for m in op.python}


def test_an_operation_added_to_the_table_is_read_evaluated_drawn_and_graded(monkeypatch):
    """Adding an operation is one entry: "cube" is read, swept, drawn and checked by task (b) with no other change."""
    from course_lib import check
    cube = gr.Operation("cube", (1,), lambda a, e: a[0] ** 3, lambda t, e: f"{t[0]}^{{3}}", lambda d, e: 3 * d[0], {})
    monkeypatch.setitem(gr.OPERATIONS, "cube", cube)
    G = one_node_graph(cube, 1)
    model = read(G)
    assert model.problems == []
    ev = gr.evaluate_at(model, {"x1": np.array([1.5]), "x2": np.array([0.0])})
    assert ev.values["f"][0] == pytest.approx(1.5 ** 3)
    assert gr.gradient(model, ev.label_sweep())["x1"][0] == pytest.approx(3 * 1.5 ** 2)
    assert node_text(model.nodes["g"]) == "$g = x_{1}^{3}$"
    assert check("b2", G).credit == pytest.approx(1.0)
    assert check("b2", one_node_graph(cube, 1, factor=2)).credit < 1.0
    G = gr.Graph()
    G.op("f", "cube", G.input("x1"), G.input("x2"), d=[1, 1])
    assert ("f", "'cube' takes 1 input, f has 2") in read(G).problems
