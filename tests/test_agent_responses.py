"""The agent on the Responses API (`Agent(..., api="responses")`): what only that API has.

The features both APIs share (tools, output modes, streaming, approval, sessions, handoffs,
hooks, guardrails, traces, batches, context policies) run on both through the `both_apis`
fixture in their own modules. Here: the chain of stored responses, encrypted reasoning with
`store` off, recovery when the server lost a response, server-side tools with their events,
citations and usage, and the configuration errors.
"""

from __future__ import annotations

import json
from typing import Any

import anyio
import httpx2
import pytest
from pydantic import BaseModel

from agentkit import Agent, GrokClient, RunState, ServerToolCalled, TextDelta, tool
from agentkit.errors import ConfigurationError
from agentkit.server_tools import CodeInterpreter, WebSearch, XSearch
from agentkit.sim import SimCore, SimTransport

pytestmark = pytest.mark.anyio


@tool
def get_forecast(city: str) -> dict[str, Any]:
    """Get the weather forecast for a city.

    Args:
        city: The city.
    """
    return {"city": city, "summary": "Rain", "high_c": 14.5}


@tool(requires_approval=True)
def refund(order_id: str) -> str:
    """Refund an order.

    Args:
        order_id: The order.
    """
    return f"refunded {order_id}"


class Forecast(BaseModel):
    city: str
    summary: str
    high_c: float


class Seeing(SimTransport):
    """The simulator, writing down the path and body of every request it answers."""

    def __init__(self, core: SimCore | None = None) -> None:
        super().__init__(core)
        self.sent: list[tuple[str, dict[str, Any]]] = []

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content) if request.content else {}
        self.sent.append((request.url.path, body))
        return await super().handle_async_request(request)

    def bodies(self, path: str = "/v1/responses") -> list[dict[str, Any]]:
        return [body for seen, body in self.sent if seen == path]


def seeing_client(wire: Seeing) -> GrokClient:
    return GrokClient.simulated(transport=wire)


async def test_the_second_turn_sends_only_the_tool_results_after_the_stored_response() -> None:
    wire = Seeing()
    async with seeing_client(wire) as client:
        agent = Agent("grok-4.3", api="responses", tools=[get_forecast], client=client)
        with anyio.fail_after(5):
            result = await agent.run("What is the weather in Paris and Tokyo?")
    first, second = wire.bodies()
    assert "previous_response_id" not in first
    assert [item.get("role") for item in first["input"]] == ["user"]
    assert second["previous_response_id"]
    assert {item["type"] for item in second["input"]} == {"function_call_output"}
    assert len(second["input"]) == 2  # one result per city, nothing resent
    assert "Rain" in result.output
    assert result.usage.requests == 2 and result.usage.tool_calls == 2
    assert result.messages[-1]["role"] == "assistant"  # the run's own history is whole


async def test_with_store_off_nothing_is_chained_and_encrypted_reasoning_goes_back() -> None:
    wire = Seeing()
    async with seeing_client(wire) as client:
        agent = Agent("grok-4.3", api="responses", tools=[get_forecast], client=client,
                      model_settings={"store": False, "reasoning_effort": "high"})
        with anyio.fail_after(5):
            result = await agent.run("What is the weather in Paris?")
    first, second = wire.bodies()
    for body in (first, second):
        assert body["store"] is False
        assert "reasoning.encrypted_content" in body["include"]
        assert "previous_response_id" not in body
        assert body["reasoning"] == {"effort": "high"}
    types = [item.get("type", "message") for item in second["input"]]
    # The whole conversation again, with the first answer's reasoning in front of its call.
    assert types == ["message", "reasoning", "function_call", "function_call_output"]
    assert second["input"][1]["encrypted_content"]
    assert "Rain" in result.output
    assert result.usage.reasoning_tokens > 0


async def test_a_state_saved_mid_run_resumes_the_chain_and_survives_a_lost_response() -> None:
    wire = Seeing()
    async with seeing_client(wire) as client:
        agent = Agent("grok-4.3", api="responses", tools=[refund], client=client)
        with anyio.fail_after(5):
            paused = await agent.run("Please refund order A-17")
        assert paused.paused
        saved = paused.state.to_json()

        state = RunState.from_json(saved)
        state.approve_all()
        with anyio.fail_after(5):
            done = await agent.run(state=state)
    assert "refunded A-17" in json.dumps(done.messages)
    resumed = wire.bodies()[-1]
    assert resumed["previous_response_id"]  # the same server still has the response
    assert [item["type"] for item in resumed["input"]] == ["function_call_output"]

    # Another server (or the response expired): the 404 is not the user's problem; the whole
    # conversation goes again.
    other = Seeing()
    async with seeing_client(other) as client:
        agent = Agent("grok-4.3", api="responses", tools=[refund], client=client)
        state = RunState.from_json(saved)
        state.approve_all()
        with anyio.fail_after(5):
            again = await agent.run(state=state)
    chained, whole = other.bodies()
    assert chained["previous_response_id"]
    assert "previous_response_id" not in whole
    assert [item.get("type", "message") for item in whole["input"]] == [
        "message", "function_call", "function_call_output",
    ]
    assert again.output


async def test_a_cut_prompt_is_never_chained_to_the_whole_stored_conversation() -> None:
    wire = Seeing()
    seen: list[int] = []

    def last_two(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        seen.append(len(messages))
        return messages[-2:] if len(messages) > 2 else messages

    async with seeing_client(wire) as client:
        agent = Agent("grok-4.3", api="responses", tools=[get_forecast], client=client,
                      history_processors=[last_two])
        with anyio.fail_after(5):
            await agent.run("What is the weather in Paris?")
    second = wire.bodies()[1]
    # The processor cut the history, so the stored response (which holds all of it) is not
    # named: the server sees exactly what the processor kept.
    assert "previous_response_id" not in second
    assert len(second["input"]) == 2


async def test_structured_output_goes_as_text_format_json_schema() -> None:
    wire = Seeing()
    async with seeing_client(wire) as client:
        agent = Agent("grok-4.3", api="responses", output_type=Forecast, client=client)
        with anyio.fail_after(5):
            result = await agent.run("Forecast for Paris: summary Rain, high_c 14.5")
    (body,) = wire.bodies()
    assert body["text"]["format"]["type"] == "json_schema"
    assert body["text"]["format"]["schema"]["properties"]["city"]
    assert "response_format" not in body
    assert isinstance(result.output, Forecast) and result.output.high_c == 14.5


async def test_web_search_shows_in_events_usage_and_citations() -> None:
    async with GrokClient.simulated() as client:
        agent = Agent("grok-4.3", api="responses", tools=[WebSearch()], client=client)
        with anyio.fail_after(5):
            async with agent.run_stream("Search the web for the latest Python release") as stream:
                events = [event async for event in stream]
    result = stream.result
    searched = [i for i, e in enumerate(events) if isinstance(e, ServerToolCalled)]
    texts = [i for i, e in enumerate(events) if isinstance(e, TextDelta)]
    assert searched and texts and searched[0] < texts[0]  # the search shows before the answer
    event = events[searched[0]]
    assert isinstance(event, ServerToolCalled)
    assert event.call.type == "web_search" and event.call.detail
    assert event.call.status == "completed"
    assert result.usage.server_tool_calls == 1
    assert [c.type for c in result.server_tool_calls] == ["web_search"]
    assert result.citations and all(c.url.startswith("https://") for c in result.citations)
    assert len({c.url for c in result.citations}) == len(result.citations)
    assert result.usage.cost_usd is not None and result.usage.cost_usd > 0
    # The run state carries them: a saved and loaded result still has its sources.
    loaded = RunState.from_json(result.state.to_json())
    assert loaded.context["citations"] == result.state.context["citations"]


async def test_server_tools_and_function_tools_together_and_per_run() -> None:
    wire = Seeing()
    async with seeing_client(wire) as client:
        agent = Agent("grok-4.3", api="responses", client=client,
                      tools=[get_forecast, XSearch(allowed_x_handles=["xai"])])
        with anyio.fail_after(5):
            await agent.run("What is the weather in Paris?")
            await agent.run("Run some Python: print(2 + 2)", tools=[CodeInterpreter()])
    first = wire.bodies()[0]
    kinds = [t["type"] for t in first["tools"]]
    assert kinds == ["function", "x_search"]
    assert first["tools"][0]["name"] == "get_forecast"  # the flat Responses shape
    assert first["tools"][1]["allowed_x_handles"] == ["xai"]
    last = wire.bodies()[-1]
    assert [t["type"] for t in last["tools"]] == ["function", "x_search", "code_interpreter"]


async def test_server_tools_on_the_chat_api_are_refused_with_the_fix() -> None:
    with pytest.raises(ConfigurationError, match=r"WebSearch.*api='responses'"):
        Agent("grok-4.3", tools=[WebSearch()])
    agent = Agent("grok-4.3", client=GrokClient.simulated())
    with pytest.raises(ConfigurationError, match=r"CodeInterpreter.*api='responses'"):
        await agent.run("hi", tools=[CodeInterpreter()])
    with pytest.raises(ConfigurationError, match="api must be 'chat'"):
        Agent("grok-4.3", api="graphql")  # type: ignore[arg-type]


async def test_usage_means_the_same_on_both_apis() -> None:
    totals = {}
    for api in ("chat", "responses"):
        async with GrokClient.simulated() as client:
            agent = Agent("grok-4.3", api=api, tools=[get_forecast], client=client)  # type: ignore[arg-type]
            result = await agent.run("What is the weather in Paris?")
        usage = result.usage
        # Reasoning is counted apart from the visible completion on both.
        assert usage.total_tokens == (
            usage.prompt_tokens + usage.completion_tokens + usage.reasoning_tokens
        )
        totals[api] = usage
    assert totals["chat"].requests == totals["responses"].requests == 2
    assert totals["responses"].cost_usd is not None


async def test_the_agent_on_the_responses_api_over_a_real_socket() -> None:
    from agentkit.sim.server import RunningServer

    server = RunningServer(SimCore())
    server.start()
    try:
        async with GrokClient.openai_compatible(f"{server.base_url}/v1", max_retries=0) as client:
            agent = Agent("grok-4.3", api="responses", tools=[get_forecast], client=client)
            with anyio.fail_after(10):
                async with agent.run_stream("What is the weather in Oslo?") as stream:
                    text = "".join([e.text async for e in stream if isinstance(e, TextDelta)])
    finally:
        server.stop()
    assert text == stream.result.output and "Rain" in text


@pytest.mark.parametrize(("prompt", "query"), [
    ("Search the web for Python 3.14 release notes", "Python 3.14 release notes"),
    ("search the web about the James Webb telescope", "the James Webb telescope"),
    ("Find on the web the opening hours of the Louvre", "Find on the web the opening hours of the Louvre"),
])
async def test_the_simulated_search_query_drops_a_lead_in_naming_the_tool(
    prompt: str, query: str
) -> None:
    async with GrokClient.simulated() as client:
        agent = Agent("grok-4.3", api="responses", tools=[WebSearch()], client=client)
        with anyio.fail_after(5):
            result = await agent.run(prompt)
    details = [call.detail for call in result.server_tool_calls]
    assert details and details[0] is not None
    assert details[0].lower().endswith(query.lower().split()[-1].lower())
    if query != prompt:
        assert details[0] == query
