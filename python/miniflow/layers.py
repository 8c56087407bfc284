"""The lesson's layers: Linear, Sigmoid and MSE, whose arithmetic runs in the C++ core.

How the nodes and the kernels share memory (the one place this is done):

- A forward kernel takes the node's last ``value`` as ``out`` and writes into it when it still
  fits (same shape and dtype, writable, not overlapping an input); otherwise it returns a new
  array. So ``self.value = kernel(..., self.value)``.
- A backward kernel takes the tuple of gradient arrays it returned last step and writes into
  them when they fit (with ``accumulate`` it adds instead: the second and later consumers); it
  returns that same tuple, or a new one when any array had to be made. ``wanted``, one bool per
  inbound slot, leaves an output out (None) for ``forward_and_backward(graph, trainables=...)``.
- ``_NativeNode._chain_rule`` keeps that tuple for the next step, and each ``backward()`` makes
  a new ``gradients`` dict of its arrays, as the lesson's code does: the consumers read what
  the dict holds, so a learner may replace or clear entries between steps. (With
  ``trainables=``, ``forward_and_backward`` then drops the skipped slots' None entries.)

Once shapes settle a training step makes no new arrays: copy a value or gradient you want to
keep, since the next step overwrites it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Callable

import numpy as np

from . import _core
from .node import KERNEL_ERRORS, Node, _errors_restated, _restated, consumers, not_sent_back


class _NativeNode(Node):
    """A node whose kernels live in the C++ core (see the module's docstring for its buffers)."""

    def __init__(self, inbound_nodes: Sequence[Node], name: str | None) -> None:
        Node.__init__(self, inbound_nodes, name=name)
        self._buffers: tuple[Any, ...] | None = None  # what the backward kernel wrote last
        self._distinct_slots = len(set(self.inbound_nodes)) == len(self.inbound_nodes)
        # while forward_and_backward(graph, trainables=...) runs: one bool per inbound slot
        self.wanted: tuple[bool, ...] | None = None

    def _chain_rule(
        self, kernel: Callable[..., tuple[Any, ...]], *operands: Any
    ) -> tuple[Any, ...]:
        """The lesson's loop: for each consumer, its gradient G times the local derivatives
        (the kernel's work) is added up. Returns this step's gradient arrays, one per inbound
        slot (None for a slot not wanted)."""
        buffers: Any = self._buffers
        accumulate = False
        try:
            for consumer in consumers(self):
                G = consumer.gradients[self]
                buffers = kernel(*operands, G, buffers, accumulate, self.wanted)
                accumulate = True
        except KeyError:
            raise not_sent_back(self, consumer) from None
        except KERNEL_ERRORS as error:
            raise _restated(self, "backward", error) from None
        if not accumulate:
            # nobody reads this node: every gradient is zero, as in the lesson
            wanted = self.wanted or (True,) * len(self.inbound_nodes)
            buffers = tuple(
                np.zeros(np.shape(n.value)) if w else None
                for n, w in zip(self.inbound_nodes, wanted)
            )
        self._buffers = buffers  # written into again next step
        return buffers if self._distinct_slots else self._summed_by_node(buffers)

    def _summed_by_node(self, buffers: tuple[Any, ...]) -> tuple[Any, ...]:
        """For a node in two slots (Linear(X, X, b)): the sum of both in each of its slots,
        since the gradients dict has one entry per node."""
        sums: dict[Node, Any] = {}
        for node, grad in zip(self.inbound_nodes, buffers):
            sums[node] = grad if sums.get(node) is None else sums[node] + grad
        return tuple(sums[node] for node in self.inbound_nodes)


class Linear(_NativeNode):
    """``value = X · W + b``: a fully connected layer (numpy.dot's rules for 1-D X or W).

    ``b`` needs exactly one value per column of ``W``; it is never broadcast.
    """

    def __init__(self, X: Node, W: Node, b: Node, name: str | None = None) -> None:
        _NativeNode.__init__(self, [X, W, b], name)

    def forward(self) -> None:
        X, W, b = self.inbound_nodes
        try:
            self.value = _core.linear_forward(X.value, W.value, b.value, self.value)
        except KERNEL_ERRORS as error:
            raise _restated(self, "forward", error) from None

    def backward(self) -> None:
        X, W, b = self.inbound_nodes
        # each consumer's G adds G·Wᵀ to X's gradient, Xᵀ·G to W's and G's column sums to b's
        dX, dW, db = self._chain_rule(_core.linear_backward, X.value, W.value)
        self.gradients = {X: dX, W: dW, b: db}


class Sigmoid(_NativeNode):
    """``value = 1 / (1 + exp(-x))``, elementwise, without overflow for any input."""

    def __init__(self, node: Node, name: str | None = None) -> None:
        _NativeNode.__init__(self, [node], name)

    def _sigmoid(self, x: Any) -> np.ndarray:
        """The sigmoid of an array-like (kept from the lesson for learners' code)."""
        with _errors_restated(self, "_sigmoid"):
            return _core.sigmoid_forward(x)

    def forward(self) -> None:
        try:
            self.value = _core.sigmoid_forward(self.inbound_nodes[0].value, self.value)
        except KERNEL_ERRORS as error:
            raise _restated(self, "forward", error) from None

    def backward(self) -> None:
        # each consumer's G adds s·(1 − s)·G to the input's gradient (s is our value)
        (dx,) = self._chain_rule(_core.sigmoid_backward, self.value)
        self.gradients = {self.inbound_nodes[0]: dx}


class MSE(_NativeNode):
    """The mean squared error of ``a`` against the target ``y``: the cost, the graph's last node.

    A 1-D ``y`` and an ``(m, 1)`` ``a`` are compared row by row, as in the lesson, and both get
    ``(m, 1)`` gradients; otherwise ``y`` and ``a`` need the same shape and the mean runs over
    every element. ``value`` is a Python float.
    """

    def __init__(self, y: Node, a: Node, name: str | None = None) -> None:
        _NativeNode.__init__(self, [y, a], name)
        self.m = 0
        self.diff: Any = None  # y − a, an (m, 1) or y-shaped array once forward() has run

    def forward(self) -> None:
        y, a = self.inbound_nodes
        try:
            self.value, self.diff = _core.mse_forward(y.value, a.value, self.diff)
        except KERNEL_ERRORS as error:
            raise _restated(self, "forward", error) from None
        self.m = self.diff.shape[0]

    def backward(self) -> None:
        if self.outbound_nodes:
            readers = ", ".join(c.label for c in self.outbound_nodes)
            raise ValueError(
                f"{self.label} is read by {readers}; MSE is the cost and must be the last node"
            )
        # the cost: backpropagation starts here, 2/m·(y − a) for y and −2/m·(y − a) for a
        y, a = self.inbound_nodes
        try:
            buffers = _core.mse_backward(self.diff, self._buffers, False, self.wanted)
        except KERNEL_ERRORS as error:
            raise _restated(self, "backward", error) from None
        self._buffers = buffers  # written into again next step
        dy, da = buffers if self._distinct_slots else self._summed_by_node(buffers)
        self.gradients = {y: dy, a: da}
