"""A chat-completion request, as the loop builds it, turned into a `/v1/responses` body.

Pure: dicts in, dicts out. The loop speaks chat messages everywhere (the run state, sessions,
hooks, history policies); only this translation and its way back (`_responses_model.py`) know
the Responses API's shape, so one loop serves both APIs.

What the translation keeps in `RunState.context["responses"]` between turns:
- `chain`: the last stored response's id, how many messages it covered and a digest of them.
  When the conversation sent next still begins with exactly those messages, only the new ones
  go up, with `previous_response_id`; anything else (a history policy cut the prompt, a
  session was edited) sends the whole conversation again, which is always correct.
- `reasoning`: with `store` off the server keeps nothing, so each answer's encrypted reasoning
  items are kept here under a digest of the assistant message they came with, and sent back
  in front of it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, MutableMapping, Sequence
from typing import Any

__all__ = [
    "CONTEXT_KEY",
    "assistant_digest",
    "conversation_digest",
    "responses_body",
    "to_input_items",
    "to_response_tools",
]

CONTEXT_KEY = "responses"
"""The run-state context entry this translation keeps its chain and reasoning under."""

# Chat names the Responses API spells differently; the rest pass through, and a server that
# refuses one says so in a 400 the loop's capability fallback learns from.
_RENAMED = {"max_tokens": "max_output_tokens", "max_completion_tokens": "max_output_tokens"}
_CHAT_ONLY = frozenset({"messages", "response_format", "reasoning_effort", "stream_options", "n"})


def responses_body(
    request: Mapping[str, Any], context: MutableMapping[str, Any] | None
) -> dict[str, Any]:
    """The `/v1/responses` body for a chat-style request.

    Args:
        request: What the loop would send to `/v1/chat/completions` (without `stream`).
        context: The run's `RunState.context`, read for the chain and the kept reasoning;
            None when the model is used outside a run (then nothing is chained).
    """
    messages: Sequence[Mapping[str, Any]] = request.get("messages") or ()
    store = request.get("store", True) is not False
    memo: Mapping[str, Any] = (context.get(CONTEXT_KEY) if context is not None else None) or {}
    # With store on the server holds the reasoning; off, the kept items go back in the input.
    reasoning: Mapping[str, Any] = {} if store else memo.get("reasoning") or {}
    start, previous = 0, None
    chain = memo.get("chain") if store else None
    if (chain and 0 < chain["count"] <= len(messages)
            and conversation_digest(messages[: chain["count"]]) == chain["digest"]):
        start, previous = chain["count"], chain["id"]

    body: dict[str, Any] = {"input": to_input_items(messages[start:], reasoning)}
    for name, value in request.items():
        if name in _CHAT_ONLY:
            continue
        if name == "tools":
            body["tools"] = to_response_tools(value)
        elif name == "tool_choice":
            body["tool_choice"] = _tool_choice(value)
        else:
            body[_RENAMED.get(name, name)] = value
    if previous is not None:
        body["previous_response_id"] = previous
    effort = request.get("reasoning_effort")
    if effort is not None:
        body["reasoning"] = {**(body.get("reasoning") or {}), "effort": effort}
    text_format = _text_format(request.get("response_format"))
    if text_format is not None:
        body["text"] = {**(body.get("text") or {}), "format": text_format}
    if not store:
        body["store"] = False
        include = list(body.get("include") or ())
        if "reasoning.encrypted_content" not in include:
            include.append("reasoning.encrypted_content")
        body["include"] = include
    return body


def to_input_items(
    messages: Sequence[Mapping[str, Any]], reasoning: Mapping[str, Any] | None = None
) -> list[dict[str, Any]]:
    """Chat messages as Responses input items.

    An assistant message becomes its text (as an assistant message) and its tool calls (as
    `function_call` items), preceded by its kept reasoning items; a tool message becomes a
    `function_call_output`.
    """
    items: list[dict[str, Any]] = []
    for message in messages:
        role = message.get("role")
        if role == "compaction":  # a history policy's stand-in: the server's own items
            items.extend(dict(item) for item in message.get("items") or ())
            continue
        if role == "tool":
            items.append({
                "type": "function_call_output",
                "call_id": message.get("tool_call_id") or "",
                "output": _text(message.get("content")),
            })
            continue
        if role == "assistant":
            if reasoning:
                items.extend(reasoning.get(assistant_digest(message)) or ())
            content = _text(message.get("content"))
            if content:
                items.append({"role": "assistant", "content": content})
            for call in message.get("tool_calls") or ():
                function = call.get("function") or {}
                items.append({
                    "type": "function_call",
                    "call_id": call.get("id") or "",
                    "name": function.get("name") or "",
                    "arguments": function.get("arguments") or "",
                })
            continue
        items.append({"role": role or "user", "content": _content(message.get("content"))})
    return items


def to_response_tools(tools: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Chat tool definitions in the Responses API's flat shape; server-side tools (already in
    that shape) pass as they are."""
    converted: list[dict[str, Any]] = []
    for tool in tools:
        function = tool.get("function") if tool.get("type") == "function" else None
        if not isinstance(function, Mapping):
            converted.append(dict(tool))
            continue
        flat: dict[str, Any] = {"type": "function", "name": function["name"]}
        for key in ("description", "parameters", "strict"):
            if key in function:
                flat[key] = function[key]
        converted.append(flat)
    return converted


def conversation_digest(messages: Sequence[Mapping[str, Any]]) -> str:
    """A digest of messages, to recognise a conversation the server already holds."""
    encoded = json.dumps(messages, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(encoded.encode()).hexdigest()


def assistant_digest(message: Mapping[str, Any]) -> str:
    """A digest of an assistant message's text and tool calls: the key its reasoning is kept
    under (the visible reasoning is left out: it is a summary, and may be dropped)."""
    calls = [
        (call.get("id"), (call.get("function") or {}).get("name"),
         (call.get("function") or {}).get("arguments"))
        for call in message.get("tool_calls") or ()
    ]
    encoded = json.dumps([_text(message.get("content")), calls], separators=(",", ":"))
    return hashlib.sha256(encoded.encode()).hexdigest()[:32]


def _tool_choice(choice: Any) -> Any:
    if isinstance(choice, Mapping) and choice.get("type") == "function":
        function = choice.get("function")
        if isinstance(function, Mapping) and "name" in function:
            return {"type": "function", "name": function["name"]}
    return choice


def _text_format(response_format: Any) -> dict[str, Any] | None:
    if not isinstance(response_format, Mapping):
        return None
    kind = response_format.get("type")
    if kind == "json_schema":
        spec = response_format.get("json_schema") or {}
        text_format: dict[str, Any] = {"type": "json_schema", "name": spec.get("name") or "output"}
        for key in ("schema", "strict", "description"):
            if key in spec:
                text_format[key] = spec[key]
        return text_format
    return {"type": kind} if isinstance(kind, str) else None


def _text(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, Sequence):
        return "".join(
            part.get("text") or "" for part in content
            if isinstance(part, Mapping) and part.get("type") in ("text", "input_text", "output_text")
        )
    return str(content)


def _content(content: Any) -> Any:
    """User or system content: a string stays a string; chat parts become input parts."""
    if content is None or isinstance(content, str):
        return content or ""
    parts: list[Any] = []
    for part in content:
        if not isinstance(part, Mapping):
            parts.append(part)
            continue
        kind = part.get("type")
        if kind == "text":
            parts.append({"type": "input_text", "text": part.get("text") or ""})
        elif kind == "image_url":
            image = part.get("image_url")
            url = image.get("url") if isinstance(image, Mapping) else image
            converted: dict[str, Any] = {"type": "input_image", "image_url": url}
            if isinstance(image, Mapping) and image.get("detail"):
                converted["detail"] = image["detail"]
            parts.append(converted)
        elif kind == "file":
            file = part.get("file") or {}
            parts.append({"type": "input_file", **{k: v for k, v in file.items() if v is not None}})
        else:
            parts.append(dict(part))  # already a Responses part, or one the server will judge
    return parts
