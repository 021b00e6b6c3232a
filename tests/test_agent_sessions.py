"""Agents with sessions: the history is loaded before a run and the new messages added after
it, through the real client on the simulated server. (The stores themselves are tested in
test_sessions.py.)"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from agentkit import Agent, GrokClient, InMemorySession, SQLiteSession, UserError, tool
from agentkit.sim.reply import SimReply, SimToolCall

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("both_apis")]


class Echo:
    """Answers with the number of user messages it was sent; records each request."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []

    def __call__(self, body: Mapping[str, Any]) -> SimReply:
        self.bodies.append(dict(body))
        users = [m["content"] for m in body["messages"] if m["role"] == "user"]
        return SimReply(content=f"{len(users)} messages from you, last: {users[-1]}")


async def test_a_session_carries_the_conversation_across_runs_and_restarts(tmp_path: Path) -> None:
    echo = Echo()
    path = tmp_path / "chat.db"
    async with GrokClient.simulated(echo) as client:
        agent = Agent("grok-4", instructions="Be brief.", client=client)
        with SQLiteSession(path, "alice") as session:
            first = await agent.run("Hi, I am Alice", session=session)
        # A new session object on the same file: a restarted program.
        with SQLiteSession(path, "alice") as session:
            second = await agent.run("What is my name?", session=session)
            stored = await session.get_items()
        with SQLiteSession(path, "bob") as other:
            assert await other.get_items() == []
    assert first.output.startswith("1 messages")
    assert second.output == "2 messages from you, last: What is my name?"
    sent = echo.bodies[1]["messages"]
    assert [m["role"] for m in sent] == ["system", "user", "assistant", "user"]
    assert sent[0]["content"] == "Be brief."  # rendered for this run, not stored
    assert [m["role"] for m in stored] == ["user", "assistant", "user", "assistant"]
    assert second.new_messages() == stored[2:]


async def test_a_paused_run_adds_nothing_until_it_finishes() -> None:
    @tool(requires_approval=True)
    def send_email(to: str) -> str:
        """Send an email.

        Args:
            to: The address.
        """
        return f"sent to {to}"

    def model(body: Mapping[str, Any]) -> SimReply:
        if body["messages"][-1]["role"] == "tool":
            return SimReply(content="Sent.")
        return SimReply(tool_calls=(SimToolCall("send_email", json.dumps({"to": "a@b.c"})),))

    session = InMemorySession()
    async with GrokClient.simulated(model) as client:
        agent = Agent("grok-4", tools=[send_email], client=client)
        paused = await agent.run("email a@b.c", session=session)
        assert paused.paused
        assert await session.get_items() == []  # never a tool call without its result
        assert paused.state is not None
        paused.state.approve_all()
        done = await agent.run(state=paused.state, session=session)
    stored = await session.get_items()
    assert done.output == "Sent."
    assert [m["role"] for m in stored] == ["user", "assistant", "tool", "assistant"]
    assert stored[2]["content"] == "sent to a@b.c"


async def test_streams_and_iter_record_into_the_session_too() -> None:
    session = InMemorySession()
    async with GrokClient.simulated(Echo()) as client:
        agent = Agent("grok-4", client=client)
        async with agent.run_stream("one", session=session) as stream:
            await stream.get_result()
        async with agent.iter("two", session=session) as run:
            async for _ in run:
                pass
        result = await agent.run("three", session=session)
    assert result.output == "3 messages from you, last: three"
    assert len(await session.get_items()) == 6


async def test_a_capped_session_never_splits_a_tool_call_from_its_result() -> None:
    @tool
    def lookup(q: str) -> str:
        """Look something up.

        Args:
            q: The query.
        """
        return f"found {q}"

    echo = Echo()

    def model(body: Mapping[str, Any]) -> SimReply:
        last = body["messages"][-1]
        if last["role"] == "user":
            return SimReply(tool_calls=(SimToolCall("lookup", json.dumps({"q": last["content"]})),))
        return echo(body)

    session = InMemorySession(max_messages=3)
    async with GrokClient.simulated(model) as client:
        agent = Agent("grok-4", tools=[lookup], client=client)
        await agent.run("first", session=session)
        await agent.run("second", session=session)
    # 4 messages a run; the last 3 of the first run start with its tool result: dropped.
    sent = echo.bodies[-1]["messages"]
    assert [m["role"] for m in sent][:1] != ["tool"]
    for index, message in enumerate(sent):
        if message["role"] == "tool":
            calls = [c["id"] for m in sent[:index] for c in m.get("tool_calls", [])]
            assert message["tool_call_id"] in calls


async def test_a_session_and_a_message_history_together_are_refused() -> None:
    async with GrokClient.simulated(Echo()) as client:
        agent = Agent("grok-4", client=client)
        with pytest.raises(UserError, match="message_history or session, not both"):
            await agent.run("x", session=InMemorySession(), message_history=[])
