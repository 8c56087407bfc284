"""The lesson's layers: Linear, Sigmoid and MSE, whose arithmetic runs in the C++ core.

How the nodes and the kernels share memory (the one place this is done):

- A forward kernel takes the node's last ``value`` as ``out`` and writes into it when it still
  fits (same shape and dtype, writable, not overlapping an input); otherwise it returns a new
  array. So ``self.value = kernel(..., self.value)``.
- A backward kernel takes the tuple of gradient arrays it returned last step and writes into
  them when they fit (with ``accumulate`` it adds instead: the second and later consumers); it
  returns that same tuple, or a new one when any array had to be made. ``wanted``, one bool per
  inbound slot, leaves an output out (None) for ``forward_and_backward(graph, trainables=...)``.
- ``_NativeNode._chain_rule`` keeps that tuple and, every step, makes a new ``gradients`` dict
  of its arrays: the consumers read what the dict holds, as in the lesson, so a learner may
  replace or clear entries between steps.

Once shapes settle a training step makes no new arrays: copy a value or gradient you want to
keep, since the next step overwrites it.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Optional, Sequence, Tuple

import numpy as np

from . import _core
from .node import Node, skipped_gradients, _errors_restated, _restated, consumers, not_sent_back


class _NativeNode(Node):
    """A node whose kernels live in the C++ core (see the module's docstring for its buffers)."""

    def __init__(self, inbound_nodes: Sequence[Node], name: Optional[str]) -> None:
        Node.__init__(self, inbound_nodes, name=name)
        self._buffers: Optional[Tuple[Any, ...]] = None  # what the backward kernel wrote last
        self._distinct_slots = len(set(self.inbound_nodes)) == len(self.inbound_nodes)
        # while forward_and_backward(graph, trainables=...) runs: one bool per inbound slot,
        # and the inbound nodes whose gradient is not wanted
        self.wanted: Optional[Tuple[bool, ...]] = None
        self.skipped: Sequence[Node] = ()

    def _chain_rule(self, kernel: Callable[..., Tuple[Any, ...]], *operands: Any) -> None:
        """The lesson's loop: for each consumer, its gradient G times the local derivatives
        (the kernel's work) is added to this node's gradients."""
        buffers, accumulate = self._buffers, False
        try:
            for consumer in consumers(self):
                G = consumer.gradients[self]
                buffers = kernel(*operands, G, buffers, accumulate, self.wanted)
                accumulate = True
        except KeyError:
            raise not_sent_back(self, consumer) from None
        except (ValueError, TypeError) as error:
            raise _restated(self, "backward", error) from None
        if not accumulate:
            # nobody reads this node: every gradient is zero, as in the lesson
            wanted = self.wanted or (True,) * len(self.inbound_nodes)
            buffers = tuple(np.zeros(np.shape(n.value)) if w else None
                            for n, w in zip(self.inbound_nodes, wanted))
        self._publish(buffers)

    def _publish(self, buffers: Tuple[Any, ...]) -> None:
        """Keep the kernel's arrays for the next step and make them this node's gradients."""
        self._buffers = buffers
        if self.wanted is None and self._distinct_slots:
            self.gradients = dict(zip(self.inbound_nodes, buffers))
        else:
            self.gradients = self._gradients_of(buffers)

    def _gradients_of(self, buffers: Tuple[Any, ...]) -> Dict[Node, Any]:
        """The kernel's arrays keyed by inbound node: a gradient not wanted is left out and
        said to be skipped; a node in two slots gets the sum."""
        inbound, skipped = self.inbound_nodes, self.skipped
        if not self._distinct_slots:
            sums: Dict[Node, Any] = {}
            for node, grad in zip(inbound, buffers):
                if grad is not None:
                    sums[node] = sums[node] + grad if node in sums else grad
            return skipped_gradients(skipped, sums.items()) if skipped else sums
        gradients = skipped_gradients(skipped, zip(inbound, buffers))
        for node in skipped:
            del gradients[node]
        return gradients


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
            raise _restated(self, "forward", error) from None

    def backward(self) -> None:
        X, W, b = self.inbound_nodes
        # each consumer's G adds G·Wᵀ to X's gradient, Xᵀ·G to W's and G's column sums to b's
        self._chain_rule(_core.linear_backward, X.value, W.value)


class Sigmoid(_NativeNode):
    """``value = 1 / (1 + exp(-x))``, elementwise, without overflow for any input."""

    def __init__(self, node: Node, name: Optional[str] = None) -> None:
        _NativeNode.__init__(self, [node], name)

    def _sigmoid(self, x: Any) -> np.ndarray:
        """The sigmoid of an array-like (kept from the lesson for learners' code)."""
        with _errors_restated(self, "_sigmoid"):
            return _core.sigmoid_forward(x)

    def forward(self) -> None:
        try:
            self.value = _core.sigmoid_forward(self.inbound_nodes[0].value, self.value)
        except (ValueError, TypeError) as error:
            raise _restated(self, "forward", error) from None

    def backward(self) -> None:
        # each consumer's G adds s·(1 − s)·G to the input's gradient (s is our value)
        self._chain_rule(_core.sigmoid_backward, self.value)


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
            raise _restated(self, "forward", error) from None
        self.m = self.diff.shape[0]

    def backward(self) -> None:
        if self.outbound_nodes:
            readers = ", ".join(c.label for c in self.outbound_nodes)
            raise ValueError(
                f"{self.label} is read by {readers}; MSE is the cost and must be the last node"
            )
        # the cost: backpropagation starts here, 2/m·(y − a) for y and −2/m·(y − a) for a
        try:
            buffers = _core.mse_backward(self.diff, self._buffers, False, self.wanted)
        except (ValueError, TypeError) as error:
            raise _restated(self, "backward", error) from None
        self._publish(buffers)
