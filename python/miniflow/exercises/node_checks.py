"""What a node exercise checks a learner's class against, and the check of its forward():
the value against MiniFlow's op on every case, with a hint for each classic mistake."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..node import Node
from .harness import (
    Stop,
    attempt,
    build,
    entry_text,
    first_difference,
    number,
    numbers,
    same,
    shape_of,
)
from .result import Outcome

Values = list[Any]
# (hint, what a node with that mistake computes from the inputs' values [and G])
Mistake = tuple[str, Callable[..., Any]]


@dataclass(frozen=True)
class NodeExercise:
    """What a node stage checks a learner's class against.

    Attributes:
        reference: MiniFlow's own op (its ``forward`` and ``backward`` give the expected
            numbers; its ``is_cost`` says whether consumers can read it, its ``mistakes`` are
            the classic ones of an activation's backward).
        names: the inputs' names in slot order (``("X", "W", "b")``).
        cases: the inputs' values to run forward on.
        backward_cases: the inputs' values to run backward on (none: a forward-only op).
        forward_mistakes: hints for a forward that computes one of these instead.
        backward_mistakes: per input name, hints for a gradient computed like this from the
            inputs' values and G.
    """

    reference: type[Node]
    names: tuple[str, ...]
    cases: Callable[[np.random.Generator], list[Values]]
    backward_cases: Callable[[np.random.Generator], list[Values]] = lambda rng: []
    forward_mistakes: tuple[Mistake, ...] = ()
    backward_mistakes: dict[str, tuple[Mistake, ...]] = field(default_factory=dict)

    def run_forward(self, kind: type, values: Values) -> Node:
        node, _ = build(kind, self.names[: len(values)], values)
        attempt("forward()", node.forward)
        return node


FORWARD = "forward() matches MiniFlow's"


def forward_outcomes(exercise: NodeExercise, kind: type) -> list[Outcome]:
    """The forward stage: one check, on every case."""
    try:
        for values in exercise.cases(np.random.default_rng(16)):
            _check_value(exercise, kind, values)
    except Stop as stop:
        return [Outcome("forward", FORWARD, False, stop.hint, stop.detail)]
    return [Outcome("forward", FORWARD, True)]


def _check_value(exercise: NodeExercise, kind: type, values: Values) -> None:
    mine = numbers("self.value after forward()", exercise.run_forward(kind, values).value)
    expected = np.asarray(exercise.run_forward(exercise.reference, values).value, dtype=float)
    shapes = ", ".join(f"{n} {shape_of(v)}" for n, v in zip(exercise.names, values))
    hint = next((h for h, wrong in exercise.forward_mistakes if computes(mine, wrong, values)), "")
    if np.shape(mine) != np.shape(expected):
        raise Stop(
            hint or f"value has shape {shape_of(mine)}, MiniFlow's {shape_of(expected)}",
            f"(inputs: {shapes})",
        )
    index = first_difference(mine, expected)
    if index is not None:
        raise Stop(
            hint or "value differs from MiniFlow's",
            f"value{entry_text(index)} is {number(mine[index])}, "
            f"expected {number(expected[index])} (inputs: {shapes})",
        )


def computes(mine: Any, wrong: Callable[..., Any], values: Values, *more: Any) -> bool:
    """Whether `mine` is what the mistake computes from the inputs' values (and `more`, as G);
    a mistake that cannot run on them is not it."""
    try:
        with np.errstate(all="ignore"):
            candidate = wrong(*(np.asarray(v, dtype=float) for v in values), *more)
    except (ValueError, TypeError, IndexError):
        return False
    return bool(np.shape(candidate) == np.shape(mine)) and same(mine, candidate)
