"""Scaling: 100, 1,000 and 10,000 agent runs in flight in one process.

Each run is the standard workload (the model calls one tool, then answers: two requests). All
runs of a cell start at once and the server holds every response 200 ms before its first
byte, so they really are in flight together. Transports:

- `inproc`: the simulator in process (`SimTransport`), no sockets;
- `httpx2`, `aiohttp`: the simulator served by a separate process on 127.0.0.1.

    python bench/bench_scale.py [--sizes 100,1000,10000] [--transports inproc,httpx2,aiohttp]

Each cell runs in a fresh child process. Reported per cell: failures (must be 0), CPU ms per
run (`time.process_time()` over the timed phase, including the 200 ms waits' wakeups), the
wall time, peak RSS growth over the idle process divided by the runs in flight (memory per
in-flight run), and CPU per run relative to the 100-run cell of the same transport (the
target: at most 1.5x at 10,000). Bounded: each cell has a time limit; the exit status is 1
when a run failed or a cell missed the target.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

LATENCY = 0.2
CELL_TIME_LIMIT = 240.0
TARGET_RATIO = 1.5


def _rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def _cell(transport: str, size: int, url: str | None) -> dict[str, Any]:
    import anyio
    from bench_transport import agent_once, make_agent, policy

    from agentkit.client import GrokClient

    if transport == "inproc":
        from agentkit.sim import SimCore, SimTransport
        from agentkit.sim.faults import Fault

        core = SimCore(policy)
        core.faults.push(Fault("slow", count=10**9, delay=LATENCY))
        client = GrokClient("bench", base_url="http://sim.local/v1",
                            transport=SimTransport(core), max_retries=0, timeout=600)
    else:
        assert url is not None
        client = GrokClient.openai_compatible(url, max_retries=0, timeout=600, http=transport)
    agent = make_agent("plain", client)
    failures: dict[str, int] = {}
    done = 0
    peak = 0.0

    async def one() -> None:
        nonlocal done
        try:
            output = await agent_once(agent, "plain")
        except Exception as error:  # counted and reported, never hidden
            failures[type(error).__name__] = failures.get(type(error).__name__, 0) + 1
            return
        if output:
            done += 1
        else:
            failures["empty output"] = failures.get("empty output", 0) + 1

    async def sample(scope: anyio.CancelScope) -> None:
        nonlocal peak
        while not scope.cancel_called:
            peak = max(peak, _rss_mib())
            await anyio.sleep(0.05)

    try:
        for _ in range(20):  # warm: imports, schemas, a few connections
            await agent_once(agent, "plain")
        base = _rss_mib()
        peak = base
        cpu = time.process_time()
        started = time.perf_counter()
        with anyio.move_on_after(CELL_TIME_LIMIT):
            async with anyio.create_task_group() as watcher:
                watcher.start_soon(sample, watcher.cancel_scope)
                async with anyio.create_task_group() as group:
                    for _ in range(size):
                        group.start_soon(one)
                watcher.cancel_scope.cancel()
        wall = time.perf_counter() - started
        cpu = time.process_time() - cpu
    finally:
        await client.aclose()
    missing = size - done - sum(failures.values())
    if missing:
        failures["unfinished (time limit)"] = missing
    return {
        "transport": transport, "size": size, "ok": done, "failures": failures,
        "cpu_ms_per_run": cpu / size * 1000, "wall_s": wall,
        "kib_per_inflight_run": max(peak - base, 0.0) * 1024 / size,
    }


def _run_cell(transport: str, size: int, url: str | None) -> dict[str, Any]:
    command = [sys.executable, __file__, "--cell", transport, str(size), url or "-"]
    done = subprocess.run(command, capture_output=True, text=True,
                          timeout=CELL_TIME_LIMIT + 60, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"cell {transport}/{size} failed:\n{done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--transports", default="inproc,httpx2,aiohttp")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--cell", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.cell:
        import anyio

        transport, size, url = args.cell
        print(json.dumps(anyio.run(_cell, transport, int(size), None if url == "-" else url)))
        return 0

    from bench_transport import server

    sizes = [int(s) for s in args.sizes.split(",")]
    transports = args.transports.split(",")
    results: list[dict[str, Any]] = []
    with server(LATENCY) as url:
        for transport in transports:
            for size in sizes:
                results.append(_run_cell(transport, size, None if transport == "inproc" else url))
    if args.json:
        print(json.dumps(results, indent=2))
    bad = False
    print(f"{'transport':9} {'runs':>6} {'ok':>6} {'failed':>6} {'CPU ms/run':>10} "
          f"{'vs 100':>6} {'wall s':>7} {'KiB/run':>8}")
    first: dict[str, float] = {}
    for cell in results:
        base = first.setdefault(cell["transport"], cell["cpu_ms_per_run"])
        ratio = cell["cpu_ms_per_run"] / base
        failed = sum(cell["failures"].values())
        bad = bad or bool(failed) or ratio > TARGET_RATIO
        print(f"{cell['transport']:9} {cell['size']:6d} {cell['ok']:6d} {failed:6d} "
              f"{cell['cpu_ms_per_run']:10.3f} {ratio:5.2f}x {cell['wall_s']:7.2f} "
              f"{cell['kib_per_inflight_run']:8.1f}"
              + (f"  {cell['failures']}" if failed else ""))
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
