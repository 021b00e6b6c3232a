"""The weather agent traced with OpenTelemetry: its span tree printed on stderr after the run."""

from __future__ import annotations

import sys

import anyio

from agentkit import Agent, GrokClient
from agentkit.examples import weather
from agentkit.examples._common import default_client, prompt_from_argv, usage_line

DEFAULT_PROMPT = "Will it rain in Paris or in Oslo tomorrow?"


def build_agent(
    *, model: str = "grok-4.3", client: GrokClient | None = None
) -> Agent[None, weather.Forecast]:
    """The weather agent with tracing hooks (needs `pip install 'agentkit[otel]'`).

    Here the spans are printed as a tree; to send them to a collector instead, give
    `OpenTelemetryHooks(tracer_provider=...)` a provider with an OTLP exporter, or set the
    global provider and use `OpenTelemetryHooks()`.
    """
    try:
        from agentkit.otel import tree_printer
    except ImportError as missing:
        raise SystemExit(f"this example needs OpenTelemetry: {missing}") from None
    agent: Agent[None, weather.Forecast] = weather.build_agent(
        model=model, client=client or default_client()
    )
    return agent.replace(hooks=[tree_printer(sys.stderr)])


async def main(prompt: str | None = None) -> None:
    """Ask the traced weather agent; the span tree goes to stderr, the answer to stdout."""
    async with default_client() as client:
        result = await build_agent(client=client).run(prompt or DEFAULT_PROMPT)
    print(result.output.model_dump_json(indent=2))
    print(usage_line(result.usage))


if __name__ == "__main__":
    anyio.run(main, prompt_from_argv())
