"""Kernels against numpy: matrix products (GFLOP/s) and elementwise passes (bandwidth).

    python benchmarks/bench_kernels.py [--quick] [--gemm]

Every figure is a median over alternating repeats of both sides in one run.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from common import compare, markdown_table, thread_count

from miniflow import _core

GEMM_SIZES = {
    "tiny 8x8x8": (8, 8, 8),
    "lesson 11x13x10": (11, 13, 10),
    "256": (256, 256, 256),
    "1024": (1024, 1024, 1024),
    "2048": (2048, 2048, 2048),
    "4096": (4096, 4096, 4096),
}


GEMM_HEADER = [
    "dtype",
    "threads",
    "size (m×k×n)",
    "numpy GFLOP/s",
    "MiniFlow GFLOP/s",
    "MiniFlow ÷ numpy",
    "MiniFlow ÷ numpy by CPU time",
]


def gemm_rows(sizes: dict, repeats: int) -> list[list]:
    rows = []
    rng = np.random.default_rng(0)
    for dtype in (np.float32, np.float64):
        for threads in (1, 2):
            for label, (m, k, n) in sizes.items():
                a = rng.standard_normal((m, k)).astype(dtype)
                b = rng.standard_normal((k, n)).astype(dtype)
                c_numpy, c_ours = np.empty((m, n), dtype), np.empty((m, n), dtype)
                with thread_count(threads):
                    times = compare(
                        {
                            "numpy": lambda: np.matmul(a, b, out=c_numpy),
                            "miniflow": lambda: _core.matmul(a, b, c_ours),
                        },
                        repeats=repeats if m < 2048 else max(3, repeats // 2),
                        pause=0.3 if m >= 256 else 0.0,
                    )
                    # one thread again by CPU time, which the machine's other tenants do not inflate
                    cpu = (
                        compare(
                            {
                                "numpy": lambda: np.matmul(a, b, out=c_numpy),
                                "miniflow": lambda: _core.matmul(a, b, c_ours),
                            },
                            repeats=3,
                            clock=time.process_time,
                        )
                        if threads == 1 and m >= 256
                        else None
                    )
                flops = 2.0 * m * k * n
                numpy_rate, ours_rate = (
                    flops / times["numpy"] / 1e9,
                    flops / times["miniflow"] / 1e9,
                )
                rows.append(
                    [
                        np.dtype(dtype).name,
                        threads,
                        label,
                        f"{numpy_rate:.1f}",
                        f"{ours_rate:.1f}",
                        f"{ours_rate / numpy_rate:.2f}",
                        f"{cpu['numpy'] / cpu['miniflow']:.2f}" if cpu else "—",
                    ]
                )
    return rows


def transposed_rows(repeats: int) -> list[list]:
    """The backward products read transposes through strides: G·Wᵀ and Xᵀ·G."""
    rows = []
    rng = np.random.default_rng(1)
    m = k = n = 1024
    for dtype in (np.float32, np.float64):
        x = rng.standard_normal((m, k)).astype(dtype)
        g = rng.standard_normal((m, n)).astype(dtype)
        w = rng.standard_normal((k, n)).astype(dtype)
        for label, (a, b) in {"G·Wᵀ": (g, w.T), "Xᵀ·G": (x.T, g)}.items():
            out_numpy, out_ours = (
                np.empty((a.shape[0], b.shape[1]), dtype),
                np.empty((a.shape[0], b.shape[1]), dtype),
            )
            with thread_count(1):
                times = compare(
                    {
                        "numpy": lambda: np.matmul(a, b, out=out_numpy),
                        "miniflow": lambda: _core.matmul(a, b, out_ours),
                    },
                    repeats=repeats,
                )
            flops = 2.0 * a.shape[0] * a.shape[1] * b.shape[1]
            numpy_rate, ours_rate = flops / times["numpy"] / 1e9, flops / times["miniflow"] / 1e9
            rows.append(
                [
                    np.dtype(dtype).name,
                    1,
                    f"{label} 1024",
                    f"{numpy_rate:.1f}",
                    f"{ours_rate:.1f}",
                    f"{ours_rate / numpy_rate:.2f}",
                    "—",
                ]
            )
    return rows


def elementwise_rows(sizes: list[int], repeats: int) -> list[list]:
    rows = []
    rng = np.random.default_rng(2)
    for dtype in (np.float32, np.float64):
        for n in sizes:
            x = rng.standard_normal(n).astype(dtype)
            g = rng.standard_normal(n).astype(dtype)
            a = rng.standard_normal((n, 1)).astype(dtype)
            out = np.empty(n, dtype)
            s = _core.sigmoid_forward(x)
            diff = np.zeros((n, 1), dtype)
            weights = rng.standard_normal(n).astype(dtype)
            sigmoid_grad = _core.sigmoid_backward(s, g)
            mse_grad = np.empty((n, 1), dtype)
            cases = {
                # name: (ours, numpy doing the same math, bytes each moves)
                "sigmoid forward": (
                    lambda: _core.sigmoid_forward(x, out),
                    lambda: 1.0 / (1.0 + np.exp(-x)),
                    2,
                ),
                "sigmoid backward": (
                    lambda: _core.sigmoid_backward(s, g, sigmoid_grad, False),
                    lambda: s * (1 - s) * g,
                    3,
                ),
                "mse forward": (
                    lambda: _core.mse_forward(x, a, diff),
                    lambda: np.mean((x.reshape(-1, 1) - a) ** 2),
                    3,
                ),
                "mse backward": (  # ∂cost/∂a = −2/m·(y − a), from the forward's y − a
                    lambda: _core.mse_backward(diff, -1, mse_grad, False),
                    lambda: -2 / n * diff,
                    2,
                ),
                "sgd update": (
                    lambda: _core.sgd_update(weights, g, 0.0),
                    lambda: np.subtract(weights, 0.0 * g, out=weights),
                    3,
                ),
            }
            for name, (ours, numpy_side, arrays_moved) in cases.items():
                # one thread: numpy's elementwise passes have no other (large sigmoid and SGD
                # passes of ours use every thread set by set_num_threads)
                with thread_count(1):
                    times = compare(
                        {"copy": lambda: np.copyto(out, x), "numpy": numpy_side, "miniflow": ours},
                        repeats=repeats,
                    )
                bytes_moved = arrays_moved * n * x.itemsize
                copy_rate = 2 * n * x.itemsize / times["copy"]
                ours_rate = bytes_moved / times["miniflow"]
                rows.append(
                    [
                        np.dtype(dtype).name,
                        name,
                        f"{n:,}",
                        f"{times['numpy'] * 1e6:.2f}",
                        f"{times['miniflow'] * 1e6:.2f}",
                        f"{times['numpy'] / times['miniflow']:.2f}",
                        f"{ours_rate / copy_rate:.2f}",
                    ]
                )
    return rows


def report(quick: bool) -> str:
    repeats = 3 if quick else 7
    sizes = {k: v for k, v in GEMM_SIZES.items() if not (quick and v[0] > 256)}
    gemm = markdown_table(GEMM_HEADER, gemm_rows(sizes, repeats) + transposed_rows(repeats))
    elementwise = markdown_table(
        [
            "dtype",
            "kernel",
            "elements",
            "numpy µs",
            "MiniFlow µs",
            "speed-up over numpy",
            "fraction of copy bandwidth",
        ],
        elementwise_rows([100, 10_000] + ([] if quick else [4_000_000]), repeats),
    )
    return f"### Matrix products\n\n{gemm}\n\n### Elementwise kernels (1 thread)\n\n{elementwise}\n"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small sizes only, fewer repeats")
    parser.add_argument("--gemm", action="store_true", help="the matrix products at 256-4096 only")
    args = parser.parse_args()
    if args.gemm:
        sizes = {k: v for k, v in GEMM_SIZES.items() if v[0] >= 256}
        print(markdown_table(GEMM_HEADER, gemm_rows(sizes, 3 if args.quick else 7)))
    else:
        print(report(args.quick))


if __name__ == "__main__":
    main()
