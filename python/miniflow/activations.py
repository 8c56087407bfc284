"""Elementwise activations: Sigmoid (the lesson's), Tanh and ReLU, each on the core's kernels.

Each is one class that names its two kernels, its derivative in the lesson's notation, how to
tell a saturated unit, a numpy ``reference`` of its function (so ``check_gradients`` recognises
a learner's own version of it) and the classic ``mistakes`` of its backward. The chain rule is
the same for all three and written once, in ``Activation``: the derivative is read from the
forward output, so ``backward()`` needs no copy of the input.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, Callable, ClassVar

import numpy as np

from . import _core
from .node import Node, _errors_restated, inbound_names
from .op import Op

# a classic mistake: the hint, and the gradient a backward with it computes from (x, value, G)
Mistake = tuple[str, Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]]


class Activation(Op):
    """An elementwise ``value = f(x)`` whose derivative f′ is a function of the value."""

    # value = forward_kernel(x, out); ∂cost/∂x (+)= backward_kernel(value, G, out, accumulate)
    forward_kernel: ClassVar[Callable[..., Any]]
    backward_kernel: ClassVar[Callable[..., Any]]
    derivative: ClassVar[str]  # f′ in terms of the value, as explain writes it: "{v}·(1 − {v})"
    mistakes: ClassVar[tuple[Mistake, ...]] = ()
    # what health calls the units `saturated` marks, and what to try when there are many
    saturation_word: ClassVar[str] = "saturated"
    saturation_advice: ClassVar[str] = (
        "scale the initial weights by 1/√fan-in or standardise the inputs"
    )

    def __init__(self, node: Node, name: str | None = None) -> None:
        Op.__init__(self, [node], name)

    def forward(self) -> None:
        self.value = type(self).forward_kernel(self.inbound_nodes[0].value, self.value)

    def backward(self, needed: Collection[Node] | None = None) -> None:
        (x,) = self.inbound_nodes
        d = self.gradient_sum
        for G in d.upstream(needed):  # each consumer's ∂cost/∂self
            d.add(x, type(self).backward_kernel, self.value, G)  # ∂cost/∂x += f′·G
        self.gradients = d.gradients()

    def local_derivatives(self, names: dict[Node, str], cost: str) -> list[str]:
        me, (x,) = names.get(self, self.label), inbound_names(self, names)
        return [f"∂{me}/∂{x} = {self.derivative.format(v=me)}", f"∂{cost}/∂{x} = ∂{me}/∂{x} · G"]

    @staticmethod
    def reference(x: np.ndarray) -> np.ndarray:
        """f(x) in numpy, for recognising a learner's own version of this activation."""
        raise NotImplementedError

    @staticmethod
    def saturated(value: np.ndarray) -> np.ndarray:
        """A boolean mask of the units whose gradient has all but vanished."""
        raise NotImplementedError


class Sigmoid(Activation):
    """``value = 1 / (1 + exp(-x))``, elementwise, without overflow for any input;
    ``∂cost/∂x = s·(1 − s)·G``."""

    short_name = "s"
    forward_kernel = _core.sigmoid_forward
    backward_kernel = _core.sigmoid_backward
    derivative = "{v}·(1 − {v})"
    mistakes = (
        (
            "uses the input, x·(1 − x), where the output belongs: s·(1 − s)",
            lambda x, s, G: x * (1 - x) * G,
        ),
    )

    def _sigmoid(self, x: Any) -> np.ndarray:
        """The sigmoid of an array-like (kept from the lesson for learners' code)."""
        with _errors_restated(self, "_sigmoid"):
            return _core.sigmoid_forward(x)

    @staticmethod
    def reference(x: np.ndarray) -> np.ndarray:
        s: np.ndarray = 1 / (1 + np.exp(-x))
        return s

    @staticmethod
    def saturated(value: np.ndarray) -> np.ndarray:
        """s < 0.0075 or s > 0.9925: the slope s·(1 − s) is under 3% of its peak."""
        mask: np.ndarray = np.abs(np.asarray(value) - 0.5) > 0.4925
        return mask


class Tanh(Activation):
    """``value = tanh(x)``, elementwise; ``∂cost/∂x = (1 − t²)·G``."""

    short_name = "t"
    forward_kernel = _core.tanh_forward
    backward_kernel = _core.tanh_backward
    derivative = "1 − {v}²"
    mistakes = (
        (
            "uses the input, 1 − x², where the output belongs: 1 − t²",
            lambda x, t, G: (1 - x * x) * G,
        ),
    )

    @staticmethod
    def reference(x: np.ndarray) -> np.ndarray:
        t: np.ndarray = np.tanh(x)
        return t

    @staticmethod
    def saturated(value: np.ndarray) -> np.ndarray:
        """|t| > 0.97: the slope 1 − t² is under 6% of its peak."""
        mask: np.ndarray = np.abs(np.asarray(value)) > 0.97
        return mask


class ReLU(Activation):
    """``value = max(x, 0)``, elementwise; ``∂cost/∂x = G`` where the value is positive, else 0.

    Its derivative at exactly 0 is taken as 0 (as PyTorch and TensorFlow do): a unit at 0
    passes no gradient, and finite differences across 0 see a kink (``kinks``).
    """

    short_name = "r"
    kinks = (0.0,)
    saturation_word = "dead"
    saturation_advice = "start the biases before it at 0 (or just above) or lower the learning rate"
    forward_kernel = _core.relu_forward
    backward_kernel = _core.relu_backward
    derivative = "1 where {v} > 0, else 0"

    @staticmethod
    def reference(x: np.ndarray) -> np.ndarray:
        r: np.ndarray = np.maximum(x, 0)
        return r

    @staticmethod
    def saturated(value: np.ndarray) -> np.ndarray:
        """The units dead for every row of the batch (0 everywhere): they pass no gradient."""
        value = np.asarray(value)
        return np.asarray((value <= 0).all(axis=0) if value.ndim == 2 else value <= 0)


# the built-in activations, for the tools that recognise a learner's own version of one
ACTIVATIONS: tuple[type[Activation], ...] = (Sigmoid, Tanh, ReLU)
