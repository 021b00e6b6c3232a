"""The second model adapter: the agent loop on `/v1/responses` (`Agent(..., api="responses")`).

The loop speaks chat completions; `ResponsesModel` takes its chat-shaped request, sends it as
a Responses request (`_responses_input.py`), and answers with a `ChatCompletion` (and, when
streaming, `ChatCompletionChunk`s) made from the response. So every feature of the loop
(parallel tools, output modes, streaming events, approval, usage, run state) works on both
APIs with one loop.

What only the Responses API has travels in the completion's extra fields, where the loop
reads it without knowing this module: `server_tool_calls` (searches and code the server ran),
`citations` (the URLs the answer cites) and `response_id`. With `store` on (the default), the
run state remembers the last response so the next turn sends only what is new; with it off,
the encrypted reasoning is kept in the run state and sent back.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping, MutableMapping
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from ._model import RetryHook
from ._responses_input import (
    CONTEXT_KEY,
    assistant_digest,
    conversation_digest,
    responses_body,
)
from .errors import NotFoundError
from .pricing import Pricer
from .types.chat import (
    ChatCompletion,
    ChatCompletionChunk,
    ChoiceDelta,
    ChunkChoice,
    FunctionCallDelta,
    ToolCallDelta,
)
from .types.usage import CompletionTokensDetails, PromptTokensDetails, Usage

if TYPE_CHECKING:
    from .client import GrokClient
    from .client._responses import ResponseStream
    from .types.responses import Response, ResponseEvent, ResponseUsage

__all__ = ["ResponsesModel", "responses_usage", "server_tool_summary", "to_chat_completion"]

_log = logging.getLogger("agentkit.responses")

# Reasoning kept for store-off runs is bounded: a run of thousands of turns must not grow its
# state without end, and the oldest turns' reasoning matters least.
_MAX_KEPT_REASONING = 64


class ResponsesModel:
    """The `ChatModel` of a `GrokClient` on the Responses API.

    Args:
        client: The client; it is not closed by this wrapper.
    """

    takes_run_context = True
    """The loop passes `context=RunState.context`, where the chain and reasoning are kept."""

    def __init__(self, client: GrokClient) -> None:
        self.client = client
        self.pricer = Pricer(client.price_catalog)
        """Prices a response the server did not price (the loop asks it)."""

    def _body(
        self, request: Mapping[str, Any], context: MutableMapping[str, Any] | None
    ) -> dict[str, Any]:
        body = responses_body(request, context)
        body["model"] = self.client.provider.model_id(str(request.get("model") or ""))
        return body

    async def complete(
        self,
        request: Mapping[str, Any],
        *,
        on_retry: RetryHook | None = None,
        context: MutableMapping[str, Any] | None = None,
    ) -> ChatCompletion:
        """Send the request to `/responses` and return the answer as a chat completion."""
        from .types.responses import Response

        body = self._body(request, context)
        try:
            response = await self.client.request(
                "POST", "/responses", body, Response, on_retry=on_retry
            )
        except NotFoundError:
            body = self._unchained(request, body, context)
            response = await self.client.request(
                "POST", "/responses", body, Response, on_retry=on_retry
            )
        return _remember(response, request, body, context)

    def _unchained(
        self,
        request: Mapping[str, Any],
        body: Mapping[str, Any],
        context: MutableMapping[str, Any] | None,
    ) -> dict[str, Any]:
        """The body again with the whole conversation, when the server no longer has the
        response the chain names (expired, deleted, another account or simulator); re-raises
        when the request was not chained, so a 404 about anything else stays one."""
        if "previous_response_id" not in body or context is None:
            raise
        _log.info("the server does not have response %s any more; sending the whole "
                  "conversation", body["previous_response_id"])
        memo = dict(context.get(CONTEXT_KEY) or {})
        memo.pop("chain", None)
        context[CONTEXT_KEY] = memo
        return self._body(request, context)

    @asynccontextmanager
    async def stream(
        self,
        request: Mapping[str, Any],
        *,
        on_retry: RetryHook | None = None,
        context: MutableMapping[str, Any] | None = None,
    ) -> AsyncIterator[_ChunkStream]:
        """Stream the request from `/responses`, as chat-completion chunks."""
        from .client._responses import ResponseStream

        body = self._body(request, context)
        body["stream"] = True
        try:
            stream = await self.client.request_stream(
                "/responses", body, ResponseStream, on_retry=on_retry
            )
        except NotFoundError:
            body = {**self._unchained(request, body, context), "stream": True}
            stream = await self.client.request_stream(
                "/responses", body, ResponseStream, on_retry=on_retry
            )
        async with stream:
            yield _ChunkStream(stream, request, body, context)


class _ChunkStream:
    """A Responses event stream read as chat-completion chunks (what the loop's stream turn
    consumes), then its final response as a completion."""

    def __init__(
        self,
        stream: ResponseStream,
        request: Mapping[str, Any],
        body: Mapping[str, Any],
        context: MutableMapping[str, Any] | None,
    ) -> None:
        self._stream = stream
        self._request = request
        self._body = body
        self._context = context
        self._calls: dict[int, int] = {}  # output index -> tool call index

    def __aiter__(self) -> AsyncIterator[ChatCompletionChunk]:
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[ChatCompletionChunk]:
        from .types import responses as wire

        async for event in self._stream:
            chunk = self._chunk(event, wire)
            if chunk is not None:
                yield chunk

    def _chunk(self, event: ResponseEvent, wire: Any) -> ChatCompletionChunk | None:
        if isinstance(event, wire.OutputTextDeltaEvent):
            return _delta(ChoiceDelta.model_construct(content=event.delta))
        if isinstance(event, wire.ReasoningSummaryTextDeltaEvent):
            return _delta(ChoiceDelta.model_construct(reasoning_content=event.delta))
        if isinstance(event, wire.FunctionCallArgumentsDeltaEvent):
            index = self._calls.get(event.output_index)
            if index is None or not event.delta:
                return None
            call = ToolCallDelta.model_construct(
                index=index, function=FunctionCallDelta.model_construct(arguments=event.delta)
            )
            return _delta(ChoiceDelta.model_construct(tool_calls=[call]))
        if isinstance(event, wire.OutputItemAddedEvent | wire.OutputItemDoneEvent):
            item = event.item
            if isinstance(item, wire.ResponseFunctionCall):
                if event.output_index in self._calls:
                    return None
                index = self._calls[event.output_index] = len(self._calls)
                # The name and id come once; arguments follow in deltas (or whole, below).
                call = ToolCallDelta.model_construct(
                    index=index, id=item.call_id, type="function",
                    function=FunctionCallDelta.model_construct(
                        name=item.name,
                        arguments=item.arguments if isinstance(event, wire.OutputItemDoneEvent)
                        else "",
                    ),
                )
                return _delta(ChoiceDelta.model_construct(tool_calls=[call]))
            if isinstance(event, wire.OutputItemDoneEvent):
                summary = server_tool_summary(item)
                if summary is not None:
                    # A choice-less chunk: the loop reads the extra field only on those.
                    chunk = ChatCompletionChunk.model_construct(choices=[])
                    chunk.__pydantic_extra__ = {"server_tool_call": summary}
                    return chunk
        return None

    async def final(self) -> ChatCompletion:
        """Read what is left and return the whole answer as a completion."""
        response = await self._stream.final()
        return _remember(response, self._request, self._body, self._context)


def _delta(delta: ChoiceDelta) -> ChatCompletionChunk:
    return ChatCompletionChunk.model_construct(
        choices=[ChunkChoice.model_construct(index=0, delta=delta, finish_reason=None)]
    )


def to_chat_completion(response: Response) -> ChatCompletion:
    """A response as the chat completion the loop reads; what chat has no field for goes in
    extra fields (`response_id`, `server_tool_calls`, `citations`, `refusal`)."""
    from .types.responses import ResponseMessage

    calls = [
        {"id": call.call_id, "type": "function",
         "function": {"name": call.name, "arguments": call.arguments}}
        for call in response.function_calls
    ]
    refusals = [m.refusal for m in response.output
                if isinstance(m, ResponseMessage) and m.refusal]
    reasoning = "".join(item.text for item in response.reasoning) or None
    message: dict[str, Any] = {
        "role": "assistant",
        "content": response.output_text or None,
        "reasoning_content": reasoning,
        "tool_calls": calls or None,
        "refusal": "".join(r for r in refusals if r) or None,
    }
    if calls:
        finish = "tool_calls"
    elif response.status == "incomplete":
        reason = response.incomplete_details.reason if response.incomplete_details else None
        finish = "content_filter" if reason == "content_filter" else "length"
    else:
        finish = "stop"
    completion: dict[str, Any] = {
        "id": response.id,
        "created": int(response.created_at or 0),
        "model": response.model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": responses_usage(response.usage),
        "response_id": response.id,
    }
    tool_calls = [s for s in map(server_tool_summary, response.output) if s is not None]
    if tool_calls:
        completion["server_tool_calls"] = tool_calls
    citations = [c.model_dump(exclude_none=True) for c in response.citations]
    if citations:
        completion["citations"] = citations
    return ChatCompletion.model_validate(completion)


def server_tool_summary(item: Any) -> dict[str, Any] | None:
    """A server-side tool call as plain data (`type`, `id`, `status`, and the query, code or
    MCP tool it ran), or None when `item` is not one."""
    from .types import responses as wire

    if not isinstance(item, wire.WebSearchCall | wire.XSearchCall | wire.CodeInterpreterCall
                      | wire.FileSearchCall | wire.McpCall):
        return None
    summary: dict[str, Any] = {
        "type": item.type.removesuffix("_call"), "id": item.id, "status": item.status,
    }
    if isinstance(item, wire.WebSearchCall | wire.XSearchCall):
        summary["query"] = item.query
    elif isinstance(item, wire.CodeInterpreterCall):
        summary["code"] = item.source
    elif isinstance(item, wire.McpCall):
        summary["server_label"] = item.server_label
        summary["name"] = item.name
    elif isinstance(item, wire.FileSearchCall):
        summary["queries"] = list(getattr(item, "queries", None) or [])
    return summary


def responses_usage(usage: ResponseUsage | None) -> Usage | None:
    """A Responses usage in the chat terms `RunUsage` counts in."""
    if usage is None:
        return None
    reasoning = usage.reasoning_tokens
    # Responses counts reasoning inside output_tokens; chat's xAI usage keeps it outside
    # completion_tokens. Moving it out keeps one meaning for RunUsage on both APIs.
    visible = max(usage.output_tokens - reasoning, 0)
    converted = Usage(
        prompt_tokens=usage.input_tokens,
        completion_tokens=visible,
        total_tokens=usage.total_tokens or usage.input_tokens + usage.output_tokens,
        prompt_tokens_details=PromptTokensDetails(cached_tokens=usage.cached_tokens),
        completion_tokens_details=CompletionTokensDetails(reasoning_tokens=reasoning),
        num_sources_used=usage.num_sources_used,
        cost_in_usd_ticks=usage.cost_in_usd_ticks,
    )
    calls = usage.server_side_tool_calls
    if calls:
        converted.__pydantic_extra__ = {"server_side_tool_calls": calls}
    return converted


def _remember(
    response: Response,
    request: Mapping[str, Any],
    body: Mapping[str, Any],
    context: MutableMapping[str, Any] | None,
) -> ChatCompletion:
    """The completion of `response`, noting in the run context what the next turn needs."""
    completion = to_chat_completion(response)
    if context is None or not completion.choices:
        return completion
    memo: dict[str, Any] = dict(context.get(CONTEXT_KEY) or {})
    assistant = completion.choices[0].message.to_param()
    if body.get("store", True) is not False and response.id:
        sent = list(request.get("messages") or ())
        memo["chain"] = {
            "id": response.id, "count": len(sent) + 1,
            "digest": conversation_digest([*sent, assistant]),
        }
    else:
        memo.pop("chain", None)
        kept = [item.model_dump(exclude_none=True) for item in response.reasoning
                if item.encrypted_content]
        if kept:
            reasoning = dict(memo.get("reasoning") or {})
            reasoning[assistant_digest(assistant)] = kept
            while len(reasoning) > _MAX_KEPT_REASONING:
                reasoning.pop(next(iter(reasoning)))
            memo["reasoning"] = reasoning
    context[CONTEXT_KEY] = memo
    return completion
