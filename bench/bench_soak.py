"""Soak: many sequential agent runs in one process, watching memory and file descriptors.

Each run is the standard workload (one `@tool`, the simulated model calls it once, then
answers: two chat completions). By default the client talks to the simulated Grok in-process
(`GrokClient.simulated()`); `--server` goes through loopback HTTP instead, to a
`run_in_thread` server in this process (so the server's memory is counted too).

    python bench/bench_soak.py [--runs 20000] [--warmup 500] [--server] [--json]

Measured after a warm-up (caches filled, the pool open) and at the end, each time after
`gc.collect()`: RSS (`/proc/self/statm`), the size `tracemalloc` traces, and open file
descriptors (`/proc/self/fd`). Targets: memory growth under 5 MiB (RSS and traced), no more
descriptors at the end than after the warm-up. When traced memory grows, the ten lines that
gained most (a `tracemalloc` snapshot diff) are printed. Exit status 1 when a target is missed
or a run failed.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
import tracemalloc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import anyio

from agentkit.agent import Agent
from agentkit.client import GrokClient
from agentkit.tool import tool

PROMPT = "What is the weather in Paris?"
INSTRUCTIONS = "You are a weather assistant. Answer in one sentence."
MIB = 1024 * 1024
MEMORY_TARGET = 5 * MIB
_PAGE = os.sysconf("SC_PAGE_SIZE")


@tool
async def get_weather(city: str) -> dict[str, Any]:
    """Get the current weather for a city.

    Args:
        city: The city name.
    """
    return {"city": city, "sky": "sunny", "temp_c": 21}


def rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * _PAGE


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def sample() -> dict[str, int]:
    gc.collect()
    return {"rss": rss(), "traced": tracemalloc.get_traced_memory()[0], "fds": open_fds()}


@asynccontextmanager
async def make_client(server: bool) -> AsyncIterator[GrokClient]:
    if not server:
        async with GrokClient.simulated(max_retries=0) as client:
            yield client
        return
    from agentkit.sim import SimCore
    from agentkit.sim.server import run_in_thread

    with run_in_thread(SimCore(api_key="soak-key")) as base_url:
        async with GrokClient.openai_compatible(
            f"{base_url}/v1", "soak-key", max_retries=0, timeout=60
        ) as client:
            yield client


@contextmanager
def tracing(frames: int) -> Any:
    tracemalloc.start(frames)
    try:
        yield
    finally:
        tracemalloc.stop()


def top_growth(before: tracemalloc.Snapshot, after: tracemalloc.Snapshot,
               frames: int, limit: int = 10) -> list[str]:
    ignore = [tracemalloc.Filter(False, tracemalloc.__file__),
              tracemalloc.Filter(False, "<frozen importlib._bootstrap*>")]
    key = "traceback" if frames > 1 else "lineno"
    stats = after.filter_traces(ignore).compare_to(before.filter_traces(ignore), key)
    lines = []
    for stat in stats[:limit]:
        lines.append(f"{stat.size_diff / 1024:+9.1f} KiB {stat.count_diff:+7d} blocks  "
                     f"{stat.traceback.format()[-1].strip() if frames == 1 else ''}")
        if frames > 1:
            lines.extend("      " + line for line in stat.traceback.format())
    return lines


async def soak(args: argparse.Namespace) -> dict[str, Any]:
    failures = 0
    done = 0
    progress: list[dict[str, int]] = []
    fds_before = open_fds()
    deadline = time.monotonic() + args.time_limit
    async with make_client(args.server) as client:
        agent = Agent("grok-4", instructions=INSTRUCTIONS, tools=[get_weather], client=client)

        async def run_one() -> None:
            nonlocal failures, done
            try:
                result = await agent.run(PROMPT)
            except Exception as error:
                failures += 1
                if failures <= 3:
                    print(f"run {done} failed: {type(error).__name__}: {error}", file=sys.stderr)
            else:
                if result.usage.tool_calls != 1 or result.usage.requests != 2:
                    failures += 1
            done += 1

        for _ in range(min(args.warmup, args.runs)):
            await run_one()
        # The warm snapshot is taken before the warm sample and the end snapshot after the end
        # sample, so both samples count the first snapshot's memory and neither the second's.
        warm_snapshot = tracemalloc.take_snapshot() if args.snapshot else None
        warm = sample()
        started = time.perf_counter()
        every = max(1, args.runs // 10)
        while done < args.runs and time.monotonic() < deadline:
            await run_one()
            if done % every == 0:
                progress.append({"runs": done, **sample()})
        elapsed = time.perf_counter() - started
        end = sample()
        end_snapshot = tracemalloc.take_snapshot() if args.snapshot else None
    fds_closed = open_fds()
    growth_lines: list[str] = []
    if warm_snapshot is not None and end_snapshot is not None and (
        end["traced"] - warm["traced"] >= MEMORY_TARGET or args.top
    ):
        growth_lines = top_growth(warm_snapshot, end_snapshot, args.frames)
    return {
        "mode": "loopback server" if args.server else "in-process simulated",
        "runs": done,
        "runs_requested": args.runs,
        "warmup": min(args.warmup, args.runs),
        "failed": failures,
        "runs_per_s": (done - min(args.warmup, args.runs)) / elapsed if elapsed else 0.0,
        "rss_after_warmup_mib": warm["rss"] / MIB,
        "rss_end_mib": end["rss"] / MIB,
        "rss_growth_mib": (end["rss"] - warm["rss"]) / MIB,
        "traced_after_warmup_mib": warm["traced"] / MIB,
        "traced_end_mib": end["traced"] / MIB,
        "traced_growth_mib": (end["traced"] - warm["traced"]) / MIB,
        "fds_before_client": fds_before,
        "fds_after_warmup": warm["fds"],
        "fds_end": end["fds"],
        "fds_after_close": fds_closed,
        "progress": [
            {"runs": p["runs"], "rss_mib": round(p["rss"] / MIB, 2),
             "traced_mib": round(p["traced"] / MIB, 2), "fds": p["fds"]}
            for p in progress
        ],
        "top_growth": growth_lines,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20_000, help="sequential runs in all")
    parser.add_argument("--warmup", type=int, default=500, help="runs before the first sample")
    parser.add_argument("--server", action="store_true",
                        help="go through loopback HTTP to a server thread in this process")
    parser.add_argument("--frames", type=int, default=1,
                        help="traceback depth tracemalloc keeps (more is slower)")
    parser.add_argument("--no-snapshot", dest="snapshot", action="store_false",
                        help="skip the tracemalloc snapshots (no top-growth list)")
    parser.add_argument("--top", action="store_true",
                        help="print the top-growth list even when memory is within target")
    parser.add_argument("--time-limit", type=float, default=1800.0,
                        help="seconds after the warm-up before the soak stops early (a failure)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.warmup < 0 or args.frames < 1:
        parser.error("--runs and --frames must be at least 1, --warmup at least 0")
    with tracing(args.frames):
        figures = anyio.run(soak, args)
    missed = []
    if figures["failed"]:
        missed.append(f"{figures['failed']} runs failed")
    if figures["runs"] < args.runs:
        missed.append(f"only {figures['runs']} of {args.runs} runs within the time limit")
    if figures["rss_growth_mib"] * MIB >= MEMORY_TARGET:
        missed.append(f"RSS grew {figures['rss_growth_mib']:.2f} MiB (target < 5 MiB)")
    if figures["traced_growth_mib"] * MIB >= MEMORY_TARGET:
        missed.append(f"traced memory grew {figures['traced_growth_mib']:.2f} MiB (target < 5 MiB)")
    if figures["fds_end"] > figures["fds_after_warmup"]:
        missed.append(f"open fds grew {figures['fds_after_warmup']} -> {figures['fds_end']}")
    if figures["fds_after_close"] > figures["fds_before_client"]:
        missed.append(f"fds left open after aclose(): {figures['fds_before_client']} -> "
                      f"{figures['fds_after_close']}")
    figures["missed"] = missed
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        print(f"soak: {figures['runs']} runs ({figures['mode']}), {figures['failed']} failed, "
              f"{figures['runs_per_s']:.0f} runs/s after a {figures['warmup']}-run warm-up")
        print(f"RSS: {figures['rss_after_warmup_mib']:.2f} -> {figures['rss_end_mib']:.2f} MiB "
              f"({figures['rss_growth_mib']:+.2f} MiB)")
        print(f"traced: {figures['traced_after_warmup_mib']:.2f} -> "
              f"{figures['traced_end_mib']:.2f} MiB ({figures['traced_growth_mib']:+.2f} MiB)")
        print(f"fds: {figures['fds_before_client']} before the client, "
              f"{figures['fds_after_warmup']} after warm-up, {figures['fds_end']} at the end, "
              f"{figures['fds_after_close']} after aclose()")
        for point in figures["progress"]:
            print(f"  after {point['runs']:>6} runs: RSS {point['rss_mib']:.2f} MiB, "
                  f"traced {point['traced_mib']:.2f} MiB, fds {point['fds']}")
        if figures["top_growth"]:
            print("top growth in traced memory (warm-up -> end):")
            for line in figures["top_growth"]:
                print("  " + line)
        for problem in missed:
            print(f"MISSED: {problem}")
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
