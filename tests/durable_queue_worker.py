"""A process of the durable batch test: a worker taking runs from a DBOS queue on PostgreSQL, a
producer putting runs on it, or a checker reading their results.

    python durable_queue_worker.py DB_URL FOLDER worker EXECUTOR_ID
    python durable_queue_worker.py DB_URL FOLDER batch EXECUTOR_ID COUNT

`batch` is `run_batch(..., durable=True)`: it enqueues the COUNT runs (works on none itself),
waits for them and prints their outputs as JSON; run again, it attaches to the same runs.

Each run's tool appends `{"run": workflow id, "executor": EXECUTOR_ID}` to FOLDER/tool_calls.
A worker stops when FOLDER/stop exists (or after two minutes).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

from dbos import DBOS

from agentkit import Agent, GrokClient, RunContext, tool
from agentkit.batch import BatchInput, run_batch
from agentkit.durable import DurableAgent
from agentkit.sim.reply import SimReply, SimToolCall

db_url, folder, role, executor = sys.argv[1], Path(sys.argv[2]), sys.argv[3], sys.argv[4]
count = int(sys.argv[5]) if len(sys.argv) > 5 else 0
QUEUE = "agentkit-test-batch"


@tool
async def label(ctx: RunContext[Any], item: int) -> str:
    """Label an item.

    Args:
        item: The item number.
    """
    run = (ctx.idempotency_key or "").rsplit(":", 1)[0]  # "workflow id:step"
    with (folder / "tool_calls").open("a") as file:
        file.write(json.dumps({"run": run, "executor": executor}) + "\n")
    await asyncio.sleep(0.05)  # long enough for the work to spread over both workers
    return f"item {item} labelled"


def policy(body: Any) -> SimReply:
    messages = body["messages"]
    if messages[-1]["role"] == "tool":
        return SimReply(content=messages[-1]["content"])
    item = messages[-1]["content"].split()[-1]
    return SimReply(tool_calls=(SimToolCall("label", json.dumps({"item": int(item)})),))


agent = Agent("grok-4", name="labeller", tools=[label], client=GrokClient.simulated(policy))


async def main() -> None:
    DBOS(config={
        "name": "agentkit-queue-test",
        "system_database_url": db_url,
        "application_version": "queue-test-1",
        "executor_id": executor,
    })
    durable = DurableAgent(agent)
    if role != "worker":
        DBOS.listen_queues([])  # puts runs on the queue or reads results, takes none
    DBOS.launch()
    queue = await DBOS.register_queue_async(QUEUE, worker_concurrency=8, polling_interval_sec=0.1)
    try:
        if role == "worker":
            deadline = time.monotonic() + 120
            # The stop file comes from another process: polling is the only way to see it.
            while not (folder / "stop").exists() and time.monotonic() < deadline:  # noqa: ASYNC110
                await asyncio.sleep(0.1)
        else:
            inputs = [BatchInput(f"label item {index}", id=str(index)) for index in range(count)]
            results = await run_batch(durable, inputs, durable=True, queue=queue,
                                      batch_id="batch", concurrency=count)
            print(json.dumps([r.output if r.ok else r.error for r in results]))
    finally:
        DBOS.destroy()


asyncio.run(main())
