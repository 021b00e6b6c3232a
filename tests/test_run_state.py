"""Runs you can steer: approval, deferred results, pause and resume from a `RunState`, resuming
after each error that ends a run, and refusing states this agent must not resume.

Everything goes through the real `GrokClient` on the simulated server, with a policy that
plays the model; side effects are counted in a ledger, to show nothing runs twice.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import anyio
import pytest

from agentkit import (
    Agent,
    FinalResult,
    GrokClient,
    Interruption,
    MaxTurnsExceeded,
    ModelRetry,
    OutputValidationError,
    RunContext,
    RunState,
    RunStateError,
    ToolCallFinished,
    ToolCallRequest,
    ToolRetriesExceeded,
    UsageLimitExceeded,
    UsageLimits,
    UserError,
    tool,
)
from agentkit.errors import InternalServerError, ToolDefinitionError
from agentkit.sim import Fault, FaultPlan, SimCore, SimTransport
from agentkit.sim.reply import SimReply, SimToolCall

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("both_apis")]


class Ledger:
    """What the tools did, in order: a side effect that must never happen twice."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def count(self, name: str) -> int:
        return sum(1 for called, _ in self.calls if called == name)


class Model:
    """A policy that calls tools on the first turn and then reports every tool result."""

    def __init__(self, *first_turn: SimToolCall, then: list[SimReply] | None = None) -> None:
        self.first_turn = first_turn
        self.then = list(then or [])
        self.bodies: list[dict[str, Any]] = []

    def __call__(self, body: Mapping[str, Any]) -> SimReply:
        self.bodies.append(dict(body))
        messages = body["messages"]
        if not any(m["role"] == "tool" for m in messages):
            return SimReply(tool_calls=self.first_turn)
        if self.then:
            return self.then.pop(0)
        results = [m["content"] for m in messages if m["role"] == "tool"]
        return SimReply(content="Done: " + " | ".join(results))


def call(name: str, **arguments: Any) -> SimToolCall:
    return SimToolCall(name, json.dumps(arguments))


def support_agent(ledger: Ledger, client: GrokClient, **options: Any) -> Agent[Any, str]:
    @tool(requires_approval=True)
    def refund(order_id: int, amount: float) -> str:
        """Refund part of an order.

        Args:
            order_id: The order.
            amount: Dollars to give back.
        """
        ledger.calls.append(("refund", order_id))
        return f"refunded ${amount:g} on order {order_id}"

    @tool
    def lookup(order_id: int) -> dict[str, Any]:
        """Look an order up.

        Args:
            order_id: The order.
        """
        ledger.calls.append(("lookup", order_id))
        return {"order_id": order_id, "total": 80}

    options.setdefault("name", "support")
    return Agent("grok-4", tools=[lookup, refund], client=client, **options)


async def test_approval_approved_runs_the_call_once_and_parallel_free_calls_are_not_rerun() -> None:
    ledger, model = Ledger(), Model(call("lookup", order_id=42), call("refund", order_id=42, amount=30))
    async with GrokClient.simulated(model) as client:
        agent = support_agent(ledger, client)
        with anyio.fail_after(5):
            paused = await agent.run("Refund $30 on order 42")
        assert paused.paused
        [waiting] = paused.interruptions
        assert (waiting.tool_name, waiting.kind, waiting.args) == ("refund", "approval", {"order_id": 42, "amount": 30})
        assert ledger.calls == [("lookup", 42)]  # the free call ran; the refund waits
        with pytest.raises(UserError, match="paused before it had an output"):
            _ = paused.output
        assert paused.state is not None
        paused.state.approve(waiting.call_id)
        with anyio.fail_after(5):
            done = await agent.run(state=paused.state)
    assert ledger.calls == [("lookup", 42), ("refund", 42)]
    assert done.output.startswith("Done: ") and "refunded $30 on order 42" in done.output
    assert len(model.bodies) == 2
    assert done.usage.requests == 2 and done.usage.tool_calls == 2
    # The last request answered every call of the turn, each once.
    tool_messages = [m for m in model.bodies[-1]["messages"] if m["role"] == "tool"]
    assert len(tool_messages) == 2
    assert {m["tool_call_id"] for m in tool_messages} == {c["id"] for c in model.bodies[-1]["messages"][1]["tool_calls"]}


async def test_rejection_reason_reaches_the_model_and_the_call_never_runs() -> None:
    ledger, model = Ledger(), Model(call("refund", order_id=7, amount=900))
    async with GrokClient.simulated(model) as client:
        agent = support_agent(ledger, client)
        paused = await agent.run("Refund $900 on order 7")
        assert paused.state is not None
        paused.state.reject(paused.interruptions[0].call_id, reason="over the $500 limit")
        done = await agent.run(state=paused.state)
    assert ledger.count("refund") == 0
    assert "rejected this call to refund. Reason: over the $500 limit" in done.output
    assert done.usage.tool_calls == 0


async def test_mixed_decisions_in_one_turn_with_parallel_free_calls() -> None:
    ledger = Ledger()
    model = Model(
        call("refund", order_id=1, amount=10), call("lookup", order_id=1),
        call("refund", order_id=2, amount=20), call("lookup", order_id=2),
    )
    async with GrokClient.simulated(model) as client:
        agent = support_agent(ledger, client)
        paused = await agent.run("two refunds")
        assert sorted(ledger.calls) == [("lookup", 1), ("lookup", 2)]
        first, second = paused.interruptions
        assert paused.state is not None
        state = RunState.from_json(paused.state.to_json())  # decisions survive a round trip
        state.approve(first.call_id)
        state.reject(second.call_id)
        done = await agent.run(state=state)
    assert sorted(ledger.calls) == [("lookup", 1), ("lookup", 2), ("refund", 1)]
    assert "refunded $10 on order 1" in done.output and "rejected this call to refund." in done.output


async def test_resuming_with_a_decision_missing_pauses_again_without_a_request() -> None:
    ledger = Ledger()
    model = Model(call("refund", order_id=1, amount=10), call("refund", order_id=2, amount=20))
    async with GrokClient.simulated(model) as client:
        agent = support_agent(ledger, client)
        paused = await agent.run("two refunds")
        assert paused.state is not None
        paused.state.approve(paused.interruptions[0].call_id)
        again = await agent.run(state=paused.state)
        assert again.paused and [i.call_id for i in again.interruptions] == [paused.interruptions[1].call_id]
        assert ledger.calls == [("refund", 1)]
        assert len(model.bodies) == 1  # nothing sent while a call still waits
        assert again.state is not None
        again.state.approve_all()
        done = await agent.run(state=again.state)
    assert ledger.calls == [("refund", 1), ("refund", 2)]
    assert done.usage.requests == 2 and done.usage.tool_calls == 2


async def test_approval_decided_per_call_by_a_sync_or_async_function() -> None:
    seen: list[ToolCallRequest] = []

    def large(ctx: RunContext[Any], request: ToolCallRequest) -> bool:
        seen.append(request)
        return float(request.args["amount"]) > ctx.deps["limit"]

    async def large_async(ctx: RunContext[Any], request: ToolCallRequest) -> bool:
        return large(ctx, request)

    def refund_tool(policy: Any, ledger: Ledger) -> Any:
        @tool(requires_approval=policy)
        def refund(amount: float) -> str:
            """Refund money.

            Args:
                amount: Dollars.
            """
            ledger.calls.append(("refund", amount))
            return "ok"

        return refund

    for policy in (large, large_async):
        seen.clear()
        ledger = Ledger()
        refund = refund_tool(policy, ledger)
        model = Model(call("refund", amount=5), call("refund", amount=500))
        async with GrokClient.simulated(model) as client:
            agent = Agent("grok-4", tools=[refund], client=client)
            paused = await agent.run("refunds", deps={"limit": 100})
        assert ledger.calls == [("refund", 5)]
        assert [i.args["amount"] for i in paused.interruptions] == [500]
        assert [r.tool_name for r in seen] == ["refund", "refund"]


async def test_invalid_arguments_go_back_to_the_model_without_asking_anyone() -> None:
    ledger = Ledger()
    model = Model(call("refund", order_id="not a number", amount=1))
    async with GrokClient.simulated(model) as client:
        agent = support_agent(ledger, client)
        result = await agent.run("refund")
    assert not result.paused
    assert "Invalid arguments for tool 'refund'" in result.output
    assert ledger.calls == []


async def test_deferred_tool_result_supplied_by_the_caller() -> None:
    @tool(deferred=True)
    def ask_manager(question: str) -> str:
        """Ask the manager; the answer comes later.

        Args:
            question: The question.
        """
        raise AssertionError("a deferred tool is never run")

    model = Model(call("ask_manager", question="Can we refund order 9?"))
    async with GrokClient.simulated(model) as client:
        agent = Agent("grok-4", tools=[ask_manager], client=client)
        paused = await agent.run("ask")
        [waiting] = paused.interruptions
        assert waiting.kind == "deferred" and waiting.args == {"question": "Can we refund order 9?"}
        assert paused.state is not None
        with pytest.raises(UserError, match="waits for a result"):
            paused.state.approve(waiting.call_id)
        with pytest.raises(UserError, match="no interrupted call has the id 'nope'"):
            paused.state.set_result("nope", "x")
        paused.state.set_result(waiting.call_id, {"answer": "yes, up to $50"})
        done = await agent.run(state=RunState.from_json(paused.state.to_json()))
    assert done.output == 'Done: {"answer":"yes, up to $50"}'


def test_tool_options_are_checked() -> None:
    def f(x: int) -> int:
        """F.

        Args:
            x: X.
        """
        return x

    with pytest.raises(ToolDefinitionError, match="requires_approval must be"):
        tool(f, requires_approval="yes")  # type: ignore[arg-type]
    with pytest.raises(ToolDefinitionError, match="deferred tool"):
        tool(f, deferred=True, requires_approval=True)
    with pytest.raises(ToolDefinitionError, match="prepare must be a function"):
        tool(f, prepare=3)  # type: ignore[arg-type]


async def test_a_stream_ends_with_the_paused_result_and_resumes_streaming() -> None:
    ledger, model = Ledger(), Model(call("lookup", order_id=3), call("refund", order_id=3, amount=1))
    async with GrokClient.simulated(model) as client:
        agent = support_agent(ledger, client)
        async with agent.run_stream("refund") as stream:
            events = [event async for event in stream]
        final = events[-1]
        assert isinstance(final, FinalResult) and final.result.paused
        assert [e.name for e in events if isinstance(e, ToolCallFinished)] == ["lookup"]
        final.result.state.approve_all()
        async with agent.run_stream(state=final.result.state) as stream:
            events = [event async for event in stream]
    assert [e.name for e in events if isinstance(e, ToolCallFinished)] == ["refund"]
    assert ledger.calls == [("lookup", 3), ("refund", 3)]
    assert stream.result.output.startswith("Done:")


# -- resuming after the errors that end a run ----------------------------------------------


@tool
def ping(n: int) -> str:
    """Ping.

    Args:
        n: A number.
    """
    return f"pong {n}"


def looping_model(answer_after: int) -> Any:
    """Calls ping until it has `answer_after` results, then answers."""

    def policy(body: Mapping[str, Any]) -> SimReply:
        done = sum(1 for m in body["messages"] if m["role"] == "tool")
        if done < answer_after:
            return SimReply(tool_calls=(call("ping", n=done),))
        return SimReply(content=f"finished after {done} pings")

    return policy


async def test_resume_after_max_turns_with_a_higher_limit() -> None:
    async with GrokClient.simulated(looping_model(4)) as client:
        agent = Agent("grok-4", name="pinger", tools=[ping], client=client, max_turns=2)
        with pytest.raises(MaxTurnsExceeded) as info:
            await agent.run("ping away")
        state = info.value.state
        assert state is not None and state.turns == 2 and state.usage.requests == 2
        done = await agent.run(state=RunState.from_json(state.to_json()), max_turns=10)
    assert done.output == "finished after 4 pings"
    assert done.usage.requests == 5 and done.usage.tool_calls == 4
    assert done.state is not None and done.state.turns == 5


async def test_resume_after_a_usage_limit() -> None:
    async with GrokClient.simulated(looping_model(3)) as client:
        agent = Agent("grok-4", tools=[ping], client=client, usage_limits=UsageLimits(request_limit=2))
        with pytest.raises(UsageLimitExceeded) as info:
            await agent.run("go")
        spent = info.value.state
        assert spent is not None and spent.usage.requests == 2 and spent.usage.total_tokens > 0
        done = await agent.run(state=spent, usage_limits=UsageLimits(request_limit=10))
    assert done.output == "finished after 3 pings"
    assert done.usage.requests == 4
    assert done.usage.total_tokens > spent.usage.total_tokens  # the spent usage carried over


async def test_resume_after_the_tool_calls_limit_runs_the_refused_calls() -> None:
    ledger = Ledger()
    model = Model(call("lookup", order_id=1), call("lookup", order_id=2), call("lookup", order_id=3))
    async with GrokClient.simulated(model) as client:
        agent = support_agent(ledger, client, usage_limits=UsageLimits(tool_calls_limit=2))
        with pytest.raises(UsageLimitExceeded, match="tool calls limit") as info:
            await agent.run("three lookups")
        assert ledger.calls == []
        # The transcript answers every call; the state keeps them waiting.
        assert [m["role"] for m in info.value.messages][-3:] == ["tool", "tool", "tool"]
        assert info.value.state is not None and info.value.state.messages[-1]["role"] == "assistant"
        done = await agent.run(state=info.value.state, usage_limits=UsageLimits(tool_calls_limit=5))
    assert sorted(ledger.calls) == [("lookup", 1), ("lookup", 2), ("lookup", 3)]
    assert done.usage.tool_calls == 3


async def test_resume_after_tool_retries_with_a_larger_budget() -> None:
    attempts: list[int] = []

    @tool
    def flaky(n: int) -> str:
        """Fails three times.

        Args:
            n: A number.
        """
        attempts.append(n)
        if len(attempts) <= 3:
            raise RuntimeError("busy")
        return "fine"

    def policy(body: Mapping[str, Any]) -> SimReply:
        last = body["messages"][-1]
        if last["role"] == "tool" and last["content"] == "fine":
            return SimReply(content="it worked")
        return SimReply(tool_calls=(call("flaky", n=1),))

    async with GrokClient.simulated(policy) as client:
        strict = Agent("grok-4", name="retrier", tools=[flaky], client=client, tool_retries=1)
        with pytest.raises(ToolRetriesExceeded) as info:
            await strict.run("try")
        assert len(attempts) == 2
        patient = Agent("grok-4", name="retrier", tools=[flaky], client=client, tool_retries=5)
        done = await patient.run(state=info.value.state)
    assert done.output == "it worked" and len(attempts) == 4


async def test_resume_after_output_validation_error_with_a_larger_budget() -> None:
    from pydantic import BaseModel

    class Answer(BaseModel):
        value: int

    replies = iter(["not json", '{"value": "x"}', '{"value": 3}'])

    def policy(body: Mapping[str, Any]) -> SimReply:
        return SimReply(content=next(replies))

    async with GrokClient.simulated(policy) as client:
        strict = Agent("grok-4", output_type=Answer, client=client, output_retries=1)
        with pytest.raises(OutputValidationError) as info:
            await strict.run("a number")
        error = info.value
        assert error.messages[-1]["content"] == '{"value": "x"}'  # the transcript ends on the answer
        assert error.state is not None and error.state.messages[-1]["role"] == "user"  # the state on the feedback
        patient = Agent("grok-4", output_type=Answer, client=client, output_retries=3)
        done = await patient.run(state=error.state)
    assert done.output == Answer(value=3)
    assert done.usage.requests == 3
    assert done.state is not None and done.state.output_failures == 2


async def test_resume_after_a_server_error() -> None:
    plan = FaultPlan([Fault("500")])
    core = SimCore(looping_model(1), faults=plan)
    async with GrokClient("k", base_url="http://sim/v1", transport=SimTransport(core), max_retries=0) as client:
        agent = Agent("grok-4", tools=[ping], client=client)
        with pytest.raises(InternalServerError) as info:
            await agent.run("go")
        assert info.value.state is not None and info.value.state.usage.requests == 1
        done = await agent.run(state=info.value.state)
    assert done.output == "finished after 1 pings"
    assert done.usage.requests == 3  # the failed request counts


# -- refusing states -----------------------------------------------------------------------


async def paused_state() -> tuple[RunState, Ledger]:
    ledger, model = Ledger(), Model(call("refund", order_id=5, amount=5))
    async with GrokClient.simulated(model) as client:
        paused = await support_agent(ledger, client).run("refund")
    assert paused.state is not None
    return paused.state, ledger


async def test_states_that_cannot_be_resumed_are_refused_before_anything_runs() -> None:
    state, ledger = await paused_state()
    state.approve_all()
    text = state.to_json()
    async with GrokClient.simulated(Model()) as client:
        agent = support_agent(ledger, client)
        other = support_agent(ledger, client, name="billing")
        with pytest.raises(RunStateError, match="belongs to agent 'support', not 'billing'"):
            await other.run(state=RunState.from_json(text))

        document = json.loads(text)
        document["messages"][-1]["tool_calls"][0]["function"]["name"] = "wire_money"
        document["interruptions"][0]["tool_name"] = "wire_money"
        with pytest.raises(RunStateError, match="'wire_money', a tool this agent does not have"):
            await agent.run(state=RunState.from_json(json.dumps(document)))

        document = json.loads(text)
        document["messages"][-1]["tool_calls"][0]["function"]["arguments"] = '{"order_id": "five"}'
        with pytest.raises(RunStateError, match="arguments do not validate"):
            await agent.run(state=RunState.from_json(json.dumps(document)))

        with pytest.raises(RunStateError, match="made for output 'text'"):
            await agent.run(state=RunState.from_json(text), output_type=int)
    assert ledger.calls == []


def test_bad_state_text_gives_a_clear_error() -> None:
    with pytest.raises(RunStateError, match="must be JSON"):
        RunState.from_json("{not json")
    with pytest.raises(RunStateError, match="not an agentkit run state"):
        RunState.from_json('{"hello": 1}')
    with pytest.raises(RunStateError, match="format version 99 is not one this agentkit reads"):
        RunState.from_json('{"version": 99, "messages": []}')
    with pytest.raises(RunStateError, match=r"damaged: .*turns"):
        RunState.from_json(json.dumps({
            "version": 1, "agent": None, "output": "text", "model": "m", "messages": [],
            "new_from": 0, "usage": {}, "turns": "many", "output_failures": 0, "tool_failures": {},
            "output_mode": "text", "dropped": [], "strict_output": True, "interruptions": [],
            "decisions": {}, "finished": False,
        }))


async def test_a_finished_state_and_bad_arguments_are_refused() -> None:
    async with GrokClient.simulated(Model(then=[SimReply(content="hi")])) as client:
        agent = Agent("grok-4", client=client)
        result = await agent.run("hello")
        assert result.state is not None and result.state.finished
        with pytest.raises(RunStateError, match="finished run"):
            await agent.run(state=result.state)
        state, _ = await paused_state()
        with pytest.raises(UserError, match="without a prompt"):
            await agent.run("more", state=state)
        with pytest.raises(UserError, match="takes a RunState"):
            await agent.run(state=state.to_json())  # type: ignore[arg-type]
        with pytest.raises(UserError, match="unknown option"):
            await agent.run("x", max_turn=3)  # type: ignore[call-arg]


async def test_state_save_and_load_are_atomic_and_checked(tmp_path: Any) -> None:
    state, _ = await paused_state()
    path = tmp_path / "run.json"
    state.save(path)
    state.approve_all()
    state.save(path)
    assert RunState.load(path).decisions == state.decisions
    assert [p.name for p in tmp_path.iterdir()] == ["run.json"]  # no temporary left behind
    with pytest.raises(RunStateError, match="cannot read the run state file"):
        RunState.load(tmp_path / "missing.json")
    assert isinstance(RunState.load(path).interruptions[0], Interruption)


async def test_an_approval_policy_sees_validated_values_and_its_failures_are_feedback() -> None:
    seen: list[dict[str, Any]] = []

    def policy(ctx: RunContext[Any], request: ToolCallRequest) -> bool:
        seen.append(request.args)
        if request.args["amount"] < 0:
            raise RuntimeError("negative amounts are a bug upstream")
        if request.args["amount"] == 0:
            raise ModelRetry("a refund of nothing is not a refund; ask the customer")
        return request.args["amount"] > 100

    ledger: list[float] = []

    @tool(requires_approval=policy)
    def refund(amount: int) -> str:
        """Refund money.

        Args:
            amount: Dollars.
        """
        ledger.append(amount)
        return "ok"

    # "500" as text still needs approval: the policy sees the int the tool would get.
    model = Model(SimToolCall("refund", '{"amount": "500"}'), call("refund", amount=0), call("refund", amount=-1))
    async with GrokClient.simulated(model) as client:
        result = await Agent("grok-4", tools=[refund], client=client).run("refunds")
    assert seen == [{"amount": 500}, {"amount": 0}, {"amount": -1}]
    assert [i.args for i in result.interruptions] == [{"amount": 500}]
    assert ledger == []
    result.state.reject_all()
    done = await Agent("grok-4", tools=[refund], client=GrokClient.simulated(Model())).run(state=result.state)
    assert "a refund of nothing is not a refund" in done.output
    assert "the approval check of refund raised RuntimeError: negative amounts" in done.output
    assert ledger == []
