"""Testing agents: a scripted model with no HTTP, the same script for the simulated server,
and a switch that keeps real model requests out of test suites.

```python
from agentkit.testing import ScriptedModel, call

model = ScriptedModel([call("get_forecast", city="Paris"), '{"city": "Paris", ...}'])
agent = Agent("grok-4", tools=[get_forecast], output_type=Forecast, client=model)
result = await agent.run("Will it rain in Paris?")
assert model.requests[0]["tools"][0]["function"]["name"] == "get_forecast"
```

A reply is a string (the assistant's text), a `call(...)` or a list of them (tool calls made
in one turn), a `reply(...)` (text, calls, reasoning and usage together), a ready
`ChatCompletion`, or an exception instance, which the model raises (a `BadRequestError` to
test fallbacks, say). The simulator's `SimReply` and `SimToolCall` are accepted too.
Streaming splits the text into word-sized chunks, so delta handling is exercised too. The
model satisfies the agent's `ChatModel` protocol: `complete(request)` and `stream(request)`.

The same strings, `call(...)` and `reply(...)` script the simulated server, through the HTTP
layer: `GrokClient.simulated(scripted([...]))` (`scripted` is `agentkit.sim.scripted`).

`block_model_requests()` (or `AGENTKIT_ALLOW_MODEL_REQUESTS=0` in the environment) makes
every request to a real model fail with `ModelRequestBlockedError` before it is sent;
`allow_model_requests()` lets them through again inside a blocked suite.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeAlias

from ._accumulate import ChatAccumulator
from ._switch import ModelRequestSwitch
from .errors import APIError, UserError
from .sim.policy import scripted
from .sim.reply import SimReply, SimToolCall
from .types.chat import (
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionMessage,
    Choice,
    ChoiceDelta,
    ChunkChoice,
    FunctionCall,
    FunctionCallDelta,
    ToolCall,
    ToolCallDelta,
)
from .types.usage import Usage

__all__ = [
    "Reply",
    "ReplyFunction",
    "ScriptedCall",
    "ScriptedModel",
    "ScriptedReply",
    "allow_model_requests",
    "block_model_requests",
    "call",
    "reply",
    "scripted",
]


@dataclass(frozen=True, slots=True)
class ScriptedCall:
    """A tool call the scripted model makes.

    Attributes:
        name: The tool name.
        arguments: The arguments as JSON text (exactly what the model "wrote").
        id: The call id; generated (`call_<n>`) when None.
    """

    name: str
    arguments: str
    id: str | None = None


@dataclass(frozen=True, slots=True)
class ScriptedReply:
    """One whole assistant reply.

    Attributes:
        content: The visible text.
        tool_calls: Tool calls made in this turn, in order.
        reasoning: Visible reasoning (`reasoning_content`), if any.
        usage: The usage to report; a small fixed usage when None.
        finish_reason: Derived from `tool_calls` when None.
    """

    content: str = ""
    tool_calls: tuple[ScriptedCall, ...] = ()
    reasoning: str | None = None
    usage: Usage | None = None
    finish_reason: str | None = None


Reply: TypeAlias = (
    str | ScriptedCall | SimToolCall | Sequence[ScriptedCall | SimToolCall] | ScriptedReply
    | SimReply | ChatCompletion | BaseException
)
"""Anything a script may hold, or a reply function return."""

ReplyFunction: TypeAlias = Callable[
    [list[dict[str, Any]], dict[str, Any]], "Reply | Awaitable[Reply]"
]
"""`(messages, request) -> Reply`, sync or async."""


def call(name: str, arguments: str | Mapping[str, Any] | None = None, /, *,
         id: str | None = None, **kwargs: Any) -> ScriptedCall:
    """A tool call: `call("get_forecast", city="Paris")`, or raw JSON text as `arguments`.

    Raw text is sent as is, so tests can script invalid arguments: `call("f", "{not json")`.
    """
    text = arguments if isinstance(arguments, str) else json.dumps({**(arguments or {}), **kwargs})
    return ScriptedCall(name=name, arguments=text, id=id)


def reply(
    content: str = "",
    *,
    tool_calls: Sequence[ScriptedCall | SimToolCall] = (),
    reasoning: str | None = None,
    usage: Usage | Mapping[str, Any] | None = None,
    finish_reason: str | None = None,
) -> ScriptedReply:
    """A reply with text, tool calls, reasoning and usage together.

    `usage` is reported by `ScriptedModel` only: the simulated server counts tokens itself.
    """
    if usage is not None and not isinstance(usage, Usage):
        usage = Usage.model_validate(usage)
    return ScriptedReply(content, _calls(tool_calls), reasoning, usage, finish_reason)


def block_model_requests() -> ModelRequestSwitch:
    """A `with` block in which every real model request fails before it is sent.

    Real means through the network to a host that is not this machine: the simulator
    (`GrokClient.simulated()`), `ScriptedModel`, `ReplayTransport`, httpx2's mock transports
    and servers on 127.0.0.1 or localhost are never blocked. A blocked request raises
    `ModelRequestBlockedError`, whatever the API key. The block holds for the code run in it,
    and for the tasks and the `anyio.to_thread` / `asyncio.to_thread` workers started there
    (they inherit its context), not for code beside it; use it around a test, or in a
    fixture: `with block_model_requests(): yield`. Plain `threading.Thread`s and other
    processes do not inherit it: for them, set `AGENTKIT_ALLOW_MODEL_REQUESTS=0` in the
    environment.
    """
    return ModelRequestSwitch(allowed=False)


def allow_model_requests() -> ModelRequestSwitch:
    """A `with` block in which real model requests go through, whatever
    `AGENTKIT_ALLOW_MODEL_REQUESTS` or an enclosing `block_model_requests()` says: for the
    one test that is meant to talk to the real API."""
    return ModelRequestSwitch(allowed=True)


def _calls(items: Sequence[ScriptedCall | SimToolCall]) -> tuple[ScriptedCall, ...]:
    calls = []
    for item in items:
        if isinstance(item, ScriptedCall):
            calls.append(item)
        elif isinstance(item, SimToolCall):
            calls.append(ScriptedCall(item.name, item.arguments))
        else:
            raise TypeError(
                f"a tool call in a script must be a call(...) or a SimToolCall, got {item!r}"
            )
    return tuple(calls)


class ScriptedModel:
    """A model that answers from a script: a list of replies, or a function.

    Args:
        replies: The replies, one per request, in order; or a function
            `(messages, request) -> Reply` (sync or async) asked for each request.
        model_name: The `model` field of the completions it returns.

    Attributes:
        requests: Every request received, as sent (messages copied at that moment).
    """

    def __init__(
        self, replies: Sequence[Reply] | ReplyFunction, *, model_name: str = "scripted"
    ) -> None:
        self._script: list[Reply] | None = None
        self._function: ReplyFunction | None = None
        if callable(replies):
            self._function = replies
        else:
            self._script = list(replies)
        self.model_name = model_name
        self.requests: list[dict[str, Any]] = []

    @property
    def remaining(self) -> int | None:
        """Scripted replies not yet used (None for a reply function)."""
        return None if self._script is None else len(self._script) - len(self.requests)

    async def complete(
        self, request: Mapping[str, Any], *, on_retry: Callable[[APIError], None] | None = None
    ) -> ChatCompletion:
        """Answer one request with the next reply."""
        return self._completion(await self._next(request))

    @asynccontextmanager
    async def stream(
        self, request: Mapping[str, Any], *, on_retry: Callable[[APIError], None] | None = None
    ) -> AsyncIterator[_ScriptedStream]:
        """Answer one request as a stream of chunks (an async context manager)."""
        answer = self._completion(await self._next(request))
        yield _ScriptedStream(answer)

    async def _next(self, request: Mapping[str, Any]) -> ScriptedReply | ChatCompletion:
        recorded = dict(request)
        messages = [dict(m) for m in request.get("messages", ())]
        recorded["messages"] = messages
        index = len(self.requests)
        self.requests.append(recorded)
        if self._function is not None:
            value = self._function(messages, recorded)
            item: Reply = await value if inspect.isawaitable(value) else value
        else:
            assert self._script is not None
            if index >= len(self._script):
                raise UserError(
                    f"ScriptedModel ran out of replies: request {index + 1} came after the "
                    f"{len(self._script)} scripted ones; add replies to the script"
                )
            item = self._script[index]
        if isinstance(item, BaseException):
            raise item
        return _as_scripted_reply(item, index)

    def _completion(self, item: ScriptedReply | ChatCompletion) -> ChatCompletion:
        if isinstance(item, ChatCompletion):
            return item
        base = len(self.requests) * 100
        calls = [
            ToolCall(id=c.id or f"call_{base + i}", function=FunctionCall(name=c.name, arguments=c.arguments))
            for i, c in enumerate(item.tool_calls)
        ]
        usage = item.usage or Usage(prompt_tokens=10, completion_tokens=5, total_tokens=15)
        message = ChatCompletionMessage(
            content=item.content, reasoning_content=item.reasoning, tool_calls=calls or None
        )
        finish = item.finish_reason or ("tool_calls" if calls else "stop")
        return ChatCompletion(
            id=f"scripted-{len(self.requests)}", model=self.model_name,
            choices=[Choice(message=message, finish_reason=finish)], usage=usage,
        )


def _as_scripted_reply(item: object, index: int) -> ScriptedReply | ChatCompletion:
    if isinstance(item, ChatCompletion | ScriptedReply):
        return item
    if isinstance(item, str):
        return ScriptedReply(content=item)
    if isinstance(item, ScriptedCall):
        return ScriptedReply(tool_calls=(item,))
    if isinstance(item, SimToolCall):
        return ScriptedReply(tool_calls=_calls([item]))
    if isinstance(item, list | tuple):
        return ScriptedReply(tool_calls=_calls(item))
    if isinstance(item, SimReply):
        return ScriptedReply(
            content=item.content, tool_calls=_calls(item.tool_calls), reasoning=item.reasoning,
            finish_reason=item.finish_reason,
        )
    raise TypeError(
        f"reply {index + 1} is {item!r}, which is not a reply: a reply is a str, a call(...) "
        "or a list of them, a reply(...), a SimReply, a ChatCompletion or an exception to raise"
    )


_WORDS = re.compile(r"\S*\s*")


class _ScriptedStream:
    """Chunks of one scripted completion; `final()` assembles them as a real stream does."""

    def __init__(self, completion: ChatCompletion) -> None:
        self._chunks = _chunks(completion)
        self._accumulator = ChatAccumulator()
        self._position = 0

    def __aiter__(self) -> _ScriptedStream:
        return self

    async def __anext__(self) -> ChatCompletionChunk:
        if self._position >= len(self._chunks):
            raise StopAsyncIteration
        chunk = self._chunks[self._position]
        self._position += 1
        self._accumulator.add(chunk)
        return chunk

    async def final(self) -> ChatCompletion:
        """Read the rest and return the assembled completion."""
        async for _ in self:
            pass
        return self._accumulator.completion()

    async def aclose(self) -> None:
        """Nothing to release."""


def _chunks(completion: ChatCompletion) -> list[ChatCompletionChunk]:
    message = completion.message
    head = {"id": completion.id, "model": completion.model}
    chunks = [ChatCompletionChunk(**head, choices=[ChunkChoice(delta=ChoiceDelta(role="assistant"))])]
    for piece in _WORDS.findall(message.reasoning_content or ""):
        if piece:
            chunks.append(ChatCompletionChunk(
                **head, choices=[ChunkChoice(delta=ChoiceDelta(reasoning_content=piece))]
            ))
    for piece in _WORDS.findall(message.content or ""):
        if piece:
            chunks.append(ChatCompletionChunk(**head, choices=[ChunkChoice(delta=ChoiceDelta(content=piece))]))
    for index, tool_call in enumerate(message.tool_calls or ()):
        # Like xAI: each call whole in one chunk.
        delta = ToolCallDelta(
            index=index, id=tool_call.id, type="function",
            function=FunctionCallDelta(name=tool_call.function.name, arguments=tool_call.function.arguments),
        )
        chunks.append(ChatCompletionChunk(**head, choices=[ChunkChoice(delta=ChoiceDelta(tool_calls=[delta]))]))
    finish = completion.choices[0].finish_reason or "stop"
    chunks.append(ChatCompletionChunk(**head, choices=[ChunkChoice(finish_reason=finish)]))
    chunks.append(ChatCompletionChunk(**head, choices=[], usage=completion.usage))
    return chunks
