"""The loopback HTTP/1.1 server: plain and streamed answers over real sockets, keep-alive,
many concurrent streams, malformed requests, and a clean shutdown."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import anyio
import httpx2
import pytest

from agentkit.sim import SimCore, SimReply, run_in_thread, serve
from agentkit.sim.server import RunningServer, main

BODY = {"model": "grok-4-fast-non-reasoning", "messages": [{"role": "user", "content": "hi"}]}
STREAM = {**BODY, "stream": True, "stream_options": {"include_usage": True}}


def answer(body: Any) -> SimReply:
    return SimReply(content="one two three four five")


@pytest.fixture
def threads_stay_put() -> Iterator[None]:
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 2
    while set(threading.enumerate()) - before and time.monotonic() < deadline:
        time.sleep(0.01)  # a joined thread can take a moment to leave enumerate()
    assert set(threading.enumerate()) - before == set()


@pytest.fixture
def base_url(threads_stay_put: None) -> Iterator[str]:
    with run_in_thread(SimCore(answer, chunk_delay=0.002)) as url:
        yield url


async def raw_exchange(port: int, request: bytes, *more: bytes) -> bytes:
    """Send bytes on a fresh connection and read until the server closes it. Each of `more`
    is sent a moment after the one before, so that the server reads them apart."""
    received = b""
    async with await anyio.connect_tcp("127.0.0.1", port) as stream:
        await stream.send(request)
        for piece in more:
            await anyio.sleep(0.05)
            await stream.send(piece)
        try:
            while True:
                received += await stream.receive()
        except (anyio.EndOfStream, anyio.BrokenResourceError):
            pass
    return received


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


@pytest.mark.anyio
async def test_plain_and_streamed_requests(base_url: str) -> None:
    with anyio.fail_after(10):
        async with httpx2.AsyncClient(base_url=base_url) as http:
            plain = await http.post("/v1/chat/completions", json=BODY)
            async with http.stream("POST", "/v1/chat/completions", json=STREAM) as streamed:
                chunks = [chunk async for chunk in streamed.aiter_raw()]
            models = await http.get("/v1/models")
    assert plain.status_code == 200
    assert plain.json()["choices"][0]["message"]["content"] == "one two three four five"
    assert streamed.headers["transfer-encoding"] == "chunked"
    assert streamed.headers["content-type"] == "text/event-stream"
    # Paced chunks arrive one by one: 5 words, role folded in, finish, usage, [DONE].
    assert len(chunks) == 8
    assert chunks[-1] == b"data: [DONE]\n\n"
    assert models.status_code == 200


@pytest.mark.anyio
async def test_two_hundred_concurrent_streams(base_url: str) -> None:
    done: list[bytes] = []

    async def one(http: httpx2.AsyncClient) -> None:
        async with http.stream("POST", "/v1/chat/completions", json=STREAM) as response:
            body = b"".join([chunk async for chunk in response.aiter_raw()])
        done.append(body)

    limits = httpx2.Limits(max_connections=250, max_keepalive_connections=250)
    with anyio.fail_after(60):
        async with (
            httpx2.AsyncClient(base_url=base_url, limits=limits, timeout=30) as http,
            anyio.create_task_group() as group,
        ):
            for _ in range(200):
                group.start_soon(one, http)
    assert len(done) == 200
    assert all(body.endswith(b"data: [DONE]\n\n") for body in done)


@pytest.mark.anyio
async def test_keep_alive_and_connection_close(base_url: str) -> None:
    request = b"GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n"
    closing = b"GET /v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    with anyio.fail_after(10):
        received = await raw_exchange(port_of(base_url), request + request + closing)
    assert received.count(b"HTTP/1.1 200 OK\r\n") == 3
    assert received.count(b"connection: close") == 1


@pytest.mark.anyio
async def test_http_1_0_closes_after_the_answer(base_url: str) -> None:
    with anyio.fail_after(10):
        received = await raw_exchange(port_of(base_url), b"GET /v1/health HTTP/1.0\r\n\r\n")
    assert received.startswith(b"HTTP/1.1 200 OK\r\n")
    body = json.dumps(STREAM).encode()
    request = (
        b"POST /v1/chat/completions HTTP/1.0\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
    )
    with anyio.fail_after(10):
        streamed = await raw_exchange(port_of(base_url), request)
    assert b"transfer-encoding" not in streamed and b"connection: close" in streamed
    assert streamed.endswith(b"data: [DONE]\n\n")


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"NONSENSE\r\n\r\n", b"400"),
        (b"GET /v1/health HTTP/2.0\r\n\r\n", b"400"),
        (b"GET /v1/health HTTP/1.1\r\nno colon here\r\n\r\n", b"400"),
        (b"POST /v1/chat/completions HTTP/1.1\r\nContent-Length: x\r\n\r\n", b"400"),
        (b"GET /v1/health HTTP/1.1\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n", b"431"),
    ],
)
async def test_malformed_requests_get_an_error(
    base_url: str, request_bytes: bytes, status: bytes
) -> None:
    with anyio.fail_after(10):
        received = await raw_exchange(port_of(base_url), request_bytes)
    assert received.startswith(b"HTTP/1.1 " + status)
    assert b"connection: close" in received


@pytest.mark.anyio
@pytest.mark.parametrize("first_piece", [1, 30_000, 65_000])
async def test_a_head_over_the_limit_is_refused_however_it_arrives(
    base_url: str, first_piece: int
) -> None:
    # One read that crosses the 64 KiB limit and holds the blank line used to pass the
    # whole head: the refusal must not depend on how TCP splits the bytes.
    request = b"GET /v1/health HTTP/1.1\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n"
    with anyio.fail_after(10):
        received = await raw_exchange(
            port_of(base_url), request[:first_piece], request[first_piece:]
        )
    assert received.startswith(b"HTTP/1.1 431")


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("line", "status"),
    [(b"1" * 2_000, b"400"), (b"0\r\n" + b"X-Trailer: " + b"b" * 70_000, b"431")],
)
async def test_overlong_chunk_lines_are_refused_however_they_arrive(
    base_url: str, line: bytes, status: bytes
) -> None:
    head = (
        b"POST /v1/tokenize-text HTTP/1.1\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    with anyio.fail_after(10):
        received = await raw_exchange(port_of(base_url), head + line[:10], line[10:] + b"\r\n\r\n")
    assert received.startswith(b"HTTP/1.1 " + status), received[:40]


@pytest.mark.anyio
async def test_chunked_request_bodies_and_expect_continue(base_url: str) -> None:
    body = b'{"model":"grok-4","text":"hello"}'
    request = (
        b"POST /v1/tokenize-text HTTP/1.1\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n"
        + b"%x\r\n%s\r\n0\r\n\r\n"
        % (len(body), body)
    )
    with anyio.fail_after(10):
        received = await raw_exchange(port_of(base_url), request)
    assert received.startswith(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n")
    assert b'"string_token":"hello"' in received


@pytest.mark.anyio
async def test_a_dropped_stream_breaks_the_client_read(base_url: str) -> None:
    with anyio.fail_after(10):
        async with httpx2.AsyncClient(base_url=base_url) as http:
            async with http.stream(
                "POST", "/v1/chat/completions", json=STREAM, headers={"x-sim-fault": "drop"}
            ) as response:
                with pytest.raises(httpx2.RemoteProtocolError):
                    await response.aread()
            with pytest.raises(httpx2.RemoteProtocolError):
                await http.post(
                    "/v1/chat/completions",
                    json=BODY,
                    headers={"x-sim-fault": "drop;count=1;delay=0"},
                )
            after = await http.post("/v1/chat/completions", json=BODY)
    assert after.status_code == 200


@pytest.mark.anyio
async def test_a_failing_policy_becomes_a_500_and_the_server_goes_on(
    threads_stay_put: None, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(body: Any) -> SimReply:
        raise RuntimeError("boom")

    with run_in_thread(SimCore(broken, api_key="xai-secret-key")) as url, anyio.fail_after(10):
        async with httpx2.AsyncClient(base_url=url) as http:
            headers = {"authorization": "Bearer xai-secret-key"}
            failed = await http.post("/v1/chat/completions", json=BODY, headers=headers)
            health = await http.get("/v1/health")
    assert failed.status_code == 500
    assert failed.json()["code"] == "Internal error"
    assert health.status_code == 200
    assert "xai-secret-key" not in caplog.text


def test_stop_ends_open_streams_promptly(threads_stay_put: None) -> None:
    server = RunningServer(SimCore(answer, chunk_delay=5))
    url = server.start()
    opened = threading.Event()

    def reader() -> None:
        try:
            with (
                httpx2.Client(base_url=url, timeout=10) as http,
                http.stream("POST", "/v1/chat/completions", json=STREAM) as response,
            ):
                opened.set()
                response.read()
        except httpx2.HTTPError:
            pass

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        assert opened.wait(5)
        started = time.monotonic()
    finally:
        server.stop()
        server.stop()  # idempotent
        thread.join(5)
    assert time.monotonic() - started < 2
    assert not thread.is_alive()


@pytest.mark.anyio
async def test_non_loopback_binding_is_refused() -> None:
    with anyio.fail_after(5), pytest.raises(ValueError, match="allow_remote"):
        await serve(SimCore(answer), host="0.0.0.0")


def test_the_command_line_refuses_non_loopback_too(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--host", "0.0.0.0", "--port", "0"]) == 2
    assert "allow_remote" in capsys.readouterr().err


@pytest.mark.anyio
async def test_serve_reports_its_port_and_stops_on_cancel() -> None:
    ports: list[int] = []
    with anyio.fail_after(10):
        async with anyio.create_task_group() as group:
            ready = anyio.Event()

            def on_ready(port: int) -> None:
                ports.append(port)
                ready.set()

            group.start_soon(lambda: serve(SimCore(answer), ready=on_ready))
            await ready.wait()
            async with httpx2.AsyncClient(base_url=f"http://127.0.0.1:{ports[0]}") as http:
                assert (await http.get("/v1/health")).status_code == 200
            group.cancel_scope.cancel()
    assert ports[0] > 0


def test_the_command_line_server_stops_cleanly_on_ctrl_c() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "agentkit.sim", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("listening on http://127.0.0.1:")
        with httpx2.Client(base_url=line.removeprefix("listening on ").strip()) as http:
            assert http.get("/v1/health").status_code == 200
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=10)
    assert process.returncode == 0
    assert "Traceback" not in stderr
