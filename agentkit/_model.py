"""The model seam: what the agent loop talks to (`ChatModel`), and its `GrokClient` implementation.

The loop sends a request dict and gets a `ChatCompletion`, or a `StreamedResponse` of chunks.
`ClientModel` wraps a `GrokClient`; `testing.ScriptedModel` answers from a script.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol

from .errors import APIError
from .pricing import Pricer
from .types.chat import ChatCompletion, ChatCompletionChunk

if TYPE_CHECKING:
    from .client import GrokClient

__all__ = ["ChatModel", "ClientModel", "RetryHook", "StreamedResponse"]


RetryHook = Callable[[APIError], None]
"""Told of each failed attempt that the client will send again."""


class StreamedResponse(Protocol):
    """A streamed completion: chunks as they come, then the assembled answer."""

    def __aiter__(self) -> AsyncIterator[ChatCompletionChunk]: ...

    async def final(self) -> ChatCompletion:
        """Read what is left and return the whole completion."""
        ...


class ChatModel(Protocol):
    """What the loop talks to. `ClientModel` wraps a `GrokClient`; `testing.ScriptedModel`
    answers from a script. A request is the body of a chat-completion request, as a dict
    (`model`, `messages`, `tools`, `response_format`, settings...) without `stream`."""

    async def complete(
        self, request: Mapping[str, Any], *, on_retry: RetryHook | None = None
    ) -> ChatCompletion:
        """Answer one request; call `on_retry` for each failed attempt that is sent again."""
        ...

    def stream(
        self, request: Mapping[str, Any], *, on_retry: RetryHook | None = None
    ) -> AbstractAsyncContextManager[StreamedResponse]:
        """Answer one request as a stream; leaving the context releases it."""
        ...


class ClientModel:
    """The `ChatModel` of a `GrokClient`: `chat.completions.create`, streamed or not.

    Args:
        client: The client; it is not closed by this wrapper.
    """

    def __init__(self, client: GrokClient) -> None:
        self.client = client
        self.pricer = Pricer(client.price_catalog)
        """Prices a response the server did not price (the loop asks it)."""
        # Typed loosely: the request dict is spread into create()'s keyword options.
        self._create: Callable[..., Awaitable[Any]] = client.chat.completions.create

    async def complete(
        self, request: Mapping[str, Any], *, on_retry: RetryHook | None = None
    ) -> ChatCompletion:
        """Send the request and return the completion."""
        completion: ChatCompletion = await self._create(**request, on_retry=on_retry)
        return completion

    def stream(
        self, request: Mapping[str, Any], *, on_retry: RetryHook | None = None
    ) -> AbstractAsyncContextManager[StreamedResponse]:
        """Send the request with `stream=True`; the `ChatStream` is closed on exit."""
        return _OpenedStream(self._create, request, on_retry)

    def __repr__(self) -> str:
        return f"ClientModel({self.client!r})"


class _OpenedStream:
    """`ClientModel.stream`'s context: the request goes out on entry, the stream is closed on
    exit. (What `@asynccontextmanager` would do, without an async generator per request.)"""

    __slots__ = ("_create", "_on_retry", "_request", "_stream")

    def __init__(
        self, create: Callable[..., Awaitable[Any]], request: Mapping[str, Any],
        on_retry: RetryHook | None,
    ) -> None:
        self._create = create
        self._request = request
        self._on_retry = on_retry
        self._stream: Any = None

    async def __aenter__(self) -> StreamedResponse:
        self._stream = await self._create(**self._request, stream=True, on_retry=self._on_retry)
        stream: StreamedResponse = self._stream
        return stream

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._stream.aclose()
