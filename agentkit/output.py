"""The output type of an agent: its schema in three delivery modes, and validation. No I/O.

An output type (`str`, a pydantic model, a dataclass, `list[...]`, a union...) reaches the
model one of three ways:

- `native`: `response_format` `json_schema`; the answer's text is the JSON.
- `tool`: a final-answer tool (`final_result`); the call's arguments are the answer.
- `prompted`: the schema in the instructions; JSON is read from the text, fences tolerated.

A schema whose root is not an object (a list, a union, a number) is wrapped as
`{"result": ...}`, because tool arguments must be objects and Grok rejects a root `anyOf`.
Answers are validated against the full pydantic type, never against a transformed schema,
so what a dialect cannot express (string lengths on Grok) is still enforced.

An output type may also be a function (sync or async, or a `Tool`): the model fills in its
arguments, and what it returns is the output. Here it is described and its arguments read;
the loop calls it (it may raise `ModelRetry`).
"""

from __future__ import annotations

import inspect
import json
import re
from typing import Any, Generic, Literal, TypeVar

import pydantic_core
from pydantic import BaseModel, TypeAdapter, ValidationError, create_model

from ._schema import Target, clean_schema, to_grok, to_openai, to_strict
from ._validation import error_details, format_errors
from .errors import UserError
from .profiles import ModelProfile
from .tool import Tool

__all__ = [
    "FINAL_RESULT_TOOL",
    "OutputInvalid",
    "OutputMode",
    "OutputSpec",
    "ResolvedMode",
    "next_mode",
    "resolve_mode",
]

OutputT = TypeVar("OutputT")

OutputMode = Literal["auto", "native", "tool", "prompted"]
"""How structured output is asked for; `auto` picks from the model's profile."""

ResolvedMode = Literal["text", "native", "tool", "prompted"]
"""The mode a run uses: `text` for `str` output, else one of the three."""

FINAL_RESULT_TOOL = "final_result"
"""The name of the final-answer tool in `tool` mode."""

_FENCE = re.compile(r"```[a-zA-Z0-9_-]*[ \t]*\n(.*?)(?:\n[ \t]*```|\Z)", re.DOTALL)
_NAME_CHARS = re.compile(r"[^a-zA-Z0-9_-]")


class OutputInvalid(Exception):
    """An answer that did not validate; `feedback` is what the model is told.

    Attributes:
        feedback: The message for the model, listing what to fix.
        errors: The errors as data (`{"loc", "msg", "input"}`).
        raw_text: The answer as the model gave it.
    """

    def __init__(self, feedback: str, *, errors: list[dict[str, Any]], raw_text: str) -> None:
        super().__init__(feedback)
        self.feedback = feedback
        self.errors = errors
        self.raw_text = raw_text


def resolve_mode(
    requested: OutputMode, *, is_text: bool, profile: ModelProfile, has_tools: bool
) -> ResolvedMode:
    """The mode to start with for a model.

    `auto` takes `native` where the profile says `json_schema` works (and works beside tools,
    when the agent has tools), else `tool`, which every tool-calling model supports.
    """
    if is_text:
        return "text"
    if requested != "auto":
        return requested
    if profile.json_schema and (not has_tools or profile.structured_output_with_tools):
        return "native"
    return "tool"


def next_mode(mode: ResolvedMode) -> ResolvedMode | None:
    """The mode to fall back to when the server rejects `mode`: native -> tool -> prompted."""
    if mode == "native":
        return "tool"
    if mode == "tool":
        return "prompted"
    return None


class OutputSpec(Generic[OutputT]):
    """An output type, ready to be asked for and validated. Build one per agent and reuse it.

    Args:
        output_type: `str`, any type pydantic can validate and describe, or a function
            (or `Tool`) whose arguments the model fills in.
        tool_name: The name of the final-answer tool in `tool` mode (an output function's
            own name, when the output type is one).

    Attributes:
        function: The output function as a `Tool`, or None for a type.

    Raises:
        UserError: pydantic cannot build a schema for the type.
        ToolDefinitionError: The output function cannot be described.
    """

    def __init__(self, output_type: Any, *, tool_name: str = FINAL_RESULT_TOOL) -> None:
        self.output_type = output_type
        self.tool_name = tool_name
        self.is_text = output_type is str
        self.function: Tool | None = None
        self._description = (
            "Give your final answer. Call this once, when you have it: the arguments are the answer."
        )
        self._targets: dict[str, dict[str, Any]] = {}
        if self.is_text:
            self.name = "text"
            self.schema: dict[str, Any] = {"type": "string"}
            self.wrapped = False
            return
        if isinstance(output_type, Tool) or inspect.isroutine(output_type):
            function = output_type if isinstance(output_type, Tool) else Tool(output_type)
            self.function = function
            self.name = self.tool_name = function.name
            if function.description:
                self._description = f"{function.description}\n\nCall this once, as your final answer."
            self.schema = function.parameters
            self.wrapped = False
            return
        raw_name = getattr(output_type, "__name__", "") if isinstance(output_type, type) else ""
        self.name = _NAME_CHARS.sub("_", raw_name)[:64] or "output"
        try:
            self._adapter: TypeAdapter[Any] = TypeAdapter(output_type)
            inner = self._adapter.json_schema()
        except Exception as exc:  # PydanticSchemaGenerationError, PydanticUserError, TypeError
            raise UserError(
                f"output_type={output_type!r} has no JSON Schema ({exc}); use str, a pydantic "
                "model, a dataclass, a TypedDict, list[...] or a union of models"
            ) from exc
        self.wrapped = inner.get("type") != "object"
        self._wrapper: type[BaseModel] | None = None
        if self.wrapped:
            self._wrapper = create_model(self.name, result=(output_type, ...))
            self.schema = clean_schema(self._wrapper.model_json_schema())
        else:
            self.schema = clean_schema(inner)

    # -- asking for it ----------------------------------------------------------------------

    def json_schema(self, target: Target) -> dict[str, Any]:
        """The schema in `target`'s dialect (cached; treat as read-only).

        Raises:
            UserError: The target cannot express the schema.
        """
        schema = self._targets.get(target)
        if schema is None:
            try:
                if target == "grok":
                    schema = to_grok(self.schema)
                elif target == "strict":
                    schema = to_strict(self.schema)
                else:
                    schema = to_openai(self.schema)
            except ValueError as exc:
                raise UserError(f"output_type {self.name!r} cannot be sent as {target}: {exc}") from exc
            self._targets[target] = schema
        return schema

    def response_format(self, target: Target, *, strict: bool = True) -> dict[str, Any]:
        """`response_format` for native mode: a `json_schema` named after the type.

        For the standard dialect, strict mode is used when the schema allows it.
        """
        if target == "openai" and strict:
            try:
                schema = self.json_schema("strict")
            except UserError:
                schema, strict = self.json_schema("openai"), False
        else:
            schema = self.json_schema(target)
        return {
            "type": "json_schema",
            "json_schema": {"name": self.name, "schema": schema, "strict": strict},
        }

    def tool_definition(self, target: Target) -> dict[str, Any]:
        """The final-answer tool for tool mode."""
        return {
            "type": "function",
            "function": {
                "name": self.tool_name,
                "description": self._description,
                "parameters": self.json_schema("openai" if target == "strict" else target),
            },
        }

    def prompt(self) -> str:
        """The instructions that ask for JSON in prompted mode."""
        schema = json.dumps(self.json_schema("openai"), separators=(",", ":"))
        return (
            "Answer with one JSON value that matches this JSON Schema, and nothing else "
            f"(no prose before or after it):\n{schema}"
        )

    # -- reading it -------------------------------------------------------------------------

    def parse(self, text: str, *, from_tool: bool = False) -> OutputT:
        """Validate an answer: the JSON text (native, prompted) or tool arguments (tool mode).

        Raises:
            OutputInvalid: Not JSON, or not valid; `feedback` tells the model what to fix.
        """
        candidate = text if from_tool else _extract_json(text)
        if self.function is not None:
            return self._function_arguments(candidate, text, from_tool=from_tool)  # type: ignore[return-value]
        try:
            return self._validate_json(candidate)
        except ValidationError as exc:
            if self.wrapped:
                # Models sometimes send the bare value instead of {"result": ...}: accept it.
                try:
                    value: OutputT = self._adapter.validate_json(candidate)
                    return value
                except ValidationError:
                    pass
            raise self._invalid(exc, text, from_tool=from_tool) from None

    def parse_partial(self, text: str, *, from_tool: bool = False) -> tuple[Any, OutputT | None]:
        """Read an unfinished answer as far as it goes.

        Returns:
            `(data, output)`: the JSON so far, parsed leniently (None if there is none yet),
            and that data validated with pydantic's partial validation, or None.
        """
        candidate = text if from_tool else _extract_json(text, partial=True)
        if not candidate:
            return None, None
        try:
            data = pydantic_core.from_json(candidate, allow_partial="trailing-strings")
        except ValueError:
            return None, None
        if self.function is not None:
            return data, None  # a function is called once, on the whole answer
        if self.wrapped:
            if not isinstance(data, dict) or "result" not in data:
                return data, None
            inner_data = data["result"]
        else:
            inner_data = data
        try:
            output: OutputT = self._adapter.validate_python(
                inner_data, experimental_allow_partial="trailing-strings"
            )
        except ValidationError:
            return data, None
        return data, output

    def _function_arguments(self, candidate: str, text: str, *, from_tool: bool) -> dict[str, Any]:
        """The JSON object of an output function's arguments (validated when it is called)."""
        try:
            data = pydantic_core.from_json(candidate or "{}")
        except ValueError:
            data = None
        if isinstance(data, dict):
            return data
        where = f"the arguments of {self.tool_name}" if from_tool else "your answer"
        feedback = (
            f"{where[0].upper()}{where[1:]} must be one JSON object with the fields of this "
            f"schema: {json.dumps(self.json_schema('openai'), separators=(',', ':'))}"
        )
        raise OutputInvalid(feedback, errors=[{"loc": "", "msg": "not a JSON object", "input": text}],
                            raw_text=text)

    def _validate_json(self, candidate: str) -> OutputT:
        if self._wrapper is not None:
            value: OutputT = getattr(self._wrapper.model_validate_json(candidate), "result")  # noqa: B009
            return value
        result: OutputT = self._adapter.validate_json(candidate)
        return result

    def _invalid(self, exc: ValidationError, text: str, *, from_tool: bool) -> OutputInvalid:
        errors = error_details(exc)
        if from_tool:
            head = f"Invalid arguments for {self.tool_name}"
            tail = f"Call {self.tool_name} again with arguments that match its schema."
        else:
            head = "Your answer does not match the required JSON Schema"
            tail = "Answer again with only the corrected JSON."
        if exc.errors(include_url=False)[0]["type"] == "json_invalid":
            head = f"{head}: it is not valid JSON"
        feedback = f"{head}:\n{format_errors(exc, root='answer')}\n{tail}"
        return OutputInvalid(feedback, errors=errors, raw_text=text)


def _extract_json(text: str, *, partial: bool = False) -> str:
    """The JSON inside an answer: the text itself, a fenced block, or the span from the first
    bracket (to the last, unless `partial`)."""
    stripped = text.strip()
    if not stripped or stripped[0] in "{[":
        return stripped
    fence = _FENCE.search(stripped)
    if fence:
        return fence.group(1).strip()
    if stripped.startswith("```"):  # a fence whose first line has not arrived yet
        return ""
    starts = [i for i in (stripped.find("{"), stripped.find("[")) if i >= 0]
    if not starts:
        return stripped
    start = min(starts)
    if partial:
        return stripped[start:]
    end = max(stripped.rfind("}"), stripped.rfind("]"))
    return stripped[start : end + 1] if end > start else stripped[start:]
