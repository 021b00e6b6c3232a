"""A real HTTP/1.1 server for a `SimCore`, on loopback, with no dependency beyond anyio.

Keep-alive, `Content-Length` bodies, `Transfer-Encoding: chunked` streams (each event written
and flushed on its own), `Connection: close`, `Expect: 100-continue`. Streams carry the core's
delays and break off where it says, as a dropped connection would. Request headers are never
logged: they carry the API key.

Run it from a shell with `python -m agentkit.sim --port 8000`, from async code with
`await serve(core)`, or from tests and benchmarks with `with run_in_thread(core) as base_url:`.

Every resource a client can make it hold is bounded (`ServerLimits`, passed as `limits=`):
connections at once (503 beyond), the time and bytes of a request head (408, 431) and body
(408, 413, refused before reading when Content-Length is too big), and the time a write may
wait for a client that does not read. A client that closes or resets mid-request or
mid-stream ends its connection quietly. `ServerStats` counts what was shed and what is open.

The server speaks plain HTTP only. A client that opens with a TLS handshake (an `https://`
base URL) is answered at once with a plain-text 400 saying to use `http://`, and closed:
its TLS layer then fails on the spot, instead of waiting out the head timeout for a request
line that a TLS client never sends.
"""

from __future__ import annotations

import argparse
import ipaddress
import logging
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from contextlib import AbstractContextManager, contextmanager, suppress
from functools import partial
from http import HTTPStatus
from types import TracebackType
from typing import Any

import anyio
from anyio.abc import SocketAttribute, SocketListener, SocketStream, TaskGroup, TaskStatus
from anyio.from_thread import BlockingPortal, start_blocking_portal
from anyio.streams.buffered import BufferedByteReceiveStream

from .._server_limits import ServerLimits, ServerStats, add_limit_arguments, limits_from_arguments
from ..errors import ConfigurationError
from ._ratelimit import SimRateLimits
from ._wire import Code, SimResponse, error_response
from .core import SimCore

__all__ = ["RunningServer", "ServerLimits", "ServerStats", "main", "run_in_thread", "serve"]

logger = logging.getLogger(__name__)

_LINGER_SECONDS = 1.0
_LINGER_BYTES = 1024 * 1024
_MAX_CHUNK_LINE = 1024
# 19 digits hold any size a 64-bit length can; a longer Content-Length is too large anyway,
# and int() on thousands of digits is slow (or refused by Python's digit limit).
_MAX_LENGTH_DIGITS = 19
# A shed connection gets one small write into a fresh, empty socket buffer, which does not
# wait in practice; this bounds it if it ever does.
_SHED_SECONDS = 1.0
# Pauses after a failed accept (out of descriptors): the listener stays readable, so
# retrying at once would spin; doubling up to half a second resumes soon after fds free up.
_ACCEPT_RETRY_FIRST = 0.01
_ACCEPT_RETRY_MAX = 0.5
_SERVER = "agentkit-sim"
# The first byte of every TLS record that opens a connection (a handshake record holding the
# ClientHello); no HTTP request line starts with it.
_TLS_HANDSHAKE = 0x16
_DISCONNECTS = (
    anyio.BrokenResourceError,
    anyio.ClosedResourceError,
    anyio.EndOfStream,
    anyio.IncompleteRead,
    ConnectionError,
)


class _BadRequest(Exception):
    """A request this server cannot parse; answered with `status` and the connection closed."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class _Stalled(Exception):
    """A write waited longer than the send timeout: the client stopped reading."""


class _SpeaksTLS(Exception):
    """The client opened with a TLS handshake: it was given an https:// URL for this server."""


def _plain_http_answer(address: Any) -> bytes:
    """The 400 for a TLS client, naming the URL it should have used (the address it reached)."""
    host, port = str(address[0]), int(address[1])
    netloc = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    body = (
        f"this server speaks plain HTTP; use http://{netloc}/v1 (http://, not https://)\n"
    ).encode()
    headers = {"content-type": "text/plain; charset=utf-8"}
    return _head(400, headers, f"content-length: {len(body)}", keep_alive=False) + body


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def _head(status: int, headers: dict[str, str], framing: str | None, keep_alive: bool) -> bytes:
    lines = [f"HTTP/1.1 {status} {_reason(status)}", f"server: {_SERVER}"]
    lines.extend(f"{name}: {value}" for name, value in headers.items())
    if framing is not None:
        lines.append(framing)
    if not keep_alive:
        lines.append("connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _parse_head(head: bytes) -> tuple[str, str, str, dict[str, str]]:
    lines = head.lstrip(b"\r\n").split(b"\r\n")
    parts = lines[0].decode("latin-1").split(" ")
    if (
        len(parts) != 3
        or not parts[0].isalpha()
        or not parts[1]
        or parts[2] not in ("HTTP/1.1", "HTTP/1.0")
    ):
        raise _BadRequest(400, "Malformed request line.")
    method, target, version = parts
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if not colon or not name or name != name.strip():
            raise _BadRequest(400, "Malformed header line.")
        key = name.decode("latin-1").lower()
        text = value.strip().decode("latin-1")
        headers[key] = f"{headers[key]}, {text}" if key in headers else text
    return method, target, version, headers


def _busy_answer() -> bytes:
    response = error_response(
        503, "The simulated server is at its connection limit.", Code.UNAVAILABLE
    )
    headers = {**response.headers, "retry-after": "1"}
    framing = f"content-length: {len(response.body)}"
    return _head(503, headers, framing, keep_alive=False) + response.body


_BUSY = _busy_answer()


async def _receive_until(
    reader: BufferedByteReceiveStream, delimiter: bytes, max_bytes: int
) -> bytes:
    """`reader.receive_until`, with `max_bytes` a bound on the result and its delimiter.

    anyio checks its limit only before each read, so one read that carries the buffer past
    the limit and also holds the delimiter returns a line longer than allowed; whether a
    70 KB head was refused then depended on how the kernel split it.

    Raises:
        anyio.DelimiterNotFound: No delimiter within `max_bytes`.
    """
    line = await reader.receive_until(delimiter, max_bytes)
    if len(line) + len(delimiter) > max_bytes:
        raise anyio.DelimiterNotFound(max_bytes)
    return line


async def _read_chunked(
    reader: BufferedByteReceiveStream, max_body: int, max_trailers: int
) -> bytes:
    body = bytearray()
    while True:
        try:
            size_line = await _receive_until(reader, b"\r\n", _MAX_CHUNK_LINE)
        except anyio.DelimiterNotFound:
            raise _BadRequest(400, "Malformed chunk size.") from None
        digits = size_line.split(b";", 1)[0].strip()
        # int(..., 16) also takes signs, "0x" and underscores, none of which HTTP allows.
        if not digits or digits.strip(b"0123456789abcdefABCDEF"):
            raise _BadRequest(400, "Malformed chunk size.")
        size = int(digits, 16)
        if size == 0:
            # Trailers, if any, end with an empty line; they are read and dropped, so only
            # their total size needs a bound.
            trailers = 0
            try:
                while line := await _receive_until(reader, b"\r\n", max_trailers):
                    trailers += len(line) + 2
                    if trailers > max_trailers:
                        raise _BadRequest(431, "Request trailer fields too large.")
            except anyio.DelimiterNotFound:
                raise _BadRequest(431, "Request trailer fields too large.") from None
            return bytes(body)
        # Refused on the declared size, before any byte of a chunk that would cross it.
        if len(body) + size > max_body:
            raise _BadRequest(413, "Request body too large.")
        body += await reader.receive_exactly(size)
        if await reader.receive_exactly(2) != b"\r\n":
            raise _BadRequest(400, "Malformed chunk.")


class _Connection:
    """One client connection: requests in order, answered one at a time."""

    def __init__(
        self, core: SimCore, stream: SocketStream, limits: ServerLimits, stats: ServerStats
    ) -> None:
        self.core = core
        self.stream = stream
        self.limits = limits
        self.stats = stats
        self.reader = BufferedByteReceiveStream(stream)

    async def run(self) -> None:
        first = True
        while True:
            try:
                head = await self._read_head(first)
                if head is None:
                    return
                method, target, version, headers = _parse_head(head)
                body = await self._read_body(headers)
            except _BadRequest as exc:
                await self._refuse(exc.status, str(exc))
                return
            except _SpeaksTLS:
                self.stats._rejected_one()
                logger.info("a client opened a TLS handshake; answered that this is plain HTTP")
                address = self.stream.extra(SocketAttribute.local_address)
                await self._write(_plain_http_answer(address))
                await self._linger()
                return
            first = False
            connection = headers.get("connection", "").lower()
            if version == "HTTP/1.1":
                keep_alive = "close" not in connection
            else:
                keep_alive = "keep-alive" in connection
            path = target.split("?", 1)[0]
            try:
                response = self.core.handle(method, target, headers, body)
            except Exception:
                # Headers stay out of the log: they carry the API key.
                logger.exception("the simulated model failed on %s %s", method, path)
                response = error_response(
                    500, "The simulated model raised an exception.", Code.INTERNAL
                )
            logger.debug("%s %s -> %d", method, path, response.status)
            if not await self._send(response, keep_alive, chunked=version == "HTTP/1.1"):
                return

    async def _read_head(self, first: bool) -> bytes | None:
        """The next request's head; None when the client closed or left the connection idle.

        Raises:
            _BadRequest: 431 for a head over the size limit, 408 for one that began but did
                not end within the head timeout (a slowloris client).
            _SpeaksTLS: The connection opened with a TLS handshake record.
        """
        limits = self.limits
        if not first and not self.reader.buffer:
            # Between requests a client may wait as long as keep-alive allows; the head
            # deadline starts with the first byte of the next one.
            with anyio.move_on_after(limits.keep_alive_timeout):
                try:
                    self.reader.feed_data(await self.stream.receive())
                except anyio.EndOfStream:
                    return None
            if not self.reader.buffer:
                return None  # idle too long: keep-alive lets a server close without a word
        with anyio.move_on_after(limits.head_timeout):
            try:
                if first and not self.reader.buffer:
                    # The first bytes on their own, under the same deadline, so that a TLS
                    # ClientHello (which never holds a CRLF CRLF) is known at once.
                    try:
                        self.reader.feed_data(await self.stream.receive())
                    except anyio.EndOfStream:
                        return None
                    if self.reader.buffer[0] == _TLS_HANDSHAKE:
                        raise _SpeaksTLS
                return await _receive_until(self.reader, b"\r\n\r\n", limits.max_head_bytes)
            except anyio.IncompleteRead:
                if self.reader.buffer:
                    self.stats._disconnected()
                return None  # closed mid-head: nobody is left to answer
            except anyio.DelimiterNotFound:
                raise _BadRequest(431, "Request header fields too large.") from None
        if not self.reader.buffer:
            # Connected and never said a word: there is no request to answer.
            self.stats._timed_out()
            return None
        raise _BadRequest(408, "The request head did not arrive in time.")

    async def _read_body(self, headers: dict[str, str]) -> bytes:
        limits = self.limits
        size: int | None = None  # None: chunked, the length known only at its end
        encoding = headers.get("transfer-encoding")
        if encoding is not None:
            if encoding.lower() != "chunked":
                raise _BadRequest(501, f"Transfer-Encoding {encoding!r} is not supported.")
        else:
            length = headers.get("content-length", "0")
            # isdigit() alone passes "²" (latin-1 0xB2), which int() refuses.
            if not (length.isascii() and length.isdigit()):
                raise _BadRequest(400, "Malformed Content-Length.")
            if len(length.lstrip("0")) > _MAX_LENGTH_DIGITS:
                raise _BadRequest(413, "Request body too large.")
            size = int(length)
            if size > limits.max_body_bytes:
                raise _BadRequest(413, "Request body too large.")
        # Refusals come before `100 Continue`, so a client that waits for it sends nothing.
        if headers.get("expect", "").lower() == "100-continue":
            await self._write(b"HTTP/1.1 100 Continue\r\n\r\n")
        with anyio.move_on_after(limits.body_timeout):
            if size is None:
                return await _read_chunked(
                    self.reader, limits.max_body_bytes, limits.max_head_bytes
                )
            return await self.reader.receive_exactly(size) if size else b""
        raise _BadRequest(408, "The request body did not arrive in time.")

    async def _refuse(self, status: int, message: str) -> None:
        self.stats._rejected_one()
        if status == 408:
            self.stats._timed_out()
        response = error_response(status, message, Code.INVALID_ARGUMENT)
        await self._send(response, keep_alive=False, chunked=False)
        await self._linger()

    async def _linger(self) -> None:
        """Half-close after a refusal and drain what the client still sends, briefly."""
        # A lingering close: closing with the client's bytes still unread makes the kernel
        # send a reset, which can destroy the error response before the client reads it.
        # Half-close, then read and discard what is left for a moment (bounded in time and
        # bytes, so a client still pushing a 100 MB body is cut off soon after).
        try:
            await self.stream.send_eof()
            with anyio.move_on_after(_LINGER_SECONDS):
                drained = 0
                while drained < _LINGER_BYTES:
                    drained += len(await self.reader.receive())
        except _DISCONNECTS:
            pass

    async def _write(self, data: bytes) -> None:
        """Send `data`, or raise `_Stalled` when the client has not taken it in time."""
        with anyio.move_on_after(self.limits.send_timeout):
            await self.stream.send(data)
            return
        raise _Stalled

    async def _send(self, response: SimResponse, keep_alive: bool, chunked: bool) -> bool:
        """Write the response; True when the connection stays open for another request."""
        if response.first_byte_delay > 0:
            await anyio.sleep(response.first_byte_delay)
        events = response.events
        if events is None:
            if response.drop_after is not None:
                return False
            head = _head(
                response.status,
                response.headers,
                f"content-length: {len(response.body)}",
                keep_alive,
            )
            await self._write(head + response.body)
            return keep_alive
        # HTTP/1.0 has no chunked coding: the end of the body is the end of the connection.
        keep_alive = keep_alive and chunked
        framing = "transfer-encoding: chunked" if chunked else None
        # The head rides with the first event and the terminator with the last, unless a
        # delay separates them: fewer writes, and each event is still flushed as it is sent.
        pending = _head(response.status, response.headers, framing, keep_alive)
        last = len(events) - 1 if response.drop_after is None else -1
        for sent, chunk in enumerate(events):
            if sent == response.drop_after:
                break
            if chunk.delay > 0:
                if pending:
                    await self._write(pending)
                await anyio.sleep(chunk.delay)
                pending = b""
            data = chunk.data
            frame = b"%x\r\n%s\r\n" % (len(data), data) if chunked else data
            if sent == last and chunked:
                frame += b"0\r\n\r\n"
            await self._write(pending + frame)
            pending = b""
        if pending:
            await self._write(pending)
        if response.drop_after is not None:
            return False
        if chunked and not events:
            await self._write(b"0\r\n\r\n")
        return keep_alive


async def _serve_connection(
    core: SimCore, limits: ServerLimits, stats: ServerStats, stream: SocketStream
) -> None:
    try:
        async with stream:
            try:
                await _Connection(core, stream, limits, stats).run()
            except _DISCONNECTS:
                stats._disconnected()  # the client went away; nothing to answer
            except _Stalled:
                stats._timed_out()
                logger.debug("dropped a client that stopped reading its answer")
            except Exception:
                logger.exception("connection handler failed")
    finally:
        stats._release()


async def _shed(stream: SocketStream) -> None:
    """Answer 503 and close: one write, no read, so a flood costs no memory."""
    async with stream:
        with anyio.move_on_after(_SHED_SECONDS), suppress(*_DISCONNECTS):
            await stream.send(_BUSY)


def _read_only_when_asked(stream: SocketStream) -> None:
    """Stop the transport reading until the connection's first `receive()`.

    anyio's asyncio streams read from an accepted socket at once and pause only inside a
    `receive()` that found nothing queued. A client that sends faster than the handler reads
    (a 100 MB upload to a loaded server) then keeps the queue from ever emptying, and its
    bytes pile up in memory past every size limit. Paused here, reading happens only while a
    `receive()` waits, as anyio intends: the kernel's buffers push back on the client.
    """
    transport = getattr(stream, "_transport", None)  # asyncio only; trio reads on demand
    pause = getattr(transport, "pause_reading", None)
    if callable(pause):
        pause()


async def _accept(
    listener: SocketListener,
    group: TaskGroup,
    core: SimCore,
    limits: ServerLimits,
    stats: ServerStats,
) -> None:
    """Accept connections until cancelled; a failed accept pauses the loop, never ends it."""
    retry = _ACCEPT_RETRY_FIRST
    while True:
        try:
            stream = await listener.accept()
        except ConnectionError:
            continue  # reset while waiting in the backlog: nothing to serve
        except OSError as exc:
            # Out of descriptors (EMFILE, ENFILE) or kernel memory: the connection waits in
            # the backlog until some are freed, instead of taking the whole server down.
            stats._accept_failed()
            if retry == _ACCEPT_RETRY_FIRST:
                logger.warning("accepting a connection failed (%s); retrying", exc)
            await anyio.sleep(retry)
            retry = min(retry * 2, _ACCEPT_RETRY_MAX)
            continue
        retry = _ACCEPT_RETRY_FIRST
        _read_only_when_asked(stream)
        # Counted here, not in the task, so a burst of accepts cannot overshoot the cap.
        if stats.open_connections >= limits.max_connections:
            stats._shed_one()
            group.start_soon(_shed, stream)
        else:
            stats._admit()
            group.start_soon(_serve_connection, core, limits, stats, stream)


async def serve(
    core: SimCore,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    ready: Callable[[int], Any] | None = None,
    allow_remote: bool = False,
    limits: ServerLimits | None = None,
    stats: ServerStats | None = None,
) -> None:
    """Serve `core` over HTTP/1.1 until cancelled.

    Args:
        core: The simulated server.
        host: Interface to bind; only loopback unless `allow_remote`.
        port: TCP port; 0 picks a free one (`ready` learns which).
        ready: Called with the bound port once the socket listens.
        allow_remote: Permit a non-loopback `host`. The simulator has no real
            authentication, so exposing it is a deliberate choice.
        limits: Connection, size and time bounds; `ServerLimits()` defaults when None.
        stats: Counters to update while serving (open connections, shed, timeouts); pass
            one to read them from outside.

    Raises:
        ValueError: `host` is not loopback and `allow_remote` is false.
    """
    if not allow_remote and not _is_loopback(host):
        raise ValueError(
            f"refusing to bind the simulated server to {host!r}: it is not a loopback address; "
            "pass allow_remote=True (--allow-remote) to expose it on purpose"
        )
    limits = limits if limits is not None else ServerLimits()
    stats = stats if stats is not None else ServerStats()
    listener = await anyio.create_tcp_listener(local_host=host, local_port=port, backlog=1024)
    async with listener:
        bound: int = listener.extra(SocketAttribute.local_port)
        logger.info("simulated Grok server listening on http://%s:%d", host, bound)
        if ready is not None:
            ready(bound)
        async with anyio.create_task_group() as group:
            for one in listener.listeners:
                # create_tcp_listener makes nothing else; the check narrows the type.
                if not isinstance(one, SocketListener):
                    raise TypeError(f"unexpected listener {one!r}")
                group.start_soon(_accept, one, group, core, limits, stats)


class RunningServer(AbstractContextManager["RunningServer"]):
    """A server on a background thread with its own event loop, for tests and benchmarks.

    Use as a context manager, or call `start()` and `stop()`; `stop()` cancels every
    connection, closes the listener and joins the thread.

    Args:
        core: The simulated server; a default `SimCore()` when None.
        host: Interface to bind (loopback unless `allow_remote`).
        port: TCP port; 0 picks a free one.
        allow_remote: Permit a non-loopback `host`.
        limits: Connection, size and time bounds; `ServerLimits()` defaults when None.
    """

    def __init__(
        self,
        core: SimCore | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        allow_remote: bool = False,
        limits: ServerLimits | None = None,
    ) -> None:
        self.core = core if core is not None else SimCore()
        self.host = host
        self.port = port
        self.allow_remote = allow_remote
        self.limits = limits if limits is not None else ServerLimits()
        self._stats = ServerStats()
        self._portal_cm: AbstractContextManager[BlockingPortal] | None = None
        self._portal: BlockingPortal | None = None
        self._task: Future[None] | None = None

    @property
    def stats(self) -> ServerStats:
        """Live counters: open and peak connections, shed, timed out, rejected, dropped."""
        return self._stats

    def running_tasks(self) -> int:
        """Tasks alive on the server's event loop, for leak checks.

        Idle, the count is a constant few (the portal, the server, one accept loop per
        listening socket); one that stays higher after every client left is a leak.

        Raises:
            RuntimeError: The server is not running.
        """
        if self._portal is None:
            raise RuntimeError("this server is not running")
        return len(self._portal.call(anyio.get_running_tasks))

    @property
    def base_url(self) -> str:
        """`http://host:port`, without `/v1` (as xAI's base URL `https://api.x.ai`)."""
        return f"http://{self.host}:{self.port}"

    async def _run(self, *, task_status: TaskStatus[int]) -> None:
        await serve(
            self.core,
            host=self.host,
            port=self.port,
            ready=task_status.started,
            allow_remote=self.allow_remote,
            limits=self.limits,
            stats=self._stats,
        )

    def start(self) -> str:
        """Start serving and return the base URL once the socket listens."""
        if self._portal_cm is not None:
            raise RuntimeError("this server is already running")
        portal_cm = start_blocking_portal(name="agentkit-sim-server")
        portal = portal_cm.__enter__()
        try:
            self._task, self.port = portal.start_task(self._run, name="agentkit-sim-server")
        except BaseException:
            portal_cm.__exit__(*sys.exc_info())
            raise
        self._portal_cm = portal_cm
        self._portal = portal
        return self.base_url

    def stop(self) -> None:
        """Cancel the server, close every connection and join the thread (idempotent)."""
        portal_cm, self._portal_cm = self._portal_cm, None
        if portal_cm is None:
            return
        self._portal = None
        if self._task is not None:
            self._task.cancel()
        portal_cm.__exit__(None, None, None)

    def __enter__(self) -> RunningServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


@contextmanager
def run_in_thread(
    core: SimCore | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    limits: ServerLimits | None = None,
) -> Iterator[str]:
    """Serve `core` on a background thread for the duration of a `with` block.

    Args:
        core: The simulated server; a default `SimCore()` when None.
        host: Interface to bind (loopback only).
        port: TCP port; 0 picks a free one.
        limits: Connection, size and time bounds; `ServerLimits()` defaults when None.
            Use `RunningServer` directly to read its `stats` too.

    Yields:
        The base URL, `http://127.0.0.1:<port>` (append `/v1/...` paths to it).
    """
    with RunningServer(core, host=host, port=port, limits=limits) as server:
        yield server.base_url


def main(argv: Sequence[str] | None = None) -> int:
    """Run the simulated server until interrupted: `python -m agentkit.sim`."""
    parser = argparse.ArgumentParser(
        prog="python -m agentkit.sim", description="Serve a simulated Grok API."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    parser.add_argument("--api-key", default=None, help="require this Bearer key")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--chunk-delay", type=float, default=0.0, help="seconds per chunk")
    parser.add_argument("--allow-remote", action="store_true", help="bind beyond loopback")
    add_limit_arguments(parser)
    args = parser.parse_args(argv)
    try:
        limits = limits_from_arguments(args)
        rate_limits = SimRateLimits.from_arguments(args)
    except (ConfigurationError, ValueError) as exc:
        parser.error(str(exc))
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    core = SimCore(api_key=args.api_key, seed=args.seed, chunk_delay=args.chunk_delay,
                   rate_limits=rate_limits)

    def ready(port: int) -> None:
        print(f"listening on http://{args.host}:{port}", flush=True)

    try:
        anyio.run(
            partial(
                serve,
                core,
                host=args.host,
                port=args.port,
                ready=ready,
                allow_remote=args.allow_remote,
                limits=limits,
            )
        )
    except KeyboardInterrupt:
        return 0
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
