"""Grading a learner's file with pytest, in a course's own repository.

The plugin is loaded by the course, not installed into every pytest run (so it never touches
a project that did not ask for it): the course's ``conftest.py`` says

    pytest_plugins = ["miniflow.exercises.pytest_plugin"]

and its tests take the ``learner`` fixture (the learner's file, imported) and ``exercise``
(``exercise(stage, code)`` checks, and fails the test with the learner's report):

    def test_sigmoid_backward(learner, exercise):
        exercise("sigmoid-backward", learner.Sigmoid)

    pytest --learner=submissions/alice/miniflow.py --miniflow-results=results.json

``--miniflow-results FILE`` writes a score and the hint of every check, in the results format
of Gradescope's autograders, which otter-grader writes as well (``{"score": ..., "tests":
[{"name", "score", "max_score", "output"}]}``). For nbgrader, end a grade cell with
``check(stage, code).grade(points)``: nbgrader reads the number as partial credit.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from .._files import replace_file
from . import check
from .result import Result

_RESULTS = pytest.StashKey[list[Result]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("miniflow exercises")
    group.addoption("--learner", metavar="FILE", help="the learner's file, for the learner fixture")
    group.addoption(
        "--miniflow-results",
        metavar="FILE",
        help="write each exercise check's score and hint as JSON (Gradescope/otter-grader)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_RESULTS] = []


@pytest.fixture(scope="session")
def learner(pytestconfig: pytest.Config) -> ModuleType:
    """The learner's file given with ``--learner FILE``, imported as a module."""
    path = pytestconfig.getoption("learner")
    if not path:
        raise pytest.UsageError("give the learner's file with --learner FILE")
    spec = importlib.util.spec_from_file_location("learner", path)
    if spec is None or spec.loader is None or not Path(path).is_file():
        raise pytest.UsageError(f"--learner {path}: no such Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("learner", module)  # dataclasses and pickling look modules up
    try:
        spec.loader.exec_module(module)
    except Exception as error:  # the learner's mistake, reported as theirs: no traceback of ours
        pytest.fail(f"importing {path} raised {type(error).__name__}: {error}", pytrace=False)
    return module


@pytest.fixture
def exercise(pytestconfig: pytest.Config) -> Callable[[str, Any], Result]:
    """``exercise(stage, code)``: check the learner's code for that stage, record the result
    for ``--miniflow-results``, and fail the test with the learner's report if a check fails."""

    def run(stage: str, code: Any) -> Result:
        result = check(stage, code)
        pytestconfig.stash[_RESULTS].append(result)
        if not result.passed:
            pytest.fail(str(result), pytrace=False)
        return result

    return run


def pytest_sessionfinish(session: pytest.Session) -> None:
    path = session.config.getoption("miniflow_results")
    if not path:
        return
    tests = [test for result in session.config.stash[_RESULTS] for test in result.tests()]
    report = {"score": sum(t["score"] for t in tests), "tests": tests}
    with replace_file(path) as file:
        file.write((json.dumps(report, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
