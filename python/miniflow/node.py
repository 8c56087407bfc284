"""The graph's building blocks: the lesson's ``Node`` base class and ``Input``, plus the helpers
every node and teaching tool shares: naming a node in errors, its consumers, what they sent
back."""

from __future__ import annotations

import itertools
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

_creation_order = itertools.count()


class Node:
    """Base class for nodes in the network.

    Args:
        inbound_nodes: the nodes with edges into this node.
        name: an optional name, used in error messages and ``repr``.

    Attributes:
        inbound_nodes: the nodes this node reads.
        outbound_nodes: the nodes that read this node (filled in as they are created).
        value: the node's output, ``None`` until ``forward()`` runs.
        gradients: after ``backward()``, the partial of the cost with respect to each inbound
            node, keyed by node (an Input keys its own gradient by itself).
    """

    def __init__(self, inbound_nodes: Iterable[Node] = (), name: str | None = None) -> None:
        self.inbound_nodes: list[Node] = list(inbound_nodes)
        self.outbound_nodes: list[Node] = []
        self.value: Any = None
        self.gradients: dict[Node, Any] = {}
        self.name = name
        self._index = next(_creation_order)
        for node in self.inbound_nodes:
            node.outbound_nodes.append(self)

    def forward(self) -> None:
        """Compute ``self.value`` from the inbound nodes' values."""
        raise NotImplementedError

    def backward(self) -> None:
        """Fill ``self.gradients`` from the consumers' gradients (the chain rule)."""
        raise NotImplementedError

    @property
    def label(self) -> str:
        """How errors name this node: its type and its name (or creation number)."""
        kind = type(self).__name__
        name = getattr(self, "name", None)
        return f"{kind} '{name}'" if name else f"{kind} #{getattr(self, '_index', '?')}"

    def __repr__(self) -> str:
        parts = [f"<{self.label}", f"value {_shape_text(self.value)}"]
        if self.gradients:
            grads = ", ".join(
                f"{getattr(node, 'label', node)}: {_shape_text(grad)}"
                for node, grad in self.gradients.items()
            )
            parts.append(f"gradients {{{grads}}}")
        return " ".join(parts) + ">"


def _shape_text(value: Any) -> str:
    if value is None:
        return "None"
    shape = np.shape(value)
    return "scalar" if shape == () else str(shape)


class SkippedGradients(dict[Node, Any]):
    """A node's ``gradients`` after ``forward_and_backward(graph, trainables=...)`` skipped some:
    it holds those on a path to a trainable, and reading a skipped one raises a KeyError that
    says so (never a stale array from an earlier step)."""

    __slots__ = ("skipped",)
    skipped: Collection[Node]  # the inbound nodes (an Input: itself) whose gradient was skipped

    def __missing__(self, node: Node) -> Any:
        raise KeyError(why_skipped(node) if node in self.skipped else node)


def skipped_gradients(skipped: Collection[Node], computed: Iterable[Any] = ()) -> SkippedGradients:
    """A gradients dict of the (node, gradient) pairs `computed` that says `skipped` were not."""
    gradients = SkippedGradients(computed)
    gradients.skipped = skipped
    return gradients


def why_skipped(node: Node) -> str:
    """What reading a skipped gradient says: why it is missing and how to get it."""
    return (
        f"the gradient for {getattr(node, 'label', node)} was skipped: no trainable given to "
        "forward_and_backward(graph, trainables=...) depends on it; add it to trainables, or "
        "run forward_and_backward(graph) for every gradient"
    )


# what a kernel raises for bad operands (or no memory to convert them): restated with the node
KERNEL_ERRORS = (ValueError, TypeError, MemoryError)


def _restated(node: Node, step: str, error: Exception) -> Exception:
    """A kernel's ValueError, TypeError or MemoryError, restated with the node and step that
    failed; an inbound node that never got a value is named instead, since that is the cause."""
    for inbound in node.inbound_nodes:
        if inbound.value is None:
            return ValueError(
                f"{inbound.label} has no value when {node.label} runs {step}(): "
                "add it to feed_dict (or set its .value) before running the graph"
            )
    kind = next(kind for kind in KERNEL_ERRORS if isinstance(error, kind))  # not a subclass
    return kind(f"{node.label} {step}: {error}")


@contextmanager
def _errors_restated(node: Node, step: str) -> Iterator[None]:
    """Restate a kernel's error raised inside the block with `_restated`."""
    try:
        yield
    except KERNEL_ERRORS as error:
        raise _restated(node, step, error) from None


def _inbound_values(node: Node) -> list[Any]:
    """The inbound values, or an error naming the Input that was never given one."""
    values = [inbound.value for inbound in node.inbound_nodes]
    if any(value is None for value in values):
        raise _restated(node, "forward", ValueError())
    return values


def consumers(node: Node) -> Sequence[Node]:
    """The nodes that read `node`, each once: a consumer that reads it in two slots already
    summed both into its gradients[node]."""
    outbound = node.outbound_nodes
    return outbound if len(outbound) < 2 else list(dict.fromkeys(outbound))


def sent_back(node: Node, consumer: Node) -> Any:
    """What `consumer` sent back to `node` (its gradients[node]), or a KeyError saying why not."""
    try:
        return consumer.gradients[node]
    except KeyError:
        raise not_sent_back(node, consumer) from None


def not_sent_back(node: Node, consumer: Node) -> KeyError:
    """The error for a consumer whose gradients lack `node`: skipped on purpose, or forgotten."""
    gradients = consumer.gradients
    if isinstance(gradients, SkippedGradients) and node in gradients.skipped:
        return KeyError(why_skipped(node))
    return KeyError(
        f"{consumer.label}.backward() did not set gradients[{node.label}]; "
        "every node must set a gradient for each of its inbound nodes"
    )


def received(node: Node, out: np.ndarray | None = None) -> Any:
    """∂cost/∂node: the sum of what `node`'s consumers sent back (None when nobody reads it).

    One consumer's gradient is returned as it is, not copied; several are added up in `out`
    when it has their shape and dtype, else in a new array.
    """
    outbound = node.outbound_nodes
    if len(outbound) == 1:  # the usual case, so the lookup is written out
        gradients = outbound[0].gradients
        if node in gradients:
            return gradients[node]
        raise not_sent_back(node, outbound[0])
    grads = [sent_back(node, consumer) for consumer in consumers(node)]
    if len(grads) < 2:
        return grads[0] if grads else None
    return add_up(node, grads, out)


def add_up(node: Node, grads: Sequence[Any], out: np.ndarray | None = None) -> np.ndarray:
    """grads[0] + grads[1] + ..., the gradients `node`'s consumers sent back, in `out` when it
    fits (else a new array); vectors of the same length add whatever their orientation, as the
    kernels accept them."""
    first = np.asarray(grads[0])
    dtype = np.result_type(*grads, np.float32)
    if (
        out is None
        or out.shape != first.shape
        or out.dtype != dtype
        or any(out is grad for grad in grads)  # a consumer's own array is never written
    ):
        out = np.empty(first.shape, dtype)
    np.copyto(out, first)
    for grad in grads[1:]:
        grad = np.asarray(grad)
        if grad.shape != out.shape and grad.size == out.size:
            grad = grad.reshape(out.shape)
        elif grad.shape != out.shape and grad.size != 1:
            raise ValueError(
                f"{node.label} backward: its consumers sent gradients of shapes "
                f"{out.shape} and {grad.shape}, which cannot be summed"
            )
        np.add(out, grad, out=out, casting="unsafe")
    return out


class Input(Node):
    """A value fed from outside: data, a target, or a trainable weight.

    Its value is set by ``topological_sort(feed_dict)`` or by ``node.value = ...``; its gradient
    ``node.gradients[node]`` is the sum of what every consumer sends back (0 with no consumer).
    """

    def __init__(self, name: str | None = None) -> None:
        Node.__init__(self, name=name)
        self._sum: np.ndarray | None = None  # kept between steps when several consumers add up

    def forward(self) -> None:
        # nothing to compute: the value was fed
        pass

    def backward(self) -> None:
        # the sum of what every consumer sent back; nobody reads it: 0, as in the lesson
        grad = received(self, self._sum)
        if grad is None:
            grad = 0
        elif len(self.outbound_nodes) > 1:
            self._sum = grad
        self.gradients = {self: grad}
