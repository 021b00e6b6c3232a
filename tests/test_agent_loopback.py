"""The agent over a real socket: `GrokClient.openai_compatible()` against the simulated server
on 127.0.0.1, checked against the same runs in process on `GrokClient.simulated()`.

Both sides use a fresh `SimCore` with the default simulated model and seed, so the two
transports must produce the very same conversation, ids included: anything the socket server
adds, drops or reshapes on the way shows up as a difference.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import anyio
import pytest
from pydantic import BaseModel

from agentkit.agent import Agent
from agentkit.client import GrokClient
from agentkit.events import (
    AgentEvent,
    FinalResult,
    PartialOutput,
    TextDelta,
    ToolCallFinished,
    ToolCallStarted,
)
from agentkit.sim import SimCore
from agentkit.sim.server import RunningServer
from agentkit.tool import Tool, tool
from agentkit.usage import RunUsage

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("both_apis")]

MODEL = "grok-4"
SERVER_THREAD = "agentkit-sim-server"  # the name RunningServer gives its thread
FORECAST_QUESTION = "What is the weather forecast in Paris?"
PERSON_PROMPT = "Ada Lovelace is 36 years old and speaks English and French."
MODES = pytest.mark.parametrize("streaming", [False, True], ids=["run", "run_stream"])


class Person(BaseModel):
    name: str
    age: int
    languages: list[str]


def forecast_tool(seen: list[str]) -> Tool:
    """A weather tool that notes every city it is really called with."""

    @tool
    def get_forecast(city: str) -> dict[str, Any]:
        """Get the weather forecast for a city.

        Args:
            city: The city.
        """
        seen.append(city)
        return {"city": city, "summary": "Light drizzle", "high_c": 17.5}

    return get_forecast


@dataclass
class Outcome:
    """What one run did, in a form two transports can be compared by."""

    output: Any
    messages: list[dict[str, Any]]
    usage: RunUsage
    executed: list[str] = field(default_factory=list)
    events: list[AgentEvent] = field(default_factory=list)


async def run_agent(agent: Agent[Any, Any], prompt: str, *, streaming: bool) -> Outcome:
    if not streaming:
        result = await agent.run(prompt)
        return Outcome(result.output, result.messages, result.usage)
    async with agent.run_stream(prompt) as stream:
        events = [event async for event in stream]
    result = stream.result
    assert isinstance(events[-1], FinalResult)
    assert events[-1].result is result
    return Outcome(result.output, result.messages, result.usage, events=events)


async def forecast_run(client: GrokClient, *, streaming: bool) -> Outcome:
    seen: list[str] = []
    agent = Agent(MODEL, tools=[forecast_tool(seen)], client=client)
    outcome = await run_agent(agent, FORECAST_QUESTION, streaming=streaming)
    outcome.executed = seen
    return outcome


async def person_run(client: GrokClient, *, streaming: bool) -> Outcome:
    agent = Agent(MODEL, output_type=Person, client=client)
    return await run_agent(agent, PERSON_PROMPT, streaming=streaming)


def server_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name == SERVER_THREAD}


@pytest.fixture
def loopback_url() -> Iterator[str]:
    """A fresh server on 127.0.0.1 (its own SimCore, so ids restart from the seed)."""
    before = server_threads()
    server = RunningServer(SimCore())
    server.start()
    try:
        (thread,) = server_threads() - before
        yield f"{server.base_url}/v1"
    finally:
        server.stop()
    # stop() joins the thread, so it has left enumerate() already: nothing to wait for.
    assert thread not in threading.enumerate()
    assert server_threads() == before


async def over_loopback(url: str, run: Any, *, streaming: bool) -> Outcome:
    async with GrokClient.openai_compatible(url, max_retries=0) as client:
        outcome: Outcome = await run(client, streaming=streaming)
    return outcome


async def in_process(run: Any, *, streaming: bool) -> Outcome:
    async with GrokClient.simulated(max_retries=0) as client:
        outcome: Outcome = await run(client, streaming=streaming)
    return outcome


def assert_same_run(socket: Outcome, local: Outcome) -> None:
    assert local.output == socket.output
    assert local.executed == socket.executed
    assert local.messages == socket.messages  # tool calls, ids, results and answers
    assert local.usage == socket.usage
    assert [type(e) for e in local.events] == [type(e) for e in socket.events]


@MODES
async def test_tool_round_trip_over_loopback_matches_in_process(
    loopback_url: str, streaming: bool
) -> None:
    with anyio.fail_after(10):
        socket = await over_loopback(loopback_url, forecast_run, streaming=streaming)
        local = await in_process(forecast_run, streaming=streaming)

    # The model asked for the tool, the function really ran, its result went back...
    assert socket.executed == ["Paris"]
    user, call, result, answer = socket.messages
    assert user == {"role": "user", "content": FORECAST_QUESTION}
    (tool_call,) = call["tool_calls"]
    assert tool_call["function"]["name"] == "get_forecast"
    assert json.loads(tool_call["function"]["arguments"]) == {"city": "Paris"}
    assert result["role"] == "tool" and result["tool_call_id"] == tool_call["id"]
    assert json.loads(result["content"]) == {
        "city": "Paris",
        "summary": "Light drizzle",
        "high_c": 17.5,
    }
    # ...and the final answer is built from it.
    assert answer["role"] == "assistant"
    assert isinstance(socket.output, str)
    assert "Light drizzle" in socket.output and "17.5" in socket.output
    assert answer["content"] == socket.output
    assert socket.usage.requests == 2 and socket.usage.tool_calls == 1
    if streaming:
        started = [e for e in socket.events if isinstance(e, ToolCallStarted)]
        finished = [e for e in socket.events if isinstance(e, ToolCallFinished)]
        assert [(e.name, e.tool_call_id) for e in started] == [("get_forecast", tool_call["id"])]
        assert [e.ok for e in finished] == [True]
        text = "".join(e.text for e in socket.events if isinstance(e, TextDelta))
        assert text == socket.output

    assert_same_run(socket, local)


@MODES
async def test_structured_output_over_loopback_matches_in_process(
    loopback_url: str, streaming: bool
) -> None:
    with anyio.fail_after(10):
        socket = await over_loopback(loopback_url, person_run, streaming=streaming)
        local = await in_process(person_run, streaming=streaming)

    assert isinstance(socket.output, Person)
    assert socket.output.name == "Ada Lovelace"
    assert socket.output.age == 36
    assert set(socket.output.languages) == {"English", "French"}
    # The answer was JSON that validated the first time: one request, no retry.
    assert socket.usage.requests == 1
    assert Person.model_validate_json(socket.messages[-1]["content"]) == socket.output
    if streaming:
        partials = [e for e in socket.events if isinstance(e, PartialOutput)]
        assert partials and partials[-1].output == socket.output

    assert_same_run(socket, local)
