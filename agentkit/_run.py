"""The agent loop: request -> run the tool calls in a task group -> feed back -> validate -> stop.

One `AgentRun` is one run. Everything it changes lives in its `RunState` (the conversation, a
list of request-message dicts that only grows; the usage; the counters; the calls waiting for
a decision), so a run can stop at any step and go on later from the state alone; everything
shared between runs (tools, output spec, settings, the capability cache) comes in a `RunSpec`
the agent builds once.

Failures are feedback: an unknown tool, bad arguments, a `ToolRetry`, a timeout or an exception
in a tool becomes that call's result, and an answer that does not validate becomes a message,
each within a retry budget. Only what the budgets, limits or the server refuse ends a run, and
then the error carries the conversation so far and the state to resume from.
"""

from __future__ import annotations

import inspect
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Generic, TypeAlias, TypeVar, cast

import anyio
import pydantic_core

from ._model import ChatModel, ClientModel, StreamedResponse
from ._model import RetryHook as RetryHook  # importable from here, as before the split
from ._result import RunResult
from ._schema import Target
from .context import RunContext
from .errors import (
    AgentRunError,
    APIError,
    BadRequestError,
    MaxTurnsExceeded,
    ModelRetry,
    OutputValidationError,
    RunStateError,
    ToolArgumentsError,
    ToolError,
    ToolRetriesExceeded,
    UsageLimitExceeded,
    UserError,
)
from .events import (
    AgentEvent,
    PartialOutput,
    ReasoningDelta,
    TextDelta,
    ToolCallFinished,
    ToolCallStarted,
)
from .output import OutputInvalid, OutputSpec, next_mode
from .state import Capabilities, Interruption, RunState, ToolCallRequest
from .steps import (
    ModelRequestStep,
    ModelResponseStep,
    OutputStep,
    PausedStep,
    RunStep,
    ToolResultsStep,
)
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
    """Everything an agent's runs share, built once per agent (and model, or per-run overrides).

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
        agent_name: The agent's name, written into run states.
        interrupting: Whether any tool may stop the run (approval, deferred results).
        preparing: The tools with a `prepare` function, by their index in `tool_definitions`.
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
    capabilities: dict[tuple[int, str, str], Capabilities]
    cache_key: tuple[int, str, str]
    initial: Capabilities
    agent_name: str | None = None
    interrupting: bool = False
    preparing: tuple[tuple[int, Tool], ...] = ()


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
    """One run of an agent. Create, then `await run()` once (or iterate `steps()` once).

    Args:
        spec: What the agent's runs share.
        state: The run's state; a fresh one, or a copy of a saved one to go on from.
        ctx: The run's context; `ctx.messages` is `state.messages`.
        emit: Where to send events; None for a run that does not stream.
        resumed: Whether `state` comes from an earlier run (so the next step is read from it).
    """

    def __init__(
        self,
        spec: RunSpec,
        state: RunState,
        ctx: RunContext[Any],
        *,
        emit: Emit | None = None,
        resumed: bool = False,
    ) -> None:
        self.spec = spec
        self.state = state
        self.ctx = ctx
        self.messages = state.messages
        self.usage = state.usage
        self.emit = emit
        self.resumed = resumed
        self.sub_results: dict[str, RunResult[Any]] = {}
        self.result: RunResult[OutputT] | None = None
        self._definitions: Sequence[dict[str, Any]] = spec.tool_definitions
        self._hidden: Collection[str] = ()
        # Where the run is between steps: a request announced and not yet sent, or the
        # model's reply received and not yet handled.
        self._requesting = False
        self._reply: tuple[Sequence[ToolCall], str] | None = None
        self._stepping = False  # whether someone reads the steps (agent.iter)

    async def run(self) -> RunResult[OutputT]:
        """Go until the model gives a valid answer, a call waits for a decision, or a budget or
        limit ends the run."""
        try:
            while self.result is None:
                await self._advance()
        except (APIError, AgentRunError) as error:
            self._annotate(error)
            raise
        return self.result

    async def steps(self) -> AsyncIterator[RunStep]:
        """The run, step by step; `self.result` is set once the last step was yielded."""
        self._stepping = True
        while self.result is None:
            try:
                step = await self._advance()
            except (APIError, AgentRunError) as error:
                self._annotate(error)
                raise
            assert step is not None
            yield step

    def _annotate(self, error: APIError | AgentRunError) -> None:
        """The run ends here: the error carries the state, and an API error the conversation
        so far too (a run error has its own transcript already)."""
        if isinstance(error, APIError):
            error.messages = [dict(message) for message in self.messages]
        error.state = self.state

    async def _advance(self) -> RunStep | None:
        """The next step; None in place of a step nobody watches (`run()` builds none but
        the last)."""
        if self._reply is not None:  # the model answered: handle it
            calls, content = self._reply
            self._reply = None
            step = await self._respond(calls, content, ())
            if step is not None:
                return step
        elif self.resumed:
            self.resumed = False
            if self.state.finished:
                raise RunStateError(
                    "this run state is of a finished run; to go on with the conversation, "
                    "pass result.messages as message_history= (or use a session)"
                )
            step = await self._resume()
            if step is not None:
                return step
        elif self._requesting:  # the request was announced: send it
            self._requesting = False
            completion = await self._request()
            if completion.choices:
                message = completion.choices[0].message
                self.messages.append(message.to_param())
                calls = message.tool_calls or []
                content = message.content or ""
            else:  # a provider that answered nothing; the model gets another turn
                self.messages.append({"role": "assistant", "content": ""})
                calls, content = [], ""
            self._reply = (calls, content)
            return ModelResponseStep(completion, content, calls) if self._stepping else None
        self._check_limits()
        self._requesting = True
        return ModelRequestStep(self.state.turns + 1, self.messages) if self._stepping else None

    async def _respond(
        self, calls: Sequence[ToolCall], content: str, answered: Collection[str]
    ) -> RunStep | None:
        """Handle the model's last message: run its calls, or judge its answer. None means
        the answer was refused and the model is asked again."""
        spec = self.spec
        mode = self.state.capabilities.output_mode
        if mode == "tool":
            final = next(
                (c for c in calls if c.function.name == spec.output.tool_name and c.id not in answered),
                None,
            )
            if final is not None:
                return await self._final_call(final, calls, answered)
        if calls:
            return await self._run_tools(calls, {}, answered)
        if mode == "tool":
            self._output_failed(OutputInvalid(
                f"Give your final answer by calling the {spec.output.tool_name} tool, "
                "not as text.",
                errors=[], raw_text=content,
            ))
            return None
        try:
            output = await self._validate(content, from_tool=False)
        except OutputInvalid as invalid:
            self._output_failed(invalid)
            return None
        return self._finish(output)

    def _finish(self, output: Any) -> OutputStep:
        self.state.finished = True
        self.result = RunResult(
            output, self.messages, self.usage, self.state.new_from,
            state=self.state, sub_results=self.sub_results,
        )
        return OutputStep(output)

    def _pause(self, interruptions: list[Interruption]) -> PausedStep:
        self.result = RunResult(
            cast(OutputT, None), self.messages, self.usage, self.state.new_from,
            state=self.state, interruptions=interruptions, sub_results=self.sub_results,
        )
        return PausedStep(interruptions)

    # -- resuming -------------------------------------------------------------------------

    async def _resume(self) -> RunStep | None:
        """Go on from a saved state: handle the last assistant message if it is not done with
        (None when the next step is a model request)."""
        messages = self.messages
        index = len(messages) - 1
        while index >= 0 and messages[index].get("role") == "tool":
            index -= 1
        if index < 0 or messages[index].get("role") != "assistant":
            if self.state.interruptions:
                raise RunStateError("this run state is damaged: it has interruptions but no tool calls")
            return None
        message = messages[index]
        try:
            calls = [ToolCall.model_validate(c) for c in message.get("tool_calls") or ()]
        except ValueError as exc:
            raise RunStateError(f"this run state is damaged: messages[{index}] has bad tool calls") from exc
        answered = {
            call_id for m in messages[index + 1 :] if isinstance(call_id := m.get("tool_call_id"), str)
        }
        self._check_interruptions(calls, answered)
        if calls:
            if all(call.id in answered for call in calls):
                return None
        elif index != len(messages) - 1:
            return None
        content = message.get("content")
        return await self._respond(calls, content if isinstance(content, str) else "", answered)

    def _check_interruptions(self, calls: Sequence[ToolCall], answered: Collection[Any]) -> None:
        """Refuse a state (edited by hand, or from another agent) whose waiting calls this agent
        would not make: nothing runs before this check passes."""
        state = self.state
        by_id = {call.id: call for call in calls}
        for interruption in state.interruptions:
            call = by_id.get(interruption.call_id)
            if call is None or interruption.call_id in answered:
                raise RunStateError(
                    f"this run state is damaged: interrupted call {interruption.call_id!r} is "
                    "not a waiting call of the last assistant message"
                )
            name = call.function.name
            tool = self.spec.tools.get(name)
            if name != interruption.tool_name or tool is None:
                raise RunStateError(
                    f"this run state waits on a call to {name!r}, a tool this agent does not "
                    f"have (its tools: {', '.join(self.spec.tools) or 'none'}); resume it with "
                    "the agent that made it"
                )
            try:
                tool.validate_arguments(call.function.arguments)
            except ToolArgumentsError as exc:
                raise RunStateError(
                    f"this run state waits on a call to {name!r} whose arguments do not "
                    f"validate, so it will not run: {exc.message}"
                ) from None
        known = {i.call_id for i in state.interruptions}
        stray = sorted(set(state.decisions) - known)
        if stray:
            raise RunStateError(
                f"this run state has decisions for calls it does not wait on: {', '.join(stray)}"
            )

    # -- requests -------------------------------------------------------------------------

    def _check_limits(self) -> None:
        spec = self.spec
        if self.state.turns >= spec.max_turns:
            raise MaxTurnsExceeded(
                f"the run reached max_turns={spec.max_turns} model requests without a final "
                "answer; raise max_turns, or check the tools' results for a loop",
                messages=self.messages,
            )
        if spec.usage_limits is not None:
            reason = spec.usage_limits.exceeded_by(self.usage)
            if reason:
                raise UsageLimitExceeded(f"usage limit: {reason}", messages=self.messages)

    def _build_request(self) -> dict[str, Any]:
        spec, caps = self.spec, self.state.capabilities
        request: dict[str, Any] = {"model": spec.model_name, "messages": self.messages}
        request.update(spec.settings)
        tools: Sequence[dict[str, Any]] = self._definitions
        if caps.output_mode == "tool" and spec.output_tool_definition is not None:
            tools = [*tools, spec.output_tool_definition]
            if not self._definitions and "tool_choice" not in request:
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
        if self.state.new_from:
            self.state.new_from += 1

    async def _prepare_tools(self) -> None:
        """Ask each tool with a `prepare` function how it shows this turn."""
        definitions = list(self.spec.tool_definitions)
        hidden: set[str] = set()
        for index, tool in self.spec.preparing:
            assert tool.prepare is not None
            ctx = self._tool_context(tool.name, None)
            prepared = tool.prepare(ctx, definitions[index])
            if inspect.isawaitable(prepared):
                prepared = await prepared
            if prepared is None:
                hidden.add(tool.name)
                continue
            name = (prepared.get("function") or {}).get("name") if isinstance(prepared, dict) else None
            if name != tool.name:
                raise UserError(
                    f"the prepare function of tool {tool.name!r} must return its definition "
                    f"(a dict with function.name {tool.name!r}) or None, got {prepared!r:.200}"
                )
            definitions[index] = prepared
        self._hidden = hidden
        self._definitions = [d for d in definitions if d["function"]["name"] not in hidden]

    async def _request(self) -> ChatCompletion:
        spec = self.spec
        self.state.turns += 1
        if spec.preparing:
            await self._prepare_tools()
        fallbacks = 0
        while True:
            request = self._build_request()
            try:
                if self.emit is None:
                    completion = await spec.model.complete(request, on_retry=self._count_retry)
                else:
                    completion = await self._stream_turn(request, self.emit)
            except APIError as error:
                self.usage.add_response(None)  # the failed request still counts
                learned = (
                    self._fallback(error, request) if isinstance(error, BadRequestError) else None
                )
                if learned is None or fallbacks >= _MAX_FALLBACKS:
                    # No answer came, so the turn is not spent: a resume asks again.
                    self.state.turns -= 1
                    raise
                fallbacks += 1
                _log.info("%s rejected a request (%s); retrying with %s",
                          spec.model_name, error.message, learned)
                self.state.capabilities = learned
                spec.capabilities[spec.cache_key] = learned
                continue
            self.usage.add_response(completion.usage)
            return completion

    def _count_retry(self, error: APIError) -> None:
        # The client sent a request that failed and will send it again: it still counts.
        self.usage.requests += 1

    def _fallback(self, error: BadRequestError, request: Mapping[str, Any]) -> Capabilities | None:
        """The capabilities to retry with after a 400, or None if the 400 is not about one."""
        caps = self.state.capabilities
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
        mode = self.state.capabilities.output_mode
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

    async def _run_tools(
        self, calls: Sequence[ToolCall], preset: Mapping[str, str], answered: Collection[str]
    ) -> ToolResultsStep | PausedStep | None:
        """Handle `calls` not yet `answered`: a `preset` answer, a decision made on the run's
        state, a pause for the calls that wait for one, or a run; append every result in the
        model's order."""
        spec, state = self.spec, self.state
        todo = [call for call in calls if call.id not in answered] if answered else calls
        outcomes: dict[str, _Outcome] = {}
        if preset:
            outcomes = {call.id: _Outcome(preset[call.id]) for call in todo if call.id in preset}
        waiting: list[Interruption] = []
        if spec.interrupting or state.decisions or state.interruptions:
            for call in todo:
                if call.id in outcomes:
                    continue
                gate = await self._gate(call)
                if isinstance(gate, Interruption):
                    waiting.append(gate)
                elif gate is not None:
                    outcomes[call.id] = gate
                    if self.emit is not None:
                        await self.emit(ToolCallStarted(call.id, call.function.name, call.function.arguments))
                        await self.emit(ToolCallFinished(
                            call.id, call.function.name, gate.content,
                            gate.content if gate.failed else None,
                        ))
        held = {i.call_id for i in waiting}
        to_run = [call for call in todo if call.id not in outcomes and call.id not in held] \
            if outcomes or held else todo

        limits = spec.usage_limits
        if limits is not None and limits.tool_calls_limit is not None:
            wanted = sum(
                1 for call in to_run
                if call.function.name in spec.tools and call.function.name not in self._hidden
            )
            if self.usage.tool_calls + wanted > limits.tool_calls_limit:
                # The error's transcript answers every call, so it stays valid to send again;
                # the state keeps them waiting, so a resume with a higher limit runs them.
                raise UsageLimitExceeded(
                    f"usage limit: the tool calls limit of {limits.tool_calls_limit} would be "
                    f"passed ({self.usage.tool_calls} made, {wanted} more asked for)",
                    messages=self._transcript(todo, outcomes, "Not run: the run's tool calls limit was reached."),
                )

        async def run_one(call: ToolCall) -> None:
            outcomes[call.id] = await self._call_tool(call)

        if len(to_run) > 1 and spec.parallel_tools:
            async with anyio.create_task_group() as group:
                for call in to_run:
                    group.start_soon(run_one, call)
        else:
            for call in to_run:
                await run_one(call)

        exceeded: tuple[str, int, int, str] | None = None
        for call in todo:
            outcome = outcomes.get(call.id)
            if outcome is None:
                continue  # waits for a decision
            self._append_tool_message(call, outcome.content)
            name = call.function.name
            if outcome.invoked:
                self.usage.tool_calls += 1
            if not outcome.failed:
                state.tool_failures.pop(name, None)
                continue
            failures = state.tool_failures[name] = state.tool_failures.get(name, 0) + 1
            budget = self._budget(name)
            if failures > budget and exceeded is None:
                exceeded = (name, failures, budget, outcome.content)
        if state.interruptions or state.decisions:
            for call in todo:
                state.decisions.pop(call.id, None)
        state.interruptions = waiting
        if exceeded is not None:
            name, failures, budget, last = exceeded
            raise ToolRetriesExceeded(
                f"tool {name!r} failed {failures} times in a row, past its retry budget of "
                f"{budget}; last error: {last[:500]}",
                messages=self._transcript(
                    [call for call in todo if call.id in held], {}, "Not run: the run ended."
                ),
            )
        if waiting:
            return self._pause(waiting)
        if not self._stepping:
            return None
        results = []
        for call in todo:  # nothing waits now, so every call has its outcome
            outcome = outcomes[call.id]
            results.append(ToolCallFinished(
                call.id, call.function.name, outcome.content,
                outcome.content if outcome.failed else None,
            ))
        return ToolResultsStep(results)

    async def _gate(self, call: ToolCall) -> _Outcome | Interruption | None:
        """What stands between a call and its run: a decision on the state (its outcome, or
        None for an approval), a wait for one, or nothing (None)."""
        state = self.state
        name = call.function.name
        decision = state.decisions.get(call.id)
        if decision is not None:
            if "result" in decision:
                tool = self.spec.tools.get(name)
                text = decision["result"]
                if tool is not None and tool.max_result_chars is not None:
                    return _Outcome(tool.serialize(text))
                return _Outcome(self._cap(text))
            if decision.get("approved"):
                return None
            reason = decision.get("reason")
            return _Outcome(self._cap(
                f"Not run: the user rejected this call to {name}"
                + (f". Reason: {reason}" if reason else ".")
            ))
        for interruption in state.interruptions:
            if interruption.call_id == call.id:
                return interruption  # still waiting: asked before, not decided yet
        tool = self.spec.tools.get(name) if name not in self._hidden else None
        if tool is None or not tool.interrupts:
            return None
        try:
            values = tool.validate_arguments(call.function.arguments)
        except ToolArgumentsError:
            return None  # the model must fix these first: running reports the errors to it
        arguments = call.function.arguments
        # What a person is shown (and the state keeps): the validated values, as JSON.
        shown = pydantic_core.to_jsonable_python(values, fallback=str)
        if tool.deferred:
            return Interruption(call.id, name, arguments, shown, kind="deferred")
        policy = tool.requires_approval
        if policy is True:
            return Interruption(call.id, name, arguments, shown, kind="approval")
        assert callable(policy)
        # The policy sees the arguments the tool would run with, not the model's raw text
        # ("7" for an int is 7), so a policy cannot be dodged by a differently typed value.
        request = ToolCallRequest(call.id, name, arguments, values)
        try:
            needed = policy(self._tool_context(name, call.id), request)
            if inspect.isawaitable(needed):
                needed = await needed
        except ModelRetry as retry:  # the policy's word for the model, as a tool's would be
            return _Outcome(self._cap(retry.message), failed=True)
        except Exception as error:  # a failing policy fails the call, never runs it
            detail = "(details hidden)" if self.spec.redact_tool_errors else f": {error}"
            return _Outcome(self._cap(
                f"Error: the approval check of {name} raised {type(error).__name__}{detail}"
            ), failed=True)
        return Interruption(call.id, name, arguments, shown, kind="approval") if needed else None

    def _transcript(
        self, calls: Sequence[ToolCall], outcomes: Mapping[str, _Outcome], unanswered: str
    ) -> list[dict[str, Any]]:
        """The conversation with every one of `calls` answered (as an error carries it)."""
        transcript = list(self.messages)
        for call in calls:
            outcome = outcomes.get(call.id)
            transcript.append({
                "role": "tool", "tool_call_id": call.id,
                "content": outcome.content if outcome is not None else unanswered,
            })
        return transcript

    def _append_tool_message(self, call: ToolCall, content: str) -> None:
        self.messages.append({"role": "tool", "tool_call_id": call.id, "content": content})

    def _budget(self, name: str) -> int:
        tool = self.spec.tools.get(name)
        if tool is not None and tool.retries is not None:
            return tool.retries
        return self.spec.tool_retries

    def _tool_context(self, name: str, call_id: str | None) -> RunContext[Any]:
        return RunContext(
            deps=self.ctx.deps, model=self.ctx.model, usage=self.usage, messages=self.messages,
            retry=self.state.tool_failures.get(name, 0), tool_name=name, tool_call_id=call_id,
            sub_results=self.sub_results,
        )

    async def _call_tool(self, call: ToolCall) -> _Outcome:
        name = call.function.name
        arguments = call.function.arguments
        emit = self.emit
        if emit is not None:
            await emit(ToolCallStarted(call.id, name, arguments))
        # Only the agent's own tools are ever looked up: a name the model read somewhere (a
        # hostile tool result, say) and invented is an error, never a call.
        tool = self.spec.tools.get(name) if name not in self._hidden else None
        if tool is None:
            outcome = _Outcome(
                self._cap(f"Error: there is no tool named {name!r}. {self._available()}"),
                failed=True,
            )
        else:
            try:
                value = await tool.invoke(arguments, self._tool_context(name, call.id))
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
        names = [name for name in self.spec.tools if name not in self._hidden]
        if self.state.capabilities.output_mode == "tool":
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

    async def _final_call(
        self, final: ToolCall, calls: Sequence[ToolCall], answered: Collection[str]
    ) -> RunStep | None:
        """Handle a turn in which the model called the final-answer tool (tool mode)."""
        try:
            output = await self._validate(final.function.arguments, from_tool=True)
        except OutputInvalid as invalid:
            preset = {
                c.id: "Not run: only the first final_result call of a turn counts."
                for c in calls
                if c.function.name == self.spec.output.tool_name and c is not final
            }
            preset[final.id] = self._cap(invalid.feedback)
            if self._output_budget_spent():
                todo = [c for c in calls if c.id not in answered]
                outcomes = {key: _Outcome(text) for key, text in preset.items()}
                error = self._output_error(
                    invalid, self._transcript(todo, outcomes, "Not run: the run ended.")
                )
                # The state keeps the feedback, and the other calls waiting: a resume with a
                # larger budget runs them and goes on, judging nothing twice.
                for call in todo:
                    if call.id in preset:
                        self._append_tool_message(call, preset[call.id])
                raise error from None
            # The other calls of the turn still run: the model may need their results.
            return await self._run_tools(calls, preset, answered)
        for call in calls:
            if call.id not in answered:
                self._append_tool_message(
                    call,
                    "Final answer received." if call is final
                    else "Not run: the final answer was given in the same turn.",
                )
        return self._finish(output)

    async def _validate(self, text: str, *, from_tool: bool) -> Any:
        output = self.spec.output
        value: Any = text if output.is_text else output.parse(text, from_tool=from_tool)
        if output.function is not None:
            value = await self._call_output_function(output.function, value, text)
        if self.spec.validators:
            ctx = replace(self.ctx, retry=self.state.output_failures)
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

    async def _call_output_function(self, function: Tool, arguments: Any, text: str) -> Any:
        """Call an output function with the arguments the model filled in."""
        ctx = replace(self.ctx, retry=self.state.output_failures, tool_name=function.name)
        try:
            return await function.invoke(arguments, ctx)
        except ModelRetry as retry:
            raise OutputInvalid(
                f"Your answer was rejected: {retry.message}",
                errors=[{"loc": "", "msg": retry.message, "input": text}],
                raw_text=text,
            ) from None
        except ToolArgumentsError as error:
            raise OutputInvalid(
                f"{error.message}\nAnswer again with arguments that match the schema.",
                errors=list(error.errors), raw_text=text,
            ) from None

    def _output_failed(self, invalid: OutputInvalid) -> None:
        """An answer given as text failed: tell the model in a user message. When the budget
        is spent the run ends on the model's answer, which the error's transcript ends with;
        the state holds the feedback, so a resume with a larger budget goes on from it."""
        transcript = list(self.messages)
        self.messages.append({"role": "user", "content": invalid.feedback})
        if self._output_budget_spent():
            raise self._output_error(invalid, transcript)

    def _output_budget_spent(self) -> bool:
        self.state.output_failures += 1
        return self.state.output_failures > self.spec.output_retries

    def _output_error(
        self, invalid: OutputInvalid, transcript: list[dict[str, Any]]
    ) -> OutputValidationError:
        return OutputValidationError(
            f"the model's answer did not validate after {self.state.output_failures} tries "
            f"(output_retries={self.spec.output_retries}): {invalid.feedback[:500]}",
            raw_text=invalid.raw_text,
            errors=invalid.errors,
            messages=transcript,
        )


def _names(word: str, text: str) -> bool:
    return re.search(rf"(?<![a-z0-9_]){re.escape(word)}(?![a-z0-9_])", text) is not None
