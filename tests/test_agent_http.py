"""End-to-end agent runs through the real `GrokClient` on an injected httpx2 transport.

`FakeGrok` is a chat-completions server in a handler: each request gets the next scripted
reply, as JSON or (for `stream: true`) as SSE fed in awkward byte slices. Every test runs
under `anyio.fail_after(5)`, so a hang fails instead of blocking the suite.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import anyio
import httpx2
import pytest
from pydantic import BaseModel

from agentkit.agent import Agent
from agentkit.client import GrokClient
from agentkit.context import RunContext
from agentkit.errors import (
    BadRequestError,
    MaxTurnsExceeded,
    ModelRetry,
    OutputValidationError,
    ToolRetriesExceeded,
    UsageLimitExceeded,
    UserError,
)
from agentkit.events import (
    FinalResult,
    PartialOutput,
    TextDelta,
    ToolCallFinished,
    ToolCallStarted,
)
from agentkit.testing import ScriptedCall, ScriptedReply, call, reply
from agentkit.tool import tool
from agentkit.usage import UsageLimits

pytestmark = pytest.mark.anyio


@dataclass(frozen=True)
class HTTPErrorReply:
    """A scripted error answer."""

    status: int
    body: Any


Script = str | ScriptedCall | list[ScriptedCall] | ScriptedReply | HTTPErrorReply


class FakeGrok:
    """Plays a scripted conversation over HTTP and records each request body."""

    def __init__(self, replies: list[Script | Callable[[dict[str, Any]], Script]]) -> None:
        self.replies = list(replies)
        self.bodies: list[dict[str, Any]] = []

    def client(self) -> GrokClient:
        return GrokClient(
            "test-key", base_url="http://test/v1",
            transport=httpx2.MockTransport(self.handler), max_retries=0,
        )

    async def handler(self, request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        self.bodies.append(body)
        assert self.replies, f"FakeGrok ran out of replies at request {len(self.bodies)}"
        item = self.replies.pop(0)
        if callable(item):
            item = item(body)
        if isinstance(item, HTTPErrorReply):
            return httpx2.Response(item.status, json=item.body)
        message, finish, usage = _message(item, len(self.bodies))
        if body.get("stream"):
            return httpx2.Response(
                200, headers={"content-type": "text/event-stream"},
                content=_sse(message, finish, usage, body["model"]),
            )
        return httpx2.Response(200, json={
            "id": f"resp-{len(self.bodies)}", "object": "chat.completion", "created": 1,
            "model": body["model"],
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": usage,
        })


def _message(item: Script, turn: int) -> tuple[dict[str, Any], str, dict[str, Any]]:
    if isinstance(item, str):
        item = ScriptedReply(content=item)
    elif isinstance(item, ScriptedCall):
        item = ScriptedReply(tool_calls=(item,))
    elif isinstance(item, list):
        item = ScriptedReply(tool_calls=tuple(item))
    assert isinstance(item, ScriptedReply)
    message: dict[str, Any] = {"role": "assistant", "content": item.content}
    if item.reasoning:
        message["reasoning_content"] = item.reasoning
    if item.tool_calls:
        message["tool_calls"] = [
            {"id": c.id or f"call_{turn}{i}", "type": "function",
             "function": {"name": c.name, "arguments": c.arguments}}
            for i, c in enumerate(item.tool_calls)
        ]
    usage = (
        item.usage.model_dump(exclude_none=True) if item.usage
        else {"prompt_tokens": 100, "completion_tokens": 10, "total_tokens": 110,
              "cost_in_usd_ticks": 1_000_000}
    )
    return message, item.finish_reason or ("tool_calls" if item.tool_calls else "stop"), usage


async def _sse(
    message: dict[str, Any], finish: str, usage: dict[str, Any], model: str
) -> AsyncIterator[bytes]:
    head = {"id": "stream-1", "object": "chat.completion.chunk", "created": 1, "model": model}
    events = [{**head, "choices": [{"index": 0, "delta": {"role": "assistant"}}]}]
    if message.get("reasoning_content"):
        events.append({**head, "choices": [{"index": 0, "delta": {
            "reasoning_content": message["reasoning_content"]}}]})
    content = message.get("content") or ""
    for start in range(0, len(content), 7):
        events.append({**head, "choices": [{"index": 0, "delta": {"content": content[start:start + 7]}}]})
    for index, tool_call in enumerate(message.get("tool_calls") or ()):
        events.append({**head, "choices": [{"index": 0, "delta": {
            "tool_calls": [{**tool_call, "index": index}]}}]})
    events.append({**head, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
    events.append({**head, "choices": [], "usage": usage})
    data = "".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n"
    raw = data.encode()
    # Awkward slices: events split mid-line, several in one read.
    for start in range(0, len(raw), 37):
        yield raw[start:start + 37]


class Forecast(BaseModel):
    """A weather forecast."""

    city: str
    summary: str
    high_c: float


FORECAST_JSON = '{"city": "Paris", "summary": "Rain", "high_c": 14.5}'


@tool
def get_forecast(city: str, days: int = 1) -> dict[str, Any]:
    """Get the forecast for a city.

    Args:
        city: The city.
        days: How many days ahead.
    """
    return {"city": city, "days": days, "rain": True}


# -- one tool, the basic loop --------------------------------------------------------------


async def test_one_tool_then_structured_answer() -> None:
    fake = FakeGrok([call("get_forecast", city="Paris"), FORECAST_JSON])
    agent = Agent("grok-4", instructions="You are a weather assistant. Today is {{ today }}.",
                  tools=[get_forecast], output_type=Forecast, client=fake.client())
    with anyio.fail_after(5):
        result = await agent.run("Will it rain in Paris tomorrow?")
    assert result.output == Forecast(city="Paris", summary="Rain", high_c=14.5)
    first = fake.bodies[0]
    assert first["model"] == "grok-4"
    assert first["tools"][0]["function"]["name"] == "get_forecast"
    # grok-4 takes structured output beside tools: native mode, Grok dialect.
    assert first["response_format"]["type"] == "json_schema"
    assert first["response_format"]["json_schema"]["name"] == "Forecast"
    assert "Today is 2" in first["messages"][0]["content"]
    tool_message = fake.bodies[1]["messages"][3]
    assert tool_message["role"] == "tool"
    assert tool_message["tool_call_id"] == fake.bodies[1]["messages"][2]["tool_calls"][0]["id"]
    assert json.loads(tool_message["content"]) == {"city": "Paris", "days": 1, "rain": True}
    assert result.usage.requests == 2
    assert result.usage.tool_calls == 1
    assert result.usage.total_tokens == 220
    assert result.usage.cost_usd == pytest.approx(0.0002)
    assert [m["role"] for m in result.messages] == ["system", "user", "assistant", "tool", "assistant"]


async def test_text_output_and_settings_pass_through() -> None:
    fake = FakeGrok(["Hello there."])
    agent = Agent("grok-3-mini", client=fake.client(),
                  model_settings={"temperature": 0.2, "reasoning_effort": "low", "stop": ["x"]})
    with anyio.fail_after(5):
        result = await agent.run("hi")
    assert result.output == "Hello there."
    body = fake.bodies[0]
    assert body["temperature"] == 0.2
    assert body["reasoning_effort"] == "low"
    assert "stop" not in body  # grok-3-mini rejects stop: known from its profile
    assert "tools" not in body and "response_format" not in body


# -- parallel calls ------------------------------------------------------------------------


async def test_parallel_tool_calls_overlap_and_results_keep_call_order() -> None:
    first_started = anyio.Event()
    second_started = anyio.Event()

    @tool
    async def first() -> str:
        """Wait for the other call."""
        first_started.set()
        await second_started.wait()  # deadlocks unless both run at once
        return "one"

    @tool
    async def second() -> str:
        """Wait for the other call."""
        second_started.set()
        await first_started.wait()
        return "two"

    fake = FakeGrok([[call("first", id="call_a"), call("second", id="call_b")], "done"])
    agent = Agent("grok-4", tools=[first, second], client=fake.client())
    with anyio.fail_after(5):
        result = await agent.run("go")
    assert result.output == "done"
    tool_messages = [m for m in fake.bodies[1]["messages"] if m["role"] == "tool"]
    assert [(m["tool_call_id"], m["content"]) for m in tool_messages] == [
        ("call_a", "one"), ("call_b", "two")
    ]
    assert result.usage.tool_calls == 2


async def test_parallel_tools_false_runs_calls_one_after_another() -> None:
    order: list[str] = []

    @tool
    async def slow(name: str) -> str:
        """Record entry and exit."""
        order.append(f"start {name}")
        await anyio.sleep(0.01)
        order.append(f"end {name}")
        return name

    fake = FakeGrok([[call("slow", name="a"), call("slow", name="b")], "ok"])
    agent = Agent("grok-4", tools=[slow], client=fake.client(), parallel_tools=False)
    with anyio.fail_after(5):
        await agent.run("go")
    assert order == ["start a", "end a", "start b", "end b"]


# -- failures are feedback -----------------------------------------------------------------


async def test_failing_tool_error_goes_back_to_the_model() -> None:
    @tool
    def explode(city: str) -> str:
        """Fail."""
        raise RuntimeError(f"backend down for {city}")

    fake = FakeGrok([call("explode", city="Oslo"), "Sorry, the service is down."])
    agent = Agent("grok-4", tools=[explode], client=fake.client())
    with anyio.fail_after(5):
        result = await agent.run("weather?")
    assert result.output == "Sorry, the service is down."
    feedback = fake.bodies[1]["messages"][-1]
    assert feedback["role"] == "tool"
    assert "RuntimeError" in feedback["content"]
    assert "backend down for Oslo" in feedback["content"]


async def test_redacted_tool_errors_hide_the_message() -> None:
    @tool
    def leaky() -> str:
        """Fail with a secret."""
        raise ValueError("password=hunter2")

    fake = FakeGrok([call("leaky"), "ok"])
    agent = Agent("grok-4", tools=[leaky], client=fake.client(), redact_tool_errors=True)
    with anyio.fail_after(5):
        await agent.run("go")
    content = fake.bodies[1]["messages"][-1]["content"]
    assert "ValueError" in content
    assert "hunter2" not in content


async def test_invalid_arguments_then_a_correction() -> None:
    fake = FakeGrok([
        call("get_forecast", days="many"),   # city missing, days not an int
        call("get_forecast", city="Paris", days=2),
        "It will rain.",
    ])
    agent = Agent("grok-4", tools=[get_forecast], client=fake.client())
    with anyio.fail_after(5):
        result = await agent.run("rain?")
    assert result.output == "It will rain."
    feedback = fake.bodies[1]["messages"][-1]["content"]
    assert "Invalid arguments for tool 'get_forecast'" in feedback
    assert "city" in feedback and "days" in feedback
    success = fake.bodies[2]["messages"][-1]["content"]
    assert json.loads(success)["days"] == 2
    assert result.usage.tool_calls == 2


async def test_unknown_tool_lists_the_available_tools() -> None:
    fake = FakeGrok([call("get_weather", city="Paris"), call("get_forecast", city="Paris"), "ok"])
    agent = Agent("grok-4", tools=[get_forecast], client=fake.client())
    with anyio.fail_after(5):
        result = await agent.run("rain?")
    feedback = fake.bodies[1]["messages"][-1]["content"]
    assert "get_weather" in feedback
    assert "get_forecast" in feedback
    assert result.output == "ok"


async def test_tool_retries_exhausted_raise_with_the_messages() -> None:
    @tool(retries=1)
    def always_fails() -> str:
        """Fail."""
        raise RuntimeError("nope")

    fake = FakeGrok([call("always_fails"), call("always_fails"), "never reached"])
    agent = Agent("grok-4", tools=[always_fails], client=fake.client())
    with anyio.fail_after(5), pytest.raises(ToolRetriesExceeded) as info:
        await agent.run("go")
    assert "always_fails" in str(info.value)
    # The second failure's feedback is kept: nothing the model or the tool said is lost.
    assert [m["role"] for m in info.value.messages] == [
        "user", "assistant", "tool", "assistant", "tool"
    ]


# -- structured output: each mode ----------------------------------------------------------


async def test_native_mode_sends_a_grok_json_schema() -> None:
    class Item(BaseModel):
        name: str

    fake = FakeGrok(['{"name": "x"}'])
    agent = Agent("grok-3", output_type=Item, client=fake.client())
    with anyio.fail_after(5):
        result = await agent.run("give")
    assert result.output == Item(name="x")
    response_format = fake.bodies[0]["response_format"]
    assert response_format["json_schema"]["strict"] is True
    assert response_format["json_schema"]["schema"]["required"] == ["name"]
    assert "tools" not in fake.bodies[0]


async def test_tool_mode_ends_when_final_result_is_called_with_valid_arguments() -> None:
    fake = FakeGrok([
        call("get_forecast", city="Paris"),
        call("final_result", city="Paris", summary="Rain", high_c=14.5),
    ])
    # grok-3 cannot combine json_schema with tools: auto picks the tool mode.
    agent = Agent("grok-3", tools=[get_forecast], output_type=Forecast, client=fake.client())
    with anyio.fail_after(5):
        result = await agent.run("rain?")
    assert result.output.high_c == 14.5
    names = [t["function"]["name"] for t in fake.bodies[0]["tools"]]
    assert names == ["get_forecast", "final_result"]
    assert "response_format" not in fake.bodies[0]
    # The final call is answered too, so the transcript can be sent again as history.
    assert result.messages[-1]["role"] == "tool"


async def test_tool_mode_without_other_tools_requires_a_tool_call() -> None:
    fake = FakeGrok([call("final_result", city="Paris", summary="Sun", high_c=20)])
    agent = Agent("grok-4", output_type=Forecast, output_mode="tool", client=fake.client())
    with anyio.fail_after(5):
        result = await agent.run("forecast")
    assert result.output.summary == "Sun"
    assert fake.bodies[0]["tool_choice"] == "required"


async def test_prompted_mode_reads_fenced_json() -> None:
    fake = FakeGrok([f"Here you go:\n```json\n{FORECAST_JSON}\n```"])
    agent = Agent("grok-4", instructions="Be brief.", output_type=Forecast,
                  output_mode="prompted", client=fake.client())
    with anyio.fail_after(5):
        result = await agent.run("forecast")
    assert result.output.city == "Paris"
    system = fake.bodies[0]["messages"][0]["content"]
    assert system.startswith("Be brief.")
    assert '"high_c"' in system  # the schema is in the instructions
    assert "response_format" not in fake.bodies[0]


async def test_list_output_is_wrapped_in_an_object() -> None:
    fake = FakeGrok(['{"result": [{"city": "A", "summary": "s", "high_c": 1}]}'])
    agent = Agent("grok-4", output_type=list[Forecast], client=fake.client())
    with anyio.fail_after(5):
        result = await agent.run("list")
    assert result.output == [Forecast(city="A", summary="s", high_c=1)]
    schema = fake.bodies[0]["response_format"]["json_schema"]["schema"]
    assert schema["type"] == "object"
    assert schema["properties"]["result"]["type"] == "array"


async def test_output_retry_then_success() -> None:
    fake = FakeGrok(['{"city": "Paris", "summary": "Rain", "high_c": "warm"}', FORECAST_JSON])
    agent = Agent("grok-4", output_type=Forecast, client=fake.client())
    with anyio.fail_after(5):
        result = await agent.run("forecast")
    assert result.output.high_c == 14.5
    feedback = fake.bodies[1]["messages"][-1]
    assert feedback["role"] == "user"
    assert "high_c" in feedback["content"]


async def test_output_retries_exhausted() -> None:
    fake = FakeGrok(["not json", '{"city": 1}'])
    agent = Agent("grok-4", output_type=Forecast, output_retries=1, client=fake.client())
    with anyio.fail_after(5), pytest.raises(OutputValidationError) as info:
        await agent.run("forecast")
    error = info.value
    assert error.raw_text == '{"city": 1}'
    assert {e["loc"] for e in error.errors} >= {"city", "summary", "high_c"}
    assert error.messages[-1]["content"] == '{"city": 1}'


async def test_tool_mode_invalid_final_result_gets_feedback_as_the_tool_result() -> None:
    fake = FakeGrok([
        call("final_result", city="Paris"),
        call("final_result", city="Paris", summary="Rain", high_c=3),
    ])
    agent = Agent("grok-4", output_type=Forecast, output_mode="tool", client=fake.client())
    with anyio.fail_after(5):
        result = await agent.run("forecast")
    assert result.output.high_c == 3
    feedback = fake.bodies[1]["messages"][-1]
    assert feedback["role"] == "tool"
    assert "summary" in feedback["content"]


async def test_output_validator_rejects_a_valid_but_wrong_answer() -> None:
    fake = FakeGrok([FORECAST_JSON.replace("Paris", "Lyon"), FORECAST_JSON])
    agent = Agent("grok-4", output_type=Forecast, client=fake.client())
    seen: list[int] = []

    @agent.output_validator
    async def must_be_paris(ctx: RunContext[str], output: Forecast) -> Forecast:
        seen.append(ctx.retry)
        if output.city != ctx.deps:
            raise ModelRetry(f"the forecast must be for {ctx.deps}")
        return output

    with anyio.fail_after(5):
        result = await agent.run("forecast", deps="Paris")
    assert result.output.city == "Paris"
    assert seen == [0, 1]
    assert "must be for Paris" in fake.bodies[1]["messages"][-1]["content"]


# -- limits ----------------------------------------------------------------------------------


async def test_max_turns() -> None:
    fake = FakeGrok([call("get_forecast", city="Paris")] * 3)
    agent = Agent("grok-4", tools=[get_forecast], client=fake.client(), max_turns=2)
    with anyio.fail_after(5), pytest.raises(MaxTurnsExceeded) as info:
        await agent.run("loop")
    assert len(fake.bodies) == 2
    assert info.value.messages[-1]["role"] == "tool"


async def test_usage_limits_requests_and_cost() -> None:
    fake = FakeGrok([call("get_forecast", city="Paris")] * 5)
    agent = Agent("grok-4", tools=[get_forecast], client=fake.client(),
                  usage_limits=UsageLimits(request_limit=2))
    with anyio.fail_after(5), pytest.raises(UsageLimitExceeded) as info:
        await agent.run("loop")
    assert "request limit" in str(info.value)
    assert len(fake.bodies) == 2

    fake = FakeGrok([call("get_forecast", city="Paris")] * 5)
    agent = Agent("grok-4", tools=[get_forecast], client=fake.client(),
                  usage_limits=UsageLimits(cost_limit_usd=0.00025))
    with anyio.fail_after(5), pytest.raises(UsageLimitExceeded, match="cost limit"):
        await agent.run("loop")
    assert len(fake.bodies) == 3  # 3 x $0.0001 reaches the cap; the 4th is never sent


async def test_usage_limits_tool_calls_and_tokens() -> None:
    calls = [call("get_forecast", city=c) for c in ("A", "B", "C")]
    fake = FakeGrok([calls, "never"])
    agent = Agent("grok-4", tools=[get_forecast], client=fake.client(),
                  usage_limits=UsageLimits(tool_calls_limit=2))
    with anyio.fail_after(5), pytest.raises(UsageLimitExceeded, match="tool calls limit") as info:
        await agent.run("go")
    # Every call is answered, so the transcript stays valid to send again.
    assert [m["role"] for m in info.value.messages][-3:] == ["tool", "tool", "tool"]

    fake = FakeGrok([call("get_forecast", city="A")] * 3)
    agent = Agent("grok-4", tools=[get_forecast], client=fake.client(),
                  usage_limits=UsageLimits(total_tokens_limit=200))
    with anyio.fail_after(5), pytest.raises(UsageLimitExceeded, match="total tokens"):
        await agent.run("go")
    assert len(fake.bodies) == 2


# -- capability fallback -------------------------------------------------------------------


def _reject(message: str) -> HTTPErrorReply:
    return HTTPErrorReply(400, {"code": "Client specified an invalid argument", "error": message})


async def test_fallback_from_native_to_tool_mode_is_remembered() -> None:
    fake = FakeGrok([
        _reject("response_format json_schema is not supported together with tools"),
        call("final_result", city="Paris", summary="Rain", high_c=1),
        call("final_result", city="Paris", summary="Rain", high_c=2),
    ])
    agent = Agent("grok-4", tools=[get_forecast], output_type=Forecast, client=fake.client())
    with anyio.fail_after(5):
        result = await agent.run("forecast")
        assert result.output.high_c == 1
        assert result.usage.requests == 2  # the rejected request counts
        second = await agent.run("again")
    assert second.output.high_c == 2
    assert "response_format" in fake.bodies[0]
    assert "response_format" not in fake.bodies[1]
    assert "response_format" not in fake.bodies[2]  # learned: no second 400
    assert len(fake.bodies) == 3


async def test_fallback_drops_a_rejected_sampling_parameter() -> None:
    fake = FakeGrok([
        _reject("Model grok-4.5 does not support parameter presencePenalty."),
        "fine",
        "fine again",
    ])
    agent = Agent("grok-unknown-7", client=fake.client(),
                  model_settings={"presence_penalty": 0.5, "temperature": 0.1})
    with anyio.fail_after(5):
        assert (await agent.run("hi")).output == "fine"
        assert (await agent.run("hi")).output == "fine again"
    assert fake.bodies[0]["presence_penalty"] == 0.5
    assert "presence_penalty" not in fake.bodies[1]
    assert "presence_penalty" not in fake.bodies[2]
    assert fake.bodies[2]["temperature"] == 0.1


async def test_an_unrelated_bad_request_is_raised() -> None:
    fake = FakeGrok([_reject("Only messages of role 'user' can have a name.")])
    agent = Agent("grok-4", client=fake.client())
    with anyio.fail_after(5), pytest.raises(BadRequestError):
        await agent.run("hi")


# -- cancellation --------------------------------------------------------------------------


async def test_cancelling_a_run_cancels_the_tool_in_flight() -> None:
    started = anyio.Event()
    cancelled = anyio.Event()

    @tool
    async def wait_forever() -> str:
        """Never finish."""
        started.set()
        try:
            await anyio.sleep_forever()
        finally:
            cancelled.set()
        return "unreachable"

    fake = FakeGrok([[call("wait_forever"), call("wait_forever")]])
    agent = Agent("grok-4", tools=[wait_forever], client=fake.client())
    tasks_before = len(asyncio.all_tasks())
    with anyio.fail_after(5):
        with anyio.move_on_after(0.2) as scope:
            await agent.run("go")
        assert scope.cancelled_caught
    assert started.is_set() and cancelled.is_set()
    assert len(asyncio.all_tasks()) == tasks_before


async def test_a_timeout_around_a_run_cancels_the_http_request() -> None:
    request_cancelled = anyio.Event()

    async def hang(request: httpx2.Request) -> httpx2.Response:
        try:
            await anyio.sleep_forever()
        finally:
            request_cancelled.set()
        raise AssertionError("unreachable")

    client = GrokClient("k", base_url="http://test/v1", transport=httpx2.MockTransport(hang),
                        max_retries=0)
    agent = Agent("grok-4", client=client)
    tasks_before = len(asyncio.all_tasks())
    with anyio.fail_after(5), pytest.raises(TimeoutError), anyio.fail_after(0.1):
        await agent.run("hi")
    assert request_cancelled.is_set()
    assert len(asyncio.all_tasks()) == tasks_before


# -- streaming ---------------------------------------------------------------------------------


async def test_streaming_with_tools_over_several_turns() -> None:
    fake = FakeGrok([
        reply("Let me check.", tool_calls=[call("get_forecast", city="Paris")]),
        call("get_forecast", city="Lyon", days=2),
        FORECAST_JSON,
    ])
    agent = Agent("grok-4", tools=[get_forecast], output_type=Forecast, client=fake.client())
    events = []
    with anyio.fail_after(5):
        async with agent.run_stream("rain?") as stream:
            async for event in stream:
                events.append(event)
    kinds = [e.kind for e in events]
    assert kinds[-1] == "final_result"
    assert kinds.count("final_result") == 1
    started = [e for e in events if isinstance(e, ToolCallStarted)]
    finished = [e for e in events if isinstance(e, ToolCallFinished)]
    assert [e.name for e in started] == ["get_forecast", "get_forecast"]
    assert all(e.ok for e in finished)
    # Each call finishes after it starts, and turn 2's call starts after turn 1's finished.
    assert events.index(started[0]) < events.index(finished[0]) < events.index(started[1])
    text = "".join(e.text for e in events if isinstance(e, TextDelta))
    assert text.startswith("Let me check.")
    partials = [e for e in events if isinstance(e, PartialOutput)]
    assert partials and partials[-1].output == Forecast(city="Paris", summary="Rain", high_c=14.5)
    final = events[-1]
    assert isinstance(final, FinalResult)
    assert final.result.output.city == "Paris"
    assert stream.result is final.result
    assert all(body["stream"] is True for body in fake.bodies)
    assert final.result.usage.requests == 3


async def test_streaming_partial_output_grows() -> None:
    fake = FakeGrok(['{"city": "Paris", "summary": "A long rainy day", "high_c": 9}'])
    agent = Agent("grok-4", output_type=Forecast, client=fake.client())
    with anyio.fail_after(5):
        async with agent.run_stream("rain?") as stream:
            partials = [e for e in [e async for e in stream] if isinstance(e, PartialOutput)]
    assert len(partials) > 2
    assert partials[0].output is None  # required fields missing so far
    assert partials[1].data.get("city", "").startswith(partials[0].data.get("city", ""))
    assert partials[-1].output == Forecast(city="Paris", summary="A long rainy day", high_c=9)


async def test_stream_error_is_raised_by_the_iterator() -> None:
    fake = FakeGrok([call("nope")] * 3)
    agent = Agent("grok-4", client=fake.client(), tool_retries=1)
    with anyio.fail_after(5), pytest.raises(ToolRetriesExceeded):  # noqa: PT012
        async with agent.run_stream("go") as stream:
            async for _ in stream:
                pass


async def test_leaving_a_stream_early_cancels_the_run() -> None:
    cancelled = anyio.Event()

    @tool
    async def wait_forever() -> str:
        """Never finish."""
        try:
            await anyio.sleep_forever()
        finally:
            cancelled.set()
        return ""

    fake = FakeGrok([call("wait_forever")])
    agent = Agent("grok-4", tools=[wait_forever], client=fake.client())
    tasks_before = len(asyncio.all_tasks())
    with anyio.fail_after(5):
        async with agent.run_stream("go") as stream:
            async for event in stream:
                if event.kind == "tool_call_started":
                    break
    assert cancelled.is_set()
    assert len(asyncio.all_tasks()) == tasks_before


# -- history and instructions --------------------------------------------------------------


async def test_message_history_round_trip_through_json() -> None:
    fake = FakeGrok([call("get_forecast", city="Paris"), "Rain in Paris.", "Yes, I said rain."])
    agent = Agent("grok-4", instructions="Run {{ deps }}.", tools=[get_forecast],
                  client=fake.client())
    with anyio.fail_after(5):
        first = await agent.run("rain?", deps=1)
        reloaded = json.loads(first.to_json())
        assert reloaded == first.messages
        second = await agent.run("Are you sure?", deps=2, message_history=reloaded)
    sent = fake.bodies[2]["messages"]
    assert sent[0] == {"role": "system", "content": "Run 2."}  # rendered again for this run
    assert sent[1:len(reloaded)] == reloaded[1:]
    assert second.new_messages() == [
        {"role": "user", "content": "Are you sure?"},
        {"role": "assistant", "content": "Yes, I said rain."},
    ]
    assert len(first.new_messages()) == len(first.messages)  # no history: everything is new
    # The JSON text works as history too.
    fake.replies.append("third")
    with anyio.fail_after(5):
        third = await agent.run("and?", deps=3, message_history=second.to_json())
    assert third.output == "third"


async def test_instructions_with_an_undefined_variable_name_it() -> None:
    fake = FakeGrok(["never"])
    agent = Agent("grok-4", instructions="Hello {{ user_name }}", client=fake.client())
    with anyio.fail_after(5), pytest.raises(UserError, match="user_name"):
        await agent.run("hi")
    assert fake.bodies == []


async def test_streaming_in_tool_mode_shows_the_final_answer_taking_shape() -> None:
    fake = FakeGrok([
        reply(reasoning="The user wants Paris.", tool_calls=[call("get_forecast", city="Paris")]),
        call("final_result", city="Paris", summary="Rain", high_c=14.5),
    ])
    agent = Agent("grok-3-mini", tools=[get_forecast], output_type=Forecast, client=fake.client())
    with anyio.fail_after(5):
        async with agent.run_stream("rain?") as stream:
            events = [event async for event in stream]
    kinds = [e.kind for e in events]
    assert kinds[0] == "reasoning_delta"
    assert kinds[-2:] == ["partial_output", "final_result"]
    partial = events[-2]
    assert isinstance(partial, PartialOutput)
    assert partial.output == Forecast(city="Paris", summary="Rain", high_c=14.5)
    # final_result is the answer, not a tool call: no started/finished events for it.
    assert [e.name for e in events if isinstance(e, ToolCallStarted)] == ["get_forecast"]
    assert stream.result.output.high_c == 14.5


async def test_streaming_falls_back_after_a_rejected_parameter() -> None:
    fake = FakeGrok([_reject("Argument not supported on this model: frequencyPenalty"), "ok"])
    agent = Agent("grok-x", client=fake.client(), model_settings={"frequency_penalty": 0.1})
    with anyio.fail_after(5):
        async with agent.run_stream("hi") as stream:
            result = await stream.get_result()
    assert result.output == "ok"
    assert "frequency_penalty" in fake.bodies[0]
    assert "frequency_penalty" not in fake.bodies[1]


@pytest.mark.anyio
async def test_an_api_error_mid_run_carries_the_conversation_so_far() -> None:
    from agentkit.errors import InternalServerError

    calls = {"n": 0}

    def handler(request: httpx2.Request) -> httpx2.Response:
        calls["n"] += 1
        if calls["n"] == 1:
            return httpx2.Response(200, json={
                "id": "a", "object": "chat.completion", "created": 1, "model": "m",
                "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
                    "role": "assistant", "content": "",
                    "tool_calls": [{"id": "call_1", "type": "function",
                                    "function": {"name": "echo", "arguments": '{"text": "hi"}'}}]}}],
            })
        return httpx2.Response(500, json={"code": "internal", "error": "boom"})

    @tool
    def echo(text: str) -> str:
        """Echo the text."""
        return text

    client = GrokClient("k", base_url="http://t/v1", transport=httpx2.MockTransport(handler), max_retries=0)
    agent = Agent("grok-4", tools=[echo], client=client)
    with anyio.fail_after(5), pytest.raises(InternalServerError) as caught:
        await agent.run("say hi")
    roles = [m["role"] for m in caught.value.messages]
    assert roles == ["user", "assistant", "tool"]
    assert caught.value.messages[2]["content"] == "hi"
    await client.aclose()
