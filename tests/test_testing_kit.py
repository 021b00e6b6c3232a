"""The testing kit users get: the switch that keeps real model requests out of test suites,
recording the simulator offline, and one script vocabulary for `ScriptedModel` and the
simulated server."""

from __future__ import annotations

import contextvars
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import httpx2
import pytest

import agentkit.sim
from agentkit import (
    Agent,
    AgentKitError,
    ConfigurationError,
    GrokClient,
    ModelRequestBlockedError,
    ReasoningDelta,
    RecordingTransport,
    ReplayTransport,
    ToolCallFinished,
    ToolCallStarted,
    UserError,
    tool,
)
from agentkit._switch import is_loopback_host, model_requests_allowed
from agentkit.sim import SimCore, SimReply, SimToolCall, SimTransport, run_in_thread
from agentkit.sim.policy import ScriptExhaustedError
from agentkit.testing import (
    ScriptedCall,
    ScriptedModel,
    ScriptedReply,
    allow_model_requests,
    block_model_requests,
    call,
    reply,
    scripted,
)
from agentkit.types import ChatCompletion

KEY = "xai-testing-kit-key-0123456789abcdef"
ENV = "AGENTKIT_ALLOW_MODEL_REQUESTS"
HELLO = [{"role": "user", "content": "Hello"}]


class OpaqueTransport(httpx2.AsyncBaseTransport):
    """A transport agentkit cannot see into, so it counts as the network; it answers from the
    simulator, and counts what reached it."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self._simulator = SimTransport(SimCore())

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        self.sent.append(f"{request.method} {request.url}")
        return await self._simulator.handle_async_request(request)


def real_client(transport: httpx2.AsyncBaseTransport | None = None, **options: Any) -> GrokClient:
    """A client for api.x.ai with a key, as a developer's shell would make it."""
    return GrokClient(KEY, transport=transport or OpaqueTransport(), max_retries=2, **options)


async def ask(client: GrokClient) -> str:
    completion = await client.chat.completions.create(model="grok-4.3", messages=HELLO)
    return completion.message.content or ""


@tool
def get_forecast(city: str) -> str:
    """Weather forecast for a city.

    Args:
        city: City name.
    """
    return f"{city}: rain, 12 C"


@tool
def get_time(zone: str) -> str:
    """The time in a zone.

    Args:
        zone: IANA zone.
    """
    return f"09:30 in {zone}"


# -- the switch: blocked -----------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("value", ["0", "false", "No", " off "])
async def test_the_environment_blocks_a_real_request_before_it_is_sent(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv(ENV, value)
    transport = OpaqueTransport()
    async with real_client(transport) as client:
        with pytest.raises(ModelRequestBlockedError) as caught:
            await ask(client)
    assert transport.sent == []  # not sent, and not retried either
    message = str(caught.value)
    assert f"{ENV}={value}" in message
    assert "POST https://api.x.ai/v1/chat/completions" in message
    assert f"{ENV}=1" in message and "allow_model_requests()" in message
    assert KEY not in message
    assert isinstance(caught.value, UserError) and isinstance(caught.value, AgentKitError)


@pytest.mark.anyio
async def test_every_route_and_streams_are_blocked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, "0")
    transport = OpaqueTransport()
    async with real_client(transport) as client:
        with pytest.raises(ModelRequestBlockedError):
            await client.chat.completions.create(model="grok-4.3", messages=HELLO, stream=True)
        with pytest.raises(ModelRequestBlockedError):
            await client.models.list()
        with pytest.raises(ModelRequestBlockedError):
            await client.tokenize(text="hi", model="grok-4.3")
        with pytest.raises(ModelRequestBlockedError):  # health() reports failures, not this
            await client.health()
    assert transport.sent == []


@pytest.mark.anyio
async def test_an_agent_run_fails_with_the_blocked_error_itself() -> None:
    transport = OpaqueTransport()
    async with real_client(transport) as client:
        agent = Agent("grok-4.3", tools=[get_forecast], client=client)
        with block_model_requests():
            with pytest.raises(ModelRequestBlockedError, match="block_model_requests"):
                await agent.run("Will it rain in Paris?")
            async with agent.run_stream("Will it rain in Paris?") as stream:
                with pytest.raises(ModelRequestBlockedError):
                    await stream.get_result()
    assert transport.sent == []


@pytest.mark.anyio
async def test_recording_the_network_is_blocked_and_writes_nothing(tmp_path: Path) -> None:
    cassette = tmp_path / "real.json"
    async with GrokClient(KEY, transport=RecordingTransport(cassette)) as client:
        with block_model_requests(), pytest.raises(ModelRequestBlockedError):
            await ask(client)
    assert not cassette.exists()


@pytest.mark.anyio
async def test_an_http_client_of_your_own_counts_as_the_network() -> None:
    transport = OpaqueTransport()
    async with httpx2.AsyncClient(transport=transport) as http, GrokClient(
        KEY, http_client=http
    ) as client:
        with block_model_requests(), pytest.raises(ModelRequestBlockedError):
            await ask(client)
        assert await ask(client)  # outside the block it goes through
    assert len(transport.sent) == 1


# -- the switch: allowed -----------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("value", ["1", "true", "YES", "", None])
async def test_requests_go_through_by_default_and_when_allowed(
    monkeypatch: pytest.MonkeyPatch, value: str | None
) -> None:
    if value is None:
        monkeypatch.delenv(ENV, raising=False)
    else:
        monkeypatch.setenv(ENV, value)
    transport = OpaqueTransport()
    async with real_client(transport) as client:
        assert await ask(client)
    assert transport.sent == ["POST https://api.x.ai/v1/chat/completions"]


@pytest.mark.anyio
async def test_an_unknown_value_is_refused_rather_than_guessed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(ENV, "nope")
    transport = OpaqueTransport()
    async with real_client(transport) as client:
        with pytest.raises(ConfigurationError, match=r"AGENTKIT_ALLOW_MODEL_REQUESTS='nope'.*use 1"):
            await ask(client)
    assert transport.sent == []


@pytest.fixture
def cassette(tmp_path: Path) -> Path:
    path = tmp_path / "hello.json"
    anyio.run(_record_hello, path)
    return path


async def _record_hello(path: Path) -> None:
    async with GrokClient.simulated(
        scripted(["Hello from the script."]), transport=RecordingTransport(path)
    ) as client:
        await ask(client)


@pytest.mark.anyio
async def test_offline_clients_are_never_blocked(
    monkeypatch: pytest.MonkeyPatch, cassette: Path
) -> None:
    monkeypatch.setenv(ENV, "0")
    mock = httpx2.MockTransport(lambda request: httpx2.Response(
        200, json=json.loads(json.dumps(_completion_body("mocked")))))
    clients = [
        GrokClient.simulated(),
        GrokClient.simulated(scripted(["scripted"])),
        GrokClient(KEY, transport=ReplayTransport(cassette)),
        GrokClient(KEY, transport=RecordingTransport(cassette.with_name("again.json"),
                                                     inner=SimTransport(SimCore()))),
        GrokClient(KEY, transport=mock),
        GrokClient(KEY, transport=httpx2.ASGITransport(app=_asgi_app)),
    ]
    with block_model_requests():
        for client in clients:
            async with client:
                assert await ask(client)
        result = await Agent("grok-4.3", client=ScriptedModel(["fine"])).run("Hello")
        assert result.output == "fine"


def _completion_body(text: str) -> dict[str, Any]:
    return {
        "id": "x", "object": "chat.completion", "created": 0, "model": "grok-4.3",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                     "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


async def _asgi_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    while (await receive())["type"] != "http.request":
        pass
    body = json.dumps(_completion_body("from asgi")).encode()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})


@pytest.mark.anyio
async def test_servers_on_this_machine_are_never_blocked() -> None:
    with run_in_thread(SimCore()) as url, block_model_requests():
        port = url.rsplit(":", 1)[1]
        for base in (f"{url}/v1", f"http://localhost:{port}/v1"):
            async with GrokClient.openai_compatible(base, KEY) as client:
                assert await ask(client)


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.8.9.10", True), ("::1", True), ("localhost", True),
     ("LocalHost.", True), ("grok.localhost", True), ("api.x.ai", False),
     ("localhost.example.com", False), ("10.0.0.1", False), ("0.0.0.0", False), ("", False),
     (None, False)],
)
def test_what_counts_as_this_machine(host: str | None, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback


# -- the switch: scopes ------------------------------------------------------------------------


@pytest.mark.anyio
async def test_allow_inside_a_blocked_suite_and_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, "0")
    transport = OpaqueTransport()
    async with real_client(transport) as client:
        with allow_model_requests():
            assert await ask(client)
        with pytest.raises(ModelRequestBlockedError):
            await ask(client)
    assert len(transport.sent) == 1


def test_blocks_nest_and_restore() -> None:
    assert model_requests_allowed()
    with block_model_requests():
        assert not model_requests_allowed()
        with allow_model_requests():
            assert model_requests_allowed()
            with block_model_requests():
                assert not model_requests_allowed()
            assert model_requests_allowed()
        assert not model_requests_allowed()
    assert model_requests_allowed()
    switch = block_model_requests()
    with switch, switch:  # one object entered twice
        assert not model_requests_allowed()
    assert model_requests_allowed()


@pytest.mark.anyio
async def test_a_block_reaches_what_it_starts_and_nothing_beside_it() -> None:
    inside, outside_checked = anyio.Event(), anyio.Event()
    seen: dict[str, bool] = {}

    async def blocked_task() -> None:
        with block_model_requests():
            async with anyio.create_task_group() as children:
                children.start_soon(_note, seen, "child task")
            seen["worker thread"] = await anyio.to_thread.run_sync(model_requests_allowed)
            inside.set()
            await outside_checked.wait()

    async def neighbour() -> None:
        await inside.wait()  # the other task is inside its block now
        seen["neighbour task"] = model_requests_allowed()
        outside_checked.set()

    async with anyio.create_task_group() as group:
        group.start_soon(blocked_task)
        group.start_soon(neighbour)
    assert seen == {"child task": False, "worker thread": False, "neighbour task": True}


async def _note(seen: dict[str, bool], name: str) -> None:
    seen[name] = model_requests_allowed()


def test_the_switch_is_not_a_decorator() -> None:
    # Around an async test a decorator would switch nothing while the test runs.
    assert not callable(block_model_requests())
    assert repr(block_model_requests()) == "block_model_requests()"


def test_leaving_a_block_from_another_context_does_not_raise() -> None:
    switch = block_model_requests()
    contextvars.copy_context().run(switch.__enter__)
    switch.__exit__(None, None, None)
    assert model_requests_allowed()


@pytest.fixture
def no_model_requests() -> Iterator[None]:
    with block_model_requests():
        yield


@pytest.mark.anyio
@pytest.mark.usefixtures("no_model_requests")
async def test_a_fixture_holds_the_block_for_an_async_test() -> None:
    assert not model_requests_allowed()
    async with real_client() as client:
        with pytest.raises(ModelRequestBlockedError):
            await ask(client)


def test_processes_inherit_the_environment_switch(tmp_path: Path) -> None:
    # The base URL never resolves, so a broken switch could not reach anything either.
    env = {**os.environ, "XAI_API_KEY": KEY, "XAI_BASE_URL": "https://api.example.invalid/v1",
           ENV: "0"}
    done = subprocess.run([sys.executable, "-m", "agentkit", "run", "weather", "hi"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0, done.stderr
    assert "ModelRequestBlockedError: real model requests are switched off" in done.stderr
    assert f"{ENV}=0" in done.stderr
    assert KEY not in done.stderr + done.stdout


# -- recording the simulator -------------------------------------------------------------------


@pytest.mark.anyio
async def test_simulated_records_to_a_cassette_offline(tmp_path: Path) -> None:
    path = tmp_path / "sim.json"
    recorder = RecordingTransport(path)
    async with GrokClient.simulated(scripted(["Plain.", "Streamed."]), transport=recorder) as client:
        assert await ask(client) == "Plain."
        stream = await client.chat.completions.create(model="grok-4.3", messages=HELLO,
                                                      stream=True)
        async with stream:
            assert (await stream.final()).message.content == "Streamed."
    assert isinstance(recorder.inner, SimTransport)
    text = path.read_text(encoding="utf-8")
    exchanges = json.loads(text)["interactions"]
    assert [e["request"]["path"] for e in exchanges] == ["/v1/chat/completions"] * 2
    assert "json" in exchanges[0]["response"] and "sse" in exchanges[1]["response"]
    assert "sim-key" not in text


@pytest.mark.anyio
async def test_a_recording_of_the_simulator_replays_anywhere(tmp_path: Path) -> None:
    path = tmp_path / "agent.json"
    script = [call("get_forecast", city="Paris"), "Take an umbrella."]
    async with GrokClient.simulated(scripted(script), transport=RecordingTransport(path)) as client:
        recorded = await Agent("grok-4.3", tools=[get_forecast], client=client).run("Paris?")
    for client in (GrokClient.simulated(transport=ReplayTransport(path)),
                   GrokClient("any", base_url="https://api.x.ai/v1",
                              transport=ReplayTransport(path))):
        async with client:
            replayed = await Agent("grok-4.3", tools=[get_forecast], client=client).run("Paris?")
        assert replayed.output == recorded.output == "Take an umbrella."
        assert replayed.usage.tool_calls == 1


@pytest.mark.anyio
async def test_from_environment_records_the_simulator_without_a_key(tmp_path: Path) -> None:
    path = tmp_path / "env.json"
    notice = io.StringIO()
    async with GrokClient.from_environment(notice=notice,
                                           transport=RecordingTransport(path)) as client:
        assert await ask(client)
    assert "simulated Grok model" in notice.getvalue()
    assert len(json.loads(path.read_text())["interactions"]) == 1


@pytest.mark.anyio
async def test_simulated_takes_a_simulator_you_configured(tmp_path: Path) -> None:
    core = SimCore(scripted(["From my core."]))
    async with GrokClient.simulated(transport=SimTransport(core)) as client:
        assert await ask(client) == "From my core."
    path = tmp_path / "mine.json"
    core = SimCore(scripted(["Recorded from my core."]))
    recorder = RecordingTransport(path, inner=SimTransport(core))
    async with GrokClient.simulated(transport=recorder) as client:
        assert await ask(client) == "Recorded from my core."
    assert "Recorded from my core." in path.read_text()


def test_simulated_refuses_what_it_cannot_honour(tmp_path: Path) -> None:
    mock = httpx2.MockTransport(lambda request: httpx2.Response(500))
    with pytest.raises(ConfigurationError, match=r"takes a RecordingTransport .* got MockTransport"):
        GrokClient.simulated(transport=mock)
    with pytest.raises(ConfigurationError, match="got MockTransport"):
        GrokClient.simulated(transport=RecordingTransport(tmp_path / "a.json", inner=mock))
    with pytest.raises(ConfigurationError, match="a policy and a ReplayTransport"):
        GrokClient.simulated(scripted(["x"]), transport=ReplayTransport(_empty(tmp_path)))
    with pytest.raises(ConfigurationError, match="a policy and a SimTransport"):
        GrokClient.simulated(scripted(["x"]), transport=RecordingTransport(
            tmp_path / "b.json", inner=SimTransport()))
    for option in ("api_key", "base_url", "provider", "http_client"):
        with pytest.raises(ConfigurationError, match=f"sets {option} itself"):
            GrokClient.simulated(**{option: None})
    recorder = RecordingTransport(tmp_path / "c.json")
    GrokClient.simulated(transport=recorder)
    with pytest.raises(ConfigurationError, match="already records SimTransport"):
        recorder._attach(SimTransport())


def _empty(folder: Path) -> Path:
    path = folder / "empty.json"
    path.write_text('{"format": "agentkit-cassette/1", "interactions": []}')
    return path


# -- one script vocabulary ---------------------------------------------------------------------


def _tool_turns(result: Any) -> list[list[tuple[str, dict[str, Any]]]]:
    """The tool calls of each assistant turn, as (name, arguments)."""
    return [
        [(c["function"]["name"], json.loads(c["function"]["arguments"])) for c in m["tool_calls"]]
        for m in result.messages if m.get("role") == "assistant" and m.get("tool_calls")
    ]


@pytest.mark.anyio
async def test_one_script_drives_the_scripted_model_and_the_simulator() -> None:
    script = [
        [call("get_forecast", city="Paris"), call("get_time", {"zone": "Europe/Paris"})],
        call("get_forecast", city="Oslo"),
        reply("Rain in both; it is 09:30.", reasoning="Two forecasts."),
    ]
    agent = Agent("grok-4.3", tools=[get_forecast, get_time])
    through_model = await agent.replace(client=ScriptedModel(script)).run("Paris and Oslo?")
    async with GrokClient.simulated(scripted(script)) as client:
        through_http = await agent.replace(client=client).run("Paris and Oslo?")
    for result in (through_model, through_http):
        assert result.output == "Rain in both; it is 09:30."
        assert _tool_turns(result) == [
            [("get_forecast", {"city": "Paris"}), ("get_time", {"zone": "Europe/Paris"})],
            [("get_forecast", {"city": "Oslo"})],
        ]
        assert result.usage.requests == 3 and result.usage.tool_calls == 3


@pytest.mark.anyio
async def test_the_scripted_model_takes_the_simulators_replies() -> None:
    script: list[Any] = [
        SimReply(tool_calls=(SimToolCall("get_forecast", '{"city": "Rome"}'),)),
        SimToolCall("get_forecast", '{"city": "Oslo"}'),
        [SimToolCall("get_time", '{"zone": "UTC"}'), call("get_forecast", city="Lima")],
        SimReply(content="Done.", reasoning="All looked up."),
    ]
    model = ScriptedModel(script)
    agent = Agent("grok-4.3", tools=[get_forecast, get_time], client=model)
    async with agent.run_stream("Weather?") as stream:
        events = [event async for event in stream]
    assert [e.name for e in events if isinstance(e, ToolCallStarted)] == [
        "get_forecast", "get_forecast", "get_time", "get_forecast"]
    assert all(e.ok for e in events if isinstance(e, ToolCallFinished))
    assert "".join(e.text for e in events if isinstance(e, ReasoningDelta)) == "All looked up."
    assert stream.result.output == "Done."


def test_scripted_takes_the_testing_vocabulary() -> None:
    policy = scripted([
        "text",
        call("f", x=1),
        [call("f", x=1), SimToolCall("g", "{}")],
        reply("both", tool_calls=[call("f", "{not json")], reasoning="r", finish_reason="stop"),
        SimToolCall("g", '{"y": 2}'),
        SimReply(content="old spelling"),
    ])
    assert [policy({}) for _ in range(6)] == [
        SimReply(content="text"),
        SimReply(tool_calls=(SimToolCall("f", '{"x": 1}'),)),
        SimReply(tool_calls=(SimToolCall("f", '{"x": 1}'), SimToolCall("g", "{}"))),
        SimReply(content="both", reasoning="r", tool_calls=(SimToolCall("f", "{not json"),),
                 finish_reason="stop"),
        SimReply(tool_calls=(SimToolCall("g", '{"y": 2}'),)),
        SimReply(content="old spelling"),
    ]
    from_function = scripted(lambda request: call("f", model=request["model"]))
    assert from_function({"model": "grok-4"}) == SimReply(
        tool_calls=(SimToolCall("f", '{"model": "grok-4"}'),))


def test_scripted_refuses_what_only_the_scripted_model_can_do() -> None:
    with pytest.raises(ConfigurationError, match="makes its own call ids"):
        scripted([call("f", id="call_1")])
    with pytest.raises(ConfigurationError, match="counts the tokens"):
        scripted([reply("x", usage={"prompt_tokens": 1, "completion_tokens": 1,
                                    "total_tokens": 2})])
    with pytest.raises(ConfigurationError, match="Fault"):
        scripted([RuntimeError("boom")])  # type: ignore[list-item]
    completion = ChatCompletion.model_validate(_completion_body("ready"))
    with pytest.raises(TypeError, match="SimReply or a str"):
        scripted([completion])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="SimReply or a str"):
        scripted([[call("f"), "not a call"]])  # type: ignore[list-item]


@pytest.mark.anyio
async def test_a_bad_reply_in_a_scripted_model_names_its_place() -> None:
    model = ScriptedModel(["fine", 42])  # type: ignore[list-item]
    agent = Agent("grok-4.3", client=model)
    assert (await agent.run("one")).output == "fine"
    with pytest.raises(TypeError, match="reply 2 is 42, which is not a reply"):
        await agent.run("two")
    with pytest.raises(TypeError, match="a call"):
        reply(tool_calls=["get_forecast"])  # type: ignore[list-item]


def test_running_out_of_replies_is_a_user_error_both_ways() -> None:
    policy = scripted([])
    with pytest.raises(ScriptExhaustedError) as caught:
        policy({})
    assert isinstance(caught.value, UserError) and isinstance(caught.value, LookupError)
    model = ScriptedModel([])
    with pytest.raises(UserError, match="ran out of replies"):
        anyio.run(model.complete, {"messages": []})


def test_the_old_and_new_names_are_one_vocabulary() -> None:
    assert scripted is agentkit.sim.scripted
    assert call("f", x=1) == ScriptedCall("f", '{"x": 1}')
    assert reply(tool_calls=[SimToolCall("f", "{}")]) == ScriptedReply(
        tool_calls=(ScriptedCall("f", "{}"),))
