r"""Training with your own gradients: what the practice notebook d runs (ungraded).

Four pieces, each driven by the student's own answers:

* **Rosenbrock descent.** ∇f comes from the reverse sweep over the labels of a task-(b)
  graph (the sweep ``draw_gradient_field`` draws), turned into one NumPy function; a
  learning rule then walks from (−1.2, 1) until ‖w − (1, 1)‖ < 10⁻³ or the step budget ends.
* **An MLP on synthetic data.** Three interleaved spirals in the plane, a tanh/tanh/softmax
  network like task (c)'s at the size 2-16-16-3, trained on the whole batch with the
  student's ``forward``, ``backward``, ``init`` and learning rules.
* **Batch sizes.** The same network trained by gradient descent on the whole batch, on mini-batches
  and pattern by pattern (one example per step), each for the same number of epochs, with the
  batches of an epoch from the student's ``minibatches(n, batch_size, rng)``.
* **Autodiff.** ∇_x L and ∇_{b1} L of task (c)'s network by PyTorch where it is installed,
  else by HIPS autograd, to compare with the chain of Jacobians from c2.

A learning rule is a function ``rule(g, state, eta) -> Δw``: ``g`` is the gradient at the
current weights, ``state`` a dict the rule keeps between calls (empty at the first), and the
weights move by the returned step, w ← w + Δw. It works on arrays of any shape; the MLP
gives every parameter array a state of its own.
"""
from __future__ import annotations

import time

import numpy as np
import sympy as sp

from . import expr_json as ej
from . import graph as gr
from . import mlp
from .errors import BatchError, GraphGradientError
from .i18n import _

# ------------------------------------------------------------------ Rosenbrock descent
START = (-1.2, 1.0)
MINIMUM = (1.0, 1.0)
TOLERANCE = 1e-3
MAX_STEPS = 20_000
DIVERGED = 1e6   # |w| beyond this counts as gone astray
# The step size of each rule on the Rosenbrock function, and how many steps the sheet's rules
# (v0 = 0, β = 0.9; Adam's β1 = 0.9, β2 = 0.999) need at most from START with it (tests/test_task_d.py).
ROSENBROCK_ETAS = {"gradient descent": 1.5e-3, "momentum": 1e-3, "vario eta": 1e-4, "adam": 0.03}
ROSENBROCK_STEPS = {"gradient descent": 11_400, "momentum": 1_600, "vario eta": 6_500, "adam": 2_500}


def rosenbrock(w):
    """f(w) = 100 (w2 − w1²)² + (1 − w1)² for w of shape (2, …)."""
    w = np.asarray(w, dtype=np.float64)
    return 100 * (w[1] - w[0] ** 2) ** 2 + (1 - w[0]) ** 2


def label_gradient(graph):
    """∇ of what the graph computes, as the reverse sweep over its own edge labels, as a function
    w (shape (2, …)) -> array of the same shape. Raises GraphGradientError saying why there is none.

    The sweep runs once, symbolically: every label (in node names) has the node values substituted,
    as expressions in x1 and x2, and the adjoints of the inputs become one NumPy function, so a
    descent of thousands of steps costs milliseconds.
    """
    from .draw import _model   # the graph read back with the variables its inputs name

    try:
        model = _model(graph)
    except gr.GraphError as e:
        raise GraphGradientError(_("the graph cannot be read: {error}").format(error=e)) from None
    if len(model.variables) != 2 or model.output is None or model.problems:
        why = model.problems[0][1] if model.problems else _("it needs one output and the two inputs x1, x2")
        raise GraphGradientError(_("the graph is not ready for a descent: {why}").format(why=why))
    variables = sp.symbols(model.variables)
    values = gr.forward(model, dict(zip(model.variables, variables)), constant=ej.from_data)
    names = {sp.Symbol(n): v for n, v in values.items()}
    edges = {}
    for _tail, head, slot in model.edges():
        label = model.nodes[head].labels[slot] if slot < len(model.nodes[head].labels) else None
        why = gr.label_problem(label, set(model.nodes) | set(model.variables))
        if why and not model.is_constant(model.nodes[head].inputs[slot]):
            raise GraphGradientError(_("the edge {tail} → {head} has no usable label ({why})").format(
                tail=model.nodes[head].inputs[slot], head=head, why=_(why)))
        edges[(head, slot)] = sp.Integer(0) if why else ej.from_data(label).xreplace(names)
    grad = gr.gradient(model, gr.sweep(model, edges, one=sp.Integer(1)))
    compiled = sp.lambdify(variables, [grad[v] for v in model.variables], "numpy")

    def gradient(w):
        w = np.asarray(w, dtype=np.float64)
        return np.array([np.broadcast_to(c, w.shape[1:]) for c in compiled(*w)], dtype=np.float64)
    return gradient


def descend(gradient, rule, eta: float, start=START, max_steps: int = MAX_STEPS) -> np.ndarray:
    """The weights w_0 = start, w_{t+1} = w_t + rule(∇f(w_t), state, eta), one row per step; it stops
    once ‖w − (1, 1)‖ < TOLERANCE, when w leaves |w| < DIVERGED or is not finite, or after max_steps."""
    w = np.array(start, dtype=np.float64)
    path, state = [w], {}
    for _ in range(max_steps):
        w = w + np.asarray(rule(gradient(w), state, eta), dtype=np.float64)
        path.append(w)
        if not np.all(np.isfinite(w)) or np.abs(w).max() > DIVERGED or reached(w):
            break
    return np.array(path)


def reached(w) -> bool:
    return bool(np.linalg.norm(np.asarray(w) - MINIMUM) < TOLERANCE)


def steps_to_minimum(path: np.ndarray) -> int | None:
    """How many steps the path took to come within TOLERANCE of (1, 1); None if it did not."""
    return len(path) - 1 if reached(path[-1]) else None


# ------------------------------------------------------------------ the MLP on spirals
MLP_SIZES = (2, 16, 16, 3)
TRAIN_STEPS = 300
# Full-batch step sizes for the spirals (tests/test_task_d.py: every rule gets the loss below its start).
MLP_ETAS = {"gradient descent": 0.3, "momentum": 0.03, "vario eta": 0.003, "adam": 0.01}


def spirals(points_per_class: int = 100, classes: int = 3, seed: int = 0):
    """Interleaved spiral arms in the plane: X of shape (2, N) (one point per column), labels y in 1..classes."""
    rng = np.random.default_rng(seed)
    radius = np.tile(np.linspace(0.05, 1.0, points_per_class), classes)
    arm = np.repeat(np.arange(classes), points_per_class)
    angle = 4.0 * radius + arm * 2 * np.pi / classes + rng.normal(0, 0.2, radius.size)
    X = np.stack([radius * np.cos(angle), radius * np.sin(angle)])
    return X, arm + 1


def accuracy(z3, y) -> float:
    """Share of columns of z3 whose largest probability is at the label (1-based)."""
    return float(np.mean(np.argmax(z3, axis=0) + 1 == np.asarray(y)))


def train(forward, backward, params: dict, rule, eta: float, X, y, steps: int = TRAIN_STEPS) -> dict:
    """Full-batch training: params ← params + rule(∂L/∂params) per parameter array, ``steps`` times.

    ``forward(params, X, y)`` returns (L, cache) with cache["z3"] the class probabilities,
    ``backward(params, cache, y)`` the dict of ∂L/∂parameter. Returns {"loss": [...], "accuracy": [...]}
    after each step (the first entries at the start) and the trained "params".
    """
    params, states = _copies(params)
    history = {"loss": [], "accuracy": []}
    for step in range(steps + 1):
        cache = _record(history, forward, params, X, y)
        if step == steps or not np.isfinite(history["loss"][-1]):
            break
        _step(backward, params, states, cache, y, rule, eta)
    history["params"] = params
    return history


def _copies(params: dict):
    """The parameters as float64 copies, and an empty rule state for each."""
    return {k: np.array(v, dtype=np.float64) for k, v in params.items()}, {k: {} for k in params}


def _record(history: dict, forward, params, X, y) -> dict:
    """Append the loss and accuracy on (X, y) to the history; the forward pass's cache."""
    loss, cache = forward(params, X, y)
    history["loss"].append(float(loss))
    history["accuracy"].append(accuracy(cache["z3"], y))
    return cache


def _step(backward, params, states, cache, y, rule, eta) -> None:
    """One step of the rule on every parameter array, with the gradients of the batch the cache holds."""
    grads = backward(params, cache, y)
    for k in params:
        params[k] = params[k] + rule(grads[k], states[k], eta)


# ------------------------------------------------------------------ batch, mini-batches, pattern by pattern
EPOCHS = 20
BATCH_ETA = 0.1   # one step size for all three, small enough that pattern by pattern does not diverge
MINIBATCH = 32


def epoch(minibatches, n: int, batch_size: int, rng):
    """The batches of one epoch, ``minibatches(n, batch_size, rng)``, each checked to be a 1-D array of
    integer column indices with at most n entries. Raises BatchError at the first that is not, and once
    more than 2n + 1 batches come (a correct epoch has at most n), so an endless generator ends while a
    few stray empty batches still reach the self-check, which names them."""
    call = f"minibatches({n}, {batch_size}, rng)"
    batches = minibatches(n, batch_size, rng)
    if batches is None:
        raise BatchError(_("{call} returned None, not batches (a missing return or yield?)").format(call=call))
    try:
        batches = iter(batches)
    except TypeError:
        raise BatchError(_("{call} returned an object of type {kind}, not an iterable of batches").format(
            call=call, kind=type(batches).__name__)) from None
    for count, batch in enumerate(batches, start=1):
        if count > 2 * n + 1:
            raise BatchError(_("{call} gives more than {most} batches for {n} examples (an endless loop?)").format(
                call=call, most=2 * n + 1, n=n))
        columns = np.asarray(batch)
        if columns.size == 0:
            columns = columns.astype(np.int64).ravel()   # an empty list is float; the check names empty batches
        if columns.ndim != 1 or columns.dtype.kind not in "iu":
            raise BatchError(_("batch {count} of {call} is {ndim}-D of dtype {dtype}: each batch should be a 1-D "
                               "array of integer column indices").format(
                count=count, call=call, ndim=columns.ndim, dtype=columns.dtype))
        if columns.size > n:
            raise BatchError(_("batch {count} of {call} holds {size} indices, more than the {n} examples").format(
                count=count, call=call, size=f"{columns.size:,}", n=n))
        yield columns


def train_epochs(forward, backward, params: dict, rule, eta: float, X, y, minibatches, batch_size: int,
                 epochs: int = EPOCHS, seed: int = 2) -> dict:
    r"""Training batch by batch: in each epoch, for every batch B that ``minibatches(N, batch_size, rng)``
    yields, params ← params + rule(∂L_B/∂params), L_B the mean loss over the columns in B.

    batch_size = N is steepest descent on the whole batch, Δw = −η g with g = (1/N) Σ_t g_t, and
    batch_size = 1 learning pattern by pattern, Δw_t = −η g_t = −η g − η (g_t − g). Returns the loss
    and accuracy on all of (X, y) at the start and after each epoch, the number of "steps", the
    "seconds" the steps took (without the evaluations) and the trained "params".
    """
    params, states = _copies(params)
    rng, n = np.random.default_rng(seed), X.shape[1]
    history = {"loss": [], "accuracy": [], "steps": 0, "seconds": 0.0}
    for done in range(epochs + 1):
        _record(history, forward, params, X, y)
        if done == epochs or not np.isfinite(history["loss"][-1]):
            break
        started = time.perf_counter()
        for columns in epoch(minibatches, n, batch_size, rng):
            _, cache = forward(params, X[:, columns], y[columns])
            _step(backward, params, states, cache, y[columns], rule, eta)
            history["steps"] += 1
        history["seconds"] += time.perf_counter() - started
    history["params"] = params
    return history


# ------------------------------------------------------------------ autodiff
def autodiff_backend() -> str | None:
    """"torch" where PyTorch is installed, else "autograd" where HIPS autograd is, else None."""
    import importlib.util

    return next((name for name in ("torch", "autograd") if importlib.util.find_spec(name)), None)


def autodiff_gradients(net: dict, backend: str | None = None) -> dict:
    """{"x": ∇_x L, "b1": ∇_{b1} L} of the sheet's loss at ``net`` (mlp.random_network's form), by
    reverse-mode autodiff in float64 — PyTorch's ``backward()`` or autograd's ``grad``."""
    backend = backend or autodiff_backend()
    if backend == "torch":
        return _torch_gradients(net)
    if backend == "autograd":
        return _autograd_gradients(net)
    raise ModuleNotFoundError(_("no autodiff library is installed: pip install autograd (or torch)"))


def _torch_gradients(net):
    import torch

    t = {k: torch.tensor(np.asarray(net[k], dtype=np.float64)) for k in ("x", *mlp.PARAMETERS)}
    t["x"].requires_grad_(True)
    t["b1"].requires_grad_(True)
    z1 = torch.tanh(t["W1"] @ t["x"] + t["b1"])
    z2 = torch.tanh(t["W2"] @ z1 + t["b2"])
    loss = -torch.log_softmax(t["W3"] @ z2 + t["b3"], dim=0)[int(net["y"]) - 1]
    loss.backward()   # every gradient of the graph in one call, as in the lecture
    return {"x": t["x"].grad.numpy(), "b1": t["b1"].grad.numpy()}


def _autograd_gradients(net):
    import autograd
    import autograd.numpy as anp

    def loss(x, b1):
        z1 = anp.tanh(net["W1"] @ x + b1)
        z2 = anp.tanh(net["W2"] @ z1 + net["b2"])
        o3 = net["W3"] @ z2 + net["b3"]
        top = anp.max(o3)
        return top + anp.log(anp.sum(anp.exp(o3 - top))) - o3[int(net["y"]) - 1]

    x, b1 = np.asarray(net["x"], dtype=np.float64), np.asarray(net["b1"], dtype=np.float64)
    return {"x": autograd.grad(loss, 0)(x, b1), "b1": autograd.grad(loss, 1)(x, b1)}


# ------------------------------------------------------------------ what the notebook runs and draws
def _not_ready(what: str, error: Exception) -> None:
    reason = _("not answered yet") if isinstance(error, NotImplementedError) else f"{type(error).__name__}: {error}"
    print(_("{what}: skipped ({reason})").format(what=what, reason=reason))



def _for_each(settings: dict, run) -> dict:
    """name -> run(name, setting) for each setting (a rule's η, a batch size); one whose run fails (the
    student's code: not written yet, an exception) is reported in one line and left out, and the others go on."""
    out = {}
    for name, setting in settings.items():
        try:
            out[name] = run(name, setting)
        except Exception as e:
            _not_ready(name, e)
    return out


def compare_descents(make_graph, rules: dict, etas: dict = ROSENBROCK_ETAS) -> dict:
    """rule name -> path of its descent with the gradient of ``make_graph()``'s labels; a graph or
    rule that is not written yet (or fails) is reported in one line and left out."""
    try:
        gradient = label_gradient(make_graph())
    except (NotImplementedError, GraphGradientError) as e:
        _not_ready(_("the descents"), e)
        return {}
    return _for_each(etas, lambda name, eta: descend(gradient, rules[name], eta))


def plot_descents(paths: dict, etas: dict = ROSENBROCK_ETAS):
    """Trajectories over the contours of f, f(w_t) against t on a log scale, and the table of steps."""
    import matplotlib.pyplot as plt

    if not paths:
        return print(_("nothing to draw yet"))
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5))
    grid = np.meshgrid(np.linspace(-2, 2, 300), np.linspace(-1, 3, 300))
    left.contour(*grid, rosenbrock(np.array(grid)), levels=np.geomspace(1e-2, 2500, 18), colors="#94a3b8",
                 linewidths=0.7)
    left.plot(*MINIMUM, "k*", ms=12)
    for name, path in paths.items():
        shown = path[np.all(np.abs(path) < 10, axis=1)]
        left.plot(shown[:, 0], shown[:, 1], lw=1.2, label=name)
        right.semilogy(np.maximum(rosenbrock(path.T), 1e-16), label=name)
    left.set(xlim=(-2, 2), ylim=(-1, 3), xlabel="x1", ylabel="x2", title=_("paths from (−1.2, 1)"))
    left.legend()
    right.set(xlabel=_("step t"), ylabel="f(w_t)", title=_("loss against steps"))
    right.legend()
    plt.tight_layout()
    plt.show()
    rule, steps_to = _("rule"), _("steps to ‖w − (1, 1)‖ < 1e-3")
    print(f"{rule:18}{'η':>9}{steps_to:>32}")
    for name, path in paths.items():
        steps = steps_to_minimum(path)
        steps = steps or _("not within {steps}").format(steps=len(path) - 1)
        print(f"{name:18}{etas[name]:>9g}{steps:>32}")


def compare_training(answer: dict, rules: dict, etas: dict = MLP_ETAS, seed: int = 1) -> dict:
    """rule name -> history of training the student's MLP (``answer`` as for d3) on the spirals from
    the same initial weights; what is not written yet is reported in one line and left out."""
    begun = _spirals_and_start(_("the training"), answer, seed)
    if begun is None:
        return {}
    X, y, start = begun
    return _for_each(etas, lambda name, eta: train(answer["forward"], answer["backward"], start,
                                                   rules[name], eta, X, y))


def _spirals_and_start(what: str, answer: dict, seed: int):
    """(X, y, initial weights from the student's init), or None when init is not written yet or fails,
    which is reported in one line as ``what`` skipped."""
    X, y = spirals()
    try:
        return X, y, answer["init"](MLP_SIZES, np.random.default_rng(seed))
    except Exception as e:
        _not_ready(what, e)
        return None


def plot_training(histories: dict, etas: dict = MLP_ETAS):
    """Loss (log scale) and accuracy against the step, one line per rule."""
    import matplotlib.pyplot as plt

    if not histories:
        return print(_("nothing to draw yet"))
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4))
    for name, h in histories.items():
        left.semilogy(h["loss"], label=f"{name} (η = {etas[name]:g})")
        right.plot(h["accuracy"], label=name)
    left.set(xlabel=_("step"), ylabel=_("mean cross-entropy"), title=_("loss"))
    right.set(xlabel=_("step"), ylabel=_("share classified right"), title=_("accuracy"), ylim=(0, 1.02))
    left.legend()
    plt.tight_layout()
    plt.show()


def batch_sizes(n: int) -> dict:
    """The three ways of the lecture, as the batch size each uses for n examples."""
    return {"full batch": n, f"mini-batches of {MINIBATCH}": MINIBATCH, "pattern by pattern": 1}


def compare_batch_sizes(answer: dict, rules: dict, minibatches, eta: float = BATCH_ETA, seed: int = 1) -> dict:
    """name -> history of training the student's MLP (``answer`` as for d3) on the spirals with the student's
    gradient descent rule, batches from ``minibatches``, for EPOCHS epochs at each of ``batch_sizes``, all
    from the same initial weights; what is not written yet is reported in one line and left out."""
    begun = _spirals_and_start(_("the batch sizes"), answer, seed)
    if begun is None:
        return {}
    X, y, start = begun
    return _for_each(batch_sizes(X.shape[1]), lambda name, size: train_epochs(
        answer["forward"], answer["backward"], start, rules["gradient descent"], eta, X, y, minibatches, size))


def plot_batch_sizes(histories: dict, eta: float = BATCH_ETA):
    """Loss (log scale) against the epoch, one line per batch size, and a table of the steps and the
    milliseconds they took."""
    import matplotlib.pyplot as plt

    if not histories:
        return print(_("nothing to draw yet"))
    plt.figure(figsize=(6, 4))
    for name, h in histories.items():
        plt.semilogy(h["loss"], label=name)
    plt.gca().set(xlabel=_("epoch (every example seen once)"), ylabel=_("mean cross-entropy, all examples"),
                  title=_("gradient descent, η = {eta}").format(eta=f"{eta:g}"))
    plt.legend()
    plt.tight_layout()
    plt.show()
    steps, loss, accuracy = _("steps"), _("loss"), _("accuracy")
    print(f"{'':22}{steps:>7}{'ms':>7}{loss:>8}{accuracy:>10}")
    for name, h in histories.items():
        print(f"{name:22}{h['steps']:>7}{1000 * h['seconds']:>7.0f}{h['loss'][-1]:>8.3f}{h['accuracy'][-1]:>10.0%}")
