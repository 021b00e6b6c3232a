"""Handoffs: an agent that passes the conversation to another.

`Agent(..., handoffs=[billing, refunds])` offers the model one `transfer_to_<name>` tool per
receiving agent. When the model calls one, that agent takes over from the next request on:
its instructions replace the system prompt, its tools, output type and limits apply, and it
sees the conversation so far (or what `input_filter` keeps of it). Usage adds up over the
agents; `result.agent_name` says which one answered, a stream yields an `AgentHandoff`
event, and hooks get `on_handoff`. A receiving agent without a client of its own uses the
handing agent's.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .errors import ConfigurationError

if TYPE_CHECKING:
    from .agent import Agent

__all__ = ["Handoff", "InputFilter", "handoff", "remove_tool_calls"]

InputFilter = Callable[[list[dict[str, Any]]], Sequence[Mapping[str, Any]]]
"""What of the conversation (every message but the system prompt) the receiving agent sees."""

_NAME = re.compile(r"[^a-zA-Z0-9_-]+")


class Handoff:
    """A way out of one agent into another.

    Args:
        agent: The receiving agent; it needs a `name`.
        tool_name: The tool the model calls; default `transfer_to_<name>`.
        description: What the model reads about the tool; say when to hand over.
        input_filter: `(messages) -> messages`: what of the conversation the receiving agent
            sees (e.g. `remove_tool_calls`); default all of it.
    """

    __slots__ = ("agent", "description", "input_filter", "tool_name")

    def __init__(
        self,
        agent: Agent[Any, Any],
        *,
        tool_name: str | None = None,
        description: str | None = None,
        input_filter: InputFilter | None = None,
    ) -> None:
        name = getattr(agent, "name", None)
        if not callable(getattr(agent, "run", None)) or not isinstance(name, str) or not name:
            raise ConfigurationError(
                "a handoff needs an Agent with a name, e.g. Agent('grok-4', name='billing', ...); "
                f"got {agent!r:.100}"
            )
        if input_filter is not None and not callable(input_filter):
            raise ConfigurationError("input_filter must be a function (messages) -> messages")
        self.agent = agent
        self.tool_name = tool_name or f"transfer_to_{_NAME.sub('_', name)}"[:64]
        self.description = description or _describe(agent, name)
        self.input_filter = input_filter

    def definition(self) -> dict[str, Any]:
        """The tool definition the model sees (it takes no arguments)."""
        return {
            "type": "function",
            "function": {
                "name": self.tool_name,
                "description": self.description,
                "parameters": {"type": "object", "properties": {}},
            },
        }

    def __repr__(self) -> str:
        return f"Handoff({self.agent.name!r}, tool_name={self.tool_name!r})"


def _describe(agent: Agent[Any, Any], name: str) -> str:
    """The default tool description: the receiving agent's own instructions say what it is
    for, and the model needs that to choose it (static instructions only: a template would
    need a run to render)."""
    text = f"Hand the conversation over to the {name} agent, who answers from then on."
    template = getattr(agent, "_template", None)
    if template is not None and template.is_static and template.source.strip():
        about = " ".join(template.source.split())
        text += f" Its instructions: {about[:300]}{'...' if len(about) > 300 else ''}"
    return text


def handoff(
    agent: Agent[Any, Any],
    *,
    tool_name: str | None = None,
    description: str | None = None,
    input_filter: InputFilter | None = None,
) -> Handoff:
    """A `Handoff` to `agent`, for `Agent(handoffs=[...])` (a bare agent works too)."""
    return Handoff(agent, tool_name=tool_name, description=description, input_filter=input_filter)


def remove_tool_calls(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """An `input_filter`: the conversation without tool calls and their results, so the
    receiving agent reads only what the user and the assistants said."""
    kept: list[dict[str, Any]] = []
    for message in messages:
        if message.get("role") == "tool":
            continue
        if message.get("tool_calls"):
            if not message.get("content"):
                continue
            message = {k: v for k, v in message.items() if k != "tool_calls"}
        kept.append(message)
    return kept


def as_handoffs(items: Sequence[Any]) -> tuple[Handoff, ...]:
    """`items` (agents or `Handoff`s) as handoffs, checked for clashing tool names."""
    if isinstance(items, str | bytes) or not isinstance(items, Sequence):
        raise ConfigurationError(f"handoffs must be a list of agents, not {type(items).__name__}")
    handoffs = tuple(item if isinstance(item, Handoff) else Handoff(item) for item in items)
    seen: set[str] = set()
    for item in handoffs:
        if item.tool_name in seen:
            raise ConfigurationError(
                f"two handoffs use the tool name {item.tool_name!r}; give one tool_name=..."
            )
        seen.add(item.tool_name)
    return handoffs
