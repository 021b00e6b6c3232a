"""GrokClient: configuration, every endpoint, errors, retries, secrets, record and replay."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest

from agentkit._http import RecordingTransport, ReplayMismatchError, ReplayTransport
from agentkit._retry import RetryPolicy
from agentkit._version import __version__
from agentkit.client import GrokClient
from agentkit.errors import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APIStreamError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    ConflictError,
    GoneError,
    InternalServerError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    QuotaExceededError,
    RateLimitError,
    UnprocessableEntityError,
)

SECRET = "xai-TESTKEY_0123456789_abcdef_SECRET"

Handler = Callable[[httpx2.Request], httpx2.Response]


def completion_body(content: str = "Hello!", **extra: Any) -> dict[str, Any]:
    return {
        "id": "c1", "object": "chat.completion", "created": 1, "model": "grok-4-0709",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                     "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 20,
                  "completion_tokens_details": {"reasoning_tokens": 8},
                  "cost_in_usd_ticks": 1_500_000},
        **extra,
    }


class Recorder:
    """A MockTransport handler that answers from a list and remembers every request."""

    def __init__(self, *responses: httpx2.Response | Callable[[httpx2.Request], httpx2.Response]):
        self.responses = list(responses)
        self.requests: list[httpx2.Request] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        answer = self.responses.pop(0) if len(self.responses) > 1 else self.responses[0]
        return answer(request) if callable(answer) else answer

    def body(self, index: int = -1) -> dict[str, Any]:
        return json.loads(self.requests[index].content)


class FakeSleep:
    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def make_client(handler: Handler, *, retries: int = 2, sleep: FakeSleep | None = None,
                **options: Any) -> GrokClient:
    policy = RetryPolicy(max_retries=retries, sleep=sleep or FakeSleep())
    return GrokClient(SECRET, base_url="http://grok.test/v1",
                      transport=httpx2.MockTransport(handler), retry_policy=policy, **options)


def sse(*events: dict[str, Any] | str) -> httpx2.Response:
    lines = [f"data: {e if isinstance(e, str) else json.dumps(e)}\n\n" for e in events]
    return httpx2.Response(200, headers={"content-type": "text/event-stream"},
                           content="".join(lines).encode())


# -- configuration ---------------------------------------------------------------------------


def test_environment_is_read_in_the_constructor_and_arguments_win(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XAI_API_KEY", SECRET)
    monkeypatch.setenv("XAI_BASE_URL", "http://from-env.test/v1/")
    client = GrokClient()
    assert client.base_url == "http://from-env.test/v1"
    assert client._api_key == SECRET
    explicit = GrokClient("other", base_url="http://explicit.test/v1")
    assert (explicit.base_url, explicit._api_key) == ("http://explicit.test/v1", "other")
    monkeypatch.setenv("XAI_BASE_URL", "http://changed.test/v1")
    assert client.base_url == "http://from-env.test/v1"  # read once


def test_missing_key_for_xai_says_which_variable_to_set() -> None:
    with pytest.raises(ConfigurationError, match="set XAI_API_KEY or pass api_key"):
        GrokClient()


def test_bad_base_url_and_timeout_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="http"):
        GrokClient("k", base_url="api.x.ai/v1")
    with pytest.raises(ConfigurationError, match="timeout"):
        GrokClient("k", timeout=0)


def test_repr_never_shows_the_key() -> None:
    client = GrokClient(SECRET)
    assert SECRET not in repr(client) and "api_key=set" in repr(client)


def test_openrouter_preset_prefixes_models_and_sends_attribution(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENROUTER_API_KEY", "or-key")
    client = GrokClient.openrouter(app_url="https://example.org", app_name="demo")
    assert client.base_url == "https://openrouter.ai/api/v1"
    assert client.provider.model_id("grok-4") == "x-ai/grok-4"
    assert client.provider.model_id("openai/gpt-4o") == "openai/gpt-4o"
    assert client._headers["http-referer"] == "https://example.org"
    assert client._headers["x-title"] == "demo"
    assert client._headers["authorization"] == "Bearer or-key"


def test_cometapi_and_cloudflare_presets(monkeypatch: pytest.MonkeyPatch) -> None:
    assert GrokClient.cometapi("k").base_url == "https://api.cometapi.com/v1"
    monkeypatch.setenv("CF_AIG_TOKEN", "cf-token")
    client = GrokClient.cloudflare(account_id="acc", gateway_id="gw", api_key="k")
    assert client.base_url == "https://gateway.ai.cloudflare.com/v1/acc/gw/grok/v1"
    assert client._headers["cf-aig-authorization"] == "Bearer cf-token"
    with pytest.raises(ConfigurationError, match="account_id"):
        GrokClient.cloudflare(account_id="", gateway_id="gw", api_key="k")


def test_openai_compatible_needs_no_key() -> None:
    client = GrokClient.openai_compatible("http://127.0.0.1:11434/v1")
    assert "authorization" not in client._headers


# -- endpoints -------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_chat_completion_sends_given_fields_only_and_parses_extras() -> None:
    handler = Recorder(httpx2.Response(200, json=completion_body(citations=["https://x.ai"])))
    async with make_client(handler) as client:
        completion = await client.chat.completions.create(
            model="grok-4", messages=[{"role": "user", "content": "Hi"}], temperature=0.2,
            tools=[{"type": "function", "function": {"name": "f", "parameters": {}}}],
            extra_body={"deferred": False},
        )
    request = handler.requests[0]
    assert request.url == "http://grok.test/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer {SECRET}"
    assert handler.body() == {
        "model": "grok-4", "messages": [{"role": "user", "content": "Hi"}], "temperature": 0.2,
        "tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}],
        "deferred": False,
    }
    assert completion.message.content == "Hello!"
    assert completion.model_extra == {"citations": ["https://x.ai"]}
    usage = completion.usage
    assert usage is not None
    assert (usage.reasoning_tokens, usage.output_tokens, usage.reasoning_outside_completion) == (8, 10, True)
    assert usage.cost_usd == pytest.approx(0.00015)


@pytest.mark.anyio
async def test_unknown_option_is_refused_with_a_pointer_to_extra_body() -> None:
    async with make_client(Recorder(httpx2.Response(200, json=completion_body()))) as client:
        with pytest.raises(ConfigurationError, match="extra_body"):
            await client.chat.completions.create(
                model="m", messages=[{"role": "user", "content": "x"}], temprature=1,  # type: ignore[call-overload]
            )
        # An empty conversation is a bad argument, not a configuration problem.
        with pytest.raises(InvalidRequestError, match="at least one message") as raised:
            await client.chat.completions.create(model="m", messages=[])
        assert isinstance(raised.value, ValueError)
        assert not isinstance(raised.value, ConfigurationError)


@pytest.mark.anyio
async def test_streaming_assembles_fragmented_tool_calls_and_usage() -> None:
    chunk = {"id": "s", "object": "chat.completion.chunk", "created": 1, "model": "m"}
    handler = Recorder(sse(
        {**chunk, "choices": [{"index": 0, "delta": {"role": "assistant", "reasoning_content": "Think"}}]},
        {**chunk, "choices": [{"index": 0, "delta": {"content": "Let me "}}]},
        {**chunk, "choices": [{"index": 0, "delta": {"content": "check."}}]},
        {**chunk, "choices": [{"index": 0, "delta": {"tool_calls": [
            {"index": 0, "id": "call_1", "type": "function", "function": {"name": "weather", "arguments": ""}}]}}]},
        {**chunk, "choices": [{"index": 0, "delta": {"tool_calls": [
            {"index": 0, "function": {"arguments": '{"city": "Pa'}}]}}]},
        {**chunk, "choices": [{"index": 0, "delta": {"tool_calls": [
            {"index": 0, "function": {"arguments": 'ris"}'}}]}}]},
        {**chunk, "choices": [{"index": 0, "delta": {"tool_calls": [
            {"index": 1, "id": "call_2", "type": "function", "function": {"name": "time", "arguments": "{}"}}]}}]},
        {**chunk, "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]},
        {**chunk, "choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}},
        "[DONE]",
    ))
    async with make_client(handler) as client:
        stream = await client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "x"}], stream=True
        )
        deltas = [c.choices[0].delta.content async for c in stream if c.choices]
        completion = await stream.final()
    assert handler.body()["stream_options"] == {"include_usage": True}
    assert handler.requests[0].headers["accept"] == "text/event-stream"
    assert "".join(d or "" for d in deltas) == "Let me check."
    message = completion.message
    assert (message.content, message.reasoning_content) == ("Let me check.", "Think")
    assert [(c.id, c.function.name, c.function.arguments) for c in message.tool_calls or []] == [
        ("call_1", "weather", '{"city": "Paris"}'), ("call_2", "time", "{}"),
    ]
    assert completion.choices[0].finish_reason == "tool_calls"
    assert completion.usage is not None and completion.usage.total_tokens == 8


@pytest.mark.anyio
async def test_final_after_reading_some_chunks_folds_each_chunk_once() -> None:
    chunk = {"id": "s", "object": "chat.completion.chunk", "created": 1, "model": "m"}
    pieces = ["one ", "two ", "three ", "four"]
    handler = Recorder(sse(
        *({**chunk, "choices": [{"index": 0, "delta": {"content": p}}]} for p in pieces),
        {**chunk, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
        {**chunk, "choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 4, "total_tokens": 9}},
        "[DONE]",
    ))
    async with make_client(handler) as client:
        stream = await client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "x"}], stream=True
        )
        first = await stream.__anext__()
        second = await stream.__anext__()
        assert [c.choices[0].delta.content for c in (first, second)] == pieces[:2]
        completion = await stream.final()
        assert completion.message.content == "one two three four"
        assert completion.usage is not None and completion.usage.total_tokens == 9
        assert [c async for c in stream] == []  # final() read it all
        assert (await stream.final()).message.content == "one two three four"


@pytest.mark.anyio
@pytest.mark.parametrize("own_client", [True, False], ids=["own httpx2 client", "http_client given"])
async def test_every_request_carries_the_client_headers_and_its_own_win(own_client: bool) -> None:
    chunk = {"id": "s", "object": "chat.completion.chunk", "created": 1, "model": "m",
             "choices": [{"index": 0, "delta": {"content": "ok"}, "finish_reason": "stop"}]}
    answer = httpx2.Response(200, json=completion_body("ok"))
    handler = Recorder(answer, answer, sse(chunk, "[DONE]"))
    transport = httpx2.MockTransport(handler)
    where: dict[str, Any] = (
        {"transport": transport} if own_client else {"http_client": httpx2.AsyncClient(transport=transport)}
    )
    async with GrokClient(SECRET, base_url="http://grok.test/v1", default_headers={"X-Team": "blue"},
                          **where) as client:
        await client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
        await client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "x"}],
            extra_headers={"User-Agent": "mine/1", "x-trace": "t1"},
        )
        stream = await client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "x"}], stream=True
        )
        await stream.final()
    plain, custom, streamed = (request.headers for request in handler.requests)
    for headers in (plain, custom, streamed):
        assert headers["authorization"] == f"Bearer {SECRET}"
        assert (headers["content-type"], headers["x-team"]) == ("application/json", "blue")
    assert (plain["accept"], plain["user-agent"]) == ("application/json", f"agentkit/{__version__}")
    assert "x-trace" not in plain and "x-trace" not in streamed
    assert (custom["user-agent"], custom["x-trace"]) == ("mine/1", "t1")
    assert custom.get_list("user-agent") == ["mine/1"]  # replaced, not sent twice
    assert (streamed["accept"], streamed["user-agent"]) == ("text/event-stream", f"agentkit/{__version__}")
    assert streamed.get_list("accept") == ["text/event-stream"]


@pytest.mark.anyio
async def test_a_cookie_set_by_the_server_is_not_kept_nor_sent_back() -> None:
    answer = httpx2.Response(200, json=completion_body("ok"), headers={"set-cookie": "session=s1; Path=/"})
    handler = Recorder(answer)
    async with make_client(handler) as client:
        for _ in range(2):
            await client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
    assert [request.headers.get("cookie") for request in handler.requests] == [None, None]


@pytest.mark.anyio
async def test_several_calls_under_one_index_are_told_apart_by_id() -> None:
    chunk = {"id": "s", "object": "chat.completion.chunk", "created": 1, "model": "m"}
    call = {"index": 0, "type": "function"}
    handler = Recorder(sse(
        {**chunk, "choices": [{"index": 0, "delta": {"tool_calls": [
            {**call, "id": "a", "function": {"name": "f", "arguments": "{}"}}]}}]},
        {**chunk, "choices": [{"index": 0, "delta": {"tool_calls": [
            {**call, "id": "b", "function": {"name": "g", "arguments": '{"x":1}'}}]}}]},
        {**chunk, "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]},
    ))
    async with make_client(handler) as client:
        stream = await client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}], stream=True)
        completion = await stream.final()
    calls = completion.message.tool_calls or []
    assert [(c.id, c.function.name, c.function.arguments) for c in calls] == [("a", "f", "{}"), ("b", "g", '{"x":1}')]


@pytest.mark.anyio
async def test_stream_without_done_but_finished_is_complete() -> None:
    chunk = {"id": "s", "object": "chat.completion.chunk", "created": 1, "model": "m"}
    handler = Recorder(sse({**chunk, "choices": [{"index": 0, "delta": {"content": "ok"}, "finish_reason": "stop"}]}))
    async with make_client(handler) as client:
        stream = await client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}], stream=True)
        assert (await stream.final()).message.content == "ok"


@pytest.mark.anyio
async def test_truncated_stream_raises_connection_error_and_keeps_partial_text() -> None:
    chunk = {"id": "s", "object": "chat.completion.chunk", "created": 1, "model": "m"}
    handler = Recorder(sse({**chunk, "choices": [{"index": 0, "delta": {"content": "half"}}]}))
    async with make_client(handler) as client:
        stream = await client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}], stream=True)
        with pytest.raises(APIConnectionError, match="ended before the response was complete"):
            await stream.final()
        assert stream.current().message.content == "half"


@pytest.mark.anyio
async def test_inband_error_event_raises_stream_error() -> None:
    body = (b'data: {"id":"s","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"a"}}]}\n\n'
            b'event: error\ndata: {"error":{"message":"overloaded","code":"server_busy","status_code":503}}\n\n')
    handler = Recorder(httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=body))
    async with make_client(handler) as client:
        stream = await client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}], stream=True)
        with pytest.raises(APIStreamError, match="overloaded") as caught:
            await stream.final()
    assert (caught.value.status_code, caught.value.code) == (503, "server_busy")
    assert len(handler.requests) == 1  # a stream that already yielded is never retried


@pytest.mark.anyio
async def test_completions_models_embeddings_images_tokenize() -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        path = request.url.path
        if path == "/v1/completions":
            return httpx2.Response(200, json={"id": "t", "object": "text_completion", "created": 1, "model": "grok-3",
                                              "choices": [{"index": 0, "text": " world", "finish_reason": "stop"}]})
        if path == "/v1/models":
            return httpx2.Response(200, json={"object": "list", "data": [{"id": "grok-4", "created": 1, "object": "model", "owned_by": "xai"}]})
        if path == "/v1/models/grok-4":
            return httpx2.Response(200, json={"id": "grok-4", "created": 1, "object": "model", "owned_by": "xai"})
        if path == "/v1/embeddings":
            return httpx2.Response(200, json={"object": "list", "model": "v1", "data": [{"object": "embedding", "index": 0, "embedding": [0.1, 0.2]}]})
        if path == "/v1/images/generations":
            assert "size" not in json.loads(request.content)
            return httpx2.Response(200, json={"data": [{"url": "https://img.test/1.png", "mime_type": "image/png", "revised_prompt": ""}]})
        if path == "/v1/tokenize-text":
            return httpx2.Response(200, json={"token_ids": [{"token_id": 13902, "string_token": "Hello", "token_bytes": [72, 101, 108, 108, 111]}]})
        return httpx2.Response(404, json={"code": "Some requested entity was not found", "error": "No handler found on route."})

    async with make_client(handler) as client:
        assert (await client.completions.create(model="grok-3", prompt="Hello")).choices[0].text == " world"
        assert [m.id for m in (await client.models.list()).data] == ["grok-4"]
        assert (await client.models.retrieve("grok-4")).owned_by == "xai"
        assert (await client.embeddings.create(model="v1", input="hi")).data[0].embedding == [0.1, 0.2]
        images = await client.images.generate(prompt="a red fox", n=1, response_format="url")
        assert images.data[0].url == "https://img.test/1.png"
        tokens = await client.tokenize(text="Hello", model="grok-4")
        assert (tokens.count, tokens.token_ids[0].string_token) == (1, "Hello")
        with pytest.raises(NotFoundError, match="No handler found"):
            await client.models.retrieve("nope")
        with pytest.raises(ConfigurationError, match="between 1 and 10"):
            await client.images.generate(prompt="x", n=11)


@pytest.mark.anyio
async def test_vision_sends_an_image_url_part_with_a_data_url(tmp_path: Path) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 16
    image = tmp_path / "cat.png"
    image.write_bytes(png)
    handler = Recorder(httpx2.Response(200, json=completion_body("A cat.")))
    async with make_client(handler) as client:
        for source in (image, str(image), png):
            answer = await client.vision.analyze(image=source, prompt="What is it?")
            assert answer.message.content == "A cat."
            part = handler.body()["messages"][0]["content"][0]
            assert part == {"type": "image_url", "image_url": {"url": "data:image/png;base64," + base64.b64encode(png).decode()}}
        await client.vision.analyze(image="https://img.test/cat.jpg")
        assert handler.body()["messages"][0]["content"][0]["image_url"]["url"] == "https://img.test/cat.jpg"
        with pytest.raises(ConfigurationError, match="no image file"):
            await client.vision.analyze(image=tmp_path / "missing.png")
        with pytest.raises(ConfigurationError, match="not PNG, JPEG"):
            await client.vision.analyze(image=b"plain text")


@pytest.mark.anyio
async def test_health_reports_ok_degraded_and_down() -> None:
    async with make_client(Recorder(httpx2.Response(200, json={"object": "list", "data": []}))) as client:
        report = await client.health()
        assert (report.status, report.status_code) == ("ok", 200) and report.latency_ms >= 0
    async with make_client(Recorder(httpx2.Response(503, json={"code": "unavailable", "error": "busy"}))) as client:
        report = await client.health()
        assert (report.status, report.status_code) == ("degraded", 503) and "busy" in report.detail

    def refuse(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ConnectError("connection refused", request=request)

    async with make_client(refuse) as client:
        report = await client.health()
        assert report.status == "down" and "connection refused" in report.detail


# -- errors ----------------------------------------------------------------------------------

XAI_BODY = {"code": "Client specified an invalid argument", "error": "Argument not supported on this model: presencePenalty"}


@pytest.mark.anyio
@pytest.mark.parametrize(("status", "cls"), [
    (400, BadRequestError), (401, AuthenticationError), (403, PermissionDeniedError),
    (404, NotFoundError), (409, ConflictError), (410, GoneError), (422, UnprocessableEntityError),
    (429, RateLimitError), (500, InternalServerError), (502, InternalServerError),
    (503, InternalServerError), (418, APIStatusError),
])
async def test_status_codes_map_to_classes(status: int, cls: type[APIStatusError]) -> None:
    handler = Recorder(httpx2.Response(status, json=XAI_BODY, headers={"x-request-id": "req_42"}))
    async with make_client(handler, retries=0) as client:
        with pytest.raises(cls) as caught:
            await client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
    error = caught.value
    assert type(error) is cls
    assert (error.status_code, error.code, error.request_id) == (status, XAI_BODY["code"], "req_42")
    assert str(error) == f"HTTP {status} [{XAI_BODY['code']}] {XAI_BODY['error']} (request id req_42)"


@pytest.mark.anyio
async def test_openai_nested_error_body_and_plain_text_body() -> None:
    nested = {"error": {"message": "Invalid 'messages'", "type": "invalid_request_error", "code": "empty_array"}}
    async with make_client(Recorder(httpx2.Response(400, json=nested)), retries=0) as client:
        with pytest.raises(BadRequestError, match=r"HTTP 400 \[empty_array\] Invalid 'messages'"):
            await client.models.list()
    async with make_client(Recorder(httpx2.Response(502, text="<html>Bad gateway</html>")), retries=0) as client:
        with pytest.raises(InternalServerError, match="Bad gateway"):
            await client.models.list()


@pytest.mark.anyio
async def test_malformed_success_bodies_are_client_errors() -> None:
    cases = [
        httpx2.Response(200, text="<html>proxy login</html>", headers={"content-type": "text/html"}),
        httpx2.Response(200, json={"object": "chat.completion"}),
        httpx2.Response(200, json={"choices": [{"message": "not an object"}]}),
        httpx2.Response(200, content=b""),
    ]
    for response in cases:
        async with make_client(Recorder(response), retries=0) as client:
            with pytest.raises(APIResponseValidationError) as caught:
                await client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
            assert caught.value.status_code == 200
            assert "answered HTTP 200 but" in str(caught.value)


@pytest.mark.anyio
async def test_html_instead_of_an_event_stream_is_a_client_error() -> None:
    handler = Recorder(httpx2.Response(200, text="<html>captive portal</html>", headers={"content-type": "text/html"}))
    async with make_client(handler, retries=0) as client:
        with pytest.raises(APIResponseValidationError, match="expected an event stream"):
            await client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}], stream=True)


@pytest.mark.anyio
async def test_invalid_chunk_json_is_a_client_error() -> None:
    handler = Recorder(httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=b"data: {not json\n\n"))
    async with make_client(handler, retries=0) as client:
        with pytest.raises(APIResponseValidationError, match="not a valid ChatCompletionChunk"):
            await client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}], stream=True)


@pytest.mark.anyio
async def test_connection_errors_and_timeouts_are_wrapped() -> None:
    def timeout(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ReadTimeout("timed out", request=request)

    def broken(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.RemoteProtocolError("peer closed connection", request=request)

    async with make_client(timeout, retries=0) as client:
        with pytest.raises(APITimeoutError, match="timed out"):
            await client.models.list()
    async with make_client(broken, retries=0) as client:
        with pytest.raises(APIConnectionError, match="peer closed connection") as caught:
            await client.models.list()
        assert not isinstance(caught.value, APITimeoutError)
        assert isinstance(caught.value.__cause__, httpx2.RemoteProtocolError)


# -- retries ---------------------------------------------------------------------------------


def status(code: int, body: Any = None, **headers: str) -> httpx2.Response:
    return httpx2.Response(code, json=body or {"code": "x", "error": f"status {code}"}, headers=headers)


@pytest.mark.anyio
@pytest.mark.parametrize("code", [408, 409, 429, 500, 502, 503, 504])
async def test_transient_statuses_are_retried(code: int) -> None:
    handler = Recorder(status(code), status(code), httpx2.Response(200, json=completion_body()))
    sleep = FakeSleep()
    async with make_client(handler, sleep=sleep) as client:
        result = await client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
    assert result.message.content == "Hello!"
    assert len(handler.requests) == 3 and len(sleep.waits) == 2


@pytest.mark.anyio
@pytest.mark.parametrize("code", [400, 401, 403, 404, 410, 422])
async def test_client_errors_are_never_retried(code: int) -> None:
    handler = Recorder(status(code), httpx2.Response(200, json=completion_body()))
    async with make_client(handler) as client:
        with pytest.raises(APIStatusError):
            await client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
    assert len(handler.requests) == 1


@pytest.mark.anyio
async def test_exhausted_credits_429_is_not_retried() -> None:
    body = {"code": "Some resource has been exhausted", "error": "Your team abc has either used all available credits or reached its monthly spending limit."}
    handler = Recorder(status(429, body))
    async with make_client(handler) as client:
        with pytest.raises(QuotaExceededError, match="credits"):
            await client.models.list()
    assert len(handler.requests) == 1


@pytest.mark.anyio
async def test_retry_after_seconds_and_http_date_are_honoured_up_to_a_cap() -> None:
    sleep = FakeSleep()
    handler = Recorder(status(429, **{"retry-after": "3"}),
                       status(503, **{"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}),
                       httpx2.Response(200, json={"object": "list", "data": []}))
    async with make_client(handler, retries=3, sleep=sleep) as client:
        await client.models.list()
    assert sleep.waits == [3.0, 0.0]  # a date in the past means "now"
    capped = FakeSleep()
    handler = Recorder(status(429, **{"retry-after": "86400"}), httpx2.Response(200, json={"object": "list", "data": []}))
    async with make_client(handler, sleep=capped) as client:
        await client.models.list()
    assert capped.waits == [60.0]
    millis = FakeSleep()
    handler = Recorder(status(429, **{"retry-after-ms": "250"}), httpx2.Response(200, json={"object": "list", "data": []}))
    async with make_client(handler, sleep=millis) as client:
        await client.models.list()
    assert millis.waits == [0.25]


@pytest.mark.anyio
async def test_backoff_is_exponential_with_jitter_and_stops_after_max_retries() -> None:
    sleep = FakeSleep()
    handler = Recorder(status(500))
    async with make_client(handler, retries=3, sleep=sleep) as client:
        with pytest.raises(InternalServerError):
            await client.models.list()
    assert len(handler.requests) == 4
    assert len(sleep.waits) == 3
    for wait, base in zip(sleep.waits, [0.5, 1.0, 2.0], strict=True):
        assert base * 0.75 <= wait <= base


@pytest.mark.anyio
async def test_max_retries_zero_disables_retries() -> None:
    handler = Recorder(status(503))
    async with make_client(handler, retries=0) as client:
        with pytest.raises(InternalServerError):
            await client.models.list()
    assert len(handler.requests) == 1


@pytest.mark.anyio
async def test_connection_errors_are_retried() -> None:
    calls = []

    def flaky(request: httpx2.Request) -> httpx2.Response:
        calls.append(request)
        if len(calls) == 1:
            raise httpx2.ConnectError("refused", request=request)
        return httpx2.Response(200, json={"object": "list", "data": []})

    async with make_client(flaky) as client:
        await client.models.list()
    assert len(calls) == 2


@pytest.mark.anyio
async def test_stream_failing_before_its_first_chunk_is_retried() -> None:
    chunk = {"id": "s", "object": "chat.completion.chunk", "created": 1, "model": "m",
             "choices": [{"index": 0, "delta": {"content": "ok"}, "finish_reason": "stop"}]}
    handler = Recorder(status(503), sse(chunk, "[DONE]"))
    async with make_client(handler) as client:
        stream = await client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}], stream=True)
        assert (await stream.final()).message.content == "ok"
    assert len(handler.requests) == 2


def test_negative_max_retries_is_refused() -> None:
    with pytest.raises(ValueError, match="0 or more"):
        RetryPolicy(max_retries=-1)


# -- secrets ---------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_the_key_never_appears_in_errors_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    echo = {"code": "Client specified an invalid argument", "error": f"Incorrect API key provided: {SECRET}."}
    handler = Recorder(status(500), status(400, echo))
    caplog.set_level(logging.DEBUG)
    async with make_client(handler) as client:
        with pytest.raises(BadRequestError) as caught:
            await client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
    assert SECRET not in str(caught.value) and "[REDACTED]" in str(caught.value)
    assert SECRET not in caplog.text and "retrying" in caplog.text
    assert SECRET not in repr(client)


# -- record and replay -----------------------------------------------------------------------


@pytest.mark.anyio
async def test_record_then_replay_without_the_network(tmp_path: Path) -> None:
    cassette = tmp_path / "cassette.json"
    chunk = {"id": "s", "object": "chat.completion.chunk", "created": 1, "model": "m",
             "choices": [{"index": 0, "delta": {"content": "streamed"}, "finish_reason": "stop"}]}
    live = Recorder(httpx2.Response(200, json=completion_body("recorded"), headers={"x-request-id": "r1", "set-cookie": "s=1"}),
                    sse(chunk, "[DONE]"))
    recorder = RecordingTransport(cassette, inner=httpx2.MockTransport(live))
    async with GrokClient(SECRET, base_url="http://grok.test/v1", transport=recorder) as client:
        first = await client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
        stream = await client.chat.completions.create(model="m", messages=[{"role": "user", "content": "y"}], stream=True)
        second = await stream.final()
    text = cassette.read_text()
    assert SECRET not in text and "authorization" not in text.lower() and "set-cookie" not in text
    saved = json.loads(text)
    assert [i["response"]["status"] for i in saved["interactions"]] == [200, 200]
    assert saved["interactions"][0]["response"]["headers"]["x-request-id"] == "r1"
    assert "sse" in saved["interactions"][1]["response"]

    async with GrokClient("k", base_url="http://elsewhere.test/v1", transport=ReplayTransport(cassette)) as client:
        again = await client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
        stream = await client.chat.completions.create(model="m", messages=[{"role": "user", "content": "y"}], stream=True)
        assert (again.message.content, (await stream.final()).message.content) == (first.message.content, second.message.content)
        with pytest.raises(ReplayMismatchError, match="no recorded exchange left"):
            await client.models.list()


@pytest.mark.anyio
async def test_replay_out_of_order_is_a_clear_error(tmp_path: Path) -> None:
    cassette = tmp_path / "c.json"
    recorder = RecordingTransport(cassette, inner=httpx2.MockTransport(Recorder(httpx2.Response(200, json={"object": "list", "data": []}))))
    async with GrokClient("k", base_url="http://t/v1", transport=recorder) as client:
        await client.models.list()
    async with GrokClient("k", base_url="http://t/v1", transport=ReplayTransport(cassette)) as client:
        with pytest.raises(ReplayMismatchError, match="does not match recorded exchange #0"):
            await client.embeddings.create(model="v1", input="x")


def test_missing_cassette_says_to_record_one(tmp_path: Path) -> None:
    with pytest.raises(ReplayMismatchError, match="record one first"):
        ReplayTransport(tmp_path / "none.json")


@pytest.mark.anyio
async def test_cancelling_a_stream_releases_it() -> None:
    chunk = {"id": "s", "object": "chat.completion.chunk", "created": 1, "model": "m",
             "choices": [{"index": 0, "delta": {"content": "a"}}]}
    handler = Recorder(sse(chunk, chunk, chunk))
    async with make_client(handler) as client:
        stream = await client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}], stream=True)
        async with stream:
            async for _ in stream:
                break
        await stream.aclose()  # closing twice is harmless
        with anyio.fail_after(1), pytest.raises(StopAsyncIteration):
            await stream.__anext__()


class _HangingAfterDone(httpx2.AsyncByteStream):
    async def __aiter__(self):  # type: ignore[no-untyped-def]
        yield b'data: {"id":"s","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"done"},"finish_reason":"stop"}]}\n\n'
        yield b"data: [DONE]\n\n"
        await anyio.sleep_forever()


@pytest.mark.anyio
async def test_a_server_that_keeps_the_stream_open_after_done_does_not_hang_us() -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, headers={"content-type": "text/event-stream"}, stream=_HangingAfterDone())

    async with make_client(handler) as client:
        with anyio.fail_after(3):
            stream = await client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}], stream=True)
            assert (await stream.final()).message.content == "done"


def _awkward_body() -> bytes:
    chunk = '{"id":"s","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":%s%s}]}'
    events = [
        ": keep-alive",
        "data: " + chunk % ('{"role":"assistant","content":""}', ""),
        "data: " + chunk % ("{}", ""),  # an empty keep-alive delta
        "data: " + chunk % ('{"content":"Ol\\u00e1 "}', ""),
        ": OPENROUTER PROCESSING",
        "data: " + chunk % ('{"content":"mundo 😊"}', ""),
        "data: " + chunk % ("{}", ',"finish_reason":"stop"'),
    ]
    return "\r\n\r\n".join(events).encode() + b"\r\n\r\n"  # CRLF endings, no [DONE]


@pytest.mark.anyio
@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 64])
async def test_awkward_stream_reads_assemble_the_same_message(size: int) -> None:
    body = _awkward_body()

    async def pieces() -> Any:
        for i in range(0, len(body), size):
            yield body[i : i + size]

    class Pieces(httpx2.AsyncByteStream):
        async def __aiter__(self):  # type: ignore[no-untyped-def]
            async for piece in pieces():
                yield piece

    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, headers={"content-type": "text/event-stream"}, stream=Pieces())

    async with make_client(handler) as client:
        stream = await client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}], stream=True)
        completion = await stream.final()
    assert completion.message.content == "Olá mundo 😊"
    assert completion.choices[0].finish_reason == "stop"


def test_from_environment_uses_xai_with_a_key_and_says_when_it_falls_back(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from agentkit.client import SIMULATED_NOTICE

    offline = GrokClient.from_environment()
    assert offline.base_url.startswith("http://simulated")
    assert capsys.readouterr().err.strip() == SIMULATED_NOTICE
    monkeypatch.setenv("XAI_API_KEY", SECRET)
    online = GrokClient.from_environment()
    assert online.base_url == "https://api.x.ai/v1"
    assert capsys.readouterr().err == ""


@pytest.mark.anyio
async def test_the_timeout_holds_on_transports_that_do_not_enforce_it() -> None:
    # A mock transport never times out by itself; the client's own deadline still ends the wait.
    async def never(request: httpx2.Request) -> httpx2.Response:
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    async with GrokClient("k", base_url="http://t/v1", transport=httpx2.MockTransport(never),
                          max_retries=0, timeout=0.05) as client:
        with anyio.fail_after(5), pytest.raises(APITimeoutError, match="timed out"):
            await client.models.list()
        with anyio.fail_after(5), pytest.raises(APITimeoutError):
            await client.chat.completions.create(
                model="m", messages=[{"role": "user", "content": "x"}], stream=True
            )
