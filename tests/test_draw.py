"""draw, to_dot, to_mermaid and ``miniflow graph``: pictures of a graph."""

import io
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from miniflow import (
    MSE,
    Input,
    Linear,
    Sigmoid,
    draw,
    forward_and_backward,
    to_dot,
    to_mermaid,
    topological_sort,
)
from miniflow.cli import main

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def seed_graph():
    X, W, b, y = Input(), Input(), Input(), Input()
    MSE(y, Sigmoid(Linear(X, W, b)))
    feed = {
        X: np.array([[-1.0, -2.0], [-1, -2]]),
        y: np.array([1, 2]),
        W: np.array([[2.0], [3.0]]),
        b: np.array([-3.0]),
    }
    graph = topological_sort(feed)
    forward_and_backward(graph)
    return graph


def node_groups(svg):
    root = ET.fromstring(svg)
    groups = {}
    for group in root.iter(f"{SVG}g"):
        texts = [t.text for t in group.iter(f"{SVG}text")]
        groups[texts[0]] = (group.get("class"), texts)
    return root, groups


def test_the_svg_is_valid_xml_with_every_node(seed_graph):
    root, groups = node_groups(draw(seed_graph).svg)
    assert root.tag == f"{SVG}svg"
    assert set(groups) == {"X", "y", "W", "b", "l1", "s1", "cost"}
    assert groups["l1"][1] == ["l1", "Linear · #4", "shape (2, 1)"]
    assert groups["cost"][1] == ["cost", "MSE · #6", "shape scalar"]
    # data Inputs and trainables look different
    assert groups["X"][0] == groups["y"][0] == "node data"
    assert groups["W"][0] == groups["b"][0] == "node trainable"
    assert groups["s1"][0] == "node op"
    assert groups["cost"][0] == "node cost"
    styles = {
        cls: group.find(f"{SVG}rect").attrib
        for cls, group in ((g.get("class"), g) for g in root.iter(f"{SVG}g"))
    }
    assert styles["node data"]["fill"] != styles["node trainable"]["fill"]
    assert "stroke-dasharray" in styles["node data"]
    assert "stroke-dasharray" not in styles["node trainable"]
    assert len(root.findall(f"{SVG}path")) == 6  # one per edge


def test_values_and_gradients_are_shown_on_request(seed_graph):
    _, groups = node_groups(draw(seed_graph, values=True, gradients=True).svg)
    assert groups["b"][1][3:] == ["value -3", "grad  -5.01029e-05"]
    assert groups["cost"][1][3:] == ["value 2.49995", "grad  1"]
    assert groups["y"][1][3:] == ["value 1 … 2", "grad  0.999983 … 1.99998"]


def test_the_picture_renders_to_pixels(seed_graph):
    resvg_py = pytest.importorskip("resvg_py")
    from PIL import Image

    png = bytes(resvg_py.svg_to_bytes(svg_string=draw(seed_graph, values=True).svg))
    image = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    assert image.shape[0] > 100
    assert image.shape[1] > 300
    not_white = (image < 245).any(axis=2)
    assert 0.03 < not_white.mean() < 0.9  # boxes, text and edges, not a blank page
    colours = {tuple(c) for c in image.reshape(-1, 3)[::7]}
    assert len(colours) > 20  # the role colours and anti-aliased text


def test_notebook_display_and_save(seed_graph, tmp_path):
    drawing = draw(seed_graph)
    assert drawing._repr_svg_() == drawing.svg == drawing._repr_html_()
    path = drawing.save(tmp_path / "seed.svg")
    assert path.read_text(encoding="utf-8") == drawing.svg


def test_trainables_can_be_given(seed_graph):
    X = seed_graph[0]
    _, groups = node_groups(draw(seed_graph, trainables=[X]).svg)
    assert groups["X"][0] == "node trainable"
    assert groups["W"][0] == "node data"


def test_dot(seed_graph):
    dot = to_dot(seed_graph)
    assert dot.startswith("digraph miniflow {\n  rankdir=LR;")
    assert '  n4 [label="l1\\nLinear #4\\n(2, 1)", fillcolor="#e6efff", color="#3c6dc4"];' in dot
    assert (
        'n0 [label="X\\nInput #0\\n(2, 2)", fillcolor="#f1f3f4", color="#80868b", '
        'style="rounded,filled,dashed"];' in dot
    )
    for edge in (
        'n0 -> n4 [label="X"];',
        'n2 -> n4 [label="W"];',
        'n3 -> n4 [label="b"];',
        "n4 -> n5;",
        'n1 -> n6 [label="y"];',
        'n5 -> n6 [label="a"];',
    ):
        assert f"  {edge}\n" in dot
    assert dot.endswith("}\n")


def test_mermaid(seed_graph):
    lines = to_mermaid(seed_graph).splitlines()
    assert lines[0] == "flowchart LR"
    assert '  n0(["X<br/>Input #35;0<br/>(2, 2)"]):::data' in lines
    assert '  n2["W<br/>Input #35;2<br/>(2, 1)"]:::trainable' in lines
    assert '  n6["cost<br/>MSE #35;6<br/>scalar"]:::cost' in lines
    assert "  n0 -->|X| n4" in lines
    assert "  n4 --> n5" in lines
    assert "  classDef data fill:#f1f3f4,stroke:#80868b,stroke-dasharray:5 3" in lines


def test_the_graph_command_draws_the_training_network(tmp_path, capsys):
    out = tmp_path / "net.svg"
    assert main(["graph", "--out", str(out), "--hidden", "4"]) == 0
    assert capsys.readouterr().out == f"wrote {out}\n"
    _, groups = node_groups(out.read_text(encoding="utf-8"))
    assert set(groups) == {"X", "y", "W1", "b1", "W2", "b2", "l1", "s1", "l2", "cost"}
    assert groups["W1"][1][2] == "shape (10, 4)"
    assert groups["W1"][0] == "node trainable"
    assert main(["graph", "--out", str(tmp_path / "net.dot")]) == 0
    assert (tmp_path / "net.dot").read_text(encoding="utf-8").startswith("digraph miniflow {")
    assert main(["graph", "--out", str(tmp_path / "net.mmd")]) == 0
    assert (tmp_path / "net.mmd").read_text(encoding="utf-8").startswith("flowchart LR")
