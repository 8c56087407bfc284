"""Every node's backward against central finite differences of the cost."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from miniflow import MSE, Add, Input, Linear, Mul, Sigmoid, forward_and_backward, topological_sort


def numeric_gradient(graph, node, eps=1e-6):
    """Central differences of graph[-1].value with respect to each entry of node.value."""
    value = node.value
    grad = np.zeros_like(value, dtype=float)
    for index in np.ndindex(value.shape):
        original = value[index]
        value[index] = original + eps
        forward_and_backward(graph)
        plus = graph[-1].value
        value[index] = original - eps
        forward_and_backward(graph)
        minus = graph[-1].value
        value[index] = original
        grad[index] = (plus - minus) / (2 * eps)
    forward_and_backward(graph)
    return grad


def check(feed_dict, inputs, rtol=1e-5, atol=1e-8):
    graph = topological_sort(feed_dict)
    forward_and_backward(graph)
    analytic = {t: np.array(t.gradients[t], dtype=float) for t in inputs}
    for t in inputs:
        expected = numeric_gradient(graph, t)
        np.testing.assert_allclose(
            analytic[t].reshape(expected.shape), expected, rtol=rtol, atol=atol
        )


@given(m=st.integers(1, 5), k=st.integers(1, 5), n=st.integers(1, 4), seed=st.integers(0, 2**31))
@settings(max_examples=25, deadline=None)
def test_linear_sigmoid_mse(m, k, n, seed):
    rng = np.random.default_rng(seed)
    X, W, b, y = Input(), Input(), Input(), Input()
    MSE(y, Sigmoid(Linear(X, W, b)))
    feed = {
        X: rng.standard_normal((m, k)),
        W: rng.standard_normal((k, n)),
        b: rng.standard_normal(n),
        y: rng.standard_normal((m, n)),
    }
    check(feed, [X, W, b, y])


def test_mse_with_a_1d_target():
    rng = np.random.default_rng(3)
    y, a = Input(), Input()
    MSE(y, a)
    check({y: rng.standard_normal(6), a: rng.standard_normal((6, 1))}, [y, a])


def test_linear_with_vectors():
    rng = np.random.default_rng(4)
    x, w, b, y = Input(), Input(), Input(), Input()
    MSE(y, Linear(x, w, b))  # 1-D x and 1-D w: a scalar output
    check(
        {
            x: rng.standard_normal(4),
            w: rng.standard_normal(4),
            b: np.array(0.3),
            y: np.array([1.0]),
        },
        [x, w, b],
    )


def test_node_in_two_linear_slots_gets_the_sum():
    rng = np.random.default_rng(5)
    A, b, y = Input(), Input(), Input()
    MSE(y, Sigmoid(Linear(A, A, b)))
    check(
        {A: rng.standard_normal((3, 3)), b: rng.standard_normal(3), y: rng.standard_normal((3, 3))},
        [A, b],
    )


def test_mul_of_a_node_with_itself():
    x, y = Input(), Input()
    MSE(y, Mul(x, x))
    check({x: np.array([[1.5], [-2.0], [0.5]]), y: np.array([1.0, 2.0, 3.0])}, [x])


def test_add_and_mul_with_broadcasting():
    rng = np.random.default_rng(6)
    x, s, y = Input(), Input(), Input()
    MSE(y, Add(Mul(x, s), x))
    check({x: rng.standard_normal((4, 1)), s: np.array([2.0]), y: rng.standard_normal(4)}, [x, s])


def test_fan_out_and_tied_weights():
    rng = np.random.default_rng(7)
    X, W1, b1, W2, b2, b3, y = (Input() for _ in range(7))
    hidden = Sigmoid(Linear(X, W1, b1))
    left = Sigmoid(Linear(hidden, W2, b2))  # hidden feeds two layers that share W2
    right = Sigmoid(Linear(hidden, W2, b3))
    MSE(left, Mul(right, y))
    feed = {
        X: rng.standard_normal((5, 3)),
        W1: rng.standard_normal((3, 4)),
        b1: rng.standard_normal(4),
        W2: rng.standard_normal((4, 2)),
        b2: rng.standard_normal(2),
        b3: rng.standard_normal(2),
        y: rng.standard_normal((5, 2)),
    }
    check(feed, [X, W1, b1, W2, b2, b3, y])


@pytest.mark.parametrize("x", [-1000.0, -30.0, 0.0, 30.0, 1000.0])
def test_sigmoid_extremes_have_finite_gradients(x):
    v, y = Input(), Input()
    cost = MSE(y, Sigmoid(v))
    graph = topological_sort({v: np.array([x]), y: np.array([0.5])})
    forward_and_backward(graph)
    assert np.isfinite(cost.value)
    assert np.all(np.isfinite(v.gradients[v]))
