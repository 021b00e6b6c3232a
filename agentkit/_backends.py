"""Which HTTP library sends the client's requests (`GrokClient(http=...)`), and how the
`transport=` and `http_client=` arguments combine with that choice.

`"httpx2"` (the default) takes any httpx2 transport or client. `"aiohttp"` opens real sockets
only, so of the httpx2 transports it takes the two that record and replay: a
`RecordingTransport` made without `inner=` records the network as aiohttp sees it (through
`RecordingBackend`, to the same cassette format), and a `ReplayTransport` answers from its
cassette in place of the network, which no HTTP library touches, so it replays the same on
either. Every other transport (the simulator's, a mock), and `http_client=`, is an httpx2
object aiohttp cannot send through: refused, saying what to do instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from ._http import (
    HTTPBackend,
    HTTPClient,
    RecordingBackend,
    RecordingTransport,
    ReplayTransport,
    Transport,
)
from .errors import ConfigurationError

if TYPE_CHECKING:
    import httpx2

__all__ = ["AIOHTTP_MISSING", "HTTP_LIBRARIES", "HTTPLibrary", "open_backend"]

HTTPLibrary = Literal["httpx2", "aiohttp"]
"""What `GrokClient(http=...)` accepts."""

HTTP_LIBRARIES: tuple[HTTPLibrary, ...] = ("httpx2", "aiohttp")

AIOHTTP_MISSING = "the aiohttp transport needs aiohttp: pip install 'agentkit[aiohttp]'"


def open_backend(
    http: str,
    *,
    timeout: float,
    transport: Transport | None,
    http_client: httpx2.AsyncClient | None,
    secrets: tuple[str, ...],
) -> HTTPBackend:
    """The backend for `http`, configured; nothing is connected yet.

    Raises:
        ConfigurationError: An unknown library, aiohttp not installed, or an httpx2 object
            given to aiohttp.
    """
    if http == "httpx2":
        return HTTPClient(timeout=timeout, transport=transport, http_client=http_client,
                          secrets=secrets)
    if http != "aiohttp":
        choices = " or ".join(repr(name) for name in HTTP_LIBRARIES)
        raise ConfigurationError(f"http= takes {choices}, got {http!r}")
    try:
        from ._aiohttp import AiohttpClient
    except ModuleNotFoundError as error:
        if (error.name or "").partition(".")[0] != "aiohttp":
            raise
        raise ConfigurationError(AIOHTTP_MISSING) from None
    if http_client is not None:
        raise ConfigurationError(
            "http_client= is an httpx2 client, which http='aiohttp' does not use: drop one"
        )
    if transport is None:
        return AiohttpClient(timeout=timeout, secrets=secrets)
    if isinstance(transport, ReplayTransport):
        return HTTPClient(timeout=timeout, transport=transport, secrets=secrets)
    if isinstance(transport, RecordingTransport) and transport.inner is None:
        return RecordingBackend(AiohttpClient(timeout=timeout, secrets=secrets),
                                transport.cassette)
    what = type(transport).__name__
    if isinstance(transport, RecordingTransport):
        what = f"a RecordingTransport of {type(transport.inner).__name__}"
    raise ConfigurationError(
        f"http='aiohttp' sends over sockets and cannot use {what}, an httpx2 transport; "
        "with aiohttp, transport= takes a RecordingTransport made without inner= (to record) "
        "or a ReplayTransport (to replay). For the simulated model over aiohttp, serve it "
        "(`agentkit serve`) and use GrokClient.openai_compatible(url, http='aiohttp'); "
        "to keep this transport, drop http="
    )
