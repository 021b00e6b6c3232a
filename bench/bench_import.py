"""How long `import agentkit` takes, beside the libraries it cannot do without.

    python bench/bench_import.py [--runs 7] [--breakdown 15] [--against OTHER_CHECKOUT]

Each measurement is a fresh interpreter timing one statement with `time.perf_counter()` (the
interpreter's own start-up is not counted), run in the checkout's root so that it imports
this checkout's agentkit. The statements take turns, and each figure is the best of `--runs`
(other load on the machine only adds). One warm-up run per statement comes first and writes
the bytecode caches even under PYTHONDONTWRITEBYTECODE, as an installed package has them:
otherwise an edited module is compiled again in every run.

Rows: `import agentkit` (the lazy public API: names load on first use), the imports a plain
run needs (`from agentkit import Agent, GrokClient`), and the floor under it (httpx2,
pydantic and anyio alone). `--against DIR` times another tree (a folder holding an
`agentkit/` package, such as a copy of the code before a change) in the same turns, so that
both columns see the same load. `--breakdown N` then lists the N largest self times that
`-X importtime` reports for a plain run's imports. Target: `import agentkit` within 150 ms;
the exit status is 1 when it is missed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STATEMENTS = {
    "import agentkit": "import agentkit",
    "Agent + GrokClient": "from agentkit import Agent, GrokClient",
    "httpx2 + pydantic + anyio": "import httpx2, pydantic, anyio",
}
TARGET_MS = {"import agentkit": 150.0}
TIMEOUT = 120  # seconds for one child


def _run(tree: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # `python -c` puts its working directory first on sys.path: `tree`'s agentkit wins.
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPROFILEIMPORTTIME", "PYTHONPATH")}
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env,
                          cwd=tree, timeout=TIMEOUT, check=True)


def _time_once(tree: Path, statement: str) -> float:
    """Wall milliseconds of `statement` in a fresh interpreter."""
    code = (f"import time\nt = time.perf_counter()\n{statement}\n"
            "print((time.perf_counter() - t) * 1000)")
    return float(_run(tree, "-c", code).stdout.split()[-1])


def _breakdown(statement: str, top: int) -> list[tuple[int, int, str]]:
    rows = []
    for line in _run(ROOT, "-X", "importtime", "-c", statement).stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, cumulative_us, name = line.removeprefix("import time:").split("|")
        rows.append((int(self_us), int(cumulative_us), name.strip()))
    return sorted(rows, reverse=True)[:top]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="runs per statement (best kept)")
    parser.add_argument("--against", type=Path, metavar="DIR",
                        help="another tree to time in the same turns (a folder with agentkit/)")
    parser.add_argument("--breakdown", type=int, default=0, metavar="N",
                        help="list the N largest import self times of a plain run's imports")
    args = parser.parse_args(argv)
    trees = [ROOT] if args.against is None else [ROOT, args.against.resolve()]
    if args.against is not None and not (trees[1] / "agentkit" / "__init__.py").is_file():
        parser.error(f"--against {args.against}: no agentkit/__init__.py there")

    for tree in trees:
        for statement in STATEMENTS.values():
            _time_once(tree, statement)  # warm-up: bytecode caches
    best = {(tree, label): float("inf") for tree in trees for label in STATEMENTS}
    for _ in range(max(1, args.runs)):
        for label, statement in STATEMENTS.items():
            for tree in trees:
                best[tree, label] = min(best[tree, label], _time_once(tree, statement))

    print(f"best of {args.runs} fresh interpreters, wall ms, {sys.executable}")
    header = f"{'statement':<28} {'this tree':>10}"
    if args.against is not None:
        header += f" {'--against':>10}"
    print(header + "  target")
    missed = False
    for label in STATEMENTS:
        ms = best[ROOT, label]
        line = f"{label:<28} {ms:10.1f}"
        if args.against is not None:
            line += f" {best[trees[1], label]:10.1f}"
        target = TARGET_MS.get(label)
        if target is not None:
            line += f"  <= {target:.0f} ms " + ("ok" if ms <= target else "MISSED")
            missed |= ms > target
        print(line)
    if args.against is not None:
        print(f"--against: {trees[1]}")

    if args.breakdown:
        statement = STATEMENTS["Agent + GrokClient"]
        print(f"\n-X importtime, largest self times of `{statement}` (inflated by the flag):")
        print(f"{'self ms':>8} {'cumul ms':>9}  module")
        for self_us, cumulative_us, name in _breakdown(statement, args.breakdown):
            print(f"{self_us / 1000:8.1f} {cumulative_us / 1000:9.1f}  {name}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
