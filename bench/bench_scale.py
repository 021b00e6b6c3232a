"""Scaling: 100, 1,000 and 10,000 agent runs in flight in one process.

Each run is the standard workload (the model calls one tool, then answers: two requests). All
runs of a cell start at once and the server holds every response 200 ms before its first
byte, so they really are in flight together. Transports:

- `inproc`: the simulator in process (`SimTransport`), no sockets;
- `httpx2`, `aiohttp`: the simulator served by a separate process on 127.0.0.1.

    python bench/bench_scale.py [--sizes 100,1000,10000] [--transports inproc,httpx2,aiohttp]

Each cell runs in a fresh child process, in waves of its size until at least 2,000 runs are
done (20 waves of 100, 2 of 1,000, 1 of 10,000): one wave of 100 takes a tenth of a second of
CPU, too little to measure alone. Reported per cell: failures (must be 0), CPU ms per run
(`time.process_time()` over the timed phase, including the 200 ms waits' wakeups), the
wall time, peak RSS growth over the idle process divided by the runs in flight (memory per
in-flight run), and CPU per run relative to the 100-run cell of the same transport (the
target: at most 1.5x at 10,000), with the part of it spent collecting garbage (`GC ms/run`):
what grows with the runs in flight is CPython's cyclic collector, which rescans every live
object the more often the more of them there are. `--gc-threshold 10000,20,20` runs the cells
with `gc.set_threshold(10000, 20, 20)`, as a service running this many may choose to. Bounded: each cell has a time limit; the exit status is 1
when a run failed or a cell missed the target.
"""

from __future__ import annotations

import argparse
import gc
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
CELL_RUNS = 2000  # at least this many runs per cell, in waves of the cell's size


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
    waves = max(1, -(-CELL_RUNS // size))
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

    collecting = [0.0, 0.0]  # CPU seconds in the collector; when the current one started

    def time_collections(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            collecting[1] = time.process_time()
        else:
            collecting[0] += time.process_time() - collecting[1]

    try:
        for _ in range(20):  # warm: imports, schemas, a few connections
            await agent_once(agent, "plain")
        base = _rss_mib()
        peak = base
        cpu = time.process_time()
        started = time.perf_counter()
        gc.callbacks.append(time_collections)
        with anyio.move_on_after(CELL_TIME_LIMIT):
            async with anyio.create_task_group() as watcher:
                watcher.start_soon(sample, watcher.cancel_scope)
                for _ in range(waves):
                    async with anyio.create_task_group() as group:
                        for _ in range(size):
                            group.start_soon(one)
                watcher.cancel_scope.cancel()
        wall = time.perf_counter() - started
        cpu = time.process_time() - cpu
        gc.callbacks.remove(time_collections)
    finally:
        await client.aclose()
    total = size * waves
    missing = total - done - sum(failures.values())
    if missing:
        failures["unfinished (time limit)"] = missing
    return {
        "transport": transport, "size": size, "waves": waves, "ok": done, "failures": failures,
        "cpu_ms_per_run": cpu / total * 1000, "gc_ms_per_run": collecting[0] / total * 1000,
        "wall_s": wall / waves,
        "kib_per_inflight_run": max(peak - base, 0.0) * 1024 / size,
    }


def _run_cell(transport: str, size: int, url: str | None, gc_threshold: str) -> dict[str, Any]:
    command = [sys.executable, __file__, "--cell", transport, str(size), url or "-"]
    if gc_threshold:
        command += ["--gc-threshold", gc_threshold]
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
    parser.add_argument("--gc-threshold", default="",
                        help="gc.set_threshold() for the cells, e.g. 10000,20,20 (default: "
                             "CPython's own)")
    parser.add_argument("--cell", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.cell:
        import anyio

        transport, size, url = args.cell
        if args.gc_threshold:
            gc.set_threshold(*(int(part) for part in args.gc_threshold.split(",")))
        print(json.dumps(anyio.run(_cell, transport, int(size), None if url == "-" else url)))
        return 0

    from bench_transport import server

    sizes = [int(s) for s in args.sizes.split(",")]
    transports = args.transports.split(",")
    results: list[dict[str, Any]] = []
    with server(LATENCY) as url:
        for transport in transports:
            for size in sizes:
                results.append(_run_cell(transport, size, None if transport == "inproc" else url,
                                         args.gc_threshold))
    if args.json:
        print(json.dumps(results, indent=2))
    bad = False
    if args.gc_threshold:
        print(f"gc.set_threshold({args.gc_threshold})")
    print(f"{'transport':9} {'runs':>6} {'ok':>6} {'failed':>6} {'CPU ms/run':>10} "
          f"{'vs 100':>6} {'GC ms/run':>9} {'wall s':>7} {'KiB/run':>8}   (runs: in flight at "
          "once; ok: in all waves; wall: per wave)")
    first: dict[str, float] = {}
    for cell in results:
        base = first.setdefault(cell["transport"], cell["cpu_ms_per_run"])
        ratio = cell["cpu_ms_per_run"] / base
        failed = sum(cell["failures"].values())
        bad = bad or bool(failed) or ratio > TARGET_RATIO
        print(f"{cell['transport']:9} {cell['size']:6d} {cell['ok']:6d} {failed:6d} "
              f"{cell['cpu_ms_per_run']:10.3f} {ratio:5.2f}x {cell['gc_ms_per_run']:9.3f} "
              f"{cell['wall_s']:7.2f} "
              f"{cell['kib_per_inflight_run']:8.1f}"
              + (f"  {cell['failures']}" if failed else ""))
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
