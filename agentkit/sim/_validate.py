"""What xAI refuses in a request body, in xAI's words: 422 for shapes its (serde) parser
rejects, 400 for arguments a model does not support, 410 for Live Search.

Pure checks over the parsed JSON; each raises `ApiError` with the status and message xAI
sends. Field tables say which JSON types a field takes, so every endpoint checks the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ._wire import ApiError, dumps
from .models import SimModel

__all__ = [
    "CHAT_FIELDS",
    "COMPLETION_FIELDS",
    "EMBEDDING_FIELDS",
    "IMAGE_FIELDS",
    "LEGACY_UNSUPPORTED",
    "TOKENIZE_FIELDS",
    "VISION_FIELDS",
    "FieldTypes",
    "check_chat_request",
    "check_context_window",
    "check_fields",
    "check_unsupported",
    "deserialize_error",
    "json_kind",
]

FieldTypes = Mapping[str, tuple[tuple[type, ...], str]]
"""Field name -> (accepted Python types, serde's name for the expected type)."""

_ROLES = ("system", "user", "assistant", "tool", "function", "developer")
_PART_TYPES = frozenset({"text", "image_url", "file", "text_file"})
_CONTENT_ENUM = "data did not match any variant of untagged enum ChatCompletionRequestContent"
_CAMEL = {
    "presence_penalty": "presencePenalty",
    "frequency_penalty": "frequencyPenalty",
    "reasoning_effort": "reasoningEffort",
    "stop": "stop",
    "logit_bias": "logitBias",
    "best_of": "bestOf",
    "suffix": "suffix",
}
# Schema keywords outside the subset xAI's structured output accepts.
_UNSUPPORTED_SCHEMA_KEYS = frozenset(
    {"allOf", "minLength", "maxLength", "minItems", "maxItems", "minContains", "maxContains"}
)
_SCHEMA_MAPS = frozenset({"properties", "$defs", "definitions", "patternProperties"})
_SCHEMA_ONE = frozenset(
    {"items", "additionalProperties", "not", "contains", "if", "then", "else", "propertyNames"}
)
_SCHEMA_LISTS = frozenset({"anyOf", "oneOf", "prefixItems"})
_NUMBER = (int, float)
CHAT_FIELDS: FieldTypes = {
    "model": ((str,), "a string"),
    "messages": ((list,), "a sequence"),
    "temperature": (_NUMBER, "f32"),
    "top_p": (_NUMBER, "f32"),
    "max_tokens": ((int,), "i32"),
    "max_completion_tokens": ((int,), "i32"),
    "n": ((int,), "i32"),
    "seed": ((int,), "i32"),
    "stream": ((bool,), "a boolean"),
    "stream_options": ((dict,), "struct StreamOptions"),
    "presence_penalty": (_NUMBER, "f32"),
    "frequency_penalty": (_NUMBER, "f32"),
    "logprobs": ((bool,), "a boolean"),
    "top_logprobs": ((int,), "i32"),
    "parallel_tool_calls": ((bool,), "a boolean"),
    "user": ((str,), "a string"),
    "stop": ((str, list), "a string or a sequence"),
    "reasoning_effort": ((str,), "a string"),
    "tools": ((list,), "a sequence"),
    "tool_choice": ((str, dict), "a string or struct ToolChoice"),
    "response_format": ((dict,), "internally tagged enum ResponseFormat"),
}
COMPLETION_FIELDS: FieldTypes = {
    "model": ((str,), "a string"),
    "prompt": ((str, list), "a string or a sequence"),
    "max_tokens": ((int,), "i32"),
    "n": ((int,), "i32"),
    "echo": ((bool,), "a boolean"),
    "stop": ((str, list), "a string or a sequence"),
    "stream": ((bool,), "a boolean"),
    "stream_options": ((dict,), "struct StreamOptions"),
    "seed": ((int,), "i32"),
    "temperature": ((int, float), "f32"),
    "top_p": ((int, float), "f32"),
    "user": ((str,), "a string"),
}
LEGACY_UNSUPPORTED = frozenset({"best_of", "suffix", "logit_bias", "frequency_penalty"})
EMBEDDING_FIELDS: FieldTypes = {
    "model": ((str,), "a string"),
    "input": ((str, list), "a string or a sequence"),
    "encoding_format": ((str,), "a string"),
    "dimensions": ((int,), "u32"),
    "user": ((str,), "a string"),
}
IMAGE_FIELDS: FieldTypes = {
    "prompt": ((str,), "a string"),
    "model": ((str,), "a string"),
    "n": ((int,), "i32"),
    "response_format": ((str,), "a string"),
    "aspect_ratio": ((str,), "a string"),
    "resolution": ((str,), "a string"),
    "quality": ((str,), "a string"),
    "user": ((str,), "a string"),
}
VISION_FIELDS: FieldTypes = {
    "image": ((str,), "a string"),
    "prompt": ((str,), "a string"),
    "model": ((str,), "a string"),
}
TOKENIZE_FIELDS: FieldTypes = {
    "model": ((str,), "a string"),
    "text": ((str,), "a string"),
    "user": ((str,), "a string"),
}


def json_kind(value: Any) -> str:
    """Serde's words for a JSON value in "invalid type" messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean `{'true' if value else 'false'}`"
    if isinstance(value, int):
        return f"integer `{value}`"
    if isinstance(value, float):
        return f"floating point `{value}`"
    if isinstance(value, str):
        return f"string {dumps(value)}"
    return "sequence" if isinstance(value, list) else "map"


def deserialize_error(raw: bytes, detail: str) -> ApiError:
    """A 422 in the words of xAI's (serde's) body parser, positioned at the end of the body."""
    line = raw.count(b"\n") + 1
    column = len(raw) - (raw.rfind(b"\n") + 1)
    return ApiError(
        422,
        f"Failed to deserialize the JSON body into the target type: {detail} "
        f"at line {line} column {column}",
    )


def check_fields(
    body: Mapping[str, Any], raw: bytes, fields: FieldTypes, required: Sequence[str]
) -> None:
    """422 for a missing required field or a field of the wrong JSON type (null = absent)."""
    for name in required:
        if body.get(name) is None:
            raise deserialize_error(raw, f"missing field `{name}`")
    for name, (types, expected) in fields.items():
        value = body.get(name)
        if value is None:
            continue
        wrong_bool = isinstance(value, bool) and bool not in types
        if wrong_bool or not isinstance(value, types):
            raise deserialize_error(
                raw, f"{name}: invalid type: {json_kind(value)}, expected {expected}"
            )


def _check_messages(messages: list[Any], raw: bytes, model: SimModel) -> None:
    if not messages:
        raise ApiError(400, "messages must contain at least one message.")
    for i, message in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(message, dict):
            raise deserialize_error(
                raw,
                f"{where}: invalid type: {json_kind(message)}, "
                "expected internally tagged enum Message",
            )
        role = message.get("role")
        if role is None:
            raise deserialize_error(raw, f"{where}: missing field `role`")
        if role not in _ROLES:
            expected = ", ".join(f"`{r}`" for r in _ROLES)
            raise deserialize_error(
                raw, f"{where}: unknown variant `{role}`, expected one of {expected}"
            )
        content = message.get("content")
        if content is None:
            if role not in ("assistant", "tool"):
                raise deserialize_error(raw, f"{where}.content: {_CONTENT_ENUM}")
        elif isinstance(content, list):
            for part in content:
                _check_part(part, raw, where, model)
        elif not isinstance(content, str):
            raise deserialize_error(raw, f"{where}.content: {_CONTENT_ENUM}")
        if role == "tool" and not isinstance(message.get("tool_call_id"), str):
            raise deserialize_error(raw, f"{where}: missing field `tool_call_id`")
        calls = message.get("tool_calls")
        if calls is not None and not isinstance(calls, list):
            raise deserialize_error(
                raw, f"{where}.tool_calls: invalid type: {json_kind(calls)}, expected a sequence"
            )
        if message.get("name") is not None and role != "user":
            raise ApiError(400, "Only messages of role 'user' can have a name.")


def _check_part(part: Any, raw: bytes, where: str, model: SimModel) -> None:
    if not isinstance(part, dict) or part.get("type") not in _PART_TYPES:
        raise deserialize_error(raw, f"{where}.content: {_CONTENT_ENUM}")
    kind = part["type"]
    if kind == "text" and not isinstance(part.get("text"), str):
        raise deserialize_error(raw, f"{where}.content: {_CONTENT_ENUM}")
    if kind == "image_url":
        image = part.get("image_url")
        if not isinstance(image, dict) or not isinstance(image.get("url"), str):
            raise deserialize_error(raw, f"{where}.content: {_CONTENT_ENUM}")
        if image.get("detail", "auto") not in ("auto", "low", "high"):
            raise deserialize_error(raw, f"{where}.content: {_CONTENT_ENUM}")
        if not model.reads_images:
            raise ApiError(400, f"Model {model.id} does not support image inputs.")


def _check_tools(body: Mapping[str, Any], raw: bytes) -> set[str]:
    names: set[str] = set()
    for i, tool in enumerate(body.get("tools") or ()):
        function = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            raise deserialize_error(raw, f"tools[{i}]: missing field `function`")
        if tool.get("type", "function") != "function":
            raise deserialize_error(
                raw, f"tools[{i}]: unknown variant `{tool.get('type')}`, expected `function`"
            )
        names.add(function["name"])
    if len(names) > 128:
        raise ApiError(400, f"A request may define at most 128 functions, got {len(names)}.")
    choice = body.get("tool_choice")
    if isinstance(choice, str) and choice not in ("auto", "none", "required"):
        raise deserialize_error(
            raw,
            f"tool_choice: unknown variant `{choice}`, expected one of `auto`, `none`, `required`",
        )
    if isinstance(choice, dict):
        function = choice.get("function")
        name = function.get("name") if isinstance(function, dict) else None
        if not isinstance(name, str):
            raise deserialize_error(raw, "tool_choice: missing field `function`")
        if name not in names:
            raise ApiError(
                400, f"tool_choice names the function `{name}`, which is not in `tools`."
            )
    return names


def _schema_problem(schema: Any, path: str) -> str | None:
    """Where a JSON schema leaves xAI's structured-output subset, None when it stays inside."""
    if not isinstance(schema, dict):
        return None
    for key, value in schema.items():
        if key in _UNSUPPORTED_SCHEMA_KEYS:
            return f"`{key}` at {path}"
        found: str | None = None
        if key in _SCHEMA_MAPS and isinstance(value, dict):
            for name, sub in value.items():
                found = found or _schema_problem(sub, f"{path}.{key}.{name}")
        elif key in _SCHEMA_ONE:
            found = _schema_problem(value, f"{path}.{key}")
        elif key in _SCHEMA_LISTS and isinstance(value, list):
            for i, sub in enumerate(value):
                found = found or _schema_problem(sub, f"{path}.{key}[{i}]")
        if found:
            return found
    return None


def _check_response_format(body: Mapping[str, Any], raw: bytes, model: SimModel) -> None:
    fmt = body.get("response_format")
    if fmt is None:
        return
    kind = fmt.get("type")
    if kind not in ("text", "json_object", "json_schema"):
        raise deserialize_error(
            raw,
            f"response_format: unknown variant `{kind}`, "
            "expected one of `text`, `json_object`, `json_schema`",
        )
    if kind != "json_schema":
        return
    spec = fmt.get("json_schema")
    if not isinstance(spec, dict) or not isinstance(spec.get("schema"), dict):
        raise deserialize_error(raw, "response_format: missing field `json_schema`")
    problem = _schema_problem(spec["schema"], "$")
    if problem:
        raise ApiError(
            400,
            f"Invalid request content: the response_format JSON schema uses {problem}, "
            "which structured output does not support.",
        )
    if body.get("tools") and not model.structured_output_with_tools:
        raise ApiError(
            400, f"Model {model.id} does not support structured output together with tools."
        )


def _check_ranges(body: Mapping[str, Any], model: SimModel) -> None:
    for name, low, high in (
        ("temperature", 0.0, 2.0),
        ("top_p", 0.0, 1.0),
        ("presence_penalty", -2.0, 2.0),
        ("frequency_penalty", -2.0, 2.0),
        ("top_logprobs", 0, 8),
    ):
        value = body.get(name)
        if value is not None and not low <= value <= high:
            raise ApiError(400, f"{name} must be between {low} and {high}, got {value}.")
    for name in ("n", "max_tokens", "max_completion_tokens"):
        value = body.get(name)
        if value is not None and value < 1:
            raise ApiError(400, f"{name} must be at least 1, got {value}.")
    stop = body.get("stop")
    if isinstance(stop, list) and (len(stop) > 4 or not all(isinstance(s, str) for s in stop)):
        raise ApiError(400, "stop takes at most 4 strings.")
    effort = body.get("reasoning_effort")
    if effort is not None and effort not in model.reasoning_efforts:
        allowed = ", ".join(model.reasoning_efforts)
        raise ApiError(
            400,
            f"Model {model.id} does not support reasoning effort {effort!r}; "
            f"use one of: {allowed}.",
        )


def check_unsupported(
    body: Mapping[str, Any], model: SimModel, extra: frozenset[str] = frozenset()
) -> None:
    """400 for parameters the model refuses, even when set to 0 (xAI's 2026 wording)."""
    for name in model.rejected_params | extra:
        if body.get(name) is not None:
            raise ApiError(
                400, f"Model {model.id} does not support parameter {_CAMEL.get(name, name)}."
            )


def check_context_window(model: SimModel, prompt_tokens: int) -> None:
    """xAI's 400 for a prompt longer than the model's context window."""
    if model.context_window and prompt_tokens > model.context_window:
        raise ApiError(
            400,
            f"This model's maximum prompt length is {model.context_window} but the request "
            f"contains {prompt_tokens} tokens.",
        )


def check_chat_request(body: Mapping[str, Any], raw: bytes, model: SimModel) -> None:
    """Everything xAI refuses in a chat request that passed `check_fields(CHAT_FIELDS)`.

    Raises:
        ApiError: 410 for Live Search, 422 for a shape serde would reject, 400 otherwise.
    """
    if body.get("search_parameters") is not None:
        raise ApiError(
            410,
            "Live search is deprecated. Please switch to the Agent Tools API: "
            "https://docs.x.ai/docs/guides/tools/overview",
            code=None,
        )
    _check_messages(body["messages"], raw, model)
    _check_tools(body, raw)
    _check_response_format(body, raw, model)
    if body.get("stream_options") is not None and body.get("stream") is not True:
        raise ApiError(400, "Argument not supported: stream_options")
    check_unsupported(body, model)
    _check_ranges(body, model)
