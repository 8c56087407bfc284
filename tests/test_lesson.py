"""The lesson's golden vectors and the semantics learners' scripts rely on."""

import subprocess
import sys

import numpy as np
import pytest

from miniflow import (
    MSE,
    Add,
    Input,
    Linear,
    Mul,
    Node,
    Sigmoid,
    forward_and_backward,
    forward_pass,
    topological_sort,
)

# the seed notebook's "Expected output"
SEED_GRADIENTS = [
    [[-3.34017280e-05, -5.01025919e-05], [-6.68040138e-05, -1.00206021e-04]],
    [[0.9999833], [1.9999833]],
    [[5.01028709e-05], [1.00205742e-04]],
    [-5.01028709e-05],
]


def seed_graph():
    X, W, b = Input(), Input(), Input()
    y = Input()
    f = Linear(X, W, b)
    a = Sigmoid(f)
    cost = MSE(y, a)
    feed_dict = {
        X: np.array([[-1.0, -2.0], [-1, -2]]),
        y: np.array([1, 2]),
        W: np.array([[2.0], [3.0]]),
        b: np.array([-3.0]),
    }
    return [X, y, W, b], cost, feed_dict


def test_seed_example_gives_the_expected_gradients(capsys):
    (X, y, W, b), _cost, feed_dict = seed_graph()
    graph = topological_sort(feed_dict)
    forward_and_backward(graph)
    gradients = [t.gradients[t] for t in [X, y, W, b]]
    for got, expected in zip(gradients, SEED_GRADIENTS):
        assert np.shape(got) == np.shape(expected)
        np.testing.assert_allclose(got, expected, rtol=1e-7)
    assert capsys.readouterr() == ("", "")  # the library prints nothing


def test_seed_example_printed_like_numpy_prints_the_reference(lesson):
    code = """
import numpy as np
from miniflow import *
X, W, b = Input(), Input(), Input()
y = Input()
cost = MSE(y, Sigmoid(Linear(X, W, b)))
feed_dict = {X: np.array([[-1., -2.], [-1, -2]]), y: np.array([1, 2]),
             W: np.array([[2.], [3.]]), b: np.array([-3.])}
graph = topological_sort(feed_dict)
forward_and_backward(graph)
print([t.gradients[t] for t in [X, y, W, b]])
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    X, W, b, y = lesson.Input(), lesson.Input(), lesson.Input(), lesson.Input()
    lesson_cost = lesson.MSE(y, lesson.Sigmoid(lesson.Linear(X, W, b)))
    feed = {
        X: np.array([[-1.0, -2.0], [-1, -2]]),
        y: np.array([1, 2]),
        W: np.array([[2.0], [3.0]]),
        b: np.array([-3.0]),
    }
    lesson.forward_and_backward(lesson.topological_sort(feed))
    assert lesson_cost.value > 0
    assert out.stdout == str([t.gradients[t] for t in [X, y, W, b]]) + "\n"
    assert out.stderr == ""


def test_cost_is_the_last_node_and_a_float():
    _, cost, feed_dict = seed_graph()
    graph = topological_sort(feed_dict)
    forward_and_backward(graph)
    assert graph[-1] is cost
    assert isinstance(graph[-1].value, float)
    assert graph[-1].value == pytest.approx(
        ((1 - 1.67e-5) ** 2 + (2 - 1.67e-5 * 2) ** 2) / 2, rel=1e-4
    )


def test_mse_m_counts_the_rows_of_the_last_forward():
    # the lesson's MSE sets m = y.value.shape[0] in forward(); ours is 0 before the first one
    y, a = Input(), Input()
    cost = MSE(y, a)
    assert cost.m == 0
    for rows in (2, 5):
        y.value, a.value = np.zeros(rows), np.ones((rows, 1))
        cost.forward()
        assert cost.m == rows


def test_add_quiz():
    x, y = Input(), Input()
    f = Add(x, y)
    assert forward_pass(f, topological_sort({x: 10, y: 5})) == 15
    x, y, z = Input(), Input(), Input()
    f = Add(x, y, z)
    graph = topological_sort({x: 4, y: 5, z: 10})
    assert forward_pass(graph) is None
    assert f.value == 19


def test_mul_quiz():
    x, y, z = Input(), Input(), Input()
    f = Mul(x, y, z)
    assert forward_pass(f, topological_sort({x: 4, y: 5, z: 10})) == 200


def test_linear_over_lists():
    inputs, weights, bias = Input(), Input(), Input()
    f = Linear(inputs, weights, bias)
    feed_dict = {inputs: [6, 14, 3], weights: [0.5, 0.25, 1.4], bias: 2}
    output = forward_pass(f, topological_sort(feed_dict))
    assert float(output) == pytest.approx(12.7, abs=1e-12)


def test_linear_and_sigmoid_over_matrices():
    X, W, b = Input(), Input(), Input()
    f = Linear(X, W, b)
    g = Sigmoid(f)
    feed_dict = {
        X: np.array([[-1.0, -2.0], [-1, -2]]),
        W: np.array([[2.0, -3], [2.0, -3]]),
        b: np.array([-3.0, -5]),
    }
    graph = topological_sort(feed_dict)
    forward_pass(graph)
    np.testing.assert_array_equal(f.value, [[-9, 4], [-9, 4]])
    np.testing.assert_allclose(g.value, [[1.23394576e-04, 9.82013790e-01]] * 2, rtol=1e-8)


def test_mse_quiz():
    y, a = Input(), Input()
    cost = MSE(y, a)
    feed_dict = {y: np.array([1, 2, 3]), a: np.array([4.5, 5, 10])}
    forward_pass(topological_sort(feed_dict))
    assert cost.value == pytest.approx(23.4166666667, abs=1e-10)


def _two_layer(lib, rng, n_features=13, hidden=10):
    X, y = lib.Input(), lib.Input()
    W1, b1, W2, b2 = lib.Input(), lib.Input(), lib.Input(), lib.Input()
    cost = lib.MSE(y, lib.Linear(lib.Sigmoid(lib.Linear(X, W1, b1)), W2, b2))
    weights = {
        W1: rng.standard_normal((n_features, hidden)),
        b1: np.zeros(hidden),
        W2: rng.standard_normal((hidden, 1)),
        b2: np.zeros(1),
    }
    return X, y, [W1, b1, W2, b2], cost, weights


def test_training_loop_matches_the_lesson_step_for_step(lesson):
    """nn.py's loop: reassign X and y, step, update; batch sizes change (a short last batch)."""
    import miniflow

    data_rng = np.random.default_rng(0)
    X_all = data_rng.standard_normal((50, 13))
    y_all = data_rng.standard_normal(50)
    runs = []
    for lib in (miniflow, lesson):
        X, y, trainables, _cost, weights = _two_layer(lib, np.random.default_rng(1))
        feed_dict = {X: X_all[:11], y: y_all[:11], **weights}
        graph = lib.topological_sort(feed_dict)
        losses = []
        for start, stop in [(0, 11), (11, 22), (22, 33), (33, 44), (44, 50)]:
            X.value, y.value = X_all[start:stop], y_all[start:stop]
            lib.forward_and_backward(graph)
            lib.sgd_update(trainables, learning_rate=0.1)
            losses.append(graph[-1].value)
        runs.append((losses, [t.value.copy() for t in trainables], weights))
    (ours, our_weights, our_fed), (theirs, their_weights, _) = runs
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    for mine, reference in zip(our_weights, their_weights):
        np.testing.assert_allclose(mine, reference, rtol=1e-12, atol=1e-15)
    # sgd_update changed the very arrays the learner fed
    for node, fed in our_fed.items():
        assert node.value is fed


def test_input_without_consumers_has_zero_gradient():
    x, unused, y = Input(), Input(), Input()
    cost = MSE(y, Sigmoid(x))
    graph = topological_sort({x: np.array([0.5, 1.0]), y: np.array([1.0, 0.0]), unused: 3.0})
    forward_and_backward(graph)
    assert unused.gradients[unused] == 0
    assert graph[-1] is cost


def test_star_import_gives_the_lesson_names():
    namespace = {}
    exec("from miniflow import *", namespace)
    lesson_names = {
        "Node",
        "Input",
        "Linear",
        "Sigmoid",
        "MSE",
        "Add",
        "Mul",
        "topological_sort",
        "forward_and_backward",
        "forward_pass",
        "sgd_update",
    }
    assert lesson_names <= set(namespace)


def test_star_import_gives_numpy_as_np_like_the_lessons_module():
    # a learner's script that never imports numpy itself, as some public lesson scripts do
    script = (
        "from miniflow import *\n"
        "X, W, b = Input(), Input(), Input()\n"
        "f = Linear(X, W, b)\n"
        "graph = topological_sort({X: np.array([[-1.0, -2.0]]), W: np.array([[2.0], [3.0]]),"
        " b: np.array([-3.0])})\n"
        "output = forward_pass(f, graph)\n"
    )
    namespace: dict = {}
    exec(script, namespace)
    assert namespace["np"] is np
    np.testing.assert_array_equal(namespace["output"], [[-11.0]])


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


def test_feed_dict_may_be_any_mapping():
    from types import MappingProxyType

    X, W, b = Input(), Input(), Input()
    layer = Linear(X, W, b)
    graph = topological_sort(MappingProxyType({X: np.ones((2, 2)), W: np.eye(2), b: np.ones(2)}))
    forward_and_backward(graph)
    np.testing.assert_array_equal(layer.value, np.full((2, 2), 2.0))
