"""Structured output without tools: free text in, a validated `Contact` record out."""

from __future__ import annotations

import anyio
from pydantic import BaseModel, Field

from agentkit import Agent, GrokClient
from agentkit.examples._common import (
    default_client,
    prompt_from_argv,
    usage_line,
)

DEFAULT_PROMPT = """\
Hello, my name is Maria Garcia and my company is Northwind Traders. We met at the Berlin
expo last week. Could we set up a call about bulk pricing and delivery times to Spain?

Best regards,
Maria Garcia
Phone: +34 612 345 678
Email: maria.garcia@northwind.example"""


class Contact(BaseModel):
    """A person who got in touch, as a CRM would store them."""

    name: str = Field(description="The person's full name.")
    email: str | None = Field(default=None, description="Their email address, if given.")
    company: str | None = Field(default=None, description="The company they work for.")
    phone: str | None = Field(default=None, description="Their phone number, as written.")
    topics: list[str] = Field(description="What they want to talk about, a few words each.")


def build_agent(
    *, model: str = "grok-4.3", client: GrokClient | None = None
) -> Agent[None, Contact]:
    """An agent whose only job is to fill in a `Contact` from the user's text."""
    return Agent(
        model,
        client=client or default_client(),
        instructions=(
            "Extract the sender's contact details from the message. Copy names, emails and "
            "phone numbers exactly as written; leave out anything the message does not say."
        ),
        output_type=Contact,
    )


async def main(prompt: str | None = None) -> None:
    """Extract a contact from a message and print it field by field."""
    async with default_client() as client:
        result = await build_agent(client=client).run(prompt or DEFAULT_PROMPT)
    contact = result.output
    for field, value in contact.model_dump().items():
        shown = ", ".join(value) if isinstance(value, list) else value
        print(f"{field:>8}: {shown or '-'}")
    print(usage_line(result.usage))


if __name__ == "__main__":
    anyio.run(main, prompt_from_argv())
