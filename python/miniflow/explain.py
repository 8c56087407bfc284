"""Explain the backward pass step by step, in the lesson's notation.

``explain(graph)`` (or ``forward_and_backward(graph, explain=True)``) runs the graph and says,
for every ``backward()`` in order: which node ran, its local derivative (``∂s1/∂l1 = s1·(1 − s1)``),
the upstream gradient it received from each consumer (and their sum when there are several), and
the gradient entries it produced. It replaces the lesson's debugging prints.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import numpy as np

from . import finite
from ._describe import (
    definition,
    number,
    seeds_gradient,
    sent_back_by,
    short_names,
    summary,
    upstream,
)
from .gradients import SkippedGradients
from .graph import run_graph
from .node import Node


class Explanation(str):
    """The text of an explanation: prints as itself, and shows as preformatted text in Jupyter."""

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        return f"<pre style='line-height:1.3'>{html.escape(str(self))}</pre>"


def explain(graph: Sequence[Node], *, trainables: Sequence[Node] | None = None) -> Explanation:
    """Run ``forward_and_backward(graph, trainables=trainables)`` and return the explanation of
    its backward pass (with ``trainables``, the skipped gradients are named as such).

    Nothing is printed: ``print(explain(graph))``, or let the REPL or notebook show it.
    """
    watcher = Explainer(graph, explain=True)
    run_graph(graph, trainables, watcher)
    return watcher.text()


class Explainer:
    """The teaching options of ``forward_and_backward``, as the watcher of its run: with
    `check_finite` it stops at the first non-finite value or gradient, with `explain` it writes
    down each backward step (``text()``)."""

    def __init__(self, graph: Sequence[Node], *, explain: bool, check_finite: bool = False):
        self.graph = graph
        self.explain = explain
        self.check_finite = check_finite
        self.names = short_names(graph)
        self.cost = self.names[graph[-1]] if graph else "cost"
        self.steps: list[str] = []

    def after_forward(self, node: Node) -> None:
        if self.check_finite:
            finite.check_forward(node, self.names)

    def after_backward(self, node: Node) -> None:
        if self.check_finite:
            finite.check_backward(node, self.names)
        if self.explain:
            index = len(self.steps) + 1
            self.steps.append(_step(node, index, len(self.graph), self.names, self.cost))

    def text(self) -> Explanation:
        """The explanation of the backward pass that ran."""
        graph = self.graph
        head = f"backward pass: {len(graph)} steps, last node first"
        if graph and np.ndim(graph[-1].value) == 0 and graph[-1].value is not None:
            head += f"; {self.cost} = {number(float(graph[-1].value))}"
        return Explanation("\n\n".join([head, *self.steps]) + "\n")


def _step(node: Node, index: int, total: int, names: dict[Node, str], cost: str) -> str:
    lines = [f"[{index}/{total}] {definition(node, names)}"]
    skipped = node.gradients.skipped if isinstance(node.gradients, SkippedGradients) else ()
    if skipped and not node.gradients:
        lines.append("  skipped   no trainable depends on it: its backward() did not run")
        return "\n".join(lines)
    lines += _upstream_lines(node, names, cost)
    local = local_formulas(node, names, cost)
    for i, formula in enumerate(local):
        lines.append(f"  {'local' if i == 0 else '':<9} {formula}")
    for i, (inbound, grad) in enumerate(node.gradients.items()):
        key = names.get(inbound, getattr(inbound, "label", str(inbound)))
        label = "result" if i == 0 else ""
        lines.append(f"  {label:<9} gradients[{key}] = {summary(grad)}")
    if not node.gradients:
        lines.append("  result    (no gradients)")
    for inbound in skipped:
        key = names.get(inbound, getattr(inbound, "label", str(inbound)))
        lines.append(f"  skipped   gradients[{key}]: no trainable depends on it")
    return "\n".join(lines)


def _upstream_lines(node: Node, names: dict[Node, str], cost: str) -> list[str]:
    """What the consumers sent back, summed when there are several."""
    me = names[node]
    received = sent_back_by(node)
    if not node.outbound_nodes:
        if not seeds_gradient(node):
            return ["  upstream  none: no node reads it, so nothing comes back (G = 0)"]
        return [f"  upstream  ∂{cost}/∂{me} = 1 (the cost: backpropagation starts here)"]
    if len(received) == 1:
        consumer, grad = received[0]
        sender = names.get(consumer, consumer.label)
        return [f"  upstream  G = ∂{cost}/∂{me} from {sender}: {summary(grad)}"]
    lines = [f"  upstream  G = ∂{cost}/∂{me} = sum over its {len(received)} consumers:"]
    for consumer, grad in received:
        lines.append(f"              from {names.get(consumer, consumer.label)}: {summary(grad)}")
    lines.append(f"              sum: {summary(upstream(node))}")
    return lines


def local_formulas(node: Node, names: dict[Node, str], cost: str) -> list[str]:
    """The node's local derivatives in the lesson's notation, as its class states them (a
    learner's node that states none is said to be one)."""
    return node.local_derivatives(names, cost) or [
        f"your own {type(node).__name__}.backward(); it produced:"
    ]
