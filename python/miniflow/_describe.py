"""Shared by the teaching tools: short lesson-style names for nodes, roles, what each node
received in the backward pass, and value summaries."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .gradients import add_up, consumers
from .node import Input, Node, inbound_names
from .op import builtin_op_named


def sorted_graph(graph: Any, tool: str) -> list[Node]:
    """`graph` as a list of nodes in topological order, or a TypeError or ValueError that says
    what `tool` was given instead (not an error from deep inside the tool)."""
    needs = f"{tool}(graph) needs the list topological_sort returned"
    if isinstance(graph, Mapping):
        raise TypeError(f"{needs}: pass topological_sort(feed_dict), not the dict")
    if isinstance(graph, (str, bytes, Node)) or not hasattr(graph, "__iter__"):
        raise TypeError(f"{needs}, not {type(graph).__name__} {graph!r:.60}")
    nodes = list(graph)
    for i, node in enumerate(nodes):
        if not isinstance(node, Node):
            raise TypeError(
                f"{needs}, but its entry {i} is {type(node).__name__} {node!r:.60}, not a node"
            )
    if not nodes:
        raise ValueError(f"{needs}, not an empty list")
    position = {node: i for i, node in enumerate(nodes)}
    for i, node in enumerate(nodes):
        later = [n for n in node.inbound_nodes if position.get(n, -1) > i]
        if later:
            names = short_names(nodes)
            raise ValueError(
                f"{needs}: it is not in topological order: {names[node]} comes before its input "
                f"{names[later[0]]}"
            )
    return nodes


def declared(node: Node, attribute: str) -> Any:
    """What `node`'s class declares about it (see ``Node``'s class attributes). A learner's
    class that declares nothing but is named like a built-in op (the lesson has learners write
    their own Linear, Sigmoid and MSE) is described like that op."""
    value = getattr(node, attribute, None)
    if value == getattr(Node, attribute, None):
        twin = builtin_op_named(type(node).__name__)
        if twin is not None:
            return getattr(twin, attribute, None)
    return value


def slot_name(node: Node, slot: int) -> str:
    """The lesson's name for slot `slot` of `node` (``W`` for a Linear's second), or ``""``:
    the names its class declares. An unnamed Input is named after the slot its first consumer
    reads it in, and the pictures label edges with them."""
    names = declared(node, "slot_names") or ()
    return names[slot] if slot < len(names) else ""


def title(node: Node, names: dict[Node, str]) -> str:
    """``Linear l1``: the node's type and short name, as the tools' messages start."""
    return f"{type(node).__name__} {names.get(node, node.label)}"


def definition(node: Node, names: dict[Node, str]) -> str:
    """``l1 = Linear(X, W, b)``, or ``W = Input (trainable)``: how the tools introduce a node."""
    if node.inbound_nodes:
        args = ", ".join(inbound_names(node, names))
        return f"{names[node]} = {type(node).__name__}({args})"
    kind = "trainable" if is_trainable(node) else "data"
    return f"{names[node]} = {type(node).__name__} ({kind})"


def sent_back_by(node: Node) -> list[tuple[Node, Any]]:
    """(consumer, gradient) for each consumer that sent a gradient back to `node`."""
    return [(c, c.gradients[node]) for c in consumers(node) if node in c.gradients]


def upstream(node: Node) -> Any:
    """G = ∂cost/∂node as a float array: what its consumers sent back, summed. 1 for the cost
    (a node nobody reads that seeds backpropagation), 0 for a built-in node nobody reads, None
    when a consumer sent nothing back (it was skipped, or its backward() forgot it)."""
    if not node.outbound_nodes:
        return 1.0 if seeds_gradient(node) else 0.0
    terms = [grad for _, grad in sent_back_by(node)]
    if len(terms) < len(consumers(node)):
        return None
    return np.array(terms[0] if len(terms) == 1 else add_up(node, terms), dtype=float)


def short_names(graph: Sequence[Node]) -> dict[Node, str]:
    """A short, unique, deterministic name for every node of a sorted graph.

    A node's own ``name`` wins. Otherwise an Input is named after the slot it fills (``X``, ``W``,
    ``b`` of a Linear, ``y`` of an MSE), numbered by layer when several share a symbol (``W1``,
    ``W2``); an operation is its lesson letter numbered in topological order (``l1``, ``s1``,
    ``l2``), the MSE is ``cost``, and a learner's own node is its class name in lower case.
    """
    position = {node: i for i, node in enumerate(graph)}

    def layer(node: Node) -> int:
        # an Input is numbered by the first node that reads it, so W1 feeds l1 and W2 feeds l2
        if node.inbound_nodes or not node.outbound_nodes:
            return position[node]
        return min(position.get(c, len(graph)) for c in node.outbound_nodes)

    unnamed = [node for node in graph if not getattr(node, "name", None)]
    stems = {node: _stem(node) for node in unnamed}
    counts: dict[str, int] = {}
    for stem in stems.values():
        counts[stem] = counts.get(stem, 0) + 1
    names = {node: str(node.name) for node in graph if node not in stems}
    used = set(names.values())
    seen: dict[str, int] = {}
    for node in sorted(unnamed, key=lambda n: (layer(n), position[n])):
        stem = stems[node]
        seen[stem] = seen.get(stem, 0) + 1
        # operations are always numbered like the lesson's l1, s1; a lone Input or cost is not
        always = node.inbound_nodes and stem != "cost"
        name = f"{stem}{seen[stem]}" if always or counts[stem] > 1 else stem
        while name in used:
            name += "'"
        used.add(name)
        names[node] = name
    return {node: names[node] for node in graph}


def _stem(node: Node) -> str:
    if isinstance(node, Input) or not node.inbound_nodes:
        return _input_symbol(node)
    return declared(node, "short_name") or type(node).__name__.lower()


def _input_symbol(node: Node) -> str:
    for consumer in node.outbound_nodes:
        symbol = slot_name(consumer, consumer.inbound_nodes.index(node))
        if symbol:
            return symbol
    return "x"


def is_trainable(node: Node) -> bool:
    """Whether an Input looks like a weight or bias (a consumer reads it in a slot its class
    declares trainable, as a Linear's W and b), not data."""
    return isinstance(node, Input) and any(
        any(c.inbound_nodes[slot] is node for slot in declared(c, "trainable_slots") or ())
        for c in node.outbound_nodes
    )


def seeds_gradient(node: Node) -> bool:
    """Whether a node nobody reads is the cost, where backpropagation starts (G = 1): one whose
    class says it is (an MSE), or a learner's own node that does not say; a built-in Input,
    Linear or activation there sends nothing back."""
    return declared(node, "is_cost") is not False


def role(node: Node, trainables: Any = None) -> str:
    """``"data"``, ``"trainable"``, ``"cost"`` or ``"op"``: how the pictures style a node."""
    if isinstance(node, Input) or not node.inbound_nodes:
        if trainables is not None:
            return "trainable" if any(node is t for t in trainables) else "data"
        return "trainable" if is_trainable(node) else "data"
    return "cost" if declared(node, "is_cost") or not node.outbound_nodes else "op"


def shape_text(value: Any) -> str:
    """``(2, 1)``, ``scalar`` or ``-`` (no value yet)."""
    if value is None:
        return "-"
    shape = np.shape(value)
    return "scalar" if shape == () else str(shape)


def number(x: float) -> str:
    """A float in at most about 10 characters."""
    return f"{x:.6g}"


def summary(value: Any, limit: int = 6) -> str:
    """Shape and a short summary: every entry when there are few, else min, mean and max."""
    if value is None:
        return "no value"
    array = np.asarray(value)
    if array.dtype == object or not np.issubdtype(array.dtype, np.number):
        return f"{shape_text(value)} {type(value).__name__}"
    if array.ndim == 0:
        return number(float(array))
    if array.size <= limit:
        return f"{array.shape} {_nested(array.tolist())}"
    finite = array[np.isfinite(array)]
    if finite.size == 0:
        return f"{array.shape} no finite entries"
    text = (
        f"{array.shape} min {number(finite.min())}, mean {number(finite.mean())}, "
        f"max {number(finite.max())}"
    )
    bad = array.size - finite.size
    return text + (f", {bad} non-finite" if bad else "")


def short_summary(value: Any) -> str:
    """One short phrase for a picture's box: a scalar, or the mean and range of an array."""
    if value is None:
        return "-"
    array = np.asarray(value, dtype=float)
    if array.ndim == 0 or array.size == 1:
        return number(float(array.reshape(-1)[0]))
    return f"{number(array.min())} … {number(array.max())}"


def _nested(items: Any) -> str:
    if isinstance(items, list):
        return "[" + ", ".join(_nested(item) for item in items) + "]"
    return number(float(items)) if not isinstance(items, complex) else str(items)


def finite_mask_text(value: Any) -> str:
    """How many entries are NaN and how many infinite, e.g. ``2 NaN, 1 Inf of 4 entries``."""
    array = np.asarray(value, dtype=float)
    return (
        f"{int(np.isnan(array).sum())} NaN, {int(np.isinf(array).sum())} Inf "
        f"of {array.size} entries"
    )


def is_finite(value: Any) -> bool:
    """True for None, non-numeric values and arrays whose entries are all finite."""
    if value is None:
        return True
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        return True
    return bool(np.isfinite(array).all())
