"""A math tutor that explains each step and does every calculation with a calculator tool."""

from __future__ import annotations

import anyio

from agentkit import Agent, GrokClient
from agentkit.examples._common import (
    default_client,
    prompt_from_argv,
    usage_line,
)
from agentkit.tools.calculator import calculate

DEFAULT_PROMPT = "What is (3 + 4) * 12? Then take the square root of 84."

INSTRUCTIONS = """\
You are a patient math tutor. Break the problem into steps and explain each one in a
sentence a student can follow. Never do arithmetic in your head: use the calculate tool
for every number you state, then give the final answer on its own last line."""


def build_agent(*, model: str = "grok-4.3", client: GrokClient | None = None) -> Agent[None, str]:
    """A tutor agent with the bundled calculator."""
    return Agent(
        model,
        client=client or default_client(),
        instructions=INSTRUCTIONS,
        tools=[calculate],
    )


async def main(prompt: str | None = None) -> None:
    """Ask the tutor a question and print its worked answer."""
    async with default_client() as client:
        result = await build_agent(client=client).run(prompt or DEFAULT_PROMPT)
    print(result.output)
    print(usage_line(result.usage))


if __name__ == "__main__":
    anyio.run(main, prompt_from_argv())
