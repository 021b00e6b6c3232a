"""`GrokClient(http="aiohttp")` beside the default httpx2, over real sockets on 127.0.0.1.

Each check runs the same requests on both libraries against the simulated server
(`RunningServer`, a fresh one per library where ids matter) and asserts the same outcome on
both: the whole conformance corpus served byte for byte (streams cut into 1-byte, 13-byte and
whole writes), every cell of the fault matrix (same exception classes, same number of
requests, same retries), timeouts (read, per request, the outer deadline), redaction of the
key, record and replay, and agent runs. The helpers come from the in-process suites
(test_conformance, test_fault_matrix, test_agent_loopback, test_secrets), parametrised by how
the request reaches the server.

Needs aiohttp (in the `test` extra): skipped without it, failed under CI.
"""

from __future__ import annotations

import asyncio
import importlib.util
import itertools
import json
import re
import socket
import sys
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from pathlib import Path
from typing import Any

import anyio
import pytest

from agentkit._backends import AIOHTTP_MISSING, HTTP_LIBRARIES
from agentkit._cassette import Cassette
from agentkit._http import RecordingTransport, ReplayTransport
from agentkit._retry import RetryPolicy
from agentkit.client import GrokClient
from agentkit.errors import (
    APIConnectionError,
    APIStatusError,
    APIStreamError,
    APITimeoutError,
    BadRequestError,
    ConfigurationError,
    ModelRequestBlockedError,
)
from agentkit.sim import Fault, SimCore, SimTransport
from agentkit.sim._wire import Code, SimChunk, SimResponse, dumps, error_response
from agentkit.sim.faults import parse_fault
from agentkit.sim.server import RunningServer
from agentkit.testing import block_model_requests
from agentkit.types import ChatCompletion
from tests.shared import conformance_files, conformance_params, in_ci
from tests.test_agent_loopback import Outcome, assert_same_run, forecast_run, person_run
from tests.test_conformance import ask, check_recording
from tests.test_fault_matrix import (
    CELLS,
    Cell,
    _marks,
    _Run,
    forecaster,
    judge,
    retry_policy,
    run_cell,
)
from tests.test_secrets import KEY, KEYS, assert_clean, rendered

if importlib.util.find_spec("aiohttp") is None and not in_ci():
    pytest.skip("aiohttp is not installed: pip install -e '.[test]'", allow_module_level=True)

pytestmark = pytest.mark.usefixtures("shared_corpus")

MODEL = "grok-4"
HELLO = [{"role": "user", "content": "hello"}]
LOOPBACK_TIMEOUT = 0.5
"""The client's timeout in the fault cells: below `slow`'s 1 s, above any loopback answer."""
FILES = conformance_files()


def url_of(server: RunningServer) -> str:
    return f"{server.base_url}/v1"


async def no_sleep(seconds: float) -> None:
    """Retries without waiting."""


# ------------------------------------------------------------------------------ the corpus


MAX_WRITES = 1000
"""Writes per replayed stream at most: the few long recordings (up to 95 kB) are cut into
larger pieces than asked, as a thousand-fold more socket writes would only cost time."""


class _Recordings(SimCore):
    """Answers with the recording its `x-recording` header names, the event stream cut into
    writes of `x-chunk-size` bytes (0: the whole body in one; see `MAX_WRITES`)."""

    def handle(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes
    ) -> SimResponse:
        lowered = {name.lower(): value for name, value in headers.items()}
        (interaction,) = Cassette.load(FILES[0].parent / lowered["x-recording"]).interactions
        status, response_headers, data = interaction.response_bytes()
        if not interaction.is_stream:
            return SimResponse(status, response_headers, data)
        size = max(int(lowered["x-chunk-size"]) or len(data), -(-len(data) // MAX_WRITES))
        pieces = [SimChunk(data[i : i + size]) for i in range(0, len(data), size)]
        return SimResponse(status, response_headers, events=pieces)


@pytest.fixture(scope="module")
def recordings() -> Iterator[RunningServer]:
    with RunningServer(_Recordings()) as server:
        yield server


def _summary(result: ChatCompletion | BaseException) -> Any:
    """What both libraries must agree on: the whole completion, or the error's class and words."""
    if isinstance(result, BaseException):
        return type(result), str(result)
    return result.model_dump()


@pytest.mark.anyio
@pytest.mark.parametrize("path", conformance_params(FILES))
async def test_the_recording_over_loopback_is_the_same_on_both(
    path: Path, recordings: RunningServer
) -> None:
    seen: dict[str, list[Any]] = {}
    for http in HTTP_LIBRARIES:
        results = seen[http] = []

        async def replay(path: Path, chunk_size: int | None, http: str = http,
                         results: list[Any] = results) -> ChatCompletion:
            headers = {"x-recording": path.name, "x-chunk-size": str(chunk_size or 0)}
            async with GrokClient("test-key", base_url=url_of(recordings), http=http,
                                  max_retries=0, default_headers=headers) as client:
                try:
                    completion = await ask(client, path)
                except Exception as error:
                    results.append(_summary(error))
                    raise
            results.append(_summary(completion))
            return completion

        await check_recording(path, replay)
    assert seen["aiohttp"] == seen["httpx2"]


# ------------------------------------------------------------------------------ the fault matrix


class _Counted(SimCore):
    """A simulated server that counts the requests it answers."""

    requests = 0

    def handle(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes
    ) -> SimResponse:
        self.requests += 1
        return super().handle(method, path, headers, body)


async def _all_closed(server: RunningServer) -> None:
    """Wait (briefly) until the server has seen every connection of the client close."""
    for _ in range(500):
        if not server.stats.open_connections:
            return
        await anyio.sleep(0.01)
    raise AssertionError(f"{server.stats.open_connections} connections left open")


def _checked_out(client: GrokClient) -> int:
    """Connections of the client's pool still held by a response (none once all are closed)."""
    backend: Any = client._http
    if hasattr(backend, "_session"):
        session = backend._session
        return len(session.connector._acquired) if session is not None else 0
    transport = backend._client._transport
    pools = [shard._pool for shard in getattr(transport, "shards", ())] or [transport._pool]
    return sum(not connection.is_idle() for pool in pools for connection in pool.connections)


def _comparable(run: _Run) -> Any:
    if run.error is not None:
        error = run.error
        # A status error quotes the server, identically; a broken connection quotes the
        # library, in its own words.
        return type(error), str(error) if isinstance(error, APIStatusError) else None
    value = run.value
    if isinstance(value, ChatCompletion):
        return value.model_dump(exclude={"created"})
    return value.output, value.messages


@pytest.mark.anyio
@pytest.mark.parametrize(
    "cell", [pytest.param(cell, id=cell.id, marks=_marks(cell)) for cell in CELLS]
)
async def test_the_fault_cell_over_loopback_is_the_same_on_both(cell: Cell) -> None:
    seen: dict[str, Any] = {}
    for http in HTTP_LIBRARIES:
        baseline = len(asyncio.all_tasks())
        core = _Counted(forecaster)
        core.faults.push(parse_fault(cell.fault))
        with RunningServer(core) as server:
            policy, retry_waits = retry_policy()
            client = GrokClient("k", base_url=url_of(server), http=http,
                                timeout=LOOPBACK_TIMEOUT, retry_policy=policy)
            try:
                run = await run_cell(cell, client)
                assert _checked_out(client) == 0, "a response was left open"
            finally:
                await client.aclose()
            judge(cell, run, core.requests, retry_waits)
            await _all_closed(server)
        assert len(asyncio.all_tasks()) == baseline, "a task outlived the cell"
        # The waits themselves have jitter; a 429's exact wait is judged above.
        seen[http] = (_comparable(run), core.requests, [kind for _, kind in retry_waits])
    assert seen["aiohttp"] == seen["httpx2"]


# ------------------------------------------------------------------------------ timeouts


@pytest.fixture
def slow_server() -> Iterator[RunningServer]:
    core = SimCore()
    core.faults.push(Fault("slow", count=100, delay=3.0))
    with RunningServer(core) as server:
        yield server


@pytest.mark.anyio
@pytest.mark.parametrize("http", HTTP_LIBRARIES)
@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
async def test_the_read_timeout_and_a_per_request_timeout_hold(
    slow_server: RunningServer, http: str, stream: bool
) -> None:
    async with GrokClient("k", base_url=url_of(slow_server), http=http, max_retries=0,
                          timeout=0.3) as client:
        started = time.perf_counter()
        with pytest.raises(APITimeoutError, match="timed out"):
            await client.chat.completions.create(model=MODEL, messages=HELLO, stream=stream)
        assert time.perf_counter() - started < 1.5
    # A per-request timeout overrides a long client-wide one.
    async with GrokClient("k", base_url=url_of(slow_server), http=http, max_retries=0,
                          timeout=60) as client:
        started = time.perf_counter()
        with pytest.raises(APITimeoutError, match="timed out"):
            await client.chat.completions.create(model=MODEL, messages=HELLO, stream=stream,
                                                 timeout=0.3)
        assert time.perf_counter() - started < 1.5


@pytest.fixture
async def trickling_url() -> AsyncIterator[str]:
    """A server that sends a head at once, then its 1000-byte body a byte every 50 ms: no
    read waits long, yet the whole takes 50 s."""

    stop = asyncio.Event()
    handlers: list[asyncio.Task[Any]] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # Ends by itself when told to stop: Python 3.11's stream server logs a handler that
        # ends cancelled as a failure.
        handlers.append(asyncio.current_task())  # type: ignore[arg-type]
        try:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                         b"content-length: 1000\r\n\r\n")
            for _ in range(1000):
                if stop.is_set():
                    break
                writer.write(b" ")
                await writer.drain()
                await asyncio.sleep(0.05)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/v1"
    finally:
        stop.set()
        server.close()
        await asyncio.gather(*handlers)
        await server.wait_closed()


@pytest.mark.anyio
@pytest.mark.parametrize("http", HTTP_LIBRARIES)
async def test_the_outer_deadline_ends_a_response_that_trickles(
    trickling_url: str, http: str
) -> None:
    async with GrokClient("k", base_url=trickling_url, http=http, max_retries=0,
                          timeout=0.3) as client:
        started = time.perf_counter()
        with pytest.raises(APITimeoutError, match="no response within the timeout"):
            await client.models.list()
        # The deadline is the timeout plus a second of grace.
        assert 1.2 < time.perf_counter() - started < 3


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.anyio
@pytest.mark.parametrize("http", HTTP_LIBRARIES)
async def test_a_refused_connection_is_retried_then_raised_without_the_key(http: str) -> None:
    attempts: list[float] = []

    async def counting_sleep(seconds: float) -> None:
        attempts.append(seconds)

    client = GrokClient(KEY, base_url=f"http://127.0.0.1:{_closed_port()}/v1", http=http,
                        retry_policy=RetryPolicy(max_retries=2, sleep=counting_sleep))
    async with client:
        with anyio.fail_after(10), pytest.raises(APIConnectionError) as caught:
            await client.chat.completions.create(model=MODEL, messages=HELLO)
    assert type(caught.value) is APIConnectionError and len(attempts) == 2
    assert_clean(rendered(caught.value), KEY)


def test_the_aiohttp_timeouts_mirror_httpx2s() -> None:
    aiohttp_client = GrokClient(KEY, base_url="http://127.0.0.1:1/v1", http="aiohttp",
                                timeout=42)._http
    httpx2_client = GrokClient(KEY, base_url="http://127.0.0.1:1/v1", timeout=42)._http
    made = aiohttp_client._timeout  # type: ignore[attr-defined]
    mirrored = httpx2_client._timeout  # type: ignore[attr-defined]
    assert (made.sock_connect, made.sock_read, made.connect, made.total) == (
        mirrored.connect, mirrored.read, mirrored.pool, None
    ) == (10.0, 42, 42, None)
    short = aiohttp_client._make_timeout(3)  # type: ignore[attr-defined]
    assert (short.sock_connect, short.sock_read) == (3, 3)  # connect never beyond the timeout


# ------------------------------------------------------------------------------ streaming, pool


@pytest.mark.anyio
@pytest.mark.parametrize("http", HTTP_LIBRARIES)
async def test_a_stream_yields_each_event_as_it_arrives(http: str) -> None:
    with RunningServer(SimCore(chunk_delay=0.05)) as server:
        async with GrokClient("k", base_url=url_of(server), http=http) as client:
            stream = await client.chat.completions.create(model=MODEL, messages=HELLO,
                                                          stream=True)
            arrivals = [time.perf_counter() async for _ in stream]
    assert len(arrivals) >= 5
    gaps = [later - earlier for earlier, later in itertools.pairwise(arrivals)]
    # Buffered, they would all come together at the end.
    assert sum(gap > 0.03 for gap in gaps) >= len(gaps) - 2, gaps


@pytest.mark.anyio
async def test_the_session_opens_in_the_loop_at_first_use_and_closes_with_the_client() -> None:
    with RunningServer(SimCore()) as server:
        client = GrokClient("k", base_url=url_of(server), http="aiohttp")
        backend: Any = client._http
        assert backend._session is None and "not opened yet" in repr(backend)
        await client.models.list()
        session = backend._session
        assert session.connector.limit == 1000 and session.connector.limit_per_host == 0
        assert session.connector._loop is asyncio.get_running_loop()
        await client.aclose()
        assert session.closed and "closed" in repr(backend)
        # As httpx2 does: a closed client refuses to send.
        with pytest.raises(RuntimeError, match="closed"):
            await client.models.list()
        closed_httpx2 = GrokClient("k", base_url=url_of(server))
        await closed_httpx2.aclose()
        with pytest.raises(RuntimeError, match="closed"):
            await closed_httpx2.models.list()


@pytest.mark.anyio
@pytest.mark.parametrize("http", HTTP_LIBRARIES)
async def test_blocked_model_requests_are_blocked_on_both(http: str) -> None:
    with block_model_requests():
        async with GrokClient(KEY, http=http) as client:  # https://api.x.ai/v1
            blocked = re.escape("GET https://api.x.ai/v1/models")
            with pytest.raises(ModelRequestBlockedError, match=blocked):
                await client.models.list()
            # Refused before anything was opened.
            assert getattr(client._http, "_session", None) is None


class _Targets(SimCore):
    """Notes the request target of every request: absolute (`http://host/...`) through a proxy."""

    def __init__(self) -> None:
        super().__init__()
        self.targets: list[str] = []

    def handle(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes
    ) -> SimResponse:
        self.targets.append(path)
        return super().handle(method, path, headers, body)


@pytest.mark.anyio
@pytest.mark.parametrize("http", HTTP_LIBRARIES)
async def test_a_proxy_from_the_environment_is_used_on_both(
    http: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    core = _Targets()
    with RunningServer(core) as proxy:
        for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy", "http_proxy"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("HTTP_PROXY", proxy.base_url)
        # No socket ever reaches example.test: the request goes to the proxy on loopback.
        async with GrokClient(KEY, base_url="http://example.test/v1", http=http,
                              max_retries=0) as client:
            with pytest.raises(APIStatusError):  # the simulator is no proxy: 404
                await client.models.list()
    assert core.targets == ["http://example.test/v1/models"]


# ------------------------------------------------------------------------------ redaction


class _Echoing(SimCore):
    """Quotes the request's bearer token back: in a 400 body, or in an in-band stream error."""

    def handle(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes
    ) -> SimResponse:
        token = {k.lower(): v for k, v in headers.items()}["authorization"]
        text = f"Incorrect API key provided: {token}. Check the key {token!r}."
        if not json.loads(body).get("stream"):
            return error_response(400, text, Code.INVALID_ARGUMENT)
        event = dumps({"error": {"message": text, "type": "invalid_request_error"}})
        return SimResponse(200, {"content-type": "text/event-stream"},
                           events=[SimChunk(f"event: error\ndata: {event}\n\n".encode())])


@pytest.mark.anyio
@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
async def test_a_key_echoed_by_the_server_is_hidden_on_both(key: str, stream: bool) -> None:
    seen: dict[str, Any] = {}
    with RunningServer(_Echoing()) as server:
        for http in HTTP_LIBRARIES:
            async with GrokClient(key, base_url=url_of(server), http=http,
                                  max_retries=0) as client:
                assert_clean(repr(client), key)
                assert_clean(repr(client._http), key)
                with pytest.raises(APIStatusError) as caught:
                    await client.chat.completions.create(model=MODEL, messages=HELLO,
                                                         stream=stream)
            error = caught.value
            assert type(error) is (APIStreamError if stream else BadRequestError)
            assert "[REDACTED]" in str(error)
            assert_clean(rendered(error), key)
            assert_clean(repr(error.body), key)
            seen[http] = (type(error), str(error))
    assert seen["aiohttp"] == seen["httpx2"]


# ------------------------------------------------------------------------------ record, replay


@pytest.mark.anyio
async def test_recording_over_aiohttp_writes_the_cassette_httpx2_writes(tmp_path: Path) -> None:
    cassettes: dict[str, Path] = {}
    answers: dict[str, Any] = {}
    for http in HTTP_LIBRARIES:
        cassettes[http] = tmp_path / f"{http}.json"
        with RunningServer(SimCore()) as server:
            recorder = RecordingTransport(cassettes[http])
            async with GrokClient(KEY, base_url=url_of(server), http=http,
                                  transport=recorder) as client:
                plain = await client.chat.completions.create(model=MODEL, messages=HELLO)
                stream = await client.chat.completions.create(model=MODEL, messages=HELLO,
                                                              stream=True)
                streamed = await stream.final()
                with pytest.raises(APIStatusError):
                    await client.models.retrieve("no-such-model")
        answers[http] = (plain.message.content, streamed.message.content)
        text = cassettes[http].read_text()
        assert_clean(text, KEY)
        assert "authorization" not in text.lower()

    def comparable(path: Path) -> list[Any]:
        # Only the clock and the port may differ.
        text = re.sub(r'(\\?"created\\?": ?)\d+', r"\g<1>0", path.read_text())
        interactions: list[Any] = json.loads(text)["interactions"]
        for interaction in interactions:
            interaction["source"]["recorded_url"] = ""
        return interactions

    assert comparable(cassettes["aiohttp"]) == comparable(cassettes["httpx2"])
    assert len(comparable(cassettes["aiohttp"])) == 3

    # Either cassette replays on either library, with no server at all.
    for cassette in cassettes.values():
        for http in HTTP_LIBRARIES:
            async with GrokClient("k", base_url="http://replay.test/v1", http=http,
                                  transport=ReplayTransport(cassette)) as client:
                plain = await client.chat.completions.create(model=MODEL, messages=HELLO)
                stream = await client.chat.completions.create(model=MODEL, messages=HELLO,
                                                              stream=True)
                assert (plain.message.content, (await stream.final()).message.content) == \
                    answers["httpx2"]


# ------------------------------------------------------------------------------ configuration


def test_an_unknown_library_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="http= takes 'httpx2' or 'aiohttp', got 'curl'"):
        GrokClient(KEY, http="curl")  # type: ignore[arg-type]


def test_without_aiohttp_the_error_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "aiohttp", None)  # what an absent package imports as
    monkeypatch.delitem(sys.modules, "agentkit._aiohttp", raising=False)
    with pytest.raises(ConfigurationError) as caught:
        GrokClient(KEY, http="aiohttp")
    assert str(caught.value) == AIOHTTP_MISSING
    assert AIOHTTP_MISSING == "the aiohttp transport needs aiohttp: pip install 'agentkit[aiohttp]'"
    GrokClient(KEY)  # httpx2 never needed it


def test_httpx2_objects_that_aiohttp_cannot_use_are_refused(tmp_path: Path) -> None:
    import httpx2

    with pytest.raises(ConfigurationError, match=r"cannot use SimTransport.*openai_compatible"):
        GrokClient(KEY, http="aiohttp", transport=SimTransport())
    with pytest.raises(ConfigurationError, match="cannot use SimTransport"):
        GrokClient.simulated(http="aiohttp")
    with pytest.raises(ConfigurationError, match="a RecordingTransport of SimTransport"):
        GrokClient(KEY, http="aiohttp",
                   transport=RecordingTransport(tmp_path / "c.json", inner=SimTransport()))
    with pytest.raises(ConfigurationError, match="http_client= is an httpx2 client"):
        GrokClient(KEY, http="aiohttp", http_client=httpx2.AsyncClient())


def test_the_loop_never_imports_aiohttp() -> None:
    import subprocess

    code = ("import sys, agentkit, agentkit.agent, agentkit.client; "
            "c = agentkit.client.GrokClient('k'); "
            "print(any(m == 'aiohttp' or m.startswith(('aiohttp.', 'agentkit._aiohttp')) "
            "for m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, timeout=60)
    assert done.stdout.strip() == "False"


# ------------------------------------------------------------------------------ agent runs


@pytest.mark.anyio
@pytest.mark.parametrize("streaming", [False, True], ids=["run", "run_stream"])
@pytest.mark.parametrize("workload", [forecast_run, person_run], ids=["tool", "structured"])
async def test_an_agent_run_on_aiohttp_is_the_run_on_httpx2(workload: Any, streaming: bool) -> None:
    outcomes: dict[str, Outcome] = {}
    for http in HTTP_LIBRARIES:
        with RunningServer(SimCore()) as server:  # fresh ids for each library
            async with GrokClient.openai_compatible(url_of(server), http=http,
                                                    max_retries=0) as client:
                with anyio.fail_after(10):
                    outcomes[http] = await workload(client, streaming=streaming)
    assert outcomes["httpx2"].usage.requests >= 1
    assert_same_run(outcomes["aiohttp"], outcomes["httpx2"])
    if streaming:  # every event but the last, whose result holds timings
        assert outcomes["aiohttp"].events[:-1] == outcomes["httpx2"].events[:-1]


def test_a_response_error_of_aiohttp_is_not_chained() -> None:
    # aiohttp's response errors carry the request's headers, key included, in request_info.
    import aiohttp
    from multidict import CIMultiDict, CIMultiDictProxy
    from yarl import URL

    from agentkit._aiohttp import _cause

    url = URL("http://127.0.0.1/v1/models")
    headers = CIMultiDictProxy(CIMultiDict({"authorization": f"Bearer {KEY}"}))
    info = aiohttp.RequestInfo(url=url, method="GET", headers=headers, real_url=url)
    assert _cause(aiohttp.ClientResponseError(info, (), status=400, message="bad"), ()) is None
    assert _cause(aiohttp.ServerDisconnectedError(), ()) is not None
