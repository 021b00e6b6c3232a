"""Streams that own their HTTP response: SSE bytes -> typed chunks -> (for chat) one message."""

from __future__ import annotations

import contextlib
import json
from collections import deque
from collections.abc import AsyncIterator, Callable
from types import TracebackType
from typing import Any, Generic, Self, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import SchemaValidator

from .._accumulate import ChatAccumulator
from .._deadline import Deadline
from .._http import HTTPStream
from .._sse import ServerSentEvent, SSEDecoder
from ..errors import (
    APIConnectionError,
    APIResponseValidationError,
    embedded_status,
    make_status_error,
)
from ..types.chat import ChatCompletion, ChatCompletionChunk
from ..types.endpoints import Completion

__all__ = ["AsyncStream", "ChatStream", "CompletionStream"]

ItemT = TypeVar("ItemT", bound=BaseModel)
_T = TypeVar("_T")

_DRAIN_SECONDS = 0.5


class AsyncStream(Generic[ItemT]):
    """An async iterator of typed events read from one streaming response.

    It owns the response: reading to the end, `aclose()`, or leaving `async with` releases
    the connection. Errors sent inside the stream raise `APIStreamError`; a stream cut before
    it finished raises `APIConnectionError`.
    """

    _item_type: type[ItemT]

    def __init__(self, response: HTTPStream, *, secrets: tuple[str, ...] = ()) -> None:
        self._response = response
        self._secrets = secrets
        self._decoder = SSEDecoder()
        self._validate_json = _json_validator(self._item_type)
        # Events decoded and not parsed yet, items parsed and not handed out yet (`_prime`'s).
        # Events are parsed one at a time, as they are handed out: an error event raises only
        # once the items before it have been read.
        self._events: deque[ServerSentEvent] = deque()
        self._buffered: deque[ItemT] = deque()
        self._chunks: AsyncIterator[bytes] | None = None  # the body, opened at the first read
        self._done = False  # [DONE] was read
        self._ended = False  # the body was read to its end
        self._finished = False  # the last item was handed out
        self._closed = False

    async def _prime(self) -> None:
        """Read up to the first event before handing the stream out, so that a failure that
        happens before anything was yielded can still be retried."""
        with contextlib.suppress(StopAsyncIteration):
            self._buffered.append(await self._next_item())

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> ItemT:
        if self._buffered:
            item = self._buffered.popleft()
        else:
            try:
                # Most items come from an event the last network read already brought.
                parsed = None
                if self._events and not self._closed:
                    parsed = self._parse(self._events.popleft())
                item = parsed if parsed is not None else await self._next_item()
            except BaseException:
                await self.aclose()
                raise
        self._on_item(item)
        return item

    # What a complete stream ends with, named in the error when it is missing.
    _ENDING_MISSING = "no [DONE] and no finish_reason"

    def _on_item(self, item: ItemT) -> None:
        """Hook for subclasses that fold items into a result."""

    def _is_complete(self) -> bool:
        return self._done

    async def _next_item(self) -> ItemT:
        """The next item, read from the body as far as needed; StopAsyncIteration at the end."""
        return await self._next(self._parse)

    async def _next(self, convert: Callable[[ServerSentEvent], _T | None]) -> _T:
        """The next event `convert` makes something of (it returns None to go on), read from
        the body as far as needed; StopAsyncIteration at the end.

        One method rather than a chain of async generators: an item costs one call here,
        whatever the number of network reads and events it took.
        """
        if self._finished or self._closed:
            raise StopAsyncIteration
        events = self._events
        while True:
            if self._done:  # what follows [DONE] is not read
                events.clear()
                self._finished = True
                await self._drain()
                raise StopAsyncIteration
            if events:
                item = convert(events.popleft())
                if item is not None:
                    return item
                continue
            if self._ended:
                self._finished = True
                if not self._is_complete():
                    raise APIConnectionError(
                        "the event stream ended before the response was complete "
                        f"({self._ENDING_MISSING}): the connection was cut or the server failed"
                    )
                raise StopAsyncIteration
            chunks = self._chunks
            if chunks is None:
                chunks = self._chunks = self._response.iter_bytes().__aiter__()
            try:
                raw = await chunks.__anext__()
            except StopAsyncIteration:
                self._ended = True
                events.extend(self._decoder.flush())
                continue
            events.extend(self._decoder.feed(raw))

    async def _drain(self) -> None:
        """Read the few bytes after [DONE] to the end of the body: a response closed early
        loses its keep-alive connection. A server that keeps the stream open after [DONE]
        gets a moment, then the connection is dropped instead of waited on."""
        chunks = self._chunks
        if chunks is None or self._ended:
            return
        if self._response.fully_received():  # nothing to wait for: no deadline to set
            async for _ in chunks:
                pass
            self._ended = True
            return
        with Deadline(_DRAIN_SECONDS):
            async for _ in chunks:
                pass
            self._ended = True

    def _parse(self, event: ServerSentEvent) -> ItemT | None:
        data = event.data
        if data == "[DONE]":
            self._done = True
            return None
        if event.event == "error":
            raise _stream_error(_loads_or_text(data), self._secrets)
        if '"error"' in data:
            payload = _loads_or_text(data)
            if isinstance(payload, dict) and payload.get("error"):
                raise _stream_error(payload, self._secrets)
        try:
            if self._validate_json is not None:
                item: ItemT = self._validate_json(data)
                return item
            return self._item_type.model_validate_json(data)
        except ValidationError as error:
            raise APIResponseValidationError(
                f"a stream event is not a valid {self._item_type.__name__}: "
                f"{_first_error(error)}; event data: {data[:200]!r}",
                status_code=200,
                body=data,
            ) from None

    async def aclose(self) -> None:
        """Stop reading and release the connection."""
        if self._closed:
            return
        self._closed = True
        await self._response.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


class ChatStream(AsyncStream[ChatCompletionChunk]):
    """A streamed chat completion that also assembles the final answer as it goes.

    ```python
    async with await client.chat.completions.create(..., stream=True) as stream:
        async for chunk in stream:
            print(chunk.choices[0].delta.content or "", end="")
        completion = await stream.final()
    ```
    """

    _item_type = ChatCompletionChunk

    def __init__(self, response: HTTPStream, *, secrets: tuple[str, ...] = ()) -> None:
        super().__init__(response, secrets=secrets)
        self._accumulator = ChatAccumulator()

    def _on_item(self, item: ChatCompletionChunk) -> None:
        self._accumulator.add(item)

    def _is_complete(self) -> bool:
        return self._done or self._accumulator.finished

    def current(self) -> ChatCompletion:
        """The answer assembled from the chunks read so far."""
        return self._accumulator.completion()

    async def final(self) -> ChatCompletion:
        """Read the rest of the stream and return the whole answer, as a non-streamed call
        would have: text, reasoning, every tool call with its full arguments, usage."""
        accumulator = self._accumulator
        while self._buffered:
            accumulator.add(self._buffered.popleft())
        # Nobody will see the chunks left: each is folded as it is parsed, not handed out
        # (`_fold` makes nothing of an event, so `_next` reads to the end).
        try:
            await self._next(self._fold)
        except StopAsyncIteration:
            pass
        except BaseException:
            await self.aclose()
            raise
        return accumulator.completion()

    def _fold(self, event: ServerSentEvent) -> None:
        """Fold the event into the answer; None, so that `_next` reads on to the end."""
        item = self._parse(event)
        if item is not None:
            self._accumulator.add(item)


class CompletionStream(AsyncStream[Completion]):
    """A streamed legacy text completion; each item carries a piece of `choices[0].text`."""

    _item_type = Completion

    def __init__(self, response: HTTPStream, *, secrets: tuple[str, ...] = ()) -> None:
        super().__init__(response, secrets=secrets)
        self._finished = False

    def _on_item(self, item: Completion) -> None:
        if any(choice.finish_reason for choice in item.choices):
            self._finished = True

    def _is_complete(self) -> bool:
        return self._done or self._finished


def _json_validator(model: type[BaseModel]) -> Callable[[str], Any] | None:
    """What `model.model_validate_json` calls, to call it without the classmethod's own
    overhead (a stream parses one chunk per token); None while the model's schema is not
    built (its first `model_validate_json` builds it)."""
    validator = getattr(model, "__pydantic_validator__", None)
    return validator.validate_json if isinstance(validator, SchemaValidator) else None


def _loads_or_text(data: str) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        return data


def _stream_error(payload: Any, secrets: tuple[str, ...]) -> Exception:
    return make_status_error(embedded_status(payload, 200), payload, stream_event=True,
                             secrets=secrets)


def _first_error(error: ValidationError) -> str:
    first = error.errors()[0]
    location = ".".join(str(part) for part in first["loc"]) or "(body)"
    return f"{location}: {first['msg']}"
