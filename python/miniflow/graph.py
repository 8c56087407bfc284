"""Running a graph: sort it, run it forward and backward, and take a gradient step."""

from __future__ import annotations

from collections import deque
from typing import Any, Dict, List, Optional, Sequence, overload

from . import _core
from .layers import MSE
from .node import Input, Node, _blamed

__all__ = ["topological_sort", "forward_and_backward", "forward_pass", "sgd_update"]


def _discover(feed_dict: Dict[Node, Any]) -> List[Node]:
    """Every node downstream of the fed Inputs, plus unfed source nodes that already hold a
    value (set with ``node.value = ...``); anything else a node reads is an error."""
    nodes: List[Node] = []
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
                fix = "add it to feed_dict" if isinstance(inbound, Input) else (
                    "feed the Inputs it depends on"
                )
                raise ValueError(
                    f"{inbound.label} feeds {node.label} but is not in feed_dict "
                    f"and has no value: {fix}"
                )
            seen.add(inbound)
            nodes.append(inbound)
    return nodes


def topological_sort(feed_dict: Dict[Node, Any]) -> List[Node]:
    """Sort the nodes reachable from the fed Inputs with Kahn's algorithm.

    Sets each fed Input's value from ``feed_dict`` as it is emitted (the very object given, so
    ``sgd_update`` changes the learner's arrays in place). The order is deterministic: the fed
    Inputs in ``feed_dict``'s order, then breadth first; nodes nobody reads wait to the end, with
    the cost (an ``MSE``) last, so ``graph[-1].value`` is the cost.

    Raises:
        ValueError: a node reads an Input that is not fed and has no value, or the graph has a
            cycle.
    """
    nodes = _discover(feed_dict)
    members = set(nodes)
    in_degree = {node: 0 for node in nodes}
    for node in nodes:
        for consumer in node.outbound_nodes:
            if consumer in members:
                in_degree[consumer] += 1

    ready = deque(node for node in nodes if in_degree[node] == 0)
    order: List[Node] = []
    sinks: List[Node] = []
    while ready:
        node = ready.popleft()
        if isinstance(node, Input) and node in feed_dict:
            node.value = feed_dict[node]
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
    """A learner's own node's error gets a note saying which node failed (ours name themselves,
    except when out of memory: the kernels' MemoryError names only the operand)."""
    named = getattr(node, "_names_its_errors", False) and not isinstance(error, MemoryError)
    if not named and hasattr(error, "add_note"):
        error.add_note(f"(raised by {node.label}.{step}())")


def _run(node: Node, step: str) -> None:
    """Call a node's forward or backward, noting which node failed."""
    try:
        getattr(node, step)()
    except Exception as error:
        _note_failing_node(error, node, step)
        raise


def forward_and_backward(
    graph: Sequence[Node], *, explain: bool = False, check_finite: bool = False
) -> None:
    """Run ``forward()`` on each node in order, then ``backward()`` in reverse.

    Args:
        graph: the list returned by ``topological_sort``.
        explain: print each backward step in the lesson's notation (see ``miniflow.explain``).
        check_finite: raise ``miniflow.NonFiniteError`` (a ``FloatingPointError``) naming the
            first node, forward then backward, whose value or gradient has a NaN or infinity.
    """
    if explain or check_finite:
        from .explain import run  # the teaching path; the plain loop below stays as it is

        text = run(graph, explain=explain, check_finite=check_finite)
        if text is not None:
            print(text)
        return
    step = "forward"
    try:
        for node in graph:
            node.forward()
        step = "backward"
        for node in reversed(graph):
            node.backward()
    except Exception as error:
        _note_failing_node(error, node, step)
        raise


@overload
def forward_pass(output_node: Node, sorted_nodes: Sequence[Node]) -> Any: ...
@overload
def forward_pass(output_node: Sequence[Node]) -> None: ...


def forward_pass(output_node: Any, sorted_nodes: Optional[Sequence[Node]] = None) -> Any:
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
    trainable, in place when its value is a writable float array (so the arrays the learner fed
    change too), else by assigning a new float array.
    """
    for t in trainables:
        try:
            t.value = _core.sgd_update(t.value, t.gradients[t], learning_rate)
        except KeyError:
            raise ValueError(
                f"{t.label} has no gradient: run forward_and_backward(graph) on a graph that "
                "contains it before sgd_update"
            ) from None
        except (ValueError, TypeError) as error:
            grad = t.gradients[t]
            if isinstance(grad, int) and grad == 0:
                continue  # the lesson's gradient of an Input nobody reads: nothing to update
            raise _blamed(t, "sgd_update", error) from None
