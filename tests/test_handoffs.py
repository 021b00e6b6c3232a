"""Handoffs end to end on the simulated server through the real client: the receiving agent
takes over (instructions, tools, output type), usage adds up, filters, streams, hooks, traces,
pauses that resume through the first agent, and bad handoffs."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest
from pydantic import BaseModel

from agentkit import Agent, GrokClient, RunState, tool
from agentkit.errors import ConfigurationError
from agentkit.events import AgentHandoff, ToolCallFinished
from agentkit.handoffs import handoff, remove_tool_calls
from agentkit.hooks import RunHooks, RunInfo
from agentkit.sim import SimCore, SimReply, SimToolCall, SimTransport, scripted

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("both_apis")]

TRIAGE = "You are the front desk: send billing questions to billing."
BILLING = "You are billing: refund orders with the refund tool."


class Refund(BaseModel):
    order: int
    refunded: bool


def _system(request: Mapping[str, Any]) -> str:
    first = request["messages"][0]
    return str(first["content"]) if first["role"] == "system" else ""


class Desk:
    """The simulated model behind both agents: it reads which agent asks from the system
    prompt, and records every request."""

    def __init__(self, *, structured: bool = False) -> None:
        self.requests: list[dict[str, Any]] = []
        self.structured = structured

    def __call__(self, request: Mapping[str, Any]) -> SimReply:
        self.requests.append(json.loads(json.dumps(request)))
        last = request["messages"][-1]
        if _system(request).startswith("You are the front desk"):
            return SimReply(tool_calls=(SimToolCall("transfer_to_billing", "{}"),))
        if last["role"] == "tool" and last["content"].startswith("refunded"):
            if self.structured:
                return SimReply(content=json.dumps({"order": 42, "refunded": True}))
            return SimReply(content="Order 42 is refunded.")
        return SimReply(tool_calls=(SimToolCall("refund", '{"order": 42}'),))


def _client(desk: Desk) -> GrokClient:
    return GrokClient("k", base_url="http://sim.test/v1", transport=SimTransport(SimCore(scripted(desk))))


def _agents(
    client: GrokClient, *, output_type: Any = str, approval: bool = False, **options: Any
) -> tuple[Agent[Any, Any], list[int]]:
    refunds: list[int] = []

    @tool(requires_approval=approval)
    def refund(order: int) -> str:
        """Refund an order.

        Args:
            order: The order number.
        """
        refunds.append(order)
        return f"refunded {order}"

    billing = Agent("grok-4", name="billing", instructions=BILLING, tools=[refund],
                    output_type=output_type)  # no client: it talks through the triage agent's
    triage = Agent("grok-4", name="triage", instructions=TRIAGE, client=client,
                   handoffs=[handoff(billing, **options)])
    return triage, refunds


async def test_the_receiving_agent_takes_over_and_usage_adds_up() -> None:
    desk = Desk()
    async with _client(desk) as client:
        triage, refunds = _agents(client)
        result = await triage.run("I want my money back for order 42")
    assert result.output == "Order 42 is refunded."
    assert result.agent_name == "billing"
    assert refunds == [42]
    assert result.usage.requests == 3 and result.usage.tool_calls == 1
    first, second, third = desk.requests
    assert [t["function"]["name"] for t in first["tools"]] == ["transfer_to_billing"]
    assert _system(second) == BILLING and _system(third) == BILLING
    assert [t["function"]["name"] for t in second["tools"]] == ["refund"]
    # The receiving agent sees the whole conversation, the transfer included.
    assert [m["role"] for m in second["messages"]] == ["system", "user", "assistant", "tool"]
    assert second["messages"][-1]["content"].startswith("Transferred to billing")
    assert result.messages[0] == {"role": "system", "content": BILLING}
    assert result.state.agent_name == "billing"


async def test_the_receiving_agents_output_type_is_the_runs() -> None:
    async with _client(Desk(structured=True)) as client:
        triage, _ = _agents(client, output_type=Refund)
        result = await triage.run("refund 42")
    assert result.output == Refund(order=42, refunded=True)


async def test_an_input_filter_decides_what_the_receiving_agent_sees() -> None:
    desk = Desk()
    async with _client(desk) as client:
        triage, _ = _agents(client, input_filter=remove_tool_calls)
        await triage.run("refund 42")
    assert [m["role"] for m in desk.requests[1]["messages"]] == ["system", "user"]


async def test_a_stream_shows_the_handoff_and_hooks_and_traces_see_it() -> None:
    handoffs: list[tuple[str | None, str]] = []

    class Watch(RunHooks):
        def on_handoff(self, run: RunInfo, from_agent: str | None, to_agent: str) -> None:
            handoffs.append((from_agent, to_agent))
            assert run.agent_name == to_agent

    async with _client(Desk()) as client:
        triage, _ = _agents(client)
        events = []
        async with triage.run_stream("refund 42", hooks=[Watch()]) as stream:
            async for event in stream:
                events.append(event)
    (moved,) = [e for e in events if isinstance(e, AgentHandoff)]
    assert (moved.from_agent, moved.to_agent) == ("triage", "billing")
    finished = [e.name for e in events if isinstance(e, ToolCallFinished)]
    assert finished == ["refund"]  # the transfer is not a tool the agent ran
    assert handoffs == [("triage", "billing")]


async def test_the_trace_shows_the_handoff() -> None:
    pytest.importorskip("opentelemetry.sdk", reason="the otel extra")
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from agentkit.otel import OpenTelemetryHooks

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    async with _client(Desk()) as client:
        triage, _ = _agents(client)
        await triage.run("refund 42", hooks=[OpenTelemetryHooks(tracer_provider=provider)])
    (root,) = [s for s in exporter.get_finished_spans() if s.name.startswith("invoke_agent")]
    assert root.name == "invoke_agent triage"
    (event,) = root.events
    assert event.name == "handoff" and dict(event.attributes or {})["to_agent"] == "billing"
    assert dict(root.attributes or {})["agentkit.run.final_agent"] == "billing"


async def test_a_run_paused_after_a_handoff_resumes_through_the_first_agent() -> None:
    async with _client(Desk()) as client:
        triage, refunds = _agents(client, approval=True)
        paused = await triage.run("refund 42")
        assert paused.paused and paused.agent_name == "billing" and refunds == []
        state = RunState.from_json(paused.state.to_json())
        state.approve_all()
        result = await triage.run(state=state)
    assert result.output == "Order 42 is refunded."
    assert refunds == [42] and result.agent_name == "billing"


async def test_only_the_first_transfer_of_a_turn_counts() -> None:
    def policy(request: Mapping[str, Any]) -> SimReply:
        if _system(request) == "front":
            return SimReply(tool_calls=(
                SimToolCall("transfer_to_a", "{}"), SimToolCall("lookup", '{"q": "x"}'),
                SimToolCall("transfer_to_b", "{}"),
            ))
        return SimReply(content=f"{_system(request)} here")

    looked: list[str] = []

    @tool
    def lookup(q: str) -> str:
        """Look up.

        Args:
            q: What.
        """
        looked.append(q)
        return "found"

    async with GrokClient("k", base_url="http://sim.test/v1",
                          transport=SimTransport(SimCore(scripted(policy)))) as client:
        a = Agent("grok-4", name="a", instructions="a")
        b = Agent("grok-4", name="b", instructions="b")
        front = Agent("grok-4", name="front", instructions="front", client=client,
                      tools=[lookup], handoffs=[a, b])
        result = await front.run("go")
    assert result.output == "a here" and result.agent_name == "a"
    assert looked == []
    tool_messages = [m["content"] for m in result.messages if m["role"] == "tool"]
    assert tool_messages[0].startswith("Transferred to a")
    assert tool_messages[1:] == ["Not run: the conversation was transferred to a."] * 2


async def test_agents_can_hand_back_and_forth() -> None:
    def policy(request: Mapping[str, Any]) -> SimReply:
        transfers = sum(1 for m in request["messages"] if m["role"] == "tool")
        if transfers < 2:
            target = "b" if _system(request) == "a" else "a"
            return SimReply(tool_calls=(SimToolCall(f"transfer_to_{target}", "{}"),))
        return SimReply(content=f"{_system(request)} answers")

    async with GrokClient("k", base_url="http://sim.test/v1",
                          transport=SimTransport(SimCore(scripted(policy)))) as client:
        a = Agent("grok-4", name="a", instructions="a", client=client)
        b = Agent("grok-4", name="b", instructions="b", client=client, handoffs=[a])
        a_with = Agent("grok-4", name="a", instructions="a", client=client, handoffs=[b])
        result = await a_with.run("go")
    assert (result.output, result.agent_name) == ("a answers", "a")
    assert result.usage.requests == 3


def test_bad_handoffs_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="needs an Agent with a name"):
        Agent("grok-4", handoffs=[Agent("grok-4")])
    with pytest.raises(ConfigurationError, match="must be a list"):
        Agent("grok-4", handoffs=Agent("grok-4", name="x"))  # type: ignore[arg-type]
    billing = Agent("grok-4", name="billing")
    with pytest.raises(ConfigurationError, match="two handoffs use the tool name"):
        Agent("grok-4", handoffs=[billing, handoff(billing)])

    @tool
    def transfer_to_billing() -> str:
        """Clash."""
        return ""

    with pytest.raises(ConfigurationError, match="the tool of a handoff"):
        Agent("grok-4", tools=[transfer_to_billing], handoffs=[billing])


def test_the_transfer_tool_says_what_the_receiving_agent_is_for() -> None:
    billing = Agent("grok-4", name="billing", instructions="You are billing: invoices and refunds.")
    (definition,) = [handoff(billing).definition()]
    assert definition["function"]["name"] == "transfer_to_billing"
    assert "invoices and refunds" in definition["function"]["description"]
    templated = Agent("grok-4", name="t", instructions="Hello {{ deps.name }}")
    assert "{{" not in handoff(templated).definition()["function"]["description"]
    assert handoff(billing, description="Money.").definition()["function"]["description"] == "Money."


async def test_the_simulated_model_hands_over_and_the_receiver_starts_afresh() -> None:
    from agentkit.examples import triage

    async with GrokClient.simulated() as client:
        result = await triage.build_agent(client=client).run(triage.DEFAULT_PROMPT)
    assert result.agent_name == "billing"
    names = [c["function"]["name"] for m in result.messages for c in m.get("tool_calls") or ()]
    assert names[0] == "transfer_to_billing" and "look_up_invoice" in names[1:]
    assert "Transferred" not in result.output and "1001" in result.output
