"""Sigmoid, Tanh and ReLU as nodes: against numpy, against finite differences, with fan-out,
in the teaching tools, and a learner's broken version of each caught by check_gradients."""

import numpy as np
import pytest

from miniflow import (
    MSE,
    Add,
    Input,
    Linear,
    Node,
    ReLU,
    Sigmoid,
    Tanh,
    check_gradients,
    explain,
    forward_and_backward,
    topological_sort,
)

REFERENCE = {
    Sigmoid: (lambda x: 1 / (1 + np.exp(-x)), lambda v: v * (1 - v)),
    Tanh: (np.tanh, lambda v: 1 - v * v),
    ReLU: (lambda x: np.maximum(x, 0), lambda v: (v > 0).astype(float)),
}
ACTIVATIONS = list(REFERENCE)


def away_from_zero(rng, shape):
    """Inputs at least 0.1 from ReLU's kink, so central differences never straddle it."""
    x = rng.standard_normal(shape)
    return np.where(np.abs(x) < 0.1, np.sign(x + 1e-12) * 0.1 + x, x)


@pytest.mark.parametrize("kind", ACTIVATIONS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_forward_and_backward_against_numpy(kind, dtype):
    rng = np.random.default_rng(1)
    function, derivative = REFERENCE[kind]
    x, y = Input(), Input()
    act = kind(x)
    MSE(y, act)
    x_ = rng.standard_normal((5, 4)).astype(dtype)
    graph = topological_sort({x: x_, y: rng.standard_normal((5, 4)).astype(dtype)})
    forward_and_backward(graph)
    tolerance = 1e-6 if dtype == np.float32 else 1e-13
    assert act.value.dtype == dtype
    np.testing.assert_allclose(
        act.value, function(x_.astype(float)), rtol=tolerance, atol=tolerance
    )
    G = graph[-1].gradients[act]
    np.testing.assert_allclose(
        x.gradients[x], derivative(act.value) * G, rtol=tolerance, atol=tolerance
    )


@pytest.mark.parametrize("kind", ACTIVATIONS)
def test_gradients_against_finite_differences(kind):
    rng = np.random.default_rng(2)
    X, W, b, y = Input(), Input(), Input(), Input()
    MSE(y, kind(Linear(X, W, b)))
    W_ = rng.standard_normal((3, 2))
    X_ = away_from_zero(rng, (4, 3))
    graph = topological_sort({X: X_, W: W_, b: np.full(2, 0.05), y: rng.standard_normal((4, 2))})
    result = check_gradients(graph, verbose=False)
    assert result.ok, str(result)


@pytest.mark.parametrize("kind", ACTIVATIONS)
def test_fan_out_sums_what_both_consumers_send(kind):
    rng = np.random.default_rng(3)
    x, W1, W2, b, y = Input(), Input(), Input(), Input(), Input()
    act = kind(x)
    out = Add(Linear(act, W1, b), Linear(act, W2, b))  # act and b each read by two consumers
    MSE(y, out)
    x_, W1_, W2_ = (
        away_from_zero(rng, (3, 2)),
        rng.standard_normal((2, 1)),
        rng.standard_normal((2, 1)),
    )
    graph = topological_sort({x: x_, W1: W1_, W2: W2_, b: np.zeros(1), y: rng.standard_normal(3)})
    forward_and_backward(graph)
    function, derivative = REFERENCE[kind]
    v = function(x_)
    G = -2 / 3 * (y.value[:, None] - (v @ W1_ + v @ W2_))  # ∂cost/∂out
    np.testing.assert_allclose(
        act.gradients[x], derivative(v) * (G @ W1_.T + G @ W2_.T), rtol=1e-12
    )
    assert check_gradients(graph, verbose=False).ok


def test_explain_writes_each_activations_local_derivative():
    x, y = Input(), Input()
    MSE(y, ReLU(Tanh(Sigmoid(x))))
    graph = topological_sort({x: np.array([[0.3, -0.2]]), y: np.array([[1.0, 0.0]])})
    text = explain(graph)
    assert "∂s1/∂x = s1·(1 − s1)" in text
    assert "∂t1/∂s1 = 1 − t1²" in text
    assert "∂r1/∂t1 = 1 where r1 > 0, else 0" in text


def test_relu_passes_no_gradient_at_zero_and_gives_plus_zero_for_minus_zero():
    x, y = Input(), Input()
    r = ReLU(x)
    MSE(y, r)
    graph = topological_sort({x: np.array([[-1.0, -0.0, 0.0, 2.0]]), y: np.ones((1, 4))})
    forward_and_backward(graph)
    assert list(r.value[0]) == [0.0, 0.0, 0.0, 2.0]
    assert not np.signbit(r.value).any()
    G = graph[-1].gradients[r]
    np.testing.assert_array_equal(x.gradients[x], [[0.0, 0.0, 0.0, G[0, 3]]])


class LearnersTanh(Node):
    """The classic mistake: the derivative from the input, 1 − x², not the output."""

    def __init__(self, x):
        Node.__init__(self, [x])

    def forward(self):
        self.value = np.tanh(self.inbound_nodes[0].value)

    def backward(self):
        (x,) = self.inbound_nodes
        G = sum(c.gradients[self] for c in self.outbound_nodes)
        self.gradients = {x: (1 - x.value**2) * G}


class LearnersReLU(Node):
    """A ReLU that forgot its derivative: it passes G back everywhere."""

    def __init__(self, x):
        Node.__init__(self, [x])

    def forward(self):
        self.value = np.maximum(self.inbound_nodes[0].value, 0)

    def backward(self):
        (x,) = self.inbound_nodes
        self.gradients = {x: sum(c.gradients[self] for c in self.outbound_nodes)}


@pytest.mark.parametrize(
    ("kind", "hint"),
    [
        (LearnersTanh, "uses the input, 1 − x², where the output belongs: 1 − t²"),
        (LearnersReLU, "WRONG"),
    ],
)
def test_a_learners_broken_activation_is_the_node_check_gradients_names(kind, hint):
    rng = np.random.default_rng(4)
    x, y = Input(), Input()
    broken = kind(x)
    MSE(y, broken)
    graph = topological_sort({x: away_from_zero(rng, (3, 2)), y: rng.standard_normal((3, 2))})
    result = check_gradients(graph, verbose=False)
    assert result.first_wrong is broken
    assert hint in str(result)
