"""What every example shares: the client choice, the data folder and the usage line."""

from __future__ import annotations

import sys
from pathlib import Path

from agentkit import GrokClient, RunUsage
from agentkit.client import SIMULATED_NOTICE

__all__ = ["DATA", "SIMULATED_NOTICE", "default_client", "prompt_from_argv", "usage_line"]

DATA = Path(__file__).resolve().parent / "data"
"""The examples' bundled data files (shipped in the wheel beside the examples)."""



def default_client() -> GrokClient:
    """The real xAI API when `XAI_API_KEY` is set, else the offline simulated Grok model
    (said on stderr, so nobody mistakes a simulated answer for Grok's)."""
    return GrokClient.from_environment()


def prompt_from_argv() -> str | None:
    """The prompt given on the command line (`python examples/weather.py "..."`), if any."""
    return sys.argv[1] if len(sys.argv) > 1 else None


def usage_line(usage: RunUsage) -> str:
    """One line saying what a run consumed: requests, tool calls, tokens and cost."""
    cost = f", ${usage.cost_usd:.6f}" if usage.cost_usd is not None else ""
    tokens = usage.total_tokens or usage.prompt_tokens + usage.completion_tokens
    return (
        f"[usage: {_count(usage.requests, 'request')}, {_count(usage.tool_calls, 'tool call')}, "
        f"{_count(tokens, 'token')}{cost}]"
    )


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"
