"""`client.responses`: the Responses API (create, stream, retrieve, delete, input items,
compact), its event stream, and helpers to build its input.

```python
response = await client.responses.create(model="grok-4.3", input="Hello")
print(response.output_text)

async with await client.responses.create(model="grok-4.3", input="Hi", stream=True) as stream:
    async for event in stream:
        if isinstance(event, OutputTextDeltaEvent):
            print(event.delta, end="")
    response = await stream.final()
```

Everything goes through `GrokClient.request` and `request_stream`, so retries, errors,
redaction and rate limits are the chat API's. The stream folds events into the `Response` a
plain request would have returned; events of a type it does not know are yielded as
`UnknownEvent` and change nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, TypedDict, Unpack, overload

from pydantic import BaseModel, TypeAdapter, ValidationError

from .._http import HTTPStream
from .._schema import Target
from .._sse import ServerSentEvent
from ..errors import APIError, APIResponseValidationError, ConfigurationError
from ..output import OutputSpec
from ..server_tools import ServerTool
from ..tool import Tool, Toolset, serialize_result
from ..types.responses import (
    CodeInterpreterCall,
    CodeInterpreterCodeDeltaEvent,
    CodeInterpreterCodeDoneEvent,
    CompactedResponse,
    ContentPartAddedEvent,
    ContentPartDoneEvent,
    FunctionCallArgumentsDeltaEvent,
    FunctionCallArgumentsDoneEvent,
    InputItemList,
    OutputItemAddedEvent,
    OutputItemDoneEvent,
    OutputText,
    OutputTextAnnotationAddedEvent,
    OutputTextDeltaEvent,
    OutputTextDoneEvent,
    ReasoningSummaryTextDeltaEvent,
    ReasoningSummaryTextDoneEvent,
    Refusal,
    RefusalDeltaEvent,
    RefusalDoneEvent,
    Response,
    ResponseCompletedEvent,
    ResponseCreatedEvent,
    ResponseDeleted,
    ResponseEvent,
    ResponseFailedEvent,
    ResponseFunctionCall,
    ResponseIncompleteEvent,
    ResponseInProgressEvent,
    ResponseMessage,
    ResponseReasoning,
    ResponseStreamEvent,
    SummaryText,
)
from ._streaming import AsyncStream, _first_error, _loads_or_text, _stream_error

if TYPE_CHECKING:
    from ._client import GrokClient

__all__ = [
    "ResponseAccumulator",
    "ResponseOptions",
    "ResponseStream",
    "Responses",
    "function_call_output",
    "function_tool",
    "text_format",
]

_EVENTS: TypeAdapter[ResponseEvent] = TypeAdapter(ResponseStreamEvent)
_ENDED = (ResponseCompletedEvent, ResponseFailedEvent, ResponseIncompleteEvent)

# ----------------------------------------------------------------------------- input helpers


def function_tool(tool: Tool, *, target: Target = "grok") -> dict[str, Any]:
    """A function tool in the Responses API's flat shape:
    `{"type": "function", "name", "description", "parameters"}` (chat nests them under
    `function`). The schema is the one `tool.definition(target)` sends to chat."""
    return {"type": "function", **tool.definition(target)["function"]}


def function_call_output(call: ResponseFunctionCall | str, output: Any) -> dict[str, Any]:
    """The input item that answers a function call: `{"type": "function_call_output",
    "call_id", "output"}`. A non-string output is serialised as tool results are (JSON)."""
    call_id = call.call_id if isinstance(call, ResponseFunctionCall) else call
    if not call_id:
        raise ConfigurationError("function_call_output needs the call's call_id")
    text = output if isinstance(output, str) else serialize_result(output)
    return {"type": "function_call_output", "call_id": call_id, "output": text}


def text_format(
    output_type: Any, *, target: Target = "grok", strict: bool = True
) -> dict[str, Any]:
    """`text=` for structured output: `{"format": {"type": "json_schema", "name", "schema",
    "strict"}}` for a pydantic model, dataclass, TypedDict... (the schema chat's
    `response_format` would send, flattened as Responses wants it)."""
    spec: OutputSpec[Any] = OutputSpec(output_type)
    if spec.is_text:
        return {"format": {"type": "text"}}
    nested = spec.response_format(target, strict=strict)["json_schema"]
    return {"format": {"type": "json_schema", **nested}}


def _tool_entry(tool: Any) -> dict[str, Any]:
    """One `tools[]` entry from a declaration, an agentkit `Tool`, or a dict (a chat-shaped
    function tool is flattened; anything else is sent as given)."""
    if isinstance(tool, ServerTool):
        return tool.to_wire()
    if isinstance(tool, Tool):
        return function_tool(tool)
    if isinstance(tool, Mapping):
        nested = tool.get("function")
        if tool.get("type", "function") == "function" and isinstance(nested, Mapping):
            return {"type": "function", **nested}
        return dict(tool)
    raise ConfigurationError(
        f"tools takes ServerTool declarations, agentkit Tools or dicts, got {type(tool).__name__}"
    )


def _tools(tools: Iterable[Any]) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    for tool in tools:
        if isinstance(tool, Toolset):
            entries += [function_tool(t) for t in tool]
        else:
            entries.append(_tool_entry(tool))
    return entries


def _input_item(item: Any) -> Any:
    # Output items go back into a stateless conversation as they came (`[*r.output, ...]`).
    if isinstance(item, BaseModel):
        return item.model_dump(exclude_none=True)
    if isinstance(item, Mapping):
        return dict(item)
    raise ConfigurationError(f"input items are dicts or output items, got {type(item).__name__}")


def _input(value: str | Iterable[Any]) -> str | list[Any]:
    if isinstance(value, str):
        if not value:
            raise ConfigurationError("input must not be empty")
        return value
    items = [_input_item(item) for item in value]
    if not items:
        raise ConfigurationError("input must hold at least one item")
    return items


# ----------------------------------------------------------------------------- the stream


class ResponseAccumulator:
    """Feed every event of a Responses stream; `response()` is the assembled `Response`.

    Items are placed by `output_index`; deltas extend the item they name, and the
    `output_item.done` and final `response.*` events, which carry whole items, win over what
    the deltas built. A server that skips the `added` events still assembles: a delta makes
    the item it needs.
    """

    __slots__ = ("_final", "_items", "_snapshot", "finished")

    def __init__(self) -> None:
        self._snapshot: Response | None = None
        self._final: Response | None = None
        self._items: dict[int, Any] = {}
        self.finished = False

    def add(self, event: ResponseEvent) -> None:
        """Fold one event in."""
        if isinstance(event, ResponseCreatedEvent | ResponseInProgressEvent):
            self._snapshot = event.response
        elif isinstance(event, _ENDED):
            self._final = event.response
            self.finished = True
        elif isinstance(event, OutputItemAddedEvent | OutputItemDoneEvent):
            self._items[event.output_index] = event.item.model_copy(deep=True)
        elif isinstance(event, ContentPartAddedEvent | ContentPartDoneEvent):
            content = self._content(event.output_index, event.item_id)
            _extend(content, event.content_index)
            content[event.content_index] = event.part.model_copy(deep=True)
        elif isinstance(event, OutputTextDeltaEvent | OutputTextDoneEvent):
            part = self._part(event.output_index, event.item_id, event.content_index, OutputText)
            part.text = (
                part.text + event.delta if isinstance(event, OutputTextDeltaEvent) else event.text
            )
        elif isinstance(event, OutputTextAnnotationAddedEvent):
            part = self._part(event.output_index, event.item_id, event.content_index, OutputText)
            part.annotations.append(event.annotation.model_copy(deep=True))
        elif isinstance(event, RefusalDeltaEvent | RefusalDoneEvent):
            refusal = self._part(event.output_index, event.item_id, event.content_index, Refusal)
            refusal.refusal = (
                refusal.refusal + event.delta
                if isinstance(event, RefusalDeltaEvent)
                else event.refusal
            )
        else:
            self._add_call_piece(event)

    def _add_call_piece(self, event: ResponseEvent) -> None:
        if isinstance(event, FunctionCallArgumentsDeltaEvent | FunctionCallArgumentsDoneEvent):
            call = self._item(
                event.output_index,
                ResponseFunctionCall,
                lambda: ResponseFunctionCall(id=event.item_id, call_id="", name=""),
            )
            if isinstance(event, FunctionCallArgumentsDeltaEvent):
                call.arguments += event.delta
            else:
                call.arguments = event.arguments
                call.name = event.name or call.name
        elif isinstance(event, ReasoningSummaryTextDeltaEvent | ReasoningSummaryTextDoneEvent):
            reasoning = self._item(
                event.output_index, ResponseReasoning, lambda: ResponseReasoning(id=event.item_id)
            )
            while len(reasoning.summary) <= event.summary_index:
                reasoning.summary.append(SummaryText())
            part = reasoning.summary[event.summary_index]
            part.text = (
                part.text + event.delta
                if isinstance(event, ReasoningSummaryTextDeltaEvent)
                else event.text
            )
        elif isinstance(event, CodeInterpreterCodeDeltaEvent | CodeInterpreterCodeDoneEvent):
            code = self._item(
                event.output_index,
                CodeInterpreterCall,
                lambda: CodeInterpreterCall(id=event.item_id),
            )
            code.code = (
                (code.code or "") + event.delta
                if isinstance(event, CodeInterpreterCodeDeltaEvent)
                else event.code
            )
        # Progress events (`response.web_search_call.searching`...), errors handled by the
        # stream, and events of unknown types carry nothing to assemble.

    def _item(self, index: int, kind: type[Any], make: Callable[[], Any]) -> Any:
        item = self._items.get(index)
        if not isinstance(item, kind):
            item = make()
            self._items[index] = item
        return item

    def _content(self, index: int, item_id: str) -> list[Any]:
        message = self._item(
            index,
            ResponseMessage,
            lambda: ResponseMessage(id=item_id or None, status="in_progress"),
        )
        if isinstance(message.content, str):
            message.content = [OutputText(text=message.content)] if message.content else []
        content: list[Any] = message.content
        return content

    def _part(self, index: int, item_id: str, content_index: int, kind: type[Any]) -> Any:
        content = self._content(index, item_id)
        _extend(content, content_index)
        if not isinstance(content[content_index], kind):
            content[content_index] = kind()
        return content[content_index]

    def response(self) -> Response:
        """The response so far: the final one once it came (with the assembled items if it
        carried none), else the latest snapshot with the items assembled so far."""
        items = [self._items[index] for index in sorted(self._items)]
        if self._final is not None:
            if self._final.output or not items:
                return self._final
            return self._final.model_copy(update={"output": items})
        base = self._snapshot if self._snapshot is not None else Response(status="in_progress")
        return base.model_copy(update={"output": items})


def _extend(content: list[Any], index: int) -> None:
    while len(content) <= index:
        content.append(OutputText())


class ResponseStream(AsyncStream[ResponseEvent]):
    """A streamed response: typed events, and the assembled `Response` at the end.

    Events are the OpenAI Responses names (`response.created`, `response.output_text.delta`,
    `response.output_item.done`, `response.completed`...), read from the data's `type` or,
    when the data has none, from the SSE `event:` line. An `error` event raises
    `APIStreamError`; `response.failed` and `response.incomplete` end the stream normally, and
    `final()` returns the response with its `status`, `error` and `incomplete_details`.
    """

    _item_type = ResponseEvent

    def __init__(self, response: HTTPStream, *, secrets: tuple[str, ...] = ()) -> None:
        super().__init__(response, secrets=secrets)
        self._accumulator = ResponseAccumulator()

    def _parse(self, event: ServerSentEvent) -> ResponseEvent | None:
        data = event.data
        if data.strip() == "[DONE]":
            self._done = True
            return None
        payload = _loads_or_text(data)
        if not isinstance(payload, dict):
            raise APIResponseValidationError(
                f"a Responses stream event is not a JSON object: {data[:200]!r}",
                status_code=200,
                body=data,
            )
        kind = payload.get("type")
        if kind is None and event.event != "message":
            kind = event.event
            payload = {**payload, "type": kind}
        if kind == "error" or (kind is None and payload.get("error")):
            raise _stream_error(payload, self._secrets)
        try:
            return _EVENTS.validate_python(payload)
        except ValidationError as error:
            raise APIResponseValidationError(
                f"a {kind or 'Responses'} event does not have its shape: {_first_error(error)}; "
                f"event data: {data[:200]!r}",
                status_code=200,
                body=data,
            ) from None

    _ENDING_MISSING = "no response.completed, response.incomplete or response.failed event"

    def _on_item(self, item: ResponseEvent) -> None:
        self._accumulator.add(item)

    def _is_complete(self) -> bool:
        return self._done or self._accumulator.finished

    def current(self) -> Response:
        """The response assembled from the events read so far."""
        return self._accumulator.response()

    async def final(self) -> Response:
        """Read the rest of the stream and return the whole response, as a plain request
        would have: every item, the text with its citations, usage."""
        async for _ in self:
            pass
        return self._accumulator.response()


# ----------------------------------------------------------------------------- the resource


class ResponseOptions(TypedDict, total=False):
    """Optional fields of a Responses request; those not given are not sent."""

    instructions: str | None
    previous_response_id: str | None
    store: bool | None
    """Keep the response on the server (the default there) so that `previous_response_id`,
    `retrieve` and `input_items` can find it."""
    include: Sequence[str] | None
    """Extra output to include, e.g. `["reasoning.encrypted_content"]`."""
    max_output_tokens: int | None
    """The most tokens to generate, reasoning included."""
    max_turns: int | None
    reasoning: Mapping[str, Any] | None
    """`{"effort": "low" | "medium" | "high"}` on models that take an effort."""
    text: Mapping[str, Any] | None
    """`{"format": {...}}`; see `text_format()` for structured output."""
    tools: Iterable[Any] | None
    """`ServerTool` declarations, agentkit `Tool`s or `Toolset`s, or dicts."""
    tool_choice: str | Mapping[str, Any] | None
    parallel_tool_calls: bool | None
    temperature: float | None
    top_p: float | None
    prompt_cache_key: str | None
    user: str | None
    metadata: Mapping[str, Any] | None
    extra_body: Mapping[str, Any] | None
    """Fields the signature does not name, added last: they win."""
    extra_headers: Mapping[str, str] | None
    timeout: float | None
    on_retry: Callable[[APIError], None] | None
    """Told of each failure that will be retried (for accounting); not sent."""


_NOT_SENT = frozenset({"extra_body", "extra_headers", "timeout", "on_retry"})


class Responses:
    """`client.responses`."""

    def __init__(self, client: GrokClient) -> None:
        self._client = client

    @overload
    async def create(
        self,
        *,
        model: str,
        input: str | Iterable[Any],
        stream: Literal[False] = False,
        **options: Unpack[ResponseOptions],
    ) -> Response: ...

    @overload
    async def create(
        self,
        *,
        model: str,
        input: str | Iterable[Any],
        stream: Literal[True],
        **options: Unpack[ResponseOptions],
    ) -> ResponseStream: ...

    async def create(
        self,
        *,
        model: str,
        input: str | Iterable[Any],
        stream: bool = False,
        **options: Unpack[ResponseOptions],
    ) -> Response | ResponseStream:
        """Create a response (POST `/responses`).

        `input` is a string or a list of items: messages (`{"role", "content"}` with
        `input_text` and `input_image` parts), `function_call_output` items (see
        `function_call_output()`), and output items of an earlier response as they came.
        With `stream=True` the result is a `ResponseStream`; `await stream.final()` gives the
        assembled `Response`.
        """
        unknown = options.keys() - ResponseOptions.__annotations__.keys()
        if unknown:
            raise ConfigurationError(
                f"unknown option(s) {sorted(unknown)}; pass other fields in extra_body={{...}}"
            )
        body: dict[str, Any] = {
            "model": self._client.provider.model_id(model),
            "input": _input(input),
        }
        for key, value in options.items():
            if value is None or key in _NOT_SENT:
                continue
            if key == "tools":
                value = _tools(value)  # type: ignore[arg-type]
            elif key == "include":
                value = list(value)  # type: ignore[call-overload]
            body[key] = value
        extra_body = options.get("extra_body")
        if stream:
            body["stream"] = True
        if extra_body:
            body.update(extra_body)
        timeout = options.get("timeout")
        extra_headers = options.get("extra_headers")
        on_retry = options.get("on_retry")
        if stream:
            return await self._client.request_stream(
                "/responses",
                body,
                ResponseStream,
                timeout=timeout,
                extra_headers=extra_headers,
                on_retry=on_retry,
            )
        return await self._client.request(
            "POST",
            "/responses",
            body,
            Response,
            timeout=timeout,
            extra_headers=extra_headers,
            on_retry=on_retry,
        )

    async def retrieve(self, response_id: str, *, timeout: float | None = None) -> Response:
        """A stored response (GET `/responses/{id}`); `NotFoundError` when it is not kept."""
        return await self._client.request(
            "GET", f"/responses/{_id(response_id)}", None, Response, timeout=timeout
        )

    async def delete(self, response_id: str, *, timeout: float | None = None) -> ResponseDeleted:
        """Delete a stored response (DELETE `/responses/{id}`)."""
        return await self._client.request(
            "DELETE", f"/responses/{_id(response_id)}", None, ResponseDeleted, timeout=timeout
        )

    async def input_items(self, response_id: str, *, timeout: float | None = None) -> InputItemList:
        """The items a stored response was made from (GET `/responses/{id}/input_items`)."""
        return await self._client.request(
            "GET",
            f"/responses/{_id(response_id)}/input_items",
            None,
            InputItemList,
            timeout=timeout,
        )

    async def compact(
        self,
        *,
        model: str,
        input: str | Iterable[Any] | None = None,
        previous_response_id: str | None = None,
        instructions: str | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: float | None = None,
    ) -> CompactedResponse:
        """Compact a conversation (POST `/responses/compact`): the answer's `output` stands in
        for it as the next request's `input`.

        The reference does not describe this route's body; it takes OpenAI's fields: the
        conversation as `input`, or the stored one by `previous_response_id`, or both.
        """
        if input is None and previous_response_id is None:
            raise ConfigurationError("compact() needs input=..., previous_response_id=..., or both")
        body: dict[str, Any] = {"model": self._client.provider.model_id(model)}
        if input is not None:
            body["input"] = _input(input)
        if previous_response_id is not None:
            body["previous_response_id"] = _id(previous_response_id)
        if instructions is not None:
            body["instructions"] = instructions
        if extra_body:
            body.update(extra_body)
        return await self._client.request(
            "POST", "/responses/compact", body, CompactedResponse, timeout=timeout
        )


def _id(response_id: str) -> str:
    if not response_id or not response_id.strip() or "/" in response_id or "?" in response_id:
        raise ConfigurationError(f"{response_id!r} is not a response id")
    return response_id.strip()
