"""Where did the NaN come from? ``forward_and_backward(graph, check_finite=True)`` checks every
value and gradient as it is made and stops at the first one that is not finite."""

from __future__ import annotations

from ._describe import finite_mask_text, is_finite, sent_back_by, summary, title
from .node import Node


class NonFiniteError(FloatingPointError):
    """A node's value (forward) or gradient (backward) has a NaN or an infinity.

    Raised by ``forward_and_backward(graph, check_finite=True)`` for the first such node in
    execution order: forward in topological order, then backward in reverse.

    Attributes:
        node: the node whose output became non-finite.
        step: ``"forward"`` or ``"backward"``.
        inbound: for a backward step, the inbound node whose gradient entry is non-finite (for
            an Input, the Input itself); None for a forward step.
    """

    def __init__(self, message: str, node: Node, step: str, inbound: Node | None = None):
        super().__init__(message)
        self.node = node
        self.step = step
        self.inbound = inbound


def check_forward(node: Node, names: dict[Node, str]) -> None:
    """Raise NonFiniteError if ``node.value`` is not finite."""
    if is_finite(node.value):
        return
    what = "its fed value" if not node.inbound_nodes else "its value"
    lines = [
        f"{title(node, names)} forward: {what} has {finite_mask_text(node.value)}; "
        "this is the first non-finite value in execution order"
    ]
    lines += _inputs(node, names)
    raise NonFiniteError("\n".join(lines), node, "forward")


def check_backward(node: Node, names: dict[Node, str]) -> None:
    """Raise NonFiniteError if an entry of ``node.gradients`` is not finite."""
    for inbound, grad in node.gradients.items():
        if is_finite(grad):
            continue
        key = names.get(inbound, getattr(inbound, "label", str(inbound)))
        lines = [
            f"{title(node, names)} backward: gradients[{key}] has {finite_mask_text(grad)}; "
            "every value and every earlier gradient was finite"
        ]
        lines += upstream_lines(node, names, "  upstream gradients it received:")
        lines += _inputs(node, names)
        raise NonFiniteError("\n".join(lines), node, "backward", inbound)


def _inputs(node: Node, names: dict[Node, str]) -> list[str]:
    if not node.inbound_nodes:
        return []
    lines = ["  its inputs:"]
    lines.extend(
        f"    {title(inbound, names)}: {summary(inbound.value)}" for inbound in node.inbound_nodes
    )
    if node.value is not None:
        lines.append(f"  its value: {summary(node.value)}")
    return lines


def upstream_lines(node: Node, names: dict[Node, str], heading: str) -> list[str]:
    """One line per consumer with the gradient it sent back to ``node``."""
    lines = [heading]
    for consumer, grad in sent_back_by(node):
        lines.append(f"    from {title(consumer, names)}: {summary(grad)}")
    return lines if len(lines) > 1 else []
