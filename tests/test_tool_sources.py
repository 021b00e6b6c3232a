"""Tool sources (the seam MCP servers plug into): asked for their tools at each run, opened
for a run when not open and closed after it in the same task, also for streams, iter and
failures; per-run sources; clashing names."""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType
from typing import Any

import anyio
import pytest

from agentkit import Agent, GrokClient, Tool, tool
from agentkit.errors import InternalServerError, ToolDefinitionError
from agentkit.sim import SimCore, SimReply, SimToolCall, SimTransport, scripted
from agentkit.sim.faults import Fault, FaultPlan

pytestmark = pytest.mark.anyio


class Source:
    """A source whose tools change between runs, and that logs its opening and closing."""

    def __init__(self) -> None:
        self.is_open = False
        self.log: list[str] = []
        self.tasks: list[object] = []
        self.version = 1

    async def __aenter__(self) -> Source:
        self.is_open = True
        self.log.append("open")
        self.tasks.append(anyio.get_current_task().id)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.is_open = False
        self.log.append("close")
        self.tasks.append(anyio.get_current_task().id)

    async def list_tools(self) -> Sequence[Tool]:
        assert self.is_open, "asked for tools while closed"
        self.log.append("list")
        version = self.version

        @tool(name="remote_echo")
        def echo(text: str) -> str:
            """Echo text back.

            Args:
                text: What to echo.
            """
            return f"v{version}: {text}"

        return [echo]


def _policy(request: dict[str, Any]) -> SimReply:
    last = request["messages"][-1]
    if last["role"] == "tool":
        return SimReply(content=f"got {last['content']}")
    names = [t["function"]["name"] for t in request.get("tools", [])]
    return SimReply(tool_calls=(SimToolCall("remote_echo", '{"text": "hi"}'),)) if "remote_echo" in names \
        else SimReply(content="no remote tools")


def _client(faults: FaultPlan | None = None) -> GrokClient:
    return GrokClient("k", base_url="http://sim.test/v1", retry_policy=None, max_retries=0,
                      transport=SimTransport(SimCore(scripted(_policy), faults=faults)))


async def test_a_closed_source_is_opened_for_each_run_and_its_tools_are_fetched_anew() -> None:
    source = Source()
    async with _client() as client:
        agent = Agent("grok-4", client=client, tools=[source])
        assert (await agent.run("echo hi")).output == "got v1: hi"
        source.version = 2
        assert (await agent.run("echo hi")).output == "got v2: hi"
    assert source.log == ["open", "list", "close"] * 2
    assert not source.is_open


async def test_an_open_source_is_left_open() -> None:
    source = Source()
    async with _client() as client, source:
        agent = Agent("grok-4", client=client, tools=[source])
        await agent.run("echo hi")
        assert source.is_open
    assert source.log == ["open", "list", "close"]


async def test_streams_and_iter_open_and_close_in_one_task() -> None:
    source = Source()
    async with _client() as client:
        agent = Agent("grok-4", client=client, tools=[source])
        async with agent.run_stream("echo hi") as stream:
            async for _ in stream:
                pass
        assert stream.result.output == "got v1: hi"
        async with agent.iter("echo hi") as run:
            async for _ in run:
                pass
        assert run.result is not None and run.result.output == "got v1: hi"
    assert source.log == ["open", "list", "close"] * 2
    assert source.tasks[0] == source.tasks[1] and source.tasks[2] == source.tasks[3]


async def test_a_failed_run_closes_its_sources() -> None:
    source = Source()
    async with _client(FaultPlan([Fault("500", count=1)])) as client:
        agent = Agent("grok-4", client=client, tools=[source])
        with pytest.raises(InternalServerError):
            await agent.run("echo hi")
    assert source.log == ["open", "list", "close"]


async def test_a_per_run_source_adds_its_tools_and_replace_tools_drops_the_agents() -> None:
    source = Source()
    async with _client() as client:
        agent = Agent("grok-4", client=client)
        assert (await agent.run("echo hi")).output == "no remote tools"
        assert (await agent.run("echo hi", tools=[source])).output == "got v1: hi"
        owner = Agent("grok-4", client=client, tools=[source])
        assert (await owner.run("echo hi", tools=[], replace_tools=True)).output == "no remote tools"
    assert source.log == ["open", "list", "close"]


async def test_a_source_tool_clashing_with_an_agent_tool_is_a_clear_error() -> None:
    @tool(name="remote_echo")
    def local(text: str) -> str:
        """Local.

        Args:
            text: Text.
        """
        return text

    source = Source()
    async with _client() as client:
        agent = Agent("grok-4", client=client, tools=[local, source])
        with pytest.raises(ToolDefinitionError, match="remote_echo"):
            await agent.run("echo hi")
    assert source.log == ["open", "list", "close"]
