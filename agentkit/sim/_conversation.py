"""One chat-completion request, read: the question, the tools, the results, the feedback.

Pure and stdlib only. The policy decides what to say; this module only reads the request body
(as a client sent it, possibly malformed) into what the decision needs, each part computed on
first use.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ._evidence import Evidence
from ._feedback import parse_field_errors, reports_failure
from ._followup import is_followup, standalone
from ._kinds import shaped_kind
from ._words import content_words, related_to_any

__all__ = ["Conversation", "Result", "Tool", "ToolWords", "loads", "text_of"]

_FINAL_WORDS = frozenset({"answer", "result", "output", "response"})
_FINAL_VERBS = frozenset({"submit", "return", "give", "provide", "send", "emit", "produce"})
_FINAL_NAMES = frozenset({"answer", "respond", "output", "final", "result", "finish", "done"})
_NAME_PARTS = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
_KEY_VALUE_LINE = re.compile(r"^\s*[-*•]?\s*([A-Za-z][\w .-]{0,40}?)\s*[:=]\s*(.+?)\s*$")
_PROMPT_SCHEMA_HINT = re.compile(r"(?i)json|schema")


@dataclass(frozen=True)
class ToolWords:
    """A tool as words: stems of its name, description and parameters, and parameter kinds.

    Attributes:
        name: Stems of the name's words ("get_weather" -> weather).
        description: Stems of the description's words, minus the parameters' words.
        parameters: Stems of parameter names, descriptions and enum values.
        kinds: What each parameter holds ("url", "date", "entity"...), one per parameter.
    """

    name: frozenset[str]
    description: frozenset[str]
    parameters: frozenset[str]
    kinds: tuple[str, ...]


@dataclass(frozen=True)
class Tool:
    """One offered function: name, description, JSON schema, and its place in the list."""

    name: str
    description: str
    parameters: Mapping[str, Any]
    index: int

    @functools.cached_property
    def schema_key(self) -> str:
        """The parameters' schema as canonical JSON: a cache key, as agents resend tools."""
        try:
            return json.dumps(self.parameters, sort_keys=True, default=str)
        except (TypeError, ValueError):
            return "{}"

    @functools.cached_property
    def words(self) -> ToolWords:
        """The tool as words, for scoring it against a message."""
        return _tool_words(self.name, self.description, self.schema_key)

    @functools.cached_property
    def is_final(self) -> bool:
        """Whether the name says the tool delivers the answer (`final_result`, `submit_answer`)."""
        parts = [p.lower() for p in _NAME_PARTS.findall(self.name)]
        if "final" in parts or (len(parts) == 1 and parts[0] in _FINAL_NAMES):
            return True
        return bool(parts) and parts[0] in _FINAL_VERBS and bool(set(parts[1:]) & _FINAL_WORDS)


@functools.lru_cache(maxsize=2048)
def _tool_words(name: str, description: str, parameters_json: str) -> ToolWords:
    """The words of a tool, cached: agents send the same tool definitions on every turn."""
    parameters = json.loads(parameters_json)
    texts: list[str] = []
    kinds: list[str] = []
    properties = parameters.get("properties") if isinstance(parameters, Mapping) else None
    if isinstance(properties, Mapping):
        for key, schema in properties.items():
            texts.append(str(key))
            if isinstance(schema, Mapping):
                kinds.append(shaped_kind(str(key), schema))
                texts.append(str(schema.get("description", "")))
                enum = schema.get("enum")
                if isinstance(enum, list):
                    texts.extend(str(v) for v in enum)
    names = frozenset(content_words(name))
    params = frozenset(content_words(" ".join(texts)))
    # "Get the weather for a city": "weather" is what the tool is for, "city" what it takes;
    # a message that only says "city" is not asking for it.
    purpose = frozenset(content_words(description)) - params
    return ToolWords(names, purpose, params, tuple(kinds))


@dataclass(frozen=True)
class Result:
    """A tool result, with the call it answers."""

    call_id: str
    name: str
    arguments: Any
    content: str

    @functools.cached_property
    def data(self) -> Any:
        """The content as data: JSON, `key: value` lines as a dict, or the text."""
        return _parse_result(self.content)

    @functools.cached_property
    def failed(self) -> bool:
        """Whether the content reports an error rather than a result."""
        return reports_failure(self.content, self.data)


def _parse_result(content: str) -> Any:
    """A result as data: JSON, or `key: value` lines as a dict, or else the text itself."""
    text = content.strip()
    if text[:1] in '{["' or text in ("true", "false", "null") or _looks_numeric(text):
        try:
            return json.loads(text)
        except ValueError:
            pass
    lines = [line for line in text.splitlines() if line.strip()]
    if lines and len(lines) <= 60:
        pairs = [_KEY_VALUE_LINE.match(line) for line in lines]
        if all(pairs):
            return {m.group(1).strip(): _scalar(m.group(2)) for m in pairs if m is not None}
    return text


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _scalar(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, Sequence):
        parts = []
        for part in content:
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, Mapping) and isinstance(part.get("text"), str):
                parts.append(part["text"])
        return "\n".join(parts)
    return "" if content is None else str(content)


def _images_of(content: Any) -> list[str]:
    urls: list[str] = []
    if isinstance(content, Sequence) and not isinstance(content, str):
        for part in content:
            if not isinstance(part, Mapping) or part.get("type") not in (
                "image_url",
                "input_image",
            ):
                continue
            image = part.get("image_url")
            url = image.get("url") if isinstance(image, Mapping) else image
            if isinstance(url, str):
                urls.append(url)
    return urls


class Conversation:
    """One request body, read once: the question, the tools, the results, the feedback."""

    def __init__(self, body: Mapping[str, Any]) -> None:
        self.body = body
        self.model = str(body.get("model") or "")
        raw = body.get("messages")
        self.messages: list[Mapping[str, Any]] = (
            [m for m in raw if isinstance(m, Mapping)] if isinstance(raw, Sequence) else []
        )
        self.tools = _parse_tools(body.get("tools"))
        choice = body.get("tool_choice")
        self.tool_choice: Any = choice if choice is not None else "auto"
        self.parallel = body.get("parallel_tool_calls") is not False
        response_format = body.get("response_format")
        self.response_format: Mapping[str, Any] = (
            response_format if isinstance(response_format, Mapping) else {}
        )

    def memo(self, key: str, compute: Callable[[], Any]) -> Any:
        """`compute()`, once per request: for what the policy works out from the whole of it."""
        cache = self.__dict__.setdefault("_memo", {})
        if key not in cache:
            cache[key] = compute()
        return cache[key]

    # ---- the question ------------------------------------------------------------------------

    @functools.cached_property
    def question_index(self) -> int:
        """The latest user message that asks something (feedback on an answer does not)."""
        for index in range(len(self.messages) - 1, -1, -1):
            message = self.messages[index]
            if message.get("role") != "user":
                continue
            if self._after_assistant(index) and parse_field_errors(text_of(message.get("content"))):
                continue
            return index
        return -1

    def _after_assistant(self, index: int) -> bool:
        return any(m.get("role") == "assistant" for m in self.messages[:index])

    @functools.cached_property
    def question(self) -> str:
        """The text of the question (text parts joined), "" when there is none."""
        if self.question_index < 0:
            return ""
        return text_of(self.messages[self.question_index].get("content")).strip()

    @functools.cached_property
    def instructions(self) -> str:
        """The system and developer messages' text, joined."""
        return "\n".join(
            text_of(m.get("content"))
            for m in self.messages
            if m.get("role") in ("system", "developer")
        )

    @functools.cached_property
    def earlier_questions(self) -> list[str]:
        """The user's earlier questions, oldest first (feedback on answers left out)."""
        found = []
        for index in range(max(self.question_index, 0)):
            message = self.messages[index]
            if message.get("role") != "user":
                continue
            text = text_of(message.get("content")).strip()
            if text and not (self._after_assistant(index) and parse_field_errors(text)):
                found.append(text)
        return found

    @functools.cached_property
    def images(self) -> list[str]:
        """The image URLs attached to the question."""
        if self.question_index < 0:
            return []
        return _images_of(self.messages[self.question_index].get("content"))

    @functools.cached_property
    def standalone_question(self) -> str:
        """The question written out in full when it is a follow-up that leans on an earlier
        one ("And in Tokyo?" after "Will it rain in Paris tomorrow?"); else the question.

        Only with tools offered: a follow-up there asks for the same lookup about something
        else, while a message to a tool-less agent (a second contact to extract) stands alone.
        A follow-up that names what the tools do ("what about the weather in Tokyo?") is
        already whole.
        """
        question = self.question
        if not self.tools or not is_followup(question) or not self.earlier_questions:
            return question
        purposes = frozenset().union(*(t.words.name | t.words.description for t in self.tools))
        if any(related_to_any(w, purposes) for w in content_words(question)):
            return question
        return standalone(question, self.earlier_questions)

    @functools.cached_property
    def evidence(self) -> Evidence:
        """The question, read (a follow-up as the whole question it means)."""
        return Evidence(self.standalone_question)

    @property
    def handed_over(self) -> bool:
        """Whether the trailing tool results answer only calls of tools not offered now: the
        mark of a handoff, after which the new agent starts on the question afresh."""
        messages = self.messages
        index = len(messages) - 1
        while index >= 0 and messages[index].get("role") == "tool":
            index -= 1
        if index < 0:
            return False
        called = {
            (call.get("function") or {}).get("name")
            for call in messages[index].get("tool_calls") or ()
            if isinstance(call, Mapping)
        }
        offered = {tool.name for tool in self.tools}
        return bool(offered) and bool(called) and not called & offered

    @property
    def last_role(self) -> str:
        """The role of the last message ("" for none)."""
        return str(self.messages[-1].get("role", "")) if self.messages else ""

    # ---- tool results ------------------------------------------------------------------------

    @functools.cached_property
    def calls(self) -> list[tuple[str, str, Any]]:
        """Every tool call made since the question: `(id, name, parsed arguments)`, in order."""
        return _calls_in(self.messages[self.question_index + 1 :])

    @functools.cached_property
    def results(self) -> list[Result]:
        """Every tool result since the question, in order, each with its call."""
        return _results_in(self.messages[self.question_index + 1 :])

    @functools.cached_property
    def earlier_results(self) -> list[Result]:
        """The tool results of the turns before the question (what the model already knows)."""
        if self.question_index <= 0:
            return []
        return _results_in(self.messages[: self.question_index])

    @functools.cached_property
    def pending(self) -> list[Result]:
        """The results that end the conversation (the answers to the latest calls)."""
        count = 0
        for message in reversed(self.messages):
            if message.get("role") != "tool":
                break
            count += 1
        return self.results[len(self.results) - count :] if count else []

    @functools.cached_property
    def previous_answer(self) -> Mapping[str, Any] | None:
        """The latest assistant message."""
        found: Mapping[str, Any] | None = None
        for message in reversed(self.messages):
            if message.get("role") == "assistant":
                found = message
                break
        return found

    # ---- tools -------------------------------------------------------------------------------

    @property
    def tools_allowed(self) -> bool:
        """Whether tools are offered and `tool_choice` lets the model call them."""
        return bool(self.tools) and self.tool_choice != "none"

    @functools.cached_property
    def forced(self) -> str | None:
        """The function `tool_choice` forces, if any."""
        choice = self.tool_choice
        if isinstance(choice, Mapping):
            function = choice.get("function")
            name = function.get("name") if isinstance(function, Mapping) else choice.get("name")
            return str(name) if name else None
        return None

    def tool(self, name: str) -> Tool | None:
        """The offered tool called `name`."""
        return next((t for t in self.tools if t.name == name), None)

    @functools.cached_property
    def final_tool(self) -> Tool | None:
        """The tool that delivers the answer: a forced function, or one named like `final_result`."""
        if not self.tools_allowed:
            return None
        if self.forced is not None:
            return self.tool(self.forced) or Tool(self.forced, "", {}, len(self.tools))
        return next((t for t in self.tools if t.is_final), None)

    # ---- output schemas ----------------------------------------------------------------------

    @functools.cached_property
    def json_schema(self) -> Mapping[str, Any] | None:
        """The schema of a `json_schema` response format."""
        if self.response_format.get("type") != "json_schema":
            return None
        spec = self.response_format.get("json_schema")
        schema = spec.get("schema") if isinstance(spec, Mapping) else None
        return schema if isinstance(schema, Mapping) else {"type": "object"}

    @functools.cached_property
    def prompted_schema(self) -> Mapping[str, Any] | None:
        """A JSON Schema written into the instructions (prompted structured output)."""
        texts = [
            text_of(m.get("content"))
            for m in self.messages
            if m.get("role") in ("system", "developer")
        ]
        texts.append(self.question)
        for text in texts:
            if "{" in text and _PROMPT_SCHEMA_HINT.search(text):
                schema = _find_schema(text)
                if schema is not None:
                    return schema
        return None

    @property
    def wants_json_object(self) -> bool:
        """Whether the response format is `json_object`."""
        return self.response_format.get("type") == "json_object"


def _parse_tools(raw: Any) -> list[Tool]:
    tools: list[Tool] = []
    if not isinstance(raw, Sequence):
        return tools
    for entry in raw:
        if not isinstance(entry, Mapping):
            continue
        nested = entry.get("function")
        # Chat tools nest the function; Responses-style tools are flat.
        function: Mapping[str, Any] = nested if isinstance(nested, Mapping) else entry
        name = function.get("name")
        if not isinstance(name, str) or not name:
            continue
        parameters = function.get("parameters")
        tools.append(
            Tool(
                name,
                str(function.get("description") or ""),
                parameters if isinstance(parameters, Mapping) else {},
                len(tools),
            )
        )
    return tools


def _calls_in(messages: Sequence[Mapping[str, Any]]) -> list[tuple[str, str, Any]]:
    made: list[tuple[str, str, Any]] = []
    for message in messages:
        if message.get("role") != "assistant":
            continue
        for call in message.get("tool_calls") or ():
            if not isinstance(call, Mapping):
                continue
            function = call.get("function")
            if isinstance(function, Mapping):
                made.append(
                    (str(call.get("id")), str(function.get("name", "")),
                     loads(function.get("arguments")))
                )  # fmt: skip
    return made


def _results_in(messages: Sequence[Mapping[str, Any]]) -> list[Result]:
    # Looked up as the conversation goes: a client may reuse ids from one turn to the next.
    calls: dict[str, tuple[str, Any]] = {}
    made = iter(_calls_in(messages))
    results: list[Result] = []
    for message in messages:
        if message.get("role") == "assistant":
            for call in message.get("tool_calls") or ():
                if isinstance(call, Mapping) and isinstance(call.get("function"), Mapping):
                    call_id, name, arguments = next(made)
                    calls[call_id] = (name, arguments)
        elif message.get("role") == "tool":
            call_id = str(message.get("tool_call_id"))
            name, arguments = calls.get(call_id, (str(message.get("name") or "tool"), {}))
            results.append(Result(call_id, name, arguments, text_of(message.get("content"))))
    return results


def loads(arguments: Any) -> Any:
    if isinstance(arguments, str):
        try:
            return json.loads(arguments)
        except ValueError:
            return arguments
    return arguments


def _find_schema(text: str) -> Mapping[str, Any] | None:
    decoder = json.JSONDecoder()
    for count, match in enumerate(re.finditer(r"\{", text)):
        if count >= 40:
            break
        try:
            value, _ = decoder.raw_decode(text, match.start())
        except ValueError:
            continue
        if isinstance(value, Mapping) and (
            "properties" in value or value.get("type") == "object" or "$defs" in value
        ):
            return value
    return None
