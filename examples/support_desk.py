"""A shop's support desk: it looks orders up, and refunds over $50 wait for a person's approval."""

from __future__ import annotations

import csv
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
from pydantic import PositiveFloat

from agentkit import (
    Agent,
    GrokClient,
    RunContext,
    RunState,
    RunUsage,
    SQLiteSession,
    ToolCallRequest,
    ToolRetry,
    tool,
)
from agentkit.examples._common import DATA, default_client, prompt_from_argv, usage_line

DEFAULT_PROMPT = "Hi, this is Ben Carter. What is the status of my order 1042?"
FOLLOW_UP = "The mugs arrived broken. Please refund order 1042."
APPROVAL_LIMIT = 50.0  # refunds above this many dollars wait for a person's yes

INSTRUCTIONS = """\
You are the support desk of a small coffee shop. Look an order up with look_up_order before
you talk about it. When an item arrived broken, went missing or was sent back, refund it with
refund_order. Refunds over $50 wait for a manager; tell the customer what happened."""


@dataclass(frozen=True)
class Refund:
    """A refund paid out: the run's `deps` is the ledger (a list) these are added to."""
    order_id: int
    amount: float
    reason: str


def build_agent(
    *, model: str = "grok-4.3", client: GrokClient | None = None
) -> Agent[list[Refund], str]:
    """A support agent over the bundled orders; pass a ledger as `deps` to record refunds."""
    with (DATA / "orders.csv").open(newline="", encoding="utf-8") as file:
        orders = {int(row["order_id"]): row for row in csv.DictReader(file)}  # all text

    @tool
    def look_up_order(order_id: int) -> dict[str, Any]:
        """Look up an order by its number: the customer, the item, total paid and status.

        Args:
            order_id: The order number, e.g. 1042.
        """
        if order_id not in orders:
            raise ToolRetry(f"there is no order {order_id}; ask the customer for the number")
        return orders[order_id]

    def needs_approval(ctx: RunContext[list[Refund]], call: ToolCallRequest) -> bool:
        args = call.args  # validated: the values the tool would run with
        order = orders.get(args["order_id"])  # an unknown order fails in the tool itself
        return order is not None and (args["amount"] or float(order["total"])) > APPROVAL_LIMIT

    @tool(requires_approval=needs_approval)  # the policy decides before each call runs
    def refund_order(
        ctx: RunContext[list[Refund]], order_id: int, reason: str,
        amount: PositiveFloat | None = None,
    ) -> dict[str, Any]:
        """Refund money to the customer of an order, e.g. for a broken, missing or returned
        item. Refunds over $50 are made only once a manager approves them.

        Args:
            order_id: The order number, e.g. 1042.
            reason: Why the customer gets the refund, in a few words.
            amount: How much to refund, in dollars; leave it out to refund the whole total.
        """
        total = float(look_up_order(order_id)["total"])  # a tool is still a plain function
        refund = Refund(order_id, total if amount is None else min(amount, total), reason)
        if ctx.deps is not None:  # `agentkit run` passes no deps: reported, not recorded
            ctx.deps.append(refund)
        return {"order_id": order_id, "refunded": refund.amount, "reason": reason}

    return Agent(model, client=client or default_client(), instructions=INSTRUCTIONS,
                 tools=[look_up_order, refund_order])


async def main(prompt: str | None = None) -> None:
    """Two turns of one conversation, approving the refund that waits, as a manager would."""
    refunds: list[Refund] = []  # the shop's ledger: passed as deps to every run, and resume
    usage = RunUsage()
    with tempfile.TemporaryDirectory() as folder:
        saved = Path(folder) / "paused-run.json"
        async with default_client() as client, SQLiteSession(Path(folder) / "chats.db") as session:
            agent = build_agent(client=client)
            for message in (prompt or DEFAULT_PROMPT, FOLLOW_UP):
                print(f"Customer: {message}")
                result = await agent.run(message, deps=refunds, session=session)
                while result.paused:  # a web app would answer "waiting for approval" now
                    result.state.save(saved)  # keep it (or store result.state.to_json())
                    print(f"  [paused; the run is saved in {saved.name}]")
                    state = RunState.load(saved)  # ...and a later request would read it back
                    for call in state.interruptions:
                        args = ", ".join(f"{key}={value!r}" for key, value in call.args.items())
                        print(f"  [manager approves {call.tool_name}({args})]")
                        state.approve(call.call_id)  # or state.reject(call.call_id, reason=...)
                    result = await agent.run(state=state, deps=refunds, session=session)
                usage.merge(result.usage)
                print(f"Agent: {result.output}")
            print("Refunds:", ", ".join(f"${r.amount:.2f} on order {r.order_id}" for r in refunds))
            print(f"The session holds {len(await session.get_items())} messages")
    print(usage_line(usage))


if __name__ == "__main__":
    anyio.run(main, prompt_from_argv())
