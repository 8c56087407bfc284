"""Running a graph: sort it, run it forward and backward, and take a gradient step."""

from __future__ import annotations

import functools
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import (
    Any,
    Optional,
    TypeVar,
    cast,
    overload,
)

import numpy as np

from . import _core
from .layers import MSE, _NativeNode
from .node import KERNEL_ERRORS, Input, Node, SkippedGradients, _restated, skipped_gradients
from .quiz import _ElementwiseQuizNode

__all__ = ["topological_sort", "forward_and_backward", "forward_pass", "sgd_update"]

# the library's own nodes already name themselves in the errors they raise
_NAMES_ITSELF = (Input, _NativeNode, _ElementwiseQuizNode)

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
    sinks.sort(key=lambda node: isinstance(node, MSE))  # stable: the cost moves last
    return order + sinks


def _note_failing_node(error: Exception, node: Node, step: str) -> None:
    """A learner's own node's error gets a note saying which node failed (ours name themselves)."""
    if not isinstance(node, _NAMES_ITSELF) and hasattr(error, "add_note"):  # Python 3.11+
        error.add_note(f"(raised by {node.label}.{step}())")


def _run(node: Node, step: str) -> None:
    """Call a node's forward or backward, noting which node failed."""
    try:
        getattr(node, step)()
    except Exception as error:
        _note_failing_node(error, node, step)
        raise


# ---- skipping the gradients nobody reads ------------------------------------------------------

# How one node's backward runs when only some gradients are wanted:
#   (node, None, ())           run backward() as it is (every inbound wanted, or a learner's node)
#   (node, None, skipped)      do not run it: its gradients say these nodes were skipped
#   (node, wanted, skipped)    a built-in node computes only the slots marked True in wanted
BackwardStep = tuple[Node, Optional[tuple[bool, ...]], Sequence[Node]]


@functools.lru_cache(maxsize=8)  # keeps the last few (graph, trainables) pairs alive
def backward_plan(graph: tuple[Node, ...], trainables: tuple[Node, ...]) -> list[BackwardStep]:
    """The backward pass, last node first, that computes only the gradients on a path from the
    cost to a trainable: ∂cost/∂n is needed exactly when n is a trainable or depends on one."""
    members = set(graph)
    for t in trainables:
        if t not in members:
            raise ValueError(f"trainable {getattr(t, 'label', t)} is not in the graph")
    needed = set(trainables)
    for node in graph:  # topological order: a node's inbound nodes come first
        if any(n in needed for n in node.inbound_nodes):
            needed.add(node)
    plan: list[BackwardStep] = []
    for node in reversed(graph):
        wanted = tuple(n in needed for n in node.inbound_nodes)
        skipped = list(dict.fromkeys(n for n in node.inbound_nodes if n not in needed))
        if not node.inbound_nodes:
            plan.append((node, None, [] if node in needed else [node]))
        elif not any(wanted):
            plan.append((node, None, skipped))
        elif all(wanted) or not isinstance(node, _NativeNode):
            plan.append((node, None, []))
        else:
            plan.append((node, wanted, skipped))
    return plan


def backward_pass(
    graph: Sequence[Node],
    trainables: Sequence[Node] | None,
    after_each: Callable[[Node], None] | None = None,
) -> None:
    """``backward()`` on every node, last node first; with ``trainables``, only the gradients
    they need (see ``backward_plan``). ``after_each(node)`` runs after each node's step (the
    teaching tools look at its gradients there)."""
    if trainables is None:
        steps: Iterable[BackwardStep] = ((node, None, ()) for node in reversed(graph))
    else:
        steps = backward_plan(tuple(graph), tuple(trainables))
    for node, wanted, skipped in steps:
        try:
            if wanted is not None:  # a built-in node: its kernel leaves the skipped slots None
                node.wanted = wanted  # type: ignore[attr-defined]
                try:
                    node.backward()
                finally:
                    node.wanted = None  # type: ignore[attr-defined]
                gradients = node.gradients = skipped_gradients(skipped, node.gradients)
                for inbound in skipped:
                    gradients.pop(inbound, None)
            elif skipped:
                node.gradients = skipped_gradients(skipped)
            else:
                node.backward()
        except Exception as error:
            _note_failing_node(error, node, "backward")
            raise
        if after_each is not None:
            after_each(node)


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
    if explain or check_finite:
        from .explain import run  # the teaching path; the plain loop below stays as it is

        text = run(graph, trainables=trainables, explain=explain, check_finite=check_finite)
        if text is not None:
            print(text)  # noqa: T201 (asked for: explain=True)
        return
    try:
        for node in graph:
            node.forward()
    except Exception as error:
        _note_failing_node(error, node, "forward")
        raise
    if trainables is not None:
        backward_pass(graph, trainables)
        return
    try:
        for node in reversed(graph):
            node.backward()
    except Exception as error:
        _note_failing_node(error, node, "backward")
        raise


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
        try:
            updated: Any = _core.sgd_update(t.value, grad, learning_rate)
            if updated is None:  # not the value's shape: numpy's -= rules, or say why not
                updated = _core.sgd_update(t.value, _broadcast_to(t.value, grad), learning_rate)
        except KERNEL_ERRORS as error:
            raise _restated(t, "sgd_update", error) from None
        if updated is not t.value:
            _store(t, updated)


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
