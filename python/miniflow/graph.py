"""Running a graph: sort it, run it forward and backward, and take a gradient step."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, NoReturn, Protocol, TypeVar, cast, overload

import numpy as np

from . import _core
from .gradients import SkippedGradients, skipped_gradients
from .node import KERNEL_ERRORS, Input, Node, _restated
from .op import Op

__all__ = ["topological_sort", "forward_and_backward", "forward_pass", "sgd_update"]

# a learner's {X: X_, y: y_} is a dict[Input, ...], and a Mapping's key type is invariant: so
# topological_sort takes a mapping keyed by any kind of Node
AnyNode = TypeVar("AnyNode", bound=Node)


def _discover(feed_dict: Mapping[Node, Any]) -> list[Node]:
    """Every node downstream of the fed Inputs, plus unfed source nodes that already hold a
    value (set with ``node.value = ...``); anything else a node reads is an error."""
    nodes: list[Node] = []
    seen = set()
    queue = deque(feed_dict)
    while queue:
        node = queue.popleft()
        if node in seen:
            continue
        seen.add(node)
        nodes.append(node)
        queue.extend(node.outbound_nodes)
    for node in nodes:  # grows while we look: a constant source is appended and checked too
        for inbound in node.inbound_nodes:
            if inbound in seen:
                continue
            if inbound.inbound_nodes or inbound.value is None:
                fix = (
                    "add it to feed_dict"
                    if isinstance(inbound, Input)
                    else "feed the Inputs it depends on"
                )
                raise ValueError(
                    f"{inbound.label} feeds {node.label} but is not in feed_dict "
                    f"and has no value: {fix}"
                )
            seen.add(inbound)
            nodes.append(inbound)
    return nodes


def topological_sort(feed_dict: Mapping[AnyNode, Any]) -> list[Node]:
    """Sort the nodes reachable from the fed Inputs with Kahn's algorithm.

    Sets each fed Input's value from ``feed_dict`` as it is emitted (the very object given, so
    ``sgd_update`` changes the learner's arrays in place). The order is deterministic: the fed
    Inputs in ``feed_dict``'s order, then breadth first; nodes nobody reads wait to the end, with
    the cost (an ``MSE``) last, so ``graph[-1].value`` is the cost.

    Raises:
        TypeError: a key of ``feed_dict`` is not a node.
        ValueError: a node reads an Input that is not fed and has no value, or the graph has a
            cycle.
    """
    for key in feed_dict:
        if not isinstance(key, Node):
            raise TypeError(
                f"feed_dict's keys must be Input nodes (X = Input(); {{X: X_}}), "
                f"not the {type(key).__name__} {key!r}"
            )
    # every key is a Node (checked above): what the invariance of Mapping's keys hides from mypy
    fed = cast("Mapping[Node, Any]", feed_dict)
    nodes = _discover(fed)
    members = set(nodes)
    in_degree = dict.fromkeys(nodes, 0)
    for node in nodes:
        for consumer in node.outbound_nodes:
            if consumer in members:
                in_degree[consumer] += 1

    ready = deque(node for node in nodes if in_degree[node] == 0)
    order: list[Node] = []
    sinks: list[Node] = []
    while ready:
        node = ready.popleft()
        if isinstance(node, Input) and node in fed:
            node.value = fed[node]
        consumers = [c for c in node.outbound_nodes if c in members]
        (order if consumers else sinks).append(node)
        for consumer in consumers:
            in_degree[consumer] -= 1
            if in_degree[consumer] == 0:
                ready.append(consumer)

    if len(order) + len(sinks) != len(nodes):
        stuck = ", ".join(node.label for node in nodes if in_degree[node] > 0)
        raise ValueError(f"the graph has a cycle through {stuck}")
    sinks.sort(key=lambda node: node.is_cost is True)  # stable: the cost moves last
    return order + sinks


# ---- running the graph ------------------------------------------------------------------------


class Watcher(Protocol):
    """A teaching tool that looks at each node right after its step (``explain``,
    ``check_finite``): it may raise to stop the run."""

    def after_forward(self, node: Node) -> None: ...
    def after_backward(self, node: Node) -> None: ...


def _raise_located(error: Exception, node: Node, step: str) -> NoReturn:
    """Raise the error a node's step raised, saying which node: a built-in op's kernel errors
    are restated with its name, a learner's node's errors get a note (Python 3.11+)."""
    if isinstance(node, Op) and isinstance(error, KERNEL_ERRORS):
        located = _restated(node, step, error)
        if located is not error:
            raise located from None
    elif not isinstance(node, (Op, Input)) and hasattr(error, "add_note"):
        error.add_note(f"(raised by {node.label}.{step}())")
    raise error


def _run(node: Node, step: str) -> None:
    """Call a node's forward or backward, saying which node failed."""
    try:
        getattr(node, step)()
    except Exception as error:
        _raise_located(error, node, step)


class BackwardPlan:
    """The backward pass that computes only the gradients on a path from the cost to a
    trainable: ∂cost/∂n is needed exactly when n is a trainable or depends on one.

    ``steps`` holds, last node first, each node with the inbound nodes (an Input: itself) whose
    gradients it must compute: a node that declares ``skips_unneeded`` gets that set as
    ``backward(needed)``; any other runs whole when something it reads is needed, else not at
    all (its gradients say they were skipped).
    """

    def __init__(self, graph: Sequence[Node], trainables: Sequence[Node]) -> None:
        members = set(graph)
        for t in trainables:
            if t not in members:
                raise ValueError(f"trainable {getattr(t, 'label', t)} is not in the graph")
        needed = set(trainables)
        for node in graph:  # topological order: a node's inbound nodes come first
            if any(n in needed for n in node.inbound_nodes):
                needed.add(node)
        self.steps: list[tuple[Node, frozenset[Node]]] = [
            (node, frozenset(n for n in node.inbound_nodes or (node,) if n in needed))
            for node in reversed(graph)
        ]

    # the plans of the last few (graph, trainables) pairs, so a training loop makes each once
    _recent: ClassVar[dict[tuple[tuple[Node, ...], tuple[Node, ...]], BackwardPlan]] = {}

    @classmethod
    def of(cls, graph: Sequence[Node], trainables: Sequence[Node]) -> BackwardPlan:
        """The plan for this graph and these trainables, made on first use."""
        key = (tuple(graph), tuple(trainables))
        plan = cls._recent.get(key)
        if plan is None:
            plan = cls._recent[key] = cls(graph, trainables)
            if len(cls._recent) > 8:
                del cls._recent[next(iter(cls._recent))]  # the oldest
        return plan


def run_graph(
    graph: Sequence[Node], trainables: Sequence[Node] | None, watcher: Watcher | None
) -> None:
    """``forward()`` on each node in order, then ``backward()`` in reverse (only the needed
    gradients with `trainables`, see ``BackwardPlan``); `watcher` looks at each step. A plain
    ``Input``'s ``forward()`` is not called (it only keeps the fed value; a subclass's runs)."""
    try:
        for node in graph:
            if type(node) is not Input:  # a fed Input keeps its value: nothing to compute
                node.forward()
            if watcher is not None:
                watcher.after_forward(node)
    except Exception as error:
        _raise_located(error, node, "forward")
    try:
        if trainables is None:
            for node in reversed(graph):
                node.backward()
                if watcher is not None:
                    watcher.after_backward(node)
        else:
            for node, needed in BackwardPlan.of(graph, trainables).steps:
                if node.skips_unneeded:
                    node.backward(needed)  # type: ignore[call-arg]  # declared by skips_unneeded
                elif needed:
                    node.backward()
                else:  # a learner's node nobody needs: not run, and its gradients say so
                    node.gradients = skipped_gradients(dict.fromkeys(node.inbound_nodes))
                if watcher is not None:
                    watcher.after_backward(node)
    except Exception as error:
        _raise_located(error, node, "backward")


def forward_and_backward(
    graph: Sequence[Node],
    *,
    trainables: Sequence[Node] | None = None,
    explain: bool = False,
    check_finite: bool = False,
) -> None:
    """Run ``forward()`` on each node in order, then ``backward()`` in reverse.

    Args:
        graph: the list returned by ``topological_sort``.
        trainables: compute only the gradients the update of these nodes needs (those on a
            path from the cost to one of them): the data's ``G·Wᵀ`` and the target's gradient
            are skipped. Reading a skipped gradient raises a KeyError that says so. By default
            every gradient is computed, as in the lesson.
        explain: print each backward step in the lesson's notation (see ``miniflow.explain``).
        check_finite: raise ``miniflow.NonFiniteError`` (a ``FloatingPointError``) naming the
            first node, forward then backward, whose value or gradient has a NaN or infinity.
    """
    if not (explain or check_finite):
        run_graph(graph, trainables, None)
        return
    from .explain import Explainer  # the teaching tools build on this module

    watcher = Explainer(graph, explain=explain, check_finite=check_finite)
    run_graph(graph, trainables, watcher)
    if explain:
        print(watcher.text())  # noqa: T201 (asked for: explain=True)


@overload
def forward_pass(output_node: Node, sorted_nodes: Sequence[Node]) -> Any: ...
@overload
def forward_pass(output_node: Sequence[Node]) -> None: ...


def forward_pass(output_node: Any, sorted_nodes: Sequence[Node] | None = None) -> Any:
    """Run ``forward()`` on every node, in order.

    Both forms from the lesson work: ``forward_pass(output_node, sorted_nodes)`` returns
    ``output_node.value``; ``forward_pass(graph)`` returns None.
    """
    graph = output_node if sorted_nodes is None else sorted_nodes
    for node in graph:
        _run(node, "forward")
    return None if sorted_nodes is None else output_node.value


def sgd_update(trainables: Sequence[Node], learning_rate: float = 1e-2) -> None:
    """Stochastic gradient descent: ``t.value -= learning_rate * t.gradients[t]`` for each
    trainable.

    A float array is updated in place, whatever its layout and float type (so the arrays the
    learner fed change too); a read-only one is an error. Anything else (a list, an integer
    array) is replaced by a new float array. The gradient must have the value's shape or
    broadcast to it, as for the lesson's ``-=``.
    """
    for t in trainables:
        try:
            grad = t.gradients[t]
        except KeyError:
            raise _no_gradient(t) from None
        value = t.value
        try:
            updated: Any = _core.sgd_update(value, grad, learning_rate)
            if updated is None:  # not the value's shape: numpy's -= rules, or say why not
                updated = _core.sgd_update(value, _broadcast_to(value, grad), learning_rate)
        except KERNEL_ERRORS as error:
            raise _restated(t, "sgd_update", error) from None
        if updated is not value:
            _store(t, updated)
    record = LAST_UPDATES
    if trainables is not record.trainables:  # another list: the same nodes keep their count
        if list(trainables) != list(record.trainables):
            record.steps = 0
        record.trainables = trainables
    record.steps += 1
    record.learning_rate = learning_rate


class UpdateRecord:
    """What ``sgd_update`` did last, for ``check_finite`` to say a blow-up followed it: the
    trainables, how many steps in a row they have had, and the last learning rate."""

    def __init__(self) -> None:
        self.trainables: Sequence[Node] = ()
        self.steps = 0
        self.learning_rate = 0.0


LAST_UPDATES = UpdateRecord()


def _no_gradient(t: Node) -> ValueError:
    gradients = t.gradients
    if isinstance(gradients, SkippedGradients) and t in gradients.skipped:
        return ValueError(
            f"{t.label} has no gradient: forward_and_backward(graph, trainables=...) skipped "
            "it; list it in trainables"
        )
    return ValueError(
        f"{t.label} has no gradient: run forward_and_backward(graph) on a graph that "
        "contains it before sgd_update"
    )


def _broadcast_to(value: Any, grad: Any) -> Any:
    """The gradient stretched to the value's shape, as numpy's ``value -= grad`` would; a
    gradient that does not broadcast to it (a transposed one, say) is an error."""
    shape, grad_shape = np.shape(value), np.shape(grad)
    # numpy's rule, read from the right: each gradient axis is 1 or the value's
    fits = len(grad_shape) <= len(shape) and all(
        g in (1, v) for g, v in zip(reversed(grad_shape), reversed(shape))
    )
    if not fits:
        raise ValueError(
            f"its value has shape {shape} but its gradient has shape {grad_shape}, "
            "which does not broadcast to it"
        )
    return np.broadcast_to(grad, shape)


def _store(t: Node, updated: np.ndarray) -> None:
    """Put the kernel's result back: into the fed float array itself when it is one (the
    kernel updates only C-ordered arrays of its computing dtype in place), else as a new value."""
    value = t.value
    if not (isinstance(value, np.ndarray) and value.dtype.kind == "f"):
        t.value = updated
    elif not value.flags.writeable:
        raise ValueError(
            f"{t.label} sgd_update: its value is a read-only array, so it cannot be updated in "
            "place; feed a writable copy (np.array(...))"
        )
    else:
        np.copyto(value, updated, casting="same_kind")
