"""The API key never shows: not in reprs, errors, logs, cassettes, CLI output or tracebacks.

Every check first proves the key was really used (the simulated server, which requires it,
accepted it; or a transport saw it in the Authorization header), then scans what was produced.
Two keys are used where a server echoes the key back: one shaped like an xAI key (caught by
`redact`'s patterns) and one with no recognisable shape (only the client's knowledge of its
own key can hide it), as a local OpenAI-compatible server's token might be.
"""

from __future__ import annotations

import io
import json
import logging
import socket
import traceback
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest

from agentkit._http import RecordingTransport
from agentkit._retry import RetryPolicy
from agentkit.agent import Agent
from agentkit.cli import main
from agentkit.client import GrokClient
from agentkit.errors import (
    APIConnectionError,
    APIError,
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    InternalServerError,
    RateLimitError,
)
from agentkit.sim import Fault, FaultPlan, SimCore, SimTransport, run_in_thread
from agentkit.sim.core import SimResponse
from agentkit.tool import tool

KEY = "xai-SECRETSECRETSECRET_0123456789_abcdef"
"""Shaped like an xAI key."""
PLAIN_KEY = "localtoken-PLAINSECRETPLAIN-0042"
"""A key of no known shape (a local server's token)."""
MARKERS = {KEY: "SECRETSECRETSECRET", PLAIN_KEY: "PLAINSECRETPLAIN"}
"""The distinctive middle of each key: found even if only part of the key leaks."""
SIM_URL = "http://simulated.grok.local/v1"
PROMPT = "What is the weather in Paris?"

KEYS = [pytest.param(KEY, id="xai-shaped"), pytest.param(PLAIN_KEY, id="no-shape")]


def assert_clean(text: str, key: str = KEY) -> None:
    """Fail, showing where, if `key` or its distinctive middle is in `text`."""
    for needle in (key, MARKERS[key]):
        at = text.find(needle)
        assert at < 0, f"the API key leaked: ...{text[max(0, at - 120) : at + 60]!r}..."


def rendered(error: BaseException) -> str:
    """Everything an exception shows: str, repr, args, message and the whole traceback chain."""
    parts = [str(error), repr(error), *map(repr, error.args),
             "".join(traceback.format_exception(error))]
    if isinstance(error, APIError):
        parts += [error.message, repr(error.url), repr(error.method)]
    return "\n".join(parts)


async def no_sleep(seconds: float) -> None:
    """Retries without waiting."""


def quick_retries(max_retries: int = 2) -> RetryPolicy:
    return RetryPolicy(max_retries=max_retries, sleep=no_sleep)


@tool
async def get_weather(city: str) -> dict[str, Any]:
    """Get the current weather for a city.

    Args:
        city: The city name.
    """
    return {"city": city, "sky": "sunny", "temp_c": 21}


def weather_agent(client: GrokClient) -> Agent[Any, str]:
    return Agent("grok-4", instructions="You are a weather assistant.", tools=[get_weather],
                 client=client)


class EchoingServer:
    """A MockTransport handler that quotes the bearer token back in an error body."""

    def __init__(self, status: int, shape: str = "xai") -> None:
        self.status = status
        self.shape = shape
        self.tokens: list[str] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        self.tokens.append(token)
        text = f"Incorrect API key provided: {token}. Check the key {token!r}."
        headers = {"x-request-id": "req_echo"}
        if self.shape == "openai":
            body: Any = {"error": {"message": text, "type": "invalid_request_error",
                                   "code": "invalid_api_key"}}
        elif self.shape == "text":
            return httpx2.Response(self.status, text=text, headers=headers)
        else:
            body = {"code": "Client specified an invalid argument", "error": text}
        return httpx2.Response(self.status, json=body, headers=headers)


def echo_client(server: EchoingServer, key: str, **options: Any) -> GrokClient:
    return GrokClient.openai_compatible(
        SIM_URL, key, transport=httpx2.MockTransport(server), **options
    )


# -- reprs -----------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_reprs_of_client_agent_result_and_resources_hide_the_key() -> None:
    with anyio.fail_after(10):
        async with GrokClient.openai_compatible(
            SIM_URL, KEY, transport=SimTransport(SimCore(api_key=KEY))
        ) as client:
            agent = weather_agent(client)
            result = await agent.run(PROMPT)  # the server requires KEY: it was accepted
            assert result.usage.tool_calls == 1
            objects: list[Any] = [
                client, agent, result, result.usage, client.provider, client.retry_policy,
                client.chat, client.chat.completions, client.completions, client.models,
                client.embeddings, client.images, client.vision,
            ]
            text = "\n".join(f"{obj!r}\n{obj!s}" for obj in objects)
            text += result.to_json() + json.dumps(result.messages)
    assert "api_key=set" in repr(client)
    assert_clean(text)


@pytest.mark.anyio
async def test_reprs_hide_a_key_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("XAI_API_KEY", KEY)
    client = GrokClient()
    agent = Agent("grok-4", tools=[get_weather])
    try:
        assert client._headers["authorization"] == f"Bearer {KEY}"  # the key is in use
        text = "\n".join(f"{obj!r}\n{obj!s}" for obj in (client, agent, client.chat))
    finally:
        with anyio.fail_after(5):
            await client.aclose()
    assert "api_key=set" in repr(client)
    assert_clean(text)


# -- errors ----------------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("fault", "expected"),
    [("429", RateLimitError), ("500", InternalServerError), ("credits", RateLimitError)],
)
async def test_errors_from_the_simulator_hide_the_key(
    fault: str, expected: type[APIStatusError]
) -> None:
    core = SimCore(api_key=KEY, faults=FaultPlan([Fault(fault, count=10)]))
    async with GrokClient.openai_compatible(
        SIM_URL, KEY, transport=SimTransport(core), retry_policy=quick_retries()
    ) as client:
        with anyio.fail_after(10), pytest.raises(expected) as caught:
            await weather_agent(client).run(PROMPT)
    # A wrong key would have been a 400: the server accepted KEY and then failed on purpose.
    assert caught.value.status_code != 400
    assert_clean(rendered(caught.value))


@pytest.mark.anyio
async def test_a_rejected_key_is_not_shown_in_the_400() -> None:
    core = SimCore(api_key="xai-theRightKey_IsThisOne_000000")
    async with GrokClient.openai_compatible(SIM_URL, KEY, transport=SimTransport(core)) as client:
        with anyio.fail_after(10), pytest.raises(BadRequestError) as caught:
            await client.models.list()
    assert "Incorrect API key" in str(caught.value)
    assert_clean(rendered(caught.value))


@pytest.mark.anyio
@pytest.mark.parametrize("shape", ["xai", "openai", "text"])
@pytest.mark.parametrize(
    ("status", "expected"),
    [(400, BadRequestError), (401, AuthenticationError), (429, RateLimitError),
     (500, InternalServerError)],
)
@pytest.mark.parametrize("key", KEYS)
async def test_a_key_echoed_in_an_error_body_is_not_in_the_error(
    key: str, status: int, expected: type[APIStatusError], shape: str
) -> None:
    server = EchoingServer(status, shape)
    async with echo_client(server, key, retry_policy=quick_retries()) as client:
        with anyio.fail_after(10), pytest.raises(expected) as caught:
            await client.chat.completions.create(
                model="grok-4", messages=[{"role": "user", "content": "hi"}]
            )
    retried = status in (429, 500)
    assert server.tokens == [key] * (3 if retried else 1)
    assert_clean(rendered(caught.value), key)


@pytest.mark.anyio
@pytest.mark.parametrize("key", KEYS)
async def test_a_key_echoed_in_an_error_body_is_not_kept_in_error_body(key: str) -> None:
    server = EchoingServer(401)
    async with echo_client(server, key, max_retries=0) as client:
        with anyio.fail_after(10), pytest.raises(APIStatusError) as caught:
            await client.models.list()
    assert server.tokens == [key]
    assert_clean(repr(caught.value.body), key)


@pytest.mark.anyio
async def test_a_key_echoed_in_a_streamed_request_error_is_not_in_the_error() -> None:
    server = EchoingServer(401)
    async with echo_client(server, KEY, max_retries=0) as client:
        with anyio.fail_after(10), pytest.raises(AuthenticationError) as caught:
            await client.chat.completions.create(
                model="grok-4", messages=[{"role": "user", "content": "hi"}], stream=True
            )
    assert server.tokens == [KEY]
    assert_clean(rendered(caught.value))


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class SeeingTransport(httpx2.AsyncBaseTransport):
    """Notes the Authorization header, then sends through `inner`."""

    def __init__(self, inner: httpx2.AsyncBaseTransport) -> None:
        self.inner = inner
        self.tokens: list[str] = []

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        self.tokens.append(request.headers.get("authorization", "").removeprefix("Bearer "))
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


@pytest.mark.anyio
async def test_a_refused_connection_error_hides_the_key() -> None:
    seeing = SeeingTransport(httpx2.AsyncHTTPTransport())
    client = GrokClient.openai_compatible(
        f"http://127.0.0.1:{closed_port()}/v1", KEY, transport=seeing,
        retry_policy=quick_retries(),
    )
    async with client:
        with anyio.fail_after(10), pytest.raises(APIConnectionError) as caught:
            await weather_agent(client).run(PROMPT)
    assert seeing.tokens == [KEY] * 3
    assert_clean(rendered(caught.value))


@pytest.mark.anyio
@pytest.mark.parametrize("key", KEYS)
async def test_a_connection_error_quoting_the_request_hides_the_key(key: str) -> None:
    # A proxy or transport whose error text quotes the request's Authorization header.
    seen: list[str] = []

    def fail(request: httpx2.Request) -> httpx2.Response:
        header = request.headers["authorization"]
        seen.append(header)
        raise httpx2.ConnectError(f"proxy refused request with {header} (token {key})",
                                  request=request)

    client = GrokClient.openai_compatible(SIM_URL, key, transport=httpx2.MockTransport(fail),
                                          max_retries=0)
    async with client:
        with anyio.fail_after(10), pytest.raises(APIConnectionError) as caught:
            await client.models.list()
    assert seen == [f"Bearer {key}"]
    # The message, and the chained httpx2 error a traceback prints after it.
    assert_clean(str(caught.value), key)
    assert_clean(rendered(caught.value), key)



# -- logs ------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_debug_logs_across_a_run_with_retries_hide_the_key(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    core = SimCore(api_key=KEY, faults=FaultPlan([Fault("429"), Fault("500"), Fault("503")]))
    async with GrokClient.openai_compatible(
        SIM_URL, KEY, transport=SimTransport(core), retry_policy=quick_retries(3)
    ) as client:
        with anyio.fail_after(10):
            result = await weather_agent(client).run(PROMPT)
            async with weather_agent(client).run_stream(PROMPT) as stream:
                async for _ in stream:
                    pass
    assert result.usage.tool_calls == 1 and stream.result.usage.tool_calls == 1
    agentkit_records = [r for r in caplog.records if r.name.startswith("agentkit")]
    assert sum("retrying" in r.getMessage() for r in agentkit_records) == 3
    assert any(r.levelno == logging.DEBUG for r in agentkit_records)
    everything = "\n".join(
        f"{r.name} {r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in caplog.records
    )
    assert_clean(caplog.text + everything)


@pytest.mark.anyio
@pytest.mark.parametrize("key", KEYS)
async def test_retry_log_lines_hide_an_echoed_key(
    key: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server = EchoingServer(503)
    async with echo_client(server, key, retry_policy=quick_retries(1)) as client:
        with anyio.fail_after(10), pytest.raises(InternalServerError):
            await client.models.list()
    assert server.tokens == [key, key]
    assert any("retrying" in r.getMessage() for r in caplog.records)
    assert_clean(caplog.text, key)


# -- cassettes -------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_a_recorded_cassette_holds_no_key(tmp_path: Path) -> None:
    path = tmp_path / "run.json"
    recording = RecordingTransport(path, inner=SimTransport(SimCore(api_key=KEY)))
    async with GrokClient.openai_compatible(SIM_URL, KEY, transport=recording) as client:
        with anyio.fail_after(10):
            result = await weather_agent(client).run(PROMPT)
            async with weather_agent(client).run_stream(PROMPT) as stream:
                async for _ in stream:
                    pass
    assert result.usage.tool_calls == 1 and stream.result.usage.tool_calls == 1
    text = path.read_text(encoding="utf-8")
    recorded = json.loads(text)["interactions"]
    assert [i["response"]["status"] for i in recorded] == [200, 200, 200, 200]
    assert any("sse" in i["response"] for i in recorded)
    assert_clean(text)


@pytest.mark.anyio
@pytest.mark.parametrize("key", KEYS)
async def test_a_recorded_cassette_scrubs_an_echoed_key(tmp_path: Path, key: str) -> None:
    path = tmp_path / "echo.json"
    server = EchoingServer(401, "openai")
    recording = RecordingTransport(path, inner=httpx2.MockTransport(server))
    async with GrokClient.openai_compatible(SIM_URL, key, transport=recording,
                                            max_retries=0) as client:
        with anyio.fail_after(10), pytest.raises(AuthenticationError):
            await client.models.list()
    assert server.tokens == [key]
    text = path.read_text(encoding="utf-8")
    assert "Incorrect API key provided" in text
    assert_clean(text, key)


# -- the command line ------------------------------------------------------------------------


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def key_in_env(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("XAI_API_KEY", KEY)
    return KEY


def test_cli_run_json_hides_the_key(key_in_env: str) -> None:
    with run_in_thread(SimCore(api_key=KEY)) as base_url:
        code, out, err = run_cli("run", "weather", "--json", "--base-url", f"{base_url}/v1")
        assert code == 0, err  # the server requires KEY: the CLI sent it
        assert json.loads(out)["usage"]["requests"] >= 2
        assert_clean(out + err)
        # And the check can fail: the same server turns a wrong key away.
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("XAI_API_KEY", "xai-notTheKey_000000000000")
            assert run_cli("run", "weather", "--json", "--base-url", f"{base_url}/v1")[0] == 1


def test_cli_debug_traceback_of_a_failing_run_hides_the_key(key_in_env: str) -> None:
    core = SimCore(api_key=KEY, faults=FaultPlan([Fault("credits", count=10)]))
    with run_in_thread(core) as base_url:
        code, out, err = run_cli("--debug", "run", "weather", "--json",
                                 "--base-url", f"{base_url}/v1")
    assert code == 1
    assert "Traceback" in err
    # A wrong key would have been a 400; the 429 comes after the key was accepted.
    assert "QuotaExceededError" in err
    assert_clean(out + err)


class EchoingCore(SimCore):
    """A loopback server that answers every request 401, quoting the bearer token back."""

    def __init__(self) -> None:
        super().__init__()
        self.tokens: list[str] = []

    def handle(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes
    ) -> SimResponse:
        lowered = {name.lower(): value for name, value in headers.items()}
        token = lowered.get("authorization", "").removeprefix("Bearer ")
        self.tokens.append(token)
        payload = {"code": "Unauthenticated", "error": f"Incorrect API key provided: {token}"}
        return SimResponse(401, {"content-type": "application/json"}, json.dumps(payload).encode())


@pytest.mark.parametrize("key", KEYS)
def test_cli_debug_traceback_hides_a_key_the_server_echoes(
    key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XAI_API_KEY", key)
    core = EchoingCore()
    with run_in_thread(core) as base_url:
        code, out, err = run_cli("--debug", "run", "weather", "--base-url", f"{base_url}/v1")
    assert code == 1
    assert core.tokens == [key]
    assert "Traceback" in err and "AuthenticationError" in err
    assert_clean(out + err, key)
