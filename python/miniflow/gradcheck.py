"""Check every node's ``backward()`` against central differences of its own ``forward()``.

Each node is checked alone: for each inbound node ``x`` and each entry ``x[j]``, the node's
``forward()`` is run at ``x[j] ± h`` and its output is contracted with the upstream gradient ``G``
the node received (the sum of what its consumers sent back), giving ``∂cost/∂x[j]`` without any
other node's help. A wrong ``backward()`` shows up at the node that has it, even when the nodes
after it in the backward pass are right.

The graph is checked in float64 (a float32 graph on float64 copies of its fed values), and a
node that disagrees at ``h`` is differenced again over a sweep of steps that tells the check's
own noise (truncation, rounding, a kink crossed) from a mistake: see ``differences.py``.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from math import inf
from typing import Any

import numpy as np

from ._describe import sent_back_by, short_names, title, upstream
from .activations import ACTIVATIONS
from .differences import Agreement, compare, numeric_gradient
from .gradients import SkippedGradients
from .graph import forward_and_backward
from .node import Input, Node


@dataclass
class GradientCheckRow:
    """One (node, inbound node) pair: how far ``backward()`` is from the numerical gradient."""

    node: Node
    name: str
    inbound: Node
    inbound_name: str
    shape: str
    error: float
    ok: bool
    note: str = ""
    verdict: str = "agrees"  # or "noise", "kink", "bug" (see differences.Agreement)


@dataclass
class GradientCheck:
    """The result of ``check_gradients``: a row per checked gradient entry, in backward order."""

    rows: list[GradientCheckRow]
    tolerance: float
    h: float
    first_wrong: Node | None = None
    first_wrong_name: str = ""

    @property
    def ok(self) -> bool:
        """True when every node's backward() matches its forward()."""
        return self.first_wrong is None

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        header = ("node", "gradient", "shape", "rel. error", "")
        table = [header] + [
            (
                r.name,
                f"∂/∂{r.inbound_name}",
                r.shape,
                _error_text(r.error),
                "ok" if r.ok else "WRONG",
            )
            for r in self.rows
        ]
        widths = [max(len(row[i]) for row in table) for i in range(4)]
        lines = [
            f"gradient check: central differences (h = {self.h:g}), "
            f"relative error tolerance {self.tolerance:g}"
        ]
        previous = None
        for row in table:
            first = row[0] if row[0] != previous else ""
            previous = row[0]
            cells = [
                first.ljust(widths[0]),
                row[1].ljust(widths[1]),
                row[2].ljust(widths[2]),
                row[3].rjust(widths[3]),
                row[4],
            ]
            lines.append("  ".join(cells).rstrip())
        if self.ok:
            lines.append("every backward() agrees with its forward()")
        else:
            lines.append(
                f"first wrong backward(): {self.first_wrong_name} "
                "(in backward order; the nodes after it only pass its mistake along)"
            )
            lines.extend(
                f"  ∂/∂{r.inbound_name}: {r.note}"
                for r in self.rows
                if r.node is self.first_wrong and not r.ok and r.note
            )
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(str(self))}</pre>"


def check_gradients(
    graph: Sequence[Node],
    *,
    trainables: Sequence[Node] | None = None,
    h: float = 1e-6,
    tolerance: float = 1e-6,
    verbose: bool = True,
) -> GradientCheck:
    """Run the graph forward and backward, then check each node's ``backward()`` numerically.

    Args:
        graph: the list returned by ``topological_sort`` (a float32 one is checked on float64
            copies of its fed values).
        trainables: run ``forward_and_backward(graph, trainables=...)`` and check only the
            gradients it computes (the skipped ones have no row).
        h: the first step of the central differences (a node that disagrees at it is
            differenced again over a sweep of steps, which tells noise from a mistake).
        tolerance: the largest relative error, ``|analytic − numeric| / max(|analytic|,
            |numeric|)`` (norms over the entries), that counts as agreement.
        verbose: print the table (the result's ``str``).

    Returns:
        a ``GradientCheck``: its ``rows``, ``ok`` and ``first_wrong`` (the first node, in
        backward order, whose ``backward()`` disagrees with its ``forward()``).

    Every value is restored afterwards; the graph's gradients are those of one ordinary
    ``forward_and_backward``. Each entry of each input costs two ``forward()`` calls of one
    node (about twelve more for a node the sweep looks at again), so keep the graph small (a
    batch of a few rows).
    """
    fed = {node: node.value for node in graph if not node.inbound_nodes and node.value is not None}
    try:
        for node in fed:  # checked in float64: float32 rounding is not a mistake
            node.value = np.array(node.value, dtype=float)
        forward_and_backward(graph, trainables=trainables)
        names = short_names(graph)
        # native nodes reuse their buffers: copy everything we compare before perturbing
        analytic = {node: {k: _copy(v) for k, v in node.gradients.items()} for node in graph}
        received = {node: upstream(node) for node in graph}
        rows: list[GradientCheckRow] = []
        first: Node | None = None
        for node in reversed(graph):
            for row in _check_node(node, analytic[node], received[node], names, h, tolerance):
                rows.append(row)
                if not row.ok and first is None:
                    first = node
    finally:
        for node, value in fed.items():
            node.value = value
    forward_and_backward(graph, trainables=trainables)  # the gradients of the values as fed
    result = GradientCheck(rows, tolerance, h, first, title(first, names) if first else "")
    if verbose:
        print(result)  # noqa: T201 (asked for: verbose=True)
    return result


def _copy(value: Any) -> Any:
    if value is None:
        return None
    # a float32 gradient stays float32 (its rounding sets the tolerance it can meet); any
    # other, Python numbers included, is compared in float64
    dtype = np.asarray(value).dtype
    return np.array(value, dtype=dtype if dtype.kind == "f" else float)


def _check_node(
    node: Node,
    analytic: dict[Node, Any],
    upstream: Any,
    names: dict[Node, str],
    h: float,
    tolerance: float,
) -> list[GradientCheckRow]:
    name = title(node, names)
    if upstream is None:
        return []  # skipped (no trainable depends on it), or backward() already raised about it
    skipped = node.gradients.skipped if isinstance(node.gradients, SkippedGradients) else ()
    if isinstance(node, Input) or not node.inbound_nodes:
        if not node.outbound_nodes:
            return []
        # an Input's gradient is by definition the sum of what its consumers sent
        return [
            _row(
                node,
                name,
                node,
                names,
                analytic.get(node),
                upstream,
                np.shape(node.value),
                tolerance,
            )
        ]
    rows = []
    for inbound in dict.fromkeys(n for n in node.inbound_nodes if n not in skipped):
        row = _shape_row(node, name, inbound, names, analytic.get(inbound))
        if row is None:
            agreement = compare(node, inbound, analytic[inbound], upstream, h, tolerance)
            row = _row_of(node, name, inbound, names, agreement)
            if not row.ok:
                row.note = _diagnose(node, inbound, analytic[inbound], upstream, h)
                row.note = row.note or agreement.note
        rows.append(row)
    return rows


def _diagnose(node: Node, inbound: Node, analytic: Any, upstream: Any, h: float) -> str:
    """Name the lesson's classic mistakes when the wrong gradient matches one of them."""

    def matches(candidate: Any) -> bool:
        a, c = np.asarray(analytic, dtype=float), np.asarray(candidate, dtype=float)
        if a.size != c.size:
            return False
        scale = max(float(np.linalg.norm(a)), float(np.linalg.norm(c)), 1e-12)
        return bool(np.linalg.norm(a.reshape(-1) - c.reshape(-1)) / scale < 1e-4)

    consumers = [consumer for consumer, _ in sent_back_by(node)]
    if len(consumers) > 1:
        last = np.array(consumers[-1].gradients[node], dtype=float)
        if matches(numeric_gradient(node, inbound, last, h)):
            return "only the last consumer counts: add up (+=) the gradient from every consumer"
    ones = np.ones(np.shape(upstream))
    if any(
        matches(numeric_gradient(node, inbound, k * ones, h)) for k in {1, max(len(consumers), 1)}
    ):
        return "the upstream gradient is missing: multiply by what each consumer sent back"
    if len(node.inbound_nodes) == 1:
        # a node that computes a built-in activation (the learner's own Sigmoid, say) is checked
        # for the mistakes that activation's class lists
        x = np.asarray(inbound.value, dtype=float)
        g = np.asarray(upstream, dtype=float)
        value = np.asarray(node.value, dtype=float)
        elementwise = g.size == x.size and value.shape == x.shape
        for kind in ACTIVATIONS if elementwise else ():
            with np.errstate(all="ignore"):  # exp overflows far out: the reference is still right
                reference = kind.reference(x)
            if not np.allclose(value, reference, rtol=1e-6, atol=1e-12):
                continue
            for hint, wrong_gradient in kind.mistakes:
                if matches(wrong_gradient(x, value, g.reshape(x.shape))):
                    return hint
    return ""


def _row(
    node: Node,
    name: str,
    inbound: Node,
    names: dict[Node, str],
    analytic: Any,
    numeric: Any,
    shape: tuple[int, ...],
    tolerance: float,
) -> GradientCheckRow:
    inbound_name = names.get(inbound, inbound.label)
    shape_text = str(tuple(shape)) if shape else "scalar"

    def wrong(note: str) -> GradientCheckRow:
        return GradientCheckRow(node, name, inbound, inbound_name, shape_text, inf, False, note)

    if analytic is None:
        return wrong(f"backward() set no gradients[{inbound_name}]")
    a = np.asarray(analytic, dtype=float)
    n = np.asarray(numeric, dtype=float)
    if a.size != n.size:
        return wrong(f"the gradient has shape {a.shape}, the input {n.shape}")
    a, n = a.reshape(-1), n.reshape(-1)
    scale = max(np.linalg.norm(a), np.linalg.norm(n))
    # both zero (or nearly) is agreement, not a 0/0
    error = float(np.linalg.norm(a - n) / scale) if scale > 1e-12 else 0.0
    ok = bool(error <= tolerance)
    return GradientCheckRow(node, name, inbound, inbound_name, shape_text, error, ok)


def _shape_row(
    node: Node, name: str, inbound: Node, names: dict[Node, str], analytic: Any
) -> GradientCheckRow | None:
    """The wrong row for a gradient that is missing or not of the inbound's size, else None."""
    shape = np.shape(inbound.value)
    if analytic is not None and np.size(analytic) == int(np.prod(shape)):
        return None
    return _row(node, name, inbound, names, analytic, np.zeros(shape), shape, 0.0)


def _row_of(
    node: Node, name: str, inbound: Node, names: dict[Node, str], agreement: Agreement
) -> GradientCheckRow:
    shape = np.shape(inbound.value)
    return GradientCheckRow(
        node,
        name,
        inbound,
        names.get(inbound, inbound.label),
        str(tuple(shape)) if shape else "scalar",
        agreement.error,
        agreement.ok,
        "" if not agreement.ok else agreement.note,
        agreement.verdict,
    )


def _error_text(error: float) -> str:
    return "-" if error != error else (f"{error:.1e}" if error != float("inf") else "inf")
