"""The lesson's exercises in its order, each with the stub a learner starts from and what
checks their code."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..activations import Sigmoid
from ..layers import MSE, Linear
from ..quiz import Add, Mul
from . import function_checks as functions
from .backward_checks import backward_outcomes
from .node_checks import NodeExercise, forward_outcomes
from .result import Outcome
from .training_check import TRAINING


@dataclass(frozen=True)
class Stage:
    """One exercise.

    Attributes:
        name: what ``check`` is called with (``"sigmoid-backward"``).
        title: the exercise in a few words.
        argument: what the learner passes to ``check``: the name their code defines
            (``"Sigmoid"``), or ``"globals()"`` for the training, which uses all of it.
        stub: the code the learner starts from (the lesson's ``NotImplementedError`` bodies);
            "" when there is nothing new to write.
        run: the checks: learner code in, one ``Outcome`` per check out.
    """

    name: str
    title: str
    argument: str
    stub: str
    run: Callable[[Any], list[Outcome]]


def _normal(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return rng.normal(size=shape)


def _first_two(op: Callable[[Any, Any], Any], word: str) -> tuple[str, Callable[..., Any]]:
    return (
        f"it {word} only the first two inbound nodes: a node reads any number of them",
        lambda *v: op(v[0], v[1]),
    )


ADD = NodeExercise(
    Add,
    ("x", "y", "z"),
    lambda rng: [[10, 5], [4, 5, 10], [_normal(rng, 3, 2) for _ in range(3)]],
    forward_mistakes=(_first_two(np.add, "adds"),),
)
MUL = NodeExercise(
    Mul,
    ("x", "y", "z"),
    lambda rng: [[4, 5], [4, 5, 10], [_normal(rng, 3, 2) for _ in range(3)]],
    forward_mistakes=(_first_two(np.multiply, "multiplies"),),
)
LINEAR = NodeExercise(
    Linear,
    ("X", "W", "b"),
    lambda rng: [
        [[[-1, -2], [-1, -2]], [[2, -3], [2, -3]], [-3, -5]],  # the lesson's: [[-9, 4], [-9, 4]]
        [_normal(rng, 4, 3), _normal(rng, 3, 2), _normal(rng, 2)],
    ],
    # square first, where every transposed product runs and can be told by its numbers
    lambda rng: [
        [_normal(rng, 3, 3), _normal(rng, 3, 3), _normal(rng, 3)],
        [_normal(rng, 4, 3), _normal(rng, 3, 2), _normal(rng, 2)],
    ],
    forward_mistakes=(
        ("the bias b is missing: value = X·W + b", lambda X, W, b: X @ W),
        ("the product's order: X·W, the inputs times the weights", lambda X, W, b: W @ X + b),
    ),
    backward_mistakes={
        "X": (("∂cost/∂X uses W where Wᵀ belongs: it is G·Wᵀ", lambda X, W, b, G: G @ W),),
        "W": (
            ("∂cost/∂W uses X where Xᵀ belongs: it is Xᵀ·G", lambda X, W, b, G: X @ G),
            ("∂cost/∂W is transposed: Xᵀ·G has W's shape", lambda X, W, b, G: G.T @ X),
        ),
        "b": (
            ("∂cost/∂b sums G's columns: sum its rows (axis=0)", lambda X, W, b, G: G.sum(1)),
            ("∂cost/∂b averages G's rows: sum them", lambda X, W, b, G: G.mean(0)),
        ),
    },
)
SIGMOID = NodeExercise(
    Sigmoid,
    ("x",),
    lambda rng: [[[[-9, 4], [-9, 4]]], [_normal(rng, 3, 4) * 3]],
    lambda rng: [[_normal(rng, 3, 4) * 2]],
    forward_mistakes=(
        ("the sign in the exponent: 1 / (1 + e^(−x))", lambda x: 1 / (1 + np.exp(x))),
    ),
)
MSE_COST = NodeExercise(
    MSE,
    ("y", "a"),
    lambda rng: [[[1, 2, 3], [4.5, 5, 10]], [_normal(rng, 5), _normal(rng, 5, 1)]],
    lambda rng: [[_normal(rng, 4), _normal(rng, 4, 1)]],
    forward_mistakes=(
        (
            "y − a broadcasts an (m,) y and an (m, 1) a to an (m, m) table: reshape both to "
            "(-1, 1) first",
            lambda y, a: np.mean((y - a) ** 2),
        ),
        (
            "it sums the squares: the cost is their mean",
            lambda y, a: np.sum((y - a.reshape(y.shape)) ** 2),
        ),
    ),
)

_NODE_STUB = '''class {name}(Node):
    def __init__(self, {args}):
        Node.__init__(self, {inbound})

    def forward(self):
        """{doc}"""
        raise NotImplementedError
'''
_BACKWARD_STUB = '''class {name}({name}):  # your {name} from above, now with backward()
    def backward(self):
        """{doc}"""
        raise NotImplementedError
'''
_FUNCTION_STUB = '''def {signature}:
    """{doc}"""
    raise NotImplementedError
'''


def _node(name: str, args: str, inbound: str, doc: str) -> str:
    return _NODE_STUB.format(name=name, args=args, inbound=inbound, doc=doc)


def _backward(name: str, doc: str) -> str:
    return _BACKWARD_STUB.format(name=name, doc=doc)


def _forward_stage(name: str, title: str, kind: str, exercise: NodeExercise, stub: str) -> Stage:
    return Stage(name, title, kind, stub, lambda code: forward_outcomes(exercise, code))


def _backward_stage(name: str, title: str, kind: str, exercise: NodeExercise, doc: str) -> Stage:
    return Stage(
        name, title, kind, _backward(kind, doc), lambda code: backward_outcomes(exercise, code)
    )


GRADIENTS_DOC = "Set self.gradients: for each inbound node, ∂cost/∂node, summed over the consumers."
STAGES: tuple[Stage, ...] = (
    _forward_stage(
        "add-forward",
        "Add's forward()",
        "Add",
        ADD,
        _node("Add", "*inputs", "inputs", "Set self.value to the sum of the inbound values."),
    ),
    _forward_stage(
        "mul-forward",
        "Mul's forward()",
        "Mul",
        MUL,
        _node("Mul", "*inputs", "inputs", "Set self.value to the product of the inbound values."),
    ),
    Stage(
        "topological-sort",
        "topological_sort(feed_dict)",
        "topological_sort",
        _FUNCTION_STUB.format(
            signature="topological_sort(feed_dict)",
            doc="Sort the nodes with Kahn's algorithm, setting each Input's value from "
            "feed_dict;\n    return the sorted list.",
        ),
        lambda code: functions.run_checks(functions.TOPOLOGICAL_SORT, code),
    ),
    _forward_stage(
        "linear-forward",
        "Linear's forward()",
        "Linear",
        LINEAR,
        _node("Linear", "X, W, b", "[X, W, b]", "Set self.value to X·W + b."),
    ),
    _forward_stage(
        "sigmoid-forward",
        "Sigmoid's forward()",
        "Sigmoid",
        SIGMOID,
        _node("Sigmoid", "node", "[node]", "Set self.value to 1 / (1 + e^(−x)), elementwise."),
    ),
    _forward_stage(
        "mse-forward",
        "MSE's forward()",
        "MSE",
        MSE_COST,
        _node(
            "MSE",
            "y, a",
            "[y, a]",
            "Set self.value to the mean of (y − a)²; keep self.m and self.diff for backward().",
        ),
    ),
    _backward_stage("linear-backward", "Linear's backward()", "Linear", LINEAR, GRADIENTS_DOC),
    _backward_stage("sigmoid-backward", "Sigmoid's backward()", "Sigmoid", SIGMOID, GRADIENTS_DOC),
    _backward_stage(
        "mse-backward",
        "MSE's backward()",
        "MSE",
        MSE_COST,
        "Set self.gradients[y] and self.gradients[a]: the cost's partials (it has no consumer).",
    ),
    Stage(
        "sgd-update",
        "sgd_update(trainables)",
        "sgd_update",
        _FUNCTION_STUB.format(
            signature="sgd_update(trainables, learning_rate=1e-2)",
            doc="Move each trainable's value against its gradient, in place.",
        ),
        lambda code: functions.run_checks(functions.SGD_UPDATE, code),
    ),
    Stage(
        "training",
        "training the lesson's network with your pieces",
        "globals()",
        "",
        lambda code: functions.run_checks(TRAINING, code),
    ),
)
