"""check_gradients: every backward() against central differences of its own forward()."""

import numpy as np
import pytest

import miniflow
from miniflow import MSE, Add, Input, Linear, Mul, Node, Sigmoid, check_gradients, topological_sort


class LearnersSigmoid(Node):
    """The lesson's exercise, written by a learner; ``mistake`` picks a classic bug."""

    def __init__(self, node, mistake=None):
        Node.__init__(self, [node])
        self.mistake = mistake

    def forward(self):
        self.value = 1.0 / (1.0 + np.exp(-self.inbound_nodes[0].value))

    def backward(self):
        x = self.inbound_nodes[0]
        self.gradients = {x: np.zeros_like(x.value)}
        for n in self.outbound_nodes:
            grad_cost = n.gradients[self]
            s = self.value
            if self.mistake is None:
                self.gradients[x] += s * (1 - s) * grad_cost
            elif self.mistake == "no upstream":
                self.gradients[x] += s * (1 - s)
            elif self.mistake == "input":
                self.gradients[x] += x.value * (1 - x.value) * grad_cost
            elif self.mistake == "last consumer":
                self.gradients[x] = s * (1 - s) * grad_cost


LearnersSigmoid.__name__ = "Sigmoid"  # the learner's class is called Sigmoid too


def fan_out_graph(mistake=None):
    """X → Linear → (learner's) Sigmoid, read by two Linears added together → MSE."""
    X, W1, b1, y = Input(), Input(), Input(), Input()
    W2, b2, W3, b3 = Input(), Input(), Input(), Input()
    s = LearnersSigmoid(Linear(X, W1, b1), mistake)
    MSE(y, Add(Linear(s, W2, b2), Linear(s, W3, b3)))
    rng = np.random.default_rng(7)
    feed = {
        X: rng.normal(size=(4, 3)),
        W1: rng.normal(size=(3, 5)),
        b1: rng.normal(size=5),
        y: rng.normal(size=4),
        W2: rng.normal(size=(5, 1)),
        b2: rng.normal(size=1),
        W3: rng.normal(size=(5, 1)),
        b3: rng.normal(size=1),
    }
    return topological_sort(feed), s


def seed_graph():
    X, W, b, y = Input(), Input(), Input(), Input()
    MSE(y, Sigmoid(Linear(X, W, b)))
    feed = {
        X: np.array([[-1.0, -2.0], [-1, -2]]),
        y: np.array([1, 2]),
        W: np.array([[2.0], [3.0]]),
        b: np.array([-3.0]),
    }
    return topological_sort(feed)


def test_the_seed_example_passes():
    result = check_gradients(seed_graph(), verbose=False)
    assert result.ok
    assert result.first_wrong is None
    checked = {(r.name, r.inbound_name) for r in result.rows}
    assert {
        ("MSE cost", "y"),
        ("MSE cost", "s1"),
        ("Sigmoid s1", "l1"),
        ("Linear l1", "X"),
        ("Linear l1", "W"),
        ("Linear l1", "b"),
        ("Input X", "X"),
    } <= checked


def test_every_builtin_node_passes_with_fan_out_and_shared_slots():
    x, z, w, t = Input(), Input(), Input(), Input()
    s = Sigmoid(Linear(x, w, z))
    out = Add(Mul(s, s, z), s, Mul(z, s))  # s read by three consumers, twice by one
    MSE(t, out)
    rng = np.random.default_rng(1)
    graph = topological_sort(
        {
            x: rng.normal(size=(3, 2)),
            w: rng.normal(size=(2, 1)),
            z: rng.normal(size=1),
            t: rng.normal(size=3),
        }
    )
    result = check_gradients(graph, verbose=False)
    assert result.ok, str(result)
    kinds = {type(r.node) for r in result.rows}
    assert kinds == {MSE, Add, Mul, Sigmoid, Linear, Input}


def test_the_quiz_graph_over_python_scalars_passes():
    x, y, z = Input(), Input(), Input()
    Add(Mul(x, y, z), x)
    graph = topological_sort({x: 4, y: 5, z: 10})
    assert check_gradients(graph, verbose=False).ok
    assert x.value == 4
    assert isinstance(x.value, int)


def test_a_correct_learners_sigmoid_passes():
    graph, _ = fan_out_graph()
    assert check_gradients(graph, verbose=False).ok


@pytest.mark.parametrize(
    ("mistake", "hint"),
    [
        ("no upstream", "the upstream gradient is missing"),
        ("input", "uses the input, x·(1 − x), where the output belongs: s·(1 − s)"),
        ("last consumer", "only the last consumer counts"),
    ],
)
def test_each_classic_mistake_is_caught_and_named(mistake, hint, capsys):
    graph, broken = fan_out_graph(mistake)
    result = check_gradients(graph)
    assert not result.ok
    assert result.first_wrong is broken
    assert result.first_wrong_name == "Sigmoid s1"
    wrong = [r for r in result.rows if not r.ok]
    assert [(r.name, r.inbound_name) for r in wrong] == [("Sigmoid s1", "l1")]
    assert hint in wrong[0].note
    table = capsys.readouterr().out
    assert "first wrong backward(): Sigmoid s1" in table
    assert f"∂/∂l1: {wrong[0].note}" in table
    assert "WRONG" in table


def test_values_and_gradients_are_restored():
    graph = seed_graph()
    originals = [node.value for node in graph if isinstance(node, Input)]
    miniflow.forward_and_backward(graph)
    before = [np.array(v, dtype=float) for n in graph for v in n.gradients.values()]
    values = [np.array(n.value, dtype=float) for n in graph]
    check_gradients(graph, verbose=False)
    assert all(a is b for a, b in zip(originals, [n.value for n in graph if isinstance(n, Input)]))
    after = [np.array(v, dtype=float) for n in graph for v in n.gradients.values()]
    for a, b in zip(before, after):
        np.testing.assert_array_equal(a, b)
    for a, n in zip(values, graph):
        np.testing.assert_array_equal(a, np.array(n.value, dtype=float))


def test_quiet_by_request_and_a_missing_gradient_is_wrong(capsys):
    class Forgetful(Node):
        def __init__(self, a, b):
            Node.__init__(self, [a, b])

        def forward(self):
            self.value = self.inbound_nodes[0].value * self.inbound_nodes[1].value

        def backward(self):
            a, b = self.inbound_nodes
            grad = sum(n.gradients[self] for n in self.outbound_nodes).reshape(-1)
            self.gradients = {a: b.value * grad, b: 0 * grad}  # b's entry is wrong

    a, b, t = Input(), Input(), Input()
    MSE(t, Forgetful(a, b))
    graph = topological_sort({a: np.array([1.0, 2.0]), b: np.array([3.0, 4.0]), t: np.zeros(2)})
    result = check_gradients(graph, verbose=False)
    assert capsys.readouterr().out == ""
    assert result.first_wrong_name == "Forgetful forgetful1"
    assert [r.inbound_name for r in result.rows if not r.ok] == ["x2"]
    assert "first wrong backward(): Forgetful forgetful1" in str(result)
