"""dtypes: the dtype each result has, for any operand dtype, layout or byte order, step by step."""

import numpy as np
import pytest

import miniflow
from miniflow import MSE, Input, Linear, Sigmoid, forward_and_backward, topological_sort


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


def test_float16_values_compute_in_float32_as_the_readme_says():
    rng = np.random.default_rng(10)
    values = [rng.standard_normal(s) for s in ((4, 3), (3, 1), (1,), (4,))]
    X, W, b, y = Input(), Input(), Input(), Input()
    hidden = Sigmoid(Linear(X, W, b))
    cost = MSE(y, hidden)
    graph = topological_sort(dict(zip((X, W, b, y), (v.astype(np.float16) for v in values))))
    forward_and_backward(graph)
    assert hidden.value.dtype == np.float32
    assert W.gradients[W].dtype == np.float32
    as_used = [v.astype(np.float16).astype(np.float64) for v in values]
    want = 1 / (1 + np.exp(-(as_used[0] @ as_used[1] + as_used[2])))
    np.testing.assert_allclose(hidden.value, want, rtol=1e-6)
    assert cost.value == pytest.approx(np.mean((as_used[3].reshape(-1, 1) - want) ** 2), rel=1e-5)
    # one float64 operand makes it float64
    X.value = values[0]
    forward_and_backward(graph)
    assert hidden.value.dtype == np.float64


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


def test_dtype_changes_between_steps(lesson, run_both):
    def change(inputs, step):
        X = inputs[0].value
        inputs[0].value = X.astype(np.float32) if step % 2 else X.astype(np.float64)

    # the lesson keeps dX in X's dtype (zeros_like), so a float32 X rounds its gradient there
    run_both(lesson, change, steps=4, rtol=1e-6)


def test_float32_buffers_follow_the_dtype_between_steps(build):
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
