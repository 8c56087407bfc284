"""``miniflow exercises --notebook DIR`` and the pytest plugin, end to end: the notebook runs in
a real Jupyter kernel with the stubs filled by the lesson's solutions (every check passes) and
left as they are (every check says "not written yet"), and a course grades a learner's file
with pytest and reads the results as JSON."""

from __future__ import annotations

import importlib.util
import json
import os
import pathlib
import subprocess
import sys

import nbclient
import nbformat
import pytest

from miniflow.exercises import stages

HERE = pathlib.Path(__file__).parent


def _load(name: str, path: pathlib.Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


solutions = _load("exercise_solutions", HERE / "reference" / "exercise_solutions.py")
kernels = _load("notebook_kernels", HERE / "test_notebook.py")  # its kernel_manager


def miniflow(*args: str, cwd: pathlib.Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "miniflow", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    folder = tmp_path_factory.mktemp("course")
    done = miniflow("exercises", "--notebook", str(folder), cwd=folder)
    assert done.returncode == 0, done.stderr
    path = folder / "miniflow-exercises.ipynb"
    assert done.stdout == f"wrote {path}\n"
    assert done.stderr == ""
    assert sorted(p.name for p in folder.iterdir()) == [path.name]  # that file and no other
    return path


def run_in_kernel(notebook: nbformat.NotebookNode, scratch: pathlib.Path) -> None:
    client = nbclient.NotebookClient(
        notebook,
        km=kernels.kernel_manager(scratch),
        timeout=120,
        resources={"metadata": {"path": str(scratch)}},
    )
    client.execute(cleanup_kc=True, env={**os.environ, "IPYTHONDIR": str(scratch / "ipython")})


def check_reports(notebook: nbformat.NotebookNode) -> dict[str, str]:
    """Each check cell's report (its result's text), by stage."""
    reports = {}
    for cell in notebook.cells:
        role = cell.metadata.get("miniflow", {})
        if role.get("cell") == "check":
            (output,) = [o for o in cell.outputs if o.output_type == "execute_result"]
            reports[role["stage"]] = output.data["text/plain"]
    return reports


def test_the_notebook_has_a_stub_and_a_check_per_stage(generated: pathlib.Path) -> None:
    notebook = nbformat.read(generated, as_version=4)
    nbformat.validate(notebook)
    roles = [
        (c.metadata["miniflow"]["stage"], c.metadata["miniflow"]["cell"])
        for c in notebook.cells
        if "miniflow" in c.metadata
    ]
    expected = []
    for name in stages():
        expected += [(name, "stub"), (name, "check")] if name != "training" else [(name, "check")]
    assert roles == expected
    stubs = [
        c.source for c in notebook.cells if c.metadata.get("miniflow", {}).get("cell") == "stub"
    ]
    assert all(source.rstrip().endswith("raise NotImplementedError") for source in stubs)


def test_filled_with_the_lessons_solutions_every_check_passes(
    generated: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    notebook = nbformat.read(generated, as_version=4)
    for cell in notebook.cells:
        role = cell.metadata.get("miniflow", {})
        if role.get("cell") == "stub":
            cell.source = solutions.SOLUTIONS[role["stage"]].strip()
    # an nbgrader grade cell ends with the points earned, which nbgrader reads as partial credit
    notebook.cells.append(nbformat.v4.new_code_cell('check("sgd-update", sgd_update).grade(3)'))
    run_in_kernel(notebook, tmp_path)
    reports = check_reports(notebook)
    assert list(reports) == stages()
    for name, report in reports.items():
        assert report.startswith(f"{name}: every check passes"), report
    (points,) = notebook.cells[-1].outputs
    assert points.data["text/plain"] == "3.0"


def test_left_as_generated_every_check_says_not_written_yet(
    generated: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    notebook = nbformat.read(generated, as_version=4)
    run_in_kernel(notebook, tmp_path)  # a failing check raises nothing: every cell runs
    reports = check_reports(notebook)
    assert list(reports) == stages()
    for report in reports.values():
        assert "FAIL" in report, report
        assert "hint: not written yet: " in report, report
        assert "still raises NotImplementedError" in report


def test_a_folder_that_does_not_exist_is_a_usage_error(tmp_path: pathlib.Path) -> None:
    done = miniflow("exercises", "--notebook", str(tmp_path / "nowhere"), cwd=tmp_path)
    assert done.returncode == 2
    assert (
        done.stderr
        == f"miniflow exercises: error: --notebook {tmp_path / 'nowhere'}: no such folder\n"
    )
    assert list(tmp_path.iterdir()) == []


COURSE_TESTS = """
pytest_plugins = ["miniflow.exercises.pytest_plugin"]
"""
GRADING = """
def test_sigmoid_backward(learner, exercise):
    exercise("sigmoid-backward", learner.Sigmoid)


def test_sgd_update(learner, exercise):
    exercise("sgd-update", learner.sgd_update)
"""


def grade(course: pathlib.Path, learner: str) -> subprocess.CompletedProcess[str]:
    (course / "learner.py").write_text(learner, encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error",
         "--strict-markers", "--learner=learner.py", "--miniflow-results=results.json"],
        cwd=course, capture_output=True, text=True, check=False,
    )  # fmt: skip


def test_a_course_grades_a_learners_file_with_pytest_and_reads_json(
    tmp_path: pathlib.Path,
) -> None:
    (tmp_path / "conftest.py").write_text(COURSE_TESTS, encoding="utf-8")
    (tmp_path / "test_grading.py").write_text(GRADING, encoding="utf-8")
    right = solutions.SETUP + "".join(solutions.SOLUTIONS.values())
    done = grade(tmp_path, right)
    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert results["score"] == 10.0  # 7 checks of the sigmoid's backward, 3 of sgd_update
    assert [t["score"] for t in results["tests"]] == [1.0] * 10
    assert results["tests"][0] == {
        "name": "sigmoid-backward: forward() matches MiniFlow's",
        "score": 1.0,
        "max_score": 1.0,
        "output": "passed",
    }

    wrong = right.replace(
        "sigmoid * (1 - sigmoid)", "self.inbound_nodes[0].value * (1 - self.inbound_nodes[0].value)"
    )
    done = grade(tmp_path, wrong)
    assert done.returncode == 1
    assert "1 failed, 1 passed" in done.stdout
    assert "hint: uses the input, x·(1 − x), where the output belongs: s·(1 − s)" in done.stdout
    results = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    failed = [t for t in results["tests"] if t["score"] == 0]
    assert (
        failed[0]["name"]
        == "sigmoid-backward: backward() agrees with finite differences of forward()"
    )
    assert failed[0]["output"].startswith("uses the input, x·(1 − x)")

    done = grade(tmp_path, "def broken(:\n")
    assert done.returncode == 1
    assert "importing learner.py raised SyntaxError" in done.stdout
