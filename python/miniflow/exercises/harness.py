"""Running a learner's code on generated inputs: building a node, feeding it an upstream
gradient, and turning what it raises or returns into a hint."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..node import Input, Node

NOT_WRITTEN = "not written yet: {what} still raises NotImplementedError"
# how close a learner's array must be to MiniFlow's (float64 inputs throughout)
RTOL, ATOL = 1e-6, 1e-9


class Stop(Exception):
    """A check that cannot go on: its hint (and the failing entry) for the learner."""

    def __init__(self, hint: str, detail: str = "") -> None:
        super().__init__(hint)
        self.hint = hint
        self.detail = detail


def attempt(what: str, run: Callable[..., Any], *args: Any) -> Any:
    """``run(*args)``, with a stub's NotImplementedError or any other error as a ``Stop``."""
    try:
        return run(*args)
    except NotImplementedError:
        raise Stop(NOT_WRITTEN.format(what=what)) from None
    except Exception as error:
        raise Stop(f"{what} raised {type(error).__name__}: {error}") from None


class Consumer(Node):
    """A stand-in for a node that reads the learner's node: it has already sent back `G`."""

    def __init__(self, node: Node, G: np.ndarray) -> None:
        Node.__init__(self, [node], name="consumer")
        self.gradients = {node: G}


def build(kind: type, names: Sequence[str], values: Sequence[Any]) -> tuple[Node, list[Input]]:
    """A node of `kind` reading Inputs named `names` that hold float64 copies of `values`."""
    inputs = [Input(name=name) for name in names]
    for inbound, value in zip(inputs, values):
        inbound.value = np.array(value, dtype=float)
    node: Node = attempt(f"{kind.__name__}(...)", kind, *inputs)
    return node, inputs


def with_consumers(node: Node, upstreams: Sequence[np.ndarray]) -> None:
    """Give `node` one consumer per upstream gradient (replacing any it had)."""
    node.outbound_nodes = []
    for G in upstreams:
        Consumer(node, G)  # which appends itself to node.outbound_nodes


def numbers(what: str, value: Any) -> np.ndarray:
    """`value` as a float64 array, or a ``Stop`` that says what it is instead."""
    if value is None:
        raise Stop(f"{what} is None")
    try:
        return np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise Stop(f"{what} is a {type(value).__name__}, not an array of numbers") from None


def entry_text(index: tuple[int, ...]) -> str:
    return f"[{', '.join(map(str, index))}]" if index else ""


def first_difference(mine: Any, expected: Any) -> tuple[int, ...] | None:
    """The index of the first entry where `mine` and `expected` (same shape) differ, or None."""
    a, b = np.asarray(mine, dtype=float), np.asarray(expected, dtype=float)
    close = np.isclose(a, b, rtol=RTOL, atol=ATOL)
    if close.all():
        return None
    return tuple(int(i) for i in np.argwhere(~close)[0])


def same(mine: Any, expected: Any) -> bool:
    """Whether two arrays hold the same numbers (shapes of the same size compared flat)."""
    try:
        a, b = np.asarray(mine, dtype=float), np.asarray(expected, dtype=float)
    except (TypeError, ValueError):
        return False
    return a.size == b.size and bool(
        np.allclose(a.reshape(-1), b.reshape(-1), rtol=RTOL, atol=ATOL)
    )


def number(x: float) -> str:
    return f"{x:.6g}"


def shape_of(value: Any) -> str:
    shape = np.shape(value)
    return str(shape) if shape else "a scalar"
