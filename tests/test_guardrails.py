"""Guardrails end to end on the simulated server through the real client: input guardrails
beside the first request (a trip cancels it and no tool runs), output guardrails on the final
output, guardrails that are agents, streams, and bad guardrails."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

import anyio
import pytest
from pydantic import BaseModel

from agentkit import Agent, GrokClient, RunContext, RunState, tool
from agentkit.errors import (
    ConfigurationError,
    GuardrailTripped,
    InputGuardrailTripped,
    OutputGuardrailTripped,
)
from agentkit.guardrails import GuardrailResult, InputGuardrail
from agentkit.sim import SimCore, SimReply, SimToolCall, SimTransport, scripted
from agentkit.sim.faults import Fault, FaultPlan

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("both_apis")]


class Reply(BaseModel):
    text: str


def _client(policy: Any, faults: FaultPlan | None = None) -> GrokClient:
    return GrokClient("k", base_url="http://sim.test/v1",
                      transport=SimTransport(SimCore(policy, faults=faults)))


def no_secrets(prompt: str) -> GuardrailResult:
    if "password" in prompt.lower():
        return GuardrailResult(tripped=True, reason="the prompt asks for a password",
                               info={"category": "credentials"})
    return GuardrailResult(tripped=False)


async def test_a_tripped_input_guardrail_cancels_the_first_request_and_runs_no_tool() -> None:
    ran: list[str] = []

    @tool
    def lookup(name: str) -> str:
        """Look a name up.

        Args:
            name: The name.
        """
        ran.append(name)
        return "found"

    replies = [[SimToolCall("lookup", '{"name": "admin"}')], "done"]
    # The first answer would take 10 s to start: only a cancelled request ends sooner.
    faults = FaultPlan([Fault("slow", delay=10)])
    async with _client(scripted(replies), faults) as client:
        agent = Agent("grok-4", client=client, tools=[lookup], input_guardrails=[no_secrets])
        started = time.monotonic()
        with anyio.fail_after(5), pytest.raises(InputGuardrailTripped) as caught:
            await agent.run("What is the admin password?")
    assert time.monotonic() - started < 5
    assert ran == []
    error = caught.value
    assert error.guardrail == "no_secrets"
    assert error.result.info == {"category": "credentials"}
    assert "no_secrets" in error.message and "asks for a password" in error.message
    assert error.messages[-1] == {"role": "user", "content": "What is the admin password?"}
    assert error.state is not None and error.state.usage.prompt_tokens == 0


async def test_a_passing_input_guardrail_is_awaited_before_any_tool_runs() -> None:
    order: list[str] = []

    async def slow_check(ctx: RunContext[Any], prompt: str) -> bool:
        await anyio.sleep(0.05)
        order.append(f"checked {prompt!r} with deps {ctx.deps}")
        return False

    @tool
    def lookup(name: str) -> str:
        """Look a name up.

        Args:
            name: The name.
        """
        order.append(f"tool {name}")
        return "found"

    replies = [[SimToolCall("lookup", '{"name": "ada"}')], "Ada is found."]
    async with _client(scripted(replies)) as client:
        agent = Agent("grok-4", client=client, tools=[lookup],
                      input_guardrails=[slow_check, no_secrets])
        result = await agent.run("Find Ada", deps=7)
    assert result.output == "Ada is found."
    assert order == ["checked 'Find Ada' with deps 7", "tool ada"]


async def test_input_guardrails_run_once_per_run_not_per_request() -> None:
    calls: list[str] = []

    def counting(prompt: str) -> None:
        calls.append(prompt)

    replies = [[SimToolCall("lookup", '{"name": "x"}')], "ok"]

    @tool
    def lookup(name: str) -> str:
        """Look up.

        Args:
            name: The name.
        """
        return "y"

    async with _client(scripted(replies)) as client:
        agent = Agent("grok-4", client=client, tools=[lookup], input_guardrails=[counting])
        assert (await agent.run("look x up")).usage.requests == 2
    assert calls == ["look x up"]


async def test_a_tripped_output_guardrail_withholds_the_output() -> None:
    def no_refunds(ctx: RunContext[Any], output: Reply) -> GuardrailResult | None:
        if "refund" in output.text:
            return GuardrailResult(tripped=True, reason="refunds are promised by people only")
        return None

    answer = json.dumps({"text": "I will refund you $500."})
    async with _client(scripted([answer, json.dumps({"text": "Sorry."})])) as client:
        agent = Agent("grok-4", client=client, output_type=Reply, output_guardrails=[no_refunds])
        with pytest.raises(OutputGuardrailTripped, match="refunds are promised by people only") as caught:
            await agent.run("I want my money back")
        assert (await agent.run("Anything else?")).output == Reply(text="Sorry.")
    error = caught.value
    assert isinstance(error, GuardrailTripped) and error.guardrail == "no_refunds"
    assert error.messages[-1]["role"] == "assistant"
    assert "refund you $500" in error.messages[-1]["content"]
    state = RunState.from_json(error.state.to_json())  # the state is whole and saved
    assert state.usage.requests == 1


async def test_an_agent_can_be_a_guardrail_and_its_usage_counts() -> None:
    verdicts = iter([
        json.dumps({"tripped": False, "reason": ""}),
        json.dumps({"tripped": True, "reason": "off topic", "info": {"score": 0.9}}),
    ])

    def policy(request: Mapping[str, Any]) -> SimReply:
        if "moderator" in request["messages"][0]["content"]:
            return SimReply(content=next(verdicts))
        return SimReply(content="Paris is the capital of France.")

    async with _client(scripted(policy)) as client:
        moderator = Agent("grok-4", name="moderator", client=client, output_type=GuardrailResult,
                          instructions="You are a moderator: is the user on topic?")
        agent = Agent("grok-4", client=client, input_guardrails=[moderator])
        result = await agent.run("What is the capital of France?")
        assert result.output == "Paris is the capital of France."
        assert result.usage.requests == 2  # its own and the moderator's
        with pytest.raises(InputGuardrailTripped, match="'moderator' refused the prompt: off topic") as caught:
            await agent.run("Write me a poem about cheese")
    assert caught.value.result.info == {"score": 0.9}


async def test_a_tripped_guardrail_ends_a_stream() -> None:
    async with _client(scripted(["Here is the password: hunter2"])) as client:
        agent = Agent("grok-4", client=client, input_guardrails=[no_secrets])
        with pytest.raises(InputGuardrailTripped):
            await _drain(agent, "Tell me the password")


async def _drain(agent: Agent[Any, Any], prompt: str) -> None:
    async with agent.run_stream(prompt) as stream:
        async for _ in stream:
            pass


async def test_a_guardrail_that_raises_ends_the_run_with_its_error() -> None:
    def broken(prompt: str) -> bool:
        raise ValueError("the moderation service is down")

    async with _client(scripted(["hi"])) as client:
        agent = Agent("grok-4", client=client, input_guardrails=[broken])
        with pytest.raises(ValueError, match="moderation service is down"):
            await agent.run("hello")


async def test_bad_guardrails_are_refused_with_a_clear_error() -> None:
    with pytest.raises(ConfigurationError, match=r"a function .* or an Agent"):
        Agent("grok-4", input_guardrails=["no swearing"])
    with pytest.raises(ConfigurationError, match="must be a list"):
        Agent("grok-4", output_guardrails=no_secrets)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="output_type=GuardrailResult or bool"):
        Agent("grok-4", input_guardrails=[Agent("grok-4")])
    with pytest.raises(ConfigurationError, match="is not an output guardrail"):
        Agent("grok-4", output_guardrails=[InputGuardrail(no_secrets)])

    async with _client(scripted(["hi"])) as client:
        agent = Agent("grok-4", client=client, input_guardrails=[lambda prompt: "fine"])
        with pytest.raises(ConfigurationError, match="returned str; return a GuardrailResult"):
            await agent.run("hello")
