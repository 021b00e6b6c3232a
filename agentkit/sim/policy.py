"""The simulated model: reads a chat-completion request and decides what the assistant says.

Pure: no I/O, no clock, no randomness, no global mutable state; the same request always gets
the same reply. Nothing is special-cased for particular prompts or tool names: every decision
comes from the words of the message, the offered tools and their JSON schemas.

How `SimulatedModel` decides, by the state of the conversation:

- The latest turn is the user's and tools are offered: score each tool by the words it shares
  with the message (its name counts most, then its description, then its parameters) and call
  the best one above a threshold, once per subject when the message lists several ("Paris and
  Tokyo"); other tools whose names the message uses are called beside it. `tool_choice` and
  `parallel_tool_calls` are obeyed. Arguments are filled from the message by their schema
  (`_fill.Filler`).
- The conversation ends with tool results: answer from them, as text, or as JSON for
  `response_format` or a final-answer tool (`final_result`, a forced function).
- The latest message reports validation errors (of tool arguments or of a structured
  answer): repeat the call or the answer with the named fields fixed.
- Otherwise: structured output from the message, a description of attached images (what
  `media.inspect_image` reads from their bytes), or a plain text reply.

Models whose names say they reason also get a short reasoning text.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ._conversation import Conversation, Result, Tool, ToolWords, loads, text_of
from ._evidence import (
    Evidence,
    FieldError,
    parse_field_errors,
    related_to_any,
    safe_eval,
)
from ._fill import Filler, parameter_kind
from ._repair import repair
from ._schemas import resolve, schema_type
from .media import decode_data_url, inspect_image
from .reply import Policy, SimReply, SimToolCall

__all__ = ["ScriptExhaustedError", "SimulatedModel", "is_reasoning_model", "scripted"]

_DEFAULT_THRESHOLD = 1.0
# Weights of a message word found in a tool's name, description, or parameters.
_NAME_WEIGHT = 3.0
_DESCRIPTION_WEIGHT = 1.0
_PARAMETER_WEIGHT = 0.5
# A message holding exactly the kind of value a parameter wants ("(3 + 4) * 12" for an
# `expression`, a URL for a `url`) is as strong a sign as the tool's name.
_SHAPE_WEIGHT = 3.0
# A name after "in", "for"... ("rain in Paris") and a parameter for places or people: a hint,
# not a reason ("the capital of France" is not a question for a weather tool).
_ENTITY_WEIGHT = 0.5
_PLACE_PREPOSITIONS = frozenset({"in", "at", "near", "from", "to", "for", "around", "into"})
_MAX_CALLS = 16
_MAX_TEXT = 1000

_FENCE = re.compile(r"```[\w-]*\s*\n(.*?)```", re.DOTALL)
_REASONING_ALWAYS = ("grok-4", "grok-4-0709", "grok-4-latest", "grok-4.20")
_REASONING_FAMILIES = ("grok-code", "grok-4.3", "grok-4.5", "grok-4.6")


class ScriptExhaustedError(LookupError):
    """A `scripted` policy was asked for more replies than it was given."""


def is_reasoning_model(model: str) -> bool:
    """Whether a model's name says it reasons (and so sends reasoning with its answers).

    "non-reasoning" never does; names with "reasoning" or "mini", `grok-4` (`-0709`,
    `-latest`), `grok-4.20`, and the `grok-code`, `grok-4.3`, `grok-4.5` and `grok-4.6`
    families do. A provider prefix (`x-ai/grok-4`) is ignored.
    """
    name = model.lower().rsplit("/", 1)[-1]
    if "non-reasoning" in name:
        return False
    if "reasoning" in name or "mini" in name or name in _REASONING_ALWAYS:
        return True
    return name.startswith(_REASONING_FAMILIES)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _shorten(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3].rstrip() + "..."


# --------------------------------------------------------------------------------------------
# The simulated model
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Decision:
    reply: SimReply
    why: str


class SimulatedModel:
    """A deterministic stand-in for Grok that really uses the request's tools and schemas.

    Satisfies `Policy`: call it with a chat-completion request body.

    Args:
        threshold: How strongly a message must match a tool before it is called (the
            default needs a word of the tool's name or of its description; a parameter
            word alone is not enough).
    """

    __slots__ = ("threshold",)

    def __init__(self, *, threshold: float = _DEFAULT_THRESHOLD) -> None:
        self.threshold = threshold

    def __repr__(self) -> str:
        return f"SimulatedModel(threshold={self.threshold})"

    def __call__(self, request: Mapping[str, Any]) -> SimReply:
        """Decide the assistant's reply to one chat-completion request.

        Args:
            request: The request body as a client sent it (parsed JSON).

        Returns:
            The reply: text, tool calls, and reasoning for reasoning models.
        """
        conversation = Conversation(request)
        decision = self._decide(conversation)
        reasoning = None
        if is_reasoning_model(conversation.model) and request.get("reasoning_effort") != "none":
            reasoning = decision.why
        return SimReply(
            content=decision.reply.content,
            reasoning=reasoning,
            tool_calls=decision.reply.tool_calls,
            finish_reason=decision.reply.finish_reason,
        )

    # ---- the decision ------------------------------------------------------------------------

    def _decide(self, conv: Conversation) -> _Decision:
        if conv.last_role == "tool":
            retry = self._retry_calls(conv, conv.pending)
            if retry is not None:
                return retry
            return self._after_results(conv)
        if conv.last_role == "user" and conv.question_index != len(conv.messages) - 1:
            retry = self._retry_answer(conv)
            if retry is not None:
                return retry
        return self._answer(conv)

    def _answer(self, conv: Conversation) -> _Decision:
        """The user has just asked: call a tool, or answer directly."""
        if conv.tools_allowed:
            if conv.forced is not None:
                tool = conv.tool(conv.forced) or Tool(conv.forced, "", {}, 0)
                return self._call([tool], conv, why=f"The request forces the tool `{tool.name}`.")
            ranked = self._rank(conv, [t for t in conv.tools if not t.is_final])
            if ranked and ranked[0][0] >= self.threshold:
                best = ranked[0][1]
                chosen = [best]
                if conv.parallel:
                    chosen += [
                        t for s, t in ranked[1:] if s >= self.threshold and self._named(conv, t)
                    ]
                return self._call(chosen, conv, why=self._why_tools(conv, chosen))
            final = conv.final_tool
            if final is not None:
                return self._final_call(conv, final, "No lookup tool fits the question")
            if conv.tool_choice == "required":
                ranked_all = self._rank(conv, conv.tools)
                tool = ranked_all[0][1] if ranked_all else conv.tools[0]
                why = f"A tool call is required; `{tool.name}` is the closest match, however weak."
                return self._call([tool], conv, why=why)
        return self._without_tools(conv, summary=None)

    def _after_results(self, conv: Conversation) -> _Decision:
        """Tool results are in: answer from them (or hand them to a final-answer tool)."""
        results = conv.results
        summary = _summarize(results, conv.question)
        final = conv.final_tool
        pending_final = bool(conv.pending) and all(
            final is not None and r.name == final.name for r in conv.pending
        )
        if final is not None and not pending_final:
            if conv.forced is None and conv.json_schema is not None:
                return self._structured(conv, conv.json_schema, summary, results)
            return self._final_call(conv, final, "The tool results answer the question")
        if conv.json_schema is not None or conv.wants_json_object or conv.prompted_schema:
            return self._without_tools(conv, summary=summary)
        if conv.tool_choice == "required" and conv.tools and not pending_final:
            ranked = self._rank(conv, conv.tools)
            tool = ranked[0][1] if ranked else conv.tools[0]
            return self._call([tool], conv, why="A tool call is required on every turn.")
        names = ", ".join(dict.fromkeys(f"`{r.name}`" for r in results))
        return _Decision(SimReply(content=summary), f"I answer from the results of {names}.")

    def _without_tools(self, conv: Conversation, *, summary: str | None) -> _Decision:
        """Answer in content: structured JSON, an image description, or text."""
        results = conv.results
        text = summary if summary is not None else _direct_answer(conv)[0]
        if conv.json_schema is not None:
            return self._structured(conv, conv.json_schema, text, results)
        if conv.wants_json_object or conv.prompted_schema is not None:
            schema = conv.prompted_schema
            if schema is not None:
                return self._structured(conv, schema, text, results)
            answer: dict[str, Any] = {"answer": text}
            if results:
                answer["sources"] = list(dict.fromkeys(r.name for r in results))
            return _Decision(SimReply(content=_dumps(answer)), "I answer with a JSON object.")
        if summary is not None:
            return _Decision(SimReply(content=summary), "I answer from the tool results.")
        if conv.images:
            return _describe_images(conv)
        content, why = _direct_answer(conv)
        return _Decision(SimReply(content=content), why)

    def _structured(
        self, conv: Conversation, schema: Mapping[str, Any], summary: str, results: list[Result]
    ) -> _Decision:
        sources = [(r.name, r.data) for r in results] or _image_sources(conv)
        filler = Filler(conv.evidence, schema, results=sources, summary=summary)
        value = filler.fill()
        origin = "the tool results and the question" if results else "the question"
        return _Decision(SimReply(content=_dumps(value)), f"I fill the JSON schema from {origin}.")

    # ---- tool calls --------------------------------------------------------------------------

    def _rank(self, conv: Conversation, tools: Sequence[Tool]) -> list[tuple[float, Tool]]:
        words = conv.evidence.content
        shapes = _shapes(conv.evidence)
        has_names = any(prep in _PLACE_PREPOSITIONS for _, prep, _ in conv.evidence.names)
        scored = [
            (
                _score(words, t.words)
                + _SHAPE_WEIGHT * _shape_matches(shapes, t.words.kinds)
                + (_ENTITY_WEIGHT if has_names and "entity" in t.words.kinds else 0.0),
                t,
            )
            for t in tools
        ]
        return sorted(scored, key=lambda pair: (-pair[0], pair[1].index))

    @staticmethod
    def _named(conv: Conversation, tool: Tool) -> bool:
        """Whether the message uses every word of the tool's name ("add and multiply")."""
        name = tool.words.name
        words = conv.evidence.content
        return bool(name) and all(related_to_any(n, words) for n in name)

    def _call(self, tools: Sequence[Tool], conv: Conversation, *, why: str) -> _Decision:
        calls: list[SimToolCall] = []
        for tool in tools:
            calls.extend(self._calls_for(tool, conv))
        if not conv.parallel:
            calls = calls[:1]
        return _Decision(SimReply(tool_calls=tuple(calls[:_MAX_CALLS])), why)

    def _calls_for(self, tool: Tool, conv: Conversation) -> list[SimToolCall]:
        ev = conv.evidence
        schema = tool.parameters or {"type": "object", "properties": {}}
        subject = _subject_parameter(tool)
        if conv.parallel and subject is not None:
            name, numeric = subject
            values: Sequence[Any] = ev.number_list if numeric else ev.subjects
            if len(values) >= 2:
                return [
                    SimToolCall(
                        tool.name, _dumps(_object(Filler(ev, schema, subject=(name, v)).fill()))
                    )
                    for v in values[:_MAX_CALLS]
                ]
        return [SimToolCall(tool.name, _dumps(_object(Filler(ev, schema).fill())))]

    def _final_call(self, conv: Conversation, final: Tool, reason: str) -> _Decision:
        results = conv.results
        summary = _summarize(results, conv.question) if results else _direct_answer(conv)[0]
        sources = [(r.name, r.data) for r in results] or _image_sources(conv)
        schema = final.parameters or {"type": "object", "properties": {}}
        value = _object(Filler(conv.evidence, schema, results=sources, summary=summary).fill())
        why = f"{reason}, so I give the answer through `{final.name}`."
        return _Decision(SimReply(tool_calls=(SimToolCall(final.name, _dumps(value)),)), why)

    def _why_tools(self, conv: Conversation, tools: Sequence[Tool]) -> str:
        parts = []
        for tool in tools:
            shared = sorted(
                w
                for w in conv.evidence.content
                if related_to_any(w, tool.words.name | tool.words.description)
            )
            parts.append(f"`{tool.name}` (matching: {', '.join(shared) or 'its parameters'})")
        question = _shorten(conv.question, 120)
        return f"The user asks: {question}. The best fitting tools: {'; '.join(parts)}."

    # ---- validation feedback -----------------------------------------------------------------

    def _retry_calls(self, conv: Conversation, results: Sequence[Result]) -> _Decision | None:
        """Tool results that are argument errors: call the same tools again, fixed."""
        if not conv.tools_allowed:
            return None
        calls: list[SimToolCall] = []
        fixed_fields: list[str] = []
        final = conv.final_tool
        for result in results:
            tool = conv.tool(result.name)
            if tool is None:
                continue
            errors = parse_field_errors(result.content)
            if not errors or not _about(errors, tool.parameters):
                continue
            # A final-answer tool is filled from the other tools' results; a lookup tool only
            # from the question, as on the first try.
            answers = final is not None and tool.name == final.name
            others = [r for r in conv.results if r.name != tool.name] if answers else []
            filler = Filler(
                conv.evidence,
                tool.parameters,
                results=[(r.name, r.data) for r in others],
                summary=_summarize(others, conv.question) if others else "",
            )
            previous = result.arguments if isinstance(result.arguments, Mapping) else None
            # With nothing to keep (the arguments were not a JSON object), repair rebuilds.
            fixed = repair(filler, dict(previous) if previous is not None else None, errors)
            calls.append(SimToolCall(tool.name, _dumps(_object(fixed))))
            fixed_fields += [_show_path(e.path) for e in errors]
        if not calls:
            return None
        fields = ", ".join(dict.fromkeys(fixed_fields))
        why = f"My previous arguments failed validation ({fields}); I call again with them fixed."
        return _Decision(SimReply(tool_calls=tuple(calls)), why)

    def _retry_answer(self, conv: Conversation) -> _Decision | None:
        """The user says the previous answer did not validate: answer again, fixed."""
        errors = parse_field_errors(text_of(conv.messages[-1].get("content")))
        previous = conv.previous_answer
        if not errors or previous is None:
            return None
        calls = previous.get("tool_calls")
        if calls and conv.tools_allowed:
            results = [
                Result(
                    str(c.get("id")),
                    str(c["function"].get("name")),
                    loads(c["function"].get("arguments")),
                    text_of(conv.messages[-1].get("content")),
                )
                for c in calls
                if isinstance(c, Mapping) and isinstance(c.get("function"), Mapping)
            ]
            return self._retry_calls(conv, results)
        schema = conv.json_schema or conv.prompted_schema
        if schema is None:
            return None
        summary = (
            _summarize(conv.results, conv.question) if conv.results else _direct_answer(conv)[0]
        )
        sources = [(r.name, r.data) for r in conv.results] or _image_sources(conv)
        filler = Filler(conv.evidence, schema, results=sources, summary=summary)
        before = _extract_json(text_of(previous.get("content")))
        value = repair(filler, before, errors)
        fields = ", ".join(dict.fromkeys(_show_path(e.path) for e in errors))
        why = f"My previous answer failed validation ({fields}); I answer again with those fields fixed."
        return _Decision(SimReply(content=_dumps(value)), why)


def _object(value: Any) -> Any:
    # Tool arguments must be a JSON object, whatever a schema without properties produced.
    return value if isinstance(value, Mapping) else {}


def _about(errors: Sequence[FieldError], parameters: Mapping[str, Any]) -> bool:
    """Whether errors talk about these parameters (so they are not just a tool's own output)."""
    properties = parameters.get("properties") if isinstance(parameters, Mapping) else None
    names = set(properties) if isinstance(properties, Mapping) else set()
    return all(not e.path or e.path[0] in names or "extra" in e.message.lower() for e in errors)


def _show_path(path: Sequence[str | int]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "the answer"


def _extract_json(text: str) -> Any:
    stripped = text.strip()
    fence = _FENCE.search(stripped)
    if fence:
        stripped = fence.group(1).strip()
    try:
        return json.loads(stripped)
    except ValueError:
        start = min((i for i in (stripped.find("{"), stripped.find("[")) if i >= 0), default=-1)
        if start >= 0:
            try:
                return json.JSONDecoder().raw_decode(stripped, start)[0]
            except ValueError:
                pass
    return None


def _score(words: frozenset[str], tool: ToolWords) -> float:
    total = 0.0
    for word in words:
        if word in tool.name:
            total += _NAME_WEIGHT
        elif word in tool.description:
            total += _DESCRIPTION_WEIGHT
        elif word in tool.parameters:
            total += _PARAMETER_WEIGHT
        elif related_to_any(word, tool.name):
            total += _NAME_WEIGHT / 2
        elif related_to_any(word, tool.description):
            total += _DESCRIPTION_WEIGHT / 2
    return total


def _shapes(ev: Evidence) -> dict[str, int]:
    """How many values of each shape the message holds: expressions, URLs, dates, paths..."""
    found = {
        "expression": min(1, len(ev.expressions)),
        "url": len(ev.urls),
        "email": len(ev.emails),
        "sql": len(ev.sql),
        "code": len(ev.code_blocks),
        "date": len(ev.dates),
    }
    if not ev.urls:
        found["path"] = len(ev.paths)
    return found


def _shape_matches(shapes: Mapping[str, int], kinds: Sequence[str]) -> int:
    """Values of the message that have a parameter of their shape waiting for them.

    Two dates and a tool with a start and an end date match twice; the same dates and a tool
    with one date parameter match once.
    """
    return sum(min(count, kinds.count(kind)) for kind, count in shapes.items() if count)


def _subject_parameter(tool: Tool) -> tuple[str, bool] | None:
    """The parameter that takes one subject per parallel call, and whether it is numeric.

    Only a tool with a single free-text parameter among its required ones qualifies (with
    two, "'Lunch' and 'See you'" are more likely one value each); None also when a required
    array takes the whole list in one call.
    """
    schema = tool.parameters
    properties = schema.get("properties") if isinstance(schema, Mapping) else None
    if not isinstance(properties, Mapping):
        return None
    required = [n for n in schema.get("required") or () if n in properties]
    resolved = {n: resolve(properties[n], schema)[0] for n in properties}
    if any(schema_type(resolved[n]) == "array" for n in required):
        return None
    free = [
        n
        for n in (required or list(properties))
        if schema_type(resolved[n]) == "string" and "enum" not in resolved[n]
    ]
    if len(free) == 1:
        node = resolved[free[0]]
        if "format" not in node and parameter_kind(free[0], node) in _SUBJECT_KINDS:
            return free[0], False
        return None
    numeric = [n for n in required if schema_type(resolved[n]) in ("integer", "number")]
    if not free and len(required) == 1 and numeric:
        return numeric[0], True
    return None


# Values one call takes one of; a URL, a path or an expression is not a list subject.
_SUBJECT_KINDS = frozenset({"entity", "query", "generic", "text"})


# --------------------------------------------------------------------------------------------
# Text
# --------------------------------------------------------------------------------------------


def _summarize(results: Sequence[Result], question: str) -> str:
    """A text answer built from tool results: one line per result."""
    if not results:
        return "There are no results to report."
    lines = [_describe_result(r) for r in results]
    if len(lines) == 1:
        return f"Based on {lines[0]}"
    head = (
        f"Here is what I found for: {_shorten(question, 80)}"
        if question
        else "Here is what I found:"
    )
    return head + "\n" + "\n".join(f"- {line}" for line in lines)


def _describe_result(result: Result) -> str:
    label = result.name
    if isinstance(result.arguments, Mapping) and result.arguments:
        shown = ", ".join(
            f"{k}: {_shorten(_describe(v), 40)}" for k, v in list(result.arguments.items())[:3]
        )
        label = f"{label} ({shown})"
    if result.failed:
        return f"{label} failed: {_shorten(result.content, _MAX_TEXT)}"
    return f"{label}: {_shorten(_describe(result.data), _MAX_TEXT)}"


def _describe(value: Any, depth: int = 0) -> str:
    if isinstance(value, Mapping):
        items = list(value.items())
        text = "; ".join(f"{k}: {_describe(v, depth + 1)}" for k, v in items[:20])
        return f"({text})" if depth else text
    if isinstance(value, list):
        shown = ", ".join(_describe(v, depth + 1) for v in value[:10])
        more = f" and {len(value) - 10} more" if len(value) > 10 else ""
        return f"[{shown}{more}]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "none"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _direct_answer(conv: Conversation) -> tuple[str, str]:
    """A plain reply to a message no tool serves: arithmetic done, or the question echoed."""
    ev = conv.evidence
    question = conv.question
    if not question:
        return (
            "Hello! I am a simulated Grok model running offline. Ask me something.",
            "There is no question, so I greet the user.",
        )
    for expression in ev.expressions:
        value = safe_eval(expression)
        if value is not None:
            shown = _describe(round(value, 10) if isinstance(value, float) else value)
            return f"{expression} = {shown}", f"The question is arithmetic: {expression} = {shown}."
    keywords = ev.keywords[:6]
    asked = _shorten(question, 300)
    if keywords:
        body = (
            "Simulated answer: this offline model has nothing to look this up with, so it can "
            f"only note the key terms: {', '.join(keywords)}."
        )
    else:
        body = "Simulated answer: there is nothing to look up."
    return f"You asked: {asked}\n{body}", "No tool is needed or offered; I answer directly."


def _image_infos(conv: Conversation) -> list[tuple[str, dict[str, Any] | None, str | None]]:
    infos: list[tuple[str, dict[str, Any] | None, str | None]] = []
    for url in conv.images:
        if not url.startswith("data:"):
            infos.append(
                (url, None, "is a remote URL; the offline simulator reads only data: URLs")
            )
            continue
        try:
            _, data = decode_data_url(url)
        except ValueError as exc:
            infos.append((url, None, f"could not be decoded: {exc}"))
            continue
        infos.append((url, inspect_image(data), None))
    return infos


def _image_sources(conv: Conversation) -> list[tuple[str, Any]]:
    return [("image", info) for _, info, _ in _image_infos(conv) if info is not None]


def _describe_images(conv: Conversation) -> _Decision:
    lines = []
    for number, (url, info, problem) in enumerate(_image_infos(conv), start=1):
        if info is None:
            lines.append(f"Image {number} ({_shorten(url, 60)}) {problem}.")
        else:
            lines.append(f"Image {number}: {_describe_image(info)}")
    head = f"You asked: {_shorten(conv.question, 200)}\n" if conv.question else ""
    why = "I read the attached images' headers and pixels and describe what they contain."
    return _Decision(SimReply(content=head + "\n".join(lines)), why)


def _describe_image(info: Mapping[str, Any]) -> str:
    kind = str(info.get("format", "unknown")).upper()
    if info.get("format") == "unknown":
        return f"not an image I can read ({info.get('size_bytes', 0)} bytes of unknown format)."
    size = (
        f"{info['width']}x{info['height']} pixels, "
        if info.get("width") is not None and info.get("height") is not None
        else ""
    )
    text = f"a {kind} image, {size}{info.get('size_bytes', 0)} bytes"
    if info.get("color_name"):
        text += f"; the dominant colour is {info['color_name']} ({info.get('dominant_color')})"
    elif info.get("error"):
        text += f"; {info['error']}"
    elif kind != "PNG":
        text += "; colours are only analysed for PNG images"
    return text + "."


# --------------------------------------------------------------------------------------------
# Scripted replies
# --------------------------------------------------------------------------------------------


def _as_reply(value: SimReply | str) -> SimReply:
    if isinstance(value, SimReply):
        return value
    if isinstance(value, str):
        return SimReply(content=value)
    raise TypeError(f"a scripted reply must be a SimReply or a str, got {type(value).__name__}")


def scripted(
    replies: Sequence[SimReply | str] | Callable[[Mapping[str, Any]], SimReply | str],
) -> Policy:
    """A policy that answers with your replies instead of the simulated model's.

    Args:
        replies: Replies to give in order, one per request (a string is a text reply); or a
            function from the request body to a reply.

    Returns:
        The policy. A list policy is safe to share between threads; it raises
        `ScriptExhaustedError` when asked for more replies than it holds.

    Raises:
        TypeError: If `replies` is a single string or holds something else than replies.
    """
    if isinstance(replies, str):
        raise TypeError("scripted() takes a list of replies; wrap one reply as scripted([reply])")
    if callable(replies):
        function = replies

        def from_function(request: Mapping[str, Any]) -> SimReply:
            return _as_reply(function(request))

        return from_function
    script = tuple(_as_reply(r) for r in replies)
    lock = threading.Lock()
    position = [0]

    def from_script(request: Mapping[str, Any]) -> SimReply:
        with lock:
            index = position[0]
            position[0] += 1
        if index >= len(script):
            raise ScriptExhaustedError(
                f"the scripted policy holds {len(script)} replies and request {index + 1} "
                "asked for another; add replies to the list, or pass a function instead"
            )
        return script[index]

    return from_script
