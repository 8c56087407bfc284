"""What an op's class declares is what the teaching tools and graph functions use: for the
built-in ops, for a learner's own Node subclass that declares the same, and (by the lesson's
names) for a learner's own Linear, Sigmoid or MSE that declares nothing."""

import numpy as np

from miniflow import MSE, Input, Linear, Node, Sigmoid, draw, explain, topological_sort
from miniflow._describe import role, short_names


class Square(Node):
    """A learner's own op that declares what the tools read."""

    short_name = "sq"
    slot_names = ("u",)
    is_cost = False

    def __init__(self, x):
        Node.__init__(self, [x])

    def forward(self):
        self.value = self.inbound_nodes[0].value ** 2

    def backward(self):
        (x,) = self.inbound_nodes
        self.gradients = {x: sum(2 * x.value * c.gradients[self] for c in self.outbound_nodes)}

    def local_derivatives(self, names, cost):
        me, x = names[self], names[self.inbound_nodes[0]]
        return [f"∂{me}/∂{x} = 2·{x}"]


class HalfSquaredError(Node):
    """A learner's own cost, declared as one: it is sorted last and seeds the gradient."""

    is_cost = True

    def __init__(self, y, a):
        Node.__init__(self, [y, a])

    def forward(self):
        y, a = (n.value for n in self.inbound_nodes)
        self.value = 0.5 * float(np.sum((a - y) ** 2))

    def backward(self):
        y, a = self.inbound_nodes
        self.gradients = {y: y.value - a.value, a: a.value - y.value}


def test_a_learners_declarations_name_its_nodes_and_explain_its_step():
    x, y = Input(), Input()
    out = Square(x)
    cost = MSE(y, out)
    graph = topological_sort({x: np.array([[1.0, 2.0]]), y: np.array([[0.0, 1.0]])})
    names = short_names(graph)
    assert names[out] == "sq1"
    assert names[x] == "u"  # the Input takes the slot name the op declares
    text = explain(graph)
    assert "[2/4] sq1 = Square(u)" in text
    assert "local     ∂sq1/∂u = 2·u" in text
    G = cost.gradients[out]
    np.testing.assert_allclose(x.gradients[x], 2 * x.value * G)
    assert graph[-1] is cost


def test_a_learners_declared_cost_is_sorted_last_and_seeds_the_gradient():
    y, a, W, b = Input(), Input(), Input(), Input()
    cost = HalfSquaredError(y, Linear(a, W, b))
    spare = Sigmoid(a)  # a node nobody reads, that must not take the cost's place
    feed = {a: np.ones((2, 3)), W: np.ones((3, 1)), b: np.zeros(1), y: np.zeros((2, 1))}
    graph = topological_sort(feed)
    assert graph[-1] is cost
    assert graph.index(spare) < graph.index(cost)
    text = explain(graph)
    assert "(the cost: backpropagation starts here)" in text.split("\n\n")[1]


def test_a_subclass_of_a_built_in_op_keeps_its_declarations():
    class Dense(Linear):
        pass

    X, W, b, y = Input(), Input(), Input(), Input()
    layer = Dense(X, W, b)
    MSE(y, layer)
    graph = topological_sort(
        {X: np.ones((2, 3)), W: np.ones((3, 1)), b: np.zeros(1), y: np.zeros(2)}
    )
    names = short_names(graph)
    assert (names[layer], names[X], names[W], names[b]) == ("l1", "X", "W", "b")
    assert "∂cost/∂W = Xᵀ·G" in explain(graph)
    assert [role(n) for n in (X, W, b)] == ["data", "trainable", "trainable"]
    assert draw(graph).svg.count("#d98c00") == 3  # the trainables' stroke: the legend, W and b


def test_a_learners_lesson_named_class_is_described_like_the_built_in_one():
    class Sigmoid(Node):  # the lesson's exercise, written by a learner: it declares nothing
        def __init__(self, x):
            Node.__init__(self, [x])

        def forward(self):
            self.value = 1 / (1 + np.exp(-self.inbound_nodes[0].value))

        def backward(self):
            (x,) = self.inbound_nodes
            s = self.value
            self.gradients = {x: sum(s * (1 - s) * c.gradients[self] for c in self.outbound_nodes)}

    x, y = Input(), Input()
    s = Sigmoid(x)
    MSE(y, s)
    graph = topological_sort({x: np.array([[0.5]]), y: np.array([[1.0]])})
    assert short_names(graph)[s] == "s1"
