"""The speed report in one run: transports (agentkit beside a hand-written loop on httpx2 and
on aiohttp, plain / structured / stream), import time, and the 100 / 1,000 / 10,000-run
scaling table.

    python bench/report.py [--quick]

`--quick` runs smaller samples (a smoke run, not figures to quote). Each part is its own
script in this folder and can be run alone; the exit status is 1 when any part missed its
target.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    parts = [
        ("transports", ["bench_transport.py"]
         + (["--runs", "10", "--rounds", "10", "--repeats", "1", "--total", "100"]
            if args.quick else [])),
        ("import time", ["bench_import.py"]),
        ("scaling", ["bench_scale.py"] + (["--sizes", "100,1000"] if args.quick else [])),
    ]
    missed = []
    for title, command in parts:
        print(f"\n== {title} ==", flush=True)
        done = subprocess.run([sys.executable, str(HERE / command[0]), *command[1:]],
                              check=False, timeout=3600)
        if done.returncode != 0:
            missed.append(title)
    if missed:
        print(f"\nmissed a target: {', '.join(missed)}")
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
