"""The simulated model: reads a chat-completion request and decides what the assistant says.

Pure: no I/O, no clock, no randomness, no global mutable state; the same request always gets
the same reply. Nothing is special-cased for particular prompts or tool names: every decision
comes from the words of the message, the offered tools and their JSON schemas.

How `SimulatedModel` decides, by the state of the conversation:

- A follow-up that leans on the question before ("And in Tokyo?") is read as the whole
  question it means (`_followup`).
- The latest turn is the user's and tools are offered: score each tool against the message
  (`_choice`) and call the best one above a threshold, once per subject when the message names
  several of one kind ("Paris and Tokyo", two expressions, two URLs: `_plan`); other tools
  whose names the message uses, or that a clause of their own asks for ("..., and what is
  6 * 7?"), are called beside it, filled from that clause. `tool_choice` and
  `parallel_tool_calls` are obeyed. Arguments are filled from the message by their schema
  (`_fill.Filler`).
- A question about data, with a tool that runs SQL and no SQL in the question: list the
  tables, describe them, write the query, a step a turn (`_database`, `_sql`).
- The conversation ends with tool results:
  - results that report invalid arguments: call again with the named fields fixed;
  - a tool's error that offers a value related to the one that failed ("unknown time zone
    'Tokyo'... did you mean Asia/Tokyo?"): call again with it (`_recovery`), at most twice;
  - subjects of the question that no call has asked about yet (one call per turn, or
    "... then ..."): call for them;
  - otherwise answer from the results in short sentences (`_answers`, `_prose`), or as
    JSON for `response_format` or a final-answer tool (`final_result`, a forced function).
- The latest message reports validation errors of a structured answer: answer again with
  the named fields fixed.
- Otherwise: structured output from the message, a description of attached images (what
  `media.inspect_image` reads from their bytes), or a plain text reply.

Models whose names say they reason also get a short reasoning text.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

from ..errors import ConfigurationError, UserError
from ._answers import (
    describe_images,
    direct_answer,
    image_sources,
    shorten,
    summarize,
)
from ._choice import by_clause, rank, uses_name
from ._conversation import Conversation, Result, Tool, loads, text_of
from ._database import Database, next_step
from ._database import answer as database_answer
from ._database import route as database_route
from ._evidence import Evidence
from ._feedback import about_parameters, extract_json, parse_field_errors, show_path
from ._fill import Filler
from ._plan import MAX_CALLS, Planned, calls_for, dumps, unanswered
from ._recovery import MAX_RETRIES, retries_so_far, suggest, superseded, tried_values
from ._repair import repair
from ._sources import pick_record
from ._words import related_to_any
from .reply import Policy, SimReply, SimToolCall

if TYPE_CHECKING:
    from ..testing import ScriptedCall, ScriptedReply

__all__ = [
    "ScriptExhaustedError",
    "ScriptItem",
    "SimulatedModel",
    "is_reasoning_model",
    "scripted",
]

_DEFAULT_THRESHOLD = 1.0

_REASONING_ALWAYS = ("grok-4", "grok-4-0709", "grok-4-latest", "grok-4.20")
_REASONING_FAMILIES = ("grok-code", "grok-4.3", "grok-4.5", "grok-4.6")


class ScriptExhaustedError(UserError, LookupError):
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
            default needs a word of the tool's name or of its description, or a topic word
            of the tool's domain together with values for its required parameters; a
            parameter word alone is not enough).
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
        if conv.last_role == "tool" and not conv.handed_over:  # a handoff starts afresh
            return (
                self._retry_failed(conv)
                or self._database_step(conv)
                or self._follow_through(conv)
                or self._after_results(conv)
            )
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
                why = f"The request forces the tool `{tool.name}`."
                return self._issue(calls_for(tool, conv.evidence), conv, why=why)
            explore = self._database_step(conv)
            if explore is not None:
                return explore
            planned, chosen = self._plan(conv)
            db = self._database(conv)
            if db is not None:
                # The question is for the database, and what it holds cannot answer it.
                return self._without_tools(conv, summary=database_answer(conv, db))
            if planned:
                return self._issue(planned, conv, why=self._why_tools(conv, chosen))
            final = conv.final_tool
            if final is not None:
                return self._final_call(conv, final, "No lookup tool fits the question")
            if conv.tool_choice == "required":
                ranked_all = rank(conv.evidence, conv.tools)
                tool = ranked_all[0][1] if ranked_all else conv.tools[0]
                why = f"A tool call is required; `{tool.name}` is the closest match, however weak."
                return self._issue(calls_for(tool, conv.evidence), conv, why=why)
        return self._without_tools(conv, summary=None)

    def _plan(self, conv: Conversation) -> tuple[list[Planned], list[Tool]]:
        """The lookups the question asks for, one per subject, and the tools they call."""
        chosen = self._chosen(conv)
        return [p for tool in chosen for p in calls_for(tool, self._read(conv, tool))], chosen

    def _read(self, conv: Conversation, tool: Tool) -> Evidence:
        """What a tool's arguments come from: its own clause when the message asks several
        tools for different things, else the whole question."""
        return self._clauses(conv).get(tool.name, conv.evidence)

    def _clauses(self, conv: Conversation) -> dict[str, Evidence]:
        lookups = [t for t in conv.tools if not t.is_final]
        return conv.memo(  # type: ignore[no-any-return]
            "clauses", lambda: by_clause(conv.evidence, lookups, conv.instructions, self.threshold)
        )

    def _chosen(self, conv: Conversation) -> list[Tool]:
        """The tools the question asks for: the best one above the threshold, and beside it
        every other one above it whose name the message uses ("add and multiply").

        Chosen whether or not the request allows parallel calls: the plan is also what
        follow-through works down, a call a turn. Worked out once per request.
        """
        return conv.memo("chosen", lambda: self._choose(conv))  # type: ignore[no-any-return]

    def _choose(self, conv: Conversation) -> list[Tool]:
        ev = conv.evidence
        ranked = rank(ev, [t for t in conv.tools if not t.is_final], conv.instructions)
        if not ranked or ranked[0][0] < self.threshold:
            return []
        chosen = [ranked[0][1]]
        chosen += [t for s, t in ranked[1:] if s >= self.threshold and uses_name(ev, t)]
        named = {t.name for t in chosen}
        return chosen + [t for _, t in ranked if t.name in self._clauses(conv) and t.name not in named]

    def _database(self, conv: Conversation) -> Database | None:
        """The database tools, when the question is one to answer by querying them."""
        return conv.memo("database", lambda: database_route(conv, self._chosen(conv)))  # type: ignore[no-any-return]

    def _database_step(self, conv: Conversation) -> _Decision | None:
        """The next look at the database (its tables, their columns, then the query)."""
        db = self._database(conv)
        step = next_step(conv, db) if db is not None else None
        if step is None:
            return None
        return self._issue([Planned(c, None, None) for c in step.calls], conv, why=step.why)

    def _summary(self, conv: Conversation, results: list[Result]) -> str:
        """The answer in words: from the database's rows, else from the results as they are."""
        db = self._database(conv)
        found = database_answer(conv, db) if db is not None else None
        return found if found is not None else summarize(results, conv.evidence)

    def _after_results(self, conv: Conversation) -> _Decision:
        """Tool results are in: answer from them (or hand them to a final-answer tool)."""
        results = _answerable(conv)
        summary = self._summary(conv, results)
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
            ranked = rank(conv.evidence, conv.tools)
            tool = ranked[0][1] if ranked else conv.tools[0]
            return self._issue(calls_for(tool, conv.evidence), conv, why=_REQUIRED_AGAIN)
        names = ", ".join(dict.fromkeys(f"`{r.name}`" for r in results))
        if results and all(r.failed for r in results):
            why = f"{names} failed, and no value it offered fits, so I explain the failure."
            return _Decision(SimReply(content=summary), why)
        return _Decision(SimReply(content=summary), f"I answer from the results of {names}.")

    def _without_tools(self, conv: Conversation, *, summary: str | None) -> _Decision:
        """Answer in content: structured JSON, an image description, or text."""
        results = _answerable(conv)
        text = summary if summary is not None else direct_answer(conv)[0]
        if conv.json_schema is not None:
            return self._structured(conv, conv.json_schema, text, results)
        if conv.wants_json_object or conv.prompted_schema is not None:
            schema = conv.prompted_schema
            if schema is not None:
                return self._structured(conv, schema, text, results)
            answer: dict[str, Any] = {"answer": text}
            if results:
                answer["sources"] = list(dict.fromkeys(r.name for r in results))
            return _Decision(SimReply(content=dumps(answer)), "I answer with a JSON object.")
        if summary is not None:
            return _Decision(SimReply(content=summary), "I answer from the tool results.")
        if conv.images:
            content, why = describe_images(conv)
            return _Decision(SimReply(content=content), why)
        content, why = direct_answer(conv)
        return _Decision(SimReply(content=content), why)

    def _structured(
        self, conv: Conversation, schema: Mapping[str, Any], summary: str, results: list[Result]
    ) -> _Decision:
        filler = Filler(conv.evidence, schema, results=_sources(conv, results), summary=summary)
        value = filler.fill()
        origin = "the tool results and the question" if results else "the question"
        return _Decision(SimReply(content=dumps(value)), f"I fill the JSON schema from {origin}.")

    # ---- tool calls --------------------------------------------------------------------------

    def _issue(self, planned: Sequence[Planned], conv: Conversation, *, why: str) -> _Decision:
        calls = [p.call for p in planned]
        if not conv.parallel:
            calls = calls[:1]
        return _Decision(SimReply(tool_calls=tuple(calls[:MAX_CALLS])), why)

    def _follow_through(self, conv: Conversation) -> _Decision | None:
        """Results are in, but the question asks about subjects no call has asked yet: call."""
        if not conv.tools_allowed or conv.forced is not None or len(conv.calls) >= _MAX_TURN_CALLS:
            return None
        final = conv.final_tool
        if final is not None and any(r.name == final.name for r in conv.pending):
            return None
        missing = [
            p
            for tool in self._chosen(conv)
            for p in unanswered(tool, self._read(conv, tool), conv.calls)
        ]
        if not missing:
            return None
        shown = ", ".join(_show_call(p) for p in (missing if conv.parallel else missing[:1]))
        why = f"The question also asks for what no call has answered yet; I call {shown}."
        return self._issue(missing, conv, why=why)

    def _final_call(self, conv: Conversation, final: Tool, reason: str) -> _Decision:
        results = _answerable(conv)
        summary = self._summary(conv, results) if results else direct_answer(conv)[0]
        schema = final.parameters or {"type": "object", "properties": {}}
        filler = Filler(conv.evidence, schema, results=_sources(conv, results), summary=summary)
        value = _object(filler.fill())
        why = f"{reason}, so I give the answer through `{final.name}`."
        return _Decision(SimReply(tool_calls=(SimToolCall(final.name, dumps(value)),)), why)

    def _why_tools(self, conv: Conversation, tools: Sequence[Tool]) -> str:
        parts = []
        for tool in tools:
            shared = sorted(
                w
                for w in conv.evidence.content
                if related_to_any(w, tool.words.name | tool.words.description)
            )
            parts.append(f"`{tool.name}` (matching: {', '.join(shared) or 'its parameters'})")
        question = shorten(conv.question, 120)
        return f"The user asks: {question}. The best fitting tools: {'; '.join(parts)}."

    # ---- failures and validation feedback ----------------------------------------------------

    def _retry_failed(self, conv: Conversation) -> _Decision | None:
        """The latest results include failures: call again with what they say to change.

        Invalid arguments are fixed where the errors say (`repair`); a tool's own error that
        offers a related value gets that value (`_recovery.suggest`). Each tool is retried at
        most `MAX_RETRIES` times in a turn; after that the failure is reported instead.
        """
        if not conv.tools_allowed:
            return None
        calls: list[SimToolCall] = []
        notes: list[str] = []
        for result in conv.pending:
            if retries_so_far(conv.results, conv.pending, result.name) >= MAX_RETRIES:
                continue
            fixed = self._fixed_call(conv, result)
            if fixed is not None:
                calls.append(fixed[0])
                notes.append(fixed[1])
                continue
            tool = conv.tool(result.name)
            if tool is None or not result.failed or not isinstance(result.arguments, Mapping):
                continue
            retry = suggest(result, tried_values(conv.calls, result.name) | {tool.name})
            if retry is not None:
                arguments = {**result.arguments, retry.parameter: retry.value}
                calls.append(SimToolCall(tool.name, dumps(arguments)))
                notes.append(
                    f"`{tool.name}` failed and its error suggests {retry.parameter} {retry.value!r}"
                )
        if not calls:
            return None
        if not conv.parallel:
            calls, notes = calls[:1], notes[:1]
        why = "; ".join(notes) + "; I call again with that fixed."
        return _Decision(SimReply(tool_calls=tuple(calls)), why)

    def _fixed_call(self, conv: Conversation, result: Result) -> tuple[SimToolCall, str] | None:
        """The call again, with the fields its argument errors name fixed; None if none."""
        tool = conv.tool(result.name)
        if tool is None:
            return None
        errors = parse_field_errors(result.content)
        if not errors or not about_parameters(errors, tool.parameters):
            return None
        # A final-answer tool is filled from the other tools' results; a lookup tool only
        # from the question, as on the first try.
        final = conv.final_tool
        answers = final is not None and tool.name == final.name
        others = [r for r in _answerable(conv) if r.name != tool.name] if answers else []
        filler = Filler(
            conv.evidence,
            tool.parameters,
            results=_sources(conv, others),
            summary=summarize(others, conv.evidence) if others else "",
        )
        previous = result.arguments if isinstance(result.arguments, Mapping) else None
        # With nothing to keep (the arguments were not a JSON object), repair rebuilds.
        fixed = repair(filler, dict(previous) if previous is not None else None, errors)
        fields = ", ".join(dict.fromkeys(show_path(e.path) for e in errors))
        note = f"my arguments to `{tool.name}` failed validation ({fields})"
        return SimToolCall(tool.name, dumps(_object(fixed))), note

    def _retry_answer(self, conv: Conversation) -> _Decision | None:
        """The user says the previous answer did not validate: answer again, fixed."""
        feedback = text_of(conv.messages[-1].get("content"))
        errors = parse_field_errors(feedback)
        previous = conv.previous_answer
        if not errors or previous is None:
            return None
        calls = previous.get("tool_calls")
        if calls and conv.tools_allowed:
            fixed = [
                self._fixed_call(
                    conv,
                    Result(
                        str(c.get("id")),
                        str(c["function"].get("name")),
                        loads(c["function"].get("arguments")),
                        feedback,
                    ),
                )
                for c in calls
                if isinstance(c, Mapping) and isinstance(c.get("function"), Mapping)
            ]
            made = [f for f in fixed if f is not None]
            if not made:
                return None
            why = "; ".join(note for _, note in made) + "; I call again with that fixed."
            return _Decision(SimReply(tool_calls=tuple(call for call, _ in made)), why)
        schema = conv.json_schema or conv.prompted_schema
        if schema is None:
            return None
        results = _answerable(conv)
        summary = self._summary(conv, results) if results else direct_answer(conv)[0]
        filler = Filler(conv.evidence, schema, results=_sources(conv, results), summary=summary)
        before = extract_json(text_of(previous.get("content")))
        value = repair(filler, before, errors)
        fields = ", ".join(dict.fromkeys(show_path(e.path) for e in errors))
        why = f"My previous answer failed validation ({fields}); I answer again with those fields fixed."
        return _Decision(SimReply(content=dumps(value)), why)


_REQUIRED_AGAIN = "A tool call is required on every turn."
# Calls in one turn after which the model stops following up and answers.
_MAX_TURN_CALLS = 2 * MAX_CALLS


def _show_call(planned: Planned) -> str:
    if planned.parameter is None:
        return f"`{planned.call.name}`"
    return f"`{planned.call.name}` ({planned.parameter}: {shorten(str(planned.value), 40)})"


def _answerable(conv: Conversation) -> list[Result]:
    """The results to answer from: of tools still offered, minus failures a retry made good."""
    offered = {tool.name for tool in conv.tools}
    results = [r for r in conv.results if r.name in offered] if offered else conv.results
    gone = superseded(results)
    return [r for i, r in enumerate(results) if i not in gone] if gone else results


def _sources(conv: Conversation, results: Sequence[Result]) -> list[tuple[str, Any]]:
    """Results as `(tool, data)` for a filler, each list narrowed to the record asked about.

    A failure is no data: it goes in as an "error" text, so fields that want the answer
    explain the failure, and no field takes the error text for a value it names.
    """
    sources = [
        ("error", r.content) if r.failed else (r.name, pick_record(r.data, conv.evidence))
        for r in results
    ]
    return sources or image_sources(conv)


def _object(value: Any) -> Any:
    # Tool arguments must be a JSON object, whatever a schema without properties produced.
    return value if isinstance(value, Mapping) else {}


# --------------------------------------------------------------------------------------------
# Scripted replies
# --------------------------------------------------------------------------------------------


ScriptItem: TypeAlias = (
    "SimReply | str | SimToolCall | ScriptedCall | ScriptedReply"
    " | Sequence[SimToolCall | ScriptedCall]"
)
"""A scripted reply: the simulator's `SimReply`/`SimToolCall`, or the `agentkit.testing`
vocabulary `ScriptedModel` takes (a string, `call(...)` or a list of them, `reply(...)`)."""


def _as_reply(value: object) -> SimReply:
    if isinstance(value, SimReply):
        return value
    if isinstance(value, str):
        return SimReply(content=value)
    if isinstance(value, SimToolCall):
        return SimReply(tool_calls=(value,))
    # agentkit.testing imports this module; importing it back here, when first needed, keeps
    # the two free of an import cycle.
    from ..testing import ScriptedCall, ScriptedReply

    if isinstance(value, ScriptedCall):
        return SimReply(tool_calls=(_sim_call(value),))
    if isinstance(value, ScriptedReply):
        if value.usage is not None:
            raise ConfigurationError(
                "reply(usage=...) is for ScriptedModel: the simulated server counts the "
                "tokens of its replies itself; drop usage= in a scripted() policy"
            )
        return SimReply(
            content=value.content, reasoning=value.reasoning,
            tool_calls=tuple(_sim_call(c) for c in value.tool_calls),
            finish_reason=value.finish_reason,
        )
    if isinstance(value, list | tuple) and all(
        isinstance(c, SimToolCall | ScriptedCall) for c in value
    ):
        return SimReply(tool_calls=tuple(_sim_call(c) for c in value))
    if isinstance(value, BaseException):
        raise ConfigurationError(
            f"a scripted() policy cannot raise {type(value).__name__}: make the simulated "
            "server fail with a Fault instead (SimCore(faults=FaultPlan([Fault('429')])) or "
            "the x-sim-fault header), or script the exception for ScriptedModel"
        )
    raise TypeError(
        "a scripted reply must be a SimReply or a str, a SimToolCall, a call(...) or a list "
        f"of calls, or a reply(...), got {type(value).__name__}"
    )


def _sim_call(call: SimToolCall | ScriptedCall) -> SimToolCall:
    if isinstance(call, SimToolCall):
        return call
    if call.id is not None:
        raise ConfigurationError(
            f"call({call.name!r}, id={call.id!r}): the simulated server makes its own call ids "
            "(call_ and 8 digits); drop id= in a scripted() policy, or use ScriptedModel"
        )
    return SimToolCall(call.name, call.arguments)


def scripted(
    replies: Sequence[ScriptItem] | Callable[[Mapping[str, Any]], ScriptItem],
) -> Policy:
    """A policy that answers with your replies instead of the simulated model's.

    Args:
        replies: Replies to give in order, one per request; or a function from the request
            body to a reply. A reply is a string (the text), a `call(...)` or a list of them
            (the tool calls of one turn), a `reply(...)`, or a `SimReply`: what
            `agentkit.testing.ScriptedModel` takes, except exceptions, ready completions,
            call ids and usage, which the simulated server writes itself.

    Returns:
        The policy. A list policy is safe to share between threads; it raises
        `ScriptExhaustedError` when asked for more replies than it holds.

    Raises:
        TypeError: If `replies` is a single string or holds something else than replies.
        ConfigurationError: If a reply asks for what only `ScriptedModel` can do.
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
