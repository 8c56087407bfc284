"""The lesson's Linear layer and MSE cost; their arithmetic runs in the core's primitives."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import numpy as np
from numpy import ndarray

from ._core import column_sums, matmul, mse_backward, mse_forward
from .node import Node, inbound_names
from .op import Op


class Linear(Op):
    """``value = X · W + b``: a fully connected layer (numpy.dot's rules for 1-D X or W).

    ``b`` needs exactly one value per column of ``W``; it is never broadcast.
    """

    short_name = "l"
    slot_names = ("X", "W", "b")
    trainable_slots = (1, 2)
    zero_start_slots = (2,)

    def __init__(self, X: Node, W: Node, b: Node, name: str | None = None) -> None:
        Op.__init__(self, [X, W, b], name)

    def forward(self) -> None:
        X, W, b = self.inbound_nodes
        self.value = matmul(X.value, W.value, self.value, False, b.value, self.slot_names)

    def backward(self, needed: Collection[Node] | None = None) -> None:
        X, W, b = self.inbound_nodes
        x, w = X.value, W.value
        matrices = type(x) is ndarray and type(w) is ndarray and x.ndim == 2 == w.ndim
        if not matrices:  # viewed as matrices here; their gradients get their shapes back below
            x, w = _as_matrices(x, w)
        d = self.gradient_sum
        value = self.value  # G has its shape (once forward() has run on these matrices)
        shape = value.shape if matrices and type(value) is ndarray else (x.shape[0], w.shape[1])
        for G in d.upstream(needed, shape):  # each consumer's ∂cost/∂self
            d.add(X, matmul, G, w.T)  # ∂cost/∂X += G·Wᵀ
            d.add(W, matmul, x.T, G)  # ∂cost/∂W += Xᵀ·G
            d.add(b, column_sums, G)  # ∂cost/∂b += the sum of G's rows
        gradients = d.gradients()
        if not matrices:  # a vector's gradient is a vector too (our record keeps the matrices)
            gradients = gradients.copy()
            for node in {X, W} & gradients.keys():
                gradients[node] = np.reshape(gradients[node], np.shape(node.value))
        self.gradients = gradients

    def local_derivatives(self, names: dict[Node, str], cost: str) -> list[str]:
        X, W, b = inbound_names(self, names)
        return [
            f"∂{cost}/∂{X} = G·{W}ᵀ",
            f"∂{cost}/∂{W} = {X}ᵀ·G",
            f"∂{cost}/∂{b} = sum of G's rows",
        ]


def _as_matrices(x: Any, w: Any) -> tuple[np.ndarray, np.ndarray]:
    """X and W as matrices, as numpy.dot reads vectors: a 1-D X is one row, a 1-D W one column."""
    x, w = np.asarray(x), np.asarray(w)
    if x.ndim != 2:
        x = x.reshape(1, -1)
    if w.ndim != 2:
        w = w.reshape(-1, 1)
    return x, w


class MSE(Op):
    """The mean squared error of ``a`` against the target ``y``: the cost, the graph's last node.

    A 1-D ``y`` and an ``(m, 1)`` ``a`` are compared row by row, as in the lesson, and both get
    ``(m, 1)`` gradients; otherwise ``y`` and ``a`` need the same shape and the mean runs over
    every element. ``value`` is a Python float.
    """

    short_name = "cost"
    slot_names = ("y", "a")
    is_cost = True

    def __init__(self, y: Node, a: Node, name: str | None = None) -> None:
        Op.__init__(self, [y, a], name)
        self.diff: Any = None  # y − a, an (m, 1) or y-shaped array once forward() has run

    @property
    def m(self) -> int:
        """The number of rows compared (0 before ``forward()``)."""
        return 0 if self.diff is None else int(self.diff.shape[0])

    def forward(self) -> None:
        y, a = self.inbound_nodes
        self.value, self.diff = mse_forward(y.value, a.value, self.diff)

    def backward(self, needed: Collection[Node] | None = None) -> None:
        if self.outbound_nodes:
            readers = ", ".join(c.label for c in self.outbound_nodes)
            raise ValueError(
                f"{self.label} is read by {readers}; MSE is the cost and must be the last node"
            )
        # the cost: backpropagation starts here, with G = ∂cost/∂cost = 1
        y, a = self.inbound_nodes
        d = self.gradient_sum.start(needed)
        d.add(y, mse_backward, self.diff, 1)  # ∂cost/∂y = 2/m·(y − a)
        d.add(a, mse_backward, self.diff, -1)  # ∂cost/∂a = −2/m·(y − a)
        self.gradients = d.gradients()

    def local_derivatives(self, names: dict[Node, str], cost: str) -> list[str]:
        me = names.get(self, self.label)
        y, a = inbound_names(self, names)
        return [f"∂{me}/∂{y} = 2/m·({y} − {a})   m = {self.m}", f"∂{me}/∂{a} = −2/m·({y} − {a})"]
