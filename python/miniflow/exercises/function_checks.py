"""The checks of a learner's functions, ``topological_sort`` and ``sgd_update``, and how any
list of checks runs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..activations import Sigmoid
from ..layers import MSE, Linear
from ..node import Input, Node
from ..quiz import Add
from .harness import Stop, attempt, entry_text, first_difference, number, same
from .result import Outcome

Check = tuple[str, str, Callable[[Any], None]]


def run_checks(checks: list[Check], learner_code: Any) -> list[Outcome]:
    """Each check in turn; the first that fails stops the rest (they are marked not run)."""
    outcomes: list[Outcome] = []
    for check, title, run in checks:
        if outcomes and not outcomes[-1].passed:
            outcomes.append(Outcome(check, title, None))
            continue
        try:
            run(learner_code)
        except Stop as stop:
            outcomes.append(Outcome(check, title, False, stop.hint, stop.detail))
        else:
            outcomes.append(Outcome(check, title, True))
    return outcomes


# ---- topological_sort -------------------------------------------------------------------------


def _network() -> tuple[dict[Input, np.ndarray], list[Node]]:
    """The lesson's network, its hidden layer read by two Linears (a fan-out) that share b2."""
    X, W1, b1, y, W2, W3, b2 = (Input(name=n) for n in ("X", "W1", "b1", "y", "W2", "W3", "b2"))
    l1 = Linear(X, W1, b1, name="l1")
    s1 = Sigmoid(l1, name="s1")
    l2, l3 = Linear(s1, W2, b2, name="l2"), Linear(s1, W3, b2, name="l3")
    total = Add(l2, l3, name="add")
    cost = MSE(y, total, name="cost")
    rng = np.random.default_rng(16)
    feed = {X: rng.normal(size=(3, 2)), W1: rng.normal(size=(2, 3)), b1: rng.normal(size=3)}
    feed |= {y: rng.normal(size=3), W2: rng.normal(size=(3, 1)), W3: rng.normal(size=(3, 1))}
    feed[b2] = rng.normal(size=1)
    return feed, [X, W1, b1, y, W2, W3, b2, l1, s1, l2, l3, total, cost]


def _sorted(sort: Any) -> tuple[dict[Input, np.ndarray], list[Node], list[Any]]:
    feed, nodes = _network()
    result = attempt("topological_sort(feed_dict)", sort, feed)
    try:
        order = list(result)
    except TypeError:
        raise Stop(
            f"topological_sort returned {type(result).__name__}, not a list of nodes"
        ) from None
    return feed, nodes, order


def _every_node_once(sort: Any) -> None:
    _, nodes, order = _sorted(sort)
    for node in nodes:
        if order.count(node) > 1:
            raise Stop(
                f"{node.label} appears {order.count(node)} times: emit a node once, when the "
                "last node it reads has been emitted"
            )
    missing = [node.label for node in nodes if node not in order]
    if missing or len(order) != len(nodes):
        raise Stop(
            "the sorted list must hold every node reachable from the fed Inputs, each once",
            f"missing: {', '.join(missing) or 'none'}; {len(order)} items for {len(nodes)} nodes",
        )


def _inbound_first(sort: Any) -> None:
    _, nodes, order = _sorted(sort)
    for i, node in enumerate(order):
        for inbound in node.inbound_nodes:
            if order.index(inbound) > i:
                raise Stop(
                    f"{node.label} comes before {inbound.label}, which it reads: a node is "
                    "ready only once every node it reads has been emitted"
                )
    if order[-1] is not nodes[-1]:
        raise Stop("the cost must come last, so that graph[-1].value is the cost")


def _values_set(sort: Any) -> None:
    feed, _, _ = _sorted(sort)
    unset = [node.label for node, value in feed.items() if node.value is not value]
    if unset:
        raise Stop(
            "set each Input's value from feed_dict as you emit it: n.value = feed_dict[n]",
            f"not set: {', '.join(unset)}",
        )


TOPOLOGICAL_SORT: list[Check] = [
    ("every-node-once", "returns every node, each once", _every_node_once),
    ("order", "each node comes after the nodes it reads, the cost last", _inbound_first),
    ("values", "sets each Input's value from feed_dict", _values_set),
]


# ---- sgd_update -------------------------------------------------------------------------------


def _trainables() -> tuple[list[Input], list[np.ndarray], list[np.ndarray]]:
    rng = np.random.default_rng(16)
    W, b = Input(name="W"), Input(name="b")
    values = [rng.normal(size=(3, 2)), rng.normal(size=2)]
    grads = [rng.normal(size=(3, 2)), rng.normal(size=2)]
    for t, value, grad in zip((W, b), values, grads):
        t.value = value
        t.gradients = {t: grad}
    return [W, b], [v.copy() for v in values], grads


def _descends(update: Any, *rate: float) -> None:
    trainables, before, grads = _trainables()
    attempt("sgd_update(trainables)", update, trainables, *rate)
    learning_rate = rate[0] if rate else 1e-2
    for t, old, grad in zip(trainables, before, grads):
        new = np.asarray(t.value, dtype=float)
        if same(new, old - learning_rate * grad):
            continue
        if same(new, old + learning_rate * grad):
            hint = "it adds the gradient: gradient descent steps against it (−=)"
        elif same(new, old - grad):
            hint = "the learning rate is missing: the step is learning_rate times the gradient"
        elif same(new, old):
            hint = f"{t.name}'s value did not change"
        elif not rate:
            hint = "learning_rate must default to 1e-2, as in the lesson"
        else:
            hint = "the step is −learning_rate · t.gradients[t]"
        index = first_difference(new, old - learning_rate * grad) or ()
        raise Stop(
            hint,
            f"{t.name}.value{entry_text(index)} is {number(new[index])}, expected "
            f"{number((old - learning_rate * grad)[index])} (learning rate {learning_rate:g})",
        )


def _in_place(update: Any) -> None:
    trainables, _, _ = _trainables()
    arrays = [t.value for t in trainables]
    attempt("sgd_update(trainables)", update, trainables, 0.1)
    for t, array in zip(trainables, arrays):
        if t.value is not array:
            raise Stop(
                f"it rebinds {t.name}.value to a new array, so the array fed in feed_dict keeps "
                "its old numbers: update it in place (t.value -= ...)"
            )


SGD_UPDATE: list[Check] = [
    ("descends", "steps against the gradient by the learning rate", lambda f: _descends(f, 0.1)),
    ("in-place", "updates each value in place", _in_place),
    ("default-rate", "the learning rate defaults to 1e-2", _descends),
]
