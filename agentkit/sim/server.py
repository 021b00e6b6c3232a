"""A real HTTP/1.1 server for a `SimCore`, on loopback, with no dependency beyond anyio.

Keep-alive, `Content-Length` bodies, `Transfer-Encoding: chunked` streams (each event written
and flushed on its own), `Connection: close`, `Expect: 100-continue`. Streams carry the core's
delays and break off where it says, as a dropped connection would. Request headers are never
logged: they carry the API key.

Run it from a shell with `python -m agentkit.sim --port 8000`, from async code with
`await serve(core)`, or from tests and benchmarks with `with run_in_thread(core) as base_url:`.
"""

from __future__ import annotations

import argparse
import ipaddress
import logging
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from contextlib import AbstractContextManager, contextmanager
from functools import partial
from http import HTTPStatus
from types import TracebackType
from typing import Any

import anyio
from anyio.abc import SocketAttribute, SocketStream, TaskStatus
from anyio.from_thread import BlockingPortal, start_blocking_portal
from anyio.streams.buffered import BufferedByteReceiveStream

from ._wire import Code, SimResponse, error_response
from .core import SimCore

__all__ = ["RunningServer", "main", "run_in_thread", "serve"]

logger = logging.getLogger(__name__)

_MAX_HEAD = 64 * 1024
_MAX_BODY = 64 * 1024 * 1024
# Longer than any client pool's idle timeout (httpx: 5 s), so the client closes first.
_KEEP_ALIVE_TIMEOUT = 75.0
_LINGER_SECONDS = 1.0
_LINGER_BYTES = 1024 * 1024
_SERVER = "agentkit-sim"
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


async def _read_chunked(reader: BufferedByteReceiveStream) -> bytes:
    body = bytearray()
    while True:
        size_line = await reader.receive_until(b"\r\n", 1024)
        try:
            size = int(size_line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise _BadRequest(400, "Malformed chunk size.") from None
        if size == 0:
            # Trailers, if any, end with an empty line.
            while await reader.receive_until(b"\r\n", _MAX_HEAD):
                pass
            return bytes(body)
        if len(body) + size > _MAX_BODY:
            raise _BadRequest(413, "Request body too large.")
        body += await reader.receive_exactly(size)
        await reader.receive_exactly(2)


class _Connection:
    """One client connection: requests in order, answered one at a time."""

    def __init__(self, core: SimCore, stream: SocketStream) -> None:
        self.core = core
        self.stream = stream
        self.reader = BufferedByteReceiveStream(stream)

    async def run(self) -> None:
        while True:
            try:
                head = await self._read_head()
            except anyio.DelimiterNotFound:
                await self._refuse(431, "Request header fields too large.")
                return
            if head is None:
                return
            try:
                method, target, version, headers = _parse_head(head)
                body = await self._read_body(headers)
            except _BadRequest as exc:
                await self._refuse(exc.status, str(exc))
                return
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

    async def _read_head(self) -> bytes | None:
        """The next request's head, None when the client closed or stayed idle too long."""
        with anyio.move_on_after(_KEEP_ALIVE_TIMEOUT):
            try:
                return await self.reader.receive_until(b"\r\n\r\n", _MAX_HEAD)
            except anyio.IncompleteRead:
                return None
        return None

    async def _read_body(self, headers: dict[str, str]) -> bytes:
        if headers.get("expect", "").lower() == "100-continue":
            await self.stream.send(b"HTTP/1.1 100 Continue\r\n\r\n")
        encoding = headers.get("transfer-encoding")
        if encoding is not None:
            if encoding.lower() != "chunked":
                raise _BadRequest(501, f"Transfer-Encoding {encoding!r} is not supported.")
            return await _read_chunked(self.reader)
        length = headers.get("content-length", "0")
        if not length.isdigit():
            raise _BadRequest(400, "Malformed Content-Length.")
        size = int(length)
        if size > _MAX_BODY:
            raise _BadRequest(413, "Request body too large.")
        return await self.reader.receive_exactly(size) if size else b""

    async def _refuse(self, status: int, message: str) -> None:
        response = error_response(status, message, Code.INVALID_ARGUMENT)
        await self._send(response, keep_alive=False, chunked=False)
        # A lingering close: closing with the client's bytes still unread makes the kernel
        # send a reset, which can destroy the error response before the client reads it.
        # Half-close, then read and discard what is left for a moment.
        try:
            await self.stream.send_eof()
            with anyio.move_on_after(_LINGER_SECONDS):
                drained = 0
                while drained < _LINGER_BYTES:
                    drained += len(await self.reader.receive())
        except _DISCONNECTS:
            pass

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
            await self.stream.send(head + response.body)
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
                    await self.stream.send(pending)
                await anyio.sleep(chunk.delay)
                pending = b""
            data = chunk.data
            frame = b"%x\r\n%s\r\n" % (len(data), data) if chunked else data
            if sent == last and chunked:
                frame += b"0\r\n\r\n"
            await self.stream.send(pending + frame)
            pending = b""
        if pending:
            await self.stream.send(pending)
        if response.drop_after is not None:
            return False
        if chunked and not events:
            await self.stream.send(b"0\r\n\r\n")
        return keep_alive


async def _serve_connection(core: SimCore, stream: SocketStream) -> None:
    async with stream:
        try:
            await _Connection(core, stream).run()
        except _DISCONNECTS:
            pass  # the client went away; nothing to answer
        except Exception:
            logger.exception("connection handler failed")


async def serve(
    core: SimCore,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    ready: Callable[[int], Any] | None = None,
    allow_remote: bool = False,
) -> None:
    """Serve `core` over HTTP/1.1 until cancelled.

    Args:
        core: The simulated server.
        host: Interface to bind; only loopback unless `allow_remote`.
        port: TCP port; 0 picks a free one (`ready` learns which).
        ready: Called with the bound port once the socket listens.
        allow_remote: Permit a non-loopback `host`. The simulator has no real
            authentication, so exposing it is a deliberate choice.

    Raises:
        ValueError: `host` is not loopback and `allow_remote` is false.
    """
    if not allow_remote and not _is_loopback(host):
        raise ValueError(
            f"refusing to bind the simulated server to {host!r}: it is not a loopback address; "
            "pass allow_remote=True (--allow-remote) to expose it on purpose"
        )
    listener = await anyio.create_tcp_listener(local_host=host, local_port=port, backlog=1024)
    async with listener:
        bound: int = listener.extra(SocketAttribute.local_port)
        logger.info("simulated Grok server listening on http://%s:%d", host, bound)
        if ready is not None:
            ready(bound)
        await listener.serve(partial(_serve_connection, core))


class RunningServer(AbstractContextManager["RunningServer"]):
    """A server on a background thread with its own event loop, for tests and benchmarks.

    Use as a context manager, or call `start()` and `stop()`; `stop()` cancels every
    connection, closes the listener and joins the thread.

    Args:
        core: The simulated server; a default `SimCore()` when None.
        host: Interface to bind (loopback unless `allow_remote`).
        port: TCP port; 0 picks a free one.
        allow_remote: Permit a non-loopback `host`.
    """

    def __init__(
        self,
        core: SimCore | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        allow_remote: bool = False,
    ) -> None:
        self.core = core if core is not None else SimCore()
        self.host = host
        self.port = port
        self.allow_remote = allow_remote
        self._portal_cm: AbstractContextManager[BlockingPortal] | None = None
        self._task: Future[None] | None = None

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
        return self.base_url

    def stop(self) -> None:
        """Cancel the server, close every connection and join the thread (idempotent)."""
        portal_cm, self._portal_cm = self._portal_cm, None
        if portal_cm is None:
            return
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
    core: SimCore | None = None, *, host: str = "127.0.0.1", port: int = 0
) -> Iterator[str]:
    """Serve `core` on a background thread for the duration of a `with` block.

    Yields:
        The base URL, `http://127.0.0.1:<port>` (append `/v1/...` paths to it).
    """
    with RunningServer(core, host=host, port=port) as server:
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
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    core = SimCore(api_key=args.api_key, seed=args.seed, chunk_delay=args.chunk_delay)

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
