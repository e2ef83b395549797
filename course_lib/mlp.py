r"""The sheet's MLP as plain NumPy: the forward pass, its steps, and networks to probe with.

    o1 = W1 x + b1,   z1 = tanh(o1)
    o2 = W2 z1 + b2,  z2 = tanh(o2)
    o3 = W3 z2 + b3,  z3 = softmax(o3)
    L  = −log z3_y,   y ∈ {1, …, n3}  (1-based, as on the sheet)

with sizes n0 = 784 → n1 = 256 → n2 = 256 → n3 = 10. Vectors are 1-D arrays; a batch of
vectors is a 2-D array with one vector per column. Every step of the chain is a function of
one node with the other quantities held fixed, so finite differences can probe it alone.
"""
from __future__ import annotations

import inspect
import json

import numpy as np

from . import gradcheck
from .i18n import _

SIZES = (784, 256, 256, 10)
PARAMETERS = ("W1", "b1", "W2", "b2", "W3", "b3")
# What a student's Jacobian function may ask for, by parameter name.
FORWARD_NAMES = ("x", "y", "W1", "W2", "W3", "b1", "b2", "b3", "o1", "o2", "o3", "z1", "z2", "z3")
# The nodes from the input to the loss; b1 enters at o1.
CHAIN = ("x", "o1", "z1", "o2", "z2", "o3", "z3", "L")


def softmax(o, axis=0):
    """e^{o_i} / Σ_k e^{o_k}, computed as softmax(o − max o): equal, and exp never overflows."""
    e = np.exp(o - np.max(o, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def cross_entropy(o3, y):
    """L = −log softmax(o3)_y = logsumexp(o3) − o3_y (log-softmax: finite even where z3_y underflows)."""
    top = np.max(o3, axis=0)
    return top + np.log(np.sum(np.exp(o3 - top), axis=0)) - o3[y - 1]


class Forward:
    """The forward quantities of one input: x, y, W1..W3, b1..b3, o1..o3, z1..z3 and L."""

    def __init__(self, net: dict):
        self.net = net
        v = {name: np.asarray(net[name], dtype=np.float64) for name in ("x", *PARAMETERS)}
        v["y"] = int(net["y"])
        v["o1"] = v["W1"] @ v["x"] + v["b1"]
        v["z1"] = np.tanh(v["o1"])
        v["o2"] = v["W2"] @ v["z1"] + v["b2"]
        v["z2"] = np.tanh(v["o2"])
        v["o3"] = v["W3"] @ v["z2"] + v["b3"]
        v["z3"] = softmax(v["o3"])
        v["L"] = float(cross_entropy(v["o3"], v["y"]))
        self.values = v
        self.sizes = tuple(v["W1"].shape[::-1]) + (v["W2"].shape[0], v["W3"].shape[0])
        self._jacobians = {}  # (out, node) -> finite differences, computed once per network
        self._derived = {}    # key -> what once() computed from this network

    def __getitem__(self, name):
        return self.values[name]

    def relabel(self, y: int) -> "Forward":
        """The same network and input with another label."""
        return Forward({**self.net, "y": y})

    def size(self, node: str) -> int:
        return 1 if node == "L" else self.values[node].size

    # ------------------------------------------------------------- the steps, one node at a time
    def step(self, out: str, node: str, v: np.ndarray) -> np.ndarray:
        """The value of ``out`` from a batch ``v`` (one column each) of the node just before it."""
        q = self.values
        if (out, node) == ("o1", "b1"):
            return (q["W1"] @ q["x"])[:, None] + v
        if out[0] == "o":
            layer = out[1]
            return q["W" + layer] @ v + q["b" + layer][:, None]
        if out in ("z1", "z2"):
            return np.tanh(v)
        if out == "z3":
            return softmax(v)
        return -np.log(v[q["y"] - 1])  # L from z3: the definition, as the sheet states it

    def path(self, out: str, node: str) -> list[tuple[str, str]]:
        """The elementary steps (output, input) from ``node`` up to ``out``, nearest the loss first."""
        start = CHAIN.index("o1") - 1 if node == "b1" else CHAIN.index(node)
        nodes = [node, *CHAIN[start + 1:CHAIN.index(out) + 1]]
        return [(nodes[k + 1], nodes[k]) for k in range(len(nodes) - 1)][::-1]

    def through(self, out: str, node: str):
        """The batched function node -> out along the chain."""
        steps = self.path(out, node)

        def f(v):
            for o, n in reversed(steps):
                v = self.step(o, n, v)
            return v
        return f

    def once(self, key, compute):
        """compute(), remembered under ``key`` for this network: a self-check's networks serve every call."""
        if key not in self._derived:
            self._derived[key] = compute()
        return self._derived[key]

    def numeric_jacobian(self, out: str, node: str) -> np.ndarray:
        """J_out(node) in the row layout, by central differences of the forward pass (read-only, cached)."""
        if (out, node) not in self._jacobians:
            jacobian = gradcheck.numeric_jacobian(self.through(out, node), self.values[node])
            jacobian.flags.writeable = False
            self._jacobians[out, node] = jacobian
        return self._jacobians[out, node]


def arguments_for(fn, values: dict) -> dict:
    """The keyword arguments fn asks for by name; raises ValueError naming an unknown parameter."""
    params = inspect.signature(fn).parameters.values()
    if any(p.kind is p.VAR_KEYWORD for p in params):
        wanted = FORWARD_NAMES
    else:
        wanted = []
        for p in params:
            if p.kind in (p.VAR_POSITIONAL, p.POSITIONAL_ONLY) or (p.name not in FORWARD_NAMES and p.default is p.empty):
                raise ValueError(_("its parameter {name} is not a forward quantity; name parameters after {names}")
                                 .format(name=repr(p.name), names=", ".join(FORWARD_NAMES)))
            if p.name in FORWARD_NAMES:
                wanted.append(p.name)
    return {name: values[name] if name == "y" else values[name].copy() for name in wanted}


# ------------------------------------------------------------------ networks to probe with
def random_network(sizes, rng, limit: float = 3.0) -> dict:
    """Weights N(0, 1/fan-in) (wider in the last layer, so z3 is not uniform), biases N(0, 0.1²),
    x ∈ [0, 1]^n0 like pixel intensities, y uniform in 1..n3; redrawn until every |o1|, |o2| < limit,
    away from tanh's saturation where finite differences and wrong slopes both flatten out."""
    n0, n1, n2, n3 = (int(s) for s in sizes)
    while True:
        net = {
            "x": rng.uniform(0, 1, n0),
            "W1": rng.normal(0, 1 / np.sqrt(n0), (n1, n0)), "b1": rng.normal(0, 0.1, n1),
            "W2": rng.normal(0, 1 / np.sqrt(n1), (n2, n1)), "b2": rng.normal(0, 0.1, n2),
            "W3": rng.normal(0, 2 / np.sqrt(n2), (n3, n2)), "b3": rng.normal(0, 0.1, n3),
            "y": int(rng.integers(1, n3 + 1)),
        }
        fwd = Forward(net)
        if max(np.abs(fwd["o1"]).max(), np.abs(fwd["o2"]).max()) < limit:
            return net


# ------------------------------------------------------------------ networks in a request
# A request names each network by the recipe that draws it: its sizes and the generator's state just before
# random_network drew it. That is kilobytes where the arrays of the full-size network are megabytes, and it
# says nothing the arrays would not: whoever has the recipe draws the same arrays. The networks drawn last
# are kept by recipe, so a grader's judges and a self-check's repeated calls do not draw them again.
_drawn: dict[str, dict] = {}
KEPT = 8


def drawn(sizes, rng: np.random.Generator) -> dict:
    """random_network(sizes, rng) as its recipe; ``rng`` moves on past the draw, as random_network moves it."""
    if not isinstance(rng.bit_generator, np.random.PCG64):
        raise TypeError("a recipe records a PCG64 generator (np.random.default_rng's)")
    recipe = {"sizes": [int(s) for s in sizes], "state": rng.bit_generator.state}
    _keep(_key(recipe), random_network(sizes, rng))
    return recipe


def network_from(recipe) -> dict:
    """The network a recipe of drawn() draws; raises ValueError for anything that is not such a recipe."""
    try:
        key = _key(recipe)
        sizes, state = recipe["sizes"], recipe["state"]
        if len(sizes) != 4 or not all(type(s) is int and 1 <= s <= max(SIZES) for s in sizes):
            raise ValueError("its sizes are not four layer sizes")
        if key not in _drawn:
            rng = np.random.Generator(np.random.PCG64())
            rng.bit_generator.state = state
            _keep(key, random_network(sizes, rng))
    except (KeyError, TypeError, ValueError) as e:
        raise ValueError(f"not a network's recipe: {e}") from None
    return {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in _drawn[key].items()}


def _key(recipe) -> str:
    return json.dumps([recipe["sizes"], recipe["state"]], sort_keys=True)


def _keep(key: str, net: dict) -> None:
    _drawn[key] = net
    for old in list(_drawn)[:-KEPT]:
        del _drawn[old]
