"""Reading a Responses request for the simulated server: its fields, its input items and
tools checked in xAI's words (422 for shapes, 400 for refused arguments), and the input
turned into the chat conversation the simulated model reads.

Also the opaque blobs (encrypted reasoning, compaction) the server hands out and reads back.
Pure functions over plain dicts.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from ._server_tools import SERVER_ITEMS, OfferedTool, mcp_name, offer, server_call
from ._validate import FieldTypes, deserialize_error, json_kind
from ._wire import ApiError, dumps

__all__ = [
    "ITEM_TYPES",
    "RESPONSE_FIELDS",
    "TOOL_TYPES",
    "Tools",
    "chat_options",
    "check_outputs_answer_calls",
    "content_text",
    "missing",
    "normalize_input",
    "read_tools",
    "seal",
    "to_chat",
    "unseal",
    "variant",
]

_NUMBER = (int, float)

RESPONSE_FIELDS: FieldTypes = {
    "model": ((str,), "a string"),
    "input": ((str, list), "a string or a sequence"),
    "instructions": ((str,), "a string"),
    "previous_response_id": ((str,), "a string"),
    "store": ((bool,), "a boolean"),
    "include": ((list,), "a sequence"),
    "max_output_tokens": ((int,), "i32"),
    "max_turns": ((int,), "i32"),
    "reasoning": ((dict,), "struct ReasoningConfig"),
    "text": ((dict,), "struct TextConfig"),
    "tools": ((list,), "a sequence"),
    "tool_choice": ((str, dict), "a string or struct ToolChoice"),
    "parallel_tool_calls": ((bool,), "a boolean"),
    "temperature": (_NUMBER, "f32"),
    "top_p": (_NUMBER, "f32"),
    "stream": ((bool,), "a boolean"),
    "prompt_cache_key": ((str,), "a string"),
    "user": ((str,), "a string"),
    "metadata": ((dict,), "a map"),
}

ITEM_TYPES = (
    "message",
    "function_call",
    "function_call_output",
    "reasoning",
    "compaction",
    "web_search_call",
    "x_search_call",
    "code_interpreter_call",
    "file_search_call",
    "mcp_call",
)

_PART_TYPES = ("input_text", "output_text", "input_image", "input_file", "refusal")

TOOL_TYPES = ("function", "web_search", "x_search", "code_interpreter", "file_search", "mcp")

_SEAL = "aksim1."

_SEAL_KEY = hashlib.sha256(b"agentkit simulated Grok: opaque, not secret").digest()


# ----------------------------------------------------------------------------- opaque blobs


def seal(value: Any) -> str:
    """Opaque text the simulator can read back (obfuscated, not encrypted: it guards
    against clients relying on its contents, not against anyone reading it)."""
    data = dumps(value).encode()
    mixed = bytes(b ^ _SEAL_KEY[i % len(_SEAL_KEY)] for i, b in enumerate(data))
    return _SEAL + base64.urlsafe_b64encode(mixed).decode()


def unseal(text: str) -> Any:
    """What `seal` sealed; ValueError for anything else."""
    if not text.startswith(_SEAL):
        raise ValueError("not made by this server")
    mixed = base64.urlsafe_b64decode(text[len(_SEAL) :].encode())
    return json.loads(bytes(b ^ _SEAL_KEY[i % len(_SEAL_KEY)] for i, b in enumerate(mixed)))


# ----------------------------------------------------------------------------- input


def missing(raw: bytes, where: str, name: str) -> ApiError:
    """serde's 422 for a field that is not there."""
    return deserialize_error(raw, f"{where}: missing field `{name}`")


def variant(raw: bytes, where: str, value: Any, expected: Sequence[str]) -> ApiError:
    """serde's 422 for a tag it does not know."""
    listed = ", ".join(f"`{e}`" for e in expected)
    return deserialize_error(raw, f"{where}: unknown variant `{value}`, expected one of {listed}")


def _part(part: Any, raw: bytes, where: str, role: str) -> dict[str, Any]:
    if not isinstance(part, dict):
        raise deserialize_error(raw, f"{where}: invalid type: {json_kind(part)}, expected a map")
    kind = part.get("type")
    if kind not in _PART_TYPES:
        raise variant(raw, where, kind, _PART_TYPES)
    if kind in ("input_text", "output_text") and not isinstance(part.get("text"), str):
        raise missing(raw, where, "text")
    if kind == "refusal" and not isinstance(part.get("refusal"), str):
        raise missing(raw, where, "refusal")
    if kind == "input_image":
        if not isinstance(part.get("image_url"), str) and not isinstance(part.get("file_id"), str):
            raise missing(raw, where, "image_url")
        if part.get("detail", "auto") not in ("auto", "low", "high"):
            raise variant(raw, f"{where}.detail", part.get("detail"), ("auto", "low", "high"))
    if kind == "input_file" and not any(
        isinstance(part.get(key), str) for key in ("file_id", "file_url", "file_data")
    ):
        raise missing(raw, where, "file_id")
    if role == "assistant" and kind == "input_text":
        return {**part, "type": "output_text"}
    return dict(part)


def _message(item: dict[str, Any], raw: bytes, where: str) -> dict[str, Any]:
    role = item.get("role")
    roles = ("user", "assistant", "system", "developer")
    if role is None:
        raise missing(raw, where, "role")
    if role not in roles:
        raise variant(raw, f"{where}.role", role, roles)
    content = item.get("content")
    text_type = "output_text" if role == "assistant" else "input_text"
    if isinstance(content, str):
        parts = [{"type": text_type, "text": content}]
    elif isinstance(content, list):
        parts = [_part(p, raw, f"{where}.content[{i}]", role) for i, p in enumerate(content)]
    elif content is None:
        raise missing(raw, where, "content")
    else:
        raise deserialize_error(
            raw,
            f"{where}.content: invalid type: {json_kind(content)}, expected a string or a sequence",
        )
    return {
        "type": "message",
        "id": item.get("id"),
        "role": role,
        "content": parts,
        "status": item.get("status") or "completed",
    }


def normalize_input(value: Any, raw: bytes, response_id: str) -> list[dict[str, Any]]:
    """The request's `input` as canonical items, each with an id (as `input_items` lists it).

    Raises:
        ApiError: 422 for a shape xAI's parser would reject, 400 for an unreadable blob.
    """
    if isinstance(value, str):
        value = [{"role": "user", "content": value}]
    if not value:
        raise ApiError(400, "input must contain at least one item.")
    items: list[dict[str, Any]] = []
    for index, item in enumerate(value):
        where = f"input[{index}]"
        if not isinstance(item, dict):
            raise deserialize_error(
                raw,
                f"{where}: invalid type: {json_kind(item)}, expected internally tagged "
                "enum InputItem",
            )
        kind = item.get("type") or ("message" if "role" in item else None)
        if kind is None:
            raise missing(raw, where, "type")
        if kind not in ITEM_TYPES:
            raise variant(raw, f"{where}.type", kind, ITEM_TYPES)
        if kind == "message":
            item = _message(item, raw, where)
        elif kind == "function_call":
            for name in ("call_id", "name", "arguments"):
                if not isinstance(item.get(name), str):
                    raise missing(raw, where, name)
        elif kind == "function_call_output":
            if not isinstance(item.get("call_id"), str):
                raise missing(raw, where, "call_id")
            if not isinstance(item.get("output"), str | list):
                raise missing(raw, where, "output")
        elif kind == "compaction":
            try:
                sealed = unseal(str(item.get("encrypted_content") or ""))
                if not isinstance(sealed, dict) or not isinstance(sealed.get("messages"), list):
                    raise ValueError("it holds no conversation")
            except ValueError as exc:
                raise ApiError(400, f"{where}: the compaction item cannot be read: {exc}.") from exc
        item = {**item, "type": kind}
        if not item.get("id"):
            item["id"] = f"item_{response_id}_{index}"
        items.append(item)
    return items


def content_text(content: Any) -> str:
    """The text of a string or of a list of parts (text, refusals), joined."""
    if isinstance(content, str):
        return content
    pieces = []
    for part in content or ():
        if isinstance(part, dict):
            pieces.append(str(part.get("text") or part.get("refusal") or ""))
    return "".join(pieces)


def _chat_part(part: dict[str, Any]) -> dict[str, Any]:
    kind = part["type"]
    if kind == "input_image":
        if not isinstance(part.get("image_url"), str):
            raise ApiError(
                400,
                f"The simulator works offline and cannot read the uploaded file "
                f"{part.get('file_id')}; send the image as a data: URL.",
            )
        return {
            "type": "image_url",
            "image_url": {"url": part["image_url"], "detail": part.get("detail") or "auto"},
        }
    if kind == "input_file":
        name = part.get("filename") or part.get("file_id") or part.get("file_url") or "file"
        return {"type": "text", "text": f"[attached file: {name}]"}
    return {"type": "text", "text": content_text([part])}


def to_chat(
    items: Sequence[Mapping[str, Any]], tool_names: Mapping[str, str]
) -> list[dict[str, Any]]:
    """Canonical items as the chat messages the policy reads.

    `tool_names` maps an MCP server label and tool (`"label/tool"`) to the function name the
    policy knew it by. Server-side tool items become a call and its result, rebuilt from the
    item, so a conversation reads the same whether it is fresh or continued.
    """
    messages: list[dict[str, Any]] = []
    pending: list[Mapping[str, Any]] = []

    def flush() -> None:
        if pending:
            calls = [server_call(item, tool_names) for item in pending]
            messages.append(
                {"role": "assistant", "content": "", "tool_calls": [call for call, _ in calls]}
            )
            messages.extend(result for _, result in calls)
            pending.clear()

    for item in items:
        kind = item["type"]
        if kind in SERVER_ITEMS:
            pending.append(item)
            continue
        flush()
        if kind == "message":
            _add_message(messages, item)
        elif kind == "function_call":
            call = {
                "id": item["call_id"],
                "type": "function",
                "function": {"name": item["name"], "arguments": item["arguments"]},
            }
            last = messages[-1] if messages else None
            if last is not None and last["role"] == "assistant":
                last.setdefault("tool_calls", []).append(call)
            else:
                messages.append({"role": "assistant", "content": "", "tool_calls": [call]})
        elif kind == "function_call_output":
            messages.append(
                {
                    "role": "tool",
                    "tool_call_id": item["call_id"],
                    "content": content_text(item["output"]),
                }
            )
        elif kind == "compaction":
            messages.extend(unseal(item["encrypted_content"])["messages"])
    flush()
    return messages


def _add_message(messages: list[dict[str, Any]], item: Mapping[str, Any]) -> None:
    role = "system" if item["role"] == "developer" else item["role"]
    parts = item["content"]
    if role == "assistant":
        text = content_text(parts)
        last = messages[-1] if messages else None
        if last is not None and last["role"] == "assistant" and not last["content"]:
            last["content"] = text  # the text that came with the calls before it
        else:
            messages.append({"role": "assistant", "content": text})
        return
    chat_parts = [_chat_part(part) for part in parts]
    if all(part["type"] == "text" for part in chat_parts):
        messages.append({"role": role, "content": "\n".join(p["text"] for p in chat_parts)})
    else:
        messages.append({"role": role, "content": chat_parts})


def check_outputs_answer_calls(messages: Sequence[Mapping[str, Any]]) -> None:
    """400 for a function output that answers no call of the conversation (as OpenAI's)."""
    called: set[str] = set()
    for message in messages:
        for call in message.get("tool_calls") or ():
            called.add(call["id"])
        if message["role"] == "tool" and message["tool_call_id"] not in called:
            raise ApiError(
                400,
                f"No tool call found for function call output with call_id "
                f"{message['tool_call_id']}.",
            )


# ----------------------------------------------------------------------------- tools


@dataclass
class Tools:
    """A request's tools: the client's functions (chat shape) and the server's own."""

    functions: list[dict[str, Any]] = field(default_factory=list)
    server: dict[str, OfferedTool] = field(default_factory=dict)
    echo: list[dict[str, Any]] = field(default_factory=list)

    @property
    def mcp_names(self) -> dict[str, str]:
        """`"<server label>/<tool>"` -> the function name the policy sees it under."""
        return {
            f"{t.spec.get('server_label') or ''}/{t.mcp_tool}": t.name
            for t in self.server.values()
            if t.kind == "mcp"
        }


def _strings(
    spec: Mapping[str, Any], key: str, raw: bytes, where: str, limit: int | None
) -> list[str] | None:
    value = spec.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise deserialize_error(
            raw, f"{where}.{key}: invalid type: {json_kind(value)}, expected a sequence of strings"
        )
    if limit is not None and len(value) > limit:
        raise ApiError(400, f"{where}.{key} may list at most {limit} entries, got {len(value)}.")
    return value


def _check_search(
    spec: Mapping[str, Any], raw: bytes, where: str, names: tuple[str, str], limit: int
) -> None:
    allowed = _strings(spec, names[0], raw, where, limit)
    excluded = _strings(spec, names[1], raw, where, limit)
    if allowed is not None and excluded is not None:
        raise ApiError(400, f"{where}: {names[0]} cannot be set together with {names[1]}.")


def _check_dates(spec: Mapping[str, Any], where: str) -> None:
    days = []
    for key in ("from_date", "to_date"):
        value = spec.get(key)
        if value is None:
            continue
        try:
            days.append(datetime.date.fromisoformat(str(value)))
        except ValueError:
            raise ApiError(
                400, f"{where}.{key} must be a date in YYYY-MM-DD form, got {value!r}."
            ) from None
    if len(days) == 2 and days[0] > days[1]:
        raise ApiError(400, f"{where}: from_date is after to_date.")


def read_tools(value: Any, raw: bytes) -> Tools:
    """Split and check `tools`: 422 for shapes, 400 for arguments xAI refuses."""
    tools = Tools()
    for index, tool in enumerate(value or ()):
        where = f"tools[{index}]"
        if not isinstance(tool, dict):
            raise deserialize_error(
                raw,
                f"{where}: invalid type: {json_kind(tool)}, expected internally tagged enum Tool",
            )
        kind = tool.get("type")
        if kind is None:
            raise missing(raw, where, "type")
        if kind not in TOOL_TYPES:
            raise variant(raw, f"{where}.type", kind, TOOL_TYPES)
        echo = dict(tool)
        if kind == "function":
            if not isinstance(tool.get("name"), str) or not tool["name"]:
                raise missing(raw, where, "name")
            parameters = tool.get("parameters")
            if parameters is not None and not isinstance(parameters, dict):
                raise deserialize_error(
                    raw,
                    f"{where}.parameters: invalid type: {json_kind(parameters)}, expected a map",
                )
            tools.functions.append(
                {
                    "type": "function",
                    "function": {
                        "name": tool["name"],
                        "description": tool.get("description") or "",
                        "parameters": parameters or {"type": "object", "properties": {}},
                    },
                }
            )
        elif kind == "mcp":
            url = tool.get("server_url")
            if not isinstance(url, str):
                raise missing(raw, where, "server_url")
            if urlsplit(url).scheme not in ("http", "https"):
                raise ApiError(400, f"{where}.server_url must be an http(s) URL, got {url!r}.")
            label = str(tool.get("server_label") or "")
            described = str(tool.get("server_description") or f"the {label or 'remote'} server")
            for name in _strings(tool, "allowed_tools", raw, where, None) or [""]:
                entry = OfferedTool(
                    "mcp",
                    mcp_name(label, name),
                    tool,
                    f"Call {name or 'a tool'} on the MCP server: {described}.",
                    "input",
                    mcp_tool=name,
                )
                tools.server.setdefault(entry.name, entry)
            # The server's credentials are used, never echoed.
            echo = {k: v for k, v in tool.items() if k not in ("authorization", "headers")}
        else:
            if kind == "web_search":
                _check_search(tool, raw, where, ("allowed_domains", "excluded_domains"), 5)
            elif kind == "x_search":
                _check_search(tool, raw, where, ("allowed_x_handles", "excluded_x_handles"), 10)
                _check_dates(tool, where)
            elif kind == "file_search":
                if not _strings(tool, "vector_store_ids", raw, where, None):
                    raise missing(raw, where, "vector_store_ids")
                count = tool.get("max_num_results")
                if count is not None and (not isinstance(count, int) or count < 1):
                    raise ApiError(400, f"{where}.max_num_results must be a positive integer.")
            tools.server.setdefault(kind, offer(kind, tool))
        tools.echo.append(echo)
    clash = {f["function"]["name"] for f in tools.functions} & tools.server.keys()
    if clash:
        raise ApiError(
            400,
            f"The function name {sorted(clash)[0]!r} is taken by a server-side "
            "tool of the same request.",
        )
    return tools


# ----------------------------------------------------------------------------- options


def chat_options(body: Mapping[str, Any], raw: bytes) -> dict[str, Any]:
    """The request's options in chat terms: format, effort, sampling, tool choice."""
    chat: dict[str, Any] = {}
    for key in ("temperature", "top_p", "parallel_tool_calls", "user"):
        if body.get(key) is not None:
            chat[key] = body[key]
    if body.get("max_output_tokens") is not None:
        chat["max_tokens"] = body["max_output_tokens"]  # what a chat policy reads as the cap
    effort = (body.get("reasoning") or {}).get("effort")
    if effort is not None:
        chat["reasoning_effort"] = effort
    fmt = (body.get("text") or {}).get("format")
    if fmt is not None:
        kind = fmt.get("type") if isinstance(fmt, dict) else None
        if kind not in ("text", "json_object", "json_schema"):
            raise variant(raw, "text.format.type", kind, ("text", "json_object", "json_schema"))
        if kind == "json_schema":
            if not isinstance(fmt.get("schema"), dict):
                raise missing(raw, "text.format", "schema")
            spec = {
                "name": fmt.get("name") or "output",
                "schema": fmt["schema"],
                "strict": bool(fmt.get("strict")),
            }
            chat["response_format"] = {"type": "json_schema", "json_schema": spec}
        elif kind == "json_object":
            chat["response_format"] = {"type": "json_object"}
    choice = body.get("tool_choice")
    if isinstance(choice, dict):
        name = choice.get("name") or (choice.get("function") or {}).get("name")
        if choice.get("type") == "function" and isinstance(name, str):
            chat["tool_choice"] = {"type": "function", "function": {"name": name}}
        elif choice.get("type") in TOOL_TYPES:
            chat["tool_choice"] = "required"  # a server-side tool, forced
        else:
            raise deserialize_error(raw, "tool_choice: missing field `name`")
    elif choice is not None:
        chat["tool_choice"] = choice
    return chat
