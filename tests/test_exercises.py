"""miniflow.exercises: each stage passes the lesson's solution, and each classic mistake, written
into that solution the way a learner writes it, gets its own hint."""

import importlib.util
import json
import pathlib

import pytest

import miniflow
from miniflow.exercises import check, stage, stages

_spec = importlib.util.spec_from_file_location(
    "exercise_solutions", pathlib.Path(__file__).parent / "reference" / "exercise_solutions.py"
)
solutions = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(solutions)


def learner(name, old="", new="", *, stub=False):
    """What the learner passes for stage `name`: the lesson's cells up to it run in one
    namespace, that stage's cell with `old` replaced by `new` (or left as the stub)."""
    namespace = {}
    exec(solutions.SETUP, namespace)
    for each in stages():
        source = solutions.SOLUTIONS[each]
        if each == name:
            if stub:
                source = stage(name).stub
            else:  # one replacement, or several (tuples)
                pairs = zip(old, new) if isinstance(old, tuple) else [(old, new)] * bool(old)
                for before, after in pairs:
                    assert before in source, f"{before!r} is not in the {name} solution"
                    source = source.replace(before, after)
        exec(source, namespace)
        if each == name:
            break
    argument = stage(name).argument
    return namespace if argument == "globals()" else namespace[argument]


def test_the_stages_are_the_lessons_order():
    assert stages() == [
        "add-forward",
        "mul-forward",
        "topological-sort",
        "linear-forward",
        "sigmoid-forward",
        "mse-forward",
        "linear-backward",
        "sigmoid-backward",
        "mse-backward",
        "sgd-update",
        "training",
    ]
    with pytest.raises(ValueError, match="no exercise called 'sigmoid'; the exercises are: add-"):
        check("sigmoid", None)


@pytest.mark.parametrize("name", stages())
def test_the_lessons_solution_passes_every_check(name):
    result = check(name, learner(name))
    assert result.passed, str(result)
    assert result.hints == []
    assert result.score == result.max_score >= 1
    assert str(result).startswith(f"{name}: every check passes")


@pytest.mark.parametrize("name", [n for n in stages() if n != "training"])
def test_miniflows_own_ops_and_functions_pass(name):
    result = check(name, getattr(miniflow, stage(name).argument))
    assert result.passed, str(result)


@pytest.mark.parametrize("name", [n for n in stages() if n != "training"])
def test_a_stub_left_as_it_is_is_not_written_yet(name):
    result = check(name, learner(name, stub=True))
    assert not result.passed
    assert len(result.hints) == 1
    assert result.hints[0].startswith("not written yet: ")
    assert "still raises NotImplementedError" in result.hints[0]
    assert result.grade(5) < 5


# (stage, the solution's text, what the learner wrote instead, the check that fails, its hint)
MISTAKES = [
    ("add-forward", "in self.inbound_nodes:", "in self.inbound_nodes[:2]:", "forward",
     "it adds only the first two inbound nodes"),
    ("mul-forward", "in self.inbound_nodes:", "in self.inbound_nodes[:2]:", "forward",
     "it multiplies only the first two inbound nodes"),
    ("topological-sort", "n.value = feed_dict[n]", "pass", "values",
     "set each Input's value from feed_dict as you emit it"),
    ("topological-sort", "return L", "return L[::-1]", "order",
     "which it reads: a node is ready only once every node it reads has been emitted"),
    ("linear-forward", "np.dot(X, W) + b", "np.dot(X, W)", "forward",
     "the bias b is missing"),
    ("linear-backward", "self.gradients = {n:",
     "raise ValueError('oops')\n        self.gradients = {n:", "runs",
     "backward() raised ValueError: oops"),
    ("linear-forward", "np.dot(X, W)", "np.dot(W, X)", "forward",
     "the product's order: X·W, the inputs times the weights"),
    ("sigmoid-forward", "np.exp(-x)", "np.exp(x)", "forward",
     "the sign in the exponent"),
    ("sigmoid-forward", "self.value = self._sigmoid(", "self._sigmoid(", "forward",
     "self.value after forward() is None"),
    ("mse-forward", ".value.reshape(-1, 1)", ".value", "forward",
     "broadcasts an (m,) y and an (m, 1) a to an (m, m) table: reshape both"),
    ("mse-forward", "np.mean(self.diff**2)", "np.sum(self.diff**2)", "forward",
     "it sums the squares: the cost is their mean"),
    ("linear-backward", "grad_cost, self.inbound_nodes[1].value.T",
     "grad_cost, self.inbound_nodes[1].value",
     "differences", "∂cost/∂X uses W where Wᵀ belongs: it is G·Wᵀ"),
    ("linear-backward", "self.inbound_nodes[0].value.T, grad_cost",
     "self.inbound_nodes[0].value, grad_cost", "differences",
     "∂cost/∂W uses X where Xᵀ belongs: it is Xᵀ·G"),
    ("linear-backward", "self.inbound_nodes[0].value.T, grad_cost",
     "grad_cost.T, self.inbound_nodes[0].value", "differences",
     "∂cost/∂W is transposed: Xᵀ·G has W's shape"),
    ("linear-backward", "axis=0, keepdims=False", "axis=1, keepdims=False", "differences",
     "∂cost/∂b sums G's columns: sum its rows (axis=0)"),
    ("linear-backward", ("np.zeros_like(n.value) for n", "keepdims=False"),
     ("0 for n", "keepdims=True"), "shapes",
     "gradients[b] has shape (1, 3) but b.value has shape (3,)"),
    ("linear-backward", "self.gradients[self.inbound_nodes[2]] +=", "self.gradients[self] =",
     "keys", "gradients are keyed by the wrong node"),
    ("linear-backward", "] +=", "] =", "consumers",
     "only the last consumer counts: add up (+=) the gradient from every consumer"),
    ("linear-backward", "        self.gradients = {n:",
     "        if not self.gradients:\n            self.gradients = {n:", "repeat",
     "a second backward() changes gradients[X]: start each gradient at zero inside backward()"),
    ("sigmoid-backward", "sigmoid * (1 - sigmoid)",
     "self.inbound_nodes[0].value * (1 - self.inbound_nodes[0].value)", "differences",
     "uses the input, x·(1 − x), where the output belongs: s·(1 − s)"),
    ("sigmoid-backward", " * grad_cost", "", "differences",
     "the upstream gradient is missing: multiply by what each consumer sent back"),
    ("sigmoid-backward", "(1 - sigmoid)", "(1 + sigmoid)", "differences",
     "∂cost/∂x disagrees with the finite differences of your forward(); the error stays near"),
    ("sigmoid-backward", "+= sigmoid", "= sigmoid", "consumers",
     "only the last consumer counts"),
    ("mse-backward", "(-2 / self.m)", "(2 / self.m)", "differences",
     "∂cost/∂a has the wrong sign"),
    ("mse-backward", "2 / self.m", "1 / self.m", "differences",
     "∂cost/∂y is half what it should be: the 2 of the square is missing"),
    ("sgd-update", "t.value -= learning_rate * partial",
     "t.value = t.value - learning_rate * partial", "in-place",
     "it rebinds W.value to a new array"),
    ("sgd-update", "t.value -= learning_rate", "t.value += learning_rate", "descends",
     "it adds the gradient: gradient descent steps against it (−=)"),
    ("sgd-update", "learning_rate=1e-2", "learning_rate=0.1", "default-rate",
     "learning_rate must default to 1e-2"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "old", "new", "failing", "hint"), MISTAKES)
def test_each_classic_mistake_gets_its_own_hint(name, old, new, failing, hint):
    result = check(name, learner(name, old, new))
    assert not result.passed
    failed = [o for o in result.outcomes if o.passed is False]
    assert [o.check for o in failed] == [failing], str(result)
    assert hint in result.hints[0], str(result)
    assert f"hint: {result.hints[0]}" in str(result)
    # the report names one entry and its expected number, never a whole array or any code
    report = str(result)
    assert report.count("expected") <= 1
    assert "array(" not in report
    assert "np." not in report
    assert "def " not in report


def test_within_a_stage_each_mistake_has_a_hint_of_its_own():
    hints = {(n, check(n, learner(n, old, new)).hints[0]) for n, old, new, _, _ in MISTAKES}
    assert len(hints) == len(MISTAKES)


def test_a_breadth_first_walk_that_emits_a_node_per_edge_is_told_so():
    def topological_sort(feed_dict):  # a learner's first try: every node reached, in BFS order
        order, queue = [], list(feed_dict)
        while queue:
            n = queue.pop(0)
            if n in feed_dict:
                n.value = feed_dict[n]
            order.append(n)
            queue.extend(n.outbound_nodes)
        return order

    result = check("topological-sort", topological_sort)
    assert [o.check for o in result.outcomes if o.passed is False] == ["every-node-once"]
    assert result.hints[0].startswith("Linear 'l1' appears 3 times: emit a node once")


def test_a_failing_entry_is_named_with_its_expected_number():
    result = check("sigmoid-forward", learner("sigmoid-forward", "np.exp(-x)", "np.exp(x)"))
    (outcome,) = [o for o in result.outcomes if not o.passed]
    # the lesson's golden input [[-9, 4], [-9, 4]]: sigmoid(-9) = 1.23394576e-04
    assert outcome.detail.startswith("value[0, 0] is 0.999877, expected 0.000123395")
    assert "(inputs: x (2, 2))" in outcome.detail


def test_training_with_every_piece_right_and_with_one_wrong():
    right = learner("training")
    assert check("training", right).passed
    wrong = dict(right, sgd_update=learner("sgd-update", "t.value -= l", "t.value += l"))
    result = check("training", wrong)
    assert not result.passed
    assert result.hints == ["the loss does not fall: check each stage before this one"]
    result = check("training", dict(right, sgd_update=None))
    assert "sgd_update not found" in result.hints[0]


def test_the_results_as_gradescope_and_otter_read_them():
    result = check("linear-backward", learner("linear-backward", "] +=", "] ="))
    tests = json.loads(json.dumps(result.tests()))
    assert [t["score"] for t in tests] == [1, 1, 1, 1, 1, 0, 0]
    assert all(t["max_score"] == 1 for t in tests)
    assert tests[5]["name"] == "linear-backward: gradients add up over two consumers"
    assert tests[5]["output"].startswith("only the last consumer counts")
    assert tests[6]["output"] == "not run: an earlier check failed"
    assert result.grade(7) == 5.0


def test_check_prints_nothing(capsys):
    check("linear-backward", learner("linear-backward", "] +=", "] ="))
    check("training", learner("training"))
    assert capsys.readouterr() == ("", "")
