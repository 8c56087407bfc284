"""Add and Mul from the lesson's early quizzes: numpy arithmetic with broadcasting, and a
backward."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from .node import Node, _errors_restated, _inbound_values, consumers, sent_back


def _unbroadcast(grad: Any, shape: tuple[int, ...]) -> Any:
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

    def _local_gradients(self, values: list[Any], upstream: Any) -> list[Any]:
        raise NotImplementedError

    def backward(self) -> None:
        values = [node.value for node in self.inbound_nodes]
        gradients: dict[Node, Any] = {}
        for node, value in zip(self.inbound_nodes, values):
            gradients[node] = np.zeros(np.shape(value))
        for consumer in consumers(self):
            local = self._local_gradients(values, sent_back(self, consumer))
            for node, value, grad in zip(self.inbound_nodes, values, local):
                # a node in two slots (Mul(x, x)) gets both contributions
                gradients[node] = gradients[node] + _unbroadcast(grad, np.shape(value))
        self.gradients = gradients


class Add(_ElementwiseQuizNode):
    """The sum of the inbound values: ``Add(x, y, z)``."""

    def __init__(self, *inputs: Node, name: str | None = None) -> None:
        Node.__init__(self, inputs, name=name)

    def forward(self) -> None:
        with _errors_restated(self, "forward"):
            self.value = functools.reduce(np.add, _inbound_values(self))

    def _local_gradients(self, values: list[Any], upstream: Any) -> list[Any]:
        return [upstream for _ in values]


class Mul(_ElementwiseQuizNode):
    """The product of the inbound values: ``Mul(x, y, z)``."""

    def __init__(self, *inputs: Node, name: str | None = None) -> None:
        Node.__init__(self, inputs, name=name)

    def forward(self) -> None:
        with _errors_restated(self, "forward"):
            self.value = functools.reduce(np.multiply, _inbound_values(self))

    def _local_gradients(self, values: list[Any], upstream: Any) -> list[Any]:
        # d(prod)/d(v_i) is the product of every other factor
        return [
            functools.reduce(np.multiply, values[:i] + values[i + 1 :], upstream)
            for i in range(len(values))
        ]
