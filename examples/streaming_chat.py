"""Streams an answer as it is written, showing each tool call as it happens."""

from __future__ import annotations

import anyio

from agentkit import Agent, GrokClient, TextDelta, ToolCallFinished, ToolCallStarted
from agentkit.examples._common import (
    default_client,
    prompt_from_argv,
    usage_line,
)
from agentkit.tools.calculator import calculate
from agentkit.tools.clock import make_clock_tools
from agentkit.tools.units import convert_units

DEFAULT_PROMPT = "Convert 26.2 miles to kilometres."


def build_agent(*, model: str = "grok-4.3", client: GrokClient | None = None) -> Agent[None, str]:
    """A general assistant with a calculator, unit conversion and a clock."""
    return Agent(
        model,
        client=client or default_client(),
        instructions="You are a friendly assistant. Use the tools for numbers, units and dates.",
        tools=[calculate, convert_units, *make_clock_tools()],
    )


async def main(prompt: str | None = None) -> None:
    """Stream one answer to the terminal, event by event."""
    async with default_client() as client:
        agent = build_agent(client=client)
        async with agent.run_stream(prompt or DEFAULT_PROMPT) as stream:
            async for event in stream:
                if isinstance(event, ToolCallStarted):
                    print(f"[calling {event.name}({event.arguments})]", flush=True)
                elif isinstance(event, ToolCallFinished):
                    outcome = f"failed: {event.error}" if event.error else event.result
                    print(f"[{event.name} -> {outcome}]", flush=True)
                elif isinstance(event, TextDelta):
                    print(event.text, end="", flush=True)  # no newline: deltas join up
            result = stream.result
    print()
    print(usage_line(result.usage))


if __name__ == "__main__":
    anyio.run(main, prompt_from_argv())
