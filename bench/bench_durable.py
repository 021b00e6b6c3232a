"""What durability costs: a durable run (DBOS workflow, a step per model request and tool call)
against a plain run of the same agent, and batch throughput over a queue with 1 and 2 workers.

    python bench/bench_durable.py [--runs 200] [--postgres postgresql://user@127.0.0.1:PORT]
                                  [--batch 400]

The agent calls one tool and answers (two requests per run) on the in-process simulated Grok,
so the figures are the framework's and the database's, not a network's. CPU is the whole
process's (`time.process_time`, DBOS's threads included), per run, sequential. The batch part
needs PostgreSQL (several processes share a queue there): N runs are enqueued, then 1 or 2
worker processes (8 runs each at a time) drain the queue; wall time gives runs/s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from agentkit import Agent, GrokClient, tool
from agentkit.sim.reply import SimReply, SimToolCall


@tool
async def get_weather(city: str) -> dict[str, Any]:
    """Get the weather for a city.

    Args:
        city: The city.
    """
    return {"city": city, "sky": "sunny"}


def policy(body: Any) -> SimReply:
    messages = body["messages"]
    if messages[-1]["role"] == "tool":
        return SimReply(content="It is sunny.")
    return SimReply(tool_calls=(SimToolCall("get_weather", '{"city": "Paris"}'),))


def build_agent() -> Agent[Any, str]:
    return Agent("grok-4", name="bench", tools=[get_weather], client=GrokClient.simulated(policy))


async def cpu_per_run(url: str, runs: int) -> tuple[float, float]:
    """(plain, durable) CPU ms per run on the system database at `url`."""
    from dbos import DBOS

    from agentkit.durable import DurableAgent

    DBOS(config={"name": "agentkit-bench", "system_database_url": url,
                 "application_version": "bench", "executor_id": "bench"})
    agent = build_agent()
    durable = DurableAgent(agent)
    DBOS.launch()
    try:
        for _ in range(10):  # warm both paths
            await agent.run("weather?")
            await durable.run("weather?")
        samples: dict[str, list[float]] = {"plain": [], "durable": []}
        for _ in range(5):
            for kind in ("plain", "durable"):
                start = time.process_time()
                for _ in range(runs // 5):
                    if kind == "plain":
                        await agent.run("weather?")
                    else:
                        await durable.run("weather?", workflow_id=uuid.uuid4().hex)
                samples[kind].append((time.process_time() - start) / (runs // 5) * 1000)
        return statistics.median(samples["plain"]), statistics.median(samples["durable"])
    finally:
        DBOS.destroy()


async def queue_role(url: str, role: str, count: int, executor: str) -> None:
    from dbos import DBOS

    from agentkit.durable import DurableAgent

    DBOS(config={"name": "agentkit-bench-queue", "system_database_url": url,
                 "application_version": "bench", "executor_id": executor})
    durable = DurableAgent(build_agent())
    if role != "worker":
        DBOS.listen_queues([])
    DBOS.launch()
    queue = await DBOS.register_queue_async("bench", worker_concurrency=8, polling_interval_sec=0.05)
    try:
        if role == "produce":
            for index in range(count):
                await durable.enqueue(queue, "weather?", workflow_id=f"run-{index}")
        elif role == "wait":
            for index in range(count):
                await durable.result(f"run-{index}")
        else:  # a worker: takes runs off the queue until the benchmark kills it
            await asyncio.Event().wait()
    finally:
        DBOS.destroy()


def batch_throughput(base_url: str, count: int, workers: int) -> float:
    url = f"{base_url.rstrip('/')}/agentkit_bench_{uuid.uuid4().hex[:8]}"
    me = [sys.executable, __file__, "--role"]
    subprocess.run([*me, "produce", "--url", url, "--batch", str(count)], check=True,
                   capture_output=True, timeout=300)
    start = time.monotonic()
    pool = [subprocess.Popen([*me, "worker", "--url", url, "--executor", f"w{i}"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for i in range(workers)]
    try:
        subprocess.run([*me, "wait", "--url", url, "--batch", str(count)], check=True,
                       capture_output=True, timeout=600)
        return count / (time.monotonic() - start)
    finally:
        for process in pool:
            process.kill()
            process.wait(timeout=30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--batch", type=int, default=400)
    parser.add_argument("--postgres", default=None, help="a PostgreSQL server URL (no database)")
    parser.add_argument("--role", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--url", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--executor", default="bench", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role:
        asyncio.run(queue_role(args.url, args.role, args.batch, args.executor))
        return 0

    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as folder:
        targets = [("SQLite", f"sqlite:///{Path(folder) / 'bench.sqlite'}")]
        if args.postgres:
            targets.append(("PostgreSQL", f"{args.postgres.rstrip('/')}/agentkit_bench_{uuid.uuid4().hex[:8]}"))
        for label, url in targets:
            # Each in a process of its own: DBOS is one per process.
            out = subprocess.run(
                [sys.executable, "-c",
                 "import asyncio, json, sys; sys.path.insert(0, sys.argv[1]); import bench_durable as b; "
                 "print(json.dumps(asyncio.run(b.cpu_per_run(sys.argv[2], int(sys.argv[3])))))",
                 str(Path(__file__).parent), url, str(args.runs)],
                check=True, capture_output=True, text=True, timeout=900,
            ).stdout.strip().splitlines()[-1]
            plain, durable = json.loads(out)
            figures[label] = (plain, durable)
            print(f"  {label:<11} plain {plain:6.2f} ms CPU/run   durable {durable:6.2f} ms CPU/run   "
                  f"({durable / plain:.1f}x, +{durable - plain:.2f} ms)")
    if args.postgres:
        for workers in (1, 2):
            rate = batch_throughput(args.postgres, args.batch, workers)
            print(f"  batch of {args.batch} on a PostgreSQL queue, {workers} worker(s): {rate:6.1f} runs/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
