"""The support desk example: small refunds run, big ones pause for approval, a session remembers."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest

from agentkit import Agent, GrokClient, InMemorySession, RunResult, RunState
from agentkit.examples import support_desk
from agentkit.examples.support_desk import Refund, build_agent
from agentkit.sim import SimReply, SimToolCall, scripted

SIMULATED_NOTICE = "agentkit: no XAI_API_KEY set; using the local simulated Grok model (offline)"
BIG_REFUND = "Please refund order 1042, the mug arrived broken"


@pytest.fixture
async def agent() -> AsyncIterator[Agent[list[Refund], str]]:
    async with GrokClient.simulated() as client:
        yield build_agent(client=client)


def resumable(result: RunResult[str]) -> RunState:
    """The paused run's state, through JSON, as a web app would keep it between requests."""
    assert result.paused and result.state is not None
    return RunState.from_json(result.state.to_json())


@pytest.mark.anyio
async def test_main_looks_up_pauses_approves_and_remembers(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with anyio.fail_after(20):
        await support_desk.main()
    out, err = capsys.readouterr()
    assert err.count(SIMULATED_NOTICE) == 1, err
    lines = out.strip().splitlines()
    assert lines[0] == f"Customer: {support_desk.DEFAULT_PROMPT}"
    assert lines[1].startswith("Agent: ") and "Ceramic mug set" in lines[1]
    assert "delivered" in lines[1] and "68" in lines[1]
    assert lines[2] == f"Customer: {support_desk.FOLLOW_UP}"
    assert lines[3] == "  [paused; the run is saved in paused-run.json]"
    assert lines[4].startswith("  [manager approves refund_order(order_id=1042, reason=")
    assert lines[5].startswith("Agent: ") and "refunded: 68" in lines[5]
    assert lines[6:8] == ["Refunds: $68.00 on order 1042", "The session holds 8 messages"]
    assert lines[8].startswith("[usage: 4 requests, 2 tool calls, ") and len(lines) == 9
    assert list(tmp_path.iterdir()) == []  # the session file and the saved state are cleaned up


@pytest.mark.anyio
async def test_a_small_refund_goes_through_without_pausing(agent: Agent[list[Refund], str]) -> None:
    refunds: list[Refund] = []
    result = await agent.run("Refund order 1043, the tea arrived damaged", deps=refunds)
    assert not result.paused
    assert [(r.order_id, r.amount) for r in refunds] == [(1043, 19.90)]
    assert "19.9" in result.output


@pytest.mark.anyio
async def test_a_small_part_of_a_big_order_goes_through_too(
    agent: Agent[list[Refund], str],
) -> None:
    refunds: list[Refund] = []
    result = await agent.run("Refund an amount of 10 dollars on order 1044, it shipped late",
                             deps=refunds)
    assert not result.paused
    assert [(r.order_id, r.amount) for r in refunds] == [(1044, 10.0)]


@pytest.mark.anyio
async def test_a_big_refund_pauses_for_approval(agent: Agent[list[Refund], str]) -> None:
    refunds: list[Refund] = []
    session = InMemorySession()
    result = await agent.run(BIG_REFUND, deps=refunds, session=session)
    assert result.paused
    [interruption] = result.interruptions
    assert interruption.tool_name == "refund_order" and interruption.kind == "approval"
    assert interruption.args["order_id"] == 1042
    assert interruption.args["amount"] is None  # the whole order: $68.00, over the limit
    assert refunds == []
    assert await session.get_items() == []  # a paused run adds nothing to its session yet


@pytest.mark.anyio
async def test_approving_makes_the_refund_once_and_the_session_holds_it_all(
    agent: Agent[list[Refund], str],
) -> None:
    refunds: list[Refund] = []
    session = InMemorySession()
    first = await agent.run(support_desk.DEFAULT_PROMPT, deps=refunds, session=session)
    assert not first.paused and "Ben Carter" in first.output
    paused = await agent.run(BIG_REFUND, deps=refunds, session=session)
    state = resumable(paused)
    state.approve(paused.interruptions[0].call_id)
    result = await agent.run(state=state, deps=refunds, session=session)
    assert not result.paused and "68" in result.output
    assert len(refunds) == 1
    assert (refunds[0].order_id, refunds[0].amount) == (1042, 68.0)

    items = await session.get_items()
    assert [m["role"] for m in items] == ["user", "assistant", "tool", "assistant"] * 2
    assert [m["content"] for m in items if m["role"] == "user"] == [
        support_desk.DEFAULT_PROMPT, BIG_REFUND,
    ]
    calls = [m["tool_calls"][0]["function"]["name"] for m in items if m.get("tool_calls")]
    assert calls == ["look_up_order", "refund_order"]
    assert items[-1]["content"] == result.output


@pytest.mark.anyio
async def test_rejecting_makes_no_refund_and_the_answer_says_so(
    agent: Agent[list[Refund], str],
) -> None:
    refunds: list[Refund] = []
    session = InMemorySession()
    paused = await agent.run(BIG_REFUND, deps=refunds, session=session)
    state = resumable(paused)
    state.reject(paused.interruptions[0].call_id, reason="we need a photo of the broken mug")
    result = await agent.run(state=state, deps=refunds, session=session)
    assert refunds == []
    assert "rejected" in result.output and "photo of the broken mug" in result.output
    assert len(await session.get_items()) == 4


@pytest.mark.anyio
async def test_an_unknown_order_is_not_refunded(agent: Agent[list[Refund], str]) -> None:
    refunds: list[Refund] = []
    result = await agent.run("Please refund order 9999, it never came", deps=refunds)
    assert not result.paused and refunds == []
    assert "no order 9999" in result.output


@pytest.mark.anyio
async def test_the_policy_reads_the_arguments_as_the_tool_will() -> None:
    # A model may write the order number as text; the tool takes "1044" as 1044, so the policy
    # must too, or a $129 refund would slip through without approval.
    call = SimToolCall("refund_order", '{"order_id": "1044", "reason": "late"}')
    async with GrokClient.simulated(scripted([SimReply(tool_calls=(call,))])) as client:
        result = await build_agent(client=client).run("Refund my order", deps=[])
    assert result.paused
    # Shown as the tool would run it: the text "1044" is the order 1044.
    assert result.interruptions[0].args == {"order_id": 1044, "reason": "late", "amount": None}
