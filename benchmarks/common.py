"""Timing and reporting helpers shared by the benchmark scripts.

These machines are shared and noisy, so every comparison times both sides in the same run,
alternating them, and reports medians and ratios rather than absolute times.
"""

from __future__ import annotations

import datetime
import os
import platform
import statistics
import subprocess
import time
from typing import Callable, Dict, List, Sequence

import numpy as np


def per_call_seconds(fn: Callable[[], object], min_seconds: float = 0.02) -> float:
    """Seconds per call of fn, from a loop long enough to dwarf the timer's resolution."""
    fn()
    calls = 1
    while True:
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds:
            return elapsed / calls
        calls *= 2 if elapsed == 0 else max(2, int(min_seconds / elapsed * 1.2))


def compare(sides: Dict[str, Callable[[], object]], repeats: int = 7,
            min_seconds: float = 0.02, pause: float = 0.0) -> Dict[str, float]:
    """Median seconds per call of each side, measured alternately `repeats` times.

    `pause` seconds of sleep before each measurement let threads that spin after a parallel
    call (OpenBLAS's and ours) go idle, so neither side starts with the other's still running.
    """
    samples: Dict[str, List[float]] = {name: [] for name in sides}
    for _ in range(repeats):
        for name, fn in sides.items():
            time.sleep(pause)
            samples[name].append(per_call_seconds(fn, min_seconds))
    return {name: statistics.median(values) for name, values in samples.items()}


def machine_description() -> str:
    """CPU model, cores, Python, numpy and its BLAS: what a reader needs to weigh the figures."""
    model = platform.processor() or platform.machine()
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    from miniflow import _core

    blas = "unknown BLAS"
    try:
        from threadpoolctl import threadpool_info

        infos = [i for i in threadpool_info() if i.get("user_api") == "blas"]
        if infos:
            blas = f"{infos[0]['internal_api']} {infos[0]['version']} ({infos[0].get('architecture')})"
    except ImportError:
        pass
    return (f"{model}, {os.cpu_count()} cores; Python {platform.python_version()}, "
            f"numpy {np.__version__} with {blas}; MiniFlow kernels: {_core.isa()}")


def today() -> str:
    return datetime.date.today().isoformat()


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)
