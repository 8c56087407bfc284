"""The lesson's layers: Linear, Sigmoid and MSE, whose arithmetic runs in the C++ core."""

from __future__ import annotations

from typing import Any, Dict, Optional, Sequence

import numpy as np

from . import _core
from .node import Node, _blame, _blamed, _consumers, _missing_gradient


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
        """Make the kernel's buffers this node's gradients; a node in two slots gets the sum.

        Not needed when the kernel returned last step's tuple (its buffers all reused) and no
        node is in two slots: self.gradients already holds those buffers.
        """
        self._buffers = buffers
        gradients: Dict[Node, Any] = {}
        for node, grad in zip(self.inbound_nodes, buffers):
            gradients[node] = gradients[node] + grad if node in gradients else grad
        self.gradients = gradients

    def _no_consumers(self) -> None:
        # nothing downstream depends on this node: every gradient is zero, as in the lesson
        self._buffers = None
        self.gradients = {n: np.zeros(np.shape(n.value)) for n in self.inbound_nodes}


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
        buffers = previous = self._buffers
        accumulate = False
        try:
            # the lesson's loop: each consumer's gradient adds to ours
            for consumer in consumers:
                buffers = _core.linear_backward(X.value, W.value, consumer.gradients[self], buffers, accumulate)
                accumulate = True
        except (ValueError, TypeError) as error:
            raise _blamed(self, "backward", error) from None
        except KeyError:
            raise _missing_gradient(consumer, self) from None
        if buffers is not previous or self._shared:
            self._publish(buffers)


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
        # Linear.backward's loop, written out: a shared helper taking the kernel and *operands
        # measured ~1 µs (10%) slower per lesson-size step
        consumers = _consumers(self)
        if not consumers:
            return self._no_consumers()
        buffers = previous = self._buffers
        accumulate = False
        try:
            for consumer in consumers:
                buffers = _core.sigmoid_backward(self.value, consumer.gradients[self], buffers, accumulate)
                accumulate = True
        except (ValueError, TypeError) as error:
            raise _blamed(self, "backward", error) from None
        except KeyError:
            raise _missing_gradient(consumer, self) from None
        if buffers is not previous or self._shared:
            self._publish(buffers)


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
        previous = self._buffers
        try:
            buffers = _core.mse_backward(self.diff, previous, False)
        except (ValueError, TypeError) as error:
            raise _blamed(self, "backward", error) from None
        if buffers is not previous or self._shared:
            self._publish(buffers)
