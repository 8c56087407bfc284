"""The lesson notebook, docs/lesson.ipynb, runs top to bottom in a real Jupyter kernel.

The kernel is this interpreter (``python -m ipykernel_launcher``), from a kernel spec written
for the test: no kernel needs installing, the notebook imports the same installed MiniFlow as
the other tests, and everything the kernel writes (connection file, IPython's profile and
history) stays in a temporary directory. Its cells check their own results with ``assert``, so
a wrong number fails here as surely as an exception does.
"""

from __future__ import annotations

import html
import json
import os
import pathlib
import sys

import nbclient
import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager

NOTEBOOK = pathlib.Path(__file__).parent.parent / "docs" / "lesson.ipynb"
KERNEL = "miniflow-tests"


def kernel_manager(scratch: pathlib.Path) -> AsyncKernelManager:
    """A manager for a kernel running this very interpreter, its files kept in ``scratch``."""
    spec_dir = scratch / "kernels"
    (spec_dir / KERNEL).mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "MiniFlow tests",
        "language": "python",
    }
    (spec_dir / KERNEL / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    specs = KernelSpecManager(kernel_dirs=[str(spec_dir)], ensure_native_kernel=False)
    return AsyncKernelManager(
        kernel_name=KERNEL,
        kernel_spec_manager=specs,
        connection_file=str(scratch / "connection.json"),
    )


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> nbformat.NotebookNode:
    """The notebook after running every cell, in a scratch working directory."""
    scratch = tmp_path_factory.mktemp("kernel")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        km=kernel_manager(scratch),
        timeout=300,  # per cell: the training cell takes about a second
        resources={"metadata": {"path": str(tmp_path_factory.mktemp("run"))}},
    )
    # raises CellExecutionError, with the cell and its traceback, on any error; nbclient leaves
    # running a kernel whose manager it was given: cleanup_kc shuts it down and closes the sockets
    client.execute(cleanup_kc=True, env={**os.environ, "IPYTHONDIR": str(scratch / "ipython")})
    return notebook


def outputs(notebook: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [
        output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs
    ]


def test_the_notebook_is_committed_without_outputs() -> None:
    # outputs are made here on every run; committed ones would go stale without a test noticing
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    assert outputs(notebook) == []
    assert all(
        cell.get("execution_count") is None for cell in notebook.cells if cell.cell_type == "code"
    )


def test_every_cell_runs_and_none_writes_to_stderr(executed: nbformat.NotebookNode) -> None:
    stderr = [o.text for o in outputs(executed) if o.output_type == "stream" and o.name == "stderr"]
    assert stderr == [], "cells wrote to stderr (a warning?):\n" + "\n".join(stderr)
    code_cells = [cell for cell in executed.cells if cell.cell_type == "code"]
    assert all(cell.execution_count is not None for cell in code_cells)


def test_the_lesson_example_prints_the_lesson_gradients(executed: nbformat.NotebookNode) -> None:
    printed = "".join(o.text for o in outputs(executed) if o.output_type == "stream")
    assert "array([-5.01028709e-05])]" in printed  # the lesson's expected b gradient


def test_the_teaching_tools_show_inline(executed: nbformat.NotebookNode) -> None:
    shown = [
        o.data for o in outputs(executed) if o.output_type in ("execute_result", "display_data")
    ]
    svgs = [data["image/svg+xml"] for data in shown if "image/svg+xml" in data]
    assert len(svgs) == 2
    assert all(svg.lstrip().startswith("<svg") for svg in svgs)
    explanations = [
        data["text/plain"] for data in shown if "backward pass: 7 steps" in data["text/plain"]
    ]
    assert len(explanations) == 1
    assert "[2/7] s1 = Sigmoid(l1)" in explanations[0]
    # step_through's page, in a frame of its own whose srcdoc is the whole page
    pages = [data["text/html"] for data in shown if "<iframe srcdoc=" in data.get("text/html", "")]
    assert len(pages) == 1
    assert "l1 = Linear(X, W, b)" in html.unescape(pages[0])
    printed = "".join(o.text for o in outputs(executed) if o.output_type == "stream")
    assert "first wrong backward()" in printed
    assert "uses the input, x·(1 − x)" in printed


def test_training_shows_a_progress_widget_and_the_loss_curve(
    executed: nbformat.NotebookNode,
) -> None:
    shown = [o.data for o in outputs(executed) if o.output_type == "display_data"]
    # tqdm.auto picked its notebook form: an ipywidgets progress bar, not text on stderr
    assert any("application/vnd.jupyter.widget-view+json" in data for data in shown)
    assert any("image/png" in data for data in shown)


def test_the_health_section_shows_its_reports_as_tables(executed: nbformat.NotebookNode) -> None:
    shown = [o.data for o in outputs(executed) if o.output_type == "execute_result"]
    reports = [data["text/html"] for data in shown if "update:data" in data.get("text/html", "")]
    assert len(reports) == 2
    assert "<p>no findings</p>" in reports[0]
    assert "% of units saturated" in reports[1]
    printed = "".join(o.text for o in outputs(executed) if o.output_type == "stream")
    assert "epoch 1: s1: " in printed
