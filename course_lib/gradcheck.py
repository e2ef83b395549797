r"""Gradient checks in the manner of CS231n: central differences in float64, relative errors, bands.

The Jacobian of f: R^n -> R^m is the m×n matrix J_ij = ∂f_i/∂u_j (the sheet's row layout).
Column j is estimated by the central difference

    J[:, j] ≈ (f(u + h_j e_j) − f(u − h_j e_j)) / (2 h_j),    h_j = STEP · max(|u_j|, FLOOR),

whose error is O(h²) truncation plus O(ε/h) round-off. A step relative to |u_j| keeps
the truncation small where f curves like 1/u (−log z_y has f''' = −2/z³); FLOOR keeps h
from shrinking towards 0 with u_j, where round-off would take over. Answers and estimates are compared by the norm-wise relative error

    rel(a, b) = ‖a − b‖ / max(‖a‖, ‖b‖),

not entry by entry, because entry-wise ratios blow up for entries near 0.
"""
from __future__ import annotations

import math

import numpy as np

from .i18n import N_, _

STEP = 1e-5
FLOOR = 0.1

# CS231n's reading of a relative error, for smooth functions (tanh, softmax: no kinks).
# (largest error of the band, status, what it says)
BANDS = [
    (1e-7, "ok", N_("agrees")),
    (1e-4, "wrong", N_("close, but more than float64 central differences of a smooth function allow: a small term is off")),
    (1e-2, "wrong", N_("in the range where a gradient is usually wrong")),
    (math.inf, "wrong", N_("does not match")),
]


# Against an exact Jacobian (the grader's key) a float64 formula agrees to ~1e-15, while central differences
# cannot get below ~1e-12 for a nonlinear step (truncation O(h²) against round-off O(ε/h)): between EXACT and
# FD_LIMIT lies what only a numerical estimate produces. A float32 formula agrees to ~1e-7.
EXACT = 1e-13
FD_LIMIT = 1e-6
FLOAT32_LIMIT = 1e-5
FLOAT32_CREDIT = 0.9   # the share a value computed in float32 keeps


def agreement(error: float, exact: bool, float32: bool) -> str | None:
    """How an answer with this relative error agrees with the reference: "agrees", "float32",
    "finite differences" (only against an exact reference), or None if it does not agree at all."""
    if float32:
        return "float32" if error <= FLOAT32_LIMIT else None
    if exact:
        return "agrees" if error <= EXACT else "finite differences" if error <= FD_LIMIT else None
    return "agrees" if error <= BANDS[0][0] else None


def numeric_jacobian(f, u, columns=None) -> np.ndarray:
    """Central-difference Jacobian of ``f`` at the vector ``u`` (row layout, m × len(columns)).

    ``f`` maps a batch of inputs, one per column (n × B), to outputs (m × B, or B for scalar f);
    all 2·len(columns) evaluations run as one batch. ``columns`` picks the input entries (all by default).
    """
    u = np.asarray(u, dtype=np.float64).ravel()
    columns = np.arange(u.size) if columns is None else np.asarray(columns)
    h = STEP * np.maximum(np.abs(u[columns]), FLOOR)
    shift = np.zeros((u.size, columns.size))
    shift[columns, np.arange(columns.size)] = h
    plus = np.asarray(f(u[:, None] + shift), dtype=np.float64).reshape(-1, columns.size)
    minus = np.asarray(f(u[:, None] - shift), dtype=np.float64).reshape(-1, columns.size)
    return (plus - minus) / (2 * h)


def relative_error(a, b) -> float:
    """‖a − b‖ / max(‖a‖, ‖b‖) in the Frobenius norm; 0 for two zero arrays, inf for non-finite input."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        return math.inf
    scale = max(np.linalg.norm(a), np.linalg.norm(b))
    return float(np.linalg.norm(a - b) / scale) if scale > 0 else 0.0


def band(error: float) -> tuple[str, str]:
    """(status, reading) of a relative error by the bands above."""
    for limit, status, reading in BANDS:
        if error <= limit:
            return status, reading
    return BANDS[-1][1:]


def report(error: float) -> tuple[str, str]:
    """(status, "relative error 3.1e-10 (agrees)")."""
    status, reading = band(error)
    return status, _("relative error {error} ({reading})").format(error=f"{error:.1e}", reading=_(reading))


def shape_text(shape) -> str:
    """(256, 784) -> "256×784"; () -> "a single number"."""
    shape = tuple(shape)
    if not shape:
        return _("a single number")
    return "×".join(str(d) for d in shape)


def product_shape_problem(names: list[str], shapes: list[tuple]) -> str | None:
    """Why the matrix product of the shapes in this order cannot be computed, or None if it can."""
    for (left, a), (right, b) in zip(zip(names, shapes), zip(names[1:], shapes[1:])):
        if a[-1] != b[0]:
            return _("{left} ({left_shape}) · {right} ({right_shape}) cannot be multiplied: "
                     "{columns} columns against {rows} rows").format(
                left=left, left_shape=shape_text(a), right=right, right_shape=shape_text(b), columns=a[-1], rows=b[0])

    return None
