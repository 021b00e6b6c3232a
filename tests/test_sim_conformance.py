"""Every recorded 200 exchange in shared/conformance, replayed against SimCore, comes back in
the shape xAI's own recordings have.

Each recorded request goes to the core with a policy that repeats what the recorded model said
(text, reasoning, tool calls), so the comparison is about the wire: keys, types, ids, chunk
order (role in the first delta, reasoning before content, tool calls whole, the finish chunk,
the `"choices":[]` usage chunk, `[DONE]`) and xAI's usage arithmetic. Requests for models the
simulator does not have go to `grok-4-fast-non-reasoning`, or `grok-3-mini` when the recording
holds reasoning. The same request then goes to the default `SimulatedModel`, whose answer must
have the same shape. The xAI templates are read from the 2026 xAI recordings themselves.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from pathlib import Path
from typing import Any

import pytest

from agentkit.sim import SimCore, SimReply, SimToolCall
from agentkit.sim.core import SimResponse
from agentkit.sim.models import MODELS, index_models
from tests.shared import conformance_files, conformance_params

pytestmark = pytest.mark.usefixtures("shared_corpus")

MODEL_INDEX = index_models(MODELS)
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
CALL_ID = re.compile(r"^call_\d{8}$")
FINGERPRINT = re.compile(r"^fp_[0-9a-f]{10}$")


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


OK_FILES = [path for path in conformance_files() if _load(path)["response"]["status"] == 200]


def _sse_payloads(text: str) -> list[Any]:
    """The data payloads of an event stream; `[DONE]` stays a string, `event: error` data too."""
    payloads: list[Any] = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        data = [
            line[len("data:") :].strip() for line in block.split("\n") if line.startswith("data:")
        ]
        if not data:
            continue
        joined = "\n".join(data)
        payloads.append(joined if joined == "[DONE]" else json.loads(joined))
    return payloads


# ----------------------------------------------------------------------------- xAI templates


@functools.cache
def xai_templates() -> dict[str, set[str]]:
    """Key sets of the 2026 xAI recordings (those that report `cost_in_usd_ticks`)."""
    templates: dict[str, set[str]] = {}

    def add(name: str, keys: Any) -> None:
        templates.setdefault(name, set()).update(keys)

    for path in conformance_files():
        record = _load(path)
        response = record["response"]
        if record["provider"] != "xai" or response["status"] != 200:
            continue
        if "json" in response:
            body = response["json"]
            if "cost_in_usd_ticks" not in body["usage"]:
                continue
            add("completion", body)
            add("choice", body["choices"][0])
            add("message_required", body["choices"][0]["message"])
            add("usage", body["usage"])
            add("prompt_details", body["usage"]["prompt_tokens_details"])
            add("completion_details", body["usage"]["completion_tokens_details"])
        elif '"cost_in_usd_ticks"' in response["sse"]:
            chunks = [p for p in _sse_payloads(response["sse"]) if p != "[DONE]"]
            for chunk in chunks:
                add("usage_chunk" if not chunk["choices"] else "chunk", chunk)
                for choice in chunk["choices"]:
                    add("delta_keys", choice["delta"])
                    for call in choice["delta"].get("tool_calls", ()):
                        add("stream_tool_call", call)
    return templates


def test_templates_come_from_the_recordings() -> None:
    templates = xai_templates()
    assert templates["completion"] == {
        "id",
        "object",
        "created",
        "model",
        "choices",
        "usage",
        "system_fingerprint",
    }
    assert templates["usage_chunk"] == templates["chunk"] | {"usage"}
    assert templates["stream_tool_call"] == {"id", "function", "index", "type"}


# ----------------------------------------------------------------------------- replay


def _recorded_reply(response: dict[str, Any]) -> tuple[SimReply, int]:
    """What the recorded model said, as a policy reply, and how many tool calls it made."""
    content, reasoning = "", ""
    calls: dict[int, list[str]] = {}
    finish: str | None = None
    if "json" in response:
        choice = response["json"]["choices"][0]
        message = choice["message"]
        content = message.get("content") or ""
        reasoning = message.get("reasoning_content") or message.get("reasoning") or ""
        for index, call in enumerate(message.get("tool_calls") or ()):
            calls[index] = [call["function"]["name"], call["function"]["arguments"]]
        finish = choice.get("finish_reason")
    else:
        for payload in _sse_payloads(response["sse"]):
            if not isinstance(payload, dict) or "error" in payload:
                continue
            for choice in payload.get("choices") or ():
                delta = choice.get("delta") or {}
                content += delta.get("content") or ""
                reasoning += delta.get("reasoning_content") or delta.get("reasoning") or ""
                for position, call in enumerate(delta.get("tool_calls") or ()):
                    slot = calls.setdefault(call.get("index", position), ["", ""])
                    function = call.get("function") or {}
                    slot[0] += function.get("name") or ""
                    slot[1] += function.get("arguments") or ""
                finish = choice.get("finish_reason") or finish
    tool_calls = tuple(SimToolCall(name, args) for name, args in calls.values())
    reply = SimReply(
        content=content,
        reasoning=reasoning or None,
        tool_calls=tool_calls,
        finish_reason=finish if finish in ("stop", "length") and not tool_calls else None,
    )
    return reply, len(tool_calls)


def _adapt(request: dict[str, Any], tags: list[str]) -> dict[str, Any]:
    """The recorded request, aimed at a simulated Grok model that accepts its parameters."""
    body = copy.deepcopy(request)
    model = MODEL_INDEX.get(body.get("model", ""))
    if model is None or model.kind != "chat":
        model = MODEL_INDEX["grok-3-mini" if "reasoning" in tags else "grok-4-fast-non-reasoning"]
        body["model"] = model.id
    for name in model.rejected_params:
        body.pop(name, None)
    effort = body.get("reasoning_effort")
    if effort is not None and effort not in model.reasoning_efforts:
        body["reasoning_effort"] = "high"
    return body


def _post(core: SimCore, body: dict[str, Any]) -> SimResponse:
    raw = json.dumps(body).encode()
    headers = {"content-type": "application/json"}
    return core.handle("POST", "/v1/chat/completions", headers, raw)


def _expected_calls(body: dict[str, Any], recorded: int) -> int:
    if body.get("tool_choice") == "none":
        return 0
    return min(recorded, 1) if body.get("parallel_tool_calls") is False else recorded


def _check_usage(usage: dict[str, Any]) -> None:
    templates = xai_templates()
    assert set(usage) == templates["usage"]
    assert set(usage["prompt_tokens_details"]) == templates["prompt_details"]
    assert set(usage["completion_tokens_details"]) == templates["completion_details"]
    assert all(isinstance(v, int) for v in usage["prompt_tokens_details"].values())
    reasoning = usage["completion_tokens_details"]["reasoning_tokens"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"] + reasoning
    assert usage["num_sources_used"] == 0
    assert isinstance(usage["cost_in_usd_ticks"], int) and usage["cost_in_usd_ticks"] > 0


def _check_plain(
    response: SimResponse, body: dict[str, Any], reply: SimReply | None, calls: int | None
) -> None:
    """Shape of a `chat.completion`; `reply` and `calls` (when known) pin content and calls."""
    templates = xai_templates()
    payload = response.json()
    assert set(payload) == templates["completion"]
    assert UUID.match(payload["id"]) and FINGERPRINT.match(payload["system_fingerprint"])
    assert payload["object"] == "chat.completion" and isinstance(payload["created"], int)
    choice = payload["choices"][0]
    assert set(choice) == templates["choice"]
    message = choice["message"]
    assert {"role", "content", "refusal"} <= set(message) <= templates["message_required"]
    assert message["role"] == "assistant" and message["refusal"] is None
    assert isinstance(message["content"], str)
    if calls is not None:
        assert len(message.get("tool_calls", ())) == calls
    if reply is not None and "tool_calls" in message:
        # xAI sends "" beside tool calls; the replayed text is "" whenever the recording's was.
        assert message["content"] == reply.content
    if "tool_calls" in message:
        assert choice["finish_reason"] == "tool_calls"
        for call in message["tool_calls"]:
            assert list(call) == ["id", "function", "type"] and CALL_ID.match(call["id"])
            assert set(call["function"]) == {"name", "arguments"}
    if "reasoning_content" in message:
        assert MODEL_INDEX[body["model"]].reasoning == "visible"
    _check_usage(payload["usage"])


def _kinds(chunks: list[dict[str, Any]]) -> list[str]:
    """The chunk sequence in words, repeats collapsed: reasoning, content, tool, finish, usage."""
    kinds: list[str] = []
    for chunk in chunks:
        if not chunk["choices"]:
            kind = "usage"
        elif "finish_reason" in chunk["choices"][0]:
            kind = "finish"
        else:
            delta = chunk["choices"][0]["delta"]
            kind = next(
                (k for k in ("tool_calls", "content", "reasoning_content") if delta.get(k)), ""
            )
        if kind and (not kinds or kinds[-1] != kind or kind == "tool_calls"):
            kinds.append(kind)
    return kinds


def _check_stream(
    response: SimResponse, record: dict[str, Any] | None, body: dict[str, Any], calls: int | None
) -> None:
    """Shape and order of a chat stream; with the `record` replayed, also its chunk sequence."""
    templates = xai_templates()
    assert response.headers["content-type"] == "text/event-stream"
    assert response.events and all(chunk.data.endswith(b"\n\n") for chunk in response.events)
    payloads = _sse_payloads(response.stream_bytes().decode())
    assert payloads[-1] == "[DONE]"
    chunks: list[dict[str, Any]] = payloads[:-1]
    assert len({chunk["id"] for chunk in chunks}) == 1 and UUID.match(chunks[0]["id"])
    include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
    if include_usage:
        usage_chunk = chunks.pop()
        assert set(usage_chunk) == templates["usage_chunk"] and usage_chunk["choices"] == []
        _check_usage(usage_chunk["usage"])
    for chunk in chunks:
        assert set(chunk) == templates["chunk"]
        assert chunk["object"] == "chat.completion.chunk"
        assert set(chunk["choices"][0]["delta"]) <= templates["delta_keys"]
    assert chunks[0]["choices"][0]["delta"].get("role") == "assistant"
    assert all("role" not in chunk["choices"][0]["delta"] for chunk in chunks[1:])
    finish = chunks[-1]["choices"][0]
    assert finish["delta"] == {} and finish["finish_reason"] in ("stop", "length", "tool_calls")
    assert all("finish_reason" not in chunk["choices"][0] for chunk in chunks[:-1])
    tool_chunks = [c for c in chunks if "tool_calls" in c["choices"][0]["delta"]]
    if calls is not None:
        assert len(tool_chunks) == calls
    for index, chunk in enumerate(tool_chunks):
        (call,) = chunk["choices"][0]["delta"]["tool_calls"]
        assert set(call) == templates["stream_tool_call"] and call["index"] == index
        assert CALL_ID.match(call["id"]) and set(call["function"]) == {"name", "arguments"}
    if tool_chunks:
        assert finish["finish_reason"] == "tool_calls"
    sse = record["response"].get("sse", "") if record is not None else ""
    if record is not None and record["provider"] == "xai" and '"cost_in_usd_ticks"' in sse:
        # Same era, same wire: the chunk sequence matches the recording's, kind for kind.
        recorded = [p for p in _sse_payloads(sse) if p != "[DONE]"]
        ours = chunks + ([usage_chunk] if include_usage else [])
        assert _kinds(ours) == _kinds(recorded)


@pytest.mark.parametrize("path", conformance_params(OK_FILES))
def test_replayed_exchange_has_xai_shape(path: Path) -> None:
    record = _load(path)
    body = _adapt(record["request"]["json"], record["tags"])
    reply, recorded_calls = _recorded_reply(record["response"])
    calls = _expected_calls(body, recorded_calls)
    # First what the recorded model said, then what the simulated model says to the request.
    replayed = _post(SimCore(lambda _body: reply), body)
    simulated = _post(SimCore(), body)
    for response in (replayed, simulated):
        assert response.status == 200, response.body
        assert response.is_stream is bool(body.get("stream"))
    if body.get("stream"):
        _check_stream(replayed, record, body, calls)
        _check_stream(simulated, None, body, None)
    else:
        _check_plain(replayed, body, reply, calls)
        _check_plain(simulated, body, None, None)


def test_the_corpus_has_recordings_to_replay() -> None:
    assert len(OK_FILES) >= 80
