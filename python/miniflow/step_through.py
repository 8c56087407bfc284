"""Watch backpropagation step by step, in the browser, on your own graph.

``step_through(graph)`` returns a self-contained HTML page: the graph as ``draw`` lays it out
(the same SVG, its nodes and edges tagged for the page's script), and buttons (or the arrow
keys) that step the forward pass node by node, then the backward pass in reverse order. Each
step lights up the node and the edges its numbers arrive on (solid blue for values going
forward, dashed orange for gradients coming back) and shows those numbers, as ``explain``
writes them; at a node with several consumers, what each one sent back and their sum. Clicking
a node shows its local derivatives in the lesson's notation, the numbers they read, its value
and its gradients.

The numbers are recorded when ``step_through`` is called (the graph's arrays are buffers the
next step overwrites); a graph that has not run yet is run once with ``forward_and_backward``.
The page needs no network and no other file: the SVG, the numbers (as JSON) and a small script
of MiniFlow's own (``step_through.js``) are all inline.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from ._describe import (
    definition,
    number,
    seeds_gradient,
    sent_back_by,
    short_names,
    sorted_graph,
    summary,
    title,
)
from ._describe import upstream as upstream_gradient
from ._files import replace_file
from .draw import picture
from .explain import local_formulas
from .gradients import SkippedGradients
from .graph import forward_and_backward
from .node import Node

__all__ = ["StepThrough", "step_through"]

FIRST_ENTRIES = 6  # of a larger array, shown before its min, mean and max
PANEL_MAX = 320  # pixels a panel grows to before it scrolls, so the page's height is known
# pixels beside the picture: the controls, the status (two lines), the key, the panels side by
# side (down to about 700 pixels wide, a notebook's) and a row of node buttons
PANEL_HEIGHT = PANEL_MAX + 230


@dataclass(frozen=True, repr=False)
class StepThrough:
    """A step-through page: ``.html`` is the whole document, ``save(path)`` writes it, and
    Jupyter (also VS Code and JupyterLite) shows it inline, in a frame of its own so that its
    script runs without a kernel and its ids stay its own."""

    html: str
    height: int  # the pixels the page needs, for the notebook's frame

    def __repr__(self) -> str:
        size = len(self.html.encode("utf-8")) / 1000
        return f"<StepThrough page, {size:.0f} kB: .save('net.html') writes it>"

    def _repr_html_(self) -> str:
        return (
            f'<iframe srcdoc="{escape(self.html)}" title="MiniFlow: backpropagation step by '
            f'step" sandbox="allow-scripts" style="width:100%;height:{self.height}px;border:0">'
            "</iframe>"
        )

    def save(self, path: str | Path) -> Path:
        """Write the page to ``path`` (atomically: a reader never sees half of it)."""
        with replace_file(path) as file:
            file.write(self.html.encode("utf-8"))
        return Path(path)


def step_through(graph: Sequence[Node], *, trainables: Any = None) -> StepThrough:
    """A page that steps through the forward and backward pass of a sorted graph.

    Args:
        graph: the list returned by ``topological_sort``; run with ``forward_and_backward``
            first (else it is run here), since the page shows the numbers of that run.
        trainables: the Inputs to draw as trainable, as for ``draw``.
    """
    graph = sorted_graph(graph, "step_through")
    if trainables is not None and (
        isinstance(trainables, (str, Node))
        or not hasattr(trainables, "__iter__")
        or not all(isinstance(t, Node) for t in trainables)
    ):
        label = getattr(trainables, "label", repr(trainables))
        raise TypeError(
            f"step_through(graph, trainables=) takes a list of Inputs, like [W, b], not {label}"
        )
    if any(node.value is None for node in graph) or not any(node.gradients for node in graph):
        forward_and_backward(graph)  # not run yet, or forward only
    names = short_names(graph)
    for node in graph:
        if node.value is None:  # the page would show "None" at every step that reads it
            raise ValueError(
                f"{title(node, names)} has no value after its forward(): set self.value there"
            )
    cost = names[graph[-1]]
    svg = picture(graph, trainables=trainables, tagged=True)
    height = int(re.findall(r'height="(\d+)"', svg)[0])  # the picture's, its first attribute
    data = {"nodes": [_record(node, names, cost) for node in graph]}
    return StepThrough(_page(graph, names, svg, data), height + PANEL_HEIGHT)


def _entries(value: Any) -> str:
    """Shape and numbers, as ``explain`` writes them: every entry of a small array; of a larger
    one, the first few (in row-major order), then its min, mean and max."""
    array = np.asarray(value) if value is not None else None
    if array is None or not np.issubdtype(array.dtype, np.number) or array.size <= FIRST_ENTRIES:
        return summary(value)
    first = ", ".join(number(float(x)) for x in array.ravel()[:FIRST_ENTRIES])
    return f"{array.shape} [{first}, …] " + summary(array).removeprefix(f"{array.shape} ")


def _record(node: Node, names: dict[Node, str], cost: str) -> dict[str, Any]:
    """What the page shows of one node, as text: its numbers as they are now."""
    gradients = node.gradients
    skipped = gradients.skipped if isinstance(gradients, SkippedGradients) else ()
    G = _upstream_text(node, upstream_gradient(node))
    formulas = local_formulas(node, names, cost)
    symbols = {name: _entries(n.value) for n, name in _own_and_inbound(node, names)}
    symbols["G"] = G
    # the symbols a formula names, as whole names: a name may end in primes (W'), but G's is G
    used = [
        [symbol, text]
        for symbol, text in symbols.items()
        if any(re.search(rf"(?<![\w']){re.escape(symbol)}(?!\w|'(?!s))", f) for f in formulas)
    ]
    return {
        "title": definition(node, names),
        "value": _entries(node.value),
        "reads": [[names.get(n, n.label), _entries(n.value)] for n in node.inbound_nodes],
        "received": [[names.get(c, c.label), _entries(g)] for c, g in sent_back_by(node)],
        "upstream": G,
        "formulas": formulas,
        "symbols": used,
        "results": [[names.get(n, n.label), _entries(g)] for n, g in gradients.items()],
        "skipped": [names.get(n, n.label) for n in skipped],
    }


def _own_and_inbound(node: Node, names: dict[Node, str]) -> list[tuple[Node, str]]:
    return [(n, names.get(n, n.label)) for n in dict.fromkeys([node, *node.inbound_nodes])]


def _upstream_text(node: Node, G: Any) -> str:
    """G = ∂cost/∂node, or why there is none."""
    if not node.outbound_nodes:
        if seeds_gradient(node):
            return "1 (the cost: backpropagation starts here)"
        return "0 (no node reads it, so nothing comes back)"
    return "not sent back (skipped)" if G is None else _entries(G)


def _page(graph: Sequence[Node], names: dict[Node, str], svg: str, data: Any) -> str:
    # "<" only ever appears inside JSON strings: escaped, no "</script>" can end the block
    payload = json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")
    script = resources.files("miniflow").joinpath("step_through.js").read_text("utf-8")
    buttons = "".join(
        f'<button type="button" data-show="{i}" aria-label="show node {escape(names[n])}">'
        f"{escape(names[n])}</button>"
        for i, n in enumerate(graph)
    )
    return _TEMPLATE.format(
        title=escape(f"MiniFlow: {names[graph[-1]]} step by step"),
        svg=svg,
        buttons=buttons,
        data=payload,
        script=script,
        panel=PANEL_MAX,
    )


_TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font: 14px/1.4 system-ui, sans-serif; color: #202124; margin: 12px; }}
button {{ font: inherit; padding: 4px 10px; margin: 2px; cursor: pointer; }}
#status {{ font-weight: bold; min-height: 1.4em; margin: 6px 0; }}
.graph {{ overflow-x: auto; }}
.graph [data-node] {{ cursor: pointer; }}
.node.current rect {{ stroke-width: 4.5px; }}
.node.current.forward rect {{ stroke: #0057b7; stroke-dasharray: none; }}
.node.current.backward rect {{ stroke: #e66100; stroke-dasharray: 9 4; }}
.node.selected text {{ text-decoration: underline; }}
path.lit {{ stroke-width: 4px; }}
path.lit.forward {{ stroke: #0057b7; }}
path.lit.backward {{ stroke: #e66100; stroke-dasharray: 9 5; }}
.key svg {{ vertical-align: middle; }}
.panels {{ display: flex; flex-wrap: wrap; gap: 12px; }}
.panels section {{ flex: 1 1 320px; border: 1px solid #dadce0; border-radius: 6px;
  padding: 4px 10px; min-height: 120px; max-height: {panel}px; overflow-y: auto; }}
.nodes {{ margin-top: 8px; }}
h2 {{ font-size: 15px; margin: 6px 0; font-family: monospace; }}
td {{ font-family: DejaVu Sans Mono, Menlo, Consolas, monospace; font-size: 12px;
  vertical-align: top; padding: 1px 6px 1px 0; }}
td:first-child {{ color: #5f6368; white-space: nowrap; }}
</style></head>
<body>
<div role="group" aria-label="Step through the passes">
<button type="button" id="reset" aria-label="Reset to the start">↺ Reset</button>
<button type="button" id="back" aria-label="Previous step (left arrow)">◀ Back</button>
<button type="button" id="play" aria-label="Play" aria-pressed="false">▶ Play</button>
<button type="button" id="next" aria-label="Next step (right arrow)">Next ▶</button>
<span id="counter"></span>
</div>
<p id="status" role="status" aria-live="polite"></p>
<div class="graph">{svg}</div>
<p class="key"><svg width="34" height="8" aria-hidden="true"><line x1="0" y1="4" x2="34" y2="4"
 stroke="#0057b7" stroke-width="4"/></svg> forward: a value arriving (solid blue) &nbsp;
<svg width="34" height="8" aria-hidden="true"><line x1="0" y1="4" x2="34" y2="4" stroke="#e66100"
 stroke-width="4" stroke-dasharray="9 5"/></svg> backward: a gradient coming back (dashed orange)
</p>
<div class="panels">
<section id="step" aria-label="This step"></section>
<section id="details" aria-label="The node's details"></section>
</div>
<div class="nodes" role="group" aria-label="Show a node's details">Nodes: {buttons}</div>
<script type="application/json" id="miniflow-data">{data}</script>
<script>
{script}
</script>
</body></html>
"""
