"""Whole training steps (forward, backward, SGD) against the lesson's numpy MiniFlow, the best
hand-written numpy for the same step, and PyTorch eager (with and without the data's gradient)
when it is installed; float32 and float64, 1 and 2 threads.

    python benchmarks/bench_training.py [--quick]

Also: the step time a GEMM-bound shape could reach (its FLOPs at numpy's matmul GFLOP/s),
arrays each step leaves behind, and peak RSS of a process that trains at the largest shape.
"""

from __future__ import annotations

import argparse
import inspect
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "reference"))
import lesson_miniflow
from common import compare, markdown_table, per_call_seconds, round_order, thread_count

import miniflow

SHAPES = {
    "lesson 11×13→10→1": (11, 13, 10),
    "64×784→256→1": (64, 784, 256),
    "256×1024→1024→1": (256, 1024, 1024),
}


def skips_gradients(lib) -> bool:
    """Whether lib's forward_and_backward takes the trainables whose gradients a step needs."""
    return "trainables" in inspect.signature(lib.forward_and_backward).parameters


def graph_step(
    lib,
    batch: int,
    n_in: int,
    hidden: int,
    seed: int = 0,
    dtype=np.float64,
    data_gradient: bool = True,
) -> tuple[Callable[[], None], list]:
    """The lesson's network on random data, as a step function for either library; without
    data_gradient, the step asks only for the trainables' gradients (X's G·Wᵀ is skipped)."""
    rng = np.random.default_rng(seed)
    X, y = lib.Input(), lib.Input()
    W1, b1, W2, b2 = lib.Input(), lib.Input(), lib.Input(), lib.Input()
    lib.MSE(y, lib.Linear(lib.Sigmoid(lib.Linear(X, W1, b1)), W2, b2))
    feed = {
        X: rng.standard_normal((batch, n_in)),
        y: rng.standard_normal(batch),
        W1: rng.standard_normal((n_in, hidden)) * 0.01,
        b1: np.zeros(hidden),
        W2: rng.standard_normal((hidden, 1)) * 0.01,
        b2: np.zeros(1),
    }
    feed = {node: value.astype(dtype) for node, value in feed.items()}
    graph = lib.topological_sort(feed)
    trainables = [W1, b1, W2, b2]
    # two batches, fed in turn as the lesson's loop does (X.value = batch before each step)
    batches = [
        (feed[X], feed[y]),
        (
            rng.standard_normal((batch, n_in)).astype(dtype),
            rng.standard_normal(batch).astype(dtype),
        ),
    ]
    turn = [0]
    wanted = {} if data_gradient else {"trainables": trainables}

    def step() -> None:
        X.value, y.value = batches[turn[0]]
        turn[0] ^= 1
        lib.forward_and_backward(graph, **wanted)
        lib.sgd_update(trainables, 1e-6)

    return step, graph


def hand_fused_numpy_step(
    batch: int, n_in: int, hidden: int, seed: int = 0, dtype=np.float64, data_gradient: bool = False
) -> Callable[[], None]:
    """The same math written directly in numpy with preallocated buffers and out= everywhere,
    as a learner would write it: without the data's gradient unless asked."""
    rng = np.random.default_rng(seed)
    X, y = (
        rng.standard_normal((batch, n_in)).astype(dtype),
        rng.standard_normal((batch, 1)).astype(dtype),
    )
    W1, b1 = (rng.standard_normal((n_in, hidden)) * 0.01).astype(dtype), np.zeros(hidden, dtype)
    W2, b2 = (rng.standard_normal((hidden, 1)) * 0.01).astype(dtype), np.zeros(1, dtype)
    h, s, out, diff = (
        np.empty((batch, hidden), dtype),
        np.empty((batch, hidden), dtype),
        np.empty((batch, 1), dtype),
        np.empty((batch, 1), dtype),
    )
    dW1, dW2, dX, ds = np.empty_like(W1), np.empty_like(W2), np.empty_like(X), np.empty_like(s)
    db1, db2 = np.empty_like(b1), np.empty_like(b2)
    lr = 1e-6

    def step() -> None:
        # out= everywhere: no temporaries but the two bias sums' scratch
        np.matmul(X, W1, out=h)
        np.add(h, b1, out=h)
        np.negative(h, out=s)
        np.exp(s, out=s)
        np.add(s, 1, out=s)
        np.reciprocal(s, out=s)
        np.matmul(s, W2, out=out)
        np.add(out, b2, out=out)
        np.subtract(y, out, out=diff)
        float(np.dot(diff[:, 0], diff[:, 0])) / batch  # the cost
        np.multiply(diff, -2 / batch, out=diff)  # dcost/dout
        np.matmul(s.T, diff, out=dW2)
        np.sum(diff, axis=0, out=db2)
        np.matmul(diff, W2.T, out=ds)
        np.multiply(ds, s, out=ds)
        np.subtract(1, s, out=s)
        np.multiply(ds, s, out=ds)
        np.matmul(X.T, ds, out=dW1)
        np.sum(ds, axis=0, out=db1)
        if data_gradient:
            np.matmul(ds, W1.T, out=dX)
        for param, grad in ((W1, dW1), (b1, db1), (W2, dW2), (b2, db2)):
            np.multiply(grad, lr, out=grad)
            np.subtract(param, grad, out=param)

    return step


def torch_step(
    batch: int, n_in: int, hidden: int, seed: int = 0, dtype=np.float64, data_gradient: bool = False
) -> Callable[[], None]:
    """PyTorch eager: its default leaves the data without a gradient; data_gradient asks for
    one (X.requires_grad_()), which is the work MiniFlow's default step does."""
    import torch

    kind = {np.float32: torch.float32, np.float64: torch.float64}[dtype]
    gen = torch.Generator().manual_seed(seed)
    X = torch.randn(batch, n_in, dtype=kind, generator=gen)
    y = torch.randn(batch, 1, dtype=kind, generator=gen)
    params = [
        torch.randn(n_in, hidden, dtype=kind, generator=gen) * 0.01,
        torch.zeros(hidden, dtype=kind),
        torch.randn(hidden, 1, dtype=kind, generator=gen) * 0.01,
        torch.zeros(1, dtype=kind),
    ]
    for p in params:
        p.requires_grad_(True)
    if data_gradient:
        X.requires_grad_()
    W1, b1, W2, b2 = params

    def step() -> None:
        cost = torch.mean((y - (torch.sigmoid(X @ W1 + b1) @ W2 + b2)) ** 2)
        for p in params:
            p.grad = None
        X.grad = None
        cost.backward()
        with torch.no_grad():
            for p in params:
                p -= 1e-6 * p.grad

    return step


def step_flops(batch: int, n_in: int, hidden: int) -> float:
    # forward X·W1 and S·W2; backward dW1, dX, dW2, dS: six products of the two layer sizes
    return 6.0 * batch * n_in * hidden + 6.0 * batch * hidden


def numpy_gflops(batch: int, n_in: int, hidden: int) -> float:
    """numpy's matmul rate on this step's biggest product, as the bound a GEMM-bound step meets."""
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((batch, n_in)), rng.standard_normal((n_in, hidden))
    out = np.empty((batch, hidden))
    seconds = compare({"numpy": lambda: np.matmul(a, b, out=out)}, repeats=5)["numpy"]
    return 2.0 * batch * n_in * hidden / seconds / 1e9


def have_torch() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def lesson_rows(repeats: int) -> list[list]:
    """The lesson's shape, float64, 1 thread, against the lesson's own numpy MiniFlow."""
    shape = SHAPES["lesson 11×13→10→1"]
    rows = []
    with thread_count(1):
        sides = {
            "lesson": graph_step(lesson_miniflow, *shape)[0],
            "hand numpy": hand_fused_numpy_step(*shape),
            "miniflow": graph_step(miniflow, *shape)[0],
        }
        if skips_gradients(miniflow):
            sides["miniflow, data gradient skipped"] = graph_step(
                miniflow, *shape, data_gradient=False
            )[0]
        if have_torch():
            sides["torch"] = torch_step(*shape)
        times = compare(sides, repeats=repeats, min_seconds=0.05)
    for name, t in times.items():
        rows.append([name, f"{t * 1e6:,.1f}", f"{times['lesson'] / t:.2f}"])
    return rows


# (label, the step for these arguments) of every side of the training comparison
STEP_SIDES = [
    ("MiniFlow default", lambda *a, **k: graph_step(miniflow, *a, **k)[0]),
    (
        "MiniFlow, data grad skipped",
        lambda *a, **k: graph_step(miniflow, *a, data_gradient=False, **k)[0],
    ),
    ("PyTorch default", lambda *a, **k: torch_step(*a, **k)),
    ("PyTorch with data grad", lambda *a, **k: torch_step(*a, data_gradient=True, **k)),
    ("hand-fused numpy", lambda *a, **k: hand_fused_numpy_step(*a, **k)),
]


def available_sides() -> dict[str, bool]:
    """Which of STEP_SIDES this installation can run (others run everywhere)."""
    return {
        "MiniFlow, data grad skipped": skips_gradients(miniflow),
        "PyTorch default": have_torch(),
        "PyTorch with data grad": have_torch(),
    }


def interleaved_medians(
    cells: dict[tuple, tuple[int, dict[str, Callable[[], None]]]], repeats: int
) -> dict[tuple, dict[str, float]]:
    """Median seconds per call of every side of every cell ({key: (threads, {name: step})}).

    Round after round over all the cells (sides in common.round_order): a cell's samples
    come from moments spread over the whole run, so a burst of load from another program on this
    shared machine spoils one sample of many cells rather than every sample of one cell, and the
    1- and 2-thread cells of a side are measured in the same rounds.
    """
    samples = {key: {name: [] for name in sides} for key, (_, sides) in cells.items()}
    for round_number in range(repeats):
        for key, (threads, sides) in cells.items():
            with thread_count(threads):
                for name in round_order(list(sides), round_number):
                    # OpenBLAS's worker spins a full core for 0.1 s after a call (measured):
                    # on two threads, a side that starts within that time loses the second core
                    time.sleep(0.05 if threads == 1 else 0.3)
                    samples[key][name].append(per_call_seconds(sides[name], 0.05))
    return {
        key: {name: statistics.median(values) for name, values in by_side.items()}
        for key, by_side in samples.items()
    }


def step_rows(
    shapes: dict[str, tuple[int, int, int]], repeats: int
) -> tuple[list[list], dict[tuple, float]]:
    """µs per step of every side, float32 and float64, 1 and 2 threads, with the target ratios;
    and the medians by (shape, dtype, threads, side)."""
    available = available_sides()
    cells = {}
    for label, shape in shapes.items():
        for dtype in (np.float32, np.float64):
            # one step per side, timed on 1 and on 2 threads
            sides = {
                name: make(*shape, dtype=dtype)
                for name, make in STEP_SIDES
                if available.get(name, True)
            }
            for threads in (1, 2):
                cells[(label, np.dtype(dtype).name, threads)] = (threads, sides)
    rows, medians = [], {}
    for (label, dtype_name, threads), times in interleaved_medians(cells, repeats).items():
        for name, t in times.items():
            medians[(label, dtype_name, threads, name)] = t
        cells_text = [
            f"{times[name] * 1e6:,.0f}" if name in times else "n/a" for name, _ in STEP_SIDES
        ]

        def ratio(slower: str, faster: str, times: dict[str, float] = times) -> str:
            if slower not in times or faster not in times:
                return "n/a"
            return f"{times[slower] / times[faster]:.2f}"

        rows.append(
            [
                label,
                dtype_name,
                threads,
                *cells_text,
                ratio("PyTorch with data grad", "MiniFlow default"),
                ratio("PyTorch default", "MiniFlow, data grad skipped"),
                ratio("hand-fused numpy", "MiniFlow, data grad skipped"),
            ]
        )
    return rows, medians


def scaling_rows(medians: dict[tuple, float]) -> list[list]:
    """One thread's step time over two threads', per side, from the interleaved medians."""
    rows = []
    for (label, dtype, threads, name), one in medians.items():
        two = medians.get((label, dtype, 2, name))
        if threads == 1 and two is not None:
            rows.append([label, dtype, name, f"{one / two:.2f}"])
    return rows


def arrays_left_behind(lib, steps: int = 5) -> float:
    """New ndarray objects a step leaves attached to the graph (values, gradients, buffers)."""
    step, graph = graph_step(lib, 11, 13, 10)

    def arrays() -> list:
        return [
            value
            for node in graph
            for value in [node.value, getattr(node, "diff", None), *node.gradients.values()]
            if isinstance(value, np.ndarray)
        ]

    # the arrays are kept alive, so a new array cannot reuse an old one's id; the step feeds
    # two batches in turn, so both are known before counting
    kept, new = [], 0
    for _ in range(2):
        step()
        kept += arrays()
    for _ in range(steps):
        step()
        now = arrays()
        known = {id(a) for a in kept}
        new += sum(id(a) not in known for a in now)
        kept += now
    return new / steps


PEAK_RSS_SCRIPT = """
import resource, sys
sys.path.insert(0, {here!r})
import numpy as np
from threadpoolctl import threadpool_limits
import bench_training, lesson_miniflow, miniflow
lib = {{"lesson": lesson_miniflow, "miniflow": miniflow}}[{side!r}]
miniflow.set_num_threads(1)
with threadpool_limits(1, user_api="blas"):
    step, _ = bench_training.graph_step(lib, 256, 1024, 1024)
    for _ in range(20):
        step()
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def peak_rss_mib(side: str) -> float:
    here = str(Path(__file__).parent)
    out = subprocess.run(
        [sys.executable, "-c", PEAK_RSS_SCRIPT.format(here=here, side=side)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return int(out.split()[-1]) / 1024


def report(quick: bool) -> str:
    repeats = 3 if quick else 7
    shapes = {k: v for k, v in SHAPES.items() if v[1] > 100 and not (quick and v[1] > 800)}
    lesson = markdown_table(
        ["side", "µs per step", "speed-up over the lesson's numpy MiniFlow"],
        lesson_rows(3 if quick else 7),
    )
    rows, medians = step_rows(shapes, repeats)
    steps = markdown_table(
        [
            "shape (batch×in→hidden→1)",
            "dtype",
            "threads",
            *(name + " µs" for name, _ in STEP_SIDES),
            "default: PyTorch with data grad ÷ MiniFlow",
            "skipped: PyTorch default ÷ MiniFlow",
            "skipped: hand numpy ÷ MiniFlow",
        ],
        rows,
    )
    scaling = markdown_table(
        ["shape", "dtype", "side", "1 thread ÷ 2 threads"], scaling_rows(medians)
    )
    memory = markdown_table(
        ["measure", "lesson MiniFlow", "MiniFlow"],
        [
            [
                "new arrays per step (lesson shape)",
                f"{arrays_left_behind(lesson_miniflow):.0f}",
                f"{arrays_left_behind(miniflow):.0f}",
            ]
        ]
        + (
            []
            if quick
            else [
                [
                    "peak RSS, 20 steps at 256×1024→1024→1 (MiB)",
                    f"{peak_rss_mib('lesson'):.0f}",
                    f"{peak_rss_mib('miniflow'):.0f}",
                ]
            ]
        ),
    )
    skipped = (
        ""
        if skips_gradients(miniflow)
        else (
            "\nThe data-gradient-skipped MiniFlow rows are n/a: this MiniFlow's "
            "forward_and_backward takes no `trainables` yet.\n"
        )
    )
    return (
        f"### Lesson-size step (float64, 1 thread)\n\n{lesson}\n\n"
        f"### Training steps (µs per step: forward, backward, SGD)\n\n{steps}\n{skipped}\n"
        "### Two threads against one (the interleaved medians above)\n\n"
        f"{scaling}\n\n"
        f"### Memory\n\n{memory}\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="the lesson shape only, fewer repeats")
    print(report(parser.parse_args().quick))


if __name__ == "__main__":
    main()
