"""The client's only door to httpx2: sending requests, reading streams, recording and replaying.

Everything above this module sees `HTTPResponse`, `HTTPStream` and agentkit's own exceptions,
never an httpx2 type, so the HTTP library can be replaced here alone.
"""

from __future__ import annotations

import sys
import time
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

import anyio
import httpx2

from ._cassette import Cassette, Interaction, ReplayMismatchError
from ._switch import check_model_request
from .errors import (
    APIConnectionError,
    APITimeoutError,
    ConfigurationError,
    redact,
)

__all__ = [
    "HTTPClient",
    "HTTPResponse",
    "HTTPStream",
    "RecordingTransport",
    "ReplayMismatchError",
    "ReplayTransport",
    "Transport",
    "reaches_network",
]

Transport = httpx2.AsyncBaseTransport
"""What `GrokClient(transport=...)` accepts: any httpx2 async transport."""


def reaches_network(transport: Transport | None) -> bool:
    """Whether requests through `transport` may leave the process.

    In-process transports (the simulator's, a replay, httpx2's mock and ASGI transports)
    never do, nor does a recording of one; the default network transport, and any transport
    agentkit does not know, may.
    """
    if transport is None:
        return True
    if isinstance(transport, RecordingTransport):
        return reaches_network(transport.inner)
    if isinstance(transport, ReplayTransport | httpx2.MockTransport | httpx2.ASGITransport):
        return False
    # Only a loaded simulator can have made a SimTransport; this module does not import it.
    sim = sys.modules.get("agentkit.sim.transport")
    return sim is None or not isinstance(transport, sim.SimTransport)


class HTTPResponse:
    """A whole response: status, headers (case-insensitive) and body bytes."""

    __slots__ = ("content", "elapsed", "headers", "status_code")

    def __init__(
        self, status_code: int, headers: Mapping[str, str], content: bytes, elapsed: float
    ) -> None:
        self.status_code = status_code
        self.headers = headers
        self.content = content
        self.elapsed = elapsed


class HTTPStream:
    """A response whose body is still arriving. Close it (or read it to the end)."""

    __slots__ = ("_method", "_response", "_secrets", "_url", "headers", "status_code")

    def __init__(
        self, response: httpx2.Response, method: str, url: str, secrets: tuple[str, ...] = ()
    ) -> None:
        self._response = response
        self._method = method
        self._url = url
        self._secrets = secrets
        self.status_code = response.status_code
        self.headers: Mapping[str, str] = response.headers

    async def iter_bytes(self) -> AsyncIterator[bytes]:
        """The body as it arrives; transport failures become agentkit errors."""
        try:
            async for chunk in self._response.aiter_bytes():
                yield chunk
        except httpx2.HTTPError as error:
            raise _translate(error, self._method, self._url, self._secrets) from _cause(
                error, self._secrets
            )

    async def read(self) -> bytes:
        """The rest of the body at once (for error responses to a streaming request)."""
        try:
            return await self._response.aread()
        except httpx2.HTTPError as error:
            raise _translate(error, self._method, self._url, self._secrets) from _cause(
                error, self._secrets
            )

    async def aclose(self) -> None:
        """Release the connection."""
        await self._response.aclose()


def _translate(
    error: httpx2.HTTPError, method: str, url: str, secrets: tuple[str, ...]
) -> Exception:
    """The agentkit error for an httpx2 failure, with its text scrubbed of secrets."""
    name = type(error).__name__
    if isinstance(error, httpx2.TimeoutException):
        translated: Exception = APITimeoutError(
            f"{method} {url} timed out ({name}); raise `timeout=` for slow models",
            method=method, url=url,
        )
    elif isinstance(error, httpx2.UnsupportedProtocol | httpx2.InvalidURL):
        translated = ConfigurationError(f"cannot send to {url!r}: {redact(str(error), secrets)}; "
                                        "check base_url")
    else:
        detail = redact(str(error), secrets) or name
        translated = APIConnectionError(
            f"{method} {url} failed: {detail} ({name})", method=method, url=url
        )
    return translated


def _cause(error: httpx2.HTTPError, secrets: tuple[str, ...]) -> BaseException | None:
    """The error to chain: the original, unless its text holds a secret (tracebacks print
    the whole chain)."""
    original = str(error)
    return error if redact(original, secrets) == original else None


class HTTPClient:
    """A pooled async HTTP client; owns the httpx2 client unless one was handed in."""

    def __init__(
        self,
        *,
        timeout: float,
        connect_timeout: float = 10.0,
        transport: Transport | None = None,
        http_client: httpx2.AsyncClient | None = None,
        max_connections: int = 1000,
        secrets: tuple[str, ...] = (),
    ) -> None:
        if transport is not None and http_client is not None:
            raise ConfigurationError("pass either transport= or http_client=, not both")
        # An http_client's transport is its own business: assume it reaches the network.
        self._guarded = http_client is not None or reaches_network(transport)
        self._timeout = self._make_timeout(timeout, connect_timeout)
        self._default_timeout = timeout
        self._connect_timeout = connect_timeout
        self._owns_client = http_client is None
        if http_client is None:
            http_client = httpx2.AsyncClient(
                transport=transport,
                timeout=self._timeout,
                limits=httpx2.Limits(
                    max_connections=max_connections,
                    max_keepalive_connections=min(max_connections, 200),
                ),
                follow_redirects=False,
            )
        self._client = http_client
        self._secrets = secrets

    @staticmethod
    def _make_timeout(timeout: float, connect_timeout: float) -> httpx2.Timeout:
        return httpx2.Timeout(timeout, connect=min(connect_timeout, timeout))

    def _request(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None,
        timeout: float | None,
    ) -> httpx2.Request:
        extensions = None
        if timeout is not None:
            extensions = {"timeout": self._make_timeout(timeout, self._connect_timeout).as_dict()}
        return self._client.build_request(
            method, url, headers=headers, content=body, extensions=extensions
        )

    async def send(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        body: bytes | None = None,
        timeout: float | None = None,
    ) -> HTTPResponse:
        """Send a request and read the whole response."""
        started = time.perf_counter()
        response = await self._send(method, url, headers, body, timeout, stream=False)
        return HTTPResponse(
            response.status_code, response.headers, response.content,
            time.perf_counter() - started,
        )

    async def open_stream(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        body: bytes | None = None,
        timeout: float | None = None,
    ) -> HTTPStream:
        """Send a request and return as soon as the headers are in."""
        response = await self._send(method, url, headers, body, timeout, stream=True)
        return HTTPStream(response, method, url, self._secrets)

    async def _send(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None,
        timeout: float | None, *, stream: bool,
    ) -> httpx2.Response:
        if self._guarded:
            check_model_request(method, url)
        # httpx2 enforces its timeouts per socket operation on network transports only; this
        # outer bound holds on any transport (in-process, mock, a custom one). The second of
        # grace lets httpx2's own, more precise timeout fire first where it applies.
        deadline = (timeout if timeout is not None else self._default_timeout) + 1.0
        with anyio.move_on_after(deadline):
            try:
                request = self._request(method, url, headers, body, timeout)
                return await self._client.send(request, stream=stream)
            except httpx2.HTTPError as error:
                raise _translate(error, method, url, self._secrets) from _cause(
                    error, self._secrets
                )
        raise self._overdue(method, url)

    @staticmethod
    def _overdue(method: str, url: str) -> APITimeoutError:
        return APITimeoutError(
            f"{method} {url} timed out (no response within the timeout); raise `timeout=` "
            "for slow models", method=method, url=url,
        )

    async def aclose(self) -> None:
        """Close the pool, if this object created it."""
        if self._owns_client:
            await self._client.aclose()


class RecordingTransport(httpx2.AsyncBaseTransport):
    """Records every exchange to a JSON cassette while passing it through to `inner`.

    `GrokClient(transport=RecordingTransport(path))` records the real API (the network when
    `inner` is None); `GrokClient.simulated(transport=RecordingTransport(path))` records the
    simulated model, offline. The file has the format of the conformance corpus (one object
    per exchange, under `"interactions"`), rewritten after each exchange. Request headers are
    never written, response headers are cut to an allow-list, and the bearer token of each
    request is scrubbed from everything written.
    """

    def __init__(self, path: str | Path, inner: Transport | None = None) -> None:
        self._cassette = Cassette(Path(path))
        self._inner = inner

    @property
    def cassette(self) -> Cassette:
        """The recorded exchanges so far."""
        return self._cassette

    @property
    def inner(self) -> Transport | None:
        """What is recorded: the transport given, the simulator once `GrokClient.simulated()`
        has been handed this recorder, or None for the network (opened at the first request)."""
        return self._inner

    def _attach(self, inner: Transport) -> None:
        """Record `inner` (the simulator's transport), if no inner transport was given."""
        if self._inner is not None:
            raise ConfigurationError(
                f"this RecordingTransport already records {type(self._inner).__name__}: "
                "GrokClient.simulated(transport=...) takes one made without inner=, to record "
                "the simulator; to record another transport, pass it to GrokClient(transport=...)"
            )
        self._inner = inner

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        body = await request.aread()
        secret = _bearer_token(request.headers.get("authorization", ""))
        if self._inner is None:
            self._inner = httpx2.AsyncHTTPTransport()
        response = await self._inner.handle_async_request(request)
        content_type = response.headers.get("content-type", "")
        method, url = request.method, str(request.url)
        response_headers = dict(response.headers)
        status = response.status_code
        # The body is handed on decoded, so its encoding and length headers no longer hold.
        passed_headers = [
            (k, v) for k, v in response.headers.multi_items()
            if k.lower() not in ("content-encoding", "content-length", "transfer-encoding")
        ]
        if "text/event-stream" not in content_type:
            data = await response.aread()
            await response.aclose()
            self._cassette.add(
                Interaction.build(method, url, body, status, response_headers, data, secret)
            )
            return httpx2.Response(
                status, headers=passed_headers, content=data, request=request,
                extensions=response.extensions,
            )
        cassette = self._cassette

        async def tee() -> AsyncIterator[bytes]:
            parts: list[bytes] = []
            try:
                async for chunk in response.aiter_bytes():
                    parts.append(chunk)
                    yield chunk
            finally:
                await response.aclose()
                cassette.add(
                    Interaction.build(method, url, body, status, response_headers,
                                      b"".join(parts), secret)
                )

        return httpx2.Response(
            status, headers=passed_headers, stream=_AsyncStream(tee()), request=request,
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        if self._inner is not None:
            await self._inner.aclose()


class ReplayTransport(httpx2.AsyncBaseTransport):
    """Answers requests from a cassette (or a single conformance file), in recorded order.

    Args:
        source: A cassette file, a conformance file, or a loaded `Cassette`.
        chunk_size: Cut event-stream bodies into pieces of this many bytes (None: one piece),
            to test stream handling against awkward network reads.
        check_order: Require requests in recorded order (default); when False, the first
            unused exchange with the same method and path answers.
    """

    def __init__(
        self,
        source: str | Path | Cassette,
        *,
        chunk_size: int | None = None,
        check_order: bool = True,
    ) -> None:
        self._cassette = source if isinstance(source, Cassette) else Cassette.load(Path(source))
        self._chunk_size = chunk_size
        self._check_order = check_order
        self._used: set[int] = set()

    @property
    def remaining(self) -> int:
        """Exchanges not replayed yet."""
        return len(self._cassette.interactions) - len(self._used)

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        await request.aread()
        index = self._cassette.find(
            request.method, request.url.path, used=self._used, in_order=self._check_order
        )
        self._used.add(index)
        interaction = self._cassette.interactions[index]
        status, headers, body = interaction.response_bytes()
        if interaction.is_stream and self._chunk_size:
            size = self._chunk_size
            pieces = [body[i : i + size] for i in range(0, len(body), size)]
            return httpx2.Response(
                status, headers=headers, stream=_AsyncStream(_iterate(pieces)), request=request
            )
        return httpx2.Response(status, headers=headers, content=body, request=request)


async def _iterate(pieces: list[bytes]) -> AsyncIterator[bytes]:
    for piece in pieces:
        yield piece


class _AsyncStream(httpx2.AsyncByteStream):
    def __init__(self, iterator: AsyncIterator[bytes]) -> None:
        self._iterator = iterator

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._iterator:
            yield chunk

    async def aclose(self) -> None:
        aclose = getattr(self._iterator, "aclose", None)
        if aclose is not None:
            await aclose()


def _bearer_token(header: str) -> str:
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else header.strip()

