"""Example agents: one small, runnable file each, offline on the simulated Grok model.

Each module has a one-line docstring summary, `DEFAULT_PROMPT`, `build_agent(model=,
client=)` and `async main(prompt=None)`; `agentkit run NAME "prompt"` and
`python examples/NAME.py "prompt"` both rely on that. Set `XAI_API_KEY` to talk to Grok.

About the `# type: ignore[import-not-found]` comments: an installed wheel has the examples
and bundled tools inside the package (`agentkit.examples`, `agentkit.tools`); a source
checkout keeps them beside it and maps them in at import time, which mypy cannot follow.
"""

from __future__ import annotations

__all__ = ["EXAMPLES"]

EXAMPLES: tuple[str, ...] = (
    "weather",
    "math_tutor",
    "extraction",
    "sql_analyst",
    "research",
    "vision",
    "image_generation",
    "streaming_chat",
    "multi_agent",
    "support_desk",
    "triage",
    "tracing",
    "mcp_tools",
)
"""The example modules, simplest first (the order `agentkit examples` lists them in)."""
