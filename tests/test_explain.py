"""explain: the backward pass step by step, in the lesson's notation."""

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
    explain,
    forward_and_backward,
    topological_sort,
)
from miniflow.explain import Explanation

SEED_EXPLANATION = """\
backward pass: 7 steps, last node first; cost = 2.49995

[1/7] cost = MSE(y, s1)
  upstream  ∂cost/∂cost = 1 (the cost: backpropagation starts here)
  local     ∂cost/∂y = 2/m·(y − s1)   m = 2
            ∂cost/∂s1 = −2/m·(y − s1)
  result    gradients[y] = (2, 1) [[0.999983], [1.99998]]
            gradients[s1] = (2, 1) [[-0.999983], [-1.99998]]

[2/7] s1 = Sigmoid(l1)
  upstream  G = ∂cost/∂s1 from cost: (2, 1) [[-0.999983], [-1.99998]]
  local     ∂s1/∂l1 = s1·(1 − s1)
            ∂cost/∂l1 = ∂s1/∂l1 · G
  result    gradients[l1] = (2, 1) [[-1.67009e-05], [-3.3402e-05]]

[3/7] l1 = Linear(X, W, b)
  upstream  G = ∂cost/∂l1 from s1: (2, 1) [[-1.67009e-05], [-3.3402e-05]]
  local     ∂cost/∂X = G·Wᵀ
            ∂cost/∂W = Xᵀ·G
            ∂cost/∂b = sum of G's rows
  result    gradients[X] = (2, 2) [[-3.34017e-05, -5.01026e-05], [-6.6804e-05, -0.000100206]]
            gradients[W] = (2, 1) [[5.01029e-05], [0.000100206]]
            gradients[b] = (1,) [-5.01029e-05]

[4/7] b = Input (trainable)
  upstream  G = ∂cost/∂b from l1: (1,) [-5.01029e-05]
  local     ∂b/∂b = 1, so ∂cost/∂b = G
  result    gradients[b] = (1,) [-5.01029e-05]

[5/7] W = Input (trainable)
  upstream  G = ∂cost/∂W from l1: (2, 1) [[5.01029e-05], [0.000100206]]
  local     ∂W/∂W = 1, so ∂cost/∂W = G
  result    gradients[W] = (2, 1) [[5.01029e-05], [0.000100206]]

[6/7] y = Input (data)
  upstream  G = ∂cost/∂y from cost: (2, 1) [[0.999983], [1.99998]]
  local     ∂y/∂y = 1, so ∂cost/∂y = G
  result    gradients[y] = (2, 1) [[0.999983], [1.99998]]

[7/7] X = Input (data)
  upstream  G = ∂cost/∂X from l1: (2, 2) [[-3.34017e-05, -5.01026e-05], [-6.6804e-05, -0.000100206]]
  local     ∂X/∂X = 1, so ∂cost/∂X = G
  result    gradients[X] = (2, 2) [[-3.34017e-05, -5.01026e-05], [-6.6804e-05, -0.000100206]]
"""


def seed_graph():
    """The seed's example exactly as the lesson writes it: unnamed Inputs."""
    X, W, b = Input(), Input(), Input()
    y = Input()
    cost = MSE(y, Sigmoid(Linear(X, W, b)))
    feed_dict = {
        X: np.array([[-1.0, -2.0], [-1, -2]]),
        y: np.array([1, 2]),
        W: np.array([[2.0], [3.0]]),
        b: np.array([-3.0]),
    }
    return topological_sort(feed_dict), (X, y, W, b), cost


def test_seed_example_line_by_line():
    graph, _, _ = seed_graph()
    got = explain(graph).splitlines()
    expected = SEED_EXPLANATION.splitlines()
    for number, (line, want) in enumerate(zip(got, expected), start=1):
        assert line == want, f"line {number}"
    assert len(got) == len(expected)


def test_explain_leaves_the_lessons_gradients():
    graph, inputs, _ = seed_graph()
    explain(graph)
    X, y, W, b = (t.gradients[t] for t in inputs)
    np.testing.assert_allclose(W, [[5.01028709e-05], [1.00205742e-04]], rtol=1e-6)
    np.testing.assert_allclose(y, [[0.9999833], [1.9999833]], rtol=1e-6)
    np.testing.assert_allclose(b, [-5.01028709e-05], rtol=1e-6)
    np.testing.assert_allclose(X[1], [-6.68040138e-05, -1.00206021e-04], rtol=1e-6)


def test_forward_and_backward_explain_prints_the_same_text(capsys):
    graph, _, _ = seed_graph()
    forward_and_backward(graph, explain=True)
    assert capsys.readouterr().out == SEED_EXPLANATION + "\n"


def test_explain_prints_nothing_by_itself(capsys):
    graph, _, _ = seed_graph()
    text = explain(graph)
    assert capsys.readouterr().out == ""
    assert isinstance(text, Explanation)
    assert repr(text) == SEED_EXPLANATION
    assert text._repr_html_().startswith("<pre")
    assert "∂s1/∂l1" in text._repr_html_()


def test_two_layers_get_the_lessons_short_names():
    X, y, W1, b1, W2, b2 = (Input() for _ in range(6))
    MSE(y, Linear(Sigmoid(Linear(X, W1, b1)), W2, b2))
    rng = np.random.default_rng(0)
    graph = topological_sort(
        {
            X: rng.normal(size=(3, 2)),
            y: rng.normal(size=3),
            W2: rng.normal(size=(4, 1)),
            b2: np.zeros(1),
            W1: rng.normal(size=(2, 4)),
            b1: np.zeros(4),
        }
    )
    text = explain(graph)
    assert "l2 = Linear(s1, W2, b2)" in text
    assert "l1 = Linear(X, W1, b1)" in text
    assert "∂cost/∂s1 = G·W2ᵀ" in text


def test_several_consumers_show_the_sum():
    x, t = Input(name="x"), Input(name="t")
    s = Sigmoid(x, name="s")
    MSE(t, Add(Mul(s, s), s))
    graph = topological_sort({x: np.array([[0.5], [-1.0]]), t: np.zeros(2)})
    lines = explain(graph).splitlines()
    start = lines.index("[4/6] s = Sigmoid(x)")
    assert lines[start + 1] == "  upstream  G = ∂cost/∂s = sum over its 2 consumers:"
    assert lines[start + 2].startswith("              from mul1: (2, 1) [[")
    assert lines[start + 3].startswith("              from add1: (2, 1) [[")
    assert lines[start + 4].startswith("              sum: (2, 1) [[")
    assert "  local     ∂mul1/∂s = s + s, so ∂cost/∂s = (s + s)·G" in lines
    assert "  local     ∂add1/∂mul1 = 1, so ∂cost/∂mul1 = G" in lines


def test_a_learners_own_node_shows_its_class_and_entries():
    class Square(Node):
        def __init__(self, x):
            Node.__init__(self, [x])

        def forward(self):
            self.value = self.inbound_nodes[0].value ** 2

        def backward(self):
            x = self.inbound_nodes[0]
            self.gradients = {x: sum(2 * x.value * n.gradients[self] for n in self.outbound_nodes)}

    x, t = Input(), Input()
    MSE(t, Square(x))
    graph = topological_sort({x: np.array([1.0, 2.0]), t: np.zeros(2)})
    lines = explain(graph).splitlines()
    start = lines.index("[2/4] square1 = Square(x)")
    assert lines[start + 2] == "  local     your own Square.backward(); it produced:"
    assert lines[start + 3].startswith("  result    gradients[x] = (2")


def test_explain_with_check_finite_runs_both():
    graph, _, cost = seed_graph()
    forward_and_backward(graph, explain=True, check_finite=True)
    assert cost.value == pytest.approx(2.49995, rel=1e-5)


def test_a_builtin_sink_that_is_not_the_cost_gets_nothing_back():
    x, y = Input(), Input()
    Add(x, y)
    graph = topological_sort({x: 4.0, y: 5.0})
    lines = explain(graph).splitlines()
    assert lines[2:4] == [
        "[1/3] add1 = Add(x1, x2)",
        "  upstream  none: no node reads it, so nothing comes back (G = 0)",
    ]
