"""Shared fixtures: the lesson's plain-numpy MiniFlow (tests/reference/, which the benchmarks
time too) as an independent reference."""

import importlib.util
import os
import pathlib
import sys
import types

import pytest

_REFERENCE = pathlib.Path(__file__).parent / "reference"

# jupyter_core warns (an error under filterwarnings) that its folders move in its next major
# release, on the versions that still use the old ones; opting in now silences nothing else.
os.environ.setdefault("JUPYTER_PLATFORM_DIRS", "1")


def _load(name: str) -> types.ModuleType:
    spec = importlib.util.spec_from_file_location(name, _REFERENCE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def lesson() -> types.ModuleType:
    """The lesson's own numpy MiniFlow."""
    return _load("lesson_miniflow")


def pytest_runtest_setup(item: pytest.Item) -> None:
    # Pyodide (sys.platform "emscripten") calls itself POSIX but has no threads or processes
    if item.get_closest_marker("posix_only") is not None and (
        os.name != "posix" or sys.platform == "emscripten"
    ):
        pytest.skip("needs POSIX FIFOs, signals or a POSIX shell")
