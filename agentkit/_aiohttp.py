"""The client's requests over aiohttp instead of httpx2: `GrokClient(http="aiohttp")`.

Imported only when that is chosen, so aiohttp stays an extra. `AiohttpClient` is an
`HTTPBackend` like `_http.HTTPClient`, and says the same things when something fails: the
error classes, their wording, the outer deadline and the scrubbing of secrets all come from
`_http`. Only what aiohttp itself raises, and how it is configured, is decided here.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Mapping

import aiohttp
import anyio
import anyio.to_thread
from aiohttp.helpers import get_env_proxy_for_url
from yarl import URL

from ._deadline import Deadline
from ._http import (
    HTTPResponse,
    HTTPStream,
    bad_url_error,
    chained,
    connection_error,
    deadline_for,
    overdue_error,
    timeout_error,
)
from ._switch import check_model_request
from .errors import ConfigurationError

__all__ = ["AiohttpClient"]

# What aiohttp raises for a failed exchange. Its timeouts (`ServerTimeoutError`, and the bare
# `TimeoutError` of a total timeout) are all `TimeoutError`s.
_FAILURES = (aiohttp.ClientError, TimeoutError)
# httpx2 lets an idle pooled connection live 5 s; aiohttp's default is 15.
_KEEPALIVE_SECONDS = 5.0


_Proxy = tuple[str | None, dict[str, str] | None]


def _env_proxy(url: str) -> _Proxy:
    """The proxy the environment names for `url` (HTTP(S)_PROXY, NO_PROXY, ~/.netrc for its
    credentials), as httpx2 honours them.

    aiohttp's own `trust_env` does this lookup again, in a worker thread, for every request,
    which costs more CPU than the rest of the request; `AiohttpClient` asks once per origin
    instead, as httpx2 reads the environment once per client.
    """
    try:
        proxy, auth = get_env_proxy_for_url(URL(url))
    except LookupError:
        return None, None
    return str(proxy), {"proxy-authorization": auth.encode()} if auth is not None else None


def _translate(
    error: BaseException, method: str, url: str, secrets: tuple[str, ...]
) -> Exception:
    """The agentkit error for an aiohttp failure, worded as for httpx2."""
    if isinstance(error, TimeoutError):
        return timeout_error(method, url, type(error).__name__)
    if isinstance(error, aiohttp.InvalidURL):
        return bad_url_error(url, error, secrets)
    return connection_error(method, url, error, secrets)


def _cause(error: BaseException, secrets: tuple[str, ...]) -> BaseException | None:
    # A response error carries `request_info`, the request's headers with the API key in
    # them: chaining it would hand the key to whoever inspects the traceback's objects.
    if isinstance(error, aiohttp.ClientResponseError):
        return None
    return chained(error, secrets)


class _AiohttpStream:
    """`HTTPStream` over an aiohttp response: bytes are yielded as the socket delivers them."""

    __slots__ = ("_method", "_response", "_secrets", "_url", "headers", "status_code")

    def __init__(
        self, response: aiohttp.ClientResponse, method: str, url: str, secrets: tuple[str, ...]
    ) -> None:
        self._response = response
        self._method = method
        self._url = url
        self._secrets = secrets
        self.status_code = response.status
        self.headers: Mapping[str, str] = response.headers

    async def iter_bytes(self) -> AsyncIterator[bytes]:
        try:
            # iter_any: whatever has arrived, not fixed-size pieces that would wait to fill.
            async for chunk in self._response.content.iter_any():
                yield chunk
        except _FAILURES as error:
            raise _translate(error, self._method, self._url, self._secrets) from _cause(
                error, self._secrets
            )

    async def read(self) -> bytes:
        try:
            return await self._response.read()
        except _FAILURES as error:
            raise _translate(error, self._method, self._url, self._secrets) from _cause(
                error, self._secrets
            )

    def fully_received(self) -> bool:
        return self._response.content.at_eof()

    async def aclose(self) -> None:
        # Back to the pool when the body was read to the end; a half-read one is dropped.
        if self._response.content.at_eof():
            self._response.release()
        else:
            self._response.close()


class AiohttpClient:
    """A pooled aiohttp session behind the client's HTTP seam.

    The session (and its connector) is made at the first request, inside the running event
    loop, as aiohttp requires; `aclose()` closes it. Timeouts mirror httpx2's: `timeout` for
    every read and for waiting on the pool, `connect_timeout` (at most `timeout`) for opening a
    connection, and the client's outer deadline on the start of each response.
    """

    def __init__(
        self,
        *,
        timeout: float,
        connect_timeout: float = 10.0,
        max_connections: int = 1000,
        secrets: tuple[str, ...] = (),
    ) -> None:
        self._default_timeout = timeout
        self._connect_timeout = connect_timeout
        self._timeout = self._make_timeout(timeout)
        self._max_connections = max_connections
        self._secrets = secrets
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        self._proxies: dict[tuple[str, str], _Proxy] = {}

    def _make_timeout(self, timeout: float) -> aiohttp.ClientTimeout:
        # aiohttp's `connect` is the pool wait plus the connect, `sock_connect` the connect
        # alone: httpx2's pool and connect timeouts. No `total`: it would also bound the body
        # of a stream, which httpx2 does not.
        return aiohttp.ClientTimeout(
            connect=timeout,
            sock_connect=min(self._connect_timeout, timeout),
            sock_read=timeout,
        )

    def _open(self) -> aiohttp.ClientSession:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            raise ConfigurationError(
                "the aiohttp transport runs on asyncio only; use http='httpx2' on other "
                "event loops (trio)"
            ) from None
        session = self._session
        if session is not None:
            if loop is not self._loop:
                raise ConfigurationError(
                    "this GrokClient's aiohttp session belongs to another event loop: make "
                    "one client per event loop (or use http='httpx2')"
                )
            return session
        if self._closed:
            raise RuntimeError("Cannot send a request, as the client has been closed.")
        connector = aiohttp.TCPConnector(
            limit=self._max_connections, limit_per_host=0, keepalive_timeout=_KEEPALIVE_SECONDS
        )
        # No cookie jar: an API client has no session to keep, and the jar costs every
        # request. Proxies come from `_env_proxy`, not from aiohttp's trust_env.
        session = aiohttp.ClientSession(
            connector=connector, timeout=self._timeout, cookie_jar=aiohttp.DummyCookieJar(),
            raise_for_status=False,
        )
        self._session, self._loop = session, loop
        return session

    async def _request(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None,
        timeout: float | None,
    ) -> aiohttp.ClientResponse:
        check_model_request(method, url)
        session = self._open()
        per_request = self._timeout if timeout is None else self._make_timeout(timeout)
        scheme, _, rest = url.partition("://")
        origin = (scheme, rest.partition("/")[0])
        found = self._proxies.get(origin)
        if found is None:  # once per origin: the lookup reads files, in a worker thread
            found = self._proxies[origin] = await anyio.to_thread.run_sync(_env_proxy, url)
        proxy, proxy_headers = found
        return await session.request(
            method, url, headers=headers, data=body, timeout=per_request, allow_redirects=False,
            proxy=proxy, proxy_headers=proxy_headers,
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
        with Deadline(deadline_for(timeout if timeout is not None else self._default_timeout)):
            try:
                response = await self._request(method, url, headers, body, timeout)
                try:
                    # A body read to the end puts the connection back in the pool by itself.
                    content = await response.read()
                except BaseException:
                    response.close()  # half-read: the connection cannot be reused
                    raise
            except _FAILURES as error:
                raise _translate(error, method, url, self._secrets) from _cause(
                    error, self._secrets
                )
            return HTTPResponse(
                response.status, response.headers, content, time.perf_counter() - started
            )
        raise overdue_error(method, url)

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
        with Deadline(deadline_for(timeout if timeout is not None else self._default_timeout)):
            try:
                response = await self._request(method, url, headers, body, timeout)
            except _FAILURES as error:
                raise _translate(error, method, url, self._secrets) from _cause(
                    error, self._secrets
                )
            return _AiohttpStream(response, method, url, self._secrets)
        raise overdue_error(method, url)

    async def aclose(self) -> None:
        """Close the session and its connections; later requests fail."""
        self._closed = True
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open" if self._session else "not opened yet"
        return f"AiohttpClient(max_connections={self._max_connections}, {state})"
