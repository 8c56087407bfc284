"""Shared fixtures: the lesson's plain-numpy MiniFlow (tests/reference/, which the benchmarks
time too) as an independent reference, and the two-layer networks that several files train
step after step."""

import importlib.util
import os
import pathlib
import sys
import types

import numpy as np
import pytest

import miniflow
from miniflow import MSE, Input, Linear, Sigmoid, topological_sort

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


def _build(lib, rng, batch=11, n_in=13, hidden=10, y_shape=None):
    X, y, W1, b1, W2, b2 = (lib.Input() for _ in range(6))
    lib.MSE(y, lib.Linear(lib.Sigmoid(lib.Linear(X, W1, b1)), W2, b2))
    feed = {
        X: rng.standard_normal((batch, n_in)),
        y: rng.standard_normal(y_shape or (batch,)),
        W1: rng.standard_normal((n_in, hidden)) * 0.5,
        b1: rng.standard_normal(hidden),
        W2: rng.standard_normal((hidden, 1)) * 0.5,
        b2: rng.standard_normal(1),
    }
    return lib.topological_sort(feed), [X, y, W1, b1, W2, b2]


def _run_both(lesson, change, steps=3, rtol=1e-9, **shape):
    """Train miniflow and the lesson side by side, calling change(inputs, step) on each side's
    [X, y, W1, b1, W2, b2] before every step but the first, and compare after every step."""
    sides = []
    for lib in (miniflow, lesson):
        graph, inputs = _build(lib, np.random.default_rng(5), **shape)
        sides.append((lib, graph, inputs))
    for step in range(steps):
        results = []
        for lib, graph, inputs in sides:
            if step:
                change(inputs, step)
            lib.forward_and_backward(graph)
            results.append((graph[-1].value, [np.ravel(n.gradients[n]).copy() for n in inputs]))
            lib.sgd_update(inputs[2:], 0.1)
        (cost, grads), (want_cost, want_grads) = results
        assert cost == pytest.approx(want_cost, rel=rtol)
        for got, want in zip(grads, want_grads):
            np.testing.assert_allclose(got, want, rtol=rtol, atol=1e-12)
    return sides[0][2]


def _two_layer(batch, n_in, hidden, seed=0):
    rng = np.random.default_rng(seed)
    X, y, W1, b1, W2, b2 = (Input() for _ in range(6))
    MSE(y, Linear(Sigmoid(Linear(X, W1, b1)), W2, b2))
    feed = {
        X: rng.standard_normal((batch, n_in)),
        y: rng.standard_normal(batch),
        W1: rng.standard_normal((n_in, hidden)) * 0.1,
        b1: np.zeros(hidden),
        W2: rng.standard_normal((hidden, 1)) * 0.1,
        b2: np.zeros(1),
    }
    return topological_sort(feed), [W1, b1, W2, b2], X, y


@pytest.fixture(scope="session")
def build():
    """build(lib, rng, batch=11, n_in=13, hidden=10, y_shape=None): a two-layer network on
    miniflow or the lesson, returning (graph, [X, y, W1, b1, W2, b2])."""
    return _build


@pytest.fixture(scope="session")
def run_both():
    """run_both(lesson, change, steps=3, rtol=1e-9, **shape): train miniflow and the lesson
    side by side with change(inputs, step) between steps, comparing after every step."""
    return _run_both


@pytest.fixture(scope="session")
def two_layer():
    """two_layer(batch, n_in, hidden, seed=0): a miniflow two-layer network with small weights,
    returning (graph, [W1, b1, W2, b2], X, y)."""
    return _two_layer


def pytest_runtest_setup(item: pytest.Item) -> None:
    # Pyodide (sys.platform "emscripten") calls itself POSIX but has no threads or processes
    if item.get_closest_marker("posix_only") is not None and (
        os.name != "posix" or sys.platform == "emscripten"
    ):
        pytest.skip("needs POSIX FIFOs, signals or a POSIX shell")
