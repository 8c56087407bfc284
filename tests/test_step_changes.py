"""Step changes: what a learner changes between training steps, and the buffers each step reuses."""

import warnings

import numpy as np
import pytest

import miniflow
from miniflow import MSE, Input, Linear, Node, forward_and_backward, sgd_update, topological_sort
from miniflow.node import consumers


def new_batch(inputs, step):
    rng = np.random.default_rng(step)
    return rng.standard_normal(np.shape(inputs[0].value)), rng.standard_normal(
        np.shape(inputs[1].value)
    )


def test_values_mutated_in_place(lesson, run_both):
    def change(inputs, step):
        X, y = new_batch(inputs, step)
        inputs[0].value[...] = X
        inputs[1].value[...] = y

    run_both(lesson, change)


def test_values_reassigned(lesson, run_both):
    def change(inputs, step):
        inputs[0].value, inputs[1].value = new_batch(inputs, step)

    run_both(lesson, change)


def test_values_reshaped_in_place(lesson, run_both):
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


def test_a_list_value_between_steps(lesson, run_both):
    def change(inputs, step):
        X, y = new_batch(inputs, step)
        ours = isinstance(inputs[0], Input)  # the lesson's own nodes need arrays
        inputs[0].value, inputs[1].value = (X.tolist(), list(y)) if ours else (X, y)

    run_both(lesson, change)


def test_batch_size_changes_between_steps(lesson, run_both):
    def change(inputs, step):
        batch = [11, 4, 11, 1][step]
        rng = np.random.default_rng(step)
        inputs[0].value, inputs[1].value = (
            rng.standard_normal((batch, 13)),
            rng.standard_normal(batch),
        )

    run_both(lesson, change, steps=4)


def test_a_batch_of_another_size_gets_new_buffers_and_right_answers(lesson, two_layer):
    graph, _trainables, X, y = two_layer(11, 4, 3)
    forward_and_backward(graph)
    X.value, y.value = X.value[:5].copy(), y.value[:5].copy()
    forward_and_backward(graph)
    assert graph[-1].value == pytest.approx(
        float(np.mean((y.value.reshape(-1, 1) - graph[-2].value) ** 2)), rel=1e-12
    )
    assert X.gradients[X].shape == (5, 4)


def computed_arrays(graph):
    """Every array the graph computed: values (but the fed ones), differences and gradients."""
    arrays = []
    for node in graph:
        value = None if isinstance(node, Input) else node.value
        arrays += [
            v
            for v in (value, getattr(node, "diff", None), *node.gradients.values())
            if isinstance(v, np.ndarray)
        ]
    return arrays


def test_steps_after_the_first_reuse_every_array(two_layer):
    graph, trainables, X, y = two_layer(11, 13, 10)
    rng = np.random.default_rng(1)
    forward_and_backward(graph)
    sgd_update(trainables)
    first = computed_arrays(graph)
    assert len(first) == 19  # 13 buffers, and each Input's gradient is its consumer's buffer
    for _ in range(3):
        X.value, y.value = rng.standard_normal((11, 13)), rng.standard_normal(11)  # a new batch
        forward_and_backward(graph)
        sgd_update(trainables)
        assert all(a is b for a, b in zip(computed_arrays(graph), first))


def test_an_input_gradient_is_its_single_consumers_buffer(build):
    graph, inputs = build(miniflow, np.random.default_rng(0))
    X = inputs[0]
    first_linear = X.outbound_nodes[0]
    for _ in range(2):
        forward_and_backward(graph)
        assert X.gradients[X] is first_linear.gradients[X]
        assert list(X.gradients) == [X]


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


def build_with_l1(lib, seed=4):
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
    sides = [build_with_l1(miniflow), build_with_l1(lesson)]
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
    graph, trainables, _ = build_with_l1(miniflow)
    forward_and_backward(graph)
    for node in graph:
        node.gradients = {}
    forward_and_backward(graph)
    assert all(t.gradients[t].shape == np.shape(t.value) for t in trainables)


class Standardised(Input):
    """A learner's Input that computes in forward(): its value is its fed batch, standardised."""

    def __init__(self):
        Input.__init__(self)
        self.fed = None

    def forward(self):
        self.value = (self.fed - self.fed.mean(axis=0)) / self.fed.std(axis=0)


def test_an_input_subclass_with_its_own_forward_is_run_every_step():
    rng = np.random.default_rng(4)
    X, y, W, b = Standardised(), Input(), Input(), Input()
    MSE(y, Linear(X, W, b))
    X.fed = rng.standard_normal((6, 3)) * 5 + 2
    graph = topological_sort(
        {X: X.fed, y: rng.standard_normal(6), W: rng.standard_normal((3, 1)), b: np.zeros(1)}
    )
    for _ in range(2):
        X.fed = rng.standard_normal((6, 3)) * 5 + 2  # a new raw batch: forward() standardises it
        forward_and_backward(graph)
        standardised = (X.fed - X.fed.mean(axis=0)) / X.fed.std(axis=0)
        np.testing.assert_allclose(X.value, standardised, rtol=1e-12)
        diff = y.value.reshape(-1, 1) - (standardised @ W.value + b.value)
        assert graph[-1].value == pytest.approx(np.mean(diff**2), rel=1e-12)


def test_an_inputs_gradients_follow_its_consumer_after_a_learner_replaced_them(build):
    graph, inputs = build(miniflow, np.random.default_rng(0))
    X = inputs[0]
    first_linear = X.outbound_nodes[0]
    forward_and_backward(graph)
    X.gradients = {X: np.zeros_like(X.value)}  # a learner's own dict, then a new batch
    X.value = X.value * 2
    forward_and_backward(graph)
    assert list(X.gradients) == [X]
    np.testing.assert_array_equal(X.gradients[X], first_linear.gradients[X])
    W = first_linear.inbound_nodes[1]
    np.testing.assert_allclose(
        X.gradients[X], first_linear.outbound_nodes[0].gradients[first_linear] @ W.value.T
    )
