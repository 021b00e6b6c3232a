"""`RunResult`: what a finished run produced (output, conversation, usage)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import pydantic_core

from .usage import RunUsage

__all__ = ["RunResult"]

OutputT = TypeVar("OutputT")


@dataclass
class RunResult(Generic[OutputT]):
    """What a finished run produced.

    Attributes:
        output: The validated output (`str`, or an instance of the output type).
        messages: The whole conversation as request messages (JSON-serialisable dicts);
            pass it as `message_history=` to continue.
        usage: What the run consumed, every request counted (retries and fallbacks too).
    """

    output: OutputT
    messages: list[dict[str, Any]]
    usage: RunUsage
    new_from: int = field(default=0, repr=False)
    """Index of the first message this run added (the history came before it)."""

    def new_messages(self) -> list[dict[str, Any]]:
        """The messages this run added: everything after the `message_history` it was given."""
        return self.messages[self.new_from :]

    def to_json(self, *, indent: int | None = None) -> str:
        """The conversation as JSON text; `json.loads` it into `message_history=` to go on."""
        return pydantic_core.to_json(self.messages, indent=indent).decode()
