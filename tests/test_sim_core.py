"""SimCore answers like xAI: shapes, ids, usage and cost, and every error with its status."""

from __future__ import annotations

import base64
import json
import re
import struct
from collections.abc import Mapping
from typing import Any

import pytest

from agentkit.sim import SimCore, SimReply, SimToolCall
from agentkit.sim.core import SimResponse
from agentkit.sim.media import render_png
from agentkit.sim.models import MODELS, index_models

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
FINGERPRINT = re.compile(r"^fp_[0-9a-f]{10}$")
CALL_ID = re.compile(r"^call_\d{8}$")
JSON_HEADERS = {"Content-Type": "application/json"}
USER = [{"role": "user", "content": "What's the weather in Florence?"}]


def text(content: str, reasoning: str | None = None) -> Any:
    return lambda body: SimReply(content=content, reasoning=reasoning)


def calls(*pairs: tuple[str, str], reasoning: str | None = None) -> Any:
    tool_calls = tuple(SimToolCall(name, args) for name, args in pairs)
    return lambda body: SimReply(reasoning=reasoning, tool_calls=tool_calls)


def post(
    core: SimCore, path: str, body: Any, headers: Mapping[str, str] | None = None
) -> SimResponse:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return core.handle("POST", path, dict(headers if headers is not None else JSON_HEADERS), raw)


def chat(core: SimCore, **fields: Any) -> SimResponse:
    return post(core, "/v1/chat/completions", {"model": "grok-4", "messages": USER, **fields})


def events(response: SimResponse) -> list[Any]:
    """Each SSE data payload, parsed; "[DONE]" stays a string."""
    out: list[Any] = []
    for chunk in response.events or []:
        for block in chunk.data.decode().split("\n\n"):
            for line in block.splitlines():
                if line.startswith("data: "):
                    data = line[len("data: ") :]
                    out.append(data if data == "[DONE]" else json.loads(data))
    return out


def error_of(response: SimResponse) -> dict[str, Any]:
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert isinstance(body, dict)
    return body


# ----------------------------------------------------------------------------- chat, plain


def test_plain_chat_has_xai_shape() -> None:
    core = SimCore(text("Olá!"), clock=lambda: 1_770_000_000.5)
    response = chat(core)
    assert response.status == 200
    assert not response.is_stream
    body = response.json()
    assert list(body) == [
        "id",
        "object",
        "created",
        "model",
        "choices",
        "usage",
        "system_fingerprint",
    ]
    assert UUID.match(body["id"])
    assert FINGERPRINT.match(body["system_fingerprint"])
    assert body["object"] == "chat.completion"
    assert body["created"] == 1_770_000_000
    assert body["model"] == "grok-4-0709"
    assert body["choices"] == [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Olá!", "refusal": None},
            "finish_reason": "stop",
        }
    ]
    assert "Olá" in response.body.decode()  # UTF-8 as is, like xAI


def test_usage_keeps_reasoning_outside_completion_and_prices_in_ticks() -> None:
    core = SimCore(text("Hello there", reasoning="Let me think about greetings."))
    usage = chat(core, model="grok-3-mini").json()["usage"]
    reasoning = usage["completion_tokens_details"]["reasoning_tokens"]
    assert reasoning > 0
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"] + reasoning
    assert usage["prompt_tokens_details"] == {
        "text_tokens": usage["prompt_tokens"],
        "audio_tokens": 0,
        "image_tokens": 0,
        "cached_tokens": 0,
    }
    assert usage["num_sources_used"] == 0
    # grok-3-mini: $0.30 in, $0.50 out per million tokens; 10^10 ticks per dollar.
    expected = usage["prompt_tokens"] * 3000 + (usage["completion_tokens"] + reasoning) * 5000
    assert usage["cost_in_usd_ticks"] == expected


def test_long_prompts_cost_double_on_grok_4_3() -> None:
    core = SimCore(text("ok"))
    short = chat(core, model="grok-4.3").json()["usage"]
    long_messages = [{"role": "user", "content": "word " * 210_000}]
    long = chat(core, model="grok-4.3", messages=long_messages).json()["usage"]
    assert long["prompt_tokens"] > 200_000
    per_token = long["cost_in_usd_ticks"] - 2 * long["completion_tokens"] * 25_000
    assert per_token == 2 * long["prompt_tokens"] * 12_500
    assert (
        short["cost_in_usd_ticks"]
        == short["prompt_tokens"] * 12_500 + short["completion_tokens"] * 25_000
    )


def test_tool_calls_come_with_empty_content_and_call_ids() -> None:
    core = SimCore(calls(("weather", '{"location":"Florence"}'), ("time", "{}")))
    message = chat(core).json()["choices"][0]
    assert message["finish_reason"] == "tool_calls"
    assert message["message"]["content"] == ""
    tool_calls = message["message"]["tool_calls"]
    assert [list(call) for call in tool_calls] == [["id", "function", "type"]] * 2
    assert all(CALL_ID.match(call["id"]) for call in tool_calls)
    assert tool_calls[0]["function"] == {"name": "weather", "arguments": '{"location":"Florence"}'}


@pytest.mark.parametrize(
    ("model", "shown", "billed"),
    [("grok-3-mini", True, True), ("grok-4", False, True), ("grok-3", False, False)],
)
def test_reasoning_visibility_follows_the_model(model: str, shown: bool, billed: bool) -> None:
    core = SimCore(text("Fine.", reasoning="Thinking hard about this."))
    body = chat(core, model=model).json()
    assert ("reasoning_content" in body["choices"][0]["message"]) is shown
    assert (body["usage"]["completion_tokens_details"]["reasoning_tokens"] > 0) is billed


@pytest.mark.parametrize(
    ("requested", "named"),
    [
        ("grok-4", "grok-4-0709"),
        ("grok-4-latest", "grok-4-0709"),
        ("grok-4-fast", "grok-4-fast-reasoning"),
        ("grok-4.20", "grok-4.20-0309-reasoning"),
        ("grok-2-vision", "grok-2-vision-1212"),
        ("grok-3-mini", "grok-3-mini"),
    ],
)
def test_responses_name_the_resolved_model(requested: str, named: str) -> None:
    assert chat(SimCore(text("hi")), model=requested).json()["model"] == named


def test_grok_3_mini_answers_as_high_with_high_effort() -> None:
    body = chat(SimCore(text("hi")), model="grok-3-mini", reasoning_effort="high").json()
    assert body["model"] == "grok-3-mini-high"


def test_tool_choice_none_and_parallel_tool_calls_false_are_enforced() -> None:
    core = SimCore(calls(("a", "{}"), ("b", "{}")))
    tools = [{"type": "function", "function": {"name": n, "parameters": {}}} for n in "ab"]
    assert (
        "tool_calls"
        not in chat(core, tools=tools, tool_choice="none").json()["choices"][0]["message"]
    )
    one = chat(core, tools=tools, parallel_tool_calls=False).json()["choices"][0]["message"]
    assert [c["function"]["name"] for c in one["tool_calls"]] == ["a"]


def test_max_tokens_cuts_the_answer_with_finish_reason_length() -> None:
    core = SimCore(text("one two three four five six seven"))
    choice = chat(core, max_completion_tokens=3).json()["choices"][0]
    assert choice["finish_reason"] == "length"
    assert choice["message"]["content"] == "one two three"


def test_stop_sequence_cuts_the_answer() -> None:
    choice = chat(SimCore(text("alpha beta gamma")), model="grok-3", stop=[" gamma"]).json()
    assert choice["choices"][0]["message"]["content"] == "alpha beta"


def test_n_gives_several_choices() -> None:
    body = chat(SimCore(text("hi")), n=3).json()
    assert [c["index"] for c in body["choices"]] == [0, 1, 2]


def test_images_count_as_image_tokens() -> None:
    png = base64.b64encode(render_png("red", 8, 8)).decode()
    content = [
        {"type": "text", "text": "Describe"},
        {
            "type": "image_url",
            "image_url": {"url": f"data:image/png;base64,{png}", "detail": "low"},
        },
    ]
    usage = chat(SimCore(text("red")), messages=[{"role": "user", "content": content}]).json()[
        "usage"
    ]
    details = usage["prompt_tokens_details"]
    assert details["image_tokens"] == 256
    assert usage["prompt_tokens"] == details["text_tokens"] + 256


def test_ids_are_deterministic_for_a_seed() -> None:
    first = [chat(SimCore(text("hi"), seed=7)).json()["id"] for _ in range(2)]
    core = SimCore(text("hi"), seed=7)
    assert first[0] == chat(core).json()["id"]
    assert chat(core).json()["id"] != first[0]


def test_policy_errors_propagate_to_the_caller() -> None:
    def broken(body: Mapping[str, Any]) -> SimReply:
        raise LookupError("script ran out of replies")

    with pytest.raises(LookupError, match="ran out"):
        chat(SimCore(broken))


def test_the_policy_sees_the_request_body() -> None:
    seen: list[Mapping[str, Any]] = []

    def spy(body: Mapping[str, Any]) -> SimReply:
        seen.append(body)
        return SimReply(content="ok")

    chat(SimCore(spy), temperature=0.5)
    assert seen[0]["temperature"] == 0.5
    assert seen[0]["messages"] == USER


# ----------------------------------------------------------------------------- chat, streamed


def test_stream_chunks_like_xai() -> None:
    core = SimCore(text("Hello there, friend!", reasoning="User greets."))
    response = chat(core, model="grok-3-mini", stream=True, stream_options={"include_usage": True})
    assert response.headers["content-type"] == "text/event-stream"
    parsed = events(response)
    assert parsed[-1] == "[DONE]"
    chunks = parsed[:-1]
    assert len({c["id"] for c in chunks}) == 1
    assert all(
        list(c) == ["id", "object", "created", "model", "choices", "system_fingerprint"]
        for c in chunks[:-1]
    )
    deltas = [c["choices"][0]["delta"] for c in chunks[:-2]]
    assert deltas[0] == {"reasoning_content": "User", "role": "assistant"}
    assert list(json.loads(response.events[0].data[6:])["choices"][0]["delta"]) == [
        "reasoning_content",
        "role",
    ]
    kinds = [next(iter(d)) for d in deltas]
    assert kinds.index("content") > kinds.index("reasoning_content")
    assert "".join(d.get("content", "") for d in deltas) == "Hello there, friend!"
    assert sum("content" in d for d in deltas) > 2
    assert all("finish_reason" not in c["choices"][0] for c in chunks[:-2])
    assert chunks[-2]["choices"] == [{"index": 0, "delta": {}, "finish_reason": "stop"}]
    assert chunks[-1]["choices"] == []
    assert list(chunks[-1]) == [
        "id",
        "object",
        "created",
        "model",
        "choices",
        "usage",
        "system_fingerprint",
    ]
    assert chunks[-1]["usage"]["completion_tokens_details"]["reasoning_tokens"] > 0


def test_stream_without_include_usage_has_no_usage_chunk() -> None:
    parsed = events(chat(SimCore(text("hi there")), stream=True))
    assert parsed[-1] == "[DONE]"
    assert all("usage" not in chunk for chunk in parsed[:-1])
    assert parsed[-2]["choices"][0]["finish_reason"] == "stop"


def test_stream_tool_calls_come_whole_one_per_chunk() -> None:
    core = SimCore(calls(("add", '{"a":2,"b":3}'), ("multiply", '{"a":2,"b":3}')))
    chunks = events(chat(core, stream=True, stream_options={"include_usage": True}))[:-1]
    first, second = (c["choices"][0]["delta"] for c in chunks[:2])
    assert list(first) == ["role", "tool_calls"]
    assert list(second) == ["tool_calls"]
    call = first["tool_calls"][0]
    assert list(call) == ["id", "function", "index", "type"]
    assert call["function"] == {"name": "add", "arguments": '{"a":2,"b":3}'}
    assert second["tool_calls"][0]["index"] == 1
    assert chunks[2]["choices"] == [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]


def test_empty_reply_still_streams_a_role() -> None:
    chunks = events(chat(SimCore(text("")), stream=True))
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant"}


def test_chunk_delay_paces_every_chunk() -> None:
    response = chat(SimCore(text("a b c"), chunk_delay=0.01), stream=True)
    assert response.events and all(chunk.delay == 0.01 for chunk in response.events)


# ----------------------------------------------------------------------------- chat errors


def test_unknown_route_gives_xai_404_body() -> None:
    response = SimCore(text("")).handle("GET", "/v1/chat/completion", {}, b"")
    assert response.status == 404
    assert error_of(response) == {
        "code": "Some requested entity was not found",
        "error": "No handler found on route. Please double check your URL and consult "
        "https://api.x.ai/docs for more information.",
    }


def test_wrong_method_gives_405() -> None:
    response = SimCore(text("")).handle("GET", "/v1/chat/completions", {}, b"")
    assert response.status == 405
    assert response.headers["allow"] == "POST"


def test_wrong_key_gives_400_with_masked_key() -> None:
    core = SimCore(text("hi"), api_key="xai-right-key")
    headers = {**JSON_HEADERS, "Authorization": "Bearer xai-wrong-key-na"}
    response = post(core, "/v1/chat/completions", {"model": "grok-4", "messages": USER}, headers)
    assert response.status == 400
    assert error_of(response) == {
        "code": "Client specified an invalid argument",
        "error": "Incorrect API key provided: xa***na. You can obtain an API key from "
        "https://console.x.ai.",
    }


def test_missing_key_gives_401_and_right_key_passes() -> None:
    core = SimCore(text("hi"), api_key="xai-right-key")
    body = {"model": "grok-4", "messages": USER}
    assert post(core, "/v1/chat/completions", body).status == 401
    headers = {**JSON_HEADERS, "authorization": "Bearer xai-right-key"}
    assert post(core, "/v1/chat/completions", body, headers).status == 200


def test_unknown_model_gives_404() -> None:
    response = chat(SimCore(text("hi")), model="grok-beta")
    assert response.status == 404
    error = error_of(response)
    assert error["code"] == "Some requested entity was not found"
    assert error["error"].startswith("The model grok-beta does not exist or your team ")


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"", 415),
        (b"not json", 422),
        (b"[1, 2]", 422),
        (b'{"messages": []}', 422),
        (b'{"model": "grok-4"}', 422),
        (b'{"model": "grok-4", "messages": "hi"}', 422),
        (b'{"model": 4, "messages": []}', 422),
        (b'{"model": "grok-4", "messages": [{"role": "robot", "content": "x"}]}', 422),
        (
            b'{"model": "grok-4", "messages": [{"role": "user", "content": [{"type": "video"}]}]}',
            422,
        ),
        (
            b'{"model": "grok-4", "messages": [{"role": "user", "content": [{"type": "text"}]}]}',
            422,
        ),
        (b'{"model": "grok-4", "messages": [{"role": "tool", "content": "x"}]}', 422),
        (
            b'{"model": "grok-4", "messages": [{"role": "user", "content": "x"}], "temperature": "hot"}',
            422,
        ),
    ],
)
def test_bad_bodies(body: bytes, status: int) -> None:
    response = post(SimCore(text("hi")), "/v1/chat/completions", body)
    assert response.status == status
    error = error_of(response)
    if status == 422:
        assert error["error"].startswith(
            "Failed to deserialize the JSON body into the target type: "
        )
        assert re.search(r" at line \d+ column \d+$", error["error"])


def test_missing_field_message_names_the_field() -> None:
    error = error_of(post(SimCore(text("")), "/v1/chat/completions", b'{"model": "grok-4"}'))
    assert "missing field `messages`" in error["error"]


def test_wrong_content_type_gives_415() -> None:
    response = post(
        SimCore(text("")),
        "/v1/chat/completions",
        {"model": "grok-4"},
        {"content-type": "text/plain"},
    )
    assert response.status == 415


@pytest.mark.parametrize(
    ("model", "field", "value", "wire_name"),
    [
        ("grok-4", "reasoning_effort", "low", "reasoningEffort"),
        ("grok-3", "reasoning_effort", "low", "reasoningEffort"),
        ("grok-code-fast-1", "reasoning_effort", "high", "reasoningEffort"),
        ("grok-3", "presence_penalty", 0, "presencePenalty"),
        ("grok-3-mini", "presence_penalty", 0.5, "presencePenalty"),
        ("grok-3-mini", "frequency_penalty", 0, "frequencyPenalty"),
        ("grok-3-mini", "stop", ["x"], "stop"),
        ("grok-4-fast-reasoning", "stop", "x", "stop"),
        ("grok-4.5", "presence_penalty", 1, "presencePenalty"),
        ("grok-4-fast-non-reasoning", "frequency_penalty", 1, "frequencyPenalty"),
    ],
)
def test_unsupported_parameters_give_400(
    model: str, field: str, value: Any, wire_name: str
) -> None:
    response = chat(SimCore(text("hi")), model=model, **{field: value})
    assert response.status == 400
    error = error_of(response)
    assert error["code"] == "Client specified an invalid argument"
    assert error["error"].endswith(f"does not support parameter {wire_name}.")


@pytest.mark.parametrize(
    ("model", "effort", "status"),
    [
        ("grok-3-mini", "low", 200),
        ("grok-3-mini", "medium", 400),
        ("grok-4.3", "none", 200),
        ("grok-4.5", "none", 400),
        ("grok-4.6", "xhigh", 200),
    ],
)
def test_reasoning_effort_values(model: str, effort: str, status: int) -> None:
    assert chat(SimCore(text("hi")), model=model, reasoning_effort=effort).status == status


def test_stream_options_without_stream_gives_400() -> None:
    response = chat(SimCore(text("hi")), stream_options={"include_usage": True})
    assert response.status == 400
    assert error_of(response)["error"] == "Argument not supported: stream_options"


def test_search_parameters_give_410() -> None:
    response = chat(SimCore(text("hi")), search_parameters={"mode": "auto"})
    assert response.status == 410
    assert error_of(response) == {
        "error": "Live search is deprecated. Please switch to the Agent Tools API: "
        "https://docs.x.ai/docs/guides/tools/overview"
    }


@pytest.mark.parametrize(
    ("schema", "status"),
    [
        ({"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}, 200),
        ({"type": "object", "properties": {"minLength": {"type": "string"}}}, 200),
        ({"allOf": [{"type": "object"}]}, 400),
        ({"type": "object", "properties": {"a": {"type": "string", "minLength": 2}}}, 400),
        ({"type": "object", "properties": {"a": {"type": "array", "maxItems": 3}}}, 400),
        ({"$defs": {"X": {"type": "string", "maxLength": 9}}, "$ref": "#/$defs/X"}, 400),
    ],
)
def test_json_schema_subset(schema: dict[str, Any], status: int) -> None:
    fmt = {"type": "json_schema", "json_schema": {"name": "out", "schema": schema, "strict": True}}
    assert chat(SimCore(text("{}")), response_format=fmt).status == status


def test_strict_functions_are_accepted() -> None:
    tools = [{"type": "function", "function": {"name": "f", "parameters": {}, "strict": True}}]
    assert chat(SimCore(text("hi")), tools=tools).status == 200


def test_names_only_on_user_messages() -> None:
    messages = [*USER, {"role": "assistant", "content": "hi", "name": "bot"}]
    response = chat(SimCore(text("hi")), messages=messages)
    assert response.status == 400
    assert error_of(response)["error"] == "Only messages of role 'user' can have a name."


def test_images_need_an_image_model() -> None:
    content = [{"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}]
    response = chat(
        SimCore(text("hi")), model="grok-3", messages=[{"role": "user", "content": content}]
    )
    assert response.status == 400


def test_out_of_range_values_give_400() -> None:
    assert chat(SimCore(text("hi")), temperature=3).status == 400
    assert chat(SimCore(text("hi")), n=0).status == 400
    assert (
        chat(
            SimCore(text("hi")), tool_choice={"type": "function", "function": {"name": "x"}}
        ).status
        == 400
    )


# ----------------------------------------------------------------------------- other endpoints


def test_legacy_completions_plain_and_streamed() -> None:
    core = SimCore(text("a fine day"))
    body = post(
        core, "/v1/completions", {"model": "grok-3", "prompt": "Today is", "echo": True}
    ).json()
    assert body["object"] == "text_completion"
    assert body["choices"] == [{"index": 0, "text": "Today isa fine day", "finish_reason": "stop"}]
    assert body["usage"]["prompt_tokens"] > 0
    streamed = post(
        core,
        "/v1/completions",
        {
            "model": "grok-3",
            "prompt": "Today is",
            "stream": True,
            "stream_options": {"include_usage": True},
        },
    )
    parsed = events(streamed)
    assert parsed[-1] == "[DONE]" and parsed[-2]["choices"] == []
    assert "".join(c["choices"][0]["text"] for c in parsed[:-2]) == "a fine day"


def test_legacy_completions_refuse_reasoning_models() -> None:
    response = post(SimCore(text("x")), "/v1/completions", {"model": "grok-3-mini", "prompt": "x"})
    assert response.status == 400


def test_models_list_and_lookup() -> None:
    core = SimCore(text(""))
    listing = core.handle("GET", "/v1/models", {}, b"").json()
    assert listing["object"] == "list"
    ids = [m["id"] for m in listing["data"]]
    assert ids == [m.id for m in MODELS]
    assert {"grok-4.3", "grok-4-0709", "grok-code-fast-1", "grok-imagine-image", "v1"} <= set(ids)
    assert listing["data"][0] == {
        "id": "grok-4.6",
        "created": MODELS[0].created,
        "object": "model",
        "owned_by": "xai",
    }
    assert core.handle("GET", "/v1/models/grok-4", {}, b"").json()["id"] == "grok-4-0709"
    assert core.handle("GET", "/v1/models/nope", {}, b"").status == 404


def test_embeddings_as_floats_and_base64() -> None:
    core = SimCore(text(""))
    body = post(
        core, "/v1/embeddings", {"model": "v1", "input": ["rain", "sun"], "dimensions": 8}
    ).json()
    assert body["object"] == "list" and body["model"] == "v1"
    assert [d["index"] for d in body["data"]] == [0, 1]
    vector = body["data"][0]["embedding"]
    assert len(vector) == 8
    assert body["usage"]["prompt_tokens"] == body["usage"]["total_tokens"] == 2
    encoded = post(
        core,
        "/v1/embeddings",
        {"model": "v1", "input": "rain", "dimensions": 8, "encoding_format": "base64"},
    ).json()
    raw = base64.b64decode(encoded["data"][0]["embedding"])
    assert struct.unpack("<8f", raw) == pytest.approx(vector)
    assert post(core, "/v1/embeddings", {"model": "grok-4", "input": "x"}).status == 400


@pytest.mark.parametrize("path", ["/v1/images/generations", "/v1/images/generate"])
def test_generated_images_are_served_at_their_url(path: str) -> None:
    core = SimCore(text(""))
    response = post(
        core, path, {"prompt": "a red sunset", "n": 2}, {**JSON_HEADERS, "host": "127.0.0.1:9"}
    )
    data = response.json()["data"]
    assert len(data) == 2
    url = data[0]["url"]
    assert url.startswith("http://127.0.0.1:9/v1/images/") and url.endswith(".png")
    assert data[0]["b64_json"] is None and data[0]["mime_type"] == "image/png"
    image = core.handle("GET", url.removeprefix("http://127.0.0.1:9"), {}, b"")
    assert image.status == 200 and image.headers["content-type"] == "image/png"
    assert image.body.startswith(b"\x89PNG")
    assert core.handle("GET", "/v1/images/missing.png", {}, b"").status == 404


def test_images_as_base64_with_aspect_ratio() -> None:
    core = SimCore(text(""), base_url="https://sim.example")
    body = post(
        core,
        "/v1/images/generations",
        {"prompt": "blue sea", "response_format": "b64_json", "aspect_ratio": "16:9"},
    ).json()
    png = base64.b64decode(body["data"][0]["b64_json"])
    assert struct.unpack(">II", png[16:24]) == (256, 144)
    assert body["usage"]["cost_in_usd_ticks"] > 0


@pytest.mark.parametrize(
    "extra",
    [
        {"size": "1024x1024"},
        {"style": "vivid"},
        {"n": 11},
        {"response_format": "png"},
        {"model": "grok-4"},
        {"aspect_ratio": "5:4"},
    ],
)
def test_image_request_errors(extra: dict[str, Any]) -> None:
    response = post(SimCore(text("")), "/v1/images/generations", {"prompt": "x", **extra})
    assert response.status == 400


def test_vision_analyze_describes_the_image() -> None:
    core = SimCore(text(""))
    png = base64.b64encode(render_png("a blue ocean", 32, 16)).decode()
    response = post(
        core,
        "/v1/vision/analyze",
        {"image": f"data:image/png;base64,{png}", "prompt": "What is this?"},
    )
    body = response.json()
    assert body["object"] == "chat.completion"
    content = body["choices"][0]["message"]["content"]
    assert "32x16 PNG" in content and "blue" in content
    assert body["usage"]["prompt_tokens_details"]["image_tokens"] > 0


def test_vision_analyze_reads_generated_image_urls_and_refuses_remote_ones() -> None:
    core = SimCore(text(""), base_url="http://sim")
    url = post(core, "/v1/images/generations", {"prompt": "green forest"}).json()["data"][0]["url"]
    assert post(core, "/v1/vision/analyze", {"image": url}).status == 200
    assert post(core, "/v1/vision/analyze", {"image": "https://example.com/cat.png"}).status == 400
    assert post(core, "/v1/vision/analyze", {"image": "data:image/png;base64,AAAA"}).status == 400
    assert post(core, "/v1/vision/analyze", {"image": url, "model": "grok-3"}).status == 400


@pytest.mark.parametrize("path", ["/v1/tokenize-text", "/v1/tokenize"])
def test_tokenize(path: str) -> None:
    body = post(SimCore(text("")), path, {"model": "grok-4", "text": "Hello world"}).json()
    tokens = body["token_ids"]
    assert "".join(t["string_token"] for t in tokens) == "Hello world"
    assert list(tokens[0]) == ["token_id", "string_token", "token_bytes"]
    assert bytes(tokens[0]["token_bytes"]) == tokens[0]["string_token"].encode()


def test_health_needs_no_key() -> None:
    response = SimCore(text(""), api_key="k").handle("GET", "/v1/health", {}, b"")
    assert response.status == 200 and response.json()["status"] == "ok"


def test_model_names_are_claimed_once() -> None:
    with pytest.raises(ValueError, match="claimed twice"):
        index_models([MODELS[0], MODELS[0]])


def test_a_custom_model_table_is_served() -> None:
    core = SimCore(text("hi"), models=[m for m in MODELS if m.id == "grok-3"])
    assert [m["id"] for m in core.handle("GET", "/v1/models", {}, b"").json()["data"]] == ["grok-3"]
    assert chat(core, model="grok-4").status == 404


def test_structured_output_with_tools_needs_grok_4() -> None:
    fmt = {"type": "json_schema", "json_schema": {"name": "o", "schema": {"type": "object"}}}
    tools = [{"type": "function", "function": {"name": "f", "parameters": {}}}]
    assert chat(SimCore(text("{}")), response_format=fmt, tools=tools).status == 200
    response = chat(SimCore(text("{}")), model="grok-3", response_format=fmt, tools=tools)
    assert response.status == 400
