"""The client's only door to httpx2: sending requests, reading streams, recording and replaying.

Everything above this module sees `HTTPBackend`, `HTTPResponse`, `HTTPStream` and agentkit's
own exceptions, never an httpx2 type, so another HTTP library can sit behind the same seam
(`_aiohttp.py`). The wording of the errors both backends raise is made here, once.
"""

from __future__ import annotations

import http.cookiejar
import os
import sys
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, Protocol

import httpx2

from ._cassette import Cassette, Interaction, ReplayMismatchError
from ._deadline import Deadline
from ._switch import check_model_request
from .errors import (
    APIConnectionError,
    APITimeoutError,
    ConfigurationError,
    redact,
)

__all__ = [
    "HTTPBackend",
    "HTTPClient",
    "HTTPResponse",
    "HTTPStream",
    "RecordingBackend",
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


class HTTPStream(Protocol):
    """A response whose body is still arriving. Close it (or read it to the end)."""

    status_code: int
    headers: Mapping[str, str]

    def iter_bytes(self) -> AsyncIterator[bytes]:
        """The body as it arrives; transport failures become agentkit errors."""
        ...

    async def read(self) -> bytes:
        """The rest of the body at once (for error responses to a streaming request)."""
        ...

    def fully_received(self) -> bool:
        """True when the rest of the body is here already: reading it will not wait. False
        when unknown."""
        ...

    async def aclose(self) -> None:
        """Release the connection."""
        ...


class HTTPBackend(Protocol):
    """What the client needs from an HTTP library: `HTTPClient` (httpx2) or `AiohttpClient`.

    Every implementation raises only agentkit errors, worded by the helpers below, so that
    retries and callers cannot tell the libraries apart.
    """

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
        ...

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
        ...

    async def aclose(self) -> None:
        """Close the pool, if this object created it."""
        ...


def timeout_error(method: str, url: str, name: str) -> APITimeoutError:
    """A request that timed out; `name` says which timeout (the library's exception name)."""
    return APITimeoutError(
        f"{method} {url} timed out ({name}); raise `timeout=` for slow models",
        method=method, url=url,
    )


def overdue_error(method: str, url: str) -> APITimeoutError:
    """A request whose response did not start within the client's own outer deadline."""
    return APITimeoutError(
        f"{method} {url} timed out (no response within the timeout); raise `timeout=` "
        "for slow models", method=method, url=url,
    )


def connection_error(
    method: str, url: str, error: BaseException, secrets: tuple[str, ...]
) -> APIConnectionError:
    """A request the network failed, quoting the library's words scrubbed of secrets."""
    name = type(error).__name__
    detail = redact(str(error), secrets) or name
    return APIConnectionError(f"{method} {url} failed: {detail} ({name})", method=method, url=url)


def bad_url_error(url: str, error: BaseException, secrets: tuple[str, ...]) -> ConfigurationError:
    """A URL the library cannot send to at all: a configuration mistake, not a failure."""
    return ConfigurationError(f"cannot send to {url!r}: {redact(str(error), secrets)}; "
                              "check base_url")


def deadline_for(timeout: float) -> float:
    """The outer bound on a response's start: the libraries enforce their timeouts per socket
    operation (and not at all on in-process transports); this holds on any of them. The second
    of grace lets the library's own, more precise timeout fire first where it applies."""
    return timeout + 1.0


def chained(error: BaseException, secrets: tuple[str, ...]) -> BaseException | None:
    """The error to chain: the original, unless its text holds a secret (tracebacks print
    the whole chain)."""
    original = str(error)
    return error if redact(original, secrets) == original else None


class _HttpxStream:
    """`HTTPStream` over an httpx2 response."""

    __slots__ = ("_chunks", "_method", "_response", "_secrets", "_url", "headers", "status_code")

    _chunks: AsyncIterator[bytes]  # the body's, from iter_bytes() on

    def __init__(
        self, response: httpx2.Response, method: str, url: str, secrets: tuple[str, ...] = ()
    ) -> None:
        self._response = response
        self._method = method
        self._url = url
        self._secrets = secrets
        self.status_code = response.status_code
        self.headers: Mapping[str, str] = response.headers

    def iter_bytes(self) -> AsyncIterator[bytes]:
        """The body as it arrives; transport failures become agentkit errors.

        The stream is its own iterator rather than an async generator: asyncio registers and
        finalizes each of those, a stream's every turn."""
        self._chunks = self._response.aiter_bytes()
        return self

    def __aiter__(self) -> _HttpxStream:
        return self

    async def __anext__(self) -> bytes:
        try:
            return await self._chunks.__anext__()
        except httpx2.HTTPError as error:
            raise _translate(error, self._method, self._url, self._secrets) from chained(
                error, self._secrets
            )

    async def read(self) -> bytes:
        """The rest of the body at once (for error responses to a streaming request)."""
        try:
            return await self._response.aread()
        except httpx2.HTTPError as error:
            raise _translate(error, self._method, self._url, self._secrets) from chained(
                error, self._secrets
            )

    def fully_received(self) -> bool:
        # httpcore2 parses what arrived only when asked to read: it cannot tell.
        return False

    async def aclose(self) -> None:
        """Release the connection."""
        await self._response.aclose()


def _translate(
    error: httpx2.HTTPError, method: str, url: str, secrets: tuple[str, ...]
) -> Exception:
    """The agentkit error for an httpx2 failure, with its text scrubbed of secrets."""
    if isinstance(error, httpx2.TimeoutException):
        return timeout_error(method, url, type(error).__name__)
    if isinstance(error, httpx2.UnsupportedProtocol | httpx2.InvalidURL):
        return bad_url_error(url, error, secrets)
    return connection_error(method, url, error, secrets)


class _NoCookies(http.cookiejar.CookieJar):
    """A jar that keeps nothing, as the aiohttp backend's: an API client has no session to
    keep, and a cookie kept would go out with every request after it."""

    def set_cookie(self, cookie: http.cookiejar.Cookie) -> None:
        pass

    def extract_cookies(self, response: Any, request: Any) -> None:
        pass


# Read-only header mappings merged once per client: a GrokClient has two (plain, streaming).
_PREPARED_HEADERS = 8


# httpcore2's pool matches each waiting request against every connection on every change:
# the work per request grows with the connections open, and at 1,000 runs in flight it is
# most of the CPU a run costs. Pools of at most this many connections keep that scan short.
_SHARD_CONNECTIONS = 32


def _env_proxies() -> bool:
    """Whether the environment names a proxy: httpx2 uses those only for a client it makes
    the transport of, so the pools are not sharded then."""
    return any(os.environ.get(name) for name in ("http_proxy", "https_proxy", "all_proxy",
                                                 "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"))


class ShardedTransport(httpx2.AsyncBaseTransport):
    """The network transport, as several connection pools taking requests in turn.

    Args:
        limits: The limits of all pools together; each pool gets its share.
    """

    def __init__(self, limits: httpx2.Limits) -> None:
        total = limits.max_connections or _SHARD_CONNECTIONS
        count = max(1, -(-total // _SHARD_CONNECTIONS))
        each = -(-total // count)
        keepalive = limits.max_keepalive_connections
        share = httpx2.Limits(
            max_connections=each,
            max_keepalive_connections=each if keepalive is None else -(-keepalive // count),
            keepalive_expiry=limits.keepalive_expiry,
        )
        # One TLS context for all: making one loads the CA bundle (over 100 ms each).
        context = httpx2.create_ssl_context()
        self.shards = tuple(
            httpx2.AsyncHTTPTransport(verify=context, limits=share) for _ in range(count)
        )
        self._next = 0

    def handle_async_request(
        self, request: httpx2.Request
    ) -> Coroutine[Any, Any, httpx2.Response]:
        # The shard's coroutine itself, for httpx2 to await: no coroutine of our own per request.
        index = self._next
        self._next = (index + 1) % len(self.shards)
        return self.shards[index].handle_async_request(request)

    async def aclose(self) -> None:
        for shard in self.shards:
            await shard.aclose()


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
        self._timeouts = self._timeout.as_dict()
        self._default_timeout = timeout
        self._connect_timeout = connect_timeout
        self._owns_client = http_client is None
        # Each read-only header mapping merged with the client's headers, once (see _merged).
        self._prepared: dict[int, tuple[Mapping[str, str], httpx2.Headers]] = {}
        if http_client is None:
            limits = httpx2.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            )
            http_client = httpx2.AsyncClient(
                transport=transport if transport is not None or _env_proxies() else (
                    ShardedTransport(limits)),
                timeout=self._timeout,
                limits=limits,
                follow_redirects=False,
                cookies=_NoCookies(),
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
        timeouts = (None if timeout is None
                    else self._make_timeout(timeout, self._connect_timeout).as_dict())
        if not self._owns_client:  # a handed-in client keeps its own timeouts and merging
            return self._client.build_request(
                method, url, headers=headers, content=body,
                extensions=None if timeouts is None else {"timeout": timeouts},
            )
        # Our own client has no base URL, query, cookies or auth to merge in, so the request
        # is made whole here: `build_request` would merge its headers into the client's one
        # at a time, at several microseconds each, for every request.
        return httpx2.Request(method, url, headers=self._merged(headers), content=body,
                              extensions={"timeout": timeouts or self._timeouts})

    def _merged(self, headers: Mapping[str, str]) -> httpx2.Headers:
        """The client's headers with `headers` over them; made once for a read-only mapping
        (the GrokClient's own), whose contents never change."""
        key = id(headers)
        prepared = self._prepared.get(key)
        if prepared is not None and prepared[0] is headers:
            return prepared[1]
        merged = httpx2.Headers(self._client.headers)
        merged.update(headers)
        if isinstance(headers, MappingProxyType) and len(self._prepared) < _PREPARED_HEADERS:
            self._prepared[key] = (headers, merged)  # held, so that its id is not reused
        return merged

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
        return _HttpxStream(response, method, url, self._secrets)

    async def _send(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None,
        timeout: float | None, *, stream: bool,
    ) -> httpx2.Response:
        if self._guarded:
            check_model_request(method, url)
        # httpx2 enforces its timeouts on network transports only; see `deadline_for`.
        with Deadline(deadline_for(timeout if timeout is not None else self._default_timeout)):
            try:
                request = self._request(method, url, headers, body, timeout)
                return await self._client.send(request, stream=stream)
            except httpx2.HTTPError as error:
                raise _translate(error, method, url, self._secrets) from chained(
                    error, self._secrets
                )
        raise overdue_error(method, url)

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


class RecordingBackend:
    """Records every exchange of another backend to a cassette: `RecordingTransport`'s job,
    one level up, for backends that take no httpx2 transport (`GrokClient(http="aiohttp",
    transport=RecordingTransport(path))`). The file is the same, so a recording made on one
    library replays on the other.
    """

    def __init__(self, inner: HTTPBackend, cassette: Cassette) -> None:
        self._inner = inner
        self._cassette = cassette

    async def send(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        body: bytes | None = None,
        timeout: float | None = None,
    ) -> HTTPResponse:
        response = await self._inner.send(method, url, headers=headers, body=body,
                                          timeout=timeout)
        self._cassette.add(Interaction.build(
            method, url, body or b"", response.status_code, dict(response.headers),
            response.content, _bearer_token(headers.get("authorization", "")),
        ))
        return response

    async def open_stream(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        body: bytes | None = None,
        timeout: float | None = None,
    ) -> HTTPStream:
        stream = await self._inner.open_stream(method, url, headers=headers, body=body,
                                               timeout=timeout)
        secret = _bearer_token(headers.get("authorization", ""))
        cassette = self._cassette

        def record(data: bytes) -> None:
            cassette.add(Interaction.build(
                method, url, body or b"", stream.status_code, dict(stream.headers), data, secret
            ))

        return _RecordedStream(stream, record)

    async def aclose(self) -> None:
        await self._inner.aclose()


class _RecordedStream:
    """A stream that hands its bytes on as they come and records them once, when it ends
    or is closed (a stream the caller abandons is recorded as far as it was read)."""

    __slots__ = ("_inner", "_parts", "_record", "headers", "status_code")

    def __init__(self, inner: HTTPStream, record: Callable[[bytes], None] | None) -> None:
        self._inner = inner
        self._record = record
        self._parts: list[bytes] = []
        self.status_code = inner.status_code
        self.headers = inner.headers

    async def iter_bytes(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner.iter_bytes():
            self._parts.append(chunk)
            yield chunk
        self._finish()

    async def read(self) -> bytes:
        data = await self._inner.read()
        self._parts.append(data)
        self._finish()
        return data

    def fully_received(self) -> bool:
        return self._inner.fully_received()

    async def aclose(self) -> None:
        try:
            await self._inner.aclose()
        finally:
            self._finish()

    def _finish(self) -> None:
        record, self._record = self._record, None
        if record is not None:
            record(b"".join(self._parts))


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

