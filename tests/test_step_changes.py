"""The hot path keeps buffers, consumer lists and published gradients from one step to the next.
Whatever a learner does to the fed values between steps (mutate, reassign, reshape in place,
change dtype, pass a list, change the batch) or to the graph (add a consumer), every step must
still match the lesson's plain-numpy MiniFlow."""

import warnings

import numpy as np
import pytest

import miniflow
from miniflow import MSE, Input, Linear, forward_and_backward, sgd_update, topological_sort
from miniflow.node import Node, consumers


def build(lib, rng, batch=11, n_in=13, hidden=10, y_shape=None):
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


def run_both(lesson, change, steps=3, rtol=1e-9, **shape):
    """Train miniflow and the lesson side by side, calling change(inputs, step) on each side's
    [X, y, W1, b1, W2, b2] before every step but the first, and compare after every step."""
    sides = []
    for lib in (miniflow, lesson):
        graph, inputs = build(lib, np.random.default_rng(5), **shape)
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


def new_batch(inputs, step):
    rng = np.random.default_rng(step)
    return rng.standard_normal(np.shape(inputs[0].value)), rng.standard_normal(
        np.shape(inputs[1].value)
    )


def test_values_mutated_in_place(lesson):
    def change(inputs, step):
        X, y = new_batch(inputs, step)
        inputs[0].value[...] = X
        inputs[1].value[...] = y

    run_both(lesson, change)


def test_values_reassigned(lesson):
    def change(inputs, step):
        inputs[0].value, inputs[1].value = new_batch(inputs, step)

    run_both(lesson, change)


def test_values_reshaped_in_place(lesson):
    def change(inputs, step):
        # same arrays, same data, new shapes: y flips between (11,) and (11, 1), b1 between
        # (10,) and (1, 10)
        y, b1 = inputs[1].value, inputs[3].value
        with warnings.catch_warnings():
            # NumPy 2.5 deprecates setting .shape; learners' code still does it, so it is tested
            warnings.filterwarnings("ignore", "Setting the shape", DeprecationWarning)
            y.shape = (11, 1) if y.ndim == 1 else (11,)
            b1.shape = (1, 10) if b1.ndim == 1 else (10,)

    run_both(lesson, change, steps=4)


def test_dtype_changes_between_steps(lesson):
    def change(inputs, step):
        X = inputs[0].value
        inputs[0].value = X.astype(np.float32) if step % 2 else X.astype(np.float64)

    # the lesson keeps dX in X's dtype (zeros_like), so a float32 X rounds its gradient there
    run_both(lesson, change, steps=4, rtol=1e-6)


def test_a_list_value_between_steps(lesson):
    def change(inputs, step):
        X, y = new_batch(inputs, step)
        ours = isinstance(inputs[0], Input)  # the lesson's own nodes need arrays
        inputs[0].value, inputs[1].value = (X.tolist(), list(y)) if ours else (X, y)

    run_both(lesson, change)


def test_batch_size_changes_between_steps(lesson):
    def change(inputs, step):
        batch = [11, 4, 11, 1][step]
        rng = np.random.default_rng(step)
        inputs[0].value, inputs[1].value = (
            rng.standard_normal((batch, 13)),
            rng.standard_normal(batch),
        )

    run_both(lesson, change, steps=4)


def test_float32_buffers_follow_the_dtype_between_steps():
    rng = np.random.default_rng(0)
    graph, inputs = build(miniflow, rng)
    for node in inputs:
        node.value = node.value.astype(np.float32)
    forward_and_backward(graph)
    assert graph[-2].value.dtype == np.float32
    assert inputs[2].gradients[inputs[2]].dtype == np.float32
    for node in inputs:  # the same graph, now in float64: its float32 buffers are not reused
        node.value = node.value.astype(np.float64)
    forward_and_backward(graph)
    assert graph[-2].value.dtype == np.float64
    assert inputs[2].gradients[inputs[2]].dtype == np.float64


def test_a_node_in_two_slots_is_summed_every_step():
    rng = np.random.default_rng(2)
    X, b, y = Input(), Input(), Input()
    cost = MSE(y, Linear(X, X, b))  # X · X + b: X is in two slots (the lesson cannot sort this)
    graph = topological_sort(
        {X: rng.standard_normal((4, 4)), b: rng.standard_normal(4), y: rng.standard_normal((4, 4))}
    )
    for _ in range(3):
        forward_and_backward(graph)
        x, diff = X.value, y.value - (X.value @ X.value + b.value)
        grad = -2 / diff.size * diff
        assert cost.value == pytest.approx(np.mean(diff**2), rel=1e-12)
        np.testing.assert_allclose(X.gradients[X], grad @ x.T + x.T @ grad, rtol=1e-12)
        np.testing.assert_allclose(b.gradients[b], grad.sum(axis=0), rtol=1e-12)
        X.value = X.value * 0.5  # a new array each step


def test_a_consumer_added_after_some_steps_is_counted(lesson):
    results = []
    for lib in (miniflow, lesson):
        rng = np.random.default_rng(3)
        X, W, b, y = (lib.Input() for _ in range(4))
        lib.MSE(y, lib.Linear(X, W, b))
        feed = {
            X: rng.standard_normal((5, 3)),
            W: rng.standard_normal((3, 1)),
            b: np.zeros(1),
            y: rng.standard_normal(5),
        }
        graph = lib.topological_sort(feed)
        for _ in range(2):  # X has one consumer: its gradient is that consumer's buffer
            lib.forward_and_backward(graph)
        W2, b2 = lib.Input(), lib.Input()
        side = lib.Linear(X, W2, b2)  # a second consumer, read by nobody: it sends back zeros
        feed.update({W2: rng.standard_normal((3, 2)), b2: np.zeros(2)})
        graph = lib.topological_sort(feed)
        assert side in graph
        lib.forward_and_backward(graph)
        results.append(np.array(X.gradients[X]))
    np.testing.assert_allclose(results[0], results[1], rtol=1e-12)


def test_an_input_gradient_is_its_single_consumers_buffer():
    graph, inputs = build(miniflow, np.random.default_rng(0))
    X = inputs[0]
    first_linear = X.outbound_nodes[0]
    for _ in range(2):
        forward_and_backward(graph)
        assert X.gradients[X] is first_linear.gradients[X]
        assert list(X.gradients) == [X]


def test_a_learners_node_without_node_init_still_finds_its_consumers():
    class Constant(Node):
        def __init__(self, value):  # skips Node.__init__, as a hurried learner might
            self.inbound_nodes, self.outbound_nodes, self.gradients = [], [], {}
            self.value = np.asarray(value, dtype=float)

        def forward(self):
            pass

        def backward(self):
            self.gradients = {self: sum(c.gradients[self] for c in consumers(self))}

    W, b, y = Input(), Input(), Input()
    c = Constant(np.ones((2, 3)))
    cost = MSE(y, Linear(c, W, b))
    graph = topological_sort({W: np.ones((3, 1)), b: np.zeros(1), y: np.zeros(2)})
    forward_and_backward(graph)
    sgd_update([W, b])
    forward_and_backward(graph)
    assert np.shape(c.gradients[c]) == (2, 3)
    assert np.isfinite(cost.value)
