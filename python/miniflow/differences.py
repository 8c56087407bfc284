"""Finite differences that diagnose themselves: is a ``backward()`` wrong, or is the check noisy?

One central difference at one step h cannot tell a wrong gradient from its own error:
truncation (which falls like h²), rounding (which grows like 1/h) and a kink of the node's
function inside [x − h, x + h] (ReLU at 0) all look like disagreement at some h. So when the
first step disagrees, the node is differenced again at a sweep of steps, in float64, and each
entry is judged at its quietest step:

- a difference's noise at a step is what rounding of the outputs can make of it (it grows like
  1/h) plus how far it still moves at the next smaller step (truncation, which falls like h²);
  an error within that noise is no mistake;
- a step that straddles one of the node's declared ``kinks`` is not used for that entry (its
  difference jumps), and an entry sitting on a kink is compared with the one-sided
  differences on either side (any slope between them is a fair derivative there);
- an error that stays flat whatever h is, above the noise, is a mistake in ``backward()``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._describe import declared
from .node import Node

# the steps of the sweep, largest first
SWEEP = (1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7)
# gradients this small (in every entry, both ways) agree: there is nothing to compare
NEGLIGIBLE = 1e-12


@dataclass
class Agreement:
    """How a ``backward()`` gradient compares with the finite differences of ``forward()``.

    Attributes:
        error: ``|analytic − numeric| / max(|analytic|, |numeric|)``, norms over the entries,
            each entry's numeric value taken at its best step.
        ok: whether the gradient agrees (or differs only by the differences' own noise).
        verdict: ``"agrees"`` at the first step; after a sweep ``"noise"`` (truncation or
            rounding), ``"kink"`` (steps that crossed a kink were set aside) or ``"bug"``.
        note: what the sweep saw, in a sentence ("" when the first step agreed).
    """

    error: float
    ok: bool
    verdict: str
    note: str = ""


def tolerance_for(analytic: Any, tolerance: float) -> float:
    """The tolerance a gradient computed in `analytic`'s float type can meet: float64 meets
    `tolerance`, a float32 one only its own rounding (about 1e-4); never looser than 1e-2,
    which no float type excuses a mistake within."""
    dtype = np.asarray(analytic).dtype
    eps = float(np.finfo(dtype).eps) if dtype.kind == "f" else 0.0
    return max(tolerance, min(1e3 * eps, 1e-2))


def numeric_gradient(node: Node, inbound: Node, upstream: Any, h: float) -> np.ndarray:
    """∂(G · node.forward())/∂inbound, one entry at a time, by central differences of step h."""
    outputs = _outputs(node, inbound, (h, -h))
    return _slope(outputs, np.shape(inbound.value), upstream, h, -h)


def compare(
    node: Node, inbound: Node, analytic: Any, upstream: Any, h: float, tolerance: float
) -> Agreement:
    """Compare ``node.gradients[inbound]`` (`analytic`, already of the inbound's size) with
    the differences of the node's forward: at step `h` first, then, if that disagrees, over the
    sweep (see the module's docstring)."""
    a = np.asarray(analytic, dtype=float).reshape(np.shape(inbound.value))
    tolerance = tolerance_for(analytic, tolerance)
    first = _relative(a, numeric_gradient(node, inbound, upstream, h))
    if first <= tolerance:
        return Agreement(first, True, "agrees")
    steps = sorted({h, *SWEEP}, reverse=True)
    outputs = _outputs(node, inbound, (0.0, *steps, *(-s for s in steps)))
    x = np.asarray(inbound.value, dtype=float)
    shape = x.shape
    kinks = tuple(declared(node, "kinks") or ())
    distance = np.full(shape, np.inf)
    for kink in kinks:
        distance = np.minimum(distance, np.abs(x - kink))
    # [step, entry] arrays: the difference at each step, its error, and its own noise: what
    # rounding of the outputs can make of it, plus how far it still moves at the next step
    # (truncation); a step that straddles a kink is not used (infinite noise)
    numeric = np.stack([_slope(outputs, shape, upstream, s, -s) for s in steps])
    errors = np.abs(numeric - a)
    column = (len(steps),) + (1,) * len(shape)
    rounding = (_rounding(outputs[0.0], shape, upstream) / np.array(steps)).reshape(column)
    moves = np.abs(np.diff(numeric, axis=0))
    noise = rounding + np.concatenate([moves, moves[-1:]])
    crossed = np.stack([distance < s for s in steps])
    noise[crossed | np.isnan(noise)] = np.inf
    on_kink = crossed.all(axis=0)
    # each entry is judged at its quietest step: the error beyond that step's noise
    k = np.argmin(noise, axis=0)[None]
    best = np.maximum(np.take_along_axis(errors, k, 0)[0] - np.take_along_axis(noise, k, 0)[0], 0)
    best_numeric = np.take_along_axis(numeric, k, 0)[0]
    if on_kink.any():  # no step avoids the kink: any slope between the two sides will do
        s = steps[-1]
        right = _slope(outputs, shape, upstream, s, 0.0)
        left = _slope(outputs, shape, upstream, 0.0, -s)
        low, high = np.minimum(left, right), np.maximum(left, right)
        outside = np.maximum(low - a, 0) + np.maximum(a - high, 0)
        best = np.where(on_kink, outside, best)
        best_numeric = np.where(on_kink, np.clip(a, low, high), best_numeric)
    scale = max(float(np.linalg.norm(a)), float(np.linalg.norm(best_numeric)))
    error = float(np.linalg.norm(best)) / scale if scale > NEGLIGIBLE else 0.0
    if error <= tolerance:
        if crossed.any():
            return Agreement(error, True, "kink", "steps that crossed a kink were set aside")
        return Agreement(error, True, "noise", f"h = {h:g} was noise; the sweep agrees")
    worst = int(np.argmax(best))  # the entry furthest off, in flat order
    curve = np.where(crossed, np.nan, errors).reshape(len(steps), -1)[:, worst] / scale
    return _read_curve(curve, steps, error)


def _read_curve(curve: np.ndarray, steps: Sequence[float], error: float) -> Agreement:
    """The verdict on the worst entry's error curve down the sweep (NaN: a step not used)."""
    points = [(s, e) for s, e in zip(steps, curve) if e == e]
    ratios = [a / b if b > 0 else np.inf for (_, a), (_, b) in zip(points, points[1:])]
    if len(ratios) >= 2 and min(ratios[-2:]) >= 30:
        return Agreement(
            error, True, "noise", "the error still falls like h² (truncation), not a mistake"
        )
    smallest = min(e for _, e in points) if points else np.inf
    span = f"h = {points[0][0]:g} to {points[-1][0]:g}" if points else "every step"
    return Agreement(
        error,
        False,
        "bug",
        f"the error stays near {smallest:.1e} for every step from {span}: "
        "backward() is wrong, not the differences",
    )


def _rounding(base: np.ndarray, shape: tuple[int, ...], upstream: Any) -> float:
    """How far rounding can move a difference of G · forward(), times its step: a few float64
    epsilons of ``Σ |G|·|value|``. A gradient closer than that to the differences cannot be
    told from them (a saturated unit's, say, whose slope is far below its value)."""
    value = np.abs(base[(0,) * len(shape)])  # the output at the unmoved input (any entry's)
    G = np.abs(np.asarray(upstream, dtype=float))
    weighted = G.reshape(value.shape) * value if G.size == value.size else G * value
    return 4 * float(np.finfo(float).eps) * float(np.sum(weighted))


def _relative(a: np.ndarray, n: np.ndarray) -> float:
    """``|a − n| / max(|a|, |n|)``, norms over the entries (0 when both are negligible)."""
    scale = max(float(np.linalg.norm(a)), float(np.linalg.norm(n)))
    return float(np.linalg.norm(a - n)) / scale if scale > NEGLIGIBLE else 0.0


def _outputs(node: Node, inbound: Node, steps: Sequence[float]) -> dict[float, np.ndarray]:
    """For each step s, node.forward() with one entry of the inbound's value moved by s, in
    float64: an array of the inbound's shape followed by the value's."""
    original = inbound.value
    base = np.array(original, dtype=float)
    runs: dict[float, list[np.ndarray]] = {s: [] for s in steps}
    try:
        for j in np.ndindex(base.shape):
            for s in steps:
                shifted = base.copy()
                shifted[j] += s
                inbound.value = shifted
                node.forward()
                runs[s].append(np.array(node.value, dtype=float))
    finally:
        inbound.value = original
        node.forward()  # native buffers: put the node's own value back too
    return {s: np.array(run).reshape(base.shape + np.shape(run[0])) for s, run in runs.items()}


def _slope(
    outputs: dict[float, np.ndarray],
    shape: tuple[int, ...],
    upstream: Any,
    high: float,
    low: float,
) -> np.ndarray:
    """G · (forward at `high` − forward at `low`) / (high − low) for every entry of an inbound
    of `shape`: the difference is taken before the contraction, which keeps its digits."""
    delta = outputs[high] - outputs[low]
    rows = delta.reshape(int(np.prod(shape)), -1)
    G = np.asarray(upstream, dtype=float)
    if G.size == rows.shape[1]:
        sums = rows @ G.reshape(-1)
    else:  # G broadcasts over the value (a scalar G, say)
        value_shape = delta.shape[len(shape) :]
        sums = np.array([np.sum(G * row.reshape(value_shape)) for row in rows])
    slope: np.ndarray = sums.reshape(shape) / (high - low)
    return slope
