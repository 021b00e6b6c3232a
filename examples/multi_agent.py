"""A coordinator agent that delegates to other agents: the weather expert and the math tutor."""

from __future__ import annotations

import anyio

from agentkit import Agent, GrokClient, RunContext, tool
from agentkit.examples import math_tutor, weather
from agentkit.examples._common import (
    default_client,
    prompt_from_argv,
    usage_line,
)

DEFAULT_PROMPT = (
    "Ask the weather expert whether it will rain in Paris tomorrow, "
    "and ask the math tutor what (3 + 4) * 12 is."
)

INSTRUCTIONS = """\
You coordinate two specialists. Send weather questions to ask_weather_expert and math
questions to ask_math_tutor, each with a complete question in their own words; they
cannot see this conversation. Then combine their answers into one short reply."""


def build_agent(*, model: str = "grok-4.3", client: GrokClient | None = None) -> Agent[None, str]:
    """A coordinator whose tools are other agents, all talking through one client."""
    client = client or default_client()
    # The specialists are built once, with the coordinator's client and model. When the
    # model asks both at once, the agent runs the two calls concurrently on that client.
    forecaster: Agent[None, weather.Forecast] = weather.build_agent(model=model, client=client)
    tutor: Agent[None, str] = math_tutor.build_agent(model=model, client=client)

    @tool
    async def ask_weather_expert(ctx: RunContext[None], question: str) -> weather.Forecast:
        """Ask the weather expert about rain or temperature in a city in the coming week.

        Args:
            question: The complete weather question, naming the city and the day.
        """
        result = await forecaster.run(question)
        ctx.usage.merge(result.usage)  # the coordinator's usage then covers the whole job
        return result.output

    @tool
    async def ask_math_tutor(ctx: RunContext[None], question: str) -> str:
        """Ask the math tutor to work out a calculation or a math problem step by step.

        Args:
            question: The complete math question, with every number it needs.
        """
        result = await tutor.run(question)
        ctx.usage.merge(result.usage)
        return result.output

    return Agent(
        model,
        client=client,
        instructions=INSTRUCTIONS,
        tools=[ask_weather_expert, ask_math_tutor],
    )


async def main(prompt: str | None = None) -> None:
    """Ask the coordinator and print the combined answer."""
    async with default_client() as client:
        result = await build_agent(client=client).run(prompt or DEFAULT_PROMPT)
    print(result.output)
    print(usage_line(result.usage))


if __name__ == "__main__":
    anyio.run(main, prompt_from_argv())
