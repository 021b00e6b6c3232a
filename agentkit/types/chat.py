"""Chat-completion wire models: requests are plain dicts, responses are these."""

from __future__ import annotations

from typing import Any, Literal

from ._base import WireModel
from .usage import Usage

__all__ = [
    "ChatCompletion",
    "ChatCompletionChunk",
    "ChatCompletionMessage",
    "Choice",
    "ChoiceDelta",
    "ChunkChoice",
    "FunctionCall",
    "FunctionCallDelta",
    "ToolCall",
    "ToolCallDelta",
]


class FunctionCall(WireModel):
    """The function a tool call names, with its arguments as the model wrote them (JSON text)."""

    name: str
    arguments: str = ""


class ToolCall(WireModel):
    """One tool call in an assistant message."""

    id: str
    type: Literal["function"] = "function"
    function: FunctionCall


class ChatCompletionMessage(WireModel):
    """The assistant's message.

    `reasoning_content` is xAI's (and DeepSeek's) field; OpenRouter and Groq send `reasoning`.
    `reasoning_text` reads whichever is there.
    """

    role: str = "assistant"
    content: str | None = None
    reasoning_content: str | None = None
    tool_calls: list[ToolCall] | None = None
    refusal: str | None = None

    @property
    def reasoning_text(self) -> str | None:
        """The visible reasoning, from `reasoning_content` or OpenRouter/Groq's `reasoning`."""
        if self.reasoning_content:
            return self.reasoning_content
        other = (self.model_extra or {}).get("reasoning")
        return other if isinstance(other, str) and other else None

    def to_param(self) -> dict[str, Any]:
        """This message as a request message, to append to the conversation."""
        param: dict[str, Any] = {"role": "assistant", "content": self.content or ""}
        if self.tool_calls:
            param["tool_calls"] = [call.model_dump(exclude_none=True) for call in self.tool_calls]
        if self.reasoning_content:
            param["reasoning_content"] = self.reasoning_content
        return param


class Choice(WireModel):
    """One choice of a chat completion."""

    index: int = 0
    message: ChatCompletionMessage
    finish_reason: str | None = None
    logprobs: Any = None


class ChatCompletion(WireModel):
    """A whole chat completion (`object: "chat.completion"`)."""

    id: str = ""
    object: str = "chat.completion"
    created: int = 0
    model: str = ""
    choices: list[Choice]
    usage: Usage | None = None
    system_fingerprint: str | None = None

    @property
    def message(self) -> ChatCompletionMessage:
        """The first choice's message (what almost every caller wants)."""
        if not self.choices:
            raise IndexError("the chat completion has no choices")
        return self.choices[0].message


class FunctionCallDelta(WireModel):
    """A piece of a tool call's function: the name comes once, arguments may come in pieces."""

    name: str | None = None
    arguments: str | None = None


class ToolCallDelta(WireModel):
    """A piece of a tool call in a stream, placed by `index`."""

    index: int = 0
    id: str | None = None
    type: str | None = None
    function: FunctionCallDelta | None = None


class ChoiceDelta(WireModel):
    """What one chunk adds to a choice."""

    role: str | None = None
    content: str | None = None
    reasoning_content: str | None = None
    tool_calls: list[ToolCallDelta] | None = None
    refusal: str | None = None

    @property
    def reasoning_text(self) -> str | None:
        """Reasoning added by this chunk, from either field name providers use."""
        if self.reasoning_content:
            return self.reasoning_content
        other = (self.model_extra or {}).get("reasoning")
        return other if isinstance(other, str) and other else None


class ChunkChoice(WireModel):
    """One choice in a stream chunk."""

    index: int = 0
    # The same empty delta as `ChoiceDelta()`, made without validating (which would build
    # the model's schema at import: WireModel defers that to first use).
    delta: ChoiceDelta = ChoiceDelta.model_construct()
    finish_reason: str | None = None
    logprobs: Any = None


class ChatCompletionChunk(WireModel):
    """One event of a streamed chat completion (`object: "chat.completion.chunk"`).

    The last chunk of an xAI or OpenAI stream with `include_usage` has no choices and a usage.
    """

    id: str = ""
    object: str = "chat.completion.chunk"
    created: int = 0
    model: str = ""
    choices: list[ChunkChoice] = []
    usage: Usage | None = None
    system_fingerprint: str | None = None
