"""Chat and legacy completions for the simulated server: bend the model's reply to the
request's limits, count its tokens and cost, and write it the way xAI does.

Pure functions over plain dicts. The hot path builds each SSE chunk from a per-response
prefix and suffix and one `dumps` of the delta, so thousands of simulated requests stay cheap.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from json.encoder import encode_basestring
from typing import Any

from ._wire import SimChunk, dumps
from .faults import Fault
from .media import IMAGE_TOKENS, count_message_tokens, count_tokens, tokenize
from .models import SimModel
from .reply import SimReply

__all__ = [
    "Answer",
    "Meta",
    "chat_body",
    "chat_events",
    "prompt_usage",
    "shape_answer",
    "split_text",
    "text_completion_body",
    "text_completion_events",
    "usage",
]

# JSON text of a str, non-ASCII kept (as `dumps` does), at C speed: one call per streamed piece.
_quote = encode_basestring
# Roughly where a tokenizer cuts: words with their leading space, punctuation runs, spaces.
_PIECE = re.compile(r"\s*\w+|\s*[^\s\w]+|\s+")


# ----------------------------------------------------------------------------- the answer


@dataclass(slots=True)
class Answer:
    """What the assistant says once the server has applied the request's constraints.

    Attributes:
        content: Visible text.
        reasoning: Reasoning text to send (`reasoning_content`), None when hidden or absent.
        reasoning_tokens: Reasoning tokens billed, shown or not.
        tool_calls: (id, name, arguments) of each call.
        finish_reason: "stop", "length" or "tool_calls".
        completion_tokens: Visible output tokens (text and tool calls, not reasoning).
    """

    content: str
    reasoning: str | None
    reasoning_tokens: int
    tool_calls: list[tuple[str, str, str]] = field(default_factory=list)
    finish_reason: str = "stop"
    completion_tokens: int = 0


def _cut_at_stop(content: str, stop: Any) -> tuple[str, bool]:
    stops = [stop] if isinstance(stop, str) else list(stop or ())
    cut = min((i for s in stops if s and (i := content.find(s)) >= 0), default=-1)
    return (content[:cut], True) if cut >= 0 else (content, False)


def _wrong_value(schema: Any) -> Any:
    """A value that breaks `schema`, the way a confused model breaks it."""
    kind = schema.get("type") if isinstance(schema, dict) else None
    if isinstance(schema, dict) and "enum" in schema:
        return "__not_a_listed_value__"
    return {
        "string": 12345,
        "integer": "not a number",
        "number": "not a number",
        "boolean": "not a boolean",
        "array": "not an array",
        "object": "not an object",
    }.get(kind if isinstance(kind, str) else "")


def _invalid_output(body: Mapping[str, Any], content: str) -> str:
    fmt = body.get("response_format") or {}
    schema = (
        (fmt.get("json_schema") or {}).get("schema") if fmt.get("type") == "json_schema" else None
    )
    if not isinstance(schema, dict):
        # No schema to break: break JSON itself.
        return '{"answer": "' + content[:40].replace('"', "'")
    if schema.get("required"):
        return "{}"
    properties = schema.get("properties") or {}
    for name, sub in properties.items():
        wrong = _wrong_value(sub)
        if wrong is not None:
            return dumps({name: wrong})
    return "[]" if schema.get("type") == "object" else '"not the requested structure"'


def shape_answer(
    reply: SimReply,
    body: Mapping[str, Any],
    model: SimModel,
    fault: Fault | None,
    new_call_id: Callable[[], str],
) -> Answer:
    """Bend the policy's reply to the model and request: visibility of reasoning, tool_choice,
    parallel_tool_calls, stop, max tokens, and the content faults."""
    content = reply.content
    finish = reply.effective_finish_reason
    calls = [(call.name, call.arguments) for call in reply.tool_calls]
    reasoning = reply.reasoning if model.reasoning != "none" else None
    kind = fault.kind if fault is not None else None

    if body.get("tool_choice") == "none":
        calls = []
    if body.get("parallel_tool_calls") is False:
        calls = calls[:1]
    if kind == "bad_tool_args":
        if calls:
            name, arguments = calls[0]
            calls[0] = (name, arguments.rstrip()[:-1] or "{")
        elif body.get("tools"):
            calls = [(body["tools"][0]["function"]["name"], '{"')]
    elif kind == "bad_output":
        content, calls, finish = _invalid_output(body, content), [], "stop"
    if calls and finish == "stop":
        finish = "tool_calls"
    elif not calls and finish == "tool_calls":
        finish = "stop"

    content, stopped = _cut_at_stop(content, body.get("stop"))
    if stopped:
        finish = "stop"
    limit = body.get("max_completion_tokens") or body.get("max_tokens")
    content_tokens = count_tokens(content) if content else 0
    if limit is not None and content_tokens > limit:
        content = "".join(token[1] for token in tokenize(content)[:limit])
        content_tokens, calls, finish = limit, [], "length"

    completion = content_tokens + sum(count_tokens(n) + count_tokens(a) for n, a in calls)
    return Answer(
        content=content,
        reasoning=reasoning if model.reasoning == "visible" and reasoning else None,
        reasoning_tokens=count_tokens(reasoning) if reasoning else 0,
        tool_calls=[(new_call_id(), name, arguments) for name, arguments in calls],
        finish_reason=finish,
        completion_tokens=completion,
    )


# ----------------------------------------------------------------------------- usage


def prompt_usage(messages: Sequence[Any], tools: Any) -> tuple[int, int]:
    """(text tokens, image tokens) of a prompt; tool definitions count as text, as on xAI."""
    total = count_message_tokens(messages)
    images = 0
    for message in messages:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, list):
            for part in content:
                if part.get("type") == "image_url":
                    detail = part["image_url"].get("detail", "auto")
                    images += IMAGE_TOKENS.get(detail, IMAGE_TOKENS["auto"])
    if tools:
        total += count_tokens(dumps(tools))
    return total - images, images


def usage(
    model: SimModel, text_tokens: int, image_tokens: int, completion: int, reasoning: int
) -> dict[str, Any]:
    """xAI's usage object: reasoning outside `completion_tokens`, cost in 1e-10 USD ticks."""
    prompt = text_tokens + image_tokens
    factor = 2 if model.long_context_threshold and prompt > model.long_context_threshold else 1
    # Prices are USD per million tokens; 10^10 ticks per USD makes 10^4 ticks per token-dollar.
    ticks = factor * round(
        prompt * model.input_price * 10_000 + (completion + reasoning) * model.output_price * 10_000
    )
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion + reasoning,
        "prompt_tokens_details": {
            "text_tokens": text_tokens,
            "audio_tokens": 0,
            "image_tokens": image_tokens,
            "cached_tokens": 0,
        },
        "completion_tokens_details": {
            "reasoning_tokens": reasoning,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
        "num_sources_used": 0,
        "cost_in_usd_ticks": ticks,
    }


# ----------------------------------------------------------------------------- rendering


@dataclass(frozen=True, slots=True)
class Meta:
    """What every chunk of one response repeats.

    Attributes:
        id: The completion id (UUID-style).
        created: Unix time of the request.
        model: The id the response names.
        fingerprint: `system_fingerprint`.
        chunk_delay: Seconds before each streamed chunk.
    """

    id: str
    created: int
    model: str
    fingerprint: str
    chunk_delay: float = 0.0


def split_text(text: str) -> list[str]:
    """Cut text where a tokenizer would, so deltas look like xAI's (one token each)."""
    return _PIECE.findall(text)


def _tool_call_json(call: tuple[str, str, str], index: int | None) -> dict[str, Any]:
    call_id, name, arguments = call
    if index is None:
        return {
            "id": call_id,
            "function": {"name": name, "arguments": arguments},
            "type": "function",
        }
    return {
        "id": call_id,
        "function": {"name": name, "arguments": arguments},
        "index": index,
        "type": "function",
    }


def chat_body(meta: Meta, answers: Sequence[Answer], usage_: dict[str, Any]) -> bytes:
    """A non-streamed `chat.completion`."""
    choices = []
    for index, answer in enumerate(answers):
        message: dict[str, Any] = {"role": "assistant", "content": answer.content}
        if answer.reasoning:
            message["reasoning_content"] = answer.reasoning
        if answer.tool_calls:
            message["tool_calls"] = [_tool_call_json(call, None) for call in answer.tool_calls]
        message["refusal"] = None
        choices.append({"index": index, "message": message, "finish_reason": answer.finish_reason})
    return _whole_body(meta, "chat.completion", choices, usage_)


def _whole_body(
    meta: Meta, obj: str, choices: list[dict[str, Any]], usage_: dict[str, Any]
) -> bytes:
    """A non-streamed answer: the envelope xAI puts around chat and text completions alike."""
    return dumps(
        {
            "id": meta.id,
            "object": obj,
            "created": meta.created,
            "model": meta.model,
            "choices": choices,
            "usage": usage_,
            "system_fingerprint": meta.fingerprint,
        }
    ).encode()


def _framing(meta: Meta, obj: str) -> tuple[str, str]:
    head = (
        f'data: {{"id":"{meta.id}","object":"{obj}","created":{meta.created},'
        f'"model":{dumps(meta.model)},"choices":['
    )
    return head, f'],"system_fingerprint":"{meta.fingerprint}"}}\n\n'


def _deltas(answer: Answer) -> list[str]:
    """The delta objects of one choice as JSON text, role folded into the first; keys sorted
    as xAI sorts them (content, reasoning_content, role, tool_calls)."""
    deltas = [f'{{"reasoning_content":{_quote(p)}}}' for p in split_text(answer.reasoning or "")]
    deltas += [f'{{"content":{_quote(p)}}}' for p in split_text(answer.content)]
    role = '"role":"assistant"'
    for index, call in enumerate(answer.tool_calls):
        calls = dumps([_tool_call_json(call, index)])
        deltas.append(
            f'{{{role},"tool_calls":{calls}}}' if not deltas else f'{{"tool_calls":{calls}}}'
        )
    if not deltas:
        return [f"{{{role}}}"]
    first = deltas[0]
    if first.startswith(('{"tool_calls"', '{"role"')):
        return deltas
    deltas[0] = first[:-1] + "," + role + "}"
    return deltas


def chat_events(
    meta: Meta, answers: Sequence[Answer], usage_: dict[str, Any] | None
) -> list[SimChunk]:
    """The SSE chunks of a streamed chat completion, ending with `data: [DONE]`.

    Reasoning deltas come first, then content, then each tool call whole in its own chunk,
    then `{"delta":{},"finish_reason":...}`, then (with `usage_`) a `"choices":[]` chunk.
    """
    head, tail = _framing(meta, "chat.completion.chunk")
    delay = meta.chunk_delay
    events: list[SimChunk] = []
    for index, answer in enumerate(answers):
        opening, closing = f'{head}{{"index":{index},"delta":', "}" + tail
        events += [SimChunk((opening + d + closing).encode(), delay) for d in _deltas(answer)]
        finish = (
            f'{head}{{"index":{index},"delta":{{}},"finish_reason":"{answer.finish_reason}"}}{tail}'
        )
        events.append(SimChunk(finish.encode(), delay))
    if usage_ is not None:
        events.append(SimChunk(f'{head}],"usage":{dumps(usage_)}{tail[1:]}'.encode(), delay))
    events.append(SimChunk(b"data: [DONE]\n\n", delay))
    return events


def text_completion_body(
    meta: Meta, texts: Sequence[tuple[str, str]], usage_: dict[str, Any]
) -> bytes:
    """A non-streamed legacy `text_completion`; `texts` holds (text, finish_reason) pairs."""
    choices = [
        {"index": index, "text": text, "finish_reason": finish}
        for index, (text, finish) in enumerate(texts)
    ]
    return _whole_body(meta, "text_completion", choices, usage_)


def text_completion_events(
    meta: Meta, texts: Sequence[tuple[str, str]], usage_: dict[str, Any] | None
) -> list[SimChunk]:
    """The SSE chunks of a streamed legacy completion."""
    head, tail = _framing(meta, "text_completion")
    delay = meta.chunk_delay
    events: list[SimChunk] = []
    for index, (text, finish) in enumerate(texts):
        for piece in split_text(text):
            chunk = f'{head}{{"index":{index},"text":{_quote(piece)}}}{tail}'
            events.append(SimChunk(chunk.encode(), delay))
        chunk = f'{head}{{"index":{index},"text":"","finish_reason":"{finish}"}}{tail}'
        events.append(SimChunk(chunk.encode(), delay))
    if usage_ is not None:
        events.append(SimChunk(f'{head}],"usage":{dumps(usage_)}{tail[1:]}'.encode(), delay))
    events.append(SimChunk(b"data: [DONE]\n\n", delay))
    return events
