"""The contract between the simulated model (a policy) and the server core that wraps it.

A policy reads a chat-completion request body (the parsed JSON dict, as a client sent it) and
decides what the assistant says: text, reasoning, tool calls. The core turns that decision into
wire-faithful responses (plain JSON or SSE chunks, ids, usage, errors). Users replace the policy
to script replies in their own tests while keeping the HTTP layer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Policy", "SimReply", "SimToolCall"]


@dataclass(frozen=True)
class SimToolCall:
    """A tool call the simulated model makes: the function name and its JSON argument text."""

    name: str
    arguments: str


@dataclass(frozen=True)
class SimReply:
    """What the simulated assistant answers to one chat-completion request.

    Attributes:
        content: The visible text ("" when the reply only calls tools).
        reasoning: Visible reasoning, for models whose name says they reason; None otherwise.
        tool_calls: Tool calls to make, in order (several means parallel calls).
        finish_reason: "stop", "tool_calls" or "length"; derived from tool_calls when None.
    """

    content: str = ""
    reasoning: str | None = None
    tool_calls: tuple[SimToolCall, ...] = field(default_factory=tuple)
    finish_reason: str | None = None

    @property
    def effective_finish_reason(self) -> str:
        """The finish reason to report."""
        if self.finish_reason is not None:
            return self.finish_reason
        return "tool_calls" if self.tool_calls else "stop"


Policy = Callable[[Mapping[str, Any]], SimReply]
"""A simulated model: a chat-completion request body in, the assistant's reply out."""
