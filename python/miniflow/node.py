"""The graph's building blocks: the lesson's ``Node`` base class and ``Input``, plus the helpers
every node shares (naming a node in errors, finding its consumers and what they sent back)."""

from __future__ import annotations

import itertools
from contextlib import contextmanager
from typing import Any, Dict, Iterable, Iterator, List, Optional

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

    def __init__(self, inbound_nodes: Iterable["Node"] = (), name: Optional[str] = None) -> None:
        self.inbound_nodes: List[Node] = list(inbound_nodes)
        self.outbound_nodes: List[Node] = []
        self.value: Any = None
        self.gradients: Dict[Node, Any] = {}
        self.name = name
        self._index = next(_creation_order)
        for node in self.inbound_nodes:
            node.outbound_nodes.append(self)

    # (len(outbound_nodes), consumers) for `_consumers`; a class default, so a learner's node
    # that skips Node.__init__ has one too
    _consumer_cache: tuple = (-1, [])

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


def _blamed(node: Node, step: str, error: Exception) -> Exception:
    """A kernel's ValueError or TypeError, restated with the node and step that failed; an
    inbound node that never got a value is named instead, since that is the real cause."""
    for inbound in node.inbound_nodes:
        if inbound.value is None:
            return ValueError(
                f"{inbound.label} has no value when {node.label} runs {step}(): "
                "add it to feed_dict (or set its .value) before running the graph"
            )
    kind = TypeError if isinstance(error, TypeError) else ValueError
    return kind(f"{node.label} {step}: {error}")


@contextmanager
def _blame(node: Node, step: str) -> Iterator[None]:
    """Restate a ValueError or TypeError raised inside the block as `_blamed` does."""
    try:
        yield
    except (ValueError, TypeError) as error:
        raise _blamed(node, step, error) from None


def _inbound_values(node: Node) -> List[Any]:
    """The inbound values, or an error naming the Input that was never given one."""
    values = [inbound.value for inbound in node.inbound_nodes]
    if any(value is None for value in values):
        raise _blamed(node, "forward", ValueError())
    return values


def _consumers(node: Node) -> List[Node]:
    """Each consumer once: one that reads `node` in two slots already summed both in its
    gradients[node], and its entry in outbound_nodes appears twice. Cached, since this runs
    every step and outbound_nodes only changes while the graph is being built."""
    outbound = node.outbound_nodes
    cached = node._consumer_cache
    if cached[0] != len(outbound):
        cached = node._consumer_cache = (len(outbound), list(dict.fromkeys(outbound)))
    return cached[1]


def _missing_gradient(consumer: Node, node: Node) -> KeyError:
    return KeyError(
        f"{consumer.label}.backward() did not set gradients[{node.label}]; "
        "every node must set a gradient for each of its inbound nodes"
    )


def _upstream(node: Node, consumer: Node) -> Any:
    """What a consumer sent back to `node`, or an error saying the consumer forgot it."""
    try:
        return consumer.gradients[node]
    except KeyError:
        raise _missing_gradient(consumer, node) from None


class Input(Node):
    """A value fed from outside: data, a target, or a trainable weight.

    Its value is set by ``topological_sort(feed_dict)`` or by ``node.value = ...``; its gradient
    ``node.gradients[node]`` is the sum of what every consumer sends back (0 with no consumer).
    """

    def __init__(self, name: Optional[str] = None) -> None:
        Node.__init__(self, name=name)
        self._sum_buffer: Optional[np.ndarray] = None

    def forward(self) -> None:
        # nothing to compute: the value was fed
        pass

    def backward(self) -> None:
        consumers = _consumers(self)
        if len(consumers) == 1:
            # one consumer (the usual case, and it runs every step, so written out): its
            # gradient buffer is ours, no copy
            consumer = consumers[0]
            try:
                grad = consumer.gradients[self]
            except KeyError:
                raise _missing_gradient(consumer, self) from None
        elif consumers:
            grad = self._summed(_upstream(self, consumers[0]), [_upstream(self, c) for c in consumers[1:]])
        else:
            self.gradients = {self: 0}
            return
        gradients = self.gradients
        if gradients.get(self) is not grad or len(gradients) != 1:
            self.gradients = {self: grad}  # a new buffer (the kernels keep theirs between steps)

    def _summed(self, first: Any, rest: List[Any]) -> np.ndarray:
        """first + sum(rest) in a buffer kept between steps; shapes must agree element for element."""
        first = np.asarray(first)
        buffer = self._sum_buffer
        dtype = np.result_type(first, np.float32)
        if buffer is None or buffer.shape != first.shape or buffer.dtype != dtype:
            buffer = self._sum_buffer = np.empty(first.shape, dtype)
        np.copyto(buffer, first)
        for grad in rest:
            grad = np.asarray(grad)
            if grad.shape != buffer.shape:
                if grad.size != buffer.size and grad.size != 1:
                    raise ValueError(
                        f"{self.label} backward: its consumers sent gradients of shapes "
                        f"{buffer.shape} and {grad.shape}, which cannot be summed"
                    )
                if grad.size == buffer.size:
                    grad = grad.reshape(buffer.shape)
            np.add(buffer, grad, out=buffer, casting="unsafe")
        return buffer
