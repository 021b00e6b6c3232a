"""OpenTelemetry traces of runs (`agentkit.otel`), with the SDK's in-memory exporter: the span
tree and the GenAI attributes of a run with two parallel tool calls, a retry and a structured
output; content only when asked; no credentials anywhere; nothing with no provider."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

import anyio
import anyio.lowlevel
import pytest
from pydantic import BaseModel

pytest.importorskip("opentelemetry.sdk", reason="the otel extra: pip install 'agentkit[otel]'")

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from agentkit import Agent, GrokClient, RetryPolicy, SQLiteSession, tool
from agentkit.errors import InternalServerError
from agentkit.otel import OpenTelemetryHooks
from agentkit.sim import SimCore, SimReply, SimToolCall, SimTransport, scripted
from agentkit.sim.faults import Fault, FaultPlan

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("both_apis")]

KEY = "xai-otel-secret-key-1234567890"


class Weather(BaseModel):
    city: str
    summary: str


@tool
async def forecast(city: str) -> str:
    """The forecast for a city.

    Args:
        city: The city.
    """
    await anyio.lowlevel.checkpoint()
    return f"{city}: rain"


def _policy(request: Mapping[str, Any]) -> SimReply:
    if request["messages"][-1]["role"] == "tool":
        return SimReply(content=json.dumps({"city": "Paris", "summary": "rain"}))
    return SimReply(tool_calls=(
        SimToolCall("forecast", '{"city": "Paris"}'), SimToolCall("forecast", '{"city": "Oslo"}'),
    ))


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    yield exporter
    exporter.clear()


def _provider(exporter: InMemorySpanExporter) -> TracerProvider:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider


def _client(policy: Any, faults: FaultPlan | None = None) -> GrokClient:
    async def no_sleep(seconds: float) -> None:
        await anyio.lowlevel.checkpoint()

    return GrokClient(
        KEY, base_url="http://sim.test/v1",
        transport=SimTransport(SimCore(policy, faults=faults, api_key=KEY)),
        retry_policy=RetryPolicy(max_retries=2, sleep=no_sleep),
    )


async def _traced_run(
    exporter: InMemorySpanExporter, *, include_content: bool = False, session: Any = None
) -> list[ReadableSpan]:
    hooks = OpenTelemetryHooks(tracer_provider=_provider(exporter), include_content=include_content)
    async with _client(scripted(_policy), FaultPlan([Fault("503")])) as client:
        agent = Agent("grok-4", name="weather", client=client, tools=[forecast],
                      output_type=Weather, hooks=[hooks])
        result = await agent.run("Weather in Paris and Oslo?", session=session)
    assert result.output == Weather(city="Paris", summary="rain")
    return list(exporter.get_finished_spans())


def _attributes(span: ReadableSpan) -> dict[str, Any]:
    return dict(span.attributes or {})


async def test_the_span_tree_and_attributes_of_a_run(exporter: InMemorySpanExporter) -> None:
    spans = await _traced_run(exporter)
    by_name: dict[str, list[ReadableSpan]] = {}
    for span in spans:
        by_name.setdefault(span.name, []).append(span)
    assert sorted(by_name) == ["chat grok-4", "execute_tool forecast", "invoke_agent weather"]
    (root,) = by_name["invoke_agent weather"]
    chats = sorted(by_name["chat grok-4"], key=lambda s: s.start_time or 0)
    tools = by_name["execute_tool forecast"]
    assert len(chats) == 2 and len(tools) == 2

    # One trace; every other span is a child of the run's.
    assert root.parent is None
    assert {span.context.trace_id for span in spans} == {root.context.trace_id}
    for span in [*chats, *tools]:
        assert span.parent is not None and span.parent.span_id == root.context.span_id

    # The two tool calls overlap: both started before either ended.
    first_end = min(span.end_time or 0 for span in tools)
    assert all((span.start_time or 0) < first_end for span in tools)
    # And they ran between the two requests.
    assert (chats[0].end_time or 0) <= min(s.start_time or 0 for s in tools)
    assert max(s.end_time or 0 for s in tools) <= (chats[1].start_time or 0)

    run = _attributes(root)
    assert root.kind == SpanKind.INTERNAL
    assert run["gen_ai.operation.name"] == "invoke_agent"
    assert run["gen_ai.provider.name"] == "xai"
    assert run["gen_ai.agent.name"] == "weather"
    assert run["gen_ai.request.model"] == "grok-4"
    assert run["agentkit.usage.requests"] == 3  # the retried request counts
    assert run["agentkit.usage.tool_calls"] == 2
    assert run["gen_ai.usage.input_tokens"] > 0
    assert run["gen_ai.usage.output_tokens"] >= run["gen_ai.usage.reasoning.output_tokens"]
    assert run["agentkit.usage.cost_usd"] > 0

    first, second = (_attributes(span) for span in chats)
    assert chats[0].kind == SpanKind.CLIENT
    assert first["gen_ai.operation.name"] == "chat"
    assert first["gen_ai.request.model"] == "grok-4"
    assert first["gen_ai.response.model"]
    assert first["gen_ai.response.id"] != second["gen_ai.response.id"]
    assert first["gen_ai.response.finish_reasons"] == ("tool_calls",)
    assert second["gen_ai.response.finish_reasons"] == ("stop",)
    assert first["gen_ai.usage.input_tokens"] > 0
    assert first["gen_ai.usage.input_tokens"] + second["gen_ai.usage.input_tokens"] == run[
        "gen_ai.usage.input_tokens"
    ]
    # The retry is an event of the request it retried.
    assert [event.name for event in chats[0].events] == ["retry"]
    assert dict(chats[0].events[0].attributes or {})["error.type"] == "InternalServerError"
    assert not chats[1].events

    ids = set()
    for span in tools:
        attributes = _attributes(span)
        assert attributes["gen_ai.operation.name"] == "execute_tool"
        assert attributes["gen_ai.tool.name"] == "forecast"
        assert attributes["gen_ai.tool.type"] == "function"
        ids.add(attributes["gen_ai.tool.call.id"])
        assert span.status.status_code == StatusCode.UNSET
    assert len(ids) == 2

    # Content is off by default.
    for span in spans:
        assert not any(
            key in _attributes(span)
            for key in ("gen_ai.input.messages", "gen_ai.output.messages",
                        "gen_ai.tool.call.arguments", "gen_ai.tool.call.result")
        )
        assert "Paris" not in json.dumps(_attributes(span), default=str)


async def test_content_is_there_when_asked_for(exporter: InMemorySpanExporter) -> None:
    spans = await _traced_run(exporter, include_content=True)
    chat = next(s for s in spans if s.name.startswith("chat"))
    messages = json.loads(_attributes(chat)["gen_ai.input.messages"])
    assert messages[-1] == {"role": "user", "content": "Weather in Paris and Oslo?"}
    assert json.loads(_attributes(chat)["gen_ai.output.messages"])[0]["tool_calls"]
    tools = [s for s in spans if s.name.startswith("execute_tool")]
    assert {json.loads(_attributes(s)["gen_ai.tool.call.arguments"])["city"] for s in tools} == {
        "Paris", "Oslo",
    }
    assert {_attributes(s)["gen_ai.tool.call.result"] for s in tools} == {"Paris: rain", "Oslo: rain"}
    root = next(s for s in spans if s.name.startswith("invoke_agent"))
    assert "rain" in _attributes(root)["gen_ai.output.messages"]


async def test_the_key_never_reaches_a_span(exporter: InMemorySpanExporter) -> None:
    spans = await _traced_run(exporter, include_content=True)
    # A run that fails too: its error text is on the spans.
    hooks = OpenTelemetryHooks(tracer_provider=_provider(exporter), include_content=True)
    async with _client(scripted(["x"]), FaultPlan([Fault("500", count=5)])) as client:
        agent = Agent("grok-4", client=client, hooks=[hooks])
        with pytest.raises(InternalServerError):
            await agent.run("hi")
    spans = list(exporter.get_finished_spans())
    failed = [s for s in spans if s.status.status_code == StatusCode.ERROR]
    assert {s.name for s in failed} == {"invoke_agent agent", "chat grok-4"}
    for span in spans:
        text = json.dumps(
            [_attributes(span), [(e.name, dict(e.attributes or {})) for e in span.events],
             span.status.description],
            default=str,
        )
        assert KEY not in text and "Bearer" not in text and "authorization" not in text.lower()


async def test_a_session_is_the_conversation_id(exporter: InMemorySpanExporter, tmp_path: Any) -> None:
    async with SQLiteSession(tmp_path / "chats.db", "customer-42") as session:
        spans = await _traced_run(exporter, session=session)
    for span in spans:
        if not span.name.startswith("execute_tool"):
            assert _attributes(span)["gen_ai.conversation.id"] == "customer-42"


async def test_a_failed_tool_call_is_an_error_span(exporter: InMemorySpanExporter) -> None:
    @tool
    def broken(city: str) -> str:
        """Fails.

        Args:
            city: The city.
        """
        raise RuntimeError("no")

    hooks = OpenTelemetryHooks(tracer_provider=_provider(exporter))
    replies = [[SimToolCall("broken", '{"city": "Rome"}')], "sorry"]
    async with _client(scripted(replies)) as client:
        agent = Agent("grok-4", client=client, tools=[broken], hooks=[hooks])
        assert (await agent.run("go")).output == "sorry"
    (span,) = [s for s in exporter.get_finished_spans() if s.name == "execute_tool broken"]
    assert span.status.status_code == StatusCode.ERROR
    assert _attributes(span)["error.type"] == "tool_error"
    assert span.status.description is None  # the error text is content


async def test_no_tracer_provider_records_nothing() -> None:
    from opentelemetry.trace import NoOpTracerProvider

    hooks = OpenTelemetryHooks(tracer_provider=NoOpTracerProvider())
    async with _client(scripted(_policy)) as client:
        agent = Agent("grok-4", client=client, tools=[forecast], output_type=Weather, hooks=[hooks])
        await agent.run("Weather?")
    assert hooks._runs == {} and hooks._requests == {} and hooks._tools == {}


async def test_tree_printer_prints_the_run_as_a_tree() -> None:
    import io

    from agentkit.otel import tree_printer

    out = io.StringIO()
    async with _client(scripted(_policy), FaultPlan([Fault("503")])) as client:
        agent = Agent("grok-4", name="weather", client=client, tools=[forecast],
                      output_type=Weather, hooks=[tree_printer(out)])
        await agent.run("Weather in Paris and Oslo?")
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("invoke_agent weather  ") and "$" in lines[0]
    assert [line.split("  ")[0] for line in lines[1:]] == [
        "├─ chat grok-4", "├─ execute_tool forecast", "├─ execute_tool forecast", "└─ chat grok-4",
    ]
    assert "tool_calls" in lines[1] and "[retry: InternalServerError]" in lines[1]
    assert "stop" in lines[4] and "retry" not in lines[4]
