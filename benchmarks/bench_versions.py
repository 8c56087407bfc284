"""Training steps of two MiniFlow builds side by side: before and after a change.

    python benchmarks/bench_versions.py --before OTHER_PYTHON [--quick] [--write MARKDOWN]

OTHER_PYTHON is an interpreter with the other build installed (for example a venv made from an
earlier commit: ``git worktree add ../before HEAD~1 && python -m venv ../venv-before &&
../venv-before/bin/pip install ../before``); this interpreter is "after". Each side runs in a
worker process of its own, and the rounds alternate between them (before, after, after,
before, ...) so both see the same load: read the ratios, not the absolute times.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

from common import command_line, machine_description, markdown_table, now, round_order, write_report

HERE = Path(__file__).resolve().parent

SHAPES = {
    "lesson 11×13→10→1": (11, 13, 10),
    "64×784→256→1": (64, 784, 256),
    "256×1024→1024→1": (256, 1024, 1024),
}

ROUND_SECONDS = 0.05  # long enough to average over a scheduler tick, short enough to alternate

# A worker: builds each step once, then times one round per request line ("case steps"),
# answering with the seconds per step.
WORKER = """
import json, sys, time
sys.path.insert(0, {here!r})
import numpy as np, miniflow
from bench_training import graph_step
miniflow.set_num_threads(1)
steps = {{}}
for line in sys.stdin:
    case, count = json.loads(line)
    if case not in steps:
        batch, n_in, hidden, data_gradient = case.split(",")
        step, _ = graph_step(miniflow, int(batch), int(n_in), int(hidden),
                             data_gradient=data_gradient == "1")
        for _ in range(3):
            step()
        steps[case] = step
    step = steps[case]
    start = time.perf_counter()
    for _ in range(count):
        step()
    print(json.dumps((time.perf_counter() - start) / count), flush=True)
"""


class Worker:
    """One interpreter timing steps on request."""

    def __init__(self, python: str) -> None:
        self.process = subprocess.Popen(
            [python, "-c", WORKER.format(here=str(HERE))],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def seconds_per_step(self, case: str, count: int) -> float:
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.process.stdin.write(json.dumps((case, count)) + "\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline()
        if not answer:
            raise RuntimeError(f"the worker {self.process.args[0]} stopped")
        return float(json.loads(answer))

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()  # the worker's loop ends at end of input
        self.process.wait()
        assert self.process.stdout is not None
        self.process.stdout.close()


def compare(before: Worker, after: Worker, case: str, count: int, rounds: int) -> list[float]:
    """Median µs per step of each side over alternating rounds: [before, after]."""
    workers = {"before": before, "after": after}
    times: dict[str, list[float]] = {"before": [], "after": []}
    for round_number in range(rounds):
        for side in round_order(list(workers), round_number):
            times[side].append(workers[side].seconds_per_step(case, count) * 1e6)
    return [statistics.median(times["before"]), statistics.median(times["after"])]


def report(before_python: str, quick: bool) -> str:
    before, after = Worker(before_python), Worker(sys.executable)
    rows = []
    try:
        for name, (batch, n_in, hidden) in SHAPES.items():
            if quick and batch > 64:
                continue
            for data_gradient in (True, False):
                case = f"{batch},{n_in},{hidden},{int(data_gradient)}"
                # steps per round: about ROUND_SECONDS of them, from one step of each side
                step = max(before.seconds_per_step(case, 1), after.seconds_per_step(case, 1))
                count = max(3, round(ROUND_SECONDS / step))
                old, new = compare(before, after, case, count, 5 if quick else 21)
                kind = "every gradient" if data_gradient else "data gradient skipped"
                rows.append([name, kind, f"{old:,.1f}", f"{new:,.1f}", f"{new / old:.3f}"])
    finally:
        before.close()
        after.close()
    header = ["shape (batch×in→hidden→1)", "gradients", "before µs", "after µs", "after ÷ before"]
    return (
        "### Before and after (float64, 1 thread, medians of alternating rounds)\n\n"
        + markdown_table(header, rows)
        + "\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--before", required=True, metavar="PYTHON", help="the other build's python"
    )
    parser.add_argument("--quick", action="store_true", help="small shapes only, fewer rounds")
    parser.add_argument("--write", type=Path, metavar="MARKDOWN", help="also write the table here")
    args = parser.parse_args()
    started = now()
    text = report(args.before, args.quick)
    text = (
        f"Made by `{command_line()}` from {started} to {now()}.\n\n"
        f"Machine: {machine_description()}.\n\n{text}"
    )
    print(text)
    if args.write:
        write_report(args.write, text)


if __name__ == "__main__":
    main()
