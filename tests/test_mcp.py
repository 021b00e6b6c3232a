"""MCP servers as tool sources (`agentkit.mcp`), against a real server written with the MCP
SDK's `MCPServer`, run as a subprocess over stdio and over streamable HTTP on 127.0.0.1: tools
with their schemas, agent runs on the simulated model that call them, errors the model reads,
the tool cache and `list_changed`, prefixes, approval, a server killed mid-call, opening and
closing for a run, and the errors of bad commands and URLs."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Annotated, Any

import anyio
import pytest
from pydantic import Field

from tests.mcp_servers import (
    WEATHER_SERVER,
    free_port,
    missing_mcp_reason,
    start_http_server,
    stop,
)

pytest.importorskip("mcp", reason=missing_mcp_reason())

from agentkit import Agent, GrokClient, RunContext, ToolCallRequest, tool
from agentkit.errors import ConfigurationError, ToolArgumentsError, ToolError, UserError
from agentkit.mcp import MCPServerError, MCPServerStdio, MCPServerStreamableHTTP
from agentkit.sim import SimCore, SimReply, SimToolCall, SimTransport, scripted

pytestmark = pytest.mark.anyio

SECRET = "Bearer mcp-secret-token-0123456789"


def weather(*args: str, **options: Any) -> MCPServerStdio:
    return MCPServerStdio(sys.executable, [str(WEATHER_SERVER), *args], **options)


@pytest.fixture
def http_url(tmp_path: Path) -> Iterator[str]:
    process, url = start_http_server("--marker", str(tmp_path / "http-marker"))
    try:
        yield url
    finally:
        stop(process)


class Model:
    """Plays the model: `turns` are the calls of each turn (a list of SimToolCall) until they
    run out, then it answers with every tool result it got; it records each request."""

    def __init__(self, *turns: list[SimToolCall]) -> None:
        self.turns = list(turns)
        self.requests: list[dict[str, Any]] = []

    def __call__(self, request: Mapping[str, Any]) -> SimReply:
        self.requests.append(json.loads(json.dumps(request)))
        done = sum(1 for m in request["messages"] if m["role"] == "assistant")
        if done < len(self.turns):
            return SimReply(tool_calls=tuple(self.turns[done]))
        results = [m["content"] for m in request["messages"] if m["role"] == "tool"]
        return SimReply(content=" | ".join(results))

    def tool_names(self, index: int = 0) -> list[str]:
        return [t["function"]["name"] for t in self.requests[index].get("tools", [])]


def call(name: str, **arguments: Any) -> SimToolCall:
    return SimToolCall(name, json.dumps(arguments))


def client(model: Model) -> GrokClient:
    return GrokClient("k", base_url="http://sim.test/v1", retry_policy=None, max_retries=0,
                      transport=SimTransport(SimCore(scripted(model))))


def tool_messages(result: Any) -> list[str]:
    return [m["content"] for m in result.messages if m["role"] == "tool"]


async def eventually(check: Callable[[], bool]) -> None:
    """Wait until `check()`, about something another process does (the caller bounds it)."""
    while True:
        if check():
            return
        await anyio.sleep(0.05)


# -- tools and schemas -----------------------------------------------------------------------


async def test_the_servers_tools_come_with_its_schemas_made_grok_valid() -> None:
    @tool
    def get_forecast(city: str, days: Annotated[int, Field(ge=1, le=7)] = 1) -> None:
        """Tomorrow's weather for a city: summary, high temperature, chance of rain."""

    with anyio.fail_after(30):
        async with weather() as server:
            tools = {t.name: t for t in await server.list_tools()}
            assert list(tools) == ["get_forecast", "describe_city", "city_list", "get_radar",
                                   "add_alerts_tool", "wait_for_storm"]
            remote = tools["get_forecast"]
            # The server's schema (pydantic's, through the SDK) reads as agentkit's own would,
            # but for the extra arguments agentkit's own tools refuse and the server allows.
            local = get_forecast.definition("grok")
            del local["function"]["parameters"]["additionalProperties"]
            assert remote.definition("grok") == local
            assert remote.parameters["properties"]["days"] == {
                "default": 1, "maximum": 7, "minimum": 1, "type": "integer"}
            assert "title" not in json.dumps(remote.definition("grok"))
            # Validated here against the whole schema, before anything is sent.
            with pytest.raises(ToolArgumentsError, match=r"days: 30 is greater than the maximum of 7"):
                await remote.invoke({"city": "Paris", "days": 30})
            with pytest.raises(ToolArgumentsError, match=r"city: Field required"):
                await remote.invoke("{}")
            # "city.list" is a fine MCP name but not a function name: renamed, called by its own.
            assert await tools["city_list"].invoke({}) == "Paris, Oslo"
            assert "Oslo" in repr(await tools["describe_city"].invoke({"city": "oslo"}))


async def test_an_agent_run_calls_mcp_tools_and_reads_structured_and_text_results() -> None:
    model = Model([call("get_forecast", city="Paris"), call("describe_city", city="paris")])
    server = weather()
    with anyio.fail_after(30):
        async with client(model) as grok:
            result = await Agent("grok-4", client=grok, tools=[server]).run("Paris?")
    forecast, description = tool_messages(result)
    # Structured content, as compact JSON; a text-only tool's text as is.
    assert json.loads(forecast) == {"city": "Paris", "summary": "Rain", "high_c": 14.0,
                                    "rain_probability": 80}
    assert description == "Paris has a temperate climate."
    assert result.output == f"{forecast} | {description}"
    assert "get_forecast" in model.tool_names()
    assert result.usage.tool_calls == 2
    assert not server.is_open


async def test_an_agent_run_over_streamable_http_with_a_header(http_url: str) -> None:
    model = Model([call("get_forecast", city="Oslo")])
    server = MCPServerStreamableHTTP(http_url, headers={"Authorization": SECRET})
    with anyio.fail_after(30):
        async with client(model) as grok:
            result = await Agent("grok-4", client=grok, tools=[server]).run("Oslo?")
    assert json.loads(result.output)["summary"] == "Snow"
    assert SECRET not in repr(server) and "[REDACTED]" in repr(server)


# -- errors the model reads --------------------------------------------------------------------


async def test_an_mcp_tool_error_goes_back_to_the_model_which_tries_again() -> None:
    model = Model([call("get_forecast", city="Atlantis")], [call("get_forecast", city="Oslo")])
    with anyio.fail_after(30):
        async with client(model) as grok:
            result = await Agent("grok-4", client=grok, tools=[weather()]).run("Atlantis?")
    error, forecast = tool_messages(result)
    assert error.startswith("Error: the 'get_forecast' tool of MCP server 'weather'")
    assert "no forecast for 'Atlantis'; the cities are Oslo and Paris" in error
    assert json.loads(forecast)["city"] == "Oslo"


async def test_protocol_errors_and_timeouts_are_tool_errors_naming_the_server() -> None:
    with anyio.fail_after(30):
        async with weather(name="forecasts", timeout=1.5) as server:
            tools = {t.name: t for t in await server.list_tools()}
            with pytest.raises(ToolError, match=r"^MCP server 'forecasts' refused the call to "
                               r"'get_radar': no radar images for Oslo \(MCP error -32602\)$"):
                await tools["get_radar"].invoke({"city": "Oslo"})
            started = time.monotonic()
            with pytest.raises(ToolError, match=r"MCP server 'forecasts' did not answer the call "
                               r"to 'wait_for_storm' within 1.5 s"):
                await tools["wait_for_storm"].invoke({"city": "Oslo"})
            assert time.monotonic() - started < 10
            # The server is still there after a timed-out call.
            assert (await tools["get_forecast"].invoke({"city": "paris"}))["city"] == "Paris"
        # A tool of a server that has been closed: an error for the model, not a hang.
        with pytest.raises(ToolError, match=r"MCP server 'forecasts' is not open"):
            await tools["get_forecast"].invoke({"city": "paris"})


async def test_a_server_killed_in_the_middle_of_a_call_is_a_tool_error_within_seconds(
    tmp_path: Path,
) -> None:
    pid_file, marker = tmp_path / "pid", tmp_path / "marker"
    server = weather("--pid-file", str(pid_file), "--marker", str(marker), timeout=120)
    model = Model([call("wait_for_storm", city="Oslo")])

    async def kill_when_waiting() -> None:
        await eventually(marker.exists)
        os.kill(int(pid_file.read_text()), signal.SIGKILL)

    started = time.monotonic()
    with anyio.fail_after(30):
        async with client(model) as grok, anyio.create_task_group() as group:
            group.start_soon(kill_when_waiting)
            result = await Agent("grok-4", client=grok, tools=[server]).run("Storm?")
    [error] = tool_messages(result)
    assert error.startswith("Error: MCP server 'weather'")
    assert "is gone: its connection closed (the server exited or crashed), so the call to " \
           "'wait_for_storm' got no answer" in error
    assert time.monotonic() - started < 20  # far below the 120 s timeout: no waiting it out
    assert not server.is_open


async def test_an_http_server_killed_in_the_middle_of_a_call_is_a_tool_error(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    process, url = start_http_server("--marker", str(marker))
    try:
        server = MCPServerStreamableHTTP(url, timeout=120)
        model = Model([call("wait_for_storm", city="Oslo")], [call("get_forecast", city="Oslo")])

        async def kill_when_waiting() -> None:
            await eventually(marker.exists)
            process.kill()

        with anyio.fail_after(30):
            async with client(model) as grok, anyio.create_task_group() as group:
                group.start_soon(kill_when_waiting)
                result = await Agent("grok-4", client=grok, tools=[server]).run("Storm?")
    finally:
        stop(process)
    killed, after = tool_messages(result)
    assert f"MCP server 'weather' ({url}) is gone" in killed
    assert "'get_forecast' got no answer" in after  # the next call fails at once, too


# -- the tool cache, prefixes, approval -------------------------------------------------------------


async def wait_for_tool(server: MCPServerStdio | MCPServerStreamableHTTP, name: str) -> list[str]:
    while True:
        names = [t.name for t in await server.list_tools()]
        if name in names:
            return names
        await anyio.sleep(0.05)


async def test_tools_are_cached_until_the_server_says_they_changed() -> None:
    with anyio.fail_after(30):
        async with weather() as server:
            first = await server.list_tools()
            adder = next(t for t in first if t.name == "add_alerts_tool")
            assert await adder.invoke({"notify": False}) == "added get_alerts"
            cached = await server.list_tools()
            assert [t.name for t in cached] == [t.name for t in first]  # not asked again
            assert all(a is b for a, b in zip(cached, first, strict=True))
            # The same hook with notify: notifications/tools/list_changed drops the cache.
            await adder.invoke({"notify": True})
            names = await wait_for_tool(server, "get_alerts")
            fresh = {t.name: t for t in await server.list_tools()}
    assert names[-1] == "get_alerts"
    assert fresh["get_alerts"].parameters["required"] == ["city"]


async def test_without_the_cache_every_listing_asks_the_server(http_url: str) -> None:
    with anyio.fail_after(30):
        async with MCPServerStreamableHTTP(http_url, cache_tools=False) as server:
            adder = next(t for t in await server.list_tools() if t.name == "add_alerts_tool")
            await adder.invoke({"notify": False})
            assert "get_alerts" in [t.name for t in await server.list_tools()]


async def test_list_changed_over_http_drops_the_cache(http_url: str) -> None:
    with anyio.fail_after(30):
        async with MCPServerStreamableHTTP(http_url) as server:
            adder = next(t for t in await server.list_tools() if t.name == "add_alerts_tool")
            await adder.invoke({"notify": True})
            assert (await wait_for_tool(server, "get_alerts"))[-1] == "get_alerts"


async def test_a_prefix_avoids_a_clash_and_calls_still_reach_the_servers_names() -> None:
    @tool
    def get_forecast(city: str) -> str:
        """The local forecast.

        Args:
            city: The city.
        """
        return f"local: {city}"

    model = Model([call("get_forecast", city="Rome"), call("weather_get_forecast", city="Paris"),
                   call("weather_city_list")])
    with anyio.fail_after(30):
        async with client(model) as grok:
            agent = Agent("grok-4", client=grok, tools=[get_forecast, weather(prefix="weather")])
            result = await agent.run("Rome and Paris?")
    local, remote, cities = tool_messages(result)
    assert local == "local: Rome" and json.loads(remote)["city"] == "Paris"
    assert cities == "Paris, Oslo"
    assert model.tool_names()[:3] == ["get_forecast", "weather_get_forecast",
                                      "weather_describe_city"]
    with pytest.raises(ConfigurationError, match="prefix 'has space'"):
        weather(prefix="has space")


async def test_approval_pauses_before_an_mcp_call_and_the_resumed_run_makes_it() -> None:
    asked: list[ToolCallRequest] = []

    def paris_only(ctx: RunContext[Any], request: ToolCallRequest) -> bool:
        asked.append(request)
        return bool(request.args["city"] == "Paris")

    server = weather(requires_approval=paris_only)
    model = Model([call("get_forecast", city="Paris"), call("get_forecast", city="Oslo")])
    with anyio.fail_after(40):
        async with client(model) as grok:
            agent = Agent("grok-4", client=grok, tools=[server])
            paused = await agent.run("Paris and Oslo?")
            assert paused.paused and not server.is_open
            [waiting] = paused.interruptions
            assert (waiting.tool_name, waiting.kind) == ("get_forecast", "approval")
            assert json.loads(waiting.arguments) == {"city": "Paris"}
            # The call that needs no yes was made; the other waits.
            assert [json.loads(m)["city"] for m in tool_messages(paused)] == ["Oslo"]
            state = paused.state
            state.approve(waiting.call_id)
            result = await agent.run(state=state)  # the server is opened again for this run
    assert sorted(json.loads(m)["city"] for m in tool_messages(result)) == ["Oslo", "Paris"]
    assert result.usage.tool_calls == 2  # in all: Oslo's call is not made again
    assert [r.args["city"] for r in asked] == ["Paris", "Oslo"]  # asked once each
    assert not server.is_open


async def test_a_rejected_mcp_call_is_never_made() -> None:
    server = weather(requires_approval=True, cache_tools=False)
    model = Model([call("add_alerts_tool", notify=False)])
    with anyio.fail_after(40):
        async with client(model) as grok, server:  # one process for both runs
            agent = Agent("grok-4", client=grok, tools=[server])
            paused = await agent.run("Alerts?")
            state = paused.state
            state.reject(paused.interruptions[0].call_id, "not today")
            result = await agent.run(state=state)
            assert tool_messages(result) == [
                "Not run: the user rejected this call to add_alerts_tool. Reason: not today"]
            # Made, the call would have added get_alerts to this very server process.
            assert "get_alerts" not in [t.name for t in await server.list_tools()]


# -- opening and closing ------------------------------------------------------------------------


async def test_the_agent_opens_a_closed_server_for_the_run_and_stops_it_after(
    tmp_path: Path,
) -> None:
    pid_file = tmp_path / "pid"
    server = weather("--pid-file", str(pid_file))
    seen: list[bool] = []

    @tool
    def check() -> str:
        """Look at the server during the run."""
        seen.append(server.is_open)
        return "checked"

    model = Model([call("check")])
    with anyio.fail_after(30):
        async with client(model) as grok:
            await Agent("grok-4", client=grok, tools=[check, server]).run("Check.")
            assert seen == [True] and not server.is_open
            pid = int(pid_file.read_text())
            await eventually(lambda: not _alive(pid))  # stopped, not left behind
            # An open server stays open across runs: one session, one process.
            pid_file.unlink()
            async with server:
                first = pid_file.read_text()
                assert len(first.split()) == 1
                await Agent("grok-4", client=grok, tools=[check, server]).run("Check.")
                await Agent("grok-4", client=grok, tools=[check, server]).run("Check.")
                assert pid_file.read_text() == first
                assert seen == [True, True, True]  # open all along
    assert seen == [True, True, True] and not server.is_open


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # a zombie still counts: the SDK must have reaped it
    except ProcessLookupError:
        return False
    return True


async def test_concurrent_runs_share_one_session_and_none_closes_it_under_another(
    tmp_path: Path,
) -> None:
    pid_file = tmp_path / "pids"
    server = weather("--pid-file", str(pid_file))
    inside = {"a": anyio.Event(), "b": anyio.Event()}
    a_done = anyio.Event()

    @tool
    async def meet(run: str) -> str:
        """Wait for the other run.

        Args:
            run: Which run this is.
        """
        inside[run].set()
        await inside["b" if run == "a" else "a"].wait()
        if run == "b":
            await a_done.wait()  # b goes on with the server only once a has closed its part
        return f"{run} met"

    def policy(request: Mapping[str, Any]) -> SimReply:
        run = request["messages"][-1]["content"] if request["messages"][-1]["role"] == "user" \
            else next(m["content"] for m in request["messages"] if m["role"] == "user")
        turns = sum(1 for m in request["messages"] if m["role"] == "assistant")
        city = {"a": "Paris", "b": "Oslo"}[run]
        if turns == 0:
            return SimReply(tool_calls=(call("meet", run=run),))
        if turns == 1:
            return SimReply(tool_calls=(call("get_forecast", city=city),))
        return SimReply(content=request["messages"][-1]["content"])

    grok = GrokClient("k", base_url="http://sim.test/v1", retry_policy=None, max_retries=0,
                      transport=SimTransport(SimCore(scripted(policy))))
    outputs: dict[str, str] = {}
    agent = Agent("grok-4", client=grok, tools=[meet, server])

    async def run(name: str) -> None:
        outputs[name] = (await agent.run(name)).output
        if name == "a":
            a_done.set()

    with anyio.fail_after(40):
        async with grok, anyio.create_task_group() as group:
            group.start_soon(run, "a")
            group.start_soon(run, "b")
        assert json.loads(outputs["a"])["city"] == "Paris"
        assert json.loads(outputs["b"])["city"] == "Oslo"
        [pid] = pid_file.read_text().split()  # one process for both runs
        assert not server.is_open
        await eventually(lambda: not _alive(int(pid)))  # and it is stopped after the last
    with pytest.raises(UserError, match="is not open: use `async with server:`"):
        await server.list_tools()


# -- bad inputs -------------------------------------------------------------------------------------


async def test_a_command_that_does_not_exist_is_a_clear_error_before_any_request() -> None:
    model = Model()
    server = MCPServerStdio("agentkit-no-such-mcp-server", ["--x"])
    with anyio.fail_after(10):
        async with client(model) as grok:
            with pytest.raises(MCPServerError, match=r"cannot start MCP server "
                               r"`agentkit-no-such-mcp-server --x`: no program "
                               r"'agentkit-no-such-mcp-server'; check the command"):
                await Agent("grok-4", client=grok, tools=[server]).run("Hi")
    assert model.requests == [] and not server.is_open


async def test_a_program_that_exits_or_is_no_mcp_server_is_a_clear_error() -> None:
    with anyio.fail_after(20):
        with pytest.raises(MCPServerError, match="closed the connection during the handshake"):
            async with MCPServerStdio(sys.executable, ["-c", "import sys; sys.exit(3)"]):
                pass
        silent = MCPServerStdio(sys.executable, ["-c", "import time; time.sleep(60)"],
                                startup_timeout=1)
        started = time.monotonic()
        with pytest.raises(MCPServerError, match=r"did not complete the MCP handshake within 1 s"):
            async with silent:
                pass
        assert time.monotonic() - started < 10


async def test_a_url_that_refuses_is_a_clear_error_without_the_secrets() -> None:
    url = f"http://user:url-password-123@127.0.0.1:{free_port()}/mcp"
    server = MCPServerStreamableHTTP(url, headers={"Authorization": SECRET})
    with anyio.fail_after(20), pytest.raises(MCPServerError) as caught:
        async with server:
            pass
    message = str(caught.value)
    assert message.startswith("cannot connect to MCP server at http://user:[REDACTED]@127.0.0.1:")
    assert "url-password-123" not in message and SECRET not in message
    assert "url-password-123" not in repr(server) and "mcp-secret-token" not in repr(server)
    with pytest.raises(ConfigurationError, match="starts with http:// or https://"):
        MCPServerStreamableHTTP("127.0.0.1:8000/mcp")
    with pytest.raises(ConfigurationError, match="args takes a list"):
        MCPServerStdio("python", "server.py")
