"""Practice notebook (d), ungraded: the learning rules reach the Rosenbrock minimum on the reference labels
within the documented steps, each self-check names the planted slip, the chain of Jacobians agrees with
autodiff to 1e-10, pattern by pattern gets furthest per epoch and the full batch least, the notebook runs top
to bottom on the reference and on the blank release, and grading leaves it out."""
import nbformat
import numpy as np
import pytest
from nbclient import NotebookClient

from autograde.course import ASSIGNMENT, ROOT
from autograde.practice import is_practice, skip_practice_notebooks
from autograde.samples import reference_answers
from course_lib import bounded, check, mlp, training
from course_lib.graph import Graph
from course_lib.tasks import d


NOTEBOOK = "d_training_with_your_gradients.ipynb"


@pytest.fixture(scope="module")
def answers():
    """The reference answers of the notebook, defined as the notebook's cells define them."""
    space = {}
    exec("import numpy as np\nfrom course_lib.graph import Graph\nfrom course_lib.tasks.c import n0, n1, n2, n3",
         space)
    for grade_id in ("d1_answer", "d2_answer", "d3_answer", "d4_answer", "d5_answer"):
        exec(reference_answers()[grade_id], space)
    return space


def messages(fb):
    return " | ".join(f"{f.part}: {f.message}" for f in fb.findings)


def one_line(fb):
    return all("\n" not in f.message and "Traceback" not in f.message for f in fb.findings)


def not_written(*args, **kwargs):
    raise NotImplementedError()


# ------------------------------------------------------------------ d1 and the descents
def test_reference_rules_reach_the_minimum_within_the_documented_steps(answers):
    gradient = training.label_gradient(answers["my_graph"]())
    for name, eta in training.ROSENBROCK_ETAS.items():
        steps = training.steps_to_minimum(training.descend(gradient, answers["rules"][name], eta))
        assert steps is not None and steps <= training.ROSENBROCK_STEPS[name], (name, steps)


def test_label_gradient_is_the_gradient_of_f(answers):
    w = np.random.default_rng(0).uniform(-2, 2, (2, 50))
    x1, x2 = w
    exact = np.array([-400 * x1 * (x2 - x1 ** 2) - 2 * (1 - x1), 200 * (x2 - x1 ** 2)])
    assert np.allclose(training.label_gradient(answers["my_graph"]())(w), exact, rtol=1e-12)


def wrong_label_graph():
    G = Graph()
    x1, x2 = G.input("x1"), G.input("x2")
    c1, c100 = G.const("c1", 1), G.const("c100", 100)
    v1 = G.op("v1", "pow", x1, e=2, d=[2 * x1])
    v2 = G.op("v2", "-", x2, v1, d=[1, -1])
    v3 = G.op("v3", "pow", v2, e=2, d=[2 * v2])
    v4 = G.op("v4", "*", c100, v3, d=[None, c100])
    v5 = G.op("v5", "-", c1, x1, d=[None, -1])
    v6 = G.op("v6", "pow", v5, e=2, d=[2 * x1])         # the slip: the input's name for the node's
    G.op("f", "+", v4, v6, d=[1, 1])
    return G


def test_a_wrong_label_sends_the_descent_astray_and_the_check_points_to_b2(answers):
    gradient = training.label_gradient(wrong_label_graph())
    for name, eta in training.ROSENBROCK_ETAS.items():
        assert training.steps_to_minimum(training.descend(gradient, answers["rules"][name], eta)) is None, name
    fb = check("d1", wrong_label_graph)
    assert not fb.passed and "b2" in messages(fb) and "v6" in messages(fb) and one_line(fb)


def test_d1_passes_the_reference_and_reports_a_missing_graph(answers):
    assert check("d1", answers["my_graph"]).passed
    assert "not answered yet" in messages(check("d1", not_written))
    assert not check("d1", lambda: 42).passed


def test_a_graph_with_an_unlabelled_edge_gives_no_descent(answers, capsys):
    def unlabelled():
        G = Graph()
        x1, x2 = G.input("x1"), G.input("x2")
        G.op("f", "*", x1, x2, d=[x2, ...])
        return G
    with pytest.raises(training.GraphGradientError, match="x2 → f"):
        training.label_gradient(unlabelled())
    assert training.compare_descents(unlabelled, answers["rules"]) == {}
    assert "skipped" in capsys.readouterr().out


# ------------------------------------------------------------------ d2: the learning rules
def test_d2_passes_the_reference_rules(answers):
    fb = check("d2", answers["rules"])
    assert fb.passed, messages(fb)


def rules_with(answers, name, rule):
    return {**answers["rules"], name: rule}


def uphill(g, state, eta):
    return eta * g


def momentum_as_average(g, state, eta):
    state["v"] = 0.9 * state.get("v", 0) + 0.1 * g
    return -eta * state["v"]


def adam_without_bias_correction(g, state, eta):
    state["m"] = 0.9 * state.get("m", 0) + 0.1 * g
    state["v"] = 0.999 * state.get("v", 0) + 0.001 * g ** 2
    return -eta * state["m"] / (np.sqrt(state["v"]) + 1e-8)


def plain_step(g, state, eta):
    return -eta * g


@pytest.mark.parametrize("name, rule, phrase", [
    ("gradient descent", uphill, "uphill"),
    ("momentum", momentum_as_average, "without the factor 1 − β"),
    ("adam", adam_without_bias_correction, "bias correction"),
    ("vario eta", plain_step, "is already wrong"),
])
def test_d2_names_the_slip(answers, name, rule, phrase):
    fb = check("d2", rules_with(answers, name, rule))
    mine = [f for f in fb.findings if f.part == name][0]
    assert mine.status == "wrong" and phrase in mine.message, mine.message
    assert sum(f.status == "ok" for f in fb.findings) == 3 and one_line(fb)


def test_d2_momentum_with_the_old_velocity():
    def late(g, s, eta):
        step = -eta * s.get("v", 0 * g)
        s["v"] = 0.9 * s.get("v", 0) + g
        return step
    fb = check("d2", {**{r: not_written for r in d.RULES}, "momentum": late})
    assert "before this step's gradient" in [f for f in fb.findings if f.part == "momentum"][0].message


@pytest.mark.parametrize("answer, phrase", [
    ({r: not_written for r in d.RULES}, "not answered yet"),
    ({r: (lambda g, s, eta: None) for r in d.RULES}, "returned"),
    ({r: (lambda g, s, eta: np.zeros(5)) for r in d.RULES}, "shape"),
    ({r: (lambda g, s, eta: 1 / 0) for r in d.RULES}, "ZeroDivisionError"),
    ({"momentum": abs}, "expects a dict"),
    ([1, 2], "expects a dict"),
])
def test_d2_hostile_or_unfinished_answers_get_a_one_line_message(answer, phrase):
    fb = check("d2", answer)
    assert not fb.passed and phrase in messages(fb) and one_line(fb), messages(fb)


# ------------------------------------------------------------------ d3: forward, backward, init
def test_d3_passes_the_reference(answers):
    fb = check("d3", answers["network"])
    assert fb.passed, messages(fb)


def planted(answers, change):
    def backward(params, cache, y):
        return change(answers["backward"](params, cache, y), params, cache)
    return {**answers["network"], "backward": backward}


def test_d3_names_a_planted_wrong_layer(answers):
    def off_w2(grads, params, cache):
        return {**grads, "W2": 1.5 * grads["W2"]}
    fb = check("d3", planted(answers, off_w2))
    summary = [f.message for f in fb.findings if f.part == "backward"][0]
    assert summary == "the gradient of W2 is off; W3 and b3 are right"
    assert {f.part for f in fb.findings if f.status == "wrong"} == {"backward", "W2"}


def test_d3_a_wrong_delta_shows_in_its_layer_and_below(answers):
    def no_tanh_slope(grads, params, cache):   # δ2 without the factor 1 − z2², so layers 2 and 1 are off
        B = cache["z0"].shape[1]
        delta3 = cache["z3"].copy()
        delta3[d.public_batch()[2] - 1, np.arange(B)] -= 1
        delta2 = params["W3"].T @ (delta3 / B)
        delta1 = (1 - cache["z1"] ** 2) * (params["W2"].T @ delta2)
        return {**grads, "W2": delta2 @ cache["z1"].T, "b2": delta2.sum(axis=1), "W1": delta1 @ cache["z0"].T,
                "b1": delta1.sum(axis=1)}
    fb = check("d3", planted(answers, no_tanh_slope))
    summary = [f.message for f in fb.findings if f.part == "backward"][0]
    assert summary.startswith("the gradient of W2 and b2 are off; W3 and b3 are right")
    assert "W1, b1 follow from it" in summary


def test_d3_names_the_layer_nearest_the_loss(answers):
    fb = check("d3", planted(answers, lambda g, p, c: {**g, "b3": -g["b3"]}))
    summary = [f.message for f in fb.findings if f.part == "backward"][0]
    assert summary.startswith("the gradient of b3 is off (the layer nearest the loss)")


def test_d3_forward_and_init_slips(answers):
    def sum_loss(params, X, y):
        loss, cache = answers["forward"](params, X, y)
        return loss * X.shape[1], cache
    fb = check("d3", {**answers["network"], "forward": sum_loss})
    assert "mean cross-entropy" in messages(fb) and not fb.passed

    def narrow(sizes, rng):
        return {k: v / 3 for k, v in answers["init_params"](sizes, rng).items()}
    fb = check("d3", {**answers["network"], "init": narrow})
    assert "does not fill (−r, r) evenly" in messages(fb)

    def wide(sizes, rng):
        return {k: v * 2 for k, v in answers["init_params"](sizes, rng).items()}
    assert "beyond ±r" in messages(check("d3", {**answers["network"], "init": wide}))


@pytest.mark.parametrize("change, phrase", [
    ({"forward": not_written}, "not answered yet"),
    ({"backward": lambda p, c, y: None}, "should return a dict"),
    ({"backward": lambda p, c, y: {"W1": np.zeros(3)}}, "has no entry"),
    ({"init": lambda sizes, rng: {}}, "init_params gave no"),
    ({"forward": lambda p, X, y: "loss"}, "forward"),
])
def test_d3_hostile_or_unfinished_answers_get_a_one_line_message(answers, change, phrase):
    fb = check("d3", {**answers["network"], **change})
    assert not fb.passed and phrase in messages(fb) and one_line(fb), messages(fb)


def test_the_reference_network_learns_the_spirals_with_every_rule(answers):
    histories = training.compare_training(answers["network"], answers["rules"])
    for name, h in histories.items():
        assert len(h["loss"]) == training.TRAIN_STEPS + 1
        assert h["loss"][-1] < 0.1 and h["accuracy"][-1] > 0.95, (name, h["loss"][-1], h["accuracy"][-1])


# ------------------------------------------------------------------ d4: the chain against autodiff
BACKENDS = [pytest.param(b, marks=pytest.mark.skipif(not __import__("importlib").util.find_spec(b),
                                                     reason=f"{b} is not installed")) for b in ("torch", "autograd")]


@pytest.mark.parametrize("backend", BACKENDS)
def test_autodiff_matches_central_differences(backend):
    net = d.public_network()
    got = training.autodiff_gradients(net, backend)
    fwd = mlp.Forward(net)
    for node in ("x", "b1"):
        assert got[node].shape == net[node].shape
        numeric = fwd.numeric_jacobian("L", "z1") @ fwd.numeric_jacobian("z1", node)
        assert np.linalg.norm(got[node] - numeric.ravel()) < 1e-6 * np.linalg.norm(numeric)


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_reference_chain_agrees_with_autodiff_to_1e_10(answers, backend):
    data = d.D4().encode(answers["my_chains"], {})
    reference = training.autodiff_gradients(d.public_network(), backend)
    for grad, node in (("grad_x", "x"), ("grad_b1", "b1")):
        product = d.chain_product(data, grad)
        assert np.linalg.norm(product - reference[node]) <= 1e-10 * np.linalg.norm(reference[node])


def test_d4_passes_the_reference_and_says_which_library_ran(answers):
    pytest.importorskip("autograd")
    fb = check("d4", answers["my_chains"])
    assert fb.passed, messages(fb)
    assert [f.message for f in fb.findings if f.part == "autodiff"][0].startswith("the reference gradients come from")


def test_d4_a_wrong_chain_differs_and_points_to_c2(answers):
    pytest.importorskip("autograd")
    chains = answers["my_chains"]()
    diagonal_only = {**chains["factors"], "J_z3(z2)": (chains["factors"]["J_z3(z2)"][0],
                                                       lambda z3, W3: np.diag(z3) @ W3)}
    fb = check("d4", {**chains, "factors": diagonal_only})
    assert not fb.passed and 'check("c2", chains)' in messages(fb) and one_line(fb)
    fb = check("d4", {**chains, "grad_x": chains["grad_x"][::-1]})
    assert "reverse order" in messages(fb)
    assert "not answered yet" in messages(check("d4", not_written))


def test_no_autodiff_library_is_reported_not_raised(answers, monkeypatch):
    monkeypatch.setattr(training, "autodiff_backend", lambda: None)
    fb = check("d4", answers["my_chains"])
    assert "pip install autograd" in messages(fb) and not fb.passed


# ------------------------------------------------------------------ d5: the batches of an epoch
def test_d5_passes_the_reference(answers):
    fb = check("d5", answers["minibatches"])
    assert fb.passed, messages(fb)


def test_d5_passes_other_correct_forms():
    def as_list(n, batch_size, rng):
        order = np.arange(n)
        rng.shuffle(order)
        return [list(order[k:k + batch_size]) for k in range(0, n, batch_size)]

    def by_split(n, batch_size, rng):
        order = rng.choice(n, size=n, replace=False).astype(np.int32)
        return np.split(order, range(batch_size, n, batch_size))
    for minibatches in (as_list, by_split):
        fb = check("d5", minibatches)
        assert fb.passed, (minibatches.__name__, messages(fb))


def batches_of(order, n, batch_size, starts=None):
    return [order[k:k + batch_size] for k in (range(0, n, batch_size) if starts is None else starts)]


SLIPS = {   # name -> (minibatches with the slip, what the check must say, the finding that says it)
    "last batch dropped": (lambda n, b, rng: batches_of(rng.permutation(n), n, b, range(0, n - b + 1, b)),
                           "the last, shorter batch is dropped", "minibatches(10, 3, rng)"),
    "first example skipped": (lambda n, b, rng: batches_of(rng.permutation(n), n, b, range(1, n, b)),
                              "an epoch skips 1 of the 12", "minibatches(12, 4, rng)"),
    "drawn with replacement": (lambda n, b, rng: batches_of(rng.integers(0, n, n), n, b),
                               "some examples come twice within one epoch", "minibatches(12, 4, rng)"),
    "an empty last batch": (lambda n, b, rng: batches_of(rng.permutation(n), n, b, range(0, n + 1, b)),
                            "has an empty batch", "minibatches(12, 4, rng)"),
    "counted from 1": (lambda n, b, rng: batches_of(rng.permutation(n) + 1, n, b),
                       "columns are counted from 0", "minibatches(12, 4, rng)"),
    "even split": (lambda n, b, rng: np.array_split(rng.permutation(n), -(-n // b)),
                   "each should hold batch_size, only the last may hold fewer", "minibatches(10, 3, rng)"),
    "not shuffled": (lambda n, b, rng: batches_of(np.arange(n), n, b), "stored order", "order"),
    # the short batch lands anywhere, so the batch sizes are named too
    "only the batches shuffled": (lambda n, b, rng: batches_of(np.arange(n), n, b, rng.permutation(range(0, n, b))),
                                  "only the order of the batches changes", "order"),
    "a generator seeded inside": (lambda n, b, rng: batches_of(np.random.default_rng(0).permutation(n), n, b),
                                  "both epochs come in the same order", "order"),
    "np.random's global order": (lambda n, b, rng: batches_of(np.random.permutation(n), n, b),
                                 "not from np.random's global state", "order"),
}


@pytest.mark.parametrize("slip", SLIPS)
def test_d5_names_each_slip_and_passes_the_rest(slip):
    minibatches, phrase, part = SLIPS[slip]
    fb = check("d5", minibatches)
    wrong = {f.part: f.message for f in fb.findings if f.status == "wrong"}
    assert phrase in wrong.get(part, ""), messages(fb)
    also_wrong = {"minibatches(10, 3, rng)"} if slip == "only the batches shuffled" else set()
    assert set(wrong) == {part} | also_wrong, messages(fb)
    assert len(fb.findings) == 2 and one_line(fb) and not fb.passed


def endless(n, batch_size, rng):
    while True:
        yield rng.permutation(n)[:batch_size]


def hangs(n, batch_size, rng):
    while True:
        pass


@pytest.mark.parametrize("answer, phrase", [
    (not_written, "not answered yet"),
    (lambda n, b, rng: 3, "not an iterable of batches"),
    (lambda n, b, rng: [np.zeros((2, 2), int)], "1-D array of integer column indices"),
    (lambda n, b, rng: [np.arange(n, dtype=float)], "1-D array of integer column indices"),
    (lambda n, b, rng: [np.arange(n) > 2], "1-D array of integer column indices"),
    (lambda n, b, rng: [["a", "b"]], "1-D array of integer column indices"),
    (lambda n, b, rng: [np.arange(10**7)], "more than the 12 examples"),
    (lambda n, b, rng: 1 / 0, "ZeroDivisionError"),
    (endless, "an endless loop?"),
    (hangs, "did not return within"),
    (np.arange(5), "expects the function"),
])
def test_d5_hostile_or_unfinished_answers_get_a_one_line_message(answer, phrase, monkeypatch):
    monkeypatch.setattr(bounded, "CALL_SECONDS", 0.3)
    fb = check("d5", answer)
    assert not fb.passed and phrase in messages(fb) and one_line(fb), messages(fb)


def test_pattern_by_pattern_gets_furthest_per_epoch_and_the_full_batch_least(answers):
    runs = training.compare_batch_sizes(answers["network"], answers["rules"], answers["minibatches"])
    full, mini, pattern = (runs[name] for name in training.batch_sizes(300))
    n = 300
    assert [h["steps"] for h in (full, mini, pattern)] == [training.EPOCHS * k for k in (1, -(-n // 32), n)]
    assert all(len(h["loss"]) == training.EPOCHS + 1 for h in (full, mini, pattern))
    assert pattern["loss"][-1] < 0.05 < mini["loss"][-1] < 0.6 < full["loss"][-1] < full["loss"][0]
    # the noise of single examples: pattern by pattern's loss goes up between epochs, the full batch's never
    assert np.any(np.diff(pattern["loss"]) > 0) and np.all(np.diff(full["loss"]) < 0)


def test_training_stops_an_endless_minibatches_with_a_line(answers, capsys):
    assert training.compare_batch_sizes(answers["network"], answers["rules"], endless) == {}
    out = capsys.readouterr().out
    assert out.count("skipped (BatchError") == 3 and "an endless loop?" in out


# ------------------------------------------------------------------ the notebook, and grading leaves it out
def run(path):
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    text = "\n".join(o.get("text", "") + o.get("data", {}).get("text/plain", "")
                     for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    return errors, text


def test_the_notebook_runs_on_the_reference_answers():
    errors, text = run(ROOT / "solutions" / ASSIGNMENT / NOTEBOOK)
    assert errors == []
    assert text.count("all checks passed") == 5, text
    assert "skipped" not in text and "not within" not in text


def test_the_blank_release_runs_and_says_not_answered_yet():
    errors, text = run(ROOT / "exercises" / ASSIGNMENT / NOTEBOOK)
    assert errors == [] and "Traceback" not in text
    for task in ("d1", "d2", "d3", "d4", "d5"):
        assert f"Self-check {task}:" in text
    assert text.count("not answered yet") >= 8 and "all checks passed" not in text


def test_practice_notebooks_are_exactly_those_without_graded_cells():
    for path in sorted((ROOT / "solutions" / ASSIGNMENT).glob("*.ipynb")):
        graded = [c for c in nbformat.read(path, as_version=4).cells if c.metadata.get("nbgrader", {}).get("grade")]
        assert is_practice(path) == (not graded), path.name


def test_the_pre_convert_hook_drops_practice_notebooks_in_place():
    notebooks = ["sub/a_vanishing_gradient.ipynb", f"sub/{NOTEBOOK}", "sub/c_mlp_jacobians.ipynb"]
    same = notebooks
    skip_practice_notebooks(assignment=ASSIGNMENT, student="s", notebooks=notebooks)
    assert same == ["sub/a_vanishing_gradient.ipynb", "sub/c_mlp_jacobians.ipynb"]


def test_the_course_config_hands_the_hook_to_autograde_as_the_batch_builds_it():
    # autograde/batch/job.py: CourseDirectory(config=...) and NbGraderAPI(config=...), which makes Autograde(parent=api)
    from nbgrader.apps import NbGraderAPI
    from nbgrader.converters import Autograde
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()
    api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
    assert Autograde(coursedir=api.coursedir, parent=api).pre_convert_hook is skip_practice_notebooks
