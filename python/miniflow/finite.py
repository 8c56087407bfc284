"""Where did the NaN come from? ``forward_and_backward(graph, check_finite=True)`` checks every
value and gradient as it is made and stops at the first one that is not finite, and says what
produced it and where in your code that node was made."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._describe import finite_mask_text, is_finite, sent_back_by, summary, title
from .graph import LAST_UPDATES
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
        cause: what produced it, in a few words (also the message's ``cause:`` line).
    """

    def __init__(
        self, message: str, node: Node, step: str, inbound: Node | None = None, cause: str = ""
    ):
        super().__init__(message)
        self.node = node
        self.step = step
        self.inbound = inbound
        self.cause = cause


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
    if node.inbound_nodes:
        operands = [(n, n.value) for n in node.inbound_nodes]
        cause = _overflow(node, node.value, operands, names)
    elif _updated(node):
        cause = (
            f"sgd_update step {LAST_UPDATES.steps} (learning rate {LAST_UPDATES.learning_rate:g}) "
            "made it non-finite: its gradient blew up; lower the learning rate"
        )
    else:
        cause = "it was fed non-finite (feed_dict or .value): clean the data"
    lines += _cause_lines(node, cause)
    raise NonFiniteError("\n".join(lines), node, "forward", cause=cause)


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
        operands = [(c, g) for c, g in sent_back_by(node)]
        operands += [(n, n.value) for n in node.inbound_nodes]
        cause = _overflow(node, grad, operands, names)
        lines += _cause_lines(node, cause)
        raise NonFiniteError("\n".join(lines), node, "backward", inbound, cause)


def _overflow(
    node: Node, result: Any, operands: list[tuple[Node, Any]], names: dict[Node, str]
) -> str:
    """What made a non-finite result from finite operands: an overflow (naming the largest
    operand) or an invalid operation, and the sgd_update steps before it, if any."""
    sizes = [(_largest(value), n) for n, value in operands if _largest(value) >= 0]
    array = np.asarray(result, dtype=float)
    if np.isinf(array).any() or not sizes:
        cause = "an overflow from finite operands"
        if sizes:
            size, largest = max(sizes, key=lambda pair: pair[0])
            cause += f"; the largest is {title(largest, names)}, up to {size:.3g} in size"
    else:
        cause = "an invalid operation on finite operands (0/0, ∞ − ∞, sqrt or log of a negative)"
    if any(_updated(n) for n in _ancestors(node)):
        cause += (
            f"; after sgd_update step {LAST_UPDATES.steps} at learning rate "
            f"{LAST_UPDATES.learning_rate:g}: lower the learning rate"
        )
    return cause


def _largest(value: Any) -> float:
    """The largest absolute entry of a numeric value; -1 for None or a non-numeric one."""
    try:
        array = np.abs(np.asarray(value, dtype=float))
    except (TypeError, ValueError):
        return -1.0
    return float(array.max()) if array.size else -1.0


def _ancestors(node: Node) -> list[Node]:
    """The node and every node it depends on."""
    found, index = [node], 0
    while index < len(found):
        found += [n for n in found[index].inbound_nodes if all(n is not f for f in found)]
        index += 1
    return found


def _updated(node: Node) -> bool:
    """Whether the last ``sgd_update`` changed this node."""
    return LAST_UPDATES.steps > 0 and any(node is t for t in LAST_UPDATES.trainables)


def _cause_lines(node: Node, cause: str) -> list[str]:
    lines = [f"  cause: {cause}"]
    if not hasattr(node, "creation_site"):  # a learner's class that skipped Node.__init__
        return lines
    site = node.creation_site
    if site is None:  # so that a missing line is not taken for a bug
        lines.append("  made at: not recorded (it was made after record_creation_sites(False))")
    else:
        lines.append(f"  made at {site[0]}:{site[1]}")
    return lines


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
