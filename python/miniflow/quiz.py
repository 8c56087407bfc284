"""Add and Mul from the lesson's early quizzes: numpy arithmetic with broadcasting, and a
backward."""

from __future__ import annotations

import functools
from collections.abc import Collection
from typing import Any

import numpy as np

from .node import Node, _inbound_values, inbound_names
from .op import Op


def _unbroadcast(grad: Any, shape: tuple[int, ...]) -> Any:
    """Sum a broadcast gradient back down to an input's shape."""
    grad = np.asarray(grad)
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and grad.shape[axis] != 1:
            grad = grad.sum(axis=axis, keepdims=True)
    return grad


class Add(Op):
    """The sum of the inbound values: ``Add(x, y, z)``."""

    short_name = "add"

    def __init__(self, *inputs: Node, name: str | None = None) -> None:
        Op.__init__(self, inputs, name)

    def forward(self) -> None:
        self.value = functools.reduce(np.add, _inbound_values(self))

    def backward(self, needed: Collection[Node] | None = None) -> None:
        d = self.gradient_sum
        for G in d.upstream(needed):
            for x in self.inbound_nodes:  # ∂cost/∂x = G (summed back to x's shape)
                d.add_array(x, _unbroadcast(G, np.shape(x.value)))
        self.gradients = d.gradients()

    def local_derivatives(self, names: dict[Node, str], cost: str) -> list[str]:
        me, args = names.get(self, self.label), inbound_names(self, names)
        # a node in k slots gets k times the upstream gradient
        return [
            f"∂{me}/∂{x} = {args.count(x)}, so ∂{cost}/∂{x} = "
            + ("G" if args.count(x) == 1 else f"{args.count(x)}·G")
            for x in dict.fromkeys(args)
        ]


class Mul(Op):
    """The product of the inbound values: ``Mul(x, y, z)``."""

    short_name = "mul"

    def __init__(self, *inputs: Node, name: str | None = None) -> None:
        Op.__init__(self, inputs, name)

    def forward(self) -> None:
        self.value = functools.reduce(np.multiply, _inbound_values(self))

    def backward(self, needed: Collection[Node] | None = None) -> None:
        values = [x.value for x in self.inbound_nodes]
        d = self.gradient_sum
        for G in d.upstream(needed):
            for i, x in enumerate(self.inbound_nodes):
                # ∂cost/∂x = G times the product of every other factor
                others = functools.reduce(np.multiply, values[:i] + values[i + 1 :], G)
                d.add_array(x, _unbroadcast(others, np.shape(x.value)))
        self.gradients = d.gradients()

    def local_derivatives(self, names: dict[Node, str], cost: str) -> list[str]:
        me, args = names.get(self, self.label), inbound_names(self, names)
        lines = []
        for x in dict.fromkeys(args):
            # one product of the other factors per slot x fills
            terms = [
                "·".join(args[:i] + args[i + 1 :]) or "1" for i, a in enumerate(args) if a == x
            ]
            local = " + ".join(terms)
            chain = f"{local}·G" if len(terms) == 1 else f"({local})·G"
            lines.append(f"∂{me}/∂{x} = {local}, so ∂{cost}/∂{x} = {chain}")
        return lines
