r"""Practice notebook (d), ungraded: training with your own gradients.

d1  ``my_graph`` — a function returning the task-(b) graph of the Rosenbrock function.
    The reverse sweep over its labels must give ∇f, or the descent goes astray; when it
    does not, task b2's own check says which edge is wrong.
d2  ``rules`` — {"gradient descent", "momentum", "vario eta", "adam"}: each a learning rule
    ``rule(g, state, eta) -> Δw`` (see course_lib.training), run on a fixed gradient sequence:

        gradient descent   Δw = −η g
        momentum           v_0 = 0, v_{t+1} = β v_t + g_t, Δw = −η v_{t+1}, β = 0.9
        vario eta          m_{t+1} = β m_t + (1−β) g_t, s_{t+1} = β s_t + (1−β)(g_t − m_{t+1})²,
                           Δw = −η g_t / (√s_{t+1} + ε), β = 0.9, ε = 1e-8
        adam               m, v as exponential averages of g and g² (β1 = 0.9, β2 = 0.999),
                           bias-corrected by 1 − β^t, Δw = −η m̂ / (√v̂ + ε), ε = 1e-8

d3  ``{"init": init_params, "forward": forward, "backward": backward}`` for the 2-layer-tanh,
    softmax MLP on a batch (one sample per column, mean cross-entropy, labels 1-based):
    the loss against the definition, every parameter's gradient against central differences
    (task c's relative-error bands), the wrong layers named from the loss backwards; the
    initialisation uniform in (−r, r) with r = 3/√n, n the layer's fan-in.
d4  ``my_chains`` — a function returning the c2 answer; its chains for ∇_x L and ∇_{b1} L,
    multiplied out, against reverse-mode autodiff (PyTorch, else autograd).
d5  ``minibatches(n, batch_size, rng)`` — the batches of one epoch: arrays of column indices that
    together hold each of 0 … n−1 once, in an order drawn afresh from ``rng`` every epoch, each of
    ``batch_size`` indices but the last, which holds the rest. Run on a few public (n, batch_size)
    for two epochs, twice from generators of the same seed; the first slip that fits is named.

Nothing here is graded: ``judge`` refuses. A function that still raises NotImplementedError
(the blank release) is reported as "not answered yet", never as a traceback.
"""
from __future__ import annotations

import functools

import numpy as np

from .. import bounded, gradcheck, mlp, training
from ..arrays import array_from_data
from ..errors import AnswerError, Unusable, unusable
from ..feedback import Feedback
from ..i18n import N_, _, ngettext
from ..probe import rng_for
from . import Task, get
from .c import C2
from .c.c2 import CHAIN_TARGETS, check_chain
from .c.common import array_answer


class _Practice(Task):
    def judge(self, data, request, key, rng):
        raise NotImplementedError("practice parts are not graded")


def _called(what: str, fn, *args):
    """fn(*args) bounded; AnswerError with the reason (not answered yet, a time-out, an exception)."""
    if not callable(fn):
        raise AnswerError(_("{what} should be a function").format(what=what))
    result = bounded.call(lambda: fn(*args))
    if result.failure:
        raise AnswerError(result.unusable(what).why)
    return result.value


# ================================================================== d1: the graph's gradient
class D1(_Practice):
    id = "d1"

    def encode(self, answer, request):
        graph = _called("my_graph()", answer) if callable(answer) else answer
        return get("b2").encode(graph, {})

    def self_check(self, data, request):
        labels = get("b2").self_check(data, {})
        fb = Feedback(self.id)
        if labels.passed:
            fb.credit = 1.0
            return fb.add("∇f", "ok", _("the reverse sweep over your labels gives ∇f: the descents below use it"))
        fb.add("∇f", "wrong", _("your labels do not give ∇f, so the descents below follow another field and go "
                                "astray; this is what b2's check says about the edges:"))
        fb.findings += [f for f in labels.findings if f.status != "ok"]
        return fb


# ================================================================== d2: the learning rules
RULES = ("gradient descent", "momentum", "vario eta", "adam")
BETA, BETA1, BETA2, EPS = 0.9, 0.9, 0.999, 1e-8
ETA = 0.1


def rule_steps(name: str, gradients: np.ndarray, eta: float = ETA, variant: str = "") -> np.ndarray:
    """The steps Δw_1 … Δw_T the rule takes for the rows of ``gradients``; ``variant`` is a typical slip."""
    g = np.asarray(gradients, dtype=np.float64)
    t = np.arange(1, len(g) + 1).reshape(-1, *[1] * (g.ndim - 1))

    def average(values, beta, weight):   # a_t = beta a_{t−1} + weight x_t from a_0 = 0, for every t
        out, a = [], 0.0
        for v in values:
            a = beta * a + weight * v
            out.append(a)
        return np.array(out)

    if name == "gradient descent":
        return -eta * g
    if name == "momentum":
        velocity = average(g, BETA, 1 - BETA if variant == "average" else 1.0)
        if variant == "old velocity":
            velocity = np.concatenate([np.zeros_like(g[:1]), velocity[:-1]])
        return -eta * velocity
    if name == "vario eta":
        mean = average(g, BETA, 1 - BETA)
        spread = average((g - mean) ** 2, BETA, 1 - BETA)
        return -eta * g / (np.sqrt(spread) + EPS)
    first, second = average(g, BETA1, 1 - BETA1), average(g ** 2, BETA2, 1 - BETA2)
    if variant != "no bias correction":
        first, second = first / (1 - BETA1 ** t), second / (1 - BETA2 ** t)
    return -eta * first / (np.sqrt(second) + EPS)


SLIPS = {   # rule -> [(variant, what it means)]
    "momentum": [("average", N_("v is an average, βv + (1 − β)g; here v_{t+1} = βv_t + g_t, without the factor "
                                "1 − β")),
                 ("old velocity", N_("the step uses v_t, the velocity before this step's gradient is added"))],
    "adam": [("no bias correction", N_("the averages m and v are not divided by 1 − β^t (the bias correction), "
                                       "so the first steps are far too short"))],
}


@functools.lru_cache(maxsize=1)
def public_gradients() -> np.ndarray:
    """Eight gradients of shape (2, 3), of changing size and sign, as a descent might meet them."""
    return rng_for("public", "d2").normal(0, 1, (8, 2, 3)) * np.array([1.0, 30.0])[:, None]


class D2(_Practice):
    id = "d2"

    def encode(self, answer, request):
        if not isinstance(answer, dict) or set(RULES) - set(answer):
            raise AnswerError(_("d2 expects a dict with the keys {keys}").format(keys=", ".join(repr(r) for r in RULES)))
        out = {}
        for name in RULES:
            rule, state, steps = answer[name], {}, []
            the_rule = _("the rule {name}").format(name=repr(name))
            try:
                for g in public_gradients():
                    step = _called(the_rule, rule, g.copy(), state, ETA)
                    if step is None:
                        raise AnswerError(_("{what} returned None (a missing return?)").format(what=the_rule))
                    steps.append(np.asarray(step, dtype=np.float64))
                out[name] = array_answer(the_rule, np.array(steps), 10_000)
            except AnswerError as e:
                out[name] = Unusable(str(e))
            except (TypeError, ValueError) as e:
                out[name] = Unusable(_("{what} returned steps of the wrong shape ({error})").format(what=the_rule, error=e))
        return out

    def self_check(self, data, request):
        fb = Feedback(self.id)
        right = 0
        for name in RULES:
            if (why := unusable(data[name])) is not None:
                fb.add(name, "invalid", why)
                continue
            steps = array_from_data(data[name])
            g = public_gradients()
            expected = rule_steps(name, g)
            if steps.shape != expected.shape:
                fb.add(name, "wrong", _("each step must have the shape of the gradient ({shape}), not {given}").format(
                    shape=gradcheck.shape_text(g.shape[1:]), given=gradcheck.shape_text(steps.shape[1:])))
            elif gradcheck.relative_error(steps, expected) < 1e-9:
                right += 1
                fb.add(name, "ok", _("takes the steps of the rule"))
            else:
                fb.add(name, "wrong", _rule_slip(name, steps, g))
        fb.credit = right / len(RULES)
        return fb


def _rule_slip(name: str, steps: np.ndarray, g: np.ndarray) -> str:
    """What is wrong with the steps: the first of a small list of diagnoses that fits."""
    expected = rule_steps(name, g)
    if gradcheck.relative_error(steps, -expected) < 1e-9:
        return _("the steps go uphill: Δw must point against the gradient")
    for variant, meaning in SLIPS.get(name, []):
        if gradcheck.relative_error(steps, rule_steps(name, g, variant=variant)) < 1e-9:
            return _(meaning)
    first = next(k for k in range(len(g)) if gradcheck.relative_error(steps[k], expected[k]) >= 1e-9)
    if first > 0:
        return _("the first {right} step(s) are right, step {wrong} is not: is the state kept correctly?").format(
            right=first, wrong=first + 1)
    return _("the first step is already wrong")


# ================================================================== d3: forward and backward of the MLP
CHECK_SIZES = (3, 5, 4, 3)
CHECK_BATCH = 6
INIT_SIZES = (400, 100, 25, 3)
LAYERS = ("3", "2", "1")   # from the loss backwards: the order in which backward computes them


@functools.lru_cache(maxsize=1)
def public_batch():
    """A small network (weights N(0, 1/fan-in), biases N(0, 0.1²)) and a batch: (params, X, y)."""
    rng = rng_for("public", "d3")
    n = CHECK_SIZES
    params = {}
    for layer in (1, 2, 3):
        params[f"W{layer}"] = rng.normal(0, 1 / np.sqrt(n[layer - 1]), (n[layer], n[layer - 1]))
        params[f"b{layer}"] = rng.normal(0, 0.1, n[layer])
    return params, rng.uniform(-1, 1, (n[0], CHECK_BATCH)), rng.integers(1, n[3] + 1, CHECK_BATCH)


def batch_loss(params: dict, X, y) -> float:
    """Mean over the columns of −log softmax(o3)_y, written as log-sum-exp (the trusted reference)."""
    z = X
    for layer in ("1", "2"):
        z = np.tanh(params["W" + layer] @ z + params["b" + layer][:, None])
    o3 = params["W3"] @ z + params["b3"][:, None]
    top = o3.max(axis=0)
    picked = o3[np.asarray(y) - 1, np.arange(o3.shape[1])]
    return float(np.mean(top + np.log(np.exp(o3 - top).sum(axis=0)) - picked))


def numeric_gradient(name: str, params: dict, X, y) -> np.ndarray:
    """∂ batch_loss / ∂ params[name] by central differences, in the parameter's shape."""
    value = params[name]

    def loss_of(columns):
        return np.array([batch_loss({**params, name: c.reshape(value.shape)}, X, y) for c in columns.T])
    return gradcheck.numeric_jacobian(loss_of, value).reshape(value.shape)


class D3(_Practice):
    id = "d3"

    def encode(self, answer, request):
        keys = ("init", "forward", "backward")
        if not isinstance(answer, dict) or set(keys) - set(answer):
            raise AnswerError(_("d3 expects a dict with the keys {keys}").format(keys=", ".join(keys)))
        params, X, y = public_batch()
        out = {}
        try:
            loss, cache = _called("forward", answer["forward"], _copy(params), X.copy(), y.copy())
            out["loss"] = float(loss)
            grads = _called("backward", answer["backward"], _copy(params), cache, y.copy())
            if not isinstance(grads, dict):
                raise AnswerError(_("backward should return a dict from parameter names (W1 … b3) to gradients"))
            out["grads"] = {k: array_answer(_("the gradient of {name}").format(name=k), grads[k], 10_000) if k in grads
                            else Unusable(_("backward's result has no entry {name}").format(name=k)) for k in params}
        except (AnswerError, TypeError, ValueError) as e:
            out["backprop_error"] = str(e)
        try:
            drawn = _called("init_params", answer["init"], INIT_SIZES, np.random.default_rng(0))
            out["init"] = {k: array_answer(k, drawn[k], 10**6) for k in params}
        except (AnswerError, TypeError, KeyError) as e:
            out["init"] = Unusable(str(e) if not isinstance(e, KeyError) else _("init_params gave no {key}").format(key=e))
        return out

    def self_check(self, data, request):
        fb = Feedback(self.id)
        if "backprop_error" in data:   # not "error": check() would take that for the whole answer
            fb.add("forward/backward", "invalid", data["backprop_error"])
        else:
            self._backprop(fb, data)
        self._init(fb, data["init"])
        fb.credit = 0.0 if any(f.status != "ok" for f in fb.findings) else 1.0
        return fb

    def _backprop(self, fb, data):
        params, X, y = public_batch()
        loss_error = abs(data["loss"] - batch_loss(params, X, y)) / batch_loss(params, X, y)
        if not loss_error < 1e-9:
            fb.add("forward", "wrong", _("the loss is not the mean cross-entropy −log z3_y over the batch "
                                         "(relative error {error})").format(error=f"{loss_error:.1e}"))
            return
        fb.add("forward", "ok", _("the loss is the mean cross-entropy of the batch"))
        verdicts = {}
        for name, given in data["grads"].items():
            if (why := unusable(given)) is not None:
                verdicts[name] = ("invalid", why)
                continue
            got, want = array_from_data(given), numeric_gradient(name, params, X, y)
            verdicts[name] = (("wrong", _("has the shape {given}, not {shape} like {name}").format(
                given=gradcheck.shape_text(got.shape), shape=gradcheck.shape_text(want.shape), name=name))
                              if got.shape != want.shape else gradcheck.report(gradcheck.relative_error(got, want)))
        fb.add("backward", *_layer_verdict(verdicts))
        for name, (status, message) in verdicts.items():
            fb.add(name, status, message)

    def _init(self, fb, drawn):
        if (why := unusable(drawn)) is not None:
            return fb.add("init_params", "invalid", why)
        for k, d in drawn.items():
            if (why := unusable(d)) is not None:
                return fb.add("init_params", "invalid", why)
        n = INIT_SIZES
        for layer in (1, 2, 3):
            W, b = array_from_data(drawn[f"W{layer}"]), array_from_data(drawn[f"b{layer}"])
            if W.shape != (n[layer], n[layer - 1]) or b.shape != (n[layer],):
                return fb.add("init_params", "wrong", _("for sizes {sizes} layer {layer} should have W{layer} of shape "
                                                        "{rows}×{columns} and b{layer} of {rows}").format(
                    sizes=INIT_SIZES, layer=layer, rows=n[layer], columns=n[layer - 1]))
            r = 3 / np.sqrt(n[layer - 1])
            if np.abs(W).max() > r:
                return fb.add("init_params", "wrong", _("W{layer} has entries beyond ±r, r = 3/√n with n = {fan_in}, "
                                                        "its fan-in").format(layer=layer, fan_in=n[layer - 1]))
            if np.abs(W).max() < 0.9 * r or abs(np.std(W) - r / np.sqrt(3)) > 0.1 * r:
                return fb.add("init_params", "wrong", _("W{layer} does not fill (−r, r) evenly, r = 3/√n with n = "
                                                        "{fan_in}, its fan-in").format(layer=layer, fan_in=n[layer - 1]))
        fb.add("init_params", "ok", _("uniform in (−r, r) with r = 3/√(fan-in)"))


def _copy(params):
    return {k: v.copy() for k, v in params.items()}


def _layer_verdict(verdicts: dict) -> tuple[str, str]:
    """One sentence on backward: the first layer, from the loss back, whose gradients are off."""
    right = []
    for layer in LAYERS:
        names = [f"W{layer}", f"b{layer}"]
        off = [n for n in names if verdicts[n][0] != "ok"]
        if off:
            below = [n for lower in LAYERS[LAYERS.index(layer) + 1:] for n in (f"W{lower}", f"b{lower}")
                     if verdicts[n][0] != "ok"]
            said = ngettext("the gradient of {off} is off; {right} are right",
                            "the gradient of {off} are off; {right} are right", len(off)) if right else \
                ngettext("the gradient of {off} is off (the layer nearest the loss)",
                         "the gradient of {off} are off (the layer nearest the loss)", len(off))
            said = said.format(off=_(" and ").join(off), right=_(" and ").join(right))
            if below:
                said = _("{verdict}; {below} follow from it and are off too").format(verdict=said, below=", ".join(below))
            return "wrong", said
        right += names
    return "ok", _("every gradient agrees with central differences")


# ================================================================== d4: the chain of Jacobians against autodiff
AUTODIFF_SIZES = (12, 8, 8, 4)
AGREE = 1e-10


@functools.lru_cache(maxsize=1)
def public_recipe() -> dict:
    return mlp.drawn(AUTODIFF_SIZES, rng_for("public", "d4"))


def public_network() -> dict:
    return mlp.network_from(public_recipe())


class D4(_Practice):
    id = "d4"

    def encode(self, answer, request):
        chains = _called("my_chains()", answer) if callable(answer) else answer
        return C2().encode(chains, {"networks": [public_recipe()]})

    def self_check(self, data, request):
        fb = Feedback(self.id)
        backend = training.autodiff_backend()
        if backend is None:
            return fb.add("autodiff", "invalid", _("no autodiff library is installed: pip install autograd "
                                                   "(or course_lib[torch] for PyTorch)"))
        fb.add("autodiff", "info", _("the reference gradients come from {library}").format(library=LIBRARY[backend]))
        reference = training.autodiff_gradients(public_network(), backend)
        agree = 0
        for grad, target in CHAIN_TARGETS.items():
            status, message = _compare_chain(data, grad, reference[target])
            agree += status == "ok"
            fb.add(grad, status, message)
        fb.credit = agree / len(CHAIN_TARGETS)
        return fb


LIBRARY = {"torch": "PyTorch (loss.backward())", "autograd": "HIPS autograd (autograd.grad)"}


def chain_product(data: dict, grad: str) -> np.ndarray:
    """The chain's factors, as computed on the public network, multiplied out; AnswerError if they cannot be."""
    names = data["chains"][grad]
    problem = check_chain(names, data["layout"], CHAIN_TARGETS[grad], data["factors"])
    if problem:
        raise AnswerError(problem)
    arrays = []
    for name in names:
        entry = data["cases"][0][name]
        if (why := unusable(entry)) is not None:
            raise AnswerError(why)
        arrays.append(array_from_data(entry))
    problem = gradcheck.product_shape_problem(names, [a.shape for a in arrays])
    if problem:
        raise AnswerError(problem)
    return functools.reduce(np.matmul, arrays).ravel()


def _compare_chain(data, grad, reference) -> tuple[str, str]:
    try:
        product = chain_product(data, grad)
    except AnswerError as e:
        return "invalid", str(e)
    if product.shape != reference.shape:
        return "wrong", _("the product has {count} entries; the gradient has {size}").format(
            count=product.size, size=reference.size)
    error = gradcheck.relative_error(product, reference)
    if error <= AGREE:
        return "ok", _("the product of your chain agrees with autodiff (relative error {error})").format(
            error=f"{error:.1e}")
    return "wrong", _("the product of your chain differs from autodiff (relative error {error}); "
                      'check("c2", chains) names the factor').format(error=f"{error:.1e}")



# ================================================================== d5: the batches of an epoch
# (n, batch_size): no short last batch (first, so that a batch skipped elsewhere is not taken for the last one
# dropped), a short last batch, pattern by pattern, a batch size beyond n
BATCH_CASES = ((12, 4), (10, 3), (7, 1), (5, 8))
SHUFFLE_CHECKED = 7   # order slips are judged on cases with at least this many examples, where chance cannot mimic them


def read_epochs(minibatches, n: int, batch_size: int, seed: int) -> list:
    """Two epochs of ``minibatches`` from one generator of the given seed, as lists of lists of indices."""
    rng = np.random.default_rng(seed)
    try:
        return [[b.tolist() for b in training.epoch(minibatches, n, batch_size, rng)] for _ in range(2)]
    except training.BatchError as e:
        raise AnswerError(str(e)) from None


class D5(_Practice):
    id = "d5"

    def encode(self, answer, request):
        if not callable(answer):
            raise AnswerError(_("d5 expects the function minibatches(n, batch_size, rng)"))
        cases = []
        for seed, (n, size) in enumerate(BATCH_CASES):
            runs = []
            for _run in range(2):   # the same seed twice: the order must come from rng alone
                epochs = bounded.call(lambda: read_epochs(answer, n, size, seed))
                if epochs.failure:
                    raise AnswerError(epochs.unusable(f"minibatches({n}, {size}, rng)").why)
                runs.append(epochs.value)
            cases.append({"n": n, "batch_size": size, "runs": runs})
        return {"cases": cases}

    def self_check(self, data, request):
        fb = Feedback(self.id)
        cases = [[[Epoch(c["n"], c["batch_size"], batches) for batches in run] for run in c["runs"]]
                 for c in data["cases"]]
        epoch_slips = [(e, _first_slip(e)) for runs in cases for e in runs[0]]
        epoch, slip = next(((e, message) for e, message in epoch_slips if message), (None, None))
        if slip:
            fb.add(f"minibatches({epoch.n}, {epoch.batch_size}, rng)", "wrong", slip)
        else:
            fb.add(_("epoch"), "ok", _("every example once per epoch, in batches of batch_size and a shorter last one"))
        order = next((message for test, message in ORDER_SLIPS if test(cases)), None)
        if order:
            fb.add(_("order"), "wrong", _(order))
        else:
            fb.add(_("order"), "ok", _("a fresh shuffled order every epoch, drawn from rng"))
        fb.credit = sum(f.status == "ok" for f in fb.findings) / 2
        return fb


class Epoch:
    """The batches one epoch of n examples gave, asked for with batch_size."""

    def __init__(self, n: int, batch_size: int, batches: list):
        self.n, self.batch_size, self.batches = n, batch_size, batches
        self.seen = [i for b in batches for i in b]
        self.sizes = [len(b) for b in batches]

    def sizes_text(self) -> str:
        return ", ".join(map(str, self.sizes)) or _("none")


def _first_slip(epoch: Epoch) -> str | None:
    return next((message(epoch) for test, message in EPOCH_SLIPS if test(epoch)), None)


EPOCH_SLIPS = (   # (test(epoch), message(epoch)), tried in order; the first that fits is named
    (lambda e: e.seen and min(e.seen) >= 1 and max(e.seen) == e.n,
     lambda e: _("the indices run up to n = {n}: columns are counted from 0, so the last one is n − 1").format(n=e.n)),
    (lambda e: any(not 0 <= i < e.n for i in e.seen),
     lambda e: _("index {index} is no column of {n} examples (columns 0 … n − 1)").format(
         index=next(i for i in e.seen if not 0 <= i < e.n), n=e.n)),
    (lambda e: 0 in e.sizes,
     lambda e: _("an epoch of {n} examples in batches of {size} has an empty batch (batch sizes {sizes})").format(
         n=e.n, size=e.batch_size, sizes=e.sizes_text())),
    (lambda e: len(set(e.seen)) < len(e.seen),
     lambda e: _("some examples come twice within one epoch and others not at all (drawn with replacement?); "
                 "an epoch shows each of the {n} examples once").format(n=e.n)),
    (lambda e: len(e.seen) == e.n - e.n % e.batch_size < e.n and set(e.sizes) <= {e.batch_size},
     lambda e: _("the last, shorter batch is dropped: with n = {n} and batch_size = {size} an epoch ends with a "
                 "batch of {last}").format(n=e.n, size=e.batch_size, last=e.n % e.batch_size)),
    (lambda e: len(e.seen) < e.n,
     lambda e: _("an epoch skips {skipped} of the {n} examples (batch sizes {sizes})").format(
         skipped=e.n - len(e.seen), n=e.n, sizes=e.sizes_text())),
    (lambda e: any(size != min(e.batch_size, e.n) for size in e.sizes[:-1]) or e.sizes[-1] > e.batch_size,
     lambda e: _("with n = {n} and batch_size = {size} the batches hold {sizes} examples: each should hold "
                 "batch_size, only the last may hold fewer").format(n=e.n, size=e.batch_size, sizes=e.sizes_text())),
)


def _in_order(epoch: Epoch) -> bool:
    return epoch.seen == sorted(epoch.seen)


def _neighbours(epoch: Epoch) -> bool:
    """Every batch of two or more is a run of consecutive indices."""
    return all(sorted(b) == list(range(min(b), min(b) + len(b))) for b in epoch.batches if len(b) > 1)


def _first_epochs(cases, at_least: int = 1) -> list:
    """The first epoch of the first run of each case with at least ``at_least`` examples."""
    return [runs[0][0] for runs in cases if runs[0][0].n >= at_least]


ORDER_SLIPS = (   # (test(cases), message), tried in order; cases[k][run][epoch] is an Epoch
    (lambda cases: all(map(_in_order, _first_epochs(cases, SHUFFLE_CHECKED))),
     N_("the examples come in their stored order 0, 1, 2, …: shuffle them at the start of every epoch, with rng")),
    (lambda cases: all(_neighbours(e) for e in _first_epochs(cases, SHUFFLE_CHECKED) if e.batch_size > 2),
     N_("each batch holds the same neighbouring examples every epoch, only the order of the batches changes: "
        "shuffle the examples themselves")),
    (lambda cases: all(runs[0][0].seen == runs[0][1].seen for runs in cases if runs[0][0].n >= SHUFFLE_CHECKED),
     N_("both epochs come in the same order: the order must be drawn afresh each epoch, from the rng passed in "
        "(a generator made inside the function starts from the same seed every time)")),
    (lambda cases: any(runs[0][e].batches != runs[1][e].batches for runs in cases for e in (0, 1)),
     N_("two runs with generators of the same seed give different orders: draw the order from rng, not from "
        "np.random's global state, so that a run can be repeated")),

)
