"""Run every benchmark and write the results table.

    python benchmarks/run.py [--quick] [--write docs/benchmark-results.md]

The table records the command, machine and date that made it. Every comparison is a median over
alternating repeats of both sides in the same run: read the ratios, not the absolute times.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import bench_kernels
import bench_training
from common import command_line, machine_description, now, write_report


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small sizes only, fewer repeats")
    parser.add_argument("--write", type=Path, metavar="MARKDOWN", help="also write the table here")
    args = parser.parse_args()
    command = command_line()
    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    started = now()
    body = bench_training.report(args.quick) + "\n" + bench_kernels.report(args.quick)
    load = (
        ""
        if load_before is None
        else (
            f" Load average (1 min): {load_before:.1f} at the start, "
            f"{os.getloadavg()[0]:.1f} at the end,"
            f" on {os.cpu_count()} cores."
        )
    )
    text = (
        f"# Benchmarks\n\nMade by `{command}` from {started} to {now()}.{load}\n\n"
        f"Machine: {machine_description()}.\n\n{body}"
    )
    print(text)
    if args.write:
        write_report(args.write, text)


if __name__ == "__main__":
    main()
