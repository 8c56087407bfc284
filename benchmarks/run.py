"""Run every benchmark and write the results table.

    python benchmarks/run.py [--quick] [--write docs/benchmark-results.md]

The table records the command, machine and date that made it. Every comparison is a median over
alternating repeats of both sides in the same run: read the ratios, not the absolute times.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

import bench_kernels
import bench_training
from common import machine_description, today


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes only, fewer repeats")
    parser.add_argument("--write", type=Path, metavar="MARKDOWN", help="also write the table here")
    args = parser.parse_args()
    command = "python " + " ".join(shlex.quote(a) for a in ["benchmarks/run.py", *sys.argv[1:]])
    body = bench_training.report(args.quick) + "\n" + bench_kernels.report(args.quick)
    text = (f"# Benchmarks\n\nMade by `{command}` on {today()}.\n\nMachine: {machine_description()}.\n\n"
            f"{body}")
    print(text)
    if args.write:
        args.write.write_text(text)


if __name__ == "__main__":
    main()
