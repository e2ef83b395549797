"""Task (b): every valid graph passes, every typical mistake gets its message, hostile input a clear one,
and the sample submissions earn exactly the points autograde/samples/b.py expects."""
import time

import nbformat
import networkx as nx
import numpy as np
import pytest
import sympy as sp

import course_lib
from autograde import verdict
from autograde.course import ASSIGNMENT, ROOT
from autograde.keys import all_keys
from autograde.samples import b as samples
from autograde.samples.sources import without_markers
from grading import grade, handed_in
from course_lib import check, tasks
from course_lib.graph import Graph, trace
from course_lib.tasks import b as task_b
from course_lib.tasks.b import derived_reference

NOTEBOOK = ROOT / "solutions" / ASSIGNMENT / "b_rosenbrock_graph.ipynb"
S = dict(zip("x1 x2 x1b v1 v2 v3 v4 v5 v6 n1 n2 f c1 c10 c100".split(),
             sp.symbols("x1 x2 x1b v1 v2 v3 v4 v5 v6 n1 n2 f c1 c10 c100")))
x1, x2, x1b, v1, v2, v3, v4, v5, v6, n1, n2, f = (S[k] for k in "x1 x2 x1b v1 v2 v3 v4 v5 v6 n1 n2 f".split())
GRAD = derived_reference()["grad"]


# --------------------------------------------------------------------- graphs from a short spec
CONSTS = (("c1", 1), ("c100", 100))


def build(ops, consts=CONSTS, copies=()) -> Graph:
    """ops: (name, op, inputs, e, labels); names in inputs are strings, labels SymPy in node names."""
    G = Graph()
    G.input("x1")
    G.input("x2")
    for name, of in copies:
        G.input(name, copy_of=of)
    for name, value in consts:
        G.const(name, value)
    for name, op, ins, e, d in ops:
        G.op(name, op, *ins, e=e, d=d)
    return G


CANONICAL = [("v1", "pow", ["x1"], 2, [2 * x1]), ("v2", "-", ["x2", "v1"], None, [1, -1]),
             ("v3", "pow", ["v2"], 2, [2 * v2]), ("v4", "*", ["c100", "v3"], None, [None, 100]),
             ("v5", "-", ["c1", "x1"], None, [None, -1]), ("v6", "pow", ["v5"], 2, [2 * v5]),
             ("f", "+", ["v4", "v6"], None, [1, 1])]


def replace(ops, **nodes):
    """The ops with some nodes replaced (name=(op, inputs, e, labels)) or dropped (name=None)."""
    out = [(n, *nodes[n]) if n in nodes else (n, *rest) for n, *rest in ops if nodes.get(n, 0) is not None]
    return out + [(n, *spec) for n, spec in nodes.items() if spec and n not in {o[0] for o in ops}]


def path_sum_adjoints(G: Graph) -> dict:
    """∂f/∂v for every non-constant node as a sum over paths v ⇝ output of the product of the labels on them
    (networkx, independent of course_lib's reverse sweep)."""
    g = nx.MultiDiGraph()
    labels = {}
    for n in G._nodes:
        g.add_node(n["name"])
        for slot, tail in enumerate(n.get("in", [])):
            g.add_edge(str(tail), n["name"], key=slot)
            labels[(n["name"], slot)] = n["d"][slot]
    out = [n for n in g if g.out_degree(n) == 0 and g.in_degree(n) > 0][0]
    adjoints = {}
    for n in G._nodes:
        if n["op"] == "const":
            continue
        name = n["name"]
        paths = nx.all_simple_edge_paths(g, name, out) if name != out else [[]]
        adjoints[sp.Symbol(name)] = sum((sp.Mul(*(labels[(h, k)] for _, h, k in p)) for p in paths), sp.Integer(0))
    return adjoints


ALTERNATIVES = {
    "canonical": build(CANONICAL),
    "products for squares": build(replace(CANONICAL, v1=("*", ["x1", "x1"], None, [x1, x1]),
                                          v3=("*", ["v2", "v2"], None, [v2, v2]),
                                          v6=("*", ["v5", "v5"], None, [2 * v5, 0]))),
    "negation plus addition": build(replace(CANONICAL, n1=("-", ["v1"], None, [-1]),
                                            v2=("+", ["x2", "n1"], None, [1, 1]))),
    "negation as a product": build(replace(CANONICAL, n1=("*", ["cm1", "v1"], None, [None, -1]),
                                           v2=("+", ["n1", "x2"], None, [1, 1])), consts=CONSTS + (("cm1", -1),)),
    "flipped differences, swapped operands": build(replace(
        CANONICAL, v2=("-", ["v1", "x2"], None, [1, -1]), v4=("*", ["v3", "c100"], None, [S["c100"], None]),
        v5=("-", ["x1", "c1"], None, [1, None]), f=("+", ["v6", "v4"], None, [1, 1]))),
    "(10 (x2 - x1²))²": build(replace(CANONICAL, v3=("*", ["c10", "v2"], None, [None, 10]),
                                      v4=("pow", ["v3"], 2, [2 * v3])), consts=(("c1", 1), ("c10", 10))),
    "labels in x1, x2": build(replace(CANONICAL, v3=("pow", ["v2"], 2, [2 * (x2 - x1**2)]),
                                      v6=("pow", ["v5"], 2, [2 - 2 * x1]))),
    "tree with x1 drawn twice": build(replace(CANONICAL, v5=("-", ["c1", "x1b"], None, [None, -1])),
                                      copies=[("x1b", "x1")]),
    "written from the output down": build(list(reversed(CANONICAL))),
}


def _expanded() -> Graph:
    """The expanded polynomial, skeleton by trace, labels added."""
    G = trace(lambda x1, x2: 100 * x2**2 - 200 * x1**2 * x2 + 100 * x1**4 + x1**2 - 2 * x1 + 1)
    s = {n["name"]: sp.Symbol(n["name"]) for n in G._nodes}
    labels = {"v1": [2 * x2], "v2": [None, 100], "v3": [2 * x1], "v4": [None, 200], "v5": [x2, s["v4"]],
              "v6": [1, -1], "v7": [4 * x1**3], "v8": [None, 100], "v9": [1, 1], "v10": [2 * x1], "v11": [1, 1],
              "v12": [None, 2], "v13": [1, -1], "f": [1, None]}
    for n in G._nodes:
        if n["name"] in labels:
            n["d"] = labels[n["name"]]
    return G


ALTERNATIVES["expanded polynomial"] = _expanded()


@pytest.mark.parametrize("name", list(ALTERNATIVES))
def test_every_valid_graph_passes_every_part_in_self_check_and_grading(name):
    G = ALTERNATIVES[name]
    backward = {"graph": G, "adjoints": path_sum_adjoints(G), "grad": list(GRAD)}
    for task, answer in (("b1", G), ("b2", G), ("b3", backward)):
        fb = check(task, answer)
        assert fb.passed, fb.text()
        graded = grade(task, answer)
        assert graded.credit == 1.0, graded.text()
        assert "confirmed symbolically" in graded.text()


def test_expanded_polynomial_has_four_paths_from_x1():
    g = nx.MultiDiGraph()
    for n in _expanded()._nodes:
        for slot, tail in enumerate(n.get("in", [])):
            g.add_edge(str(tail), n["name"], key=slot)
    assert len(list(nx.all_simple_edge_paths(g, "x1", "f"))) == 4


def test_gradient_in_any_form_and_adjoints_in_x1_x2():
    G = ALTERNATIVES["canonical"]
    adjoints = {k: v.subs({v5: 1 - x1}).subs({v2: x2 - x1**2}) for k, v in path_sum_adjoints(G).items()}
    for grad in ([-400 * x1 * v2 - 2 * v5, 200 * v2], sp.Matrix(GRAD), tuple(sp.expand(g) for g in GRAD)):
        assert grade("b3", {"graph": G, "adjoints": adjoints, "grad": grad}).credit == 1.0


def test_key_agrees_with_the_derivation_from_the_problem_statement():
    key = all_keys()["b1"].reference
    derived = derived_reference()
    assert sp.expand(key["f"] - derived["f"]) == 0
    assert all(sp.expand(k - d) == 0 for k, d in zip(key["grad"], derived["grad"]))
    assert key["grad"][0].subs({x1: -1.2, x2: 1}) == pytest.approx(-215.6)


# --------------------------------------------------------------------- typical mistakes, b1 and b2
def texts(task, answer):
    fb = check(task, answer)
    graded = grade(task, answer)
    assert graded.credit == pytest.approx(fb.credit), (fb.text(), graded.text())
    return fb.credit, fb.text()


@pytest.mark.parametrize("change, credit, message", [
    (dict(v2=("-", ["x2", "v1"], None, [1, 1])), 8 / 9, "v1→v2: the label has the wrong sign"),            # M1
    (dict(v5=("-", ["c1", "x1"], None, [None, 1])), 8 / 9, "x1→v5: the label has the wrong sign"),         # M2
    (dict(v4=("*", ["c100", "v3"], None, [None, 1])), 8 / 9, "v3→v4: the label misses the factor 100"),    # M3
    (dict(v3=("pow", ["v2"], 2, [v2])), 8 / 9, "v2→v3: the label misses the factor 2 of the power rule"),  # M4
    (dict(v1=("pow", ["x1"], 2, [x1])), 8 / 9, "x1→v1: the label misses the factor 2 of the power rule"),  # M5
    (dict(v1=("pow", ["x1"], 2, [x1**2])), 8 / 9, "x1→v1: the label is the value of v1, not its derivative"),  # M6
    (dict(v1=("pow", ["x1"], 2, [2 * x1**2])), 8 / 9, "keeps the exponent 2 instead of lowering it to 1"),
    (dict(v4=("*", ["c100", "v3"], None, [None, v3])), 8 / 9, "is v3 itself instead of the other factor"),
    (dict(v1=("*", ["x1", "x1"], None, [2 * x1, 2 * x1])), 8 / 9, "each edge carries its own share"),
    (dict(v2=("-", ["x2", "v1"], None, [1, 7 * v1])), 8 / 9, "x1→v1" and "v1→v2: the label is not the local"),
    (dict(v2=("-", ["x2", "v1"], None, [1])), 7 / 8, "v2: has 2 inputs but 1 label"),
    (dict(f=("+", ["v4", "v6"], None, [1, None])), 8 / 9, "v6→f: has no label"),
])
def test_b2_names_the_edge_and_the_slip(change, credit, message):
    got, text = texts("b2", build(replace(CANONICAL, **change)))
    assert got == pytest.approx(credit) and message in text, text


@pytest.mark.parametrize("change, credit, message", [
    (dict(v4=("*", ["c1", "v3"], None, [None, 1])), 0.5, "the factor 100 in front of (-x1**2 + x2)**2 is missing"),
    (dict(f=("pow", ["v4"], 1, [1]), v5=None, v6=None), 0.5, "without its term (1 - x1)**2"),
    (dict(f=("-", ["v4", "v6"], None, [1, -1])), 0.5, "the term (1 - x1)**2 enters the graph's output with the"),
    (dict(v4=("*", ["c1", "v3"], None, [None, 1]), f=("+", ["v4", "v4"], None, [1, 1])), 0.25, "does not compute f"),
    (dict(v4=("sq100", ["v2"], None, [200 * v2]), v3=None), 0.25, "'sq100' is not an operation of the graph"),
    (dict(v2=("-", ["x2", "v3"], None, [1, -1])), 0.0, "v2 → v3 → v2 is a cycle"),
])
def test_b1_structure_and_value(change, credit, message):
    got, text = texts("b1", build(replace(CANONICAL, **change)))
    assert got == pytest.approx(credit) and message in text, text


def test_a_wrong_structure_keeps_the_credit_of_edges_that_can_still_be_judged():
    G = build(replace(CANONICAL, v4=("sq100", ["v2"], None, [200 * v2]), v3=None))
    got, text = texts("b2", G)
    assert got == pytest.approx(7 / 8) and "v4: its edges cannot be judged" in text
    assert "cannot be judged: f depends" not in text   # v4→f and v6→f are judged with a stand-in for v4
    got, text = texts("b3", {"graph": G, "adjoints": CANON_ADJ, "grad": list(GRAD)})
    assert got == pytest.approx(0.5) and "v3: not a node of the graph; ignored" in text
    assert "adjoint of v4: cannot be judged: v4 is not a valid node" in text


# --------------------------------------------------------------------- typical mistakes, b3
CANON_ADJ = path_sum_adjoints(ALTERNATIVES["canonical"])


def backward(graph=None, grad=None, **adjoints):
    return {"graph": graph or ALTERNATIVES["canonical"], "grad": grad or list(GRAD),
            "adjoints": {**CANON_ADJ, **{S[k]: v for k, v in adjoints.items()}}}


@pytest.mark.parametrize("answer, credit, messages", [
    (backward(x1=-400 * x1 * v2), 0.5 * 8 / 9 + 0.5,
     ["adjoint of x1: has only the path through v1; x1 also feeds v5"]),                                    # M7
    (backward(x1=-2 * v5), 0.5 * 8 / 9 + 0.5, ["has only the path through v5; x1 also feeds v1"]),
    (backward(grad=[-400 * x1 * v2, GRAD[1]]), 0.75, ["∇f: ∂f/∂x1: has only the path through v1"]),
    (backward(v1=-v2), 0.5 * 8 / 9 + 0.5, ["the step uses the value of v2 where its adjoint ∂f/∂v2 belongs"]),
    (backward(v3=v3), 0.5 * 8 / 9 + 0.5, ["this is the value of v3; its adjoint is ∂f/∂v3"]),
    (backward(v2=-200 * v2), 0.5 * 8 / 9 + 0.5, ["right magnitude, wrong sign"]),
    (backward(grad=[400 * x1 * v2 - 2 * v5, GRAD[1]]), 0.75,                                                # M1
     ["matches the reverse sweep if one of the edges x1→v1, v1→v2, v2→v3, v3→v4, v4→f has the wrong sign"]),
    (backward(grad=[-400 * x1 * v2 + 2 * v5, GRAD[1]]), 0.75,                                               # M2
     ["one of the edges x1→v5, v5→v6, v6→f has the wrong sign"]),
    (backward(grad=[-4 * x1 * v2 - 2 * v5, 2 * v2]), 0.5,                                                   # M3
     ["∇f: ∂f/∂x1, ∇f: ∂f/∂x2: matches the reverse sweep if the edge v3→v4 misses the factor 100"]),
    (backward(grad=[-200 * x1 * v2 - 2 * v5, GRAD[1]]), 0.75,                                               # M4/M5
     ["one of the edges x1→v1, v2→v3 misses the factor e of the power rule"]),
    (backward(grad=[-200 * x1**2 * v2 - 2 * v5, GRAD[1]]), 0.75,                                            # M6
     ["the edge x1→v1 is the value of v1, not its derivative"]),
    (backward(grad=[400 * x1**3 - 400 * x1 * x2 + 2 * x1 + 2, GRAD[1]]), 0.75, ["not ∂f/∂x1"]),
    (backward(v2="200*v2"), 0.5 * 8 / 9 + 0.5, ["adjoint of v2: got a string"]),
    (backward(v6=2), 0.5 * 8 / 9 + 0.5, ["adjoint of v6: 2 times the right value"]),
    (backward(v5=2 * v5 + v2), 0.5 * 8 / 9 + 0.5, ["adjoint of v5: not ∂f/∂v5"]),
])
def test_b3_names_the_node_and_the_slip(answer, credit, messages):
    got, text = texts("b3", answer)
    assert got == pytest.approx(credit), text
    for message in messages:
        assert message in text, text


def test_b3_follow_on_errors_earn_half():
    G = build(replace(CANONICAL, v2=("-", ["x2", "v1"], None, [1, 1])))              # M1 on the edge ...
    own = path_sum_adjoints(G)                                                       # ... carried through
    got, text = texts("b3", {"graph": G, "adjoints": own, "grad": [own[x1], own[x2]]})
    assert "follows correctly from the label on v1→v2" in text
    assert "follows correctly from your adjoint of x1" in text
    assert got == pytest.approx(0.5 * (7 + 0.5 * 2) / 9 + 0.5 * (1 + 0.5) / 2)
    wrong_graph = build(replace(CANONICAL, v4=("*", ["c1", "v3"], None, [None, 1])))
    own = path_sum_adjoints(wrong_graph)
    got, text = texts("b3", {"graph": wrong_graph, "adjoints": own, "grad": [own[x1], own[x2]]})
    assert got == pytest.approx(0.5 + 0.25) and "your graph, which does not compute f (see b1)" in text


def test_b3_copies_of_a_leaf_must_be_added():
    G = ALTERNATIVES["tree with x1 drawn twice"]
    adj = path_sum_adjoints(G)
    got, text = texts("b3", {"graph": G, "adjoints": adj, "grad": [adj[x1], GRAD[1]]})
    assert got == pytest.approx(0.75) and "x1 appears as the leaves x1, x1b" in text


# --------------------------------------------------------------------- hostile input
@pytest.mark.parametrize("task, answer, phrase", [
    ("b1", 42, "expects the Graph you built"),
    ("b1", "G", "got an object of type str"),
    ("b2", {"nodes": []}, "expects the Graph you built"),
    ("b3", ALTERNATIVES["canonical"], 'b3 expects {"graph": G'),
    ("b3", backward() | {"adjoints": [1, 2]}, "adjoints must be a dict"),
    ("b3", backward() | {"grad": [1, 2, 3]}, "∇f has 2 components"),
    ("b3", backward() | {"grad": 7}, "grad must be a list"),
    ("b3", backward() | {"graph": None}, "expects the Graph you built"),
])
def test_wrong_python_types_get_one_line(task, answer, phrase):
    fb = check(task, answer)
    assert fb.credit == 0 or task == "b3" and "∇f" in fb.text()
    assert phrase in fb.text(), fb.text()
    assert "Traceback" not in fb.text()


@pytest.mark.parametrize("label, phrase", [
    ("2*x1", "got a string"), (lambda x: 2 * x, "got a function"), ([2, x1], "got a list"),
    ({"d": 2}, "got a dict"), (float("nan"), "must be finite"), (sp.Symbol("y"), "unknown symbol 'y'"),
    (sp.Integer(2) ** (x1 * x2), "exponents must be numbers"), (sp.Derivative(x1**2, x1), "unevaluated derivative"),
    (sp.zoo, "infinite"),
])
def test_a_label_that_is_not_an_expression_costs_that_edge_only(label, phrase):
    got, text = texts("b2", build(replace(CANONICAL, v1=("pow", ["x1"], 2, [label]))))
    assert got == pytest.approx(8 / 9) and phrase in text, text


def test_a_label_that_hangs_simplify_is_judged_by_value_in_bounded_time():
    evil = 2 * x1 + (sp.sin(x1) ** 2 + sp.cos(x1) ** 2 - 1) * sp.expand((x1 / 10 + x2 / 10 + sp.Rational(1, 7)) ** 25)
    G = build(replace(CANONICAL, v1=("pow", ["x1"], 2, [evil])))
    start = time.monotonic()
    assert check("b2", G).credit == 1.0
    assert time.monotonic() - start < 2
    start = time.monotonic()
    assert grade("b2", G).credit == 1.0
    assert time.monotonic() - start < 6


def test_huge_and_cyclic_graphs_are_answered_in_bounded_time():
    G = Graph()
    node = G.input("x1")
    for k in range(10**5):
        node = G.op(f"v{k}", "+", node, node, d=[1, 1])
    start = time.monotonic()
    assert "at most 300 are graded" in check("b1", G).text()
    assert time.monotonic() - start < 1
    cyclic = Graph()
    cyclic.input("x1"), cyclic.input("x2")
    for k in range(298):   # a ring through the largest graph that is read
        cyclic.op(f"v{k}", "+", f"v{(k + 1) % 298}", "x1" if k else "x2", d=[1, 1])
    start = time.monotonic()
    for task, answer in (("b1", cyclic), ("b2", cyclic), ("b3", {"graph": cyclic, "adjoints": {}, "grad": GRAD})):
        assert "is a cycle" in check(task, answer).text() or task != "b1"
        assert grade(task, answer).credit <= 0.5
    assert time.monotonic() - start < 10


def test_a_graph_whose_encoding_never_ends_is_stopped(monkeypatch):
    class Endless(Graph):
        def to_data(self):
            while True:
                pass

    monkeypatch.setattr(task_b, "ENCODE_SECONDS", 0.3)
    assert "took longer than 0.3 s" in check("b1", Endless()).text()


@pytest.mark.parametrize("data", [
    {}, {"graph": 5}, {"graph": {"nodes": [{"name": "x1", "op": "input", "in": ["x1"]}]}},
    {"graph": {"nodes": [None]}, "adjoints": [[1, 2], ["x1", {"error": 3}]], "grad": [["sym", "x1"]]},
    {"graph": {"nodes": [{"name": "f", "op": "+", "in": ["f", "f"], "d": [["sym", "f"]] * 2}]}, "adjoints": {},
     "grad": {"error": "x"}},
])
def test_raw_hostile_data_is_judged_without_crashing(data):
    key = all_keys()["b3"].reference
    for task in ("b1", "b2", "b3"):
        fb = tasks.get(task).judge(data, {}, key, np.random.default_rng(0))
        assert fb.credit == 0 and fb.findings


def test_hostile_adjoint_and_gradient_data_cost_only_their_own_items():
    data = {"graph": ALTERNATIVES["canonical"].to_data(), "grad": [["int", "1"], ["call", "evil", ["sym", "x1"]]],
            "adjoints": [["f", ["pow", ["pow", ["int", "9"], ["int", "99"]], ["int", "99"]]], [3, ["int", "1"]],
                         ["v1", ["pow", ["int", "9"], ["pow", ["int", "9"], ["int", "99"]]]]]}
    fb = tasks.get("b3").judge(data, {}, all_keys()["b3"].reference, np.random.default_rng(0))
    assert fb.credit == 0
    for phrase in ("adjoint of f: powers above 1000 are not graded", "adjoint of v1: exponents must be numbers",
                   "'evil' is not allowed"):
        assert phrase in fb.text(), fb.text()


# --------------------------------------------------------------------- the notebook and its samples
def _cells():
    return nbformat.read(NOTEBOOK, as_version=4).cells


def run_submission(overrides: dict, student: str, secret: str = "tests-secret") -> dict:
    """Run the notebook's import, answer and graded cells as a kernel would (an error does not stop it),
    hand in through the real encoding, and judge each graded cell with verdict.judge_cell.
    Returns {graded cell: (points, feedback)}."""
    namespace, handed, verdicts = {}, {}, {}

    def hand_in(task_id, answer):
        handed[task_id] = handed_in(task_id, answer, student, secret, NOTEBOOK.stem)

    original = course_lib.hand_in
    course_lib.hand_in = hand_in
    try:
        for k, cell in enumerate(_cells()):
            meta = cell.metadata.get("nbgrader", {})
            if cell.cell_type != "code" or not (k == 1 or meta.get("solution") or meta.get("grade")):
                continue
            try:
                exec(overrides.get(meta.get("grade_id"), without_markers(cell.source)), namespace)
            except Exception as e:  # nbgrader runs on after an error; the graded cell then hands in nothing
                if meta.get("grade"):
                    handed[meta["grade_id"]] = [{"output_type": "error", "ename": type(e).__name__, "evalue": ""}]
            if meta.get("grade"):
                task = meta["grade_id"]
                fb = verdict.judge_cell(task, handed.get(task, []), secret, student, NOTEBOOK.stem)
                verdicts[task] = (round(meta["points"] * fb.credit, 2), fb)
    finally:
        course_lib.hand_in = original
    return verdicts


def test_graded_cells_add_up_to_five_points():
    graded = {c.metadata["nbgrader"]["grade_id"]: c.metadata["nbgrader"]["points"] for c in _cells()
              if c.metadata.get("nbgrader", {}).get("grade")}
    assert graded == {"b1": 1.5, "b2": 1.5, "b3": 2}


def points(overrides, student, secret):
    return {task: p for task, (p, _) in run_submission(overrides, student, secret).items()}


@pytest.mark.parametrize("secret", ["tests-secret", "another-secret"])
def test_reference_and_blank_and_every_sample_earn_their_expected_points(secret):
    full = {"b1": 1.5, "b2": 1.5, "b3": 2}
    assert points({}, "reference", secret) == full
    blank = {c.metadata["nbgrader"]["grade_id"]: "raise NotImplementedError()" for c in _cells()
             if c.metadata.get("nbgrader", {}).get("solution")}
    assert points(blank, "blank", secret) == {k: 0 for k in full}
    for student, overrides in samples.VARIANTS.items():
        assert points(overrides, student, secret) == {**full, **samples.EXPECTED[student]}, student


def test_sample_messages_appear_in_the_feedback():
    for student, phrases in samples.MESSAGES.items():
        html = "".join(fb.html() for _, fb in run_submission(samples.VARIANTS[student], student).values())
        for phrase in phrases:
            assert phrase in html, (student, phrase)


# --------------------------------------------------------------------- one slip costs once (issue 10)
def test_an_unused_constant_is_a_note_and_costs_nothing():
    G = build(CANONICAL, consts=CONSTS + (("c7", 7),))
    for fb in (check("b1", G), grade("b1", G)):
        assert fb.credit == pytest.approx(1.0), fb.text()
        assert "the constant c7 is not used by any node; it changes nothing" in fb.text()


def test_a_node_with_a_fractional_exponent_costs_only_its_own_edge():
    G = build(replace(CANONICAL, v3=("pow", ["v2"], 2.5, [2.5 * v2 ** 1.5])))
    got, text = texts("b2", G)
    assert got == pytest.approx(8 / 9), text
    assert "v3: its edges cannot be judged" in text and "cannot be judged: f depends" not in text


def test_a_wrong_label_after_an_invalid_node_says_it_was_judged_with_a_stand_in():
    G = build(replace(CANONICAL, v3=("pow", ["v2"], 2.5, [2.5 * v2 ** 1.5]), v4=("*", ["c100", "v3"], None, [None, 10])))
    got, text = texts("b2", G)
    assert got == pytest.approx(7 / 9), text
    assert "judged with a stand-in value for the invalid node v3" in text


def test_a_cycle_costs_the_edges_on_it_only():
    G = build(replace(CANONICAL, v2=("-", ["x2", "v3"], None, [1, -1])))
    got, text = texts("b2", G)
    # 9 labelled edges; v3→v2 and v2→v3 lie on the cycle, the other 7 are judged (and right)
    assert got == pytest.approx(7 / 9), text
    assert "cannot be judged: the edge lies on the cycle" in text
