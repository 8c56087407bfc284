"""Training health over time: ``HealthMonitor`` collects ``health``'s figures at every step and
judges each epoch's typical step, so a finding says when it began (``since epoch 3``).

>>> monitor = HealthMonitor(graph, trainables, learning_rate)   # doctest: +SKIP
>>> for epoch in range(epochs):                                 # doctest: +SKIP
...     for batch in batches:
...         forward_and_backward(graph)
...         monitor.update()          # before or after sgd_update
...         sgd_update(trainables, learning_rate)
...     for finding in monitor.end_epoch():
...         print(finding)            # the findings new this epoch
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, replace
from typing import Any

import numpy as np

from .health import Finding, HealthReport, Probe, judge
from .node import Node

__all__ = ["HealthMonitor"]


class HealthMonitor:
    """Collects a graph's health figures step by step and summarises each epoch.

    Args:
        graph: the sorted graph being trained.
        trainables: the parameters ``sgd_update`` steps (default: as ``health`` finds them).
        learning_rate: the SGD step size, for the update:data ratios.

    Attributes:
        epochs: one ``HealthReport`` per finished epoch: the median of its steps' figures (the
            mean for the shares of saturated units), judged, each finding with ``since``.
    """

    def __init__(
        self,
        graph: Sequence[Node],
        trainables: Sequence[Node] | None = None,
        learning_rate: float | None = None,
    ) -> None:
        self.probe = Probe(graph, trainables, learning_rate, "HealthMonitor")
        self.epochs: list[HealthReport] = []
        self._steps: list[HealthReport] = []

    def update(self) -> None:
        """Measure the step that ``forward_and_backward`` just ran."""
        self._steps.append(self.probe.measure())

    def end_epoch(self) -> list[Finding]:
        """Close the epoch: summarise and judge its steps; return the findings new in it (a
        finding also found the epoch before keeps the epoch it began)."""
        if not self._steps:
            raise ValueError("end_epoch(): no step was measured; call update() after each step")
        epoch = len(self.epochs) + 1
        before = (
            {(f.kind, f.node): f.since for f in self.epochs[-1].findings} if self.epochs else {}
        )
        report = _typical(self._steps, epoch)
        findings = [replace(f, since=before.get((f.kind, f.node), epoch)) for f in judge(report)]
        self.epochs.append(replace(report, findings=findings))
        self._steps = []
        return [f for f in findings if f.since == epoch]

    def new_findings(self) -> list[Finding]:
        """The findings that began in the last epoch closed."""
        epoch = len(self.epochs)
        return [f for f in self.epochs[-1].findings if f.since == epoch] if self.epochs else []

    def as_dict(self) -> dict[str, Any]:
        """The findings of the run and each epoch's figures, as JSON-ready values (a
        non-finite figure is None, as JSON has no NaN)."""
        return {
            "findings": [
                {**{k: _finite(v) for k, v in asdict(f).items()}, "message": str(f)}
                for f in self.findings()
            ],
            "epochs": [
                {
                    "epoch": report.epoch,
                    "update_ratio_log10": {p.name: _finite(p.log_ratio) for p in report.parameters},
                    "update": {p.name: _finite(p.update) for p in report.parameters},
                    "gradient": {p.name: _finite(p.gradient) for p in report.parameters},
                    "saturated": {u.name: u.share for u in report.units},
                    "findings": [str(f) for f in report.findings],
                }
                for report in self.epochs
            ],
        }

    def ratios(self) -> dict[str, list[float | None]]:
        """Each parameter's update:data ratio (log10) per epoch; None where it started at 0."""
        names = [p.name for p in self.epochs[0].parameters] if self.epochs else []
        return {
            name: [report.parameters[i].log_ratio for report in self.epochs]
            for i, name in enumerate(names)
        }

    def findings(self) -> list[Finding]:
        """Every finding of the run, once each time it began, in the order they began."""
        seen: dict[tuple[str, str, int | None], Finding] = {}
        for report in self.epochs:
            for f in report.findings:
                seen[f.kind, f.node, f.since] = f  # its latest figure, in the order they began
        return list(seen.values())

    def summary(self) -> str:
        """The last epoch's table, then every finding of the run with the epoch it began."""
        if not self.epochs:
            return "health: no epoch measured"
        findings = [f"- {f}" for f in self.findings()] or ["no findings in any epoch"]
        return "\n".join([*self.epochs[-1].table(), *findings])


def _finite(value: Any) -> Any:
    return None if isinstance(value, float) and not math.isfinite(value) else value


def _typical(steps: list[HealthReport], epoch: int) -> HealthReport:
    """An epoch's steps as one report: the medians of the parameters' figures and of each
    layer's gradient size, the means of the shares of saturated units."""
    first = steps[0]

    def median(values: list[float | None]) -> float | None:
        return None if values[0] is None else float(np.median(np.asarray(values, dtype=float)))

    parameters = []
    for i, p in enumerate(first.parameters):
        ours = [s.parameters[i] for s in steps]
        parameters.append(
            replace(
                p,
                size=float(np.median([q.size for q in ours])),
                gradient=float(np.median([q.gradient for q in ours])),
                update=median([q.update for q in ours]),
                log_ratio=median([q.log_ratio for q in ours]),
            )
        )
    shares: dict[str, list[float]] = {}  # by name: a node without a value is not measured
    for step in steps:
        for u in step.units:
            shares.setdefault(u.name, []).append(u.share)
    units = [replace(u, share=float(np.mean(shares[u.name]))) for u in first.units]
    depth = [
        (name, float(np.median([s.depth[i][1] for s in steps])))
        for i, (name, _) in enumerate(first.depth)
    ]
    return HealthReport(parameters, units, depth, first.learning_rate, epoch=epoch)
