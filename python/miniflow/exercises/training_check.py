"""The last exercise: the lesson's network trained with the learner's own pieces, its losses
against MiniFlow's step by step."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..activations import Sigmoid
from ..graph import sgd_update, topological_sort
from ..layers import MSE, Linear
from ..node import Input
from .function_checks import Check
from .harness import Stop, attempt, number, same

PIECES = ("Linear", "Sigmoid", "MSE", "topological_sort", "sgd_update")
BUILT_IN: dict[str, Any] = {
    "Linear": Linear,
    "Sigmoid": Sigmoid,
    "MSE": MSE,
    "topological_sort": topological_sort,
    "sgd_update": sgd_update,
}


def _train(pieces: Mapping[str, Any], steps: int = 8) -> list[float]:
    """The lesson's network trained `steps` steps on fixed data; the loss after each step."""
    rng = np.random.default_rng(16)
    X, y, W1, b1, W2, b2 = (Input() for _ in range(6))
    cost = pieces["MSE"](
        y, pieces["Linear"](pieces["Sigmoid"](pieces["Linear"](X, W1, b1)), W2, b2)
    )
    feed = {X: rng.normal(size=(8, 3)), y: rng.normal(size=8)}
    feed |= {W1: rng.normal(size=(3, 4)), b1: np.zeros(4), W2: rng.normal(size=(4, 1))}
    feed[b2] = np.zeros(1)
    graph = pieces["topological_sort"](feed)
    losses = []
    for _ in range(steps):
        for node in graph:  # the lesson's forward_and_backward, for any learner's nodes
            node.forward()
        for node in reversed(graph):
            node.backward()
        losses.append(float(cost.value))
        pieces["sgd_update"]([W1, b1, W2, b2], 0.5)
    return losses


def _namespace(learner_code: Any) -> dict[str, Any]:
    get = learner_code.get if isinstance(learner_code, Mapping) else vars(learner_code).get
    missing = [name for name in PIECES if get(name) is None]
    if missing:
        raise Stop(
            f"training uses your {', '.join(PIECES)}: {', '.join(missing)} not found "
            "(pass globals(), or the module that defines them)"
        )
    return {name: get(name) for name in PIECES}


def _trains(learner_code: Any) -> None:
    losses = attempt("training", _train, _namespace(learner_code))
    if not losses[-1] < losses[0]:
        raise Stop(
            "the loss does not fall: check each stage before this one",
            f"loss {number(losses[0])} at the first step, {number(losses[-1])} at the last",
        )


def _matches(learner_code: Any) -> None:
    losses = attempt("training", _train, _namespace(learner_code))
    expected = _train(BUILT_IN)
    for step, (mine, want) in enumerate(zip(losses, expected)):
        if not same(mine, want):
            raise Stop(
                "the loss falls, but not as MiniFlow's does: check each stage before this one",
                f"loss {number(mine)} after {step} steps, expected {number(want)}",
            )


TRAINING: list[Check] = [
    ("trains", "the lesson's network trains with your pieces", _trains),
    ("matches", "its losses are MiniFlow's, step by step", _matches),
]
