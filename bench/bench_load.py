"""Load: many agent runs at once against `agentkit.sim` served by a separate process.

Each run is the standard workload: an agent with one `@tool`, a prompt the simulated model
answers by calling it once, then a final answer (two chat completions per run). The server is
`python -m agentkit.sim --port 0` in its own process on 127.0.0.1, so the client's CPU and
memory are measured alone; it requires a Bearer key, so authentication is on the path too.

    python bench/bench_load.py [--runs 1000] [--concurrency 1000] [--json]

Reported: runs/s, p50/p95/p99 run latency, client CPU per run (`time.process_time()` of this
process over the timed phase), peak RSS of this process (`ru_maxrss`) and of the server
(`VmHWM`), and the client pool's connection limit. Every run must succeed (a final answer
after exactly one tool call); the exit status is 1 when any failed or the time ran out.
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import selectors
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio

from agentkit.agent import Agent
from agentkit.client import GrokClient
from agentkit.tool import tool

PROMPT = "What is the weather in Paris?"
INSTRUCTIONS = "You are a weather assistant. Answer in one sentence."
API_KEY = "bench-load-key"
_LISTENING = re.compile(r"listening on (http://127\.0\.0\.1:\d+)")


@tool
async def get_weather(city: str) -> dict[str, Any]:
    """Get the current weather for a city.

    Args:
        city: The city name.
    """
    return {"city": city, "sky": "sunny", "temp_c": 21}


@contextmanager
def sim_process(start_timeout: float = 20.0) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """`python -m agentkit.sim` on a free loopback port; yields its base URL and process."""
    process = subprocess.Popen(
        [sys.executable, "-m", "agentkit.sim", "--host", "127.0.0.1", "--port", "0",
         "--api-key", API_KEY],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + start_timeout
        base_url = None
        with selectors.DefaultSelector() as selector:
            selector.register(process.stdout, selectors.EVENT_READ)
            while base_url is None:
                left = deadline - time.monotonic()
                if left <= 0 or process.poll() is not None:
                    raise RuntimeError("the simulated server did not start")
                if selector.select(left):
                    match = _LISTENING.search(process.stdout.readline())
                    if match:
                        base_url = match.group(1)
        yield base_url, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _server_peak_rss_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _percentile(ordered: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    index = max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[index]


async def load(base_url: str, runs: int, concurrency: int, time_limit: float) -> dict[str, Any]:
    client = GrokClient.openai_compatible(f"{base_url}/v1", API_KEY, max_retries=0, timeout=120)
    agent = Agent("grok-4", instructions=INSTRUCTIONS, tools=[get_weather], client=client)
    transport = client._http._client._transport  # type: ignore[attr-defined]
    pools = [shard._pool for shard in getattr(transport, "shards", ())] or [transport._pool]
    pool_limit = sum(int(pool._max_connections) for pool in pools)
    if pool_limit < concurrency:
        raise SystemExit(f"the client pool allows {pool_limit} connections, fewer than "
                         f"--concurrency {concurrency}")
    latencies: list[float] = []
    failures: Counter[str] = Counter()
    limiter = anyio.Semaphore(concurrency)

    async def one() -> None:
        async with limiter:
            started = time.perf_counter()
            try:
                result = await agent.run(PROMPT)
            except Exception as error:
                failures[type(error).__name__] += 1
                return
            if result.usage.tool_calls != 1 or result.usage.requests != 2 or not result.output:
                failures["wrong-shape"] += 1
                return
            latencies.append(time.perf_counter() - started)

    try:
        cpu_started = time.process_time()
        started = time.perf_counter()
        with anyio.move_on_after(time_limit) as scope:
            async with anyio.create_task_group() as group:
                for _ in range(runs):
                    group.start_soon(one)
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
    finally:
        await client.aclose()
    unfinished = runs - len(latencies) - sum(failures.values())
    if scope.cancelled_caught or unfinished:
        failures["unfinished (time limit)"] += unfinished
    ordered = sorted(latencies)
    return {
        "runs": runs,
        "concurrency": concurrency,
        "pool_max_connections": pool_limit,
        "succeeded": len(latencies),
        "failed": sum(failures.values()),
        "failures": dict(failures),
        "elapsed_s": elapsed,
        "runs_per_s": len(latencies) / elapsed if elapsed else 0.0,
        "p50_ms": _percentile(ordered, 0.50) * 1000 if ordered else None,
        "p95_ms": _percentile(ordered, 0.95) * 1000 if ordered else None,
        "p99_ms": _percentile(ordered, 0.99) * 1000 if ordered else None,
        "client_cpu_ms_per_run": cpu / runs * 1000,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000, help="agent runs in all")
    parser.add_argument("--concurrency", type=int, default=1000, help="runs in flight at once")
    parser.add_argument("--time-limit", type=float, default=300.0,
                        help="seconds before unfinished runs are cancelled (and count as failed)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.concurrency < 1:
        parser.error("--runs and --concurrency must be at least 1")
    with sim_process() as (base_url, process):
        figures = anyio.run(load, base_url, args.runs, args.concurrency, args.time_limit)
        figures["server_peak_rss_mib"] = _server_peak_rss_mib(process.pid)
    figures["client_peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        print(f"server: python -m agentkit.sim at {base_url} (separate process)")
        print(f"runs: {figures['succeeded']}/{figures['runs']} succeeded, "
              f"{figures['concurrency']} in flight, pool limit "
              f"{figures['pool_max_connections']} connections")
        if figures["failures"]:
            print(f"failures: {figures['failures']}")
        if figures["succeeded"]:
            print(f"throughput: {figures['runs_per_s']:.1f} runs/s "
                  f"({figures['elapsed_s']:.2f} s)")
            print(f"latency: p50 {figures['p50_ms']:.0f} ms, p95 {figures['p95_ms']:.0f} ms, "
                  f"p99 {figures['p99_ms']:.0f} ms")
        print(f"client CPU: {figures['client_cpu_ms_per_run']:.2f} ms per run")
        server_rss = figures["server_peak_rss_mib"]
        print(f"peak RSS: client {figures['client_peak_rss_mib']:.1f} MiB"
              + (f", server {server_rss:.1f} MiB" if server_rss is not None else ""))
    return 1 if figures["failed"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
