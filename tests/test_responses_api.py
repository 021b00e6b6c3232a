"""`client.responses` end to end: the typed wire models, the request it sends, the stream it
reads (crafted bodies with events and items nobody declared), the in-process simulator, the
socket server, `agentkit serve`, and the official `openai` SDK against it."""

from __future__ import annotations

import datetime
import json
import re
import signal
import socket
import sys
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import anyio
import httpx2
import openai
import pytest
from anyio.streams.buffered import BufferedByteReceiveStream
from pydantic import BaseModel

from agentkit._retry import RetryPolicy
from agentkit.client import GrokClient
from agentkit.client._responses import (
    ResponseAccumulator,
    ResponseStream,
    function_call_output,
    function_tool,
    text_format,
)
from agentkit.errors import (
    APIConnectionError,
    APIResponseValidationError,
    APIStreamError,
    BadRequestError,
    ConfigurationError,
    NotFoundError,
    UnprocessableEntityError,
)
from agentkit.server_tools import (
    CodeInterpreter,
    FileSearch,
    RemoteMCP,
    ServerTool,
    WebSearch,
    XSearch,
)
from agentkit.sim import SimCore, SimTransport
from agentkit.sim.server import RunningServer
from agentkit.tool import Tool, tool
from agentkit.types import (
    CodeInterpreterCall,
    CompactionItem,
    OutputItemAddedEvent,
    OutputText,
    OutputTextDeltaEvent,
    Response,
    ResponseCompletedEvent,
    ResponseCreatedEvent,
    ResponseEvent,
    ResponseFunctionCall,
    ResponseMessage,
    ResponseReasoning,
    ServerToolCallEvent,
    UnknownAnnotation,
    UnknownContent,
    UnknownEvent,
    UnknownItem,
    UrlCitation,
    WebSearchCall,
    XSearchCall,
)

FAST = "grok-4-fast-non-reasoning"
SECRET = "xai-RESPONSES_TEST_KEY_0123456789"
CITY_PROMPT = "Describe Paris: population 2100000, landmarks Eiffel Tower and Louvre."


class City(BaseModel):
    city: str
    population: int
    landmarks: list[str]


def weather_tool(seen: list[str]) -> Tool:
    """A weather tool that notes each city it is really called with."""

    @tool
    def get_weather(city: str) -> dict[str, Any]:
        """Get the current weather for a city.

        Args:
            city: The city.
        """
        seen.append(city)
        return {"city": city, "temperature_c": 17.5, "conditions": "light drizzle"}

    return get_weather


# ------------------------------------------------------------------------------ fakes


class Recorder:
    """A MockTransport handler answering from a queue, keeping every request."""

    def __init__(self, *answers: httpx2.Response) -> None:
        self.answers = list(answers)
        self.requests: list[httpx2.Request] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]

    def body(self, index: int = -1) -> dict[str, Any]:
        body: dict[str, Any] = json.loads(self.requests[index].content)
        return body


def fake_client(handler: Callable[[httpx2.Request], httpx2.Response]) -> GrokClient:
    return GrokClient(
        SECRET,
        base_url="http://grok.test/v1",
        transport=httpx2.MockTransport(handler),
        retry_policy=RetryPolicy(max_retries=0),
    )


def frozen_clock() -> float:
    """A clock that stands still, so that two simulators agree on `created_at` too."""
    return 1_767_225_600.0


def frozen_simulator() -> GrokClient:
    return GrokClient.simulated(transport=SimTransport(SimCore(clock=frozen_clock)))


def minimal_response(**extra: Any) -> dict[str, Any]:
    return {
        "id": "resp_1",
        "object": "response",
        "created_at": 1,
        "status": "completed",
        "model": FAST,
        "output": [],
        **extra,
    }


def sse_response(*frames: str, chunk: int | None = None) -> httpx2.Response:
    """An event stream; with `chunk`, the body arrives in pieces of that many bytes."""
    data = "".join(frames).encode()

    async def pieces() -> AsyncIterator[bytes]:
        step = chunk or len(data)
        for start in range(0, len(data), step):
            yield data[start : start + step]

    return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=pieces())


def frame(payload: dict[str, Any] | str, event: str | None = None) -> str:
    data = payload if isinstance(payload, str) else json.dumps(payload)
    return (f"event: {event}\n" if event else "") + f"data: {data}\n\n"


# ------------------------------------------------------------------------------ wire models


def test_a_reply_with_2025_and_2026_shapes_and_unknown_types_parses_whole() -> None:
    raw = minimal_response(
        output=[
            {
                "type": "web_search_call",
                "id": "fc_1",
                "status": "completed",
                "call_id": "",
                "name": "web_search",
                "arguments": '{"query": "grok release", "num_results": 5}',
            },
            {
                "type": "web_search_call",
                "id": "ws_2",
                "status": "completed",
                "action": {
                    "type": "search",
                    "query": "grok api",
                    "sources": [{"type": "url", "url": "https://a.example/x"}],
                },
            },
            {
                "type": "x_search_call",
                "id": "xs_3",
                "status": "completed",
                "name": "x_semantic_search",
                "arguments": '{"query": "grok"}',
            },
            {
                "type": "code_execution_call",
                "id": "ce_4",
                "status": "completed",
                "arguments": '{"code": "print(6 * 7)"}',
            },
            {"type": "view_x_video_call", "id": "vx_5", "status": "completed", "seconds": 12},
            {
                "type": "message",
                "id": "msg_6",
                "role": "assistant",
                "status": "completed",
                "content": [
                    {
                        "type": "output_text",
                        "text": "Grok ",
                        "annotations": [
                            {"type": "url_citation", "url": "https://a.example/x"},
                            {"type": "file_citation", "file_id": "file_9", "index": 3},
                        ],
                    },
                    {"type": "output_audio", "transcript": "..."},
                    {
                        "type": "output_text",
                        "text": "news.",
                        "annotations": [
                            {"type": "url_citation", "url": "https://a.example/x", "title": "A"}
                        ],
                    },
                ],
            },
        ],
        usage={
            "input_tokens": 10,
            "output_tokens": 7,
            "total_tokens": 17,
            "output_tokens_details": {"reasoning_tokens": 4},
            "input_tokens_details": {"cached_tokens": 3},
            "num_server_side_tools_used": 2,
            "cost_in_usd_ticks": 25_000_000,
            "context_details": {"input_tokens": 8},
        },
        brand_new_field={"kept": True},
    )
    response = Response.model_validate(raw)
    first, second, x_search, code, unknown, message = response.output
    assert isinstance(first, WebSearchCall) and first.query == "grok release"
    assert isinstance(second, WebSearchCall) and second.query == "grok api"
    assert second.action is not None and second.action.sources[0].url == "https://a.example/x"
    assert isinstance(x_search, XSearchCall) and x_search.query == "grok"
    assert isinstance(code, CodeInterpreterCall) and code.source == "print(6 * 7)"
    assert isinstance(unknown, UnknownItem) and unknown.type == "view_x_video_call"
    assert unknown.model_extra == {"status": "completed", "seconds": 12}
    assert isinstance(message, ResponseMessage)
    assert isinstance(message.content[1], UnknownContent)
    assert isinstance(message.content[0], OutputText)
    assert isinstance(message.content[0].annotations[1], UnknownAnnotation)
    assert response.output_text == "Grok news."
    assert [c.url for c in response.citations] == ["https://a.example/x"]  # each URL once
    assert len(response.server_tool_calls) == 4
    usage = response.usage
    assert usage is not None
    assert (usage.cached_tokens, usage.reasoning_tokens, usage.server_side_tool_calls) == (3, 4, 2)
    assert usage.cost_usd == pytest.approx(0.0025)
    assert response.model_extra == {"brand_new_field": {"kept": True}}
    # Nothing is lost on the way back out.
    again = Response.model_validate(response.model_dump(exclude_none=True))
    assert again.model_dump() == response.model_dump()


def test_usage_counts_server_side_tools_from_the_details_when_no_total() -> None:
    usage = Response.model_validate(
        minimal_response(
            usage={
                "input_tokens": 1,
                "output_tokens": 1,
                "total_tokens": 2,
                "server_side_tool_usage_details": {"web_search_calls": 2, "mcp_calls": 1},
            }
        )
    ).usage
    assert usage is not None and usage.server_side_tool_calls == 3
    assert usage.cost_usd is None


# ------------------------------------------------------------------------------ server tools


def test_server_tool_declarations_give_the_tools_entries() -> None:
    assert WebSearch().to_wire() == {"type": "web_search"}
    assert WebSearch(allowed_domains=["Python.org"], enable_image_understanding=True).to_wire() == {
        "type": "web_search",
        "allowed_domains": ["python.org"],
        "enable_image_understanding": True,
    }
    assert XSearch(
        allowed_x_handles=["@xai"], from_date=datetime.date(2025, 10, 1), to_date="2025-10-09"
    ).to_wire() == {
        "type": "x_search",
        "allowed_x_handles": ["xai"],
        "from_date": "2025-10-01",
        "to_date": "2025-10-09",
    }
    assert CodeInterpreter().to_wire() == {"type": "code_interpreter"}
    assert FileSearch(vector_store_ids=["vs_1"], max_num_results=4).to_wire() == {
        "type": "file_search",
        "vector_store_ids": ["vs_1"],
        "max_num_results": 4,
    }
    mcp = RemoteMCP(
        server_url="https://mcp.example.com/mcp",
        server_label="wiki",
        allowed_tools=["ask"],
        authorization="Bearer s3cret",
        headers={"X-Api-Key": "h3ader-secret"},
    )
    assert mcp.to_wire() == {
        "type": "mcp",
        "server_url": "https://mcp.example.com/mcp",
        "server_label": "wiki",
        "allowed_tools": ["ask"],
        "authorization": "Bearer s3cret",
        "headers": {"X-Api-Key": "h3ader-secret"},
    }
    assert WebSearch(extra={"enable_image_search": True}).to_wire()["enable_image_search"] is True
    assert all(isinstance(t, ServerTool) for t in (mcp, WebSearch(), CodeInterpreter()))


def test_secrets_of_a_remote_mcp_server_never_show() -> None:
    mcp = RemoteMCP(
        server_url="https://mcp.example.com/mcp",
        authorization="Bearer s3cret",
        headers={"X-Api-Key": "h3ader-secret"},
    )
    for text in (repr(mcp), str(mcp), f"{mcp}", repr([mcp])):
        assert "s3cret" not in text and "h3ader-secret" not in text
        assert "authorization=<set>" in text and "X-Api-Key" in text


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (
            lambda: WebSearch(allowed_domains=["a.com"], excluded_domains=["b.com"]),
            "cannot be used together",
        ),
        (lambda: WebSearch(allowed_domains=[f"d{i}.com" for i in range(6)]), "at most 5"),
        (lambda: WebSearch(excluded_domains=["https://python.org/docs"]), "'python.org'"),
        (lambda: WebSearch(allowed_domains="python.org"), "not one string"),
        (lambda: WebSearch(allowed_domains=[]), "at least one"),
        (
            lambda: XSearch(allowed_x_handles=["a"], excluded_x_handles=["b"]),
            "cannot be used together",
        ),
        (lambda: XSearch(excluded_x_handles=[f"h{i}" for i in range(11)]), "at most 10"),
        (lambda: XSearch(from_date="10/01/2025"), "YYYY-MM-DD"),
        (lambda: XSearch(from_date="2025-10-09", to_date="2025-10-01"), "after"),
        (lambda: FileSearch(vector_store_ids=[]), "at least one"),
        (lambda: FileSearch(vector_store_ids=["vs"], max_num_results=0), "positive"),
        (lambda: RemoteMCP(server_url="mcp.example.com"), "http(s) URL"),
        (lambda: RemoteMCP(server_url="https://m.example", server_label=" "), "server_label"),
    ],
)
def test_server_tool_arguments_are_checked_with_clear_errors(
    make: Callable[[], ServerTool], words: str
) -> None:
    with pytest.raises(ConfigurationError, match=re.escape(words)):
        make()


# ------------------------------------------------------------------------------ the request


@pytest.mark.anyio
async def test_the_request_body_flattens_tools_and_sends_only_what_was_given() -> None:
    recorder = Recorder(httpx2.Response(200, json=minimal_response()))
    weather = weather_tool([])
    async with fake_client(recorder) as client:
        await client.responses.create(
            model=FAST,
            input="Hi",
            instructions="Be brief.",
            store=False,
            include=("reasoning.encrypted_content",),
            max_output_tokens=50,
            reasoning={"effort": "low"},
            text=text_format(City),
            tool_choice="auto",
            tools=[
                weather,
                WebSearch(allowed_domains=["python.org"]),
                {"type": "function", "function": {"name": "chat_shaped", "parameters": {}}},
                {"type": "x_search"},
            ],
            extra_body={"max_turns": 3},
        )
    request = recorder.requests[0]
    assert request.url.path == "/v1/responses" and request.method == "POST"
    body = recorder.body()
    assert body["model"] == FAST and body["input"] == "Hi" and body["store"] is False
    assert body["include"] == ["reasoning.encrypted_content"] and body["max_turns"] == 3
    assert "stream" not in body and "temperature" not in body
    assert body["tools"] == [
        function_tool(weather),
        {"type": "web_search", "allowed_domains": ["python.org"]},
        {"type": "function", "name": "chat_shaped", "parameters": {}},
        {"type": "x_search"},
    ]
    assert body["tools"][0]["name"] == "get_weather" and "function" not in body["tools"][0]
    fmt = body["text"]["format"]
    assert fmt["type"] == "json_schema" and fmt["name"] == "City"
    assert set(fmt["schema"]["properties"]) == {"city", "population", "landmarks"}


def test_input_helpers() -> None:
    call = ResponseFunctionCall(call_id="call_1", name="f", arguments="{}")
    assert function_call_output(call, {"a": 1}) == {
        "type": "function_call_output",
        "call_id": "call_1",
        "output": '{"a":1}',
    }
    assert function_call_output("call_2", "done")["output"] == "done"
    with pytest.raises(ConfigurationError, match="call_id"):
        function_call_output("", "x")
    assert text_format(str) == {"format": {"type": "text"}}


@pytest.mark.anyio
async def test_bad_arguments_are_refused_before_sending() -> None:
    recorder = Recorder(httpx2.Response(200, json=minimal_response()))
    async with fake_client(recorder) as client:
        with pytest.raises(ConfigurationError, match="input must not be empty"):
            await client.responses.create(model=FAST, input="")
        with pytest.raises(ConfigurationError, match="unknown option"):
            await client.responses.create(model=FAST, input="x", frequency=1)  # type: ignore[call-overload]
        with pytest.raises(ConfigurationError, match="tools takes"):
            await client.responses.create(model=FAST, input="x", tools=[42])
        with pytest.raises(ConfigurationError, match="not a response id"):
            await client.responses.retrieve("a/../b")
        with pytest.raises(ConfigurationError, match="compact"):
            await client.responses.compact(model=FAST)
    assert recorder.requests == []


@pytest.mark.anyio
async def test_errors_and_retries_are_the_clients() -> None:
    flat = {"code": "Some requested entity was not found", "error": "Response r1 is gone."}
    recorder = Recorder(
        httpx2.Response(503, json={"error": "busy"}), httpx2.Response(404, json=flat)
    )
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    client = GrokClient(
        SECRET,
        base_url="http://grok.test/v1",
        transport=httpx2.MockTransport(recorder),
        retry_policy=RetryPolicy(max_retries=2, sleep=sleep),
    )
    async with client:
        with pytest.raises(NotFoundError, match="is gone") as info:
            await client.responses.retrieve("r1")
    assert len(sleeps) == 1  # the 503 was retried, the 404 not
    assert info.value.code == "Some requested entity was not found"
    assert [r.url.path for r in recorder.requests] == ["/v1/responses/r1"] * 2


# ------------------------------------------------------------------------------ the stream


def created(**extra: Any) -> str:
    return frame(
        {
            "type": "response.created",
            "sequence_number": 0,
            "response": minimal_response(status="in_progress", **extra),
        }
    )


def completed(output: list[dict[str, Any]] | None = None, **extra: Any) -> str:
    return frame(
        {"type": "response.completed", "response": minimal_response(output=output or [], **extra)}
    )


@pytest.mark.anyio
@pytest.mark.parametrize("chunk", [None, 1, 7])
async def test_unknown_events_and_items_pass_through_without_breaking_assembly(
    chunk: int | None,
) -> None:
    message = {
        "type": "message",
        "id": "m1",
        "role": "assistant",
        "status": "completed",
        "content": [{"type": "output_text", "text": "Hello there", "annotations": []}],
    }
    body = sse_response(
        created(),
        frame({"type": "response.brand_new_thing", "sequence_number": 1, "payload": [1, 2]}),
        frame(
            {
                "type": "response.output_item.added",
                "output_index": 0,
                "item": {"type": "hologram", "id": "h1", "status": "in_progress"},
            }
        ),
        frame({"type": "response.hologram.flickering", "item_id": "h1"}),
        frame(
            {
                "type": "response.output_item.done",
                "output_index": 0,
                "item": {"type": "hologram", "id": "h1", "status": "completed", "frames": 3},
            }
        ),
        frame(
            {
                "type": "response.output_item.added",
                "output_index": 1,
                "item": {**message, "content": [], "status": "in_progress"},
            }
        ),
        frame(
            {
                "type": "response.output_text.delta",
                "item_id": "m1",
                "output_index": 1,
                "content_index": 0,
                "delta": "Hello",
            }
        ),
        frame(
            {
                "type": "response.output_text.delta",
                "item_id": "m1",
                "output_index": 1,
                "content_index": 0,
                "delta": " there",
            }
        ),
        frame(
            {
                "type": "response.output_text.annotation.added",
                "item_id": "m1",
                "output_index": 1,
                "content_index": 0,
                "annotation_index": 0,
                "annotation": {"type": "url_citation", "url": "https://a.example/"},
            }
        ),
        frame({"type": "response.x_search_call.searching", "item_id": "xs", "output_index": 2}),
        completed(),  # a server that leaves `output` empty at the end
        chunk=chunk,
    )
    async with fake_client(Recorder(body)) as client:
        stream = await client.responses.create(model=FAST, input="Hi", stream=True)
        assert isinstance(stream, ResponseStream)
        async with stream:
            seen = [event async for event in stream]
            final = await stream.final()
    kinds = [type(event) for event in seen]
    assert kinds.count(UnknownEvent) == 2
    unknown = next(e for e in seen if isinstance(e, UnknownEvent))
    assert unknown.type == "response.brand_new_thing" and unknown.model_extra == {"payload": [1, 2]}
    progress = next(e for e in seen if isinstance(e, ServerToolCallEvent))
    assert (progress.tool, progress.phase) == ("x_search_call", "searching")
    assert isinstance(seen[-1], ResponseCompletedEvent)
    hologram, assembled = final.output
    assert isinstance(hologram, UnknownItem) and hologram.model_extra == {
        "status": "completed",
        "frames": 3,
    }
    assert isinstance(assembled, ResponseMessage)
    assert final.output_text == "Hello there"
    assert [c.url for c in final.citations] == ["https://a.example/"]
    # Events handed out are not changed by what the stream assembles afterwards.
    added = next(e for e in seen if isinstance(e, OutputItemAddedEvent) and e.output_index == 1)
    assert isinstance(added.item, ResponseMessage) and added.item.content == []


@pytest.mark.anyio
async def test_a_stream_without_added_events_or_types_still_assembles() -> None:
    body = sse_response(
        # The type comes only from the SSE `event:` line here, as some servers send it.
        frame({"response": minimal_response(status="in_progress")}, event="response.created"),
        frame(
            {"item_id": "m", "output_index": 0, "content_index": 0, "delta": "Hi"},
            event="response.output_text.delta",
        ),
        frame(
            {
                "type": "response.function_call_arguments.delta",
                "item_id": "fc",
                "output_index": 1,
                "delta": '{"city":',
            }
        ),
        frame(
            {
                "type": "response.function_call_arguments.done",
                "item_id": "fc",
                "output_index": 1,
                "arguments": '{"city": "Oslo"}',
                "name": "get_weather",
            }
        ),
        frame(
            {
                "type": "response.reasoning_summary_text.delta",
                "item_id": "r",
                "output_index": 2,
                "summary_index": 0,
                "delta": "Think",
            }
        ),
        frame(
            {
                "type": "response.code_interpreter_call_code.delta",
                "item_id": "c",
                "output_index": 3,
                "delta": "print(1)",
            }
        ),
        frame("[DONE]"),
    )
    async with fake_client(Recorder(body)) as client:
        stream = await client.responses.create(model=FAST, input="Hi", stream=True)
        final = await stream.final()
    text, call, reasoning, code = final.output
    assert isinstance(text, ResponseMessage) and text.text == "Hi"
    assert isinstance(call, ResponseFunctionCall) and call.name == "get_weather"
    assert json.loads(call.arguments) == {"city": "Oslo"}
    assert isinstance(reasoning, ResponseReasoning) and reasoning.text == "Think"
    assert isinstance(code, CodeInterpreterCall) and code.code == "print(1)"
    assert final.status == "in_progress"  # [DONE] came before any response.completed


@pytest.mark.anyio
async def test_an_error_event_raises_with_secrets_scrubbed() -> None:
    body = sse_response(
        created(),
        frame({"type": "error", "code": "server_error", "message": f"failed for key {SECRET}"}),
    )
    async with fake_client(Recorder(body)) as client:
        stream = await client.responses.create(model=FAST, input="Hi", stream=True)
        with pytest.raises(APIStreamError, match="failed for key") as info:
            await stream.final()
    assert SECRET not in str(info.value) and info.value.code == "server_error"


@pytest.mark.anyio
async def test_a_failed_response_ends_the_stream_with_its_error() -> None:
    failed = frame(
        {
            "type": "response.failed",
            "response": minimal_response(
                status="failed", error={"code": "server_error", "message": "The model crashed."}
            ),
        }
    )
    async with fake_client(Recorder(sse_response(created(), failed))) as client:
        stream = await client.responses.create(model=FAST, input="Hi", stream=True)
        final = await stream.final()
    assert final.status == "failed" and final.error is not None
    assert final.error.message == "The model crashed."


@pytest.mark.anyio
async def test_a_cut_stream_and_a_malformed_event_are_reported() -> None:
    delta = frame(
        {
            "type": "response.output_text.delta",
            "item_id": "m",
            "output_index": 0,
            "content_index": 0,
            "delta": "Hel",
        }
    )
    async with fake_client(Recorder(sse_response(created(), delta))) as client:
        stream = await client.responses.create(model=FAST, input="Hi", stream=True)
        with pytest.raises(APIConnectionError, match="ended before the response was complete"):
            await stream.final()
        assert stream.current().output_text == "Hel"
    bad = frame({"type": "response.output_text.delta", "delta": {"not": "text"}})
    async with fake_client(Recorder(sse_response(created(), bad))) as client:
        stream = await client.responses.create(model=FAST, input="Hi", stream=True)
        with pytest.raises(APIResponseValidationError, match=r"response.output_text.delta"):
            await stream.final()


def test_the_accumulator_alone() -> None:
    accumulator = ResponseAccumulator()
    assert accumulator.response().status == "in_progress" and not accumulator.finished
    accumulator.add(ResponseEvent(type="response.whatever"))
    accumulator.add(OutputTextDeltaEvent(output_index=0, delta="a"))
    accumulator.add(OutputTextDeltaEvent(output_index=0, content_index=1, delta="b"))
    assert accumulator.response().output_text == "ab"
    accumulator.add(ResponseCreatedEvent(response=Response(id="r", status="in_progress")))
    assert accumulator.response().id == "r"


# ------------------------------------------------------------------------------ the simulator


@pytest.mark.anyio
async def test_plain_and_streamed_agree_on_the_simulator() -> None:
    async with frozen_simulator() as plain_client:
        plain = await plain_client.responses.create(model="grok-3-mini", input="Say hello.")
    async with frozen_simulator() as stream_client:
        stream = await stream_client.responses.create(
            model="grok-3-mini", input="Say hello.", stream=True
        )
        async with stream:
            deltas = [e.delta async for e in stream if isinstance(e, OutputTextDeltaEvent)]
            final = await stream.final()
    # Fresh simulators with the same seed: the very same response, ids included.
    assert final.model_dump() == plain.model_dump()
    assert "".join(deltas) == plain.output_text and "hello" in plain.output_text.lower()
    assert [type(i) for i in plain.output] == [ResponseReasoning, ResponseMessage]
    assert plain.reasoning[0].text  # grok-3-mini shows its reasoning
    assert plain.usage is not None and plain.usage.cost_usd and plain.usage.reasoning_tokens


@pytest.mark.anyio
async def test_a_function_tool_round_trip_and_a_follow_up_by_previous_response_id() -> None:
    seen: list[str] = []
    weather = weather_tool(seen)
    async with GrokClient.simulated() as client:
        first = await client.responses.create(
            model=FAST, input="What is the weather in Paris?", tools=[weather]
        )
        (call,) = first.function_calls
        result = await weather.invoke(call.arguments)
        second = await client.responses.create(
            model=FAST,
            previous_response_id=first.id,
            tools=[weather],
            input=[function_call_output(call, result)],
        )
        third = await client.responses.create(
            model=FAST, previous_response_id=second.id, tools=[weather], input="And in Tokyo?"
        )
    assert seen == ["Paris"]
    assert "17.5" in second.output_text and "drizzle" in second.output_text
    assert second.usage is not None and second.usage.cached_tokens > 0
    (again,) = third.function_calls
    assert json.loads(again.arguments) == {"city": "Tokyo"}


@pytest.mark.anyio
async def test_stateless_turns_send_the_output_items_back_with_encrypted_reasoning() -> None:
    weather = weather_tool([])
    question = {"role": "user", "content": "What is the weather in Paris?"}
    async with GrokClient.simulated() as client:
        first = await client.responses.create(
            model="grok-4.3",
            input=[question],
            tools=[weather],
            store=False,
            include=["reasoning.encrypted_content"],
        )
        (reasoning,) = first.reasoning
        assert reasoning.encrypted_content and not reasoning.summary
        (call,) = first.function_calls
        second = await client.responses.create(
            model="grok-4.3",
            tools=[weather],
            store=False,
            input=[question, *first.output, function_call_output(call, {"temperature_c": 9})],
        )
        assert "9" in second.output_text
        with pytest.raises(NotFoundError):
            await client.responses.retrieve(first.id)


@pytest.mark.anyio
async def test_structured_output_with_text_format() -> None:
    async with GrokClient.simulated() as client:
        response = await client.responses.create(
            model="grok-4.3", input=CITY_PROMPT, text=text_format(City)
        )
    city = City.model_validate_json(response.output_text)
    assert city == City(city="Paris", population=2100000, landmarks=["Eiffel Tower", "Louvre"])


@pytest.mark.anyio
async def test_retrieve_input_items_compact_and_delete() -> None:
    async with GrokClient.simulated() as client:
        made = await client.responses.create(
            model=FAST,
            input=[{"role": "user", "content": "What is the weather in Paris?"}],
            tools=[weather_tool([])],
        )
        got = await client.responses.retrieve(made.id)
        assert got.model_dump() == made.model_dump()
        items = await client.responses.input_items(made.id)
        (item,) = items.data
        assert isinstance(item, ResponseMessage) and item.text == "What is the weather in Paris?"
        compacted = await client.responses.compact(model=FAST, previous_response_id=made.id)
        (compaction,) = compacted.output
        assert isinstance(compaction, CompactionItem) and compaction.encrypted_content
        follow = await client.responses.create(
            model=FAST,
            tools=[weather_tool([])],
            input=[*compacted.output, function_call_output(made.function_calls[0], "Sunny")],
        )
        assert "Sunny" in follow.output_text
        deleted = await client.responses.delete(made.id)
        assert deleted.deleted and deleted.id == made.id
        with pytest.raises(NotFoundError):
            await client.responses.delete(made.id)


@pytest.mark.anyio
async def test_server_side_tools_cite_and_bill_their_calls() -> None:
    async with GrokClient.simulated() as client:
        response = await client.responses.create(
            model="grok-4.3",
            input="Search the web for the latest news about solar panels.",
            tools=[WebSearch(allowed_domains=["energy.example"])],
        )
        code = await client.responses.create(
            model="grok-4.3", input="Run code to compute 12 * 12.", tools=[CodeInterpreter()]
        )
    (search,) = response.server_tool_calls
    assert isinstance(search, WebSearchCall) and "solar" in (search.query or "").lower()
    assert response.citations and all(isinstance(c, UrlCitation) for c in response.citations)
    assert all(c.url.startswith("https://energy.example/") for c in response.citations)
    usage = response.usage
    assert usage is not None and usage.server_side_tool_calls == 1
    assert usage.server_side_tool_usage_details is not None
    assert usage.server_side_tool_usage_details.web_search_calls == 1
    assert usage.cost_usd is not None and usage.cost_usd >= 0.005  # the call's fee
    (run,) = code.server_tool_calls
    assert isinstance(run, CodeInterpreterCall) and run.logs == "144"
    assert "144" in code.output_text


@pytest.mark.anyio
async def test_the_simulators_refusals_arrive_as_typed_errors() -> None:
    async with GrokClient.simulated(max_retries=0) as client:
        with pytest.raises(NotFoundError, match="grok-nine"):
            await client.responses.create(model="grok-nine", input="Hi")
        with pytest.raises(UnprocessableEntityError, match="missing field `name`"):
            await client.responses.create(model=FAST, input="Hi", tools=[{"type": "function"}])
        with pytest.raises(BadRequestError, match="call_nowhere"):
            await client.responses.create(
                model=FAST, input=[function_call_output("call_nowhere", "x")]
            )
        with pytest.raises(NotFoundError, match="nope"):
            await client.responses.create(model=FAST, input="Hi", previous_response_id="nope")


@pytest.mark.anyio
async def test_a_dropped_stream_is_a_connection_error() -> None:
    async with GrokClient.simulated(max_retries=0) as client:
        stream = await client.responses.create(
            model=FAST, input="Say hello.", stream=True, extra_headers={"x-sim-fault": "drop"}
        )
        with pytest.raises(APIConnectionError):
            await stream.final()
        failing = await client.responses.create(
            model=FAST,
            input="Say hello.",
            stream=True,
            extra_headers={"x-sim-fault": "inband_error"},
        )
        with pytest.raises(APIStreamError, match="internal error"):
            await failing.final()


# ------------------------------------------------------------------------------ over a socket


SERVER_THREAD = "agentkit-sim-server"


@pytest.fixture
def loopback() -> Iterator[str]:
    """A fresh server on 127.0.0.1 (its own SimCore, ids from the default seed); its thread
    must be gone afterwards."""
    before = {t for t in threading.enumerate() if t.name == SERVER_THREAD}
    server = RunningServer(SimCore(clock=frozen_clock))
    server.start()
    try:
        yield server.base_url
    finally:
        server.stop()
    assert {t for t in threading.enumerate() if t.name == SERVER_THREAD} == before


async def conversation(client: GrokClient, *, stream: bool) -> list[Response]:
    """A tool round trip, a follow-up, and a search: what both transports must agree on."""
    weather = weather_tool([])
    responses: list[Response] = []

    async def create(**fields: Any) -> Response:
        if not stream:
            plain: Response = await client.responses.create(model=FAST, **fields)
            return plain
        events: ResponseStream = await client.responses.create(model=FAST, stream=True, **fields)
        async with events:
            return await events.final()

    responses.append(await create(input="What is the weather in Paris?", tools=[weather]))
    call = responses[-1].function_calls[0]
    responses.append(
        await create(
            previous_response_id=responses[-1].id,
            tools=[weather],
            input=[function_call_output(call, await weather.invoke(call.arguments))],
        )
    )
    responses.append(
        await create(input="Search the web for news about solar panels.", tools=[WebSearch()])
    )
    return responses


@pytest.mark.anyio
@pytest.mark.parametrize("stream", [False, True], ids=["plain", "streamed"])
async def test_the_socket_server_answers_as_the_in_process_simulator(
    loopback: str, stream: bool
) -> None:
    with anyio.fail_after(20):
        async with GrokClient.openai_compatible(f"{loopback}/v1", max_retries=0) as remote:
            over_socket = await conversation(remote, stream=stream)
            stored = await remote.responses.retrieve(over_socket[1].id)
            items = await remote.responses.input_items(over_socket[1].id)
            deleted = await remote.responses.delete(over_socket[1].id)
    async with frozen_simulator() as local:
        in_process = await conversation(local, stream=stream)
    assert [r.model_dump() for r in over_socket] == [r.model_dump() for r in in_process]
    assert stored.model_dump() == over_socket[1].model_dump()
    assert items.data and deleted.deleted
    assert over_socket[2].citations


# ------------------------------------------------------------------------------ openai SDK


def sdk(base_url: str) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(
        api_key="sk-test", base_url=f"{base_url}/v1", max_retries=0, timeout=10
    )


@pytest.mark.anyio
async def test_the_openai_sdk_creates_streams_retrieves_and_deletes(loopback: str) -> None:
    with anyio.fail_after(20):
        async with sdk(loopback) as client:
            plain = await client.responses.create(
                model="grok-4.3",
                input="Say hello to the world.",
                include=["reasoning.encrypted_content"],
            )
            stream = await client.responses.create(
                model="grok-4.3", input="Say hello to the world.", stream=True
            )
            events = [event async for event in stream]
            got = await client.responses.retrieve(plain.id)
            items = await client.responses.input_items.list(plain.id)
            await client.responses.delete(plain.id)
            with pytest.raises(openai.NotFoundError):
                await client.responses.retrieve(plain.id)

    assert plain.object == "response" and plain.status == "completed"
    assert "hello" in plain.output_text.lower()
    assert [item.type for item in plain.output] == ["reasoning", "message"]
    assert plain.output[0].type == "reasoning" and plain.output[0].encrypted_content
    assert plain.usage is not None
    assert plain.usage.total_tokens == plain.usage.input_tokens + plain.usage.output_tokens
    assert plain.usage.output_tokens_details.reasoning_tokens > 0
    types = [event.type for event in events]
    assert types[0] == "response.created" and types[-1] == "response.completed"
    assert [e.sequence_number for e in events] == list(range(len(events)))
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert text == plain.output_text
    last = events[-1]
    assert last.type == "response.completed" and last.response.output_text == plain.output_text
    assert got.id == plain.id and got.output_text == plain.output_text
    assert [item.type for item in items.data] == ["message"]


@pytest.mark.anyio
async def test_the_openai_sdk_runs_tools_and_reads_citations(loopback: str) -> None:
    weather = weather_tool([])
    with anyio.fail_after(20):
        async with sdk(loopback) as client:
            first = await client.responses.create(
                model=FAST, input="What is the weather in Paris?", tools=[function_tool(weather)]
            )  # type: ignore[list-item]
            call = next(item for item in first.output if item.type == "function_call")
            second = await client.responses.create(
                model=FAST,
                previous_response_id=first.id,
                tools=[function_tool(weather)],  # type: ignore[list-item]
                input=[
                    {
                        "type": "function_call_output",
                        "call_id": call.call_id,
                        "output": json.dumps({"temperature_c": 23}),
                    }
                ],
            )
            searched = await client.responses.create(
                model=FAST,
                input="Search the web for news about solar panels.",
                tools=[{"type": "web_search"}],
            )
            async with client.responses.stream(
                model=FAST,
                input="Search the web for news about solar panels.",
                tools=[{"type": "web_search"}],
            ) as helper:
                final = await helper.get_final_response()
    assert call.name == "get_weather" and json.loads(call.arguments) == {"city": "Paris"}
    assert "23" in second.output_text
    message = next(item for item in searched.output if item.type == "message")
    annotations = message.content[0].annotations  # type: ignore[union-attr]
    assert annotations and all(
        a.type == "url_citation" and getattr(a, "url", "") for a in annotations
    )
    assert searched.output[0].type == "web_search_call"
    assert final.output_text == searched.output_text


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.mark.anyio
async def test_agentkit_serve_speaks_responses_to_the_sdk() -> None:
    port = free_port()
    process = await anyio.open_process(
        [sys.executable, "-m", "agentkit", "serve", "--port", str(port)]
    )
    try:
        assert process.stderr is not None
        stderr = BufferedByteReceiveStream(process.stderr)
        with anyio.fail_after(20):
            while "serving" not in (await stderr.receive_until(b"\n", 65536)).decode():
                pass
        with anyio.fail_after(10):
            async with sdk(f"http://127.0.0.1:{port}") as client:
                plain = await client.responses.create(model=FAST, input="Say hello.")
                stream = await client.responses.create(model=FAST, input="Say hello.", stream=True)
                last = [event async for event in stream][-1]
                await client.responses.delete(plain.id)
        assert "hello" in plain.output_text.lower()
        assert last.type == "response.completed"
        assert last.response.output_text == plain.output_text
        process.send_signal(signal.SIGINT)
        with anyio.fail_after(5):
            assert await process.wait() == 0
    finally:
        if process.returncode is None:
            process.kill()
            with anyio.fail_after(5):
                await process.wait()
        await process.aclose()
