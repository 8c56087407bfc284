"""Whole training steps (forward, backward, SGD; 1 thread) against the lesson's numpy MiniFlow,
the best hand-written numpy for the same step, and PyTorch eager when it is installed.

    python benchmarks/bench_training.py [--quick]

Also: the step time a GEMM-bound shape could reach (its FLOPs at numpy's matmul GFLOP/s),
arrays each step leaves behind, and peak RSS of a process that trains at the largest shape.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path
from typing import Callable, Dict, List, Tuple

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "reference"))
import lesson_miniflow  # noqa: E402  (the tests' numpy oracle, the lesson's own code)
import miniflow
from common import compare, markdown_table

SHAPES = {"lesson 11×13→10→1": (11, 13, 10), "64×784→256→1": (64, 784, 256),
          "256×1024→1024→1": (256, 1024, 1024)}


def graph_step(lib, batch: int, n_in: int, hidden: int, seed: int = 0) -> Tuple[Callable[[], None], list]:
    """The lesson's network on random data, as a step function for either library."""
    rng = np.random.default_rng(seed)
    X, y = lib.Input(), lib.Input()
    W1, b1, W2, b2 = lib.Input(), lib.Input(), lib.Input(), lib.Input()
    lib.MSE(y, lib.Linear(lib.Sigmoid(lib.Linear(X, W1, b1)), W2, b2))
    feed = {X: rng.standard_normal((batch, n_in)), y: rng.standard_normal(batch),
            W1: rng.standard_normal((n_in, hidden)) * 0.01, b1: np.zeros(hidden),
            W2: rng.standard_normal((hidden, 1)) * 0.01, b2: np.zeros(1)}
    graph = lib.topological_sort(feed)
    trainables = [W1, b1, W2, b2]
    # two batches, fed in turn as the lesson's loop does (X.value = batch before each step)
    batches = [(feed[X], feed[y]), (rng.standard_normal((batch, n_in)), rng.standard_normal(batch))]
    turn = [0]

    def step() -> None:
        X.value, y.value = batches[turn[0]]
        turn[0] ^= 1
        lib.forward_and_backward(graph)
        lib.sgd_update(trainables, 1e-6)

    return step, graph


def hand_fused_numpy_step(batch: int, n_in: int, hidden: int, seed: int = 0) -> Callable[[], None]:
    """The same math written directly in numpy with preallocated buffers and out= everywhere."""
    rng = np.random.default_rng(seed)
    X, y = rng.standard_normal((batch, n_in)), rng.standard_normal((batch, 1))
    W1, b1 = rng.standard_normal((n_in, hidden)) * 0.01, np.zeros(hidden)
    W2, b2 = rng.standard_normal((hidden, 1)) * 0.01, np.zeros(1)
    h, s, out, diff = (np.empty((batch, hidden)), np.empty((batch, hidden)), np.empty((batch, 1)),
                       np.empty((batch, 1)))
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
        np.matmul(ds, W1.T, out=dX)  # the lesson computes dCost/dX too
        for param, grad in ((W1, dW1), (b1, db1), (W2, dW2), (b2, db2)):
            np.multiply(grad, lr, out=grad)
            np.subtract(param, grad, out=param)

    return step


def torch_step(batch: int, n_in: int, hidden: int, seed: int = 0) -> Callable[[], None]:
    import torch

    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(seed)
    X = torch.randn(batch, n_in, dtype=torch.float64, generator=gen, requires_grad=True)
    y = torch.randn(batch, 1, dtype=torch.float64, generator=gen)
    params = [torch.randn(n_in, hidden, dtype=torch.float64, generator=gen) * 0.01,
              torch.zeros(hidden, dtype=torch.float64),
              torch.randn(hidden, 1, dtype=torch.float64, generator=gen) * 0.01,
              torch.zeros(1, dtype=torch.float64)]
    for p in params:
        p.requires_grad_(True)
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


def step_rows(shapes: Dict[str, Tuple[int, int, int]], repeats: int) -> List[list]:
    try:
        import torch  # noqa: F401

        have_torch = True
    except ImportError:
        have_torch = False
    rows = []
    miniflow.set_num_threads(1)
    with threadpool_limits(1, user_api="blas"):
        for label, shape in shapes.items():
            sides = {"lesson": graph_step(lesson_miniflow, *shape)[0],
                     "hand numpy": hand_fused_numpy_step(*shape),
                     "miniflow": graph_step(miniflow, *shape)[0]}
            if have_torch:
                sides["torch"] = torch_step(*shape)
            times = compare(sides, repeats=repeats, min_seconds=0.05)
            bound = step_flops(*shape) / (numpy_gflops(*shape) * 1e9)
            us = {name: f"{t * 1e6:,.1f}" for name, t in times.items()}
            rows.append([label, us["lesson"], us["hand numpy"], us.get("torch", "not installed"),
                         us["miniflow"], f"{times['lesson'] / times['miniflow']:.2f}",
                         f"{times['hand numpy'] / times['miniflow']:.2f}",
                         f"{times['miniflow'] / bound:.2f}"])
    miniflow.set_num_threads(miniflow.get_num_threads())
    return rows


def arrays_left_behind(lib, steps: int = 5) -> float:
    """New ndarray objects a step leaves attached to the graph (values, gradients, buffers)."""
    step, graph = graph_step(lib, 11, 13, 10)
    step()

    def arrays() -> list:
        found = []
        for node in graph:
            for value in [node.value, getattr(node, "diff", None), *node.gradients.values()]:
                if isinstance(value, np.ndarray):
                    found.append(value)
        return found

    # the arrays are kept alive, so a new array cannot reuse an old one's id
    kept, new = arrays(), 0
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
    out = subprocess.run([sys.executable, "-c", PEAK_RSS_SCRIPT.format(here=here, side=side)],
                         capture_output=True, text=True, check=True).stdout
    return int(out.split()[-1]) / 1024


def report(quick: bool) -> str:
    shapes = {k: v for k, v in SHAPES.items() if not (quick and v[1] > 100)}
    steps = markdown_table(
        ["shape (batch×in→hidden→1)", "lesson µs", "hand numpy µs", "torch µs", "MiniFlow µs",
         "speed-up over lesson", "speed-up over hand numpy", "MiniFlow ÷ GEMM bound"],
        step_rows(shapes, 3 if quick else 7))
    memory = markdown_table(
        ["measure", "lesson MiniFlow", "MiniFlow"],
        [["new arrays per step (lesson shape)", f"{arrays_left_behind(lesson_miniflow):.0f}",
          f"{arrays_left_behind(miniflow):.0f}"]]
        + ([] if quick else [["peak RSS, 20 steps at 256×1024→1024→1 (MiB)",
                              f"{peak_rss_mib('lesson'):.0f}", f"{peak_rss_mib('miniflow'):.0f}"]]))
    return f"### Training steps (float64, 1 thread)\n\n{steps}\n\n### Memory\n\n{memory}\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="the lesson shape only, fewer repeats")
    print(report(parser.parse_args().quick))


if __name__ == "__main__":
    main()
