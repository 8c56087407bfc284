"""Pictures of a graph: an SVG drawn by our own code (no Graphviz), plus DOT and Mermaid text.

``draw(graph)`` lays the nodes out in columns by topological depth, left to right, the way the
data flows: each box shows the node's short name, type, topological index and shape, and
optionally a summary of its value and gradient. Data Inputs (fed) are grey pills with a dashed
border, trainables (W, b) orange, operations blue and the cost red.
"""

from __future__ import annotations

import html
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._describe import role, shape_text, short_names, short_summary, slot_name, upstream
from .node import Node

# fill, stroke, dash pattern, corner radius for each role
_STYLES = {
    "data": ("#f1f3f4", "#80868b", "5,3", 18),
    "trainable": ("#fff1d6", "#d98c00", "", 6),
    "op": ("#e6efff", "#3c6dc4", "", 6),
    "cost": ("#fde4e4", "#c43c3c", "", 6),
}
_LEGEND = [
    ("data", "data input (fed)"),
    ("trainable", "trainable (W, b)"),
    ("op", "operation"),
    ("cost", "cost"),
]
_FONT = "DejaVu Sans Mono, Menlo, Consolas, monospace"
_CHAR = 0.61  # width of a monospace character, in font sizes
_NAME_SIZE, _TEXT_SIZE = 14, 11
_COLUMN_GAP, _ROW_GAP, _MARGIN = 70, 22, 20


@dataclass(frozen=True)
class Drawing:
    """An SVG picture: ``.svg`` is its text; Jupyter shows it inline; ``save(path)`` writes it."""

    svg: str

    def _repr_svg_(self) -> str:
        return self.svg

    def _repr_html_(self) -> str:
        return self.svg

    def save(self, path: str | Path) -> Path:
        """Write the SVG to ``path`` and return the path."""
        path = Path(path)
        path.write_text(self.svg, encoding="utf-8")
        return path


@dataclass
class _Box:
    node: Node
    index: int
    lines: list[tuple[str, int, str]]  # text, font size, weight
    column: int = 0
    x: float = 0.0
    y: float = 0.0
    width: float = 0.0
    height: float = 0.0


def draw(
    graph: Sequence[Node], values: bool = False, gradients: bool = False, trainables: Any = None
) -> Drawing:
    """Draw a sorted graph as SVG.

    Args:
        graph: the list returned by ``topological_sort``.
        values: show a summary of each node's value (run the graph first).
        gradients: show each node's gradient ``∂cost/∂node``: what its consumers sent back
            (an Input's own ``gradients[node]``).
        trainables: the Inputs to draw as trainable; by default those a consumer reads in a
            slot its class declares trainable (a Linear's W and b).
    """
    return Drawing(picture(graph, values=values, gradients=gradients, trainables=trainables))


def picture(
    graph: Sequence[Node],
    *,
    values: bool = False,
    gradients: bool = False,
    trainables: Any = None,
    tagged: bool = False,
) -> str:
    """The SVG text ``draw`` makes; `tagged` marks each node's group with ``data-node`` (its
    topological index) and each edge with ``data-from`` and ``data-to``, for a page's script to
    find them (``step_through``)."""
    names = short_names(graph)
    boxes = [_box(node, i, names, values, gradients) for i, node in enumerate(graph)]
    by_node = {box.node: box for box in boxes}
    columns = _columns(graph)
    for box in boxes:
        box.column = columns[box.node]
    _place(boxes, by_node)
    return _svg(boxes, by_node, trainables, tagged)


def _box(node: Node, index: int, names: dict[Node, str], values: bool, gradients: bool) -> _Box:
    lines = [
        (names[node], _NAME_SIZE, "bold"),
        (f"{type(node).__name__} · #{index}", _TEXT_SIZE, "normal"),
        (f"shape {shape_text(node.value)}", _TEXT_SIZE, "normal"),
    ]
    if values:
        lines.append((f"value {short_summary(node.value)}", _TEXT_SIZE, "normal"))
    if gradients:
        lines.append((f"grad  {short_summary(_gradient(node))}", _TEXT_SIZE, "normal"))
    width = max(len(text) * size * _CHAR for text, size, _ in lines) + 20
    height = sum(size + 5 for _, size, _ in lines) + 12
    return _Box(node, index, lines, width=width, height=height)


def _gradient(node: Node) -> Any:
    """∂cost/∂node (None before the backward pass, or when it was skipped)."""
    if node.value is None:
        return None
    return upstream(node)


def _columns(graph: Sequence[Node]) -> dict[Node, int]:
    """Operations by longest path from the sources; a source sits just left of its first reader
    (so the target y stands next to the cost, not beside X)."""
    depth: dict[Node, int] = {}
    for node in graph:
        depth[node] = 1 + max((depth.get(n, 0) for n in node.inbound_nodes), default=-1)
    for node in graph:
        readers = [depth[c] for c in node.outbound_nodes if c in depth]
        if not node.inbound_nodes and readers:
            depth[node] = min(readers) - 1
    return depth


def _place(boxes: list[_Box], by_node: dict[Node, _Box]) -> None:
    """Order each column to keep edges short (barycentre sweeps), then set coordinates."""
    count = max((box.column for box in boxes), default=0) + 1
    columns: list[list[_Box]] = [[] for _ in range(count)]
    for box in boxes:
        columns[box.column].append(box)
    rank = {box.node: float(i) for column in columns for i, box in enumerate(column)}

    def centre(column: list[_Box]) -> None:
        for i, box in enumerate(column):
            rank[box.node] = i - (len(column) - 1) / 2

    for column in columns:
        centre(column)
    for _ in range(3):
        for column in columns:  # left to right: follow the inputs
            column.sort(
                key=lambda b: _mean(
                    [rank[n] for n in b.node.inbound_nodes if n in rank], rank[b.node]
                )
            )
            centre(column)
        for column in reversed(columns):  # right to left: a source follows its readers' slots
            column.sort(key=lambda b: _reader_rank(b.node, rank))
            centre(column)

    x = float(_MARGIN)
    tallest = max(
        sum(b.height for b in column) + _ROW_GAP * (len(column) - 1) for column in columns
    )
    for column in columns:
        width = max((b.width for b in column), default=0)
        used = sum(b.height for b in column) + _ROW_GAP * (len(column) - 1)
        y = _MARGIN + (tallest - used) / 2
        for box in column:
            box.x, box.y = x + (width - box.width) / 2, y
            y += box.height + _ROW_GAP
        x += width + _COLUMN_GAP


def _reader_rank(node: Node, rank: dict[Node, float]) -> float:
    readers = [c for c in node.outbound_nodes if c in rank]
    if node.inbound_nodes or not readers:
        return _mean([rank[n] for n in node.inbound_nodes if n in rank], rank[node])
    # between the reader's rank and the next, in slot order: X above W above b
    return _mean([rank[c] + 0.1 * c.inbound_nodes.index(node) for c in readers], rank[node])


def _mean(items: list[float], default: float) -> float:
    return sum(items) / len(items) if items else default


def _svg(boxes: list[_Box], by_node: dict[Node, _Box], trainables: Any, tagged: bool) -> str:
    width = max((b.x + b.width for b in boxes), default=0) + _MARGIN
    legend_y = max((b.y + b.height for b in boxes), default=0) + 28
    height = legend_y + 30
    width = max(width, 640)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="{_FONT}">',
        "<defs><marker id='arrow' viewBox='0 0 10 10' refX='9' refY='5' markerWidth='10' "
        "markerHeight='10' markerUnits='userSpaceOnUse' orient='auto-start-reverse'>"
        "<path d='M0,0 L10,5 L0,10 z' fill='#5f6368'/></marker></defs>",
        f'<rect width="{width:.0f}" height="{height:.0f}" fill="white"/>',
    ]
    for box in boxes:
        out += _edges(box, by_node, tagged)
    for box in boxes:
        out += _node(box, role(box.node, trainables), tagged)
    out += _legend(legend_y)
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _edges(box: _Box, by_node: dict[Node, _Box], tagged: bool) -> list[str]:
    parts = []
    k = len(box.node.inbound_nodes)
    for slot, source in enumerate(box.node.inbound_nodes):
        start = by_node.get(source)
        if start is None:
            continue
        x1, y1 = start.x + start.width, start.y + start.height / 2
        x2 = box.x
        y2 = box.y + box.height / 2 + (slot - (k - 1) / 2) * min(14, box.height / (k + 1))
        bend = max(30.0, (x2 - x1) / 2)
        tag = f' data-from="{start.index}" data-to="{box.index}"' if tagged else ""
        parts.append(
            f'<path{tag} d="M{x1:.1f},{y1:.1f} C{x1 + bend:.1f},{y1:.1f} {x2 - bend:.1f},{y2:.1f} '
            f'{x2 - 1:.1f},{y2:.1f}" fill="none" stroke="#5f6368" stroke-width="1.4" '
            'marker-end="url(#arrow)"/>'
        )
        if slot_name(box.node, slot):
            parts.append(
                f'<text x="{x2 - 12:.1f}" y="{y2 - 3:.1f}" font-size="9" fill="#5f6368" '
                f'text-anchor="end">{slot_name(box.node, slot)}</text>'
            )
    return parts


def _node(box: _Box, kind: str, tagged: bool) -> list[str]:
    fill, stroke, dash, radius = _STYLES[kind]
    dashes = f' stroke-dasharray="{dash}"' if dash else ""
    weight = 2.2 if kind == "trainable" else 1.5
    tag = f" data-node='{box.index}'" if tagged else ""
    parts = [
        f"<g class='node {kind}'{tag}><title>{html.escape(repr(box.node))}</title>",
        f'<rect x="{box.x:.1f}" y="{box.y:.1f}" width="{box.width:.1f}" height="{box.height:.1f}" '
        f'rx="{radius}" fill="{fill}" stroke="{stroke}" stroke-width="{weight}"{dashes}/>',
    ]
    y = box.y + 6
    for text, size, bold in box.lines:
        y += size + 3
        parts.append(
            f'<text x="{box.x + box.width / 2:.1f}" y="{y:.1f}" font-size="{size}" '
            f'font-weight="{bold}" text-anchor="middle" fill="#202124">{html.escape(text)}</text>'
        )
    parts.append("</g>")
    return parts


def _legend(y: float) -> list[str]:
    parts = []
    x = float(_MARGIN)
    for kind, text in _LEGEND:
        fill, stroke, dash, _ = _STYLES[kind]
        dashes = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(
            f'<rect x="{x:.0f}" y="{y - 11:.0f}" width="22" height="14" rx="4" fill="{fill}" '
            f'stroke="{stroke}" stroke-width="1.5"{dashes}/>'
        )
        parts.append(
            f'<text x="{x + 28:.0f}" y="{y:.0f}" font-size="11" fill="#3c4043">{text}</text>'
        )
        x += 28 + len(text) * 11 * _CHAR + 22
    return parts


def _label_lines(node: Node, index: int, names: dict[Node, str]) -> list[str]:
    return [names[node], f"{type(node).__name__} #{index}", shape_text(node.value)]


def _edges_between(graph: Sequence[Node], ids: dict[Node, str]) -> Iterator[tuple[str, str, str]]:
    """(source id, target id, slot name or "") for every edge inside the graph, in slot order."""
    for node in graph:
        for slot, source in enumerate(node.inbound_nodes):
            if source in ids:
                yield ids[source], ids[node], slot_name(node, slot)


def to_dot(graph: Sequence[Node], trainables: Any = None) -> str:
    """The graph in Graphviz's DOT language (``dot -Tsvg``), styled like ``draw``."""
    names = short_names(graph)
    ids = {node: f"n{i}" for i, node in enumerate(graph)}
    lines = [
        "digraph miniflow {",
        "  rankdir=LR;",
        '  node [shape=box, style="rounded,filled", fontname="DejaVu Sans Mono"];',
    ]
    for i, node in enumerate(graph):
        kind = role(node, trainables)
        fill, stroke, dash, _ = _STYLES[kind]
        label = "\\n".join(_dot_escape(t) for t in _label_lines(node, i, names))
        style = ', style="rounded,filled,dashed"' if dash else ""
        lines.append(
            f'  {ids[node]} [label="{label}", fillcolor="{fill}", color="{stroke}"{style}];'
        )
    for source, target, slot in _edges_between(graph, ids):
        label = f' [label="{slot}"]' if slot else ""
        lines.append(f"  {source} -> {target}{label};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _dot_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def to_mermaid(graph: Sequence[Node], trainables: Any = None) -> str:
    """The graph as a Mermaid flowchart (GitHub renders it in a ```mermaid block)."""
    names = short_names(graph)
    ids = {node: f"n{i}" for i, node in enumerate(graph)}
    lines = ["flowchart LR"]
    for i, node in enumerate(graph):
        label = "<br/>".join(_mermaid_escape(t) for t in _label_lines(node, i, names))
        kind = role(node, trainables)
        opening, closing = ("([", "])") if kind == "data" else ("[", "]")
        lines.append(f'  {ids[node]}{opening}"{label}"{closing}:::{kind}')
    for source, target, slot in _edges_between(graph, ids):
        arrow = f" -->|{slot}| " if slot else " --> "
        lines.append(f"  {source}{arrow}{target}")
    for kind, (fill, stroke, dash, _) in _STYLES.items():
        extra = f",stroke-dasharray:{dash.replace(',', ' ')}" if dash else ""
        lines.append(f"  classDef {kind} fill:{fill},stroke:{stroke}{extra}")
    return "\n".join(lines) + "\n"


def _mermaid_escape(text: str) -> str:
    # "#" starts Mermaid's entity codes, so it goes first
    return text.replace("#", "#35;").replace('"', "#quot;")
