"""step_through: the page's structure, what it embeds and its size, without a browser (the
browser tests are tests/test_cli_step_through.py)."""

import html
import json
import re
from html.parser import HTMLParser

import numpy as np
import pytest

from miniflow import (
    Input,
    Node,
    draw,
    forward_and_backward,
    forward_pass,
    step_through,
    topological_sort,
)
from miniflow._files import UnwritablePathError
from miniflow.cli import main
from miniflow.draw import picture


def embedded(page):
    """The numbers the page carries, as its script reads them."""
    found = re.search(r'<script type="application/json" id="miniflow-data">(.*?)</script>', page)
    return json.loads(found[1])["nodes"]


class Elements(HTMLParser):
    """Every start tag of a page with its attributes, and the text inside each <button>."""

    def __init__(self, page):
        super().__init__()
        self.tags, self.buttons, self._button = [], [], None
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "button":
            self._button = [dict(attrs), ""]
            self.buttons.append(self._button)

    def handle_data(self, data):
        if self._button is not None:
            self._button[1] += data

    def handle_endtag(self, tag):
        if tag == "button":
            self._button = None


def test_the_page_loads_nothing_from_anywhere(seed_example):
    page = step_through(seed_example()).html
    tags = Elements(page).tags
    assert not [(tag, a) for tag, a in tags if tag in ("link", "img", "iframe", "object", "embed")]
    assert not [(tag, a) for tag, a in tags if {"src", "href", "xlink:href"} & set(a)]
    scripts = [a for tag, a in tags if tag == "script"]
    assert scripts == [{"type": "application/json", "id": "miniflow-data"}, {}]
    # the only address in the page is the SVG namespace's name, which is never fetched
    assert re.findall(r"https?://[^\s\"']+", page) == ["http://www.w3.org/2000/svg"]
    assert "@import" not in page
    assert "url(http" not in page


def test_every_control_is_a_labelled_button_and_the_step_is_announced(seed_example):
    graph = seed_example()
    parsed = Elements(step_through(graph).html)
    for attrs, text in parsed.buttons:
        assert attrs["type"] == "button"
        assert attrs.get("aria-label", "").strip()
        assert text.strip()
    ids = {attrs.get("id") for attrs, _ in parsed.buttons}
    assert {"reset", "back", "play", "next"} <= ids
    shown = [attrs["data-show"] for attrs, _ in parsed.buttons if "data-show" in attrs]
    assert shown == [str(i) for i in range(len(graph))]  # one button per node
    status = [a for tag, a in parsed.tags if a.get("id") == "status"]
    assert status == [{"id": "status", "role": "status", "aria-live": "polite"}]


def test_the_page_carries_the_numbers_of_the_run(seed_example, assert_shows):
    graph = seed_example()
    forward_and_backward(graph)
    nodes = embedded(step_through(graph).html)
    titles = [node["title"] for node in nodes]
    assert titles == [
        "X = Input (data)",
        "y = Input (data)",
        "W = Input (trainable)",
        "b = Input (trainable)",
        "l1 = Linear(X, W, b)",
        "s1 = Sigmoid(l1)",
        "cost = MSE(y, s1)",
    ]
    names = [title.split(" = ")[0] for title in titles]
    for node, shown in zip(graph, nodes):
        assert_shows(shown["value"], node.value)
        assert [to for to, _ in shown["results"]] == [names[graph.index(n)] for n in node.gradients]
        for (_, text), gradient in zip(shown["results"], node.gradients.values()):
            assert_shows(text, gradient)
    l1, s1 = nodes[4], nodes[5]
    assert l1["formulas"] == ["∂cost/∂X = G·Wᵀ", "∂cost/∂W = Xᵀ·G", "∂cost/∂b = sum of G's rows"]
    assert [symbol for symbol, _ in l1["symbols"]] == ["X", "W", "b", "G"]
    assert_shows(dict(l1["symbols"])["G"], graph[5].gradients[graph[4]])
    assert [r[0] for r in l1["reads"]] == ["X", "W", "b"]
    assert s1["received"][0][0] == "cost"
    assert nodes[6]["upstream"].startswith("1 (the cost")


def test_a_fan_out_shows_each_consumers_term_and_their_sum(fan_out, assert_shows):
    graph, nodes = fan_out()
    forward_and_backward(graph)
    shown = embedded(step_through(graph).html)
    l1 = shown[graph.index(nodes["l1"])]
    assert [who for who, _ in l1["received"]] == ["s1", "square1"]
    terms = [nodes[who].gradients[nodes["l1"]] for who in ("s1", "square1")]
    for (_, text), term in zip(l1["received"], terms):
        assert_shows(text, term)
    assert_shows(l1["upstream"], terms[0] + terms[1])
    # the learner's Square states no formula: it is named as the learner's own
    square = shown[graph.index(nodes["square1"])]
    assert square["title"] == "square1 = Square(l1)"
    assert square["formulas"] == ["your own Square.backward(); it produced:"]
    assert_shows(square["results"][0][1], nodes["square1"].gradients[nodes["l1"]])


def test_a_graph_that_has_not_run_is_run_once(seed_example, assert_shows):
    graph = seed_example()
    nodes = embedded(step_through(graph).html)
    assert graph[-1].value == pytest.approx(2.49995, rel=1e-5)
    assert_shows(nodes[-1]["value"], graph[-1].value)
    assert_shows(nodes[3]["results"][0][1], [-5.01028709e-05])  # the lesson's b gradient


def test_a_run_with_trainables_shows_the_skipped_gradients_as_skipped(seed_example):
    graph = seed_example()
    W, b = graph[2:4]
    forward_and_backward(graph, trainables=[W, b])
    nodes = embedded(step_through(graph).html)  # not run again: the page shows this run
    assert (nodes[0]["results"], nodes[0]["skipped"]) == ([], ["X"])
    assert nodes[0]["upstream"] == "not sent back (skipped)"
    assert [to for to, _ in nodes[4]["results"]] == ["W", "b"]
    assert nodes[4]["skipped"] == ["X"]


def test_a_graph_run_forward_only_is_run_backward_too(seed_example, assert_shows):
    graph = seed_example()
    forward_pass(graph)
    nodes = embedded(step_through(graph).html)
    assert_shows(nodes[3]["results"][0][1], [-5.01028709e-05])


def test_an_empty_graph_is_refused():
    with pytest.raises(ValueError, match="needs the list topological_sort returned, not an empty"):
        step_through([])


def test_the_picture_is_draws_own_with_its_nodes_and_edges_tagged(seed_example):
    graph = seed_example()
    forward_and_backward(graph)
    tagged = picture(graph, tagged=True)
    assert re.sub(r" data-(node|from|to)=['\"]\d+['\"]", "", tagged) == draw(graph).svg
    assert re.findall(r"data-node='(\d+)'", tagged) == [str(i) for i in range(7)]
    edges = re.findall(r'data-from="(\d+)" data-to="(\d+)"', tagged)
    want = [(str(graph.index(s)), str(i)) for i, n in enumerate(graph) for s in n.inbound_nodes]
    assert sorted(edges) == sorted(want)
    assert step_through(graph).html.count(tagged) == 1


def test_the_two_layer_page_is_small(two_layer):
    graph, *_ = two_layer(11, 13, 10)
    page = step_through(graph).html
    assert len(page.encode("utf-8")) < 200_000
    assert len(embedded(page)) == 10


def test_jupyter_shows_it_in_a_frame_of_its_own(seed_example):
    shown = step_through(seed_example())
    frame = re.fullmatch(r'<iframe srcdoc="([^"]*)" ([^>]*)></iframe>', shown._repr_html_())
    assert html.unescape(frame[1]) == shown.html
    assert 'sandbox="allow-scripts"' in frame[2]
    assert f"height:{shown.height}px" in frame[2]
    assert re.fullmatch(r"<StepThrough page, \d+ kB: .save\('net.html'\) writes it>", repr(shown))


def test_save_writes_the_page(seed_example, tmp_path):
    shown = step_through(seed_example())
    assert shown.save(tmp_path / "net.html") == tmp_path / "net.html"
    assert (tmp_path / "net.html").read_text(encoding="utf-8") == shown.html
    with pytest.raises(UnwritablePathError, match="is a folder"):
        shown.save(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.html"]


def test_miniflow_graph_writes_a_page_of_one_training_step(tmp_path, capsys, assert_shows):
    out = tmp_path / "net.html"
    assert main(["graph", "--out", str(out), "--hidden", "4"]) == 0
    assert capsys.readouterr().out == f"wrote {out}\n"
    nodes = embedded(out.read_text(encoding="utf-8"))
    assert [n["title"] for n in nodes][-4:] == [
        "l1 = Linear(X, W1, b1)",
        "s1 = Sigmoid(l1)",
        "l2 = Linear(s1, W2, b2)",
        "cost = MSE(y, l2)",
    ]
    assert nodes[0]["value"].startswith("(11, 10) [")  # a batch of the data, not a placeholder
    cost = float(nodes[-1]["value"])
    assert 0 < cost < 10


@pytest.mark.parametrize(
    ("argument", "said"),
    [(3, "not int 3"), ("X", "not str 'X'"), ([1, 2], "but its entry 0 is int 1, not a node")],
)
def test_something_other_than_a_graph_is_refused_by_name(argument, said):
    with pytest.raises(
        TypeError,
        match=re.escape(f"step_through(graph) needs the list topological_sort returned, {said}"),
    ):
        step_through(argument)


def test_a_feed_dict_instead_of_its_sorted_graph_is_refused(seed_example):
    feed_dict = {node: node.value for node in seed_example() if node.value is not None}
    with pytest.raises(
        TypeError, match=re.escape("pass topological_sort(feed_dict), not the dict")
    ):
        step_through(feed_dict)


def test_a_graph_out_of_topological_order_is_refused_naming_the_node(seed_example):
    graph = seed_example()
    forward_and_backward(graph)
    X, l1 = graph[0], graph[4]
    # the picture and the forward steps would follow the order given: l1 before its X
    with pytest.raises(ValueError, match="not in topological order: l1 comes before its input X"):
        step_through([l1, *graph[1:4], X, *graph[5:]])


def test_a_node_whose_forward_leaves_no_value_is_named():
    class Forgetful(Node):
        """A learner's node whose forward() forgot to set self.value."""

        def __init__(self, x):
            Node.__init__(self, [x])

        def forward(self):
            pass

        def backward(self):
            self.gradients = {self.inbound_nodes[0]: np.zeros(2)}

    A = Input(name="A")
    Forgetful(A)
    graph = topological_sort({A: np.ones(2)})
    with pytest.raises(
        ValueError, match=r"Forgetful forgetful1 has no value after its forward\(\)"
    ):
        step_through(graph)


@pytest.mark.parametrize("trainables", ["W", 3, "one node"])
def test_trainables_that_are_not_a_list_of_nodes_are_refused(seed_example, trainables):
    graph = seed_example()
    forward_and_backward(graph)
    if trainables == "one node":
        trainables = graph[2]
    # a string would be read letter by letter, and a lone node failed deep inside
    with pytest.raises(
        TypeError,
        match=r"step_through\(graph, trainables=\) takes a list of Inputs, like \[W, b\], not ",
    ):
        step_through(graph, trainables=trainables)
