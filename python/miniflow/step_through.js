// The player of miniflow.step_through's page: steps the forward pass node by node, then the
// backward pass in reverse order, over the SVG that draw() lays out. Plain DOM, no library.
// Step 0 is the start; steps 1..n run forward() on nodes 0..n-1 (the topological order), steps
// n+1..2n run backward() on nodes n-1..0.
"use strict";
(function () {
  const nodes = JSON.parse(document.getElementById("miniflow-data").textContent).nodes;
  const n = nodes.length;
  const last = 2 * n;
  const edges = Array.from(document.querySelectorAll("path[data-from]"));
  const boxes = []; // by topological index
  document.querySelectorAll("[data-node]").forEach((box) => (boxes[box.dataset.node] = box));
  const byId = (id) => document.getElementById(id);
  let step = 0;
  let timer = null;

  // a heading and a table of [label, text] rows; set as text, since names come from the graph
  function show(target, heading, rows) {
    const section = byId(target);
    const title = document.createElement("h2");
    const table = document.createElement("table");
    title.textContent = heading;
    for (const [label, text] of rows) {
      const row = table.insertRow();
      row.insertCell().textContent = label;
      row.insertCell().textContent = text;
    }
    section.replaceChildren(title, table);
  }

  // label the first row of a group only, as explain does
  const labelled = (label, texts) => texts.map((text, i) => [i ? "" : label, text]);

  function upstreamRows(node) {
    const received = node.received;
    if (received.length > 1) {
      const terms = received.map(([from, g]) => ["from " + from, g]);
      return [["upstream", "G = sum over its " + received.length + " consumers:"], ...terms,
        ["sum", "G = " + node.upstream]];
    }
    const from = received.length ? " from " + received[0][0] : "";
    return [["upstream", "G" + from + " = " + node.upstream]];
  }

  function resultRows(node) {
    return labelled("result", node.results.map(([to, g]) => "gradients[" + to + "] = " + g))
      .concat(node.skipped.map((to) => ["skipped", "gradients[" + to + "]: no trainable depends on it"]));
  }

  function forwardRows(node) {
    const reads = node.reads.map(([from, value]) => ["reads " + from, value]);
    return reads.concat([[reads.length ? "value" : "fed value", node.value]]);
  }

  function render() {
    const forward = step <= n;
    const index = step === 0 ? -1 : forward ? step - 1 : last - step;
    const pass = forward ? "forward" : "backward";
    for (const element of boxes.concat(edges)) {
      element.classList.remove("current", "lit", "forward", "backward");
    }
    byId("counter").textContent = "step " + step + " of " + last;
    byId("back").disabled = step === 0;
    byId("next").disabled = step === last;
    if (index < 0) {
      byId("status").textContent = "Ready: Next (or the right arrow key) runs the forward " +
        "pass one node at a time, then the backward pass from the cost back.";
      show("step", "Not started", [["", n + " nodes: " + n + " forward steps, then " + n +
        " backward steps"]]);
      return;
    }
    const node = nodes[index];
    boxes[index].classList.add("current", pass);
    const end = forward ? "to" : "from"; // forward: the values it reads; backward: its consumers'
    for (const edge of edges) {
      if (Number(edge.dataset[end]) === index) edge.classList.add("lit", pass);
    }
    const count = forward ? step : step - n;
    byId("status").textContent = (forward ? "Forward" : "Backward") + " pass, step " + count +
      " of " + n + ": " + node.title;
    if (forward) {
      show("step", "▶ forward: " + node.title, forwardRows(node));
    } else {
      show("step", "◀ backward: " + node.title, upstreamRows(node)
        .concat(labelled("local", node.formulas), resultRows(node)));
    }
  }

  function go(to) {
    step = Math.max(0, Math.min(last, to));
    render();
  }

  function details(index) {
    const node = nodes[index];
    boxes.forEach((box, i) => box.classList.toggle("selected", i === index));
    const where = node.symbols.map(([symbol, text]) => symbol + " = " + text);
    show("details", node.title, [["value", node.value]].concat(
      labelled("local", node.formulas), labelled("where", where), resultRows(node)));
  }

  function pause() {
    clearInterval(timer);
    timer = null;
    byId("play").textContent = "▶ Play";
    byId("play").setAttribute("aria-label", "Play");
    byId("play").setAttribute("aria-pressed", "false");
  }

  function play() {
    if (step === last) go(0);
    timer = setInterval(() => (step === last ? pause() : go(step + 1)), 900);
    byId("play").textContent = "Pause";
    byId("play").setAttribute("aria-label", "Pause");
    byId("play").setAttribute("aria-pressed", "true");
  }

  byId("next").addEventListener("click", () => go(step + 1));
  byId("back").addEventListener("click", () => go(step - 1));
  byId("reset").addEventListener("click", () => { pause(); go(0); });
  byId("play").addEventListener("click", () => (timer === null ? play() : pause()));
  document.addEventListener("keydown", (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    if (event.key === "ArrowRight") go(step + 1);
    else if (event.key === "ArrowLeft") go(step - 1);
    else return;
    event.preventDefault();
  });
  boxes.forEach((box, i) => box.addEventListener("click", () => details(i)));
  document.querySelectorAll("[data-show]").forEach((button) =>
    button.addEventListener("click", () => details(Number(button.dataset.show))));
  show("details", "Click a node", [["", "its local derivatives, value and gradients"]]);
  render();
  requestAnimationFrame(() => performance.mark("miniflow-first-frame"));
})();
