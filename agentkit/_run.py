"""The agent loop: request -> run the tool calls in a task group -> feed back -> validate -> stop.

One `AgentRun` is one run. It owns the conversation (a list of request-message dicts that only
grows), the usage, and the retry counters; everything shared between runs (tools, output spec,
settings, the capability cache) comes in a `RunSpec` the agent builds once.

Failures are feedback: an unknown tool, bad arguments, a `ToolRetry`, a timeout or an exception
in a tool becomes that call's result, and an answer that does not validate becomes a message,
each within a retry budget. Only what the budgets, limits or the server refuse ends a run, and
then the error carries the conversation so far.
"""

from __future__ import annotations

import inspect
import logging
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Generic, TypeAlias, TypeVar

import anyio

from ._model import ChatModel, ClientModel, StreamedResponse
from ._model import RetryHook as RetryHook  # importable from here, as before the split
from ._result import RunResult
from ._schema import Target
from .context import RunContext
from .errors import (
    APIError,
    BadRequestError,
    MaxTurnsExceeded,
    ModelRetry,
    OutputValidationError,
    ToolError,
    ToolRetriesExceeded,
    UsageLimitExceeded,
)
from .events import (
    AgentEvent,
    PartialOutput,
    ReasoningDelta,
    TextDelta,
    ToolCallFinished,
    ToolCallStarted,
)
from .output import OutputInvalid, OutputSpec, ResolvedMode, next_mode
from .tool import Tool, serialize_result
from .types.chat import ChatCompletion, ToolCall
from .usage import UsageLimits

__all__ = [
    "AgentRun",
    "Capabilities",
    "ChatModel",
    "ClientModel",
    "Emit",
    "OutputValidator",
    "RunResult",
    "RunSpec",
    "StreamedResponse",
]

OutputT = TypeVar("OutputT")

_log = logging.getLogger("agentkit.agent")

Emit: TypeAlias = Callable[[AgentEvent], Awaitable[None]]
"""Where a streaming run sends its events."""

# Request fields the loop itself sets; a 400 that names one of these is a mode problem, not a
# parameter to drop.
_STRUCTURAL = frozenset({"model", "messages", "tools", "response_format", "stream"})
# How servers say they take no tools; a 400 about one tool message must not match.
_NO_TOOLS = re.compile(
    r"(tools?|function call(ing|s)?|functions?)\s+(is\s+|are\s+)?(not supported|unsupported)"
    r"|(does not|doesn't|do not) support\s+(tools|function)"
)
# A few fallbacks in one turn at most: each must remove something, so this is only a backstop.
_MAX_FALLBACKS = 4


# --------------------------------------------------------------------------------------------
# Shared configuration
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a run may send a model, as the agent learned it (from the profile, then from 400s).

    Attributes:
        output_mode: How structured output is asked for.
        dropped: Request fields left out because the model rejects them.
        strict_output: Whether `json_schema` is sent with `strict: true`.
    """

    output_mode: ResolvedMode
    dropped: frozenset[str] = frozenset()
    strict_output: bool = True


class OutputValidator:
    """An `@agent.output_validator` function: `(output)` or `(ctx, output)`, sync or async.

    It returns the output (perhaps changed; None keeps it as it was) or raises `ModelRetry`.
    """

    def __init__(self, function: Callable[..., Any]) -> None:
        self.function = function
        try:
            parameters = list(inspect.signature(function).parameters.values())
        except (TypeError, ValueError):
            parameters = []
        positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        self.takes_context = len(positional) >= 2
        self.is_async = inspect.iscoroutinefunction(function)

    async def __call__(self, ctx: RunContext[Any], output: Any) -> Any:
        """Validate `output`."""
        args = (ctx, output) if self.takes_context else (output,)
        value = self.function(*args)
        if inspect.isawaitable(value):
            value = await value
        return output if value is None else value


@dataclass(slots=True)
class RunSpec:
    """Everything an agent's runs share, built once per agent (and model).

    Attributes:
        model_name: The model id sent in each request.
        model: Where requests go.
        tools: The agent's tools by name: the only functions a run ever calls.
        tool_definitions: Their definitions in the model's schema dialect (built once).
        output: The output spec.
        target: The schema dialect of the model (`grok`, or `openai` for others).
        settings: Model settings sent with every request.
        output_tool_definition: The final-answer tool, sent in tool mode.
        max_turns: Most model requests (turns) per run.
        tool_retries: Failures a tool may have before the run stops, unless the tool says.
        output_retries: Invalid answers allowed before `OutputValidationError`.
        usage_limits: Caps checked before each request.
        parallel_tools: Run one turn's calls concurrently.
        redact_tool_errors: Hide the message of exceptions raised inside tools.
        max_result_chars: Cut longer tool results (and error texts) to this many characters.
        validators: The output validators, in order.
        capabilities: The agent's cache of learned capabilities, by (model object, name).
        cache_key: This spec's key in `capabilities`.
        initial: The capabilities to start from when nothing was learned yet.
    """

    model_name: str
    model: ChatModel
    tools: Mapping[str, Tool]
    tool_definitions: Sequence[dict[str, Any]]
    output: OutputSpec[Any]
    target: Target
    settings: Mapping[str, Any]
    output_tool_definition: dict[str, Any] | None
    max_turns: int
    tool_retries: int
    output_retries: int
    usage_limits: UsageLimits | None
    parallel_tools: bool
    redact_tool_errors: bool
    max_result_chars: int | None
    validators: Sequence[OutputValidator]
    capabilities: dict[tuple[int, str], Capabilities]
    cache_key: tuple[int, str]
    initial: Capabilities


class _Outcome:
    """The text a tool call sends back, whether it was a failure, and whether a tool ran."""

    __slots__ = ("content", "failed", "invoked")

    def __init__(self, content: str, *, failed: bool = False, invoked: bool = False) -> None:
        self.content = content
        self.failed = failed
        self.invoked = invoked


# --------------------------------------------------------------------------------------------
# The loop
# --------------------------------------------------------------------------------------------


class AgentRun(Generic[OutputT]):
    """One run of an agent. Create, then `await run()` once.

    Args:
        spec: What the agent's runs share.
        ctx: The run's context; `ctx.messages` is the conversation, ready to send.
        new_from: Index of the first message of this run in `ctx.messages`.
        emit: Where to send events; None for a run that does not stream.
    """

    def __init__(
        self, spec: RunSpec, ctx: RunContext[Any], *, new_from: int, emit: Emit | None = None
    ) -> None:
        self.spec = spec
        self.ctx = ctx
        self.messages = ctx.messages
        self.usage = ctx.usage
        self.new_from = new_from
        self.emit = emit
        self.caps = spec.capabilities.get(spec.cache_key) or spec.initial
        self.turns = 0
        self.output_failures = 0
        self.tool_failures: dict[str, int] = {}

    async def run(self) -> RunResult[OutputT]:
        """Go until the model gives a valid answer, or a budget or limit ends the run."""
        spec = self.spec
        while True:
            try:
                completion = await self._request()
            except APIError as error:
                # The run ends here; the conversation so far goes with the error, not lost.
                error.messages = [dict(message) for message in self.messages]
                raise
            if completion.choices:
                message = completion.choices[0].message
                self.messages.append(message.to_param())
                calls = message.tool_calls or []
                content = message.content or ""
            else:  # a provider that answered nothing; the model gets another turn
                self.messages.append({"role": "assistant", "content": ""})
                calls, content = [], ""

            if self.caps.output_mode == "tool":
                final = next((c for c in calls if c.function.name == spec.output.tool_name), None)
                if final is not None:
                    done = await self._final_call(final, calls)
                    if done is not None:
                        return done
                    continue
            if calls:
                await self._run_tools(calls, {})
                continue
            if self.caps.output_mode == "tool":
                self._output_failed(OutputInvalid(
                    f"Give your final answer by calling the {spec.output.tool_name} tool, "
                    "not as text.",
                    errors=[], raw_text=content,
                ))
                continue
            try:
                output = await self._validate(content, from_tool=False)
            except OutputInvalid as invalid:
                self._output_failed(invalid)
                continue
            return self._result(output)

    def _result(self, output: Any) -> RunResult[OutputT]:
        return RunResult(output, self.messages, self.usage, self.new_from)

    # -- requests -------------------------------------------------------------------------

    def _build_request(self) -> dict[str, Any]:
        spec, caps = self.spec, self.caps
        request: dict[str, Any] = {"model": spec.model_name, "messages": self.messages}
        request.update(spec.settings)
        tools: Sequence[dict[str, Any]] = spec.tool_definitions
        if caps.output_mode == "tool" and spec.output_tool_definition is not None:
            tools = [*tools, spec.output_tool_definition]
            if not spec.tool_definitions and "tool_choice" not in request:
                request["tool_choice"] = "required"  # the only way to answer is the tool
        elif caps.output_mode == "native":
            request["response_format"] = spec.output.response_format(
                spec.target, strict=caps.strict_output
            )
        elif caps.output_mode == "prompted":
            self._add_output_prompt()
        if tools:
            request["tools"] = tools
        for name in caps.dropped:
            request.pop(name, None)
        return request

    def _add_output_prompt(self) -> None:
        prompt = self.spec.output.prompt()
        first = self.messages[0] if self.messages else None
        if first is not None and first.get("role") == "system":
            content = first.get("content") or ""
            if isinstance(content, str) and prompt not in content:
                # A new dict: the one from message_history may belong to the caller.
                self.messages[0] = {**first, "content": f"{content}\n\n{prompt}".lstrip()}
            return
        self.messages.insert(0, {"role": "system", "content": prompt})
        if self.new_from:
            self.new_from += 1

    async def _request(self) -> ChatCompletion:
        spec = self.spec
        if self.turns >= spec.max_turns:
            raise MaxTurnsExceeded(
                f"the run reached max_turns={spec.max_turns} model requests without a final "
                "answer; raise max_turns, or check the tools' results for a loop",
                messages=self.messages,
            )
        if spec.usage_limits is not None:
            reason = spec.usage_limits.exceeded_by(self.usage)
            if reason:
                raise UsageLimitExceeded(f"usage limit: {reason}", messages=self.messages)
        self.turns += 1
        fallbacks = 0
        while True:
            request = self._build_request()
            try:
                if self.emit is None:
                    completion = await spec.model.complete(request, on_retry=self._count_retry)
                else:
                    completion = await self._stream_turn(request, self.emit)
            except BadRequestError as error:
                self.usage.add_response(None)  # the rejected request still counts
                learned = self._fallback(error, request)
                if learned is None or fallbacks >= _MAX_FALLBACKS:
                    raise
                fallbacks += 1
                _log.info("%s rejected a request (%s); retrying with %s",
                          spec.model_name, error.message, learned)
                self.caps = learned
                spec.capabilities[spec.cache_key] = learned
                continue
            self.usage.add_response(completion.usage)
            return completion

    def _count_retry(self, error: APIError) -> None:
        # The client sent a request that failed and will send it again: it still counts.
        self.usage.requests += 1

    def _fallback(self, error: BadRequestError, request: Mapping[str, Any]) -> Capabilities | None:
        """The capabilities to retry with after a 400, or None if the 400 is not about one."""
        caps = self.caps
        text = f"{error.message} {error.body}".lower()
        squashed = text.replace("_", "")
        for name in request:
            if name in _STRUCTURAL or name in caps.dropped:
                continue
            # xAI names parameters in camelCase ("presencePenalty"), others in snake_case.
            if _names(name, text) or _names(name.replace("_", ""), squashed):
                return replace(caps, dropped=caps.dropped | {name})
        mode = caps.output_mode
        if mode == "native":
            if "strict" in text and caps.strict_output:
                return replace(caps, strict_output=False)
            if any(w in text for w in ("json_schema", "response_format", "json schema", "structured")):
                return replace(caps, output_mode=next_mode(mode) or mode)
        if mode == "tool" and _NO_TOOLS.search(text):
            return replace(caps, output_mode=next_mode(mode) or mode)
        return None

    async def _stream_turn(self, request: dict[str, Any], emit: Emit) -> ChatCompletion:
        output = self.spec.output
        mode = self.caps.output_mode
        partial_text = mode in ("native", "prompted")
        text: list[str] = []
        final_index: int | None = None
        final_args: list[str] = []
        last_data: Any = None
        async with self.spec.model.stream(request, on_retry=self._count_retry) as response:
            async for chunk in response:
                for choice in chunk.choices:
                    if choice.index != 0:
                        continue
                    delta = choice.delta
                    reasoning = delta.reasoning_text
                    if reasoning:
                        await emit(ReasoningDelta(reasoning))
                    fresh = False
                    if delta.content:
                        await emit(TextDelta(delta.content))
                        if partial_text:
                            text.append(delta.content)
                            fresh = True
                    if mode == "tool" and delta.tool_calls:
                        for call in delta.tool_calls:
                            function = call.function
                            if function is not None and function.name == output.tool_name:
                                final_index = call.index
                            if call.index == final_index and function and function.arguments:
                                final_args.append(function.arguments)
                                fresh = True
                    if fresh:
                        source = "".join(final_args if mode == "tool" else text)
                        data, value = output.parse_partial(source, from_tool=mode == "tool")
                        if data is not None and data != last_data:
                            last_data = data
                            await emit(PartialOutput(data, value))
            return await response.final()

    # -- tools ----------------------------------------------------------------------------

    async def _run_tools(self, calls: Sequence[ToolCall], preset: Mapping[int, str]) -> None:
        """Run `calls` (except those with a `preset` answer) and append every result in order."""
        spec = self.spec
        to_run = [i for i in range(len(calls)) if i not in preset]
        limits = spec.usage_limits
        if limits is not None and limits.tool_calls_limit is not None:
            wanted = sum(1 for i in to_run if calls[i].function.name in spec.tools)
            if self.usage.tool_calls + wanted > limits.tool_calls_limit:
                for index, call in enumerate(calls):
                    self._append_tool_message(call, preset.get(index, "Not run: the run's tool calls limit was reached."))
                raise UsageLimitExceeded(
                    f"usage limit: the tool calls limit of {limits.tool_calls_limit} would be "
                    f"passed ({self.usage.tool_calls} made, {wanted} more asked for)",
                    messages=self.messages,
                )
        outcomes: list[_Outcome | None] = [None] * len(calls)

        async def run_one(index: int) -> None:
            outcomes[index] = await self._call_tool(calls[index])

        if len(to_run) > 1 and spec.parallel_tools:
            async with anyio.create_task_group() as group:
                for index in to_run:
                    group.start_soon(run_one, index)
        else:
            for index in to_run:
                await run_one(index)

        exceeded: tuple[str, int, int, str] | None = None
        for index, call in enumerate(calls):
            outcome = outcomes[index]
            if outcome is None:
                self._append_tool_message(call, preset[index])
                continue
            self._append_tool_message(call, outcome.content)
            if outcome.invoked:
                self.usage.tool_calls += 1
            name = call.function.name
            if not outcome.failed:
                self.tool_failures.pop(name, None)
                continue
            failures = self.tool_failures[name] = self.tool_failures.get(name, 0) + 1
            budget = self._budget(name)
            if failures > budget and exceeded is None:
                exceeded = (name, failures, budget, outcome.content)
        if exceeded is not None:
            name, failures, budget, last = exceeded
            raise ToolRetriesExceeded(
                f"tool {name!r} failed {failures} times in a row, past its retry budget of "
                f"{budget}; last error: {last[:500]}",
                messages=self.messages,
            )

    def _append_tool_message(self, call: ToolCall, content: str) -> None:
        self.messages.append({"role": "tool", "tool_call_id": call.id, "content": content})

    def _budget(self, name: str) -> int:
        tool = self.spec.tools.get(name)
        if tool is not None and tool.retries is not None:
            return tool.retries
        return self.spec.tool_retries

    async def _call_tool(self, call: ToolCall) -> _Outcome:
        spec = self.spec
        name = call.function.name
        arguments = call.function.arguments
        emit = self.emit
        if emit is not None:
            await emit(ToolCallStarted(call.id, name, arguments))
        # Only the agent's own tools are ever looked up: a name the model read somewhere (a
        # hostile tool result, say) and invented is an error, never a call.
        tool = spec.tools.get(name)
        if tool is None:
            outcome = _Outcome(
                self._cap(f"Error: there is no tool named {name!r}. {self._available()}"),
                failed=True,
            )
        else:
            ctx = RunContext(
                deps=self.ctx.deps, model=self.ctx.model, usage=self.usage, messages=self.messages,
                retry=self.tool_failures.get(name, 0), tool_name=name, tool_call_id=call.id,
            )
            try:
                value = await tool.invoke(arguments, ctx)
            except ModelRetry as retry:  # ToolRetry included
                outcome = _Outcome(self._cap(retry.message), failed=True, invoked=True)
            except ToolError as error:  # bad arguments, timeout: the message is for the model
                outcome = _Outcome(self._cap(f"Error: {error.message}"), failed=True, invoked=True)
            except Exception as error:
                outcome = _Outcome(self._cap(self._describe(error)), failed=True, invoked=True)
            else:
                try:
                    text = tool.serialize(value)
                except Exception as error:  # a result that cannot become text is a failure
                    outcome = _Outcome(
                        self._cap(f"Error: the tool's result could not be turned into text "
                                  f"({type(error).__name__})"),
                        failed=True, invoked=True,
                    )
                else:
                    if tool.max_result_chars is None:
                        text = self._cap(text)
                    outcome = _Outcome(text, invoked=True)
        if outcome.failed:
            _log.debug("tool call %s (%s) failed: %s", call.id, name, outcome.content)
        if emit is not None:
            error_text = outcome.content if outcome.failed else None
            await emit(ToolCallFinished(call.id, name, outcome.content, error_text))
        return outcome

    def _available(self) -> str:
        names = list(self.spec.tools)
        if self.caps.output_mode == "tool":
            names.append(self.spec.output.tool_name)
        if not names:
            return "This agent has no tools; answer without calling one."
        return f"The available tools are: {', '.join(names)}."

    def _describe(self, error: Exception) -> str:
        kind = type(error).__name__
        if self.spec.redact_tool_errors:
            return f"Error: the tool raised {kind} (details hidden)."
        return f"Error: the tool raised {kind}: {error}"

    def _cap(self, text: str) -> str:
        # Always through serialize_result: it also replaces text that cannot be sent as UTF-8
        # (a lone surrogate in an exception message), even when there is no length limit.
        return serialize_result(text, max_chars=self.spec.max_result_chars)

    # -- output ---------------------------------------------------------------------------

    async def _final_call(self, final: ToolCall, calls: Sequence[ToolCall]) -> RunResult[OutputT] | None:
        """Handle a turn in which the model called the final-answer tool (tool mode)."""
        try:
            output = await self._validate(final.function.arguments, from_tool=True)
        except OutputInvalid as invalid:
            preset = {
                i: "Not run: only the first final_result call of a turn counts."
                for i, c in enumerate(calls)
                if c.function.name == self.spec.output.tool_name and c is not final
            }
            preset[calls.index(final)] = self._cap(invalid.feedback)
            # The other calls of the turn still run: the model may need their results.
            await self._run_tools(calls, preset)
            self._check_output_budget(invalid)
            return None
        for call in calls:
            self._append_tool_message(
                call,
                "Final answer received." if call is final
                else "Not run: the final answer was given in the same turn.",
            )
        return self._result(output)

    async def _validate(self, text: str, *, from_tool: bool) -> Any:
        output = self.spec.output
        value: Any = text if output.is_text else output.parse(text, from_tool=from_tool)
        if self.spec.validators:
            ctx = replace(self.ctx, retry=self.output_failures)
            for validator in self.spec.validators:
                try:
                    value = await validator(ctx, value)
                except ModelRetry as retry:
                    raise OutputInvalid(
                        f"Your answer was rejected: {retry.message}",
                        errors=[{"loc": "", "msg": retry.message, "input": text}],
                        raw_text=text,
                    ) from None
        return value

    def _output_failed(self, invalid: OutputInvalid) -> None:
        """An answer given as text failed: tell the model in a user message (unless the budget
        is spent: the run then ends on the model's answer, which the error carries)."""
        self._check_output_budget(invalid)
        self.messages.append({"role": "user", "content": invalid.feedback})

    def _check_output_budget(self, invalid: OutputInvalid) -> None:
        self.output_failures += 1
        if self.output_failures > self.spec.output_retries:
            raise OutputValidationError(
                f"the model's answer did not validate after {self.output_failures} tries "
                f"(output_retries={self.spec.output_retries}): {invalid.feedback[:500]}",
                raw_text=invalid.raw_text,
                errors=invalid.errors,
                messages=self.messages,
            )


def _names(word: str, text: str) -> bool:
    return re.search(rf"(?<![a-z0-9_]){re.escape(word)}(?![a-z0-9_])", text) is not None
