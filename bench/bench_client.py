"""The client alone: CPU per call of request + parse (+ stream assembly), against a
hand-written httpx2 loop doing the same work in the same process.

    python bench/bench_client.py [--calls 2000]

The server runs in another process (bench/canned_server.py), so the CPU measured here is
the client's. Target: GrokClient costs at most 1.3x the hand-written loop.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import anyio
import httpx2

from agentkit.client import GrokClient

MESSAGES = [{"role": "system", "content": "You are a weather assistant."},
            {"role": "user", "content": "Will it rain in Paris tomorrow?"}]


def start_server() -> tuple[subprocess.Popen[bytes], str]:
    port_file = Path(tempfile.mkdtemp()) / "port"
    server = subprocess.Popen([sys.executable, str(Path(__file__).with_name("canned_server.py")), str(port_file)])
    for _ in range(200):
        if port_file.exists() and port_file.read_text():
            return server, f"http://127.0.0.1:{port_file.read_text()}/v1"
        time.sleep(0.02)
    server.kill()
    raise RuntimeError("the canned server did not start")


async def measure(label: str, call: Callable[[], Awaitable[str]], calls: int) -> float:
    for _ in range(100):  # warm the pool and the caches
        await call()
    started_cpu, started = time.process_time(), time.perf_counter()
    for _ in range(calls):
        await call()
    cpu = (time.process_time() - started_cpu) / calls * 1e6
    wall = (time.perf_counter() - started) / calls * 1e6
    print(f"  {label:<34} {cpu:8.1f} us CPU/call  {wall:8.1f} us wall/call")
    return cpu


async def run(base_url: str, calls: int) -> None:
    headers = {"authorization": "Bearer bench", "content-type": "application/json"}
    async with httpx2.AsyncClient(limits=httpx2.Limits(max_keepalive_connections=10)) as raw, \
            GrokClient.openai_compatible(base_url, "bench") as client:

        async def raw_plain() -> str:
            body = json.dumps({"model": "grok-4", "messages": MESSAGES}).encode()
            response = await raw.post(f"{base_url}/chat/completions", content=body, headers=headers)
            response.raise_for_status()
            return str(json.loads(response.content)["choices"][0]["message"]["content"])

        async def raw_stream() -> str:
            body = json.dumps({"model": "grok-4", "messages": MESSAGES, "stream": True,
                               "stream_options": {"include_usage": True}}).encode()
            text = []
            async with raw.stream("POST", f"{base_url}/chat/completions", content=body, headers=headers) as response:
                async for line in response.aiter_lines():
                    if line.startswith("data: ") and line != "data: [DONE]":
                        for choice in json.loads(line[6:])["choices"]:
                            text.append(choice["delta"].get("content") or "")
            return "".join(text)

        async def ours_plain() -> str:
            completion = await client.chat.completions.create(model="grok-4", messages=MESSAGES)
            return completion.message.content or ""

        async def ours_stream() -> str:
            stream = await client.chat.completions.create(model="grok-4", messages=MESSAGES, stream=True)
            return (await stream.final()).message.content or ""

        assert await raw_plain() == await ours_plain()
        raw_text, our_text = await raw_stream(), await ours_stream()
        assert raw_text == our_text, (raw_text, our_text)
        print(f"{calls} sequential calls each, server in another process:")
        raw_p = await measure("hand-written httpx2 loop, plain", raw_plain, calls)
        ours_p = await measure("GrokClient, plain", ours_plain, calls)
        raw_s = await measure("hand-written httpx2 loop, stream", raw_stream, calls)
        ours_s = await measure("GrokClient, stream + assembly", ours_stream, calls)
        print(f"ratio plain:  {ours_p / raw_p:.2f}x   (target <= 1.30x)")
        print(f"ratio stream: {ours_s / raw_s:.2f}x   (target <= 1.30x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()
    server, base_url = start_server()
    try:
        anyio.run(run, base_url, args.calls)
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
