"""Timing and reporting helpers shared by the benchmark scripts.

These machines are shared and noisy, so every comparison times both sides in the same run,
alternating them, and reports medians and ratios rather than absolute times.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import platform
import shlex
import statistics
import sys
import time
from collections.abc import Iterator, Sequence
from typing import Callable

import numpy as np

from miniflow._files import replace_file


def per_call_seconds(
    fn: Callable[[], object],
    min_seconds: float = 0.02,
    clock: Callable[[], float] = time.perf_counter,
) -> float:
    """Seconds per call of fn, from a loop long enough to dwarf the timer's resolution."""
    fn()
    calls = 1
    while True:
        start = clock()
        for _ in range(calls):
            fn()
        elapsed = clock() - start
        if elapsed >= min_seconds:
            return elapsed / calls
        calls *= 2 if elapsed == 0 else max(2, int(min_seconds / elapsed * 1.2))


def round_order(names: list[str], round_number: int) -> list[str]:
    """The sides in the order round `round_number` times them: each round starts one side later,
    so no side always follows the same one (whose threads may still be running when it starts)."""
    start = round_number % len(names)
    return names[start:] + names[:start]


def compare(
    sides: dict[str, Callable[[], object]],
    repeats: int = 7,
    min_seconds: float = 0.02,
    pause: float = 0.0,
    clock: Callable[[], float] = time.perf_counter,
) -> dict[str, float]:
    """Median seconds per call of each side, measured alternately `repeats` times.

    `pause` seconds of sleep before each measurement let threads that spin after a parallel
    call (OpenBLAS's and ours) go idle, so neither side starts with the other's still running.
    With clock=time.process_time a single-threaded side is timed by the CPU time it used, which
    other programs on a shared machine do not inflate.
    """
    samples: dict[str, list[float]] = {name: [] for name in sides}
    for round_number in range(repeats):
        for name in round_order(list(sides), round_number):
            time.sleep(pause)
            samples[name].append(per_call_seconds(sides[name], min_seconds, clock))
    return {name: statistics.median(values) for name, values in samples.items()}


@contextlib.contextmanager
def thread_count(threads: int) -> Iterator[None]:
    """MiniFlow, numpy's BLAS and PyTorch (when loaded) on `threads` threads; on exit each gets
    back the count it had."""
    from threadpoolctl import threadpool_limits

    import miniflow

    torch = sys.modules.get("torch")
    found = miniflow.get_num_threads(), torch.get_num_threads() if torch else None
    miniflow.set_num_threads(threads)
    if torch:
        torch.set_num_threads(threads)
    try:
        with threadpool_limits(threads, user_api="blas"):
            yield
    finally:
        miniflow.set_num_threads(found[0])
        if torch:
            torch.set_num_threads(found[1])


def cpu_model() -> str:
    """The CPU's model name, family and model numbers from /proc/cpuinfo, else the platform's."""
    fields: dict[str, str] = {}
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                key, _, value = line.partition(":")
                fields.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    if "model name" not in fields:
        return platform.processor() or platform.machine()
    family, model = fields.get("cpu family", "?"), fields.get("model", "?")
    return f"{fields['model name']} (family {family}, model {model})"


def machine_description() -> str:
    """CPU model, cores, Python, numpy and its BLAS: what a reader needs to weigh the figures."""
    model = cpu_model()
    from miniflow import _core

    blas = "unknown BLAS"
    try:
        from threadpoolctl import threadpool_info

        infos = [i for i in threadpool_info() if i.get("user_api") == "blas"]
        if infos:
            blas = (
                f"{infos[0]['internal_api']} {infos[0]['version']} ({infos[0].get('architecture')})"
            )
    except ImportError:
        pass
    return (
        f"{model}, {os.cpu_count()} cores; Python {platform.python_version()}, "
        f"numpy {np.__version__} with {blas}; MiniFlow kernels: {_core.isa()}"
    )


def now() -> str:
    """The date and time (UTC) to the minute."""
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def write_report(path: os.PathLike[str] | str, text: str) -> None:
    """Write a results table to `path` atomically (the old file stays whole if anything fails),
    with the mode a new file would get under the umask, as MiniFlow's own commands do."""
    with replace_file(path) as file:
        file.write(text.encode("utf-8"))


def command_line() -> str:
    """The command that is running, as it would be typed from the project's folder, with the
    OpenBLAS variables this machine may set (they change numpy's speed) shown unset if they are."""
    unset = [name for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if name not in os.environ]
    prefix = "env " + " ".join(f"-u {name}" for name in unset) + " " if unset else ""
    script = "benchmarks/" + os.path.basename(sys.argv[0])
    return prefix + "python " + " ".join(shlex.quote(a) for a in [script, *sys.argv[1:]])
