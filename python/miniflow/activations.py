"""Elementwise activations: Sigmoid (the lesson's), on the core's kernels.

Each derivative is read from the forward output, so ``backward()`` needs no copy of the input.
Besides what every op declares, an activation's class gives ``check_gradients`` a numpy
``reference`` of its function (to recognise a learner's own version of it) and the classic
``mistakes`` of its backward: (hint, the wrong gradient as a function of x, value and G).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, Callable, ClassVar

import numpy as np

from . import _core
from .node import Node, _errors_restated
from .op import Op

# a classic mistake: the hint, and the gradient a backward with it computes from (x, value, G)
Mistake = tuple[str, Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]]


class Sigmoid(Op):
    """``value = 1 / (1 + exp(-x))``, elementwise, without overflow for any input."""

    short_name = "s"
    mistakes: ClassVar[tuple[Mistake, ...]] = (
        (
            "uses the input, x·(1 − x), where the output belongs: s·(1 − s)",
            lambda x, s, G: x * (1 - x) * G,
        ),
    )

    @staticmethod
    def reference(x: np.ndarray) -> np.ndarray:
        s: np.ndarray = 1 / (1 + np.exp(-x))
        return s

    def __init__(self, node: Node, name: str | None = None) -> None:
        Op.__init__(self, [node], name)

    def _sigmoid(self, x: Any) -> np.ndarray:
        """The sigmoid of an array-like (kept from the lesson for learners' code)."""
        with _errors_restated(self, "_sigmoid"):
            return _core.sigmoid_forward(x)

    def forward(self) -> None:
        self.value = _core.sigmoid_forward(self.inbound_nodes[0].value, self.value)

    def backward(self, needed: Collection[Node] | None = None) -> None:
        (x,) = self.inbound_nodes
        d = self.gradient_sum
        for G in d.upstream(needed):
            d.add(x, _core.sigmoid_backward, self.value, G)  # ∂cost/∂x = s·(1 − s)·G
        self.gradients = d.gradients()

    def local_derivatives(self, names: dict[Node, str], cost: str) -> list[str]:
        me, (x,) = names.get(self, self.label), self.names(names)
        return [f"∂{me}/∂{x} = {me}·(1 − {me})", f"∂{cost}/∂{x} = ∂{me}/∂{x} · G"]

    @staticmethod
    def saturated(value: np.ndarray) -> np.ndarray:
        """The units whose slope s·(1 − s) is below 3% of its peak: s < 0.0075 or s > 0.9925,
        where the gradient has all but vanished."""
        return np.abs(np.asarray(value) - 0.5) > 0.4925


# the built-in activations, for the tools that recognise a learner's own version of one
ACTIVATIONS = (Sigmoid,)
