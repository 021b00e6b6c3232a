"""Serve a `SimCore` to an httpx2 client in-process, chunk by chunk.

httpx2's own `ASGITransport` gathers a streamed body into one piece, which hides every bug that
depends on where chunks break. This transport hands each `SimChunk` to the client as its own
read, waits out the core's delays, and fails the way a dropped connection fails. It is the only
module of `agentkit.sim` that imports httpx2.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import anyio
import httpx2

from ._wire import SimChunk, SimResponse
from .core import SimCore

__all__ = ["SimTransport"]


class _ChunkStream(httpx2.AsyncByteStream):
    """A streamed body that yields each chunk separately and can break off like a socket."""

    def __init__(
        self,
        events: list[SimChunk],
        drop_after: int | None,
        sleep: Callable[[float], Awaitable[None]],
        request: httpx2.Request,
    ) -> None:
        self._events = events
        self._drop_after = drop_after
        self._sleep = sleep
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for sent, chunk in enumerate(self._events):
            if sent == self._drop_after:
                break
            if chunk.delay > 0:
                await self._sleep(chunk.delay)
            yield chunk.data
        if self._drop_after is not None:
            # What httpx2 raises when a server closes a chunked body before its last chunk.
            raise httpx2.RemoteProtocolError(
                "peer closed connection without sending complete message body "
                "(incomplete chunked read)",
                request=self._request,
            )

    async def aclose(self) -> None:
        """Nothing to release: the chunks are already in memory."""


class SimTransport(httpx2.AsyncBaseTransport):
    """An httpx2 transport answering every request from a `SimCore`, without sockets.

    Use it as `httpx2.AsyncClient(transport=SimTransport(core), base_url="https://api.x.ai")`;
    the host is irrelevant, the core sees only the path.

    Args:
        core: The simulated server; a default `SimCore()` when None.
        sleep: Awaited for each delay the core asks for; pass a fake to record delays
            without waiting.
    """

    def __init__(
        self,
        core: SimCore | None = None,
        *,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
    ) -> None:
        self.core = core if core is not None else SimCore()
        self._sleep = sleep

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        """Answer `request` from the core, honouring its delays and dropped connections.

        Raises:
            httpx2.RemoteProtocolError: The core asked to drop the connection.
        """
        body = await request.aread()
        response: SimResponse = self.core.handle(
            request.method, request.url.raw_path.decode("ascii"), request.headers, body
        )
        if response.first_byte_delay > 0:
            await self._sleep(response.first_byte_delay)
        headers = list(response.headers.items())
        if response.events is None:
            if response.drop_after is not None:
                raise httpx2.RemoteProtocolError(
                    "Server disconnected without sending a response.", request=request
                )
            return httpx2.Response(
                response.status, headers=headers, content=response.body, request=request
            )
        stream = _ChunkStream(response.events, response.drop_after, self._sleep, request)
        return httpx2.Response(response.status, headers=headers, stream=stream, request=request)
