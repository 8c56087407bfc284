"""The benchmark scripts still run against the installed package: they call its private
primitives, whose signatures may change, so each table's code runs here on tiny sizes.

(No timing is asserted: only that every side runs and computes what the other side does.)
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"

# the wheel's test run (cibuildwheel) copies tests/ but not benchmarks/
pytestmark = pytest.mark.skipif(not BENCHMARKS.is_dir(), reason="no benchmarks/ beside tests/")


@pytest.fixture(autouse=True)
def _benchmarks_importable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(BENCHMARKS))


def positive(cell: object) -> bool:
    value = float(str(cell).replace(",", ""))
    return math.isfinite(value) and value > 0


def test_kernel_tables_run() -> None:
    import bench_kernels

    gemm = bench_kernels.gemm_rows({"tiny 8x8x8": (8, 8, 8)}, repeats=1)
    elementwise = bench_kernels.elementwise_rows([64], repeats=1)
    assert len(gemm) == 4  # float32 and float64, 1 and 2 threads
    assert len(elementwise) == 10  # five kernels, two dtypes
    assert all(positive(row[5]) for row in gemm)  # MiniFlow ÷ numpy
    assert all(positive(row[5]) for row in elementwise)  # speed-up over numpy


def test_training_steps_agree_across_libraries() -> None:
    import bench_training
    import numpy as np

    import miniflow

    # the lesson's numpy MiniFlow and ours, one step each on the same data: the same cost
    lesson_step, lesson_graph = bench_training.graph_step(
        bench_training.lesson_miniflow, 11, 13, 10
    )
    our_step, our_graph = bench_training.graph_step(miniflow, 11, 13, 10)
    lesson_step()
    our_step()
    np.testing.assert_allclose(our_graph[-1].value, lesson_graph[-1].value, rtol=1e-12)
    assert bench_training.arrays_left_behind(miniflow) == 0


def test_versions_script_compares_two_interpreters() -> None:
    import bench_versions

    text = bench_versions.report(sys.executable, quick=True)
    rows = [line for line in text.splitlines() if line.startswith("| lesson")]
    assert len(rows) == 2  # every gradient, and the data gradient skipped
    assert all(positive(row.split("|")[-2]) for row in rows)  # after ÷ before
