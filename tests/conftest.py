"""Shared fixtures: the lesson's plain-numpy MiniFlow (tests/reference/, which the benchmarks
time too) as an independent reference, and the two-layer networks that several files train
step after step."""

import importlib.util
import os
import pathlib
import re
import sys
import types

import numpy as np
import pytest

import miniflow
from miniflow import MSE, Add, Input, Linear, Node, Sigmoid, topological_sort

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


def _seed_example():
    X, W, b, y = Input(), Input(), Input(), Input()
    MSE(y, Sigmoid(Linear(X, W, b)))
    feed = {
        X: np.array([[-1.0, -2.0], [-1, -2]]),
        y: np.array([1, 2]),
        W: np.array([[2.0], [3.0]]),
        b: np.array([-3.0]),
    }
    return topological_sort(feed)


@pytest.fixture(scope="session")
def seed_example():
    """seed_example(): the lesson's example graph, MSE(y, Sigmoid(Linear(X, W, b))), sorted
    and not yet run."""
    return _seed_example


class Square(Node):
    """A learner's own node, written the lesson's way in numpy: value = x²."""

    def __init__(self, x):
        Node.__init__(self, [x])

    def forward(self):
        self.value = self.inbound_nodes[0].value ** 2

    def backward(self):
        x = self.inbound_nodes[0]
        self.gradients = {x: np.zeros_like(x.value)}
        for n in self.outbound_nodes:
            self.gradients[x] += 2 * x.value * n.gradients[self]


def _fan_out():
    X, W, b, y = Input(), Input(), Input(), Input()
    l1 = Linear(X, W, b)
    s1, square = Sigmoid(l1), Square(l1)  # l1 has two consumers: their gradients add up
    MSE(y, Add(s1, square))
    rng = np.random.default_rng(7)
    feed = {
        X: rng.standard_normal((3, 2)),
        W: rng.standard_normal((2, 2)),
        b: rng.standard_normal(2),
        y: rng.standard_normal((3, 2)),
    }
    return topological_sort(feed), {"l1": l1, "s1": s1, "square1": square}


@pytest.fixture(scope="session")
def fan_out():
    """fan_out(): a graph where a Linear l1 feeds a Sigmoid s1 and a learner's numpy Square
    (square1), added up into the MSE; returns (graph, {"l1": ..., "s1": ..., "square1": ...})."""
    return _fan_out


_NUMBER = r"-?(?:\d+\.?\d*(?:e[-+]?\d+)?|inf|nan)"


def _assert_shows(text, value, rtol=1e-5):
    """Assert that a tool's summary of a value (``(2, 1) [[1], [2]]``, ``2.5``, or for a larger
    array ``(11, 10) [a, b, …] min x, mean y, max z``) states its shape and numbers."""
    array = np.asarray(value, dtype=float)
    shape = re.match(r"\(([\d, ]*)\) ", text)
    if shape is None:
        assert array.shape == ()
        np.testing.assert_allclose(float(text.split()[0]), array, rtol=rtol)
        return
    assert tuple(int(s) for s in shape[1].split(",") if s.strip()) == array.shape, text
    shown, _, stats = text[shape.end() :].partition("…]")
    entries = [float(x) for x in re.findall(_NUMBER, shown)]
    np.testing.assert_allclose(entries, array.ravel()[: len(entries)], rtol=rtol, atol=1e-12)
    if len(entries) < array.size:
        stated = [float(x) for x in re.findall(_NUMBER, stats)]
        want = [array.min(), array.mean(), array.max()]
        np.testing.assert_allclose(stated, want, rtol=rtol, atol=1e-12)
    else:
        assert not stats, text


@pytest.fixture(scope="session")
def assert_shows():
    """assert_shows(text, value): the summary ``text`` states value's shape and numbers."""
    return _assert_shows
