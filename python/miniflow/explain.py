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
    inbound_list,
    is_trainable,
    number,
    seeds_gradient,
    sent_back_by,
    short_names,
    summary,
    upstream,
)
from .graph import _run, backward_pass
from .layers import MSE, Linear, Sigmoid
from .node import Input, Node, SkippedGradients, consumers
from .quiz import Add, Mul


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
    text = run(graph, trainables=trainables, explain=True)
    assert text is not None  # explain=True always makes one
    return text


def run(
    graph: Sequence[Node],
    *,
    trainables: Sequence[Node] | None = None,
    explain: bool = False,
    check_finite: bool = False,
) -> Explanation | None:
    """``forward_and_backward`` with its teaching options; see ``graph.forward_and_backward``."""
    names = short_names(graph)
    for node in graph:
        _run(node, "forward")
        if check_finite:
            finite.check_forward(node, names)
    cost = names[graph[-1]] if graph else "cost"
    steps: list[str] = []

    def look_at(node: Node) -> None:
        if check_finite:
            finite.check_backward(node, names)
        if explain:
            steps.append(_step(node, len(steps) + 1, len(graph), names, cost))

    backward_pass(graph, trainables, look_at)
    if not explain:
        return None
    head = f"backward pass: {len(graph)} steps, last node first"
    if graph and np.ndim(graph[-1].value) == 0 and graph[-1].value is not None:
        head += f"; {cost} = {number(float(graph[-1].value))}"
    return Explanation("\n\n".join([head, *steps]) + "\n")


def _step(node: Node, index: int, total: int, names: dict[Node, str], cost: str) -> str:
    me = names[node]
    args = inbound_list(node, names)
    if node.inbound_nodes:
        title = f"[{index}/{total}] {me} = {type(node).__name__}({', '.join(args)})"
    else:
        kind = "trainable" if is_trainable(node) else "data"
        title = f"[{index}/{total}] {me} = {type(node).__name__} ({kind})"
    lines = [title]
    skipped = node.gradients.skipped if isinstance(node.gradients, SkippedGradients) else ()
    if skipped and not node.gradients:
        lines.append("  skipped   no trainable depends on it: its backward() did not run")
        return "\n".join(lines)
    lines += _upstream_lines(node, names, cost)
    local = _local(node, names, cost)
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


def _local(node: Node, names: dict[Node, str], cost: str) -> list[str]:
    """The node's local derivatives in the lesson's notation (built-in nodes only)."""
    me = names[node]
    args = inbound_list(node, names)
    kind = type(node)
    if kind is Input:
        if len(consumers(node)) > 1:
            return [f"∂{cost}/∂{me} = sum of what its consumers sent"]
        return [f"∂{me}/∂{me} = 1, so ∂{cost}/∂{me} = G"]
    if kind is Linear:
        X, W, _ = args
        return [
            f"∂{cost}/∂{X} = G·{W}ᵀ",
            f"∂{cost}/∂{W} = {X}ᵀ·G",
            f"∂{cost}/∂{args[2]} = sum of G's rows",
        ]
    if kind is Sigmoid:
        (x,) = args
        return [f"∂{me}/∂{x} = {me}·(1 − {me})", f"∂{cost}/∂{x} = ∂{me}/∂{x} · G"]
    if kind is MSE:
        y, a = args
        m = getattr(node, "m", "?")
        return [f"∂{me}/∂{y} = 2/m·({y} − {a})   m = {m}", f"∂{me}/∂{a} = −2/m·({y} − {a})"]
    if kind is Add:
        # a node in k slots gets k times the upstream gradient
        return [
            f"∂{me}/∂{x} = {args.count(x)}, so ∂{cost}/∂{x} = "
            + ("G" if args.count(x) == 1 else f"{args.count(x)}·G")
            for x in _unique(args)
        ]
    if kind is Mul:
        lines = []
        for x in _unique(args):
            # one product of the other factors per slot x fills
            terms = [
                "·".join(args[:i] + args[i + 1 :]) or "1" for i, a in enumerate(args) if a == x
            ]
            local = " + ".join(terms)
            chain = f"{local}·G" if len(terms) == 1 else f"({local})·G"
            lines.append(f"∂{me}/∂{x} = {local}, so ∂{cost}/∂{x} = {chain}")
        return lines
    return [f"your own {kind.__name__}.backward(); it produced:"]


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))
