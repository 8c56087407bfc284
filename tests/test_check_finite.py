"""forward_and_backward(graph, check_finite=True): the first node whose output is not finite."""

import numpy as np
import pytest

from miniflow import (
    MSE,
    Input,
    Linear,
    Node,
    NonFiniteError,
    Sigmoid,
    forward_and_backward,
    topological_sort,
)


def layer(X_value, W_value, y_value):
    X, W, b, y = Input(name="X"), Input(name="W"), Input(name="b"), Input(name="y")
    cost = MSE(y, Linear(X, W, b, name="l1"))
    graph = topological_sort({X: X_value, W: W_value, b: np.zeros(1), y: y_value})
    return graph, W, cost


def test_an_overflowing_linear_is_named_in_forward():
    X, W, b, y = Input(), Input(), Input(), Input()
    MSE(y, Sigmoid(Linear(X, W, b)))
    graph = topological_sort(
        {
            X: np.array([[1e308, 1e308]]),
            W: np.array([[10.0], [10.0]]),
            b: np.zeros(1),
            y: np.zeros(1),
        }
    )
    with pytest.raises(NonFiniteError) as caught:
        forward_and_backward(graph, check_finite=True)
    error = caught.value
    assert isinstance(error, FloatingPointError)
    assert error.step == "forward"
    assert type(error.node) is Linear
    assert error.inbound is None
    message = str(error)
    assert message.startswith("Linear l1 forward: its value has 0 NaN, 1 Inf of 1 entries")
    assert "    Input X: (1, 2) [[1e+308, 1e+308]]" in message
    assert "    Input W: (2, 1) [[10], [10]]" in message


def test_a_gradient_that_overflows_is_named_in_backward():
    # every value is finite, but dW = Xᵀ·G is 1e300 · 2e10
    graph, W, cost = layer(np.array([[1e300]]), np.array([[1e-300]]), np.array([1e10]))
    with pytest.raises(NonFiniteError) as caught:
        forward_and_backward(graph, check_finite=True)
    error = caught.value
    assert error.step == "backward"
    assert error.node is graph[-2]
    assert error.inbound is W
    message = str(error)
    assert message.startswith("Linear l1 backward: gradients[W] has 0 NaN, 1 Inf of 1 entries")
    assert "  upstream gradients it received:\n    from MSE cost: (1, 1) [[-2e+10]]" in message
    assert np.isfinite(cost.value)


def test_a_fed_nan_names_the_input():
    graph, _, _ = layer(np.array([[np.nan]]), np.array([[1.0]]), np.array([1.0]))
    with pytest.raises(NonFiniteError, match=r"^Input X forward: its fed value has 1 NaN"):
        forward_and_backward(graph, check_finite=True)


def test_a_learners_node_is_named_not_the_nodes_after_it():
    class Sqrt(Node):
        def __init__(self, x):
            Node.__init__(self, [x])

        def forward(self):
            with np.errstate(invalid="ignore"):
                self.value = np.sqrt(self.inbound_nodes[0].value)

        def backward(self):
            x = self.inbound_nodes[0]
            self.gradients = {
                x: sum(0.5 / self.value * n.gradients[self] for n in self.outbound_nodes)
            }

    x, y = Input(name="x"), Input(name="y")
    MSE(y, Sigmoid(Sqrt(x)))
    graph = topological_sort({x: np.array([[4.0], [-1.0]]), y: np.zeros(2)})
    with pytest.raises(NonFiniteError) as caught:
        forward_and_backward(graph, check_finite=True)
    assert type(caught.value.node).__name__ == "Sqrt"
    assert str(caught.value).startswith(
        "Sqrt sqrt1 forward: its value has 1 NaN, 0 Inf of 2 entries"
    )


def test_without_the_flag_nothing_is_checked():
    graph, _, cost = layer(np.array([[1e300]]), np.array([[1e-300]]), np.array([1e10]))
    forward_and_backward(graph)
    assert np.isfinite(cost.value)
