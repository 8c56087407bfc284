"""SGD: sgd_update in place for any layout or float type, and the weights it refuses or replaces."""

import numpy as np
import pytest

from miniflow import MSE, Input, Linear, Node, forward_and_backward, sgd_update, topological_sort


class TransposingDot(Node):
    """A learner's X·W whose backward sends W's gradient transposed: right size, wrong shape."""

    def __init__(self, X, W):
        Node.__init__(self, [X, W])

    def forward(self):
        X, W = self.inbound_nodes
        self.value = X.value @ W.value

    def backward(self):
        X, W = self.inbound_nodes
        G = self.outbound_nodes[0].gradients[self]
        self.gradients = {X: G @ W.value.T, W: (X.value.T @ G).T}


def test_a_gradient_of_the_wrong_shape_is_not_applied_flattened():
    X, W, y = Input(), Input(name="W"), Input()
    MSE(y, TransposingDot(X, W))
    graph = topological_sort({X: np.ones((4, 3)), W: np.ones((3, 1)), y: np.zeros(4)})
    forward_and_backward(graph)
    before = W.value.copy()
    with pytest.raises(
        ValueError,
        match=r"Input 'W' sgd_update: its value has shape \(3, 1\) "
        r"but its gradient has shape \(1, 3\)",
    ):
        sgd_update([W])
    np.testing.assert_array_equal(W.value, before)


def test_a_gradient_that_broadcasts_is_applied_as_the_lessons_minus_equals():
    b = Input(name="b")
    b.value = np.ones((1, 3))
    b.gradients = {b: np.array([1.0, 2.0, 3.0])}  # (3,) onto (1, 3), as numpy's -= allows
    sgd_update([b], 0.5)
    np.testing.assert_array_equal(b.value, [[0.5, 0.0, -0.5]])
    lonely = Input()
    lonely.value = np.ones(2)
    lonely.gradients = {lonely: 0}  # the lesson's gradient of an Input nobody reads
    sgd_update([lonely])
    np.testing.assert_array_equal(lonely.value, [1.0, 1.0])


def weight_layouts():
    rng = np.random.default_rng(8)
    base = rng.standard_normal((3, 2))
    wide = np.zeros((6, 4))
    wide[::2, ::2] = base
    return {
        "fortran": np.asfortranarray(base),
        "strided": wide[::2, ::2],
        "transposed": np.ascontiguousarray(base.T).T,
        "float32 weights, float64 gradients": base.astype(np.float32),
        "float16": base.astype(np.float16),
    }


@pytest.mark.parametrize("layout", list(weight_layouts()))
def test_sgd_updates_every_writable_float_array_in_place(layout):
    W_ = weight_layouts()[layout]
    X, W, b, y = Input(), Input(), Input(), Input()
    MSE(y, Linear(X, W, b))
    rng = np.random.default_rng(9)
    graph = topological_sort(
        {X: rng.standard_normal((5, 3)), W: W_, b: np.zeros(2), y: rng.standard_normal((5, 2))}
    )
    forward_and_backward(graph)
    expected = W_.astype(np.float64) - 0.1 * W.gradients[W].astype(np.float64)
    sgd_update([W], 0.1)
    assert W.value is W_
    assert W_.dtype == weight_layouts()[layout].dtype
    tolerance = {np.dtype(np.float16): 1e-3, np.dtype(np.float32): 1e-6}.get(W_.dtype, 1e-15)
    np.testing.assert_allclose(W_, expected, rtol=tolerance, atol=tolerance)


def test_sgd_updates_float32_weights_in_place():
    W_ = np.ones((2, 1), np.float32)
    X, W, b, y = Input(), Input(), Input(), Input()
    MSE(y, Linear(X, W, b))
    graph = topological_sort(
        {
            X: np.ones((3, 2), np.float32),
            W: W_,
            b: np.zeros(1, np.float32),
            y: np.zeros(3, np.float32),
        }
    )
    forward_and_backward(graph)
    sgd_update([W, b], 0.1)
    assert W.value is W_
    assert W_.dtype == np.float32
    np.testing.assert_allclose(
        W_, [[0.6], [0.6]]
    )  # a = 2, dcost/da = 4/3 per row, dW = 3 rows · 4/3 = 4


def test_a_read_only_weight_array_is_an_error_naming_the_node():
    W_ = np.ones((3, 1))
    W_.flags.writeable = False
    X, W, b, y = Input(), Input(name="W"), Input(), Input()
    MSE(y, Linear(X, W, b))
    graph = topological_sort({X: np.ones((2, 3)), W: W_, b: np.zeros(1), y: np.zeros(2)})
    forward_and_backward(graph)
    with pytest.raises(ValueError, match="Input 'W' sgd_update: its value is a read-only array"):
        sgd_update([W])
    np.testing.assert_array_equal(W_, np.ones((3, 1)))


def test_a_list_or_integer_weight_is_replaced_by_a_float_array():
    X, W, b, y = Input(), Input(), Input(), Input()
    MSE(y, Linear(X, W, b))
    graph = topological_sort(
        {X: np.ones((2, 2)), W: [[1, 2], [3, 4]], b: np.zeros(2, int), y: np.zeros((2, 2))}
    )
    forward_and_backward(graph)
    sgd_update([W, b], 0.1)
    assert W.value.dtype == np.float64
    assert b.value.dtype == np.float64
    assert not np.array_equal(W.value, [[1, 2], [3, 4]])


def test_integer_weights_train():
    X, W, b, y = Input(), Input(), Input(), Input()
    MSE(y, Linear(X, W, b))
    feed = {
        X: np.array([[1, 2], [3, 4]]),
        W: np.array([[1], [2]]),
        b: np.array([0]),
        y: np.array([1, 2]),
    }
    graph = topological_sort(feed)
    forward_and_backward(graph)
    sgd_update([W, b], 0.01)
    assert W.value.dtype == np.float64
    np.testing.assert_allclose(
        W.value, np.array([[1], [2]]) - 0.01 * np.array([[31.0], [44.0]])
    )  # a = [5, 11], dcost/da = [4, 9]


def test_sgd_update_before_backward():
    W = Input(name="W")
    W.value = np.ones(2)
    with pytest.raises(ValueError, match="Input 'W' has no gradient"):
        sgd_update([W])
