"""The lesson as exercises: check a learner's own code, stage by stage, and hint without
giving the answer.

    >>> from miniflow import Sigmoid
    >>> from miniflow.exercises import check, stages
    >>> stages()[:3]
    ['add-forward', 'mul-forward', 'topological-sort']
    >>> result = check("sigmoid-backward", Sigmoid)  # a learner passes their own Sigmoid class
    >>> result.passed, result.hints  # print(result) for the whole report
    (True, [])

Each stage runs the learner's class or function on generated inputs against MiniFlow's own
op; a backward is checked by finite differences of the learner's own forward that tell noise
from a mistake (see ``miniflow.differences``), and the classic mistakes get their own hints.
A report never shows a reference implementation, and an expected number only for the one
failing entry it names. For teachers: ``miniflow exercises --notebook DIR`` writes the
exercise notebook, and ``miniflow.exercises.pytest_plugin`` grades a learner's file with
pytest (JSON for otter-grader/Gradescope, partial credit for nbgrader).
"""

from __future__ import annotations

from typing import Any

from .result import Outcome, Result
from .stages import STAGES, Stage

__all__ = ["check", "stages", "stage", "Result", "Outcome", "Stage"]


def stages() -> list[str]:
    """The exercises' names, in the lesson's order."""
    return [s.name for s in STAGES]


def stage(name: str) -> Stage:
    """The exercise called `name` (its title, its stub, what ``check`` takes)."""
    for s in STAGES:
        if s.name == name:
            return s
    raise ValueError(f"no exercise called {name!r}; the exercises are: {', '.join(stages())}")


def check(name: str, learner_code: Any) -> Result:
    """Check the learner's code for exercise `name` (see ``stages()``).

    Args:
        name: the exercise, e.g. ``"sigmoid-backward"``.
        learner_code: what the exercise asks for: the learner's ``Node`` subclass (their
            ``Sigmoid``), their function (``topological_sort``, ``sgd_update``), or for
            ``"training"`` their namespace (``globals()``, or their module).

    Returns:
        a ``Result``: ``passed``, ``hints`` (one per failed check) and, as ``str()``, the report
        the learner reads. Nothing is printed.
    """
    exercise = stage(name)
    return Result(exercise.name, exercise.run(learner_code))
