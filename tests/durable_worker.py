"""A worker process for the durable-run tests: one agent, durable on DBOS, whose model and tool
record every call in files, and can be told to hang in a step so the test can kill it there.

    python durable_worker.py DB_URL FOLDER start|recover|plain|stream|await-approval|approve WORKFLOW_ID [HANG_AT]

HANG_AT is `model:N` (the Nth model request) or `tool:N` (the Nth tool call): the worker writes
FOLDER/hanging and sleeps there, until killed. A `recover` run launches DBOS (which recovers the
pending workflow), waits for WORKFLOW_ID and prints its result as JSON. `await-approval` uses a
charge that needs approval: it starts the run, writes FOLDER/waiting once the run waits, and
sleeps (to be killed); `approve`, in a new process, approves what the run waits on and prints
the result.
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
from agentkit.durable import DurableAgent
from agentkit.sim.reply import SimReply, SimToolCall

db_url, folder, command, workflow_id = sys.argv[1], Path(sys.argv[2]), sys.argv[3], sys.argv[4]
hang_at = sys.argv[5] if len(sys.argv) > 5 else ""


def _log(name: str, line: str) -> int:
    """Append a line to FOLDER/name; the number of lines it now has."""
    path = folder / name
    with path.open("a") as file:
        file.write(line + "\n")
    return len(path.read_text().splitlines())


def _mark(name: str, text: str) -> None:
    """Write FOLDER/name whole or not at all: the test kills this process as soon as it appears."""
    partial = folder / f".{name}.partial"
    partial.write_text(text)
    partial.replace(folder / name)


def _maybe_hang(kind: str, count: int) -> None:
    if hang_at == f"{kind}:{count}" and not (folder / "killed").exists():
        _mark("hanging", f"{kind}:{count}")
        time.sleep(120)  # the test kills the process here


@tool
async def charge(ctx: RunContext[Any], order_id: int, amount: float) -> str:
    """Charge the customer.

    Args:
        order_id: The order.
        amount: Dollars.
    """
    count = _log("tool_calls", json.dumps({"order_id": order_id, "key": ctx.idempotency_key}))
    _maybe_hang("tool", count)
    return f"charged ${amount:g} for order {order_id}"


def policy(body: Any) -> SimReply:
    messages = body["messages"]
    count = _log("model_calls", str(len(messages)))
    _maybe_hang("model", count)
    results = [m["content"] for m in messages if m["role"] == "tool"]
    if not results:
        return SimReply(tool_calls=(SimToolCall("charge", '{"order_id": 7, "amount": 12.5}'),))
    return SimReply(content="Done: " + results[-1])


needs_approval = command in ("await-approval", "approve")
agent = Agent(
    "grok-4", name="billing", client=GrokClient.simulated(policy),
    tools=[tool(charge.function, name="charge", requires_approval=needs_approval)],
)


async def main() -> None:
    DBOS(config={
        "name": "agentkit-durable-test",
        "system_database_url": db_url,
        "application_version": "test-1",  # pinned, so a restarted worker recovers the run
        "executor_id": "worker-1",
        "notification_listener_polling_interval_sec": 0.05,
    })
    durable = DurableAgent(agent)
    DBOS.launch()
    try:
        if command in ("plain", "start"):
            result = await durable.run("charge order 7", workflow_id=workflow_id)
        elif command == "await-approval":
            run = await durable.start("charge order 7", workflow_id=workflow_id)
            waiting = await run.interruptions(timeout=30)
            _mark("waiting", json.dumps([w.tool_name for w in waiting]))
            time.sleep(120)  # noqa: ASYNC251 - hangs the whole process, to be killed here
            return
        elif command == "stream":
            run = await durable.start("charge order 7", workflow_id=workflow_id, stream=True)
            kinds = [event.kind async for event in run.events()]
            result = await run.result()
            print(json.dumps(kinds))
        elif command == "approve":
            waiting = await durable.interruptions(workflow_id, timeout=30)
            await durable.decide(workflow_id, approve=[w.call_id for w in waiting])
            result = await durable.result(workflow_id)
        else:  # recover: DBOS.launch() picked the pending workflow up; wait for it
            result = await durable.result(workflow_id)
        usage = result.usage
        print(json.dumps({
            "output": result.output, "requests": usage.requests, "tool_calls": usage.tool_calls,
            "total_tokens": usage.total_tokens, "messages": len(result.messages),
        }))
    finally:
        DBOS.destroy()


asyncio.run(main())
