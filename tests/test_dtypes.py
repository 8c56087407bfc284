"""dtype rules, strided and Fortran-ordered views, and a learner's own numpy Node."""

import numpy as np
import pytest

from miniflow import (
    MSE,
    Input,
    Linear,
    Node,
    Sigmoid,
    forward_and_backward,
    sgd_update,
    topological_sort,
)


def run_network(X_, W_, b_, y_):
    X, W, b, y = Input(), Input(), Input(), Input()
    hidden = Sigmoid(Linear(X, W, b))
    cost = MSE(y, hidden)
    graph = topological_sort({X: X_, W: W_, b: b_, y: y_})
    forward_and_backward(graph)
    return cost, hidden, {n: n.gradients[n] for n in (X, W, b, y)}


def test_all_float32_stays_float32():
    rng = np.random.default_rng(0)
    f32 = lambda *shape: rng.standard_normal(shape).astype(np.float32)  # noqa: E731
    cost, hidden, grads = run_network(f32(4, 3), f32(3, 1), f32(1), f32(4))
    assert hidden.value.dtype == np.float32
    assert all(g.dtype == np.float32 for g in grads.values())
    assert isinstance(cost.value, float)


def test_float32_matches_float64_to_single_precision():
    rng = np.random.default_rng(1)
    values = [
        rng.standard_normal((5, 3)),
        rng.standard_normal((3, 1)),
        rng.standard_normal(1),
        rng.standard_normal(5),
    ]
    cost64, _, grads64 = run_network(*values)
    cost32, _, grads32 = run_network(*(v.astype(np.float32) for v in values))
    assert cost32.value == pytest.approx(cost64.value, rel=1e-5)
    for g32, g64 in zip(grads32.values(), grads64.values()):
        np.testing.assert_allclose(g32, g64, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize(
    "dtypes",
    [
        (np.float32, np.float64),
        (np.float32, np.int64),
        (np.int32, np.int32),
        (np.bool_, np.float32),
    ],
)
def test_mixed_integer_and_bool_operands_compute_in_float64(dtypes):
    x_dtype, w_dtype = dtypes
    X, W, b = Input(), Input(), Input()
    layer = Linear(X, W, b)
    graph = topological_sort(
        {X: np.ones((2, 2), x_dtype), W: np.ones((2, 2), w_dtype), b: np.zeros(2, np.float32)}
    )
    forward_and_backward(graph)
    assert layer.value.dtype == np.float64
    np.testing.assert_array_equal(layer.value, np.full((2, 2), 2.0))


def test_python_numbers_do_not_widen_float32():
    X, W, b = Input(), Input(), Input()
    layer = Linear(X, W, b)
    graph = topological_sort(
        {X: np.ones((2, 1), np.float32), W: np.ones((1, 1), np.float32), b: 0.5}
    )
    forward_and_backward(graph)
    assert layer.value.dtype == np.float32
    np.testing.assert_array_equal(layer.value, [[1.5], [1.5]])


def test_strided_fortran_and_byteswapped_views_match_contiguous_arrays():
    rng = np.random.default_rng(2)
    big = rng.standard_normal((12, 9))
    X_view = big[::2, 1:7:2]  # (6, 3), strided in both axes
    W_fortran = np.asfortranarray(rng.standard_normal((3, 2)))
    b_reversed = rng.standard_normal(4)[::-2]  # negative stride, 2 values
    y_swapped = rng.standard_normal((6, 2)).astype(">f8")
    _, hidden, grads = run_network(X_view, W_fortran, b_reversed, y_swapped)
    _, reference, reference_grads = run_network(
        np.ascontiguousarray(X_view),
        np.ascontiguousarray(W_fortran),
        np.ascontiguousarray(b_reversed),
        y_swapped.astype("<f8"),
    )
    np.testing.assert_array_equal(hidden.value, reference.value)
    for g, r in zip(grads.values(), reference_grads.values()):
        np.testing.assert_array_equal(g, r)


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


class Square(Node):
    """A learner's node written the lesson's way, in plain numpy."""

    def __init__(self, node):
        Node.__init__(self, [node])

    def forward(self):
        self.value = self.inbound_nodes[0].value ** 2

    def backward(self):
        x = self.inbound_nodes[0]
        self.gradients = {x: np.zeros_like(x.value)}
        for n in self.outbound_nodes:
            self.gradients[x] += 2 * x.value * n.gradients[self]


def test_custom_numpy_node_between_native_nodes(lesson):
    rng = np.random.default_rng(3)
    values = [
        rng.standard_normal((4, 3)),
        rng.standard_normal((3, 2)),
        rng.standard_normal(2),
        rng.standard_normal((2, 1)),
        rng.standard_normal(1),
        rng.standard_normal(4),
    ]
    grads = []
    for lib, square in ((__import__("miniflow"), Square), (lesson, None)):
        X, W1, b1, W2, b2, y = (lib.Input() for _ in range(6))
        if square is None:

            class LessonSquare(lesson.Node):  # the same node on the reference library
                def __init__(self, node):
                    lesson.Node.__init__(self, [node])

                forward = Square.forward
                backward = Square.backward

            square = LessonSquare
        hidden = square(lib.Linear(X, W1, b1))
        lib.MSE(y, lib.Linear(lib.Sigmoid(hidden), W2, b2))
        graph = lib.topological_sort(dict(zip([X, W1, b1, W2, b2, y], values)))
        lib.forward_and_backward(graph)
        grads.append([np.asarray(t.gradients[t]) for t in (X, W1, b1, W2, b2)])
    for ours, theirs in zip(*grads):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)
