"""The loopback server under load and abuse: floods of dropped connections, slowloris heads
and bodies, oversized bodies, thousands of concurrent streams, a connection cap, and running
out of file descriptors.

The server runs on a thread of this process, where its counters, log and event loop can be
read; the big floods come from a separate attacker process (`ATTACKER`), so that the client
neither competes for this interpreter's lock nor adds to this process's memory. After every
attack the same checks run (`Harness.recovered`): the open-connection count and the event
loop's task count are back where they started, the process holds no more descriptors than
before, its RSS grew by less than a budget, the server thread is alive, a normal chat
completion is answered correctly, and nothing was logged at ERROR.

Run with `-s` to see each attack's figures (throughput, peak connections, RSS growth).
"""

from __future__ import annotations

import json
import logging
import os
import resource
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import anyio
import pytest
from anyio.abc import SocketAttribute, SocketStream

from agentkit.client import GrokClient
from agentkit.errors import ConfigurationError
from agentkit.sim import SimCore, SimReply
from agentkit.sim.server import RunningServer, ServerLimits, main

MODEL = "grok-4-fast-non-reasoning"
ANSWER = "hello"  # one word: a stream of three events, so that thousands stay quick
SERVER_THREAD = "agentkit-sim-server"  # the name RunningServer gives its thread
# Small deadlines, so that attacks are cut off within the test's time.
LIMITS = ServerLimits(head_timeout=0.5, body_timeout=0.5, send_timeout=2.0, keep_alive_timeout=5.0)
# The stream floods keep the default head deadline: they measure load, not slowness.
STREAM_LIMITS = ServerLimits(send_timeout=2.0, keep_alive_timeout=5.0)
LINGER = 1.0  # the server's lingering close after an error answer
MIB = 1024 * 1024
CHAT = (
    b'{"model":"grok-4-fast-non-reasoning","stream":true,'
    b'"messages":[{"role":"user","content":"hi"}]}'
)
STREAM_REQUEST = (
    b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    b"Connection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(CHAT), CHAT)
)
# What a client that gives up mid-request has sent: nothing, part of a head, a whole head
# and part of its body (declared and chunked).
HALF_SENT = [
    b"",
    b"POST /v1/chat/com",
    b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Le",
    b'POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{"mod',
    b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    b'400\r\n{"mo',
]
SLOW_HEAD = b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 40 + b"\r\n\r\n"


def answer(body: Any) -> SimReply:
    return SimReply(content=ANSWER)


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS in /proc/self/status")


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def reset_on_close(sock: socket.socket) -> None:
    """Make `close()` send a reset, as a crashed client or a middlebox would."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


async def eventually(predicate: Callable[[], bool], timeout: float) -> bool:
    """Poll `predicate` until it holds or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        await anyio.sleep(0.01)
    return True


async def read_to_end(stream: SocketStream, limit: int = 4 * MIB) -> bytes:
    """What the server sends until it closes (or resets) the connection."""
    received = bytearray()
    try:
        while len(received) < limit:
            received += await stream.receive()
    except (anyio.EndOfStream, anyio.BrokenResourceError):
        pass
    return bytes(received)


# The attacker process: plain sockets and asyncio, so it starts in tens of milliseconds.
# It reads one JSON config from argv and prints its figures as JSON.
ATTACKER = r"""
import asyncio, json, socket, struct, sys, time

config = json.loads(sys.argv[1])
port = config["port"]
request = config.get("request", "").encode("latin-1")

def reset_on_close(sock):
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

def barrier():
    # The server accepts in order: once a request sent after a batch is answered, the
    # whole batch was accepted, and the listen backlog has room for the next one.
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"GET /v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        while sock.recv(65536):
            pass

def drop(total, batch, pieces):
    # Open a batch, send each a piece of a request, drop them all: every other one with
    # a reset, the rest with an orderly close.
    for offset in range(0, total, batch):
        sockets = [socket.create_connection(("127.0.0.1", port), timeout=10)
                   for _ in range(batch)]
        for index, sock in enumerate(sockets):
            piece = pieces[(offset + index) % len(pieces)]
            if piece:
                sock.sendall(piece)
            if index % 2:
                reset_on_close(sock)
        for sock in sockets:
            sock.close()
        barrier()
    return {}

async def stream(gate, whole, index):
    async with gate:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        if whole:
            return await reader.read()  # to the end: the server closes after the answer
        first = await reader.read(65536)
        if index % 2:
            reset_on_close(writer.get_extra_info("socket"))
        return first
    finally:
        writer.close()

async def streams(count, whole):
    gate = asyncio.Semaphore(256)  # connects in flight: the backlog never overflows
    bodies = await asyncio.wait_for(
        asyncio.gather(*(stream(gate, whole, index) for index in range(count))), 30)
    ok = sum(body.startswith(b"HTTP/1.1 200 OK\r\n") and (
        not whole or body.endswith(b"data: [DONE]\n\n\r\n0\r\n\r\n")) for body in bodies)
    bad = [body[:200].decode("latin-1") for body in bodies if not body.startswith(b"HTTP")]
    return {"ok": ok, "bad": bad[:3]}

async def slow(pace):
    # Send the request a byte every `pace` seconds (None: at once, then nothing) and read
    # until the server closes; how long the connection lived, and what came back.
    started = time.monotonic()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)

    async def trickle():
        try:
            if pace is None:
                writer.write(request)
                return
            for index in range(len(request)):  # bounded: a few dozen bytes
                writer.write(request[index:index + 1])
                await writer.drain()
                await asyncio.sleep(pace)
        except OSError:
            pass  # the server closed first, as it should

    sender = asyncio.create_task(trickle())
    try:
        reply = await reader.read()
    except OSError:
        reply = b"(reset)"
    sender.cancel()
    writer.close()
    return reply[:12].decode("latin-1"), time.monotonic() - started

async def slows(count, pace):
    results = await asyncio.wait_for(asyncio.gather(*(slow(pace) for _ in range(count))), 30)
    return {"replies": [reply for reply, _ in results],
            "lifetimes": [lifetime for _, lifetime in results]}

started = time.monotonic()
kind = config["kind"]
if kind == "drop":
    figures = drop(config["total"], config["batch"],
                   [piece.encode("latin-1") for piece in config["pieces"]])
elif kind == "slow":
    figures = asyncio.run(slows(config["count"], config["pace"]))
else:
    figures = asyncio.run(streams(config["count"], kind == "streams"))
figures["elapsed_s"] = time.monotonic() - started
print(json.dumps(figures))
"""


def attack(**config: Any) -> dict[str, Any]:
    """Run the attacker process with `config` and return its figures."""
    done = subprocess.run(
        [sys.executable, "-c", ATTACKER, json.dumps(config)],
        capture_output=True,
        text=True,
        timeout=40,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    figures: dict[str, Any] = json.loads(done.stdout)
    return figures


async def attack_from_a_thread(**config: Any) -> dict[str, Any]:
    figures: dict[str, Any] = await anyio.to_thread.run_sync(partial(attack, **config))
    return figures


@pytest.fixture(scope="module", autouse=True)
def descriptors() -> Iterator[int]:
    """Raise the soft descriptor limit to the hard one for this module; yields it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
    resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    try:
        yield wanted
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def need_descriptors(available: int, count: int) -> None:
    """Skip unless `count` connections fit: attacker and server share one hard limit."""
    if available < count + 512:
        pytest.skip(f"RLIMIT_NOFILE hard limit {available} is too low for {count} connections")


class Harness:
    """Starts servers for one test and checks that each came through its attack whole."""

    def __init__(self, caplog: pytest.LogCaptureFixture) -> None:
        self.caplog = caplog
        self.servers: list[RunningServer] = []
        self.figures: dict[str, float] = {}
        self.tasks = self.fds = 0
        self.rss = self.started = 0.0

    def start(self, core: SimCore | None = None, limits: ServerLimits = LIMITS) -> RunningServer:
        server = RunningServer(core if core is not None else SimCore(answer), limits=limits)
        server.start()
        self.servers.append(server)
        self.tasks = server.running_tasks()
        self.fds = open_fds()
        self.rss = rss_mib()
        self.started = time.monotonic()
        return server

    async def recovered(self, server: RunningServer, rss_budget_mib: float = 32.0) -> None:
        stats = server.stats
        assert await eventually(lambda: stats.open_connections == 0, 5), stats
        # A connection's task and socket go a moment after its count drops.
        assert await eventually(lambda: server.running_tasks() == self.tasks, 5), (
            server.running_tasks(),
            self.tasks,
        )
        assert await eventually(lambda: open_fds() <= self.fds, 5), (open_fds(), self.fds)
        self.figures["attack_s"] = round(time.monotonic() - self.started, 2)
        self.figures["rss_growth_mib"] = round(rss_mib() - self.rss, 1)
        assert self.figures["rss_growth_mib"] < rss_budget_mib, self.figures
        assert any(t.name == SERVER_THREAD and t.is_alive() for t in threading.enumerate())
        with anyio.fail_after(10):
            async with GrokClient.openai_compatible(
                f"{server.base_url}/v1", "k", max_retries=0, timeout=10
            ) as client:
                completion: Any = await client.chat.completions.create(
                    model=MODEL, messages=[{"role": "user", "content": "hi"}]
                )
        assert completion.choices[0].message.content == ANSWER
        errors = [r for r in self.caplog.records if r.levelno >= logging.ERROR]
        assert errors == [], [r.getMessage() for r in errors]
        print(f"\n{stats!r} {self.figures}")

    def stop(self) -> None:
        for server in self.servers:
            server.stop()


@pytest.fixture
def harness(caplog: pytest.LogCaptureFixture) -> Iterator[Harness]:
    caplog.set_level(logging.WARNING)
    made = Harness(caplog)
    try:
        yield made
    finally:
        made.stop()


@pytest.mark.anyio
@pytest.mark.parametrize(("total", "batch"), [(10_000, 500)])
async def test_ten_thousand_connections_dropped_mid_request(
    harness: Harness, descriptors: int, total: int, batch: int
) -> None:
    need_descriptors(descriptors, 2 * batch)
    server = harness.start()
    pieces = [piece.decode("latin-1") for piece in HALF_SENT]
    figures = await attack_from_a_thread(
        kind="drop", port=server.port, total=total, batch=batch, pieces=pieces
    )
    harness.figures["connections_per_s"] = round(total / figures["elapsed_s"])
    barriers = total // batch  # the attacker's one health request per batch
    assert server.stats.accepted == total + barriers
    assert server.stats.shed == 0
    await harness.recovered(server)
    # A reset always breaks the connection; a quiet close does once a request began.
    assert server.stats.disconnects >= total // 2


@pytest.mark.anyio
@pytest.mark.parametrize("count", [2000])
async def test_two_thousand_concurrent_streams(
    harness: Harness, descriptors: int, count: int
) -> None:
    need_descriptors(descriptors, 2 * count)
    # Paced so that each stream lasts about 2 s: they overlap, most of them open at once.
    server = harness.start(SimCore(answer, chunk_delay=0.6), limits=STREAM_LIMITS)
    figures = await attack_from_a_thread(
        kind="streams", port=server.port, count=count, request=STREAM_REQUEST.decode("latin-1")
    )
    harness.figures["streams_per_s"] = round(count / figures["elapsed_s"])
    harness.figures["peak_connections"] = server.stats.peak_connections
    assert figures["ok"] == count, figures["bad"]
    assert server.stats.peak_connections >= count // 4
    await harness.recovered(server)


@pytest.mark.anyio
@pytest.mark.parametrize("count", [1000])
async def test_streams_dropped_midway_end_quietly(
    harness: Harness, descriptors: int, count: int
) -> None:
    need_descriptors(descriptors, 2 * count)
    server = harness.start(SimCore(answer, chunk_delay=0.1), limits=STREAM_LIMITS)
    figures = await attack_from_a_thread(
        kind="drop-streams",
        port=server.port,
        count=count,
        request=STREAM_REQUEST.decode("latin-1"),
    )
    assert figures["ok"] == count, figures["bad"]
    # Each server side notices at its next write, within one chunk delay; a stream the
    # client was too slow to drop before its last event just ends normally.
    assert await eventually(lambda: server.stats.open_connections == 0, 10)
    assert server.stats.disconnects >= count * 9 // 10
    await harness.recovered(server)


def push_zeros(sock: socket.socket, limit: int, chunked: bool, stop: threading.Event) -> int:
    """Send zeros until `limit` bytes, `stop`, or the server stops taking them; bytes sent.

    A blocking socket, not an asyncio one: asyncio drops writes to a lost connection
    without a word, which would count bytes the server never saw.
    """
    block = b"\0" * (64 * 1024)
    frame = b"%x\r\n%s\r\n" % (len(block), block) if chunked else block
    sent = 0
    try:
        while sent < limit and not stop.is_set():
            sock.sendall(frame)
            sent += len(frame)
    except OSError:
        pass  # reset (or a timed-out send): the server closed on the rest
    return sent


def read_until_closed(sock: socket.socket, stop: threading.Event) -> bytes:
    received = bytearray()
    try:
        while len(received) < 4 * MIB and (chunk := sock.recv(65536)):
            received += chunk
    except OSError:
        pass
    stop.set()
    return bytes(received)


@pytest.mark.anyio
@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_a_hundred_megabyte_body_is_refused_unread(harness: Harness, chunked: bool) -> None:
    server = harness.start()
    limit = 100 * MIB
    framing = b"Transfer-Encoding: chunked" if chunked else b"Content-Length: %d" % limit
    head = b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n%s\r\n\r\n" % framing
    stop = threading.Event()
    sent: list[int] = []
    started = time.monotonic()
    with (
        anyio.fail_after(15),
        socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock,
    ):
        sock.sendall(head)

        async def push() -> None:
            sent.append(await anyio.to_thread.run_sync(push_zeros, sock, limit, chunked, stop))

        async with anyio.create_task_group() as group:
            group.start_soon(push)
            received = await anyio.to_thread.run_sync(read_until_closed, sock, stop)
    answered = time.monotonic() - started
    harness.figures["answered_s"] = round(answered, 3)
    harness.figures["client_sent_mib"] = round(sent[0] / MIB, 1)
    assert received.startswith(b"HTTP/1.1 413 ")
    assert b"connection: close" in received
    # Cut off long before 100 MB: a declared length at once, a chunked body once it passes
    # the 10 MiB limit; what else got through is the lingering close and kernel buffers.
    assert sent[0] < (LIMITS.max_body_bytes if chunked else 0) + 24 * MIB
    assert answered < LINGER + 3
    await harness.recovered(server)


@pytest.mark.anyio
async def test_an_accepted_connection_is_read_only_when_the_server_asks() -> None:
    # The failure this guards against needs a loaded machine to show up through the whole
    # server (the handler falls behind a fast upload); here the handler simply does not
    # read for half a second after the accept. Unpaused, anyio's transport would take the
    # whole 64 MiB into memory meanwhile; paused, the kernel's buffers stop the client.
    from agentkit.sim.server import _read_only_when_asked

    stop = threading.Event()
    sent: list[int] = []
    multi = await anyio.create_tcp_listener(local_host="127.0.0.1")
    async with multi.listeners[0] as listener:
        port = listener.extra(SocketAttribute.local_port)
        with anyio.fail_after(15), socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(b"x")
            stream = await listener.accept()
            _read_only_when_asked(stream)
            async with anyio.create_task_group() as group:
                async def push() -> None:
                    sent.append(await anyio.to_thread.run_sync(push_zeros, sock, 64 * MIB,
                                                               False, stop))
                group.start_soon(push)
                await anyio.sleep(0.5)
                stop.set()
                assert await stream.receive(1) == b"x"  # still readable, in order
                # Drained, so that a pusher blocked on full buffers can see `stop`.
                with anyio.move_on_after(5):
                    while not sent:
                        await stream.receive()
            await stream.aclose()
    assert sent[0] < 16 * MIB, sent


@pytest.mark.anyio
async def test_an_oversized_body_is_refused_before_100_continue(harness: Harness) -> None:
    server = harness.start()
    head = (
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
        b"Content-Length: %d\r\n\r\n" % (100 * MIB)
    )
    with anyio.fail_after(10):
        async with await anyio.connect_tcp("127.0.0.1", server.port) as stream:
            await stream.send(head)
            received = await read_to_end(stream)
    # No `100 Continue`: a client waiting for it never sends a byte of the body.
    assert received.startswith(b"HTTP/1.1 413 ")
    await harness.recovered(server)


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("request_bytes", "pace", "reply"),
    [
        (SLOW_HEAD, 0.2, "HTTP/1.1 408"),  # slowloris: one byte every 0.2 s
        (SLOW_HEAD[:30], None, "HTTP/1.1 408"),  # half a head, then silence
        (b"", None, ""),  # connected, never a byte: closed without an answer
        (  # a whole head, then a body that stops coming
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{",
            None,
            "HTTP/1.1 408",
        ),
    ],
    ids=["trickled-head", "stalled-head", "silent", "stalled-body"],
)
@pytest.mark.parametrize("count", [200])
async def test_slowloris_clients_are_cut_off_by_the_deadline(
    harness: Harness,
    descriptors: int,
    count: int,
    request_bytes: bytes,
    pace: float | None,
    reply: str,
) -> None:
    need_descriptors(descriptors, 2 * count)
    server = harness.start()
    figures = await attack_from_a_thread(
        kind="slow", port=server.port, count=count, pace=pace, request=request_bytes.decode()
    )
    lifetimes: list[float] = figures["lifetimes"]
    harness.figures["longest_connection_s"] = round(max(lifetimes), 2)
    assert figures["replies"] == [reply] * count
    # The deadline, then an answered one's lingering close; never the 75 s keep-alive.
    assert max(lifetimes) < LIMITS.head_timeout + LINGER + 1.5
    assert server.stats.timeouts == count
    await harness.recovered(server)


@pytest.mark.anyio
@pytest.mark.parametrize("reset", [False, True], ids=["close", "reset"])
async def test_half_sent_requests_then_close(harness: Harness, reset: bool) -> None:
    server = harness.start()
    count = 100 * len(HALF_SENT)
    with anyio.fail_after(10):
        for index in range(count):
            with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
                if HALF_SENT[index % len(HALF_SENT)]:
                    sock.sendall(HALF_SENT[index % len(HALF_SENT)])
                if reset:
                    reset_on_close(sock)
        assert await eventually(lambda: server.stats.accepted == count, 5)
    # A reset breaks even a connection that sent nothing; a quiet close only a begun request.
    dropped = count if reset else count - count // len(HALF_SENT)
    assert await eventually(lambda: server.stats.disconnects == dropped, 5), server.stats
    await harness.recovered(server)


@pytest.mark.anyio
async def test_connections_beyond_the_cap_are_shed_at_once(harness: Harness) -> None:
    cap = 100
    server = harness.start(
        limits=ServerLimits(max_connections=cap, head_timeout=10, keep_alive_timeout=10)
    )
    holders: list[socket.socket] = []
    try:
        for _ in range(cap):
            holders.append(socket.create_connection(("127.0.0.1", server.port), timeout=5))
        with anyio.fail_after(10):
            assert await eventually(lambda: server.stats.open_connections == cap, 5)
            replies: list[bytes] = []
            started = time.monotonic()
            for _ in range(2 * cap):
                async with await anyio.connect_tcp("127.0.0.1", server.port) as stream:
                    replies.append(await read_to_end(stream))
            shed_s = time.monotonic() - started
    finally:
        for sock in holders:
            sock.close()
    harness.figures["shed_per_s"] = round(2 * cap / shed_s)
    assert all(reply.startswith(b"HTTP/1.1 503 ") for reply in replies)
    assert all(b"retry-after: 1" in reply for reply in replies)
    assert server.stats.shed == 2 * cap
    assert server.stats.peak_connections == cap
    await harness.recovered(server)


@pytest.mark.anyio
async def test_accept_survives_running_out_of_descriptors(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    server = harness.start()
    client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    fillers: list[int] = []
    try:
        # Every descriptor below a lowered limit in use: the server's next accept fails
        # with EMFILE while the client's connection waits in the backlog.
        resource.setrlimit(resource.RLIMIT_NOFILE, (open_fds() + 16, hard))
        try:
            for _ in range(64):  # bounded: the limit is 16 above what is open
                fillers.append(os.open(os.devnull, os.O_RDONLY))
        except OSError:
            pass
        client.settimeout(5)
        client.connect(("127.0.0.1", server.port))
        with anyio.fail_after(5):
            assert await eventually(lambda: server.stats.accept_errors >= 2, 3)
    finally:
        for fd in fillers:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    with client:
        client.sendall(b"GET /v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        reply = b""
        while chunk := client.recv(65536):  # bounded: the server closes after its answer
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 200 OK\r\n")
    warnings = [r for r in caplog.records if "accepting a connection failed" in r.getMessage()]
    assert len(warnings) == 1  # once per streak of failures, not once per retry
    assert warnings[0].levelno == logging.WARNING
    await harness.recovered(server)


@pytest.mark.anyio
async def test_an_idle_keep_alive_connection_outlives_the_head_deadline(harness: Harness) -> None:
    server = harness.start()
    request = b"GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n"
    with anyio.fail_after(10):
        async with await anyio.connect_tcp("127.0.0.1", server.port) as stream:
            await stream.send(request)
            first = await stream.receive()
            # Longer than the head deadline: between requests only keep-alive counts.
            await anyio.sleep(LIMITS.head_timeout * 2)
            await stream.send(request)
            second = await stream.receive()
    assert first.startswith(b"HTTP/1.1 200 OK\r\n")
    assert second.startswith(b"HTTP/1.1 200 OK\r\n")
    assert server.stats.timeouts == 0
    await harness.recovered(server)


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("framing", "status"),
    [
        (b"Content-Length: \xb2\r\n\r\n", b"400"),  # a latin-1 digit int() refuses
        (b"Content-Length: " + b"9" * 5000 + b"\r\n\r\n", b"413"),
        (b"Transfer-Encoding: chunked\r\n\r\n-1\r\n", b"400"),
        (b"Transfer-Encoding: chunked\r\n\r\n" + b"1" * 2000, b"400"),
        (b"Transfer-Encoding: chunked\r\n\r\n2\r\nabXY", b"400"),
        (b"Transfer-Encoding: chunked\r\n\r\n0\r\n" + b"x: y\r\n" * 20_000, b"431"),
        (b"Transfer-Encoding: gzip\r\n\r\n", b"501"),
    ],
    ids=["latin-1-digit", "5000-digits", "negative-chunk", "endless-chunk-line",
         "chunk-without-crlf", "endless-trailers", "unknown-coding"],
)
async def test_malformed_framing_is_refused_not_logged(
    harness: Harness, framing: bytes, status: bytes
) -> None:
    server = harness.start()
    request = b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n" + framing
    with anyio.fail_after(10):
        async with await anyio.connect_tcp("127.0.0.1", server.port) as stream:
            await stream.send(request)
            received = await read_to_end(stream)
    assert received.startswith(b"HTTP/1.1 " + status)
    await harness.recovered(server)


def test_limits_are_checked() -> None:
    with pytest.raises(ConfigurationError, match="max_connections"):
        ServerLimits(max_connections=0)
    with pytest.raises(ConfigurationError, match="head_timeout"):
        ServerLimits(head_timeout=float("nan"))
    assert ServerLimits().max_body_bytes == 10 * MIB


def test_the_command_line_checks_its_limits(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--port", "0", "--max-connections", "0"])
    assert exited.value.code == 2
    assert "max_connections must be at least 1" in capsys.readouterr().err


def test_agentkit_serve_applies_the_limits_it_is_given() -> None:
    command = [sys.executable, "-m", "agentkit", "serve", "--port", "0", "--max-body-bytes", "100"]
    with subprocess.Popen(command, stderr=subprocess.PIPE, text=True) as server:
        try:
            assert server.stderr is not None
            line = server.stderr.readline()
            port = int(line.split("127.0.0.1:")[1].split("/")[0])
            body = b"x" * 200
            request = (
                b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
                b"\r\nContent-Length: 200\r\n\r\n" + body
            )
            with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
                sock.sendall(request)
                assert sock.recv(64).startswith(b"HTTP/1.1 413")
        finally:
            server.terminate()
            server.wait(timeout=10)
