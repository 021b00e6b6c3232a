"""An assistant whose tools come from an MCP server: agentkit's own `mcp serve`, over stdio."""

from __future__ import annotations

import sys

import anyio

from agentkit import Agent, GrokClient
from agentkit.examples._common import default_client, prompt_from_argv, usage_line

DEFAULT_PROMPT = "What is (3 + 4) * 12?"

INSTRUCTIONS = """\
You are a precise assistant. Use the calculate tool for every number you state and the now
tool for the time anywhere; then answer in one or two sentences."""


def build_agent(*, model: str = "grok-4.3", client: GrokClient | None = None) -> Agent[None, str]:
    """An assistant with the calculator and clock tools of an MCP server (needs
    `pip install 'agentkit[mcp]'`).

    The server is this Python running `agentkit mcp serve --tools calculator,clock` (as
    `python -m agentkit.mcp_server`); the agent starts it for each run and stops it after. Any
    MCP server works the same way: `MCPServerStdio("npx", [...])`, or
    `MCPServerStreamableHTTP(url)` for one that is already running.
    """
    try:
        from agentkit.mcp import MCPServerStdio
    except ImportError as missing:
        raise SystemExit(f"this example needs the MCP SDK: {missing}") from None
    # -P: the server imports agentkit as installed, whatever folder this runs in.
    server = MCPServerStdio(
        sys.executable, ["-P", "-m", "agentkit.mcp_server", "--tools", "calculator,clock"],
        name="agentkit tools",
    )
    return Agent(model, client=client or default_client(), instructions=INSTRUCTIONS,
                 tools=[server])


async def main(prompt: str | None = None) -> None:
    """Ask the assistant; its tool calls go to the MCP server."""
    async with default_client() as client:
        result = await build_agent(client=client).run(prompt or DEFAULT_PROMPT)
    print(result.output)
    print(usage_line(result.usage))


if __name__ == "__main__":
    anyio.run(main, prompt_from_argv())
