"""forward_and_backward(graph, trainables=[...]): only the gradients the trainables need are
computed; the rest are absent and say why when read, never left over from an earlier step."""

import numpy as np
import pytest

import miniflow
from miniflow import (
    MSE,
    Input,
    Linear,
    Node,
    Sigmoid,
    check_gradients,
    explain,
    forward_and_backward,
    sgd_update,
    topological_sort,
)


def two_layer(lib, seed=0, batch=7, n_in=5, hidden=4, dtype=np.float64):
    rng = np.random.default_rng(seed)
    X, y, W1, b1, W2, b2 = (lib.Input() for _ in range(6))
    l1 = lib.Linear(X, W1, b1)
    s1 = lib.Sigmoid(l1)
    l2 = lib.Linear(s1, W2, b2)
    cost = lib.MSE(y, l2)
    feed = {
        X: rng.standard_normal((batch, n_in)),
        y: rng.standard_normal(batch),
        W1: rng.standard_normal((n_in, hidden)),
        b1: rng.standard_normal(hidden),
        W2: rng.standard_normal((hidden, 1)),
        b2: rng.standard_normal(1),
    }
    feed = {node: value.astype(dtype) for node, value in feed.items()}
    graph = lib.topological_sort(feed)
    return graph, {
        "X": X,
        "y": y,
        "W1": W1,
        "b1": b1,
        "W2": W2,
        "b2": b2,
        "l1": l1,
        "s1": s1,
        "l2": l2,
        "cost": cost,
    }


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_wanted_gradients_match_the_lesson_step_after_step(lesson, dtype):
    ours, n = two_layer(miniflow, dtype=dtype)
    theirs, m = two_layer(lesson, dtype=dtype)
    trainables = [n["W1"], n["b1"], n["W2"], n["b2"]]
    rtol = 1e-12 if dtype == np.float64 else 1e-4
    for _ in range(3):
        forward_and_backward(ours, trainables=trainables)
        lesson.forward_and_backward(theirs)
        assert n["cost"].value == pytest.approx(m["cost"].value, rel=rtol)
        for key in ("W1", "b1", "W2", "b2"):
            np.testing.assert_allclose(
                n[key].gradients[n[key]],
                m[key].gradients[m[key]],
                rtol=rtol,
                atol=1e-6 if dtype == np.float32 else 1e-14,
            )
        sgd_update(trainables, 0.1)
        lesson.sgd_update([m[k] for k in ("W1", "b1", "W2", "b2")], 0.1)


def test_the_same_bits_as_computing_every_gradient():
    skipping, n = two_layer(miniflow)
    full, f = two_layer(miniflow)
    forward_and_backward(skipping, trainables=[n["W1"], n["b1"], n["W2"], n["b2"]])
    forward_and_backward(full)
    for key in ("W1", "b1", "W2", "b2"):
        assert n[key].gradients[n[key]].tobytes() == f[key].gradients[f[key]].tobytes()


def test_skipped_gradients_are_absent_and_say_why():
    graph, n = two_layer(miniflow)
    X, y, l1, cost = n["X"], n["y"], n["l1"], n["cost"]
    forward_and_backward(graph, trainables=[n["W1"], n["b1"], n["W2"], n["b2"]])
    assert X not in l1.gradients
    assert y not in cost.gradients
    assert X not in X.gradients
    assert set(l1.gradients) == {n["W1"], n["b1"]}
    for gradients, node in (
        (X.gradients, X),
        (l1.gradients, X),
        (cost.gradients, y),
        (y.gradients, y),
    ):
        with pytest.raises(KeyError, match=r"Input #\d+ was skipped.*trainables="):
            gradients[node]
    with pytest.raises(ValueError, match="skipped it; list it in trainables"):
        sgd_update([X])


def test_a_linear_on_one_sample_says_its_skipped_gradient_was_skipped():
    # a 1-D X is one row: the Linear views it as a matrix and hands back vector-shaped gradients
    X, W, b, y = Input(), Input(), Input(), Input()
    line = Linear(X, W, b)
    MSE(y, line)
    graph = topological_sort(
        {X: np.array([1.0, 2.0, 3.0]), W: np.ones((3, 1)), b: np.zeros(1), y: np.array([1.0])}
    )
    forward_and_backward(graph, trainables=[W, b])
    assert line.gradients[W].shape == (3, 1)
    np.testing.assert_allclose(line.gradients[W], 2 * (6.0 - 1.0) * np.array([[1.0], [2.0], [3.0]]))
    with pytest.raises(KeyError, match=r"Input #\d+ was skipped.*trainables="):
        line.gradients[X]


def test_no_stale_gradient_after_a_full_step_and_fresh_ones_after_a_skipping_step(lesson):
    graph, n = two_layer(miniflow)
    trainables = [n["W1"], n["b1"], n["W2"], n["b2"]]
    forward_and_backward(graph)
    assert n["X"].gradients[n["X"]].shape == (7, 5)
    forward_and_backward(graph, trainables=trainables)
    with pytest.raises(KeyError, match="skipped"):
        n["X"].gradients[n["X"]]
    forward_and_backward(graph)  # every gradient again, and right
    theirs, m = two_layer(lesson)
    lesson.forward_and_backward(theirs)
    np.testing.assert_allclose(n["X"].gradients[n["X"]], m["X"].gradients[m["X"]], rtol=1e-12)
    np.testing.assert_allclose(n["y"].gradients[n["y"]], m["y"].gradients[m["y"]], rtol=1e-12)


def test_only_the_second_layer_skips_the_first_layers_backward_entirely():
    graph, n = two_layer(miniflow)
    forward_and_backward(graph)
    forward_and_backward(graph, trainables=[n["W2"]])
    assert set(n["l2"].gradients) == {n["W2"]}
    for node in ("s1", "l1", "W1", "b1", "X"):  # nothing on their side of W2 is computed
        assert not n[node].gradients, node
    with pytest.raises(KeyError, match="skipped"):
        n["l1"].gradients[n["W1"]]


def test_a_linear_asked_only_for_w_and_b_computes_no_data_gradient():
    rng = np.random.default_rng(1)
    X, W, b, y = Input(), Input(), Input(), Input()
    layer = Linear(X, W, b)
    MSE(y, layer)
    feed = {X: rng.standard_normal((6, 4)), W: rng.standard_normal((4, 1)), b: np.zeros(1)}
    graph = topological_sort({**feed, y: rng.standard_normal(6)})
    forward_and_backward(graph, trainables=[W, b])
    G = graph[-1].gradients[layer]
    assert list(layer.gradients) == [W, b]
    np.testing.assert_allclose(layer.gradients[W], feed[X].T @ G, rtol=1e-12)
    np.testing.assert_allclose(layer.gradients[b], G.sum(axis=0), rtol=1e-12)
    with pytest.raises(KeyError, match=r"the gradient for Input #\d+ was skipped"):
        layer.gradients[X]


class Scale(Node):
    """A learner's own numpy node: value = 2·x."""

    def __init__(self, x):
        Node.__init__(self, [x])

    def forward(self):
        self.value = 2.0 * self.inbound_nodes[0].value

    def backward(self):
        x = self.inbound_nodes[0]
        self.gradients = {x: np.zeros_like(x.value)}
        for n in self.outbound_nodes:
            self.gradients[x] += 2.0 * n.gradients[self]


def graph_with_learners_nodes(seed=3):
    """X → Scale → Linear → Scale → Linear → MSE: one learner's node on the data's side, one
    between the trainables."""
    rng = np.random.default_rng(seed)
    X, y, W1, b1, W2, b2 = (Input() for _ in range(6))
    data_side = Scale(X)
    middle = Scale(Sigmoid(Linear(data_side, W1, b1)))
    MSE(y, Linear(middle, W2, b2))
    feed = {
        X: rng.standard_normal((5, 3)),
        y: rng.standard_normal(5),
        W1: rng.standard_normal((3, 4)),
        b1: rng.standard_normal(4),
        W2: rng.standard_normal((4, 1)),
        b2: rng.standard_normal(1),
    }
    return topological_sort(feed), [W1, b1, W2, b2], data_side, middle


def test_a_learners_own_node_works_unchanged():
    graph, trainables, data_side, middle = graph_with_learners_nodes()
    full, full_trainables, _, _ = graph_with_learners_nodes()
    forward_and_backward(graph, trainables=trainables)
    forward_and_backward(full)
    for ours, reference in zip(trainables, full_trainables):
        np.testing.assert_allclose(ours.gradients[ours], reference.gradients[reference], rtol=1e-12)
    assert middle.gradients  # between the trainables: its own backward() ran
    with pytest.raises(KeyError, match="skipped"):  # on the data's side: it did not run
        data_side.gradients[data_side.inbound_nodes[0]]


def test_explain_names_what_was_skipped():
    graph, n = two_layer(miniflow, batch=2, n_in=2, hidden=2)
    text = explain(graph, trainables=[n["W1"], n["b1"], n["W2"], n["b2"]])
    assert "skipped   gradients[X]: no trainable depends on it" in text
    assert "skipped   gradients[y]: no trainable depends on it" in text
    assert "X = Input (data)\n  skipped   no trainable depends on it" in text
    assert "gradients[W1] = " in text
    assert "gradients[X] = " not in text


def test_check_gradients_checks_what_was_computed():
    graph, n = two_layer(miniflow, batch=3, n_in=2, hidden=2)
    result = check_gradients(graph, trainables=[n["W1"], n["b1"], n["W2"], n["b2"]], verbose=False)
    assert result.ok
    checked = {(row.node, row.inbound) for row in result.rows}
    assert (n["l1"], n["W1"]) in checked
    assert (n["W1"], n["W1"]) in checked
    assert (n["l1"], n["X"]) not in checked
    assert (n["X"], n["X"]) not in checked
    assert (n["cost"], n["y"]) not in checked


def test_trainables_must_be_in_the_graph_and_passed_by_keyword():
    graph, n = two_layer(miniflow)
    with pytest.raises(ValueError, match="Input 'stray' is not in the graph"):
        forward_and_backward(graph, trainables=[Input(name="stray")])
    with pytest.raises(TypeError):
        forward_and_backward(graph, [n["W1"]])  # type: ignore[misc]


def test_an_empty_list_skips_every_gradient():
    graph, n = two_layer(miniflow)
    forward_and_backward(graph, trainables=[])
    assert np.isfinite(n["cost"].value)
    assert all(not node.gradients for node in graph)


def test_steps_after_the_first_reuse_every_array():
    graph, n = two_layer(miniflow)
    trainables = [n["W1"], n["b1"], n["W2"], n["b2"]]

    def arrays():
        found = [node.value for node in graph if not isinstance(node, Input)]
        found += [g for node in graph for g in node.gradients.values()]
        return [a for a in found if isinstance(a, np.ndarray)]

    forward_and_backward(graph, trainables=trainables)
    sgd_update(trainables)
    first = arrays()
    # 3 values (the cost is a float); gradients: the cost's 1, l2's 3, s1's 1, l1's 2 (not X's)
    # and the trainables' own 4
    assert len(first) == 3 + 11
    rng = np.random.default_rng(1)
    for _ in range(3):
        n["X"].value, n["y"].value = rng.standard_normal((7, 5)), rng.standard_normal(7)
        forward_and_backward(graph, trainables=trainables)
        sgd_update(trainables)
        now = arrays()
        assert len(now) == len(first)
        assert all(a is b for a, b in zip(now, first))
