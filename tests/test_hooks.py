"""Lifecycle hooks, end to end on the simulated server through the real client: the order of
the calls, sync and async hooks, per-run hooks, retries, fallbacks, failures and pauses."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import anyio
import anyio.lowlevel
import pytest
from pydantic import BaseModel

from agentkit import Agent, GrokClient, InternalServerError, RetryPolicy, RunState, tool
from agentkit.errors import ConfigurationError, UserError
from agentkit.hooks import RunHooks, RunInfo
from agentkit.sim import SimCore, SimReply, SimToolCall, SimTransport, scripted
from agentkit.sim.faults import Fault, FaultPlan

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("both_apis")]


class Weather(BaseModel):
    city: str
    summary: str


@tool
async def forecast(city: str) -> str:
    """The forecast for a city.

    Args:
        city: The city.
    """
    await anyio.lowlevel.checkpoint()
    return f"{city}: rain"


def _two_calls_then_answer(request: Mapping[str, Any]) -> SimReply:
    if request["messages"][-1]["role"] == "tool":
        return SimReply(content=json.dumps({"city": "Paris", "summary": "rain"}))
    return SimReply(tool_calls=(
        SimToolCall("forecast", '{"city": "Paris"}'), SimToolCall("forecast", '{"city": "Oslo"}'),
    ))


def _client(policy: Any = None, faults: FaultPlan | None = None) -> GrokClient:
    async def no_sleep(seconds: float) -> None:
        await anyio.lowlevel.checkpoint()

    return GrokClient(
        "k", base_url="http://sim.test/v1", transport=SimTransport(SimCore(policy, faults=faults)),
        retry_policy=RetryPolicy(max_retries=2, sleep=no_sleep),
    )


class Recorder(RunHooks):
    """Writes down every call, as (hook, detail)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.runs: set[str] = set()

    def on_run_start(self, run: RunInfo) -> None:
        self.runs.add(run.run_id)
        self.calls.append(("run_start", run.agent_name))

    async def on_run_end(self, run: RunInfo, result: Any, error: BaseException | None) -> None:
        await anyio.lowlevel.checkpoint()  # async hooks are awaited
        if error is not None:
            self.calls.append(("run_end", type(error).__name__))
        else:
            self.calls.append(("run_end", "paused" if result.paused else result.output))

    def on_model_request(self, run: RunInfo, request: Mapping[str, Any]) -> None:
        self.calls.append(("request", len(request["messages"])))

    async def on_model_response(self, run: RunInfo, request: Any, response: Any, error: Any) -> None:
        self.calls.append(("response", type(error).__name__ if error else response.choices[0].finish_reason))

    def on_retry(self, run: RunInfo, error: Any) -> None:
        self.calls.append(("retry", type(error).__name__))

    def on_fallback(self, run: RunInfo, error: Any, change: str) -> None:
        self.calls.append(("fallback", change))

    async def on_tool_start(self, run: RunInfo, call: Any) -> None:
        self.calls.append(("tool_start", json.loads(call.function.arguments).get("city", call.function.name)))

    def on_tool_end(self, run: RunInfo, call: Any, result: str, failed: bool) -> None:
        self.calls.append(("tool_end", (result, failed)))


async def test_hooks_see_a_run_with_parallel_tools_a_retry_and_structured_output() -> None:
    recorder = Recorder()
    async with _client(scripted(_two_calls_then_answer), FaultPlan([Fault("503")])) as client:
        agent = Agent("grok-4", name="weather", client=client, tools=[forecast],
                      output_type=Weather, hooks=[recorder])
        result = await agent.run("Weather in Paris and Oslo?")
    assert result.output == Weather(city="Paris", summary="rain")
    calls = recorder.calls
    assert calls[:4] == [
        ("run_start", "weather"), ("request", 1), ("retry", "InternalServerError"),
        ("response", "tool_calls"),
    ]
    # The two tool calls run concurrently: both start before either ends.
    tools = [name for name, _ in calls[4:8]]
    assert tools == ["tool_start", "tool_start", "tool_end", "tool_end"]
    assert {detail for name, detail in calls[4:6]} == {"Paris", "Oslo"}
    assert {detail for name, detail in calls[6:8]} == {("Paris: rain", False), ("Oslo: rain", False)}
    assert calls[8:] == [
        ("request", 4), ("response", "stop"), ("run_end", Weather(city="Paris", summary="rain")),
    ]
    assert len(recorder.runs) == 1


async def test_per_run_hooks_add_to_the_agents_and_a_stream_calls_them_too() -> None:
    agents, runs = Recorder(), Recorder()
    async with _client(scripted(["hello"])) as client:
        agent = Agent("grok-4", client=client, hooks=[agents])
        async with agent.run_stream("hi", hooks=[runs]) as stream:
            async for _ in stream:
                pass
    for recorder in (agents, runs):
        assert [name for name, _ in recorder.calls] == ["run_start", "request", "response", "run_end"]


async def test_a_failed_run_ends_with_its_error_and_a_failed_tool_is_reported() -> None:
    faults = FaultPlan([Fault("500", count=1)])

    @tool
    def broken(city: str) -> str:
        """Always fails, and the server with it.

        Args:
            city: The city.
        """
        faults.push(Fault("500", count=3))  # the next request and both its retries
        raise RuntimeError("no")

    recorder = Recorder()
    replies = [[SimToolCall("broken", '{"city": "Rome"}')], "done"]
    async with _client(scripted(replies), faults) as client:
        agent = Agent("grok-4", client=client, tools=[broken], hooks=[recorder])
        with pytest.raises(InternalServerError):
            await agent.run("go")
    names = [name for name, _ in recorder.calls]
    assert names[:4] == ["run_start", "request", "retry", "response"]
    assert recorder.calls[4] == ("tool_start", "Rome")
    assert recorder.calls[5][0] == "tool_end" and recorder.calls[5][1][1] is True
    assert "RuntimeError" in recorder.calls[5][1][0]
    assert names[6:] == ["request", "retry", "retry", "response", "run_end"]
    assert recorder.calls[-2] == ("response", "InternalServerError")
    assert recorder.calls[-1] == ("run_end", "InternalServerError")


async def test_a_capability_fallback_is_reported() -> None:
    def refuse_temperature(request: Mapping[str, Any]) -> SimReply:
        return SimReply(content="fine")

    recorder = Recorder()
    core = SimCore(scripted(refuse_temperature))
    sent: list[dict[str, Any]] = []

    class Refusing(SimTransport):
        async def handle_async_request(self, request: Any) -> Any:
            import httpx2

            body = json.loads(request.content)
            sent.append(body)
            if "temperature" in body:
                return httpx2.Response(
                    400, json={"code": "Client specified an invalid argument",
                               "error": "Argument not supported on this model: temperature"},
                )
            return await super().handle_async_request(request)

    async with GrokClient("k", base_url="http://sim.test/v1", transport=Refusing(core)) as client:
        agent = Agent("grok-4", client=client, model_settings={"temperature": 0.2}, hooks=[recorder])
        assert (await agent.run("hi")).output == "fine"
    assert ("fallback", "dropped 'temperature'") in recorder.calls
    assert [name for name, _ in recorder.calls] == [
        "run_start", "request", "response", "fallback", "request", "response", "run_end",
    ]


async def test_a_paused_run_ends_paused_and_its_resume_is_a_run_of_its_own() -> None:
    @tool(requires_approval=True)
    def refund(order: int) -> str:
        """Refund an order.

        Args:
            order: The order.
        """
        return "refunded"

    recorder = Recorder()
    replies = [[SimToolCall("refund", '{"order": 7}')], "refunded it"]
    async with _client(scripted(replies)) as client:
        agent = Agent("grok-4", name="desk", client=client, tools=[refund], hooks=[recorder])
        paused = await agent.run("refund 7")
        assert paused.paused
        state = RunState.from_json(paused.state.to_json())
        state.approve_all()
        resumed = await agent.run(state=state)
    assert resumed.output == "refunded it"
    assert len(recorder.runs) == 2
    assert recorder.calls[3] == ("run_end", "paused")
    names = [name for name, _ in recorder.calls]
    assert names == [
        "run_start", "request", "response", "run_end",
        "run_start", "tool_start", "tool_end", "request", "response", "run_end",
    ]


async def test_iter_calls_the_hooks_once_the_last_step_is_reached() -> None:
    recorder = Recorder()
    async with _client(scripted(["hi there"])) as client:
        agent = Agent("grok-4", client=client, hooks=[recorder])
        async with agent.iter("hi") as run:
            async for _ in run:
                pass
    assert [name for name, _ in recorder.calls] == ["run_start", "request", "response", "run_end"]


async def test_a_hook_that_raises_ends_the_run_with_its_error() -> None:
    class Failing(RunHooks):
        def on_model_request(self, run: RunInfo, request: Mapping[str, Any]) -> None:
            raise UserError("metrics backend is down")

    async with _client(scripted(["hi"])) as client:
        agent = Agent("grok-4", client=client, hooks=[Failing()])
        with pytest.raises(UserError, match="metrics backend is down"):
            await agent.run("hi")


def test_hooks_are_checked_when_the_agent_is_made() -> None:
    with pytest.raises(ConfigurationError, match="hooks= takes RunHooks objects"):
        Agent("grok-4", hooks=[object()])  # type: ignore[list-item]

    class AsyncRetry(RunHooks):
        async def on_retry(self, run: RunInfo, error: Any) -> None:  # type: ignore[override]
            pass

    with pytest.raises(ConfigurationError, match="on_retry must be a plain method"):
        Agent("grok-4", hooks=[AsyncRetry()])


async def test_replace_swaps_the_hooks() -> None:
    first, second = Recorder(), Recorder()
    async with _client(scripted(["a", "b"])) as client:
        agent = Agent("grok-4", client=client, hooks=[first])
        await agent.replace(hooks=[second]).run("hi")
        await agent.run("hi")
    assert len(first.runs) == 1 and len(second.runs) == 1
    with pytest.raises(ConfigurationError):
        agent.replace(hooks=[object()])  # type: ignore[list-item]
