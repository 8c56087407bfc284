"""The lesson's nodes. Linear, Sigmoid and MSE do their arithmetic in the C++ core."""

from __future__ import annotations

import functools
import itertools
import operator
from contextlib import contextmanager
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from . import _core

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
    cached = node.__dict__.get("_consumer_cache")
    if cached is None or cached[0] != len(outbound):
        cached = node.__dict__["_consumer_cache"] = (len(outbound), list(dict.fromkeys(outbound)))
    return cached[1]


def _upstream(node: Node, consumer: Node) -> Any:
    """What a consumer sent back to `node`, or an error saying the consumer forgot it."""
    try:
        return consumer.gradients[node]
    except KeyError:
        raise KeyError(
            f"{consumer.label}.backward() did not set gradients[{node.label}]; "
            "every node must set a gradient for each of its inbound nodes"
        ) from None


class _NativeNode(Node):
    """A node whose kernels live in the C++ core.

    Its value and gradient arrays are buffers the kernels write into step after step, so a
    training step allocates nothing once shapes settle: copy a value you want to keep.
    """

    _names_its_errors = True

    def __init__(self, inbound_nodes: Sequence[Node], name: Optional[str]) -> None:
        Node.__init__(self, inbound_nodes, name=name)
        self._buffers: Optional[tuple] = None  # what the backward kernel wrote, one per slot
        self._shared = len(set(self.inbound_nodes)) < len(self.inbound_nodes)

    def _publish(self, buffers: tuple) -> None:
        """Make the kernel's buffers this node's gradients; a node in two slots gets the sum."""
        previous = self._buffers
        self._buffers = buffers
        if not self._shared and previous is not None and all(map(operator.is_, buffers, previous)):
            return  # self.gradients already holds these very buffers
        gradients: Dict[Node, Any] = {}
        for node, grad in zip(self.inbound_nodes, buffers):
            gradients[node] = gradients[node] + grad if node in gradients else grad
        self.gradients = gradients

    def _no_consumers(self) -> None:
        # nothing downstream depends on this node: every gradient is zero, as in the lesson
        self._buffers = None
        self.gradients = {n: np.zeros(np.shape(n.value)) for n in self.inbound_nodes}


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
        if not consumers:
            self.gradients = {self: 0}
            return
        first = _upstream(self, consumers[0])
        if len(consumers) > 1:
            first = self._summed(first, [_upstream(self, c) for c in consumers[1:]])
        # one consumer: its gradient buffer is ours, no copy
        gradients = self.gradients
        if len(gradients) != 1 or gradients.get(self) is not first:
            self.gradients = {self: first}

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


class Linear(_NativeNode):
    """``value = X · W + b``: a fully connected layer (numpy.dot's rules for 1-D X or W).

    ``b`` needs exactly one value per column of ``W``; it is never broadcast.
    """

    def __init__(self, X: Node, W: Node, b: Node, name: Optional[str] = None) -> None:
        _NativeNode.__init__(self, [X, W, b], name)

    def forward(self) -> None:
        X, W, b = self.inbound_nodes
        try:
            self.value = _core.linear_forward(X.value, W.value, b.value, self.value)
        except (ValueError, TypeError) as error:
            raise _blamed(self, "forward", error) from None

    def backward(self) -> None:
        X, W, b = self.inbound_nodes
        consumers = _consumers(self)
        if not consumers:
            return self._no_consumers()
        grads = self._buffers or (None, None, None)
        try:
            # the lesson's loop: each consumer's gradient adds to ours
            for i, consumer in enumerate(consumers):
                grads = _core.linear_backward(X.value, W.value, _upstream(self, consumer), *grads, i > 0)
        except (ValueError, TypeError) as error:
            raise _blamed(self, "backward", error) from None
        self._publish(grads)


class Sigmoid(_NativeNode):
    """``value = 1 / (1 + exp(-x))``, elementwise, without overflow for any input."""

    def __init__(self, node: Node, name: Optional[str] = None) -> None:
        _NativeNode.__init__(self, [node], name)

    def _sigmoid(self, x: Any) -> np.ndarray:
        """The sigmoid of an array-like (kept from the lesson for learners' code)."""
        with _blame(self, "_sigmoid"):
            return _core.sigmoid_forward(x)

    def forward(self) -> None:
        try:
            self.value = _core.sigmoid_forward(self.inbound_nodes[0].value, self.value)
        except (ValueError, TypeError) as error:
            raise _blamed(self, "forward", error) from None

    def backward(self) -> None:
        consumers = _consumers(self)
        if not consumers:
            return self._no_consumers()
        grad = self._buffers[0] if self._buffers else None
        try:
            for i, consumer in enumerate(consumers):
                grad = _core.sigmoid_backward(self.value, _upstream(self, consumer), grad, i > 0)
        except (ValueError, TypeError) as error:
            raise _blamed(self, "backward", error) from None
        self._publish((grad,))


class MSE(_NativeNode):
    """The mean squared error of ``a`` against the target ``y``: the cost, the graph's last node.

    A 1-D ``y`` and an ``(m, 1)`` ``a`` are compared row by row, as in the lesson, and both get
    ``(m, 1)`` gradients; otherwise ``y`` and ``a`` need the same shape and the mean runs over
    every element. ``value`` is a Python float.
    """

    def __init__(self, y: Node, a: Node, name: Optional[str] = None) -> None:
        _NativeNode.__init__(self, [y, a], name)
        self.m = 0
        self.diff: Optional[np.ndarray] = None

    def forward(self) -> None:
        y, a = self.inbound_nodes
        try:
            self.value, self.diff = _core.mse_forward(y.value, a.value, self.diff)
        except (ValueError, TypeError) as error:
            raise _blamed(self, "forward", error) from None
        self.m = self.diff.shape[0]

    def backward(self) -> None:
        if self.outbound_nodes:
            consumers = ", ".join(c.label for c in self.outbound_nodes)
            raise ValueError(
                f"{self.label} is read by {consumers}; MSE is the cost and must be the last node"
            )
        try:
            grads = _core.mse_backward(self.diff, *(self._buffers or (None, None)), False)
        except (ValueError, TypeError) as error:
            raise _blamed(self, "backward", error) from None
        self._publish(grads)


def _unbroadcast(grad: Any, shape: Tuple[int, ...]) -> Any:
    """Sum a broadcast gradient back down to an input's shape."""
    grad = np.asarray(grad)
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and grad.shape[axis] != 1:
            grad = grad.sum(axis=axis, keepdims=True)
    return grad


class _ElementwiseQuizNode(Node):
    """Add and Mul from the lesson's early quizzes: numpy arithmetic with broadcasting."""

    def _local_gradients(self, values: List[Any], upstream: Any) -> List[Any]:
        raise NotImplementedError

    def backward(self) -> None:
        values = [node.value for node in self.inbound_nodes]
        gradients: Dict[Node, Any] = {}
        for node, value in zip(self.inbound_nodes, values):
            gradients[node] = np.zeros(np.shape(value))
        for consumer in _consumers(self):
            local = self._local_gradients(values, _upstream(self, consumer))
            for node, value, grad in zip(self.inbound_nodes, values, local):
                # a node in two slots (Mul(x, x)) gets both contributions
                gradients[node] = gradients[node] + _unbroadcast(grad, np.shape(value))
        self.gradients = gradients


class Add(_ElementwiseQuizNode):
    """The sum of the inbound values: ``Add(x, y, z)``."""

    def __init__(self, *inputs: Node, name: Optional[str] = None) -> None:
        Node.__init__(self, inputs, name=name)

    def forward(self) -> None:
        with _blame(self, "forward"):
            self.value = functools.reduce(np.add, _inbound_values(self))

    def _local_gradients(self, values: List[Any], upstream: Any) -> List[Any]:
        return [upstream for _ in values]


class Mul(_ElementwiseQuizNode):
    """The product of the inbound values: ``Mul(x, y, z)``."""

    def __init__(self, *inputs: Node, name: Optional[str] = None) -> None:
        Node.__init__(self, inputs, name=name)

    def forward(self) -> None:
        with _blame(self, "forward"):
            self.value = functools.reduce(np.multiply, _inbound_values(self))

    def _local_gradients(self, values: List[Any], upstream: Any) -> List[Any]:
        # d(prod)/d(v_i) is the product of every other factor
        return [
            functools.reduce(np.multiply, values[:i] + values[i + 1 :], upstream)
            for i in range(len(values))
        ]
