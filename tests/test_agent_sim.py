"""The agent on `GrokClient.simulated()`: the whole stack, in process, wire-faithful, on both
APIs (`/v1/chat/completions` and `/v1/responses`): every test runs once per API."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import anyio
import pytest
from pydantic import BaseModel

pytest.importorskip("agentkit.sim", reason="the simulated model (agentkit/sim) does not import yet")

from agentkit.agent import Agent
from agentkit.client import GrokClient
from agentkit.errors import OutputValidationError
from agentkit.events import FinalResult, TextDelta, ToolCallFinished, ToolCallStarted
from agentkit.sim import Fault, FaultPlan, SimCore, SimTransport
from agentkit.sim.reply import SimReply, SimToolCall
from agentkit.tool import tool

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["chat", "responses"])
def api(request: pytest.FixtureRequest) -> str:
    return str(request.param)


class Forecast(BaseModel):
    city: str
    summary: str
    high_c: float


@tool
def get_forecast(city: str) -> dict[str, Any]:
    """Get the weather forecast for a city.

    Args:
        city: The city.
    """
    return {"city": city, "summary": "Rain", "high_c": 14.5}


def weather_policy(body: Mapping[str, Any]) -> SimReply:
    """Call get_forecast once, then answer with what it returned."""
    results = [m for m in body["messages"] if m.get("role") == "tool"]
    if not results:
        return SimReply(content="Checking.", tool_calls=(SimToolCall("get_forecast", '{"city": "Paris"}'),))
    return SimReply(content=results[-1]["content"])


async def test_tool_then_structured_answer_on_the_simulator(api: str) -> None:
    async with GrokClient.simulated(weather_policy) as client:
        agent = Agent("grok-4", api=api, tools=[get_forecast], output_type=Forecast, client=client)
        with anyio.fail_after(5):
            result = await agent.run("Will it rain in Paris?")
    assert result.output == Forecast(city="Paris", summary="Rain", high_c=14.5)
    assert result.usage.requests == 2
    assert result.usage.tool_calls == 1
    assert result.usage.total_tokens > 0
    json.loads(result.to_json())


async def test_streaming_on_the_simulator(api: str) -> None:
    async with GrokClient.simulated(weather_policy) as client:
        agent = Agent("grok-4", api=api, tools=[get_forecast], output_type=Forecast, client=client)
        with anyio.fail_after(5):
            async with agent.run_stream("Will it rain in Paris?") as stream:
                events = [event async for event in stream]
    assert isinstance(events[-1], FinalResult)
    assert any(isinstance(e, ToolCallFinished) and e.ok for e in events)
    assert stream.result.output.city == "Paris"


async def test_the_default_simulated_model_finishes_a_run(api: str) -> None:
    async with GrokClient.simulated() as client:
        agent = Agent("grok-4", api=api, tools=[get_forecast], client=client, max_turns=6)
        with anyio.fail_after(5):
            result = await agent.run("What is the weather in Paris?")
    assert isinstance(result.output, str)
    assert result.messages[-1]["role"] == "assistant"


def _client_with_faults(*faults: Fault) -> GrokClient:
    core = SimCore(faults=FaultPlan(faults))
    return GrokClient("sim-key", base_url="http://sim.local/v1", transport=SimTransport(core),
                      max_retries=0)


QUESTION = "What is the weather forecast in Paris and Tokyo?"


@pytest.mark.parametrize(("model", "mode"), [
    ("grok-4", "auto"), ("grok-3", "auto"), ("grok-4", "tool"), ("grok-3", "prompted"),
])
async def test_the_simulated_model_in_each_output_mode(model: str, mode: Any, api: str) -> None:
    async with GrokClient.simulated() as client:
        agent = Agent(model, api=api, tools=[get_forecast], output_type=Forecast, client=client,
                      output_mode=mode)
        with anyio.fail_after(5):
            result = await agent.run(QUESTION)
    assert result.output.summary == "Rain"
    assert result.usage.tool_calls == 2  # one call per city, in one turn
    assert result.usage.requests == 2
    assert agent._capabilities == {}  # nothing had to be learned


async def test_the_simulators_400_for_structured_output_with_tools_is_learned(api: str) -> None:
    async with GrokClient.simulated() as client:
        # grok-3 cannot combine json_schema with tools; forcing native mode gets a real 400.
        agent = Agent("grok-3", api=api, tools=[get_forecast], output_type=Forecast, client=client,
                      output_mode="native")
        with anyio.fail_after(5):
            first = await agent.run(QUESTION)
            second = await agent.run(QUESTION)
    assert first.output.city and second.output.city
    assert first.usage.requests == 3  # the rejected request, then two in tool mode
    assert second.usage.requests == 2  # learned: straight to tool mode
    (learned,) = agent._capabilities.values()
    assert learned.output_mode == "tool"


async def test_bad_output_from_the_simulator_is_retried(api: str) -> None:
    async with _client_with_faults(Fault("bad_output")) as client:
        agent = Agent("grok-4", api=api, output_type=Forecast, client=client)
        with anyio.fail_after(5):
            result = await agent.run("Forecast for Paris: summary Rain, high_c 14.5")
    assert result.usage.requests == 2
    assert result.messages[-2]["role"] == "user"  # the validation errors went back
    assert isinstance(result.output, Forecast)


async def test_bad_output_every_time_exhausts_the_output_retries(api: str) -> None:
    async with _client_with_faults(Fault("bad_output", count=5)) as client:
        agent = Agent("grok-4", api=api, output_type=Forecast, client=client, output_retries=1)
        with anyio.fail_after(5), pytest.raises(OutputValidationError) as info:
            await agent.run("Forecast for Paris: summary Rain, high_c 14.5")
    assert info.value.errors
    assert info.value.messages[-1]["role"] == "assistant"


async def test_bad_tool_arguments_from_the_simulator_are_corrected(api: str) -> None:
    async with _client_with_faults(Fault("bad_tool_args")) as client:
        agent = Agent("grok-4", api=api, tools=[get_forecast], client=client)
        with anyio.fail_after(5):
            result = await agent.run("What is the weather forecast in Paris?")
    feedback = [m["content"] for m in result.messages if m["role"] == "tool"]
    assert "Invalid arguments" in feedback[0]
    assert any('"Paris"' in text for text in feedback[1:])


async def test_streaming_text_from_the_simulated_model(api: str) -> None:
    async with GrokClient.simulated() as client:
        agent = Agent("grok-4", api=api, tools=[get_forecast], client=client)
        with anyio.fail_after(5):
            async with agent.run_stream("What is the weather forecast in Paris?") as stream:
                events = [event async for event in stream]
    started = [i for i, e in enumerate(events) if isinstance(e, ToolCallStarted)]
    deltas = [i for i, e in enumerate(events) if isinstance(e, TextDelta)]
    assert started and deltas and started[0] < deltas[0]
    text = "".join(events[i].text for i in deltas)  # type: ignore[union-attr]
    assert text == stream.result.output
    assert "Rain" in text


@pytest.mark.parametrize("streamed", [False, True], ids=["run", "run_stream"])
async def test_a_finished_run_leaves_no_reference_cycle_behind(api: str, streamed: bool) -> None:
    # A run freed by reference counting costs nothing more; one caught in a cycle waits for
    # the garbage collector, which at thousands of runs in flight runs every few runs.
    import gc

    from agentkit._run import AgentRun
    from agentkit.state import RunState

    async def one_run(agent: Agent[Any, Any]) -> None:
        if streamed:
            async with agent.run_stream("Will it rain in Paris?") as stream:
                async for _ in stream:
                    pass
        else:
            await agent.run("Will it rain in Paris?")

    async with GrokClient.simulated(weather_policy) as client:
        agent = Agent("grok-4", api=api, tools=[get_forecast], output_type=Forecast, client=client)
        await one_run(agent)  # caches and pools filled: what follows is the run's own
        gc.collect()
        gc.disable()
        gc.set_debug(gc.DEBUG_SAVEALL)
        try:
            await one_run(agent)
            gc.collect()
            caught = [type(o).__name__ for o in gc.garbage if isinstance(o, AgentRun | RunState)]
        finally:
            gc.set_debug(0)
            gc.garbage.clear()
            gc.enable()
    assert caught == []
