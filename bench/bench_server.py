"""How fast the simulated Grok server answers on loopback.

Figures:

- core: `SimCore.handle` called in a loop, no I/O (what the in-process transport costs);
- http plain: non-streamed chat completions per second over HTTP with httpx2, with
  `--concurrency` clients;
- http stream: streamed chat completions, as requests and SSE chunks per second;
- raw (with `--raw`): the same two over bare asyncio sockets, which measures the server
  rather than the httpx2 client (the client is the slower side on a small machine).

The server runs in another process (`python -m agentkit.sim`) so that client and
server do not share one interpreter lock; `--in-thread` runs it on a thread instead.

Usage: `python bench/bench_server.py [--concurrency 50] [--duration 5] [--json]`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from typing import Any

import anyio
import httpx2

from agentkit.sim import SimCore, run_in_thread

PLAIN = {
    "model": "grok-4-fast-non-reasoning",
    "messages": [
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": "Say hello and tell me something about the weather."},
    ],
}
STREAM = {**PLAIN, "stream": True, "stream_options": {"include_usage": True}}


@contextlib.contextmanager
def server_process() -> Iterator[str]:
    """Start `python -m agentkit.sim --port 0` and yield its base URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "agentkit.sim", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.startswith("listening on "):
            raise RuntimeError(f"the server did not start: {line!r}")
        yield line.removeprefix("listening on ").strip()
    finally:
        process.terminate()
        process.wait(10)


def bench_core(duration: float) -> dict[str, float]:
    """Requests per second through `SimCore.handle`, plain and streamed."""
    core = SimCore()
    headers = {"content-type": "application/json"}
    results: dict[str, float] = {}
    for name, body in (("core_plain_rps", PLAIN), ("core_stream_rps", STREAM)):
        raw = json.dumps(body).encode()
        count = 0
        deadline = time.perf_counter() + duration
        started = time.perf_counter()
        while time.perf_counter() < deadline:
            core.handle("POST", "/v1/chat/completions", headers, raw)
            count += 1
        results[name] = count / (time.perf_counter() - started)
    return results


async def bench_http(base_url: str, concurrency: int, duration: float) -> dict[str, float]:
    """Plain requests per second, then streamed requests and chunks per second."""
    limits = httpx2.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    totals = {"plain": 0, "streams": 0, "chunks": 0, "errors": 0}

    async def plain_worker(http: httpx2.AsyncClient, deadline: float) -> None:
        while time.perf_counter() < deadline:
            response = await http.post("/v1/chat/completions", json=PLAIN)
            totals["plain" if response.status_code == 200 else "errors"] += 1

    async def stream_worker(http: httpx2.AsyncClient, deadline: float) -> None:
        while time.perf_counter() < deadline:
            async with http.stream("POST", "/v1/chat/completions", json=STREAM) as response:
                async for _ in response.aiter_raw():
                    totals["chunks"] += 1
            totals["streams" if response.status_code == 200 else "errors"] += 1

    results: dict[str, float] = {}
    async with httpx2.AsyncClient(base_url=base_url, limits=limits, timeout=30) as http:
        for name, worker in (("plain", plain_worker), ("stream", stream_worker)):
            started = time.perf_counter()
            async with anyio.create_task_group() as group:
                for _ in range(concurrency):
                    group.start_soon(worker, http, started + duration)
            elapsed = time.perf_counter() - started
            if name == "plain":
                results["http_plain_rps"] = totals["plain"] / elapsed
            else:
                results["http_stream_rps"] = totals["streams"] / elapsed
                results["http_stream_chunks_per_s"] = totals["chunks"] / elapsed
    results["errors"] = totals["errors"]
    return results


async def bench_raw(base_url: str, concurrency: int, duration: float) -> dict[str, float]:
    """Plain and streamed requests per second from keep-alive sockets, no HTTP library."""
    host, port = base_url.removeprefix("http://").rsplit(":", 1)
    results: dict[str, float] = {}
    for name, body in (("raw_plain_rps", PLAIN), ("raw_stream_rps", STREAM)):
        payload = json.dumps(body).encode()
        request = (
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: bench\r\n"
            b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
            % (len(payload), payload)
        )
        count = 0

        async def worker(deadline: float, request: bytes = request) -> None:
            nonlocal count
            reader, writer = await asyncio.open_connection(host, int(port))
            while time.perf_counter() < deadline:
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                if b"content-length: " in head:
                    size = int(head.split(b"content-length: ")[1].split(b"\r\n")[0])
                    await reader.readexactly(size)
                else:
                    await reader.readuntil(b"\r\n0\r\n\r\n")
                count += 1
            writer.close()
            await writer.wait_closed()

        started = time.perf_counter()
        await asyncio.gather(*(worker(started + duration) for _ in range(concurrency)))
        results[name] = count / (time.perf_counter() - started)
    # The policy is deterministic, so every stream of this request has as many chunks as this.
    chunks = (
        SimCore()
        .handle(
            "POST",
            "/v1/chat/completions",
            {"content-type": "application/json"},
            json.dumps(STREAM).encode(),
        )
        .events
    )
    results["raw_stream_chunks_per_s"] = results["raw_stream_rps"] * len(chunks or ())
    return results


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per HTTP phase")
    parser.add_argument(
        "--in-thread", action="store_true", help="server on a thread, not a process"
    )
    parser.add_argument("--raw", action="store_true", help="also load it from bare sockets")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args(argv)

    results: dict[str, Any] = bench_core(min(args.duration, 2.0))
    server = run_in_thread(SimCore()) if args.in_thread else server_process()
    with server as base_url:
        results.update(anyio.run(bench_http, base_url, args.concurrency, args.duration))
        if args.raw:
            results.update(asyncio.run(bench_raw(base_url, args.concurrency, args.duration)))
    results["concurrency"] = args.concurrency
    results["server"] = "thread" if args.in_thread else "process"
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for key, value in results.items():
            print(f"{key:28} {value:,.0f}" if isinstance(value, float) else f"{key:28} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
