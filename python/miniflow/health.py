"""Why isn't it learning? ``health(graph)`` after a ``forward_and_backward`` reads the figures
that say whether training can work, and names what to try.

Per trainable, the size (root mean square) of its gradient and, given the learning rate, the
update:data ratio: how large one SGD step is against the parameter itself, as log10 against the
guide of about −3 (each update a thousandth of its weights). A parameter that starts at zero
(read in a slot its consumer's class declares in ``zero_start_slots``, as a Linear's b, or all
zero when first measured) has no meaningful ratio until it has moved, so it is judged by its
update's size instead. Per node whose class declares
``saturated(value)`` (Sigmoid, Tanh, ReLU, or a learner's own), the share of units that pass
almost no gradient. And the gradient's size by depth, the first layer against the last.

What is judged, and how far from the guide counts as a finding, is in the constants below: an
update ratio above 10^−1.5 (or every ratio below 10^−5), a parameter that started at zero
moving by more than 0.1 a step, a quarter of a node's units saturated or dead, a first layer
whose gradient is under 1/100 of the last layer's, and a gradient that is 0 or not finite.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ._describe import declared, is_trainable, short_names, sorted_graph
from .gradients import SkippedGradients
from .node import Input, Node

__all__ = ["health", "HealthReport", "Finding", "ParameterHealth", "UnitHealth"]

GUIDE = -3.0  # log10 of the update:data ratio the classic advice aims at
TOO_LARGE, TOO_SMALL = -1.5, -5.0  # log10 ratios beyond which training is too wild, or stuck
ZERO_START_LIMIT = 0.1  # the largest sensible update (RMS) of a parameter that started at zero
SATURATED_SHARE = 0.25  # the share of saturated (or dead) units worth a finding
VANISHING = -2.0  # log10 of the first layer's gradient against the last's


@dataclass(frozen=True)
class Finding:
    """One thing to fix: its ``kind`` (``"update ratio"``, ``"update size"``, ``"no gradient"``,
    ``"non-finite"``, ``"saturated"``, ``"vanishing gradient"``), the ``node`` (its short
    name), the ``value`` it is judged by, the ``figure`` in words and the ``advice``; ``since``
    is the epoch it began, when a ``HealthMonitor`` found it."""

    kind: str
    node: str
    value: float
    figure: str
    advice: str
    since: int | None = None

    def __str__(self) -> str:
        since = f" (since epoch {self.since})" if self.since is not None else ""
        return f"{self.node}: {self.figure}: {self.advice}{since}"


@dataclass(frozen=True)
class ParameterHealth:
    """A trainable's figures: root mean squares of its value, gradient and update (``update``
    and ``log_ratio`` are None without a learning rate; ``log_ratio`` also when it is judged
    by its update's size, ``zero_start``); ``from_zero`` says whether it was all zero when first
    measured (else it is judged so as a bias, read in a slot declared ``zero_start_slots``)."""

    name: str
    shape: tuple[int, ...]
    size: float
    gradient: float
    update: float | None
    log_ratio: float | None
    zero_start: bool
    from_zero: bool = True


@dataclass(frozen=True)
class UnitHealth:
    """An activation node's share of saturated (or, with ``word`` ``"dead"``, dead) units."""

    name: str
    kind: str
    share: float
    word: str
    advice: str


@dataclass(frozen=True, repr=False)
class HealthReport:
    """What ``health`` found: ``parameters``, ``units``, ``depth`` (each layer's name and
    gradient size, first layer first), ``findings``. ``str(report)`` (and its ``repr``, for the
    REPL) is a compact table; Jupyter shows an HTML table."""

    parameters: list[ParameterHealth]
    units: list[UnitHealth]
    depth: list[tuple[str, float]]
    learning_rate: float | None
    findings: list[Finding] = field(default_factory=list)
    epoch: int | None = None

    @property
    def depth_log_ratio(self) -> float | None:
        """log10 of the first layer's gradient size against the last layer's."""
        if len(self.depth) < 2:
            return None
        return _log10_ratio(self.depth[0][1], self.depth[-1][1])

    def rows(self) -> list[list[str]]:
        """The table's rows, header first: one per parameter, then one per activation node
        (its name, its class and the share of its units saturated or dead)."""
        rows = [["node", "shape", "gradient", "update", "update:data"]]
        for p in self.parameters:
            ratio = _power(p.log_ratio)
            if p.zero_start:
                ratio = "started at 0" if p.from_zero else "a bias: by size"
            rows.append([p.name, str(p.shape), _sci(p.gradient), _sci(p.update), ratio])
        rows.extend([u.name, u.kind, f"{u.share:.0%} {u.word}"] for u in self.units)
        return rows

    def table(self) -> list[str]:
        """The lines of ``str(report)`` before its findings."""
        when = f"epoch {self.epoch}, " if self.epoch is not None else ""
        rate = f"learning rate {self.learning_rate:g}" if self.learning_rate else "no learning rate"
        lines = [f"health ({when}{rate}; guide: update:data about 10^{GUIDE:g})"]
        rows = self.rows()
        full = len(rows[0])  # a unit's last cell runs on, past the parameters' columns
        widths = [max(len(r[i]) for r in rows if len(r) == full or i < 2) for i in range(full)]
        lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
        lines.append(self._depth_text())
        return lines

    def __str__(self) -> str:
        return "\n".join(self.table() + ([f"- {f}" for f in self.findings] or ["no findings"]))

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        head, *body = self.rows()

        # left, as in the text table: a browser centres a <th>, Jupyter right-aligns cells
        left = "style='text-align:left;padding-right:1em'"

        def cells(row: list[str]) -> str:
            # a unit's last cell spans the parameters' remaining columns
            span = f" colspan='{len(head) - len(row) + 1}'" if len(row) < len(head) else ""
            *first, last = (html.escape(c) for c in row)
            return "".join(f"<td {left}>{c}</td>" for c in first) + f"<td {left}{span}>{last}</td>"

        header = "".join(f"<th {left}>{html.escape(c)}</th>" for c in head)
        rows = "".join(f"<tr>{cells(row)}</tr>" for row in body)
        items = "".join(f"<li>{html.escape(str(f))}</li>" for f in self.findings)
        findings = f"<ul>{items}</ul>" if items else "<p>no findings</p>"
        caption = html.escape(self.table()[0])
        depth = html.escape(self._depth_text())
        return f"<p>{caption}</p><table><tr>{header}</tr>{rows}</table><p>{depth}</p>{findings}"

    def _depth_text(self) -> str:
        layers = " → ".join(f"{name} {_sci(size)}" for name, size in self.depth)
        ratio = self.depth_log_ratio
        last = f" (first/last {_power(ratio)})" if ratio is not None else ""
        return f"gradient by depth: {layers or 'no layers'}{last}"


def health(
    graph: Sequence[Node],
    trainables: Sequence[Node] | None = None,
    learning_rate: float | None = None,
) -> HealthReport:
    """The training-health report of a graph after ``forward_and_backward(graph)``.

    Args:
        graph: the list ``topological_sort`` returned, already run forward and backward.
        trainables: the parameters to judge; by default every Input a node reads in a
            trainable slot (a Linear's W and b).
        learning_rate: the SGD step size, for the update:data ratios; without it only the
            gradients and the units are judged.
    """
    report = Probe(graph, trainables, learning_rate).measure()
    return replace(report, findings=judge(report))


class Probe:
    """What to measure on a graph, worked out once (its names, its trainables and which of
    them started at zero, the nodes that declare ``saturated``); ``measure()`` reads one step."""

    def __init__(
        self,
        graph: Sequence[Node],
        trainables: Sequence[Node] | None,
        learning_rate: float | None,
        tool: str = "health",
    ) -> None:
        self.graph = graph = sorted_graph(graph, tool)
        self.trainables = trainables_of(graph, trainables)
        self.learning_rate = checked_learning_rate(learning_rate)
        self.names = short_names(graph)
        # a parameter all zero when first seen (or in a slot declared so) is judged by its
        # update size from then on: its ratio only says how far it has come from zero
        self.from_zero = {t for t in self.trainables if not np.any(t.value)}
        self.zero_start = self.from_zero | {t for t in self.trainables if declared_zero_start(t)}
        self.activations = [
            (
                node,
                saturated,
                declared(node, "saturation_word"),
                declared(node, "saturation_advice"),
            )
            for node in graph
            if (saturated := declared(node, "saturated")) is not None
        ]

    def measure(self) -> HealthReport:
        """The figures of the step ``forward_and_backward`` just ran, without findings."""
        parameters = []
        for t in self.trainables:
            grad = t.gradients.get(t)
            if grad is None:
                raise _no_gradient(t)
            size, gradient = _rms(t.value), _rms(grad)
            rate, zero = self.learning_rate, t in self.zero_start
            update = None if rate is None else rate * gradient
            ratio = None if update is None or zero else _log10_ratio(update, size)
            shape = tuple(np.shape(t.value))
            parameters.append(
                ParameterHealth(
                    self.names[t], shape, size, gradient, update, ratio, zero, t in self.from_zero
                )
            )
        units = []
        for node, saturated, word, advice in self.activations:
            if node.value is None:
                continue
            mask = np.asarray(saturated(node.value))
            share = float(np.count_nonzero(mask)) / mask.size if mask.size else 0.0
            units.append(
                UnitHealth(
                    self.names[node],
                    type(node).__name__,
                    share,
                    word or "saturated",
                    advice or "look at what feeds it",
                )
            )
        depth = _depth(self.graph, self.trainables, self.names)
        return HealthReport(parameters, units, depth, self.learning_rate)


def judge(report: HealthReport) -> list[Finding]:
    """The findings of a report's figures, against the guides above."""
    findings = []
    lower = "lower the learning rate"
    # the learning rate scales every update alike: it is too small only when every ratio is,
    # and a few small ones are the gradient fading on the way back (judged by depth below)
    ratios = [p.log_ratio for p in report.parameters if p.log_ratio is not None]
    stalled = bool(ratios) and all(r < TOO_SMALL for r in ratios)
    for p in report.parameters:
        if not math.isfinite(p.gradient):
            advice = "find where with forward_and_backward(graph, check_finite=True)"
            findings.append(
                Finding("non-finite", p.name, p.gradient, "its gradient is not finite", advice)
            )
        elif p.gradient == 0:
            advice = "no signal reaches it: look at the saturated or dead units after it"
            findings.append(Finding("no gradient", p.name, 0.0, "its gradient is 0", advice))
        elif p.zero_start and p.update is not None and p.update > ZERO_START_LIMIT:
            start = "from a start at 0" if p.from_zero else "large for a bias"
            figure = f"updates of {_sci(p.update)} per step, {start}"
            findings.append(Finding("update size", p.name, p.update, figure, lower))
        elif p.log_ratio is not None and (p.log_ratio > TOO_LARGE or stalled):
            figure = f"updates are {_power(p.log_ratio)} of the weights (guide 10^{GUIDE:g})"
            advice = lower if p.log_ratio > TOO_LARGE else "raise the learning rate"
            findings.append(Finding("update ratio", p.name, p.log_ratio, figure, advice))
    for u in report.units:
        if u.share >= SATURATED_SHARE:
            figure = f"{u.share:.0%} of units {u.word}"
            findings.append(Finding("saturated", u.name, u.share, figure, u.advice))
    ratio = report.depth_log_ratio
    if ratio is not None and math.isfinite(ratio) and ratio < VANISHING:
        (first, _), (last, _) = report.depth[0], report.depth[-1]
        figure = f"its gradient is {_power(ratio)} of {last}'s"
        advice = "it fades on the way back: fix saturated units, or try Tanh or ReLU"
        findings.append(Finding("vanishing gradient", first, ratio, figure, advice))
    return findings


def checked_learning_rate(rate: Any) -> float | None:
    """The learning rate as a float, or a clear error: a ratio needs a real, positive step."""
    if rate is None:
        return None
    if isinstance(rate, (bool, np.bool_)) or not isinstance(rate, (int, float, np.number)):
        raise TypeError(f"learning_rate must be a number, not {type(rate).__name__} {rate!r}")
    if not (math.isfinite(rate) and rate > 0):
        raise ValueError(f"learning_rate must be a positive finite number, not {rate}")
    return float(rate)


def _no_gradient(t: Node) -> ValueError:
    if isinstance(t.gradients, SkippedGradients) and t in t.gradients.skipped:
        return ValueError(
            f"{t.label} has no gradient: forward_and_backward(graph, trainables=...) skipped it; "
            "give health the same trainables, or run forward_and_backward(graph)"
        )
    return ValueError(f"{t.label} has no gradient: run forward_and_backward(graph) first")


def trainables_of(graph: Sequence[Node], trainables: Sequence[Node] | None) -> list[Node]:
    if trainables is None:
        return [n for n in graph if is_trainable(n)]
    if isinstance(trainables, Node) or not hasattr(trainables, "__iter__"):
        label = getattr(trainables, "label", repr(trainables))
        raise TypeError(f"trainables must be a list of Inputs, like [W, b], not {label}")
    members = set(graph)
    for t in trainables:
        if t not in members:
            raise ValueError(f"trainable {getattr(t, 'label', t)} is not in the graph")
        if not isinstance(t, Input):  # only an Input holds a gradient of its own, t.gradients[t]
            raise ValueError(
                f"trainable {t.label} is not an Input: list the Inputs sgd_update steps (W, b)"
            )
    return list(dict.fromkeys(trainables))  # each once


def declared_zero_start(t: Node) -> bool:
    """Whether a consumer reads `t` in a slot its class says starts at zero (a Linear's b)."""
    return any(
        any(c.inbound_nodes[slot] is t for slot in declared(c, "zero_start_slots") or ())
        for c in t.outbound_nodes
    )


def _depth(
    graph: Sequence[Node], trainables: Sequence[Node], names: dict[Node, str]
) -> list[tuple[str, float]]:
    """Each layer's gradient size (RMS over the parameters it reads), first layer first: a layer
    is the first node in the graph that reads a trainable."""
    position = {node: i for i, node in enumerate(graph)}
    layers: dict[Node, list[Any]] = {}
    for t in trainables:
        readers = [c for c in t.outbound_nodes if c in position]
        if readers:
            layer = min(readers, key=position.__getitem__)
            layers.setdefault(layer, []).append(np.ravel(t.gradients[t]))
    ordered = sorted(layers, key=position.__getitem__)
    return [(names[layer], _rms(np.concatenate(layers[layer]))) for layer in ordered]


def _rms(value: Any) -> float:
    array = np.asarray(value, dtype=float).ravel()
    if not array.size:
        return 0.0
    with np.errstate(over="ignore", invalid="ignore"):  # a huge gradient's RMS is inf, no news
        return math.sqrt(float(array @ array) / array.size)


def _log10_ratio(top: float, bottom: float) -> float:
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.log10(np.float64(top) / np.float64(bottom)))


def _power(log: float | None) -> str:
    return "-" if log is None else f"10^{log:.1f}"


def _sci(value: float | None) -> str:
    return "-" if value is None else f"{value:.1e}"
