"""Misuse of the API gets a clear answer or the lesson's behaviour, never a silently wrong one:
a gradient of the wrong shape, a feed_dict keyed by names, gradients dicts edited between steps,
and weight arrays of any layout or float type updated in place."""

import numpy as np
import pytest

import miniflow
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


@pytest.mark.parametrize("key", ["X", 1, None])
def test_feed_dict_keys_must_be_input_nodes(key):
    with pytest.raises(TypeError, match="feed_dict's keys must be Input nodes"):
        topological_sort({key: 1})


def build(lib, seed=4):
    rng = np.random.default_rng(seed)
    X, y, W1, b1, W2, b2 = (lib.Input() for _ in range(6))
    l1 = lib.Linear(X, W1, b1)
    l2 = lib.Linear(lib.Sigmoid(l1), W2, b2)
    lib.MSE(y, l2)
    feed = {
        X: rng.standard_normal((6, 3)),
        y: rng.standard_normal(6),
        W1: rng.standard_normal((3, 4)),
        b1: rng.standard_normal(4),
        W2: rng.standard_normal((4, 1)),
        b2: rng.standard_normal(1),
    }
    return lib.topological_sort(feed), [W1, b1, W2, b2], l1


def train_both(lesson, between_steps, steps=3):
    """Train ours and the lesson's side by side, calling between_steps(graph, trainables, l1)
    after each backward pass, and compare the weights after every update."""
    sides = [build(miniflow), build(lesson)]
    for _ in range(steps):
        for lib, (graph, trainables, l1) in zip((miniflow, lesson), sides):
            lib.forward_and_backward(graph)
            between_steps(graph, trainables, l1)
            lib.sgd_update(trainables, 0.1)
        for ours, theirs in zip(sides[0][1], sides[1][1]):
            np.testing.assert_allclose(ours.value, theirs.value, rtol=1e-12)


def test_a_replaced_gradient_entry_is_read_and_later_steps_are_fresh(lesson):
    def halve_w1(graph, trainables, l1):
        W1 = trainables[0]
        l1.gradients[W1] = 0.5 * l1.gradients[W1]  # a learner's own gradient scaling
        W1.backward()  # W1 sums what its consumer now holds

    train_both(lesson, halve_w1)


def test_gradients_dicts_cleared_between_steps(lesson):
    def clear(graph, trainables, l1):
        saved = {t: t.gradients[t] for t in trainables}
        for node in graph:
            node.gradients.clear()
        for t in trainables:
            t.gradients[t] = saved[t]

    train_both(lesson, clear)


def test_gradients_dicts_emptied_before_a_step():
    graph, trainables, _ = build(miniflow)
    forward_and_backward(graph)
    for node in graph:
        node.gradients = {}
    forward_and_backward(graph)
    assert all(t.gradients[t].shape == np.shape(t.value) for t in trainables)


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


def test_feed_dict_may_be_any_mapping():
    from types import MappingProxyType

    X, W, b = Input(), Input(), Input()
    layer = Linear(X, W, b)
    graph = topological_sort(MappingProxyType({X: np.ones((2, 2)), W: np.eye(2), b: np.ones(2)}))
    forward_and_backward(graph)
    np.testing.assert_array_equal(layer.value, np.full((2, 2), 2.0))
