"""Training health: ``health(graph)``, ``HealthMonitor``, and what ``check_finite`` says about
the cause of a NaN and where its node was made."""

import pathlib
import re

import numpy as np
import pytest

import miniflow
from miniflow import (
    MSE,
    Input,
    Linear,
    Node,
    NonFiniteError,
    ReLU,
    forward_and_backward,
    sgd_update,
    topological_sort,
)
from miniflow.datasets import load_diabetes
from miniflow.health import health
from miniflow.monitor import HealthMonitor
from miniflow.training import Standardiser, batches, build_network, train

THIS_FILE = __file__


def line_of(text):
    """The line of this file that ends with the comment `text` (once)."""
    lines = pathlib.Path(THIS_FILE).read_text(encoding="utf-8").splitlines()
    found = [i + 1 for i, line in enumerate(lines) if line.endswith(f"  {text}")]
    assert len(found) == 1, found
    return found[0]


@pytest.fixture(scope="module")
def diabetes():
    X, y, _, _ = load_diabetes()
    return Standardiser.fit(X).transform(X), Standardiser.fit(y).transform(y)


# ---- where a node was made, and what made it non-finite ---------------------------------------


def test_a_node_records_the_line_of_the_learners_code_that_made_it():
    class Square(Node):
        def __init__(self, x):
            Node.__init__(self, [x])

    X = Input()  # site: X
    square = Square(X)  # site: square
    assert X.creation_site == (THIS_FILE, line_of("# site: X"))
    # a subclass's own __init__ is walked out of: the line that built it is named
    assert square.creation_site == (THIS_FILE, line_of("# site: square"))


def test_nodes_made_inside_miniflow_are_placed_at_the_learners_call():
    net = build_network(3, rng=np.random.default_rng(0))  # site: build_network
    assert {n.creation_site for n in net.graph} == {(THIS_FILE, line_of("# site: build_network"))}


def test_recording_creation_sites_can_be_switched_off():
    miniflow.record_creation_sites(False)
    try:
        assert Input().creation_site is None
    finally:
        miniflow.record_creation_sites(True)
    assert Input().creation_site is not None


def test_a_product_that_overflows_names_its_largest_operand_and_its_line():
    X, W, b, y = Input(name="X"), Input(name="W"), Input(name="b"), Input(name="y")
    l1 = Linear(X, W, b, name="l1")  # site: overflowing linear
    MSE(y, l1)
    graph = topological_sort(
        {X: np.array([[1e300, 1.0]]), W: np.array([[1e10], [1.0]]), b: np.zeros(1), y: [0.0]}
    )
    with pytest.raises(NonFiniteError) as caught:
        forward_and_backward(graph, check_finite=True)
    error = caught.value
    assert error.node is l1
    assert error.cause.startswith(
        "an overflow from finite operands; the largest is Input X, up to 1e+300"
    )
    lines = str(error).splitlines()
    assert lines[-2] == f"  cause: {error.cause}"
    assert lines[-1] == f"  made at {THIS_FILE}:{line_of('# site: overflowing linear')}"


def test_a_value_fed_non_finite_is_said_to_come_from_the_feed():
    X, W, b, y = Input(name="X"), Input(name="W"), Input(name="b"), Input(name="y")
    MSE(y, Linear(X, W, b))
    graph = topological_sort({X: [[np.inf]], W: [[1.0]], b: [0.0], y: [0.0]})
    with pytest.raises(NonFiniteError) as caught:
        forward_and_backward(graph, check_finite=True)
    assert caught.value.node is X
    assert caught.value.cause == "it was fed non-finite (feed_dict or .value): clean the data"


def train_until_non_finite(net, X, y, learning_rate, rng):
    """The lesson's loop with check_finite on: the NonFiniteError and the steps done before it."""
    steps = 0
    for _ in range(10):
        for rows in batches(len(X), 11, "bootstrap", rng):
            net.X.value, net.y.value = X[rows], y[rows]
            try:
                forward_and_backward(net.graph, trainables=net.trainables, check_finite=True)
            except NonFiniteError as error:
                return error, steps
            sgd_update(net.trainables, learning_rate)
            steps += 1
    raise AssertionError("training stayed finite")


def test_a_learning_rate_that_makes_the_loss_nan_gets_one_message_with_step_cause_and_line(
    diabetes,
):
    X, y = diabetes
    rng = np.random.default_rng(0)
    net = build_network(X.shape[1], rng=rng)  # site: diverging network
    error, steps = train_until_non_finite(net, X, y, 10.0, rng)
    assert error.node is net.cost
    message = str(error)
    assert message.startswith("MSE cost forward: its value has")
    # the largest operand is the output layer, whose weights sgd_update drove up
    assert "  cause: an overflow from finite operands; the largest is Linear l2, up to " in message
    assert f"; after sgd_update step {steps} at learning rate 10: lower the" in message
    assert message.endswith(f"  made at {THIS_FILE}:{line_of('# site: diverging network')}")


def test_weights_sgd_update_made_non_finite_name_the_step_and_learning_rate():
    X, W, b, y = Input(name="X"), Input(name="W"), Input(name="b"), Input(name="y")
    MSE(y, Linear(X, W, b))
    graph = topological_sort({X: [[1e200]], W: [[1e200]], b: [0.0], y: [0.0]})
    trainables = [W, b]
    # ∂cost/∂W = Xᵀ·G is finite in the first pass, but 1e3 times it overflows W
    forward_and_backward(graph, trainables=trainables)
    with np.errstate(over="ignore"):
        sgd_update(trainables, 1e3)
    with pytest.raises(NonFiniteError) as caught:
        forward_and_backward(graph, trainables=trainables, check_finite=True)
    assert caught.value.node is W
    assert caught.value.cause.startswith(
        "sgd_update step 1 (learning rate 1000) made it non-finite"
    )


# ---- health(graph): one step's report --------------------------------------------------------


def rms(a):
    return float(np.sqrt(np.mean(np.square(a))))


def one_step(diabetes, scale=1.0):
    """The lesson's network (weights ×scale) after one forward_and_backward on a batch."""
    X, y = diabetes
    net = build_network(X.shape[1], rng=np.random.default_rng(0))
    net.W1.value *= scale
    net.X.value, net.y.value = X[:11], y[:11]
    forward_and_backward(net.graph)
    return net


def test_the_report_holds_each_parameters_gradient_and_update_ratio(diabetes):
    net = one_step(diabetes)
    report = health(net.graph, learning_rate=0.01)
    assert [p.name for p in report.parameters] == ["W1", "b1", "W2", "b2"]
    W1, b1, W2, _ = report.parameters
    g = net.W1.gradients[net.W1]
    assert W1.gradient == pytest.approx(rms(g))
    assert W1.update == pytest.approx(0.01 * rms(g))
    assert W1.log_ratio == pytest.approx(
        np.log10(0.01 * np.linalg.norm(g) / np.linalg.norm(net.W1.value))
    )
    # the biases start at zero: no ratio (never a division by zero), judged by update size
    assert b1.zero_start
    assert b1.log_ratio is None
    assert b1.update == pytest.approx(0.01 * rms(net.b1.gradients[net.b1]))
    assert not W2.zero_start
    # the sigmoid's units: the share its own rule calls saturated, by hand
    (units,) = report.units
    s = net.graph[[n.name for n in net.graph].index("s1")].value
    assert units.name == "s1"
    assert units.share == pytest.approx(np.mean((s < 0.0075) | (s > 0.9925)))
    # gradient by depth: each layer's parameters together, first layer first
    first = np.concatenate([g.ravel(), net.b1.gradients[net.b1]])
    assert report.depth[0] == ("l1", pytest.approx(rms(first)))
    assert report.depth[-1][0] == "l2"


def test_the_lessons_network_at_default_settings_has_no_finding(diabetes):
    report = health(one_step(diabetes).graph, learning_rate=0.01)
    assert report.findings == []
    assert str(report).endswith("\nno findings")


def test_weights_scaled_up_ten_times_flag_saturated_sigmoid_units(diabetes):
    net = one_step(diabetes, scale=10)
    report = health(net.graph, learning_rate=0.01)
    saturated = [f for f in report.findings if f.kind == "saturated"]
    assert [(f.node, f.advice) for f in saturated] == [
        ("s1", "scale the initial weights by 1/√fan-in or standardise the inputs")
    ]
    s = net.graph[[n.name for n in net.graph].index("s1")].value
    share = float(np.mean(np.abs(s - 0.5) > 0.4925))
    assert saturated[0].value == pytest.approx(share)
    assert share > 0.25
    assert str(saturated[0]) == (
        f"s1: {share:.0%} of units saturated: "
        "scale the initial weights by 1/√fan-in or standardise the inputs"
    )


def relu_network(diabetes, first_bias):
    X_, y_ = diabetes
    rng = np.random.default_rng(1)
    X, y, W1, b1, W2, b2 = (Input(name=n) for n in ("X", "y", "W1", "b1", "W2", "b2"))
    MSE(y, Linear(ReLU(Linear(X, W1, b1), name="r1"), W2, b2))
    graph = topological_sort(
        {
            X: X_[:50],
            y: y_[:50],
            W1: rng.standard_normal((10, 8)) / np.sqrt(10),
            b1: np.full(8, first_bias),
            W2: rng.standard_normal((8, 1)) / np.sqrt(8),
            b2: np.zeros(1),
        }
    )
    forward_and_backward(graph)
    return graph


def test_a_relu_network_whose_first_bias_is_minus_10_has_its_dead_units_flagged(diabetes):
    assert health(relu_network(diabetes, 0.0), learning_rate=0.01).findings == []
    report = health(relu_network(diabetes, -10.0), learning_rate=0.01)
    kinds = {(f.kind, f.node): f for f in report.findings}
    dead = kinds["saturated", "r1"]
    assert dead.value == 1.0
    assert str(dead).startswith("r1: 100% of units dead: start the biases before it at 0")
    # nothing reaches the first layer's weights through dead units
    assert kinds["no gradient", "W1"].value == 0.0


def test_a_learners_node_is_judged_by_its_declared_rule_or_by_its_gradients_alone(diabetes):
    class Clipped(Node):
        """min(max(x, −1), 1), elementwise: units at either bound pass no gradient."""

        def __init__(self, x, name=None):
            Node.__init__(self, [x], name=name)

        def forward(self):
            self.value = np.clip(self.inbound_nodes[0].value, -1, 1)

        def backward(self):
            x = self.inbound_nodes[0]
            G = sum(c.gradients[self] for c in self.outbound_nodes)
            self.gradients = {x: G * (np.abs(x.value) < 1)}

    class Declared(Clipped):
        saturation_word = "clipped"
        saturation_advice = "make the inputs smaller"

        @staticmethod
        def saturated(value):
            return np.abs(value) >= 1

    def graph_with(kind):
        X_, y_ = diabetes
        X, y, W, b, W2, b2 = (Input(name=n) for n in ("X", "y", "W", "b", "W2", "b2"))
        MSE(y, Linear(kind(Linear(X, W, b), name="c"), W2, b2))
        graph = topological_sort(
            {
                X: X_[:20] * 10,
                y: y_[:20],
                W: np.ones((10, 4)),
                b: np.zeros(4),
                W2: np.ones((4, 1)),
                b2: np.zeros(1),
            }
        )
        forward_and_backward(graph)
        return graph

    graph = graph_with(Declared)
    declared = health(graph, learning_rate=0.01)
    (units,) = declared.units
    assert (units.name, units.kind, units.word) == ("c", "Declared", "clipped")
    value = graph[[n.name for n in graph].index("c")].value
    share = float(np.mean(np.abs(value) >= 1))
    assert units.share == pytest.approx(share)
    assert share > 0.25
    assert f"c: {share:.0%} of units clipped: make the inputs smaller" in map(
        str, declared.findings
    )
    plain = health(graph_with(Clipped), learning_rate=0.01)
    assert plain.units == []
    assert [p.name for p in plain.parameters] == ["W", "b", "W2", "b2"]


def test_the_report_prints_as_a_table_and_shows_as_html(diabetes):
    report = health(one_step(diabetes, scale=10).graph, learning_rate=0.01)
    lines = str(report).splitlines()
    assert lines[0] == "health (learning rate 0.01; guide: update:data about 10^-3)"
    assert lines[1].split() == ["node", "shape", "gradient", "update", "update:data"]
    assert lines[3].split()[0] == "b1"
    assert lines[3].endswith("started at 0")
    assert lines[6].split() == ["s1", "Sigmoid", f"{report.units[0].share:.0%}", "saturated"]
    assert lines[7].startswith("gradient by depth: l1 ")
    assert lines[8:] == [f"- {f}" for f in report.findings]
    page = report._repr_html_()
    assert page.count("<tr>") == 1 + 4 + 1
    assert "<li>s1: " in page


# ---- HealthMonitor: the figures over training -------------------------------------------------


def monitored(diabetes, epochs, learning_rate=0.01, scale=1.0):
    """The lesson's network trained at the command's defaults (batch 11, bootstrap), watched."""
    X, y = diabetes
    rng = np.random.default_rng(0)
    net = build_network(X.shape[1], rng=rng)
    net.W1.value *= scale
    monitor = HealthMonitor(net.graph, net.trainables, learning_rate)
    with np.errstate(all="ignore"):  # a learning rate of 10 overflows: the report says so
        train(net, X, y, epochs=epochs, learning_rate=learning_rate, rng=rng, health=monitor)
    return net, monitor


def test_training_the_lessons_network_at_default_settings_has_no_finding_in_any_epoch(diabetes):
    _, monitor = monitored(diabetes, epochs=100)
    assert len(monitor.epochs) == 100
    assert monitor.findings() == []
    assert monitor.summary().endswith("\nno findings in any epoch")
    # the ratios stay within the guide's band, near 10^-3 for the first layer
    for ratios in monitor.ratios()["W1"], monitor.ratios()["W2"]:
        assert all(-4 < r < -2 for r in ratios)
    assert monitor.ratios()["b1"] == [None] * 100


def test_a_learning_rate_of_10_flags_the_update_ratio_in_the_first_epoch(diabetes):
    _, monitor = monitored(diabetes, epochs=1, learning_rate=10)
    found = {(f.kind, f.node): f for f in monitor.epochs[0].findings}
    ratio = found["update ratio", "W2"]
    assert ratio.since == 1
    assert ratio.value > -1.5
    assert str(ratio) == (
        f"W2: updates are 10^{ratio.value:.1f} of the weights (guide 10^-3): "
        "lower the learning rate (since epoch 1)"
    )
    # the bias that started at zero is judged by the size of its updates
    assert found["update size", "b2"].value > 0.1


def test_a_finding_says_the_epoch_it_began(diabetes):
    X, y = diabetes
    rng = np.random.default_rng(0)
    net = build_network(X.shape[1], rng=rng)
    monitor = HealthMonitor(net.graph, net.trainables, 0.01)
    new = []

    def epoch(scale):
        net.W1.value *= scale
        train(net, X, y, epochs=1, learning_rate=0.01, rng=rng, health=monitor)
        new.append(
            [(f.kind, f.node) for f in monitor.epochs[-1].findings if f.since == len(new) + 1]
        )

    for scale in (1, 1, 10, 1):  # saturated from the third epoch on
        epoch(scale)
    assert new == [[], [], [("saturated", "s1")], []]
    assert [f.since for f in monitor.epochs[-1].findings if f.kind == "saturated"] == [3]
    assert "(since epoch 3)" in monitor.summary()


def test_a_nan_from_finite_inputs_is_said_to_be_an_invalid_operation():
    class Sqrt(Node):
        def __init__(self, x):
            Node.__init__(self, [x])

        def forward(self):
            with np.errstate(invalid="ignore"):
                self.value = np.sqrt(self.inbound_nodes[0].value)

        def backward(self):
            x = self.inbound_nodes[0]
            self.gradients = {x: 0.5 / self.value * self.outbound_nodes[0].gradients[self]}

    X, y = Input(name="X"), Input(name="y")
    root = Sqrt(X)  # site: sqrt
    MSE(y, root)
    graph = topological_sort({X: np.array([[4.0], [-1.0]]), y: np.zeros(2)})
    with pytest.raises(NonFiniteError) as caught:
        forward_and_backward(graph, check_finite=True)
    assert caught.value.node is root
    assert caught.value.cause.startswith("an invalid operation on finite operands")
    assert str(caught.value).endswith(f"  made at {THIS_FILE}:{line_of('# site: sqrt')}")


def test_a_monitor_refuses_to_close_an_epoch_it_never_measured(diabetes):
    net = one_step(diabetes)
    monitor = HealthMonitor(net.graph, net.trainables, 0.01)
    with pytest.raises(ValueError, match=r"no step was measured; call update\(\) after each step"):
        monitor.end_epoch()
    assert monitor.summary() == "health: no epoch measured"


# ---- bad input: a clear error naming what is wrong ---------------------------------------------


def small_graph(trainables=None):
    X, W, b, y = Input(name="X"), Input(name="W"), Input(name="b"), Input(name="y")
    MSE(y, Linear(X, W, b))
    graph = topological_sort(
        {X: np.array([[1.0, 2.0]]), W: np.array([[0.5], [-0.5]]), b: np.zeros(1), y: np.ones(1)}
    )
    forward_and_backward(graph, trainables=trainables(W) if trainables else None)
    return graph


def named(graph, name):
    (node,) = [n for n in graph if n.name == name]
    return node


@pytest.mark.parametrize("rate", [0, -0.1, float("nan"), float("inf")])
def test_a_learning_rate_that_is_not_positive_and_finite_is_refused(rate):
    graph = small_graph()
    with pytest.raises(
        ValueError, match=rf"learning_rate must be a positive finite number, not {rate}"
    ):
        health(graph, learning_rate=rate)
    with pytest.raises(ValueError, match="learning_rate must be a positive finite number"):
        HealthMonitor(graph, learning_rate=rate)


@pytest.mark.parametrize("rate", ["0.1", True, np.array([0.1, 0.2])])
def test_a_learning_rate_that_is_not_a_number_is_refused(rate):
    graph = small_graph()
    with pytest.raises(TypeError, match="learning_rate must be a number"):
        health(graph, learning_rate=rate)


def test_a_numpy_learning_rate_is_a_number():
    graph = small_graph()
    (p, _) = health(graph, learning_rate=np.float32(0.5)).parameters
    G = np.array([[1.0], [2.0]]) * 2 * (0.5 * 1 - 0.5 * 2 - 1)  # Xᵀ·∂cost/∂l1, by hand
    np.testing.assert_allclose(p.update, 0.5 * np.sqrt(np.mean(G**2)))


def test_a_gradient_skipped_by_trainables_is_said_to_be_skipped():
    graph = small_graph(trainables=lambda W: [W])
    with pytest.raises(ValueError, match=r"Input 'b'.*skipped.*trainables"):
        health(graph)


def test_something_other_than_a_sorted_graph_is_refused_by_name():
    graph = small_graph()
    with pytest.raises(
        TypeError, match=r"health\(graph\) needs the list topological_sort returned, not int 3"
    ):
        health(3)
    with pytest.raises(ValueError, match="not in topological order: cost comes before its input y"):
        health(graph[::-1])
    with pytest.raises(TypeError, match=r"HealthMonitor\(graph\) needs the list"):
        HealthMonitor("graph")


def test_check_finite_says_so_when_the_nodes_site_was_not_recorded():
    miniflow.record_creation_sites(False)
    try:
        X, y = Input(name="X"), Input(name="y")
        MSE(y, X)
    finally:
        miniflow.record_creation_sites(True)
    graph = topological_sort({X: np.array([np.inf]), y: np.zeros(1)})
    with pytest.raises(NonFiniteError) as caught:
        forward_and_backward(graph, check_finite=True)
    assert str(caught.value).splitlines()[-1] == (
        "  made at: not recorded (it was made after record_creation_sites(False))"
    )


@pytest.mark.parametrize("switch", ["no", 0, None])
def test_record_creation_sites_takes_only_true_or_false(switch):
    with pytest.raises(TypeError, match=r"record_creation_sites\(enabled\) takes True or False"):
        miniflow.record_creation_sites(switch)
    assert Input().creation_site is not None  # still on


def test_the_html_tables_headers_line_up_with_their_columns():
    """A browser centres a <th> and Jupyter right-aligns cells: each cell says left, as the
    text table is (looked at in headless Chromium)."""
    page = health(small_graph(), learning_rate=0.1)._repr_html_()
    cells = re.findall(r"<t[hd]\b[^>]*>", page)
    assert len(cells) == 5 + 5 + 5
    assert all("text-align:left" in cell for cell in cells), cells


def test_trainables_that_are_not_a_list_of_inputs_are_refused_by_name():
    graph = small_graph()
    W, l1 = named(graph, "W"), graph[4]  # X, y, W and b (in some order), l1, cost
    assert type(l1).__name__ == "Linear"
    with pytest.raises(
        TypeError, match=r"trainables must be a list of Inputs, like \[W, b\], not Input 'W'"
    ):
        health(graph, trainables=W)
    # a Linear holds no gradient of its own: "run forward_and_backward first" would mislead
    with pytest.raises(ValueError, match=r"trainable Linear #\d+ is not an Input"):
        health(graph, trainables=[l1])


def test_a_trainable_listed_twice_is_reported_once():
    graph = small_graph()
    W = named(graph, "W")
    assert [p.name for p in health(graph, trainables=[W, W]).parameters] == ["W"]


def test_a_bias_that_did_not_start_at_zero_is_not_said_to_have():
    # the lesson's example: b = -3, judged by its update's size as a bias, but not "from 0"
    X, W, b, y = Input(name="X"), Input(name="W"), Input(name="b"), Input(name="y")
    MSE(y, Linear(X, W, b))
    graph = topological_sort(
        {X: np.array([[1.0, 2.0]]), W: np.array([[0.5], [-0.5]]), b: np.array([-3.0]), y: [1.0]}
    )
    forward_and_backward(graph)
    report = health(graph, learning_rate=1.0)  # ∂cost/∂b = -2·(1 - (0.5 - 1 - 3)) = -9
    (row,) = [line for line in str(report).splitlines() if line.startswith("b ")]
    assert row.endswith("a bias: by size")
    (finding,) = [f for f in report.findings if f.node == "b"]
    assert (
        str(finding) == "b: updates of 9.0e+00 per step, large for a bias: lower the learning rate"
    )
    assert report.parameters[1].zero_start  # still judged by size, not by its ratio
    assert not report.parameters[1].from_zero
