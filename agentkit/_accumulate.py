"""Chunks in, one chat completion out: the assembly of a streamed answer. No I/O.

Providers split a message differently. xAI sends each tool call whole in one chunk; OpenAI
and OpenRouter send the id and name first and the arguments in fragments, placed by `index`;
some send several calls under one index, told apart only by a new id. OpenRouter repeats
`finish_reason`; xAI sends usage in a last chunk with no choices. The accumulator takes all of
these and gives back what a non-streamed request would have returned.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .types.chat import ChatCompletion, ChatCompletionChunk
from .types.usage import Usage

__all__ = ["ChatAccumulator"]


@dataclass(slots=True)
class _PartialCall:
    id: str = ""
    type: str = "function"
    name: str = ""
    arguments: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _PartialChoice:
    role: str = "assistant"
    content: list[str] = field(default_factory=list)
    reasoning: list[str] = field(default_factory=list)
    refusal: list[str] = field(default_factory=list)
    calls: list[_PartialCall] = field(default_factory=list)
    # index on the wire -> position in `calls` of the call that index currently feeds
    slot_of_index: dict[int, int] = field(default_factory=dict)
    finish_reason: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class ChatAccumulator:
    """Feed every `ChatCompletionChunk` of a stream; `completion()` is the assembled answer."""

    __slots__ = ("_choices", "_created", "_extra", "_fingerprint", "_id", "_model", "_usage")

    def __init__(self) -> None:
        self._id = ""
        self._created = 0
        self._model = ""
        self._fingerprint: str | None = None
        self._usage: Usage | None = None
        self._choices: dict[int, _PartialChoice] = {}
        self._extra: dict[str, Any] = {}

    @property
    def finished(self) -> bool:
        """True once every choice seen so far has a finish reason."""
        return bool(self._choices) and all(
            c.finish_reason is not None for c in self._choices.values()
        )

    @property
    def usage(self) -> Usage | None:
        """The usage reported so far (the last one wins: some servers send running totals)."""
        return self._usage

    def add(self, chunk: ChatCompletionChunk) -> None:
        """Fold one chunk into the answer."""
        if chunk.id and not self._id:
            self._id = chunk.id
        if chunk.created and not self._created:
            self._created = chunk.created
        if chunk.model:
            self._model = chunk.model
        if chunk.system_fingerprint:
            self._fingerprint = chunk.system_fingerprint
        if chunk.usage is not None:
            self._usage = chunk.usage
        extra = chunk.__pydantic_extra__  # `model_extra`, without the property's call
        if extra:
            # citations and similar arrive on the last chunk; keep the latest of each.
            self._extra.update(extra)
        for choice_delta in chunk.choices:
            choice = self._choices.get(choice_delta.index)
            if choice is None:
                choice = self._choices[choice_delta.index] = _PartialChoice()
            delta = choice_delta.delta
            if delta.role:
                choice.role = delta.role
            if delta.content:
                choice.content.append(delta.content)
            # `reasoning_text` reads `reasoning_content` or an extra field: most deltas have
            # neither, and are not worth the property's call.
            if delta.reasoning_content or delta.__pydantic_extra__:
                reasoning = delta.reasoning_text
                if reasoning:
                    choice.reasoning.append(reasoning)
            if delta.refusal:
                choice.refusal.append(delta.refusal)
            if delta.tool_calls:
                for call_delta in delta.tool_calls:
                    self._add_call(choice, call_delta.index, call_delta.id, call_delta.type,
                                   call_delta.function.name if call_delta.function else None,
                                   call_delta.function.arguments if call_delta.function else None)
            if choice_delta.finish_reason:
                choice.finish_reason = choice_delta.finish_reason

    @staticmethod
    def _add_call(
        choice: _PartialChoice,
        index: int,
        call_id: str | None,
        call_type: str | None,
        name: str | None,
        arguments: str | None,
    ) -> None:
        slot = choice.slot_of_index.get(index)
        call = choice.calls[slot] if slot is not None else None
        if call is None or (call_id and call.id and call_id != call.id):
            call = _PartialCall()
            choice.slot_of_index[index] = len(choice.calls)
            choice.calls.append(call)
        if call_id and not call.id:
            call.id = call_id
        if call_type:
            call.type = call_type
        if name and not call.name:
            call.name = name
        if arguments:
            call.arguments.append(arguments)

    def completion(self) -> ChatCompletion:
        """The answer assembled so far, shaped like a non-streamed chat completion."""
        # Plain data and one validation at the end, rather than a model built per part.
        choices = []
        for index in sorted(self._choices):
            partial = self._choices[index]
            tool_calls = [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": "".join(call.arguments)},
                }
                for call in partial.calls
            ]
            message = {
                "role": partial.role,
                "content": "".join(partial.content) if partial.content or not tool_calls else "",
                "reasoning_content": "".join(partial.reasoning) or None,
                "tool_calls": tool_calls or None,
                "refusal": "".join(partial.refusal) or None,
            }
            choices.append(
                {"index": index, "message": message, "finish_reason": partial.finish_reason}
            )
        return ChatCompletion.model_validate(
            {
                **self._extra,
                "id": self._id,
                "object": "chat.completion",
                "created": self._created,
                "model": self._model,
                "choices": choices,
                "usage": self._usage,
                "system_fingerprint": self._fingerprint,
            }
        )
