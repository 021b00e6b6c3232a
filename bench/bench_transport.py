"""agentkit on httpx2 and on aiohttp, each beside a hand-written loop on the raw library.

The workload is bench_agent.py's: the model calls one tool, its result goes back, the model
answers (two chat completions per run), in three modes: `plain` (text answer), `structured`
(`output_type=Weather`, a json_schema response format, the answer validated) and `stream`
(`run_stream`; the raw loops parse the event stream and assemble content and tool calls by
hand). The raw loops send the very requests the agent sends: each mode's request body (tools,
response format, stream options) is captured once from the agent in process, and the raw
loop fills in its own messages.

    python bench/bench_transport.py [--runs 25] [--rounds 60] [--total 500] [--concurrency 100]
    python bench/bench_transport.py --profile agentkit-aiohttp:stream   # cProfile one cell

The simulated server (`agentkit.sim.server.serve`, a scripted policy) runs in two separate
processes on 127.0.0.1: one answering at once (CPU phase) and one with 50 ms before each
response's first byte (the existing `slow` fault, planned for every request). Every loop is
bounded in runs and in time.

CPU ms per run is `time.process_time()` over sequential runs, measured for raw and agentkit on
one library in the same child process with their samples interleaved (AB BA AB ...), the best
of `--rounds` kept for each: a burst of other load on the machine lands on both, and load only
ever adds. Samples are short (`--runs` runs) and many, so that each contender gets windows in
which nothing else ran; `--repeats` such children run per library and mode, and the one with
the median agentkit/raw ratio is reported. Throughput (runs/s with `--concurrency` runs in
flight against the 50 ms server, best of three passes of `--total` runs) and peak RSS come
from one fresh child per contender and mode, so that the RSS is its own. Then the ratios agentkit/raw per library. Targets:
agentkit on aiohttp within 1.5x of raw aiohttp, agentkit on httpx2 within 1.2x of raw httpx2
(CPU per run, every mode); the exit status is 1 when one is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio
from bench_agent import ANSWER, INSTRUCTIONS, PROMPT, _wants_tool, get_weather
from pydantic import BaseModel

LATENCY = 0.05
MODES = ("plain", "structured", "stream")
LIBRARIES = ("httpx2", "aiohttp")
CONTENDERS = tuple(f"{kind}-{library}" for library in LIBRARIES for kind in ("raw", "agentkit"))
TARGETS = {"httpx2": 1.2, "aiohttp": 1.5}
CELL_SECONDS = 600  # a child taking longer is killed and its cell reported missing
PHASE_SECONDS = 120  # any one timed phase inside a child


class Weather(BaseModel):
    city: str
    sky: str
    temp_c: int


WEATHER = Weather(city="Paris", sky="sunny", temp_c=21)
EXPECTED: dict[str, Any] = {"plain": ANSWER, "structured": WEATHER, "stream": ANSWER}

Run = Callable[[], Awaitable[Any]]
Close = Callable[[], Awaitable[None]]


# -- the server -------------------------------------------------------------------------------


def policy(body: Mapping[str, Any]) -> Any:
    from agentkit.sim.reply import SimReply, SimToolCall

    if _wants_tool(dict(body)):
        return SimReply(tool_calls=(SimToolCall("get_weather", '{"city": "Paris"}'),))
    if body.get("response_format"):
        return SimReply(content=WEATHER.model_dump_json())
    return SimReply(content=ANSWER)


async def _serve(port_file: str, latency: float) -> None:
    from agentkit.sim.core import SimCore
    from agentkit.sim.faults import Fault
    from agentkit.sim.server import serve

    core = SimCore(policy)
    if latency:
        core.faults.push(Fault("slow", count=10**9, delay=latency))

    def ready(port: int) -> None:
        Path(port_file).write_text(str(port))

    await serve(core, ready=ready)


@contextmanager
def server(latency: float) -> Iterator[str]:
    port_file = Path(tempfile.mkdtemp()) / "port"
    command = [sys.executable, __file__, "--serve", str(port_file), str(latency)]
    process = subprocess.Popen(command)
    try:
        for _ in range(500):
            if port_file.exists() and port_file.read_text():
                break
            if process.poll() is not None:
                raise RuntimeError("the sim server exited")
            time.sleep(0.02)
        else:
            raise RuntimeError("the sim server did not start")
        yield f"http://127.0.0.1:{port_file.read_text()}/v1"
    finally:
        process.kill()
        process.wait()


# -- the requests the agent sends -------------------------------------------------------------


def make_agent(mode: str, client: Any) -> Any:
    from agentkit.agent import Agent

    output_type = Weather if mode == "structured" else str
    return Agent("grok-4", instructions=INSTRUCTIONS, tools=[get_weather], client=client,
                 output_type=output_type)


async def agent_once(agent: Any, mode: str) -> Any:
    if mode == "stream":
        async with agent.run_stream(PROMPT) as stream:
            return (await stream.get_result()).output
    return (await agent.run(PROMPT)).output


async def captured_template(mode: str) -> dict[str, Any]:
    """The agent's request body in this mode, without its messages (the same every turn)."""
    from agentkit.client import GrokClient
    from agentkit.sim.reply import SimReply

    bodies: list[dict[str, Any]] = []

    def capturing(body: Mapping[str, Any]) -> SimReply:
        bodies.append({k: v for k, v in body.items() if k != "messages"})
        reply: SimReply = policy(body)
        return reply

    async with GrokClient.simulated(capturing) as client:
        assert await agent_once(make_agent(mode, client), mode) == EXPECTED[mode]
    assert len(bodies) == 2, bodies
    assert bodies[0] == bodies[1], bodies
    return bodies[0]


# -- the contenders ---------------------------------------------------------------------------


def agentkit_loop(base_url: str, mode: str, http: str) -> tuple[Run, Close]:
    from agentkit.client import GrokClient

    client = GrokClient.openai_compatible(base_url, "bench", max_retries=0, timeout=60,
                                          http=http)  # type: ignore[arg-type]
    agent = make_agent(mode, client)

    async def run() -> Any:
        return await agent_once(agent, mode)

    return run, client.aclose


class _Assembler:
    """A stream's message, by hand: content pieces and tool calls merged by index."""

    def __init__(self) -> None:
        self.buffer = b""
        self.content: list[str] = []
        self.calls: dict[int, dict[str, Any]] = {}

    def feed(self, data: bytes) -> None:
        self.buffer += data
        while b"\n\n" in self.buffer:
            event, self.buffer = self.buffer.split(b"\n\n", 1)
            for line in event.split(b"\n"):
                if not line.startswith(b"data: ") or line == b"data: [DONE]":
                    continue
                for choice in json.loads(line[6:])["choices"]:
                    delta = choice["delta"]
                    self.content.append(delta.get("content") or "")
                    for call in delta.get("tool_calls") or ():
                        slot = self.calls.setdefault(call["index"], {
                            "id": "", "type": "function", "function": {"name": "", "arguments": ""}
                        })
                        slot["id"] = call.get("id") or slot["id"]
                        function = call.get("function") or {}
                        slot["function"]["name"] += function.get("name") or ""
                        slot["function"]["arguments"] += function.get("arguments") or ""

    def message(self) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": "".join(self.content)}
        if self.calls:
            message["tool_calls"] = [self.calls[i] for i in sorted(self.calls)]
        return message


def raw_run(template: dict[str, Any], mode: str,
            ask: Callable[[bytes], Awaitable[dict[str, Any]]]) -> Run:
    """bench_agent.hand_loop's loop, sending `template` and validating a structured answer."""

    async def run() -> Any:
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": INSTRUCTIONS}, {"role": "user", "content": PROMPT},
        ]
        for _ in range(10):
            message = await ask(json.dumps({**template, "messages": messages}).encode())
            messages.append(message)
            calls = message.get("tool_calls")
            if not calls:
                content = str(message["content"])
                return Weather.model_validate_json(content) if mode == "structured" else content
            for call in calls:
                result = await get_weather.invoke(call["function"]["arguments"])
                messages.append({"role": "tool", "tool_call_id": call["id"],
                                 "content": json.dumps(result)})
        raise RuntimeError("no answer after 10 turns")

    return run


HEADERS = {"authorization": "Bearer bench", "content-type": "application/json"}


def raw_httpx2(base_url: str, mode: str, template: dict[str, Any]) -> tuple[Run, Close]:
    import httpx2

    client = httpx2.AsyncClient(timeout=60, limits=httpx2.Limits(
        max_connections=1000, max_keepalive_connections=200))
    url = f"{base_url}/chat/completions"

    async def ask(body: bytes) -> dict[str, Any]:
        if mode != "stream":
            response = await client.post(url, content=body, headers=HEADERS)
            message: dict[str, Any] = json.loads(response.content)["choices"][0]["message"]
            return message
        assembler = _Assembler()
        async with client.stream("POST", url, content=body, headers=HEADERS) as response:
            async for chunk in response.aiter_bytes():
                assembler.feed(chunk)
        return assembler.message()

    return raw_run(template, mode, ask), client.aclose


def raw_aiohttp(base_url: str, mode: str, template: dict[str, Any]) -> tuple[Run, Close]:
    import aiohttp

    sessions: list[aiohttp.ClientSession] = []
    url = f"{base_url}/chat/completions"

    def session() -> aiohttp.ClientSession:
        if not sessions:  # aiohttp wants its session made inside the running loop
            sessions.append(aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=1000),
                timeout=aiohttp.ClientTimeout(sock_read=60)))
        return sessions[0]

    async def ask(body: bytes) -> dict[str, Any]:
        async with session().post(url, data=body, headers=HEADERS) as response:
            if mode != "stream":
                message: dict[str, Any] = json.loads(await response.read())["choices"][0][
                    "message"]
                return message
            assembler = _Assembler()
            async for chunk in response.content.iter_any():
                assembler.feed(chunk)
            return assembler.message()

    async def close() -> None:
        if sessions:
            await sessions[0].close()

    return raw_run(template, mode, ask), close


async def contender(name: str, mode: str, base_url: str) -> tuple[Run, Close]:
    kind, http = name.split("-")
    if kind == "agentkit":
        return agentkit_loop(base_url, mode, http)
    template = await captured_template(mode)
    return (raw_httpx2 if http == "httpx2" else raw_aiohttp)(base_url, mode, template)


# -- one cell, in a child process -------------------------------------------------------------


async def cpu_per_run(contenders: Mapping[str, Run], expected: Any, runs: int,
                      rounds: int) -> dict[str, float]:
    """CPU ms per run of each contender, their samples interleaved (AB BA AB ...).

    Interleaving is what makes the ratio fair on a shared machine: a burst of other load lands
    on both contenders instead of on whichever ran during it, and the best sample of each is
    kept because load only ever adds.
    """
    for run in contenders.values():
        for _ in range(30):  # warm the pool and every cache
            assert await run() == expected
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    with anyio.fail_after(PHASE_SECONDS):
        for round_ in range(rounds):
            order = list(contenders.items())
            for name, run in order if round_ % 2 == 0 else reversed(order):  # ABBA: drift cancels
                started = time.process_time()
                for _ in range(runs):
                    await run()
                samples[name].append((time.process_time() - started) / runs * 1000)
    return {name: min(values) for name, values in samples.items()}


async def throughput(run: Run, total: int, concurrency: int) -> float:
    limiter = anyio.Semaphore(concurrency)

    async def one() -> None:
        async with limiter:
            await run()

    started = time.perf_counter()
    with anyio.fail_after(PHASE_SECONDS):
        async with anyio.create_task_group() as group:
            for _ in range(total):
                group.start_soon(one)
    return total / (time.perf_counter() - started)


async def pair(args: argparse.Namespace) -> dict[str, float]:
    """The CPU phase of one (library, mode): raw and agentkit in one process, interleaved."""
    library, mode = args.pair.split(":")
    names = (f"raw-{library}", f"agentkit-{library}")
    built = {name: await contender(name, mode, args.urls[0]) for name in names}
    try:
        return await cpu_per_run({name: run for name, (run, _) in built.items()},
                                 EXPECTED[mode], args.runs, args.rounds)
    finally:
        for _, close in built.values():
            await close()


async def cell(args: argparse.Namespace) -> dict[str, float]:
    """Throughput and peak RSS of one contender in one mode, alone in its process."""
    name, mode = args.cell.split(":")
    run, close = await contender(name, mode, args.urls[1])
    try:
        assert await run() == EXPECTED[mode]
        await throughput(run, args.concurrency, args.concurrency)  # open the connections
        rate = max([await throughput(run, args.total, args.concurrency) for _ in range(3)])
    finally:
        await close()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return {"runs_per_s": rate, "rss_mb": rss}


async def profile(args: argparse.Namespace) -> None:
    import cProfile
    import pstats

    name, mode = args.profile.split(":")
    with server(0.0) as base_url:
        run, close = await contender(name, mode, base_url)
        try:
            for _ in range(30):
                await run()
            profiler = cProfile.Profile()
            profiler.enable()
            with anyio.fail_after(PHASE_SECONDS):
                for _ in range(args.runs * args.rounds // 4):
                    await run()
            profiler.disable()
        finally:
            await close()
    stats = pstats.Stats(profiler)
    stats.sort_stats("tottime").print_stats(35)
    stats.sort_stats("cumulative").print_stats(40)


# -- the report -------------------------------------------------------------------------------


def child(flag: str, value: str, urls: tuple[str, str],
          args: argparse.Namespace) -> dict[str, float] | None:
    """Run this script as a child with `flag value`; its figures, or None when it failed."""
    command = [sys.executable, __file__, flag, value, "--urls", *urls,
               "--runs", str(args.runs), "--rounds", str(args.rounds),
               "--total", str(args.total), "--concurrency", str(args.concurrency)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=CELL_SECONDS,
                              env={**os.environ, "PYTHONHASHSEED": "0"})
    except subprocess.TimeoutExpired:
        print(f"  {value}: timed out after {CELL_SECONDS} s", flush=True)
        return None
    if done.returncode != 0:
        print(f"  {value}: failed\n{done.stderr[-2000:]}", flush=True)
        return None
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"  {value:<26} " + "  ".join(f"{key} {number:.3f}" for key, number in figures.items()),
          flush=True)
    return figures


def measure(mode: str, urls: tuple[str, str],
            args: argparse.Namespace) -> dict[tuple[str, str], dict[str, float] | None]:
    """Every contender's figures in one mode: CPU in pairs per library, the rest per cell."""
    results: dict[tuple[str, str], dict[str, float] | None] = {}
    for library in LIBRARIES:
        pairs = [child("--pair", f"{library}:{mode}", urls, args) for _ in range(args.repeats)]
        cpu = _median_pair([p for p in pairs if p is not None], library)
        for kind in ("raw", "agentkit"):
            name = f"{kind}-{library}"
            rest = child("--cell", f"{name}:{mode}", urls, args)
            results[(name, mode)] = (
                None if cpu is None or rest is None else {"cpu_ms": cpu[name], **rest})
    return results


def _median_pair(pairs: list[dict[str, float]], library: str) -> dict[str, float] | None:
    """The pair whose agentkit/raw ratio is the median: a child process can be luckier or
    unluckier as a whole (where its memory landed, what the other core was doing)."""
    if not pairs:
        return None
    pairs.sort(key=lambda pair: pair[f"agentkit-{library}"] / pair[f"raw-{library}"])
    return pairs[len(pairs) // 2]


def report(results: dict[tuple[str, str], dict[str, float] | None]) -> bool:
    print()
    print(f"{'mode':<10} {'contender':<17} {'CPU ms/run':>10} {'runs/s':>8} {'RSS MB':>7}")
    for mode in MODES:
        for name in CONTENDERS:
            figures = results.get((name, mode))
            if figures is None:
                print(f"{mode:<10} {name:<17} {'(missing)':>10}")
                continue
            print(f"{mode:<10} {name:<17} {figures['cpu_ms']:10.3f} "
                  f"{figures['runs_per_s']:8.1f} {figures['rss_mb']:7.1f}")
    print()
    print("agentkit / raw, per library (CPU: lower is better; runs/s: raw / agentkit)")
    met = True
    for mode in MODES:
        for library in LIBRARIES:
            ours = results.get((f"agentkit-{library}", mode))
            raw = results.get((f"raw-{library}", mode))
            if ours is None or raw is None:
                met = False
                continue
            cpu = ours["cpu_ms"] / raw["cpu_ms"]
            slower = raw["runs_per_s"] / ours["runs_per_s"]
            target = TARGETS[library]
            verdict = "ok" if cpu <= target else "MISSED"
            met = met and cpu <= target
            print(f"  {mode:<10} {library:<8} CPU {cpu:5.2f}x (target <= {target}x, {verdict})  "
                  f"throughput {slower:5.2f}x  RSS {ours['rss_mb'] / raw['rss_mb']:5.2f}x")
    return met


def main(args: argparse.Namespace) -> int:
    if args.cell:
        print(json.dumps(anyio.run(cell, args)))
        return 0
    if args.pair:
        print(json.dumps(anyio.run(pair, args)))
        return 0
    if args.profile:
        anyio.run(profile, args)
        return 0
    print(f"CPU: {args.rounds} interleaved samples of {args.runs} sequential runs per contender, "
          f"raw and agentkit in one child per library and mode, {args.repeats} such children "
          f"(the median ratio kept); throughput: {args.total} runs "
          f"at {args.concurrency} in flight against {LATENCY * 1000:.0f} ms per response, one "
          "child per contender and mode (its peak RSS)")
    results: dict[tuple[str, str], dict[str, float] | None] = {}
    with server(0.0) as fast, server(LATENCY) as slow:
        for mode in MODES:
            results.update(measure(mode, (fast, slow), args))
    return 0 if report(results) else 1


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--serve":
        asyncio.run(_serve(sys.argv[2], float(sys.argv[3])))
        raise SystemExit(0)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=25, help="sequential runs per CPU sample")
    parser.add_argument("--rounds", type=int, default=60,
                        help="interleaved CPU samples per contender (the best is kept)")
    parser.add_argument("--repeats", type=int, default=3,
                        help="CPU children per library and mode (the median ratio is kept)")
    parser.add_argument("--total", type=int, default=500, help="runs per throughput pass")
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--cell", help=argparse.SUPPRESS)
    parser.add_argument("--pair", help=argparse.SUPPRESS)
    parser.add_argument("--urls", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--profile", metavar="CONTENDER:MODE",
                        help="profile one cell's sequential runs; contenders: "
                        + ", ".join(CONTENDERS))
    raise SystemExit(main(parser.parse_args()))
