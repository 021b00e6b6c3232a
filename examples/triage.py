"""A front desk that hands each request to billing or tech support, behind a guardrail."""

from __future__ import annotations

import sys
from typing import Any, Literal

import anyio

from agentkit import (
    Agent,
    GrokClient,
    GuardrailResult,
    InputGuardrailTripped,
    RunHooks,
    RunInfo,
    handoff,
    tool,
)
from agentkit.examples._common import default_client, prompt_from_argv, usage_line

DEFAULT_PROMPT = "I was charged twice for invoice 1001. Can billing refund the extra charge?"

AMOUNTS = {1001: 49.0}  # invoice -> dollars
CHARGES = {1001: 2}  # invoice -> times charged
SERVICES = {"email": "up", "vpn": "down since 09:10, engineers on it"}


@tool
def look_up_invoice(invoice_id: int) -> dict[str, Any]:
    """Look up an invoice: its amount and how many times it was charged.

    Args:
        invoice_id: The invoice number, e.g. 1001.
    """
    if invoice_id not in AMOUNTS:
        return {"error": f"no invoice {invoice_id}"}
    return {"invoice_id": invoice_id, "amount": AMOUNTS[invoice_id], "charges": CHARGES[invoice_id]}


@tool
def refund_duplicate_charge(invoice_id: int) -> str:
    """Refund the extra charge of an invoice that was charged more than once.

    Args:
        invoice_id: The invoice number.
    """
    if CHARGES.get(invoice_id, 0) < 2:
        return f"invoice {invoice_id} has no duplicate charge to refund"
    CHARGES[invoice_id] -= 1
    return f"refunded ${AMOUNTS[invoice_id]:.2f} on invoice {invoice_id}"


@tool
def service_status(service: Literal["email", "vpn"]) -> str:
    """The status of one of our services: is it up or down.

    Args:
        service: The service.
    """
    return SERVICES[service]


def no_credentials(prompt: str) -> GuardrailResult:
    """The desk never handles passwords: refuse such prompts before any agent acts on them."""
    words = prompt.lower()
    if "password" in words or "passcode" in words:
        return GuardrailResult(tripped=True, reason="we never ask for or reset passwords here")
    return GuardrailResult(tripped=False)


class PrintHandoffs(RunHooks):
    """Say on stderr which agent has the conversation, as it moves."""

    def on_handoff(self, run: RunInfo, from_agent: str | None, to_agent: str) -> None:
        print(f"[{from_agent} -> {to_agent}]", file=sys.stderr)


def build_agent(*, model: str = "grok-4.3", client: GrokClient | None = None) -> Agent[None, str]:
    """The front desk; billing and tech support answer through its client."""
    client = client or default_client()
    billing = Agent(
        model, name="billing", tools=[look_up_invoice, refund_duplicate_charge],
        instructions="You are billing. Look the invoice up, refund duplicate charges, and "
        "tell the customer what you did in one or two sentences.",
    )
    tech = Agent(
        model, name="tech_support", tools=[service_status],
        instructions="You are tech support. Check the service's status and explain it briefly.",
    )
    return Agent(
        model,
        name="front_desk",
        client=client,
        instructions="You are the front desk. Hand invoices, charges and refunds to billing, "
        "and outages or technical problems to tech_support.",
        handoffs=[
            billing,  # its tool's description quotes billing's instructions
            handoff(tech, description="Hand outages, VPN, email and other technical "
                    "problems to tech support, who answers from then on."),
        ],
        input_guardrails=[no_credentials],
        hooks=[PrintHandoffs()],
    )


async def main(prompt: str | None = None) -> None:
    """Ask the front desk and print the answer and who gave it."""
    async with default_client() as client:
        try:
            result = await build_agent(client=client).run(prompt or DEFAULT_PROMPT)
        except InputGuardrailTripped as refused:
            print(f"front_desk: sorry, {refused.result.reason}.")
            return
    print(f"{result.agent_name}: {result.output}")
    print(usage_line(result.usage))


if __name__ == "__main__":
    anyio.run(main, prompt_from_argv())
