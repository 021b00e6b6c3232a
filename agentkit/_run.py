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
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from dataclasses import replace
from functools import partial
from typing import Any, Generic, TypeVar, cast

import anyio

from ._dispatch import Outcome, ToolTurn
from ._fit import RequestFitter
from ._model import ChatModel, ClientModel, StreamedResponse
from ._model import RetryHook as RetryHook  # importable from here, as before the split
from ._result import RunResult
from ._spec import Emit, OutputValidator, RunSpec
from .citations import note_server_side
from .context import RunContext
from .errors import (
    AgentRunError,
    APIError,
    BadRequestError,
    InputGuardrailTripped,
    MaxTurnsExceeded,
    ModelRetry,
    OutputGuardrailTripped,
    OutputValidationError,
    RunStateError,
    ToolArgumentsError,
    UsageLimitExceeded,
    UserError,
)
from .events import AgentHandoff, PartialOutput, ReasoningDelta, ServerToolCalled, TextDelta
from .guardrails import GuardrailResult, InputGuardrail, OutputGuardrail, prompt_text
from .hooks import HookSet, RunInfo
from .output import OutputInvalid, next_mode
from .state import Capabilities, Interruption, RunState
from .steps import ModelRequestStep, ModelResponseStep, OutputStep, PausedStep, RunStep
from .tool import Tool
from .types.chat import ChatCompletion, ToolCall
from .usage import RunUsage

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





class _RetryCounter:
    """Told by the client of each request it sends again: the failed one still counts.

    An object of its own rather than a method of the run, which keeps it: a bound method
    would make every run a reference cycle, freed only when the garbage collector gets to it
    (with thousands of runs in flight, a collection every few runs).
    """

    __slots__ = ("_hooks", "_info", "_usage")

    def __init__(self, usage: RunUsage, hooks: HookSet | None, info: RunInfo | None) -> None:
        self._usage = usage
        self._hooks = hooks
        self._info = info

    def __call__(self, error: APIError) -> None:
        self._usage.requests += 1
        if self._hooks is not None:
            self._hooks.call_now("on_retry", self._info, error)


class AgentRun(ToolTurn, Generic[OutputT]):
    """One run of an agent. Create, then `await run()` once (or iterate `steps()` once).

    Args:
        spec: What the agent's runs share.
        state: The run's state; a fresh one, or a copy of a saved one to go on from.
        ctx: The run's context; `ctx.messages` is `state.messages`.
        emit: Where to send events; None for a run that does not stream.
        resumed: Whether `state` comes from an earlier run (so the next step is read from it).
        hooks: The run's lifecycle hooks, or None.
        conversation_id: The session's id, for the hooks.
    """

    def __init__(
        self,
        spec: RunSpec,
        state: RunState,
        ctx: RunContext[Any],
        *,
        emit: Emit | None = None,
        resumed: bool = False,
        hooks: HookSet | None = None,
        conversation_id: str | None = None,
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
        self.hooks = hooks
        self.cleanup: AsyncExitStack | None = None  # what the run opened (tool sources)
        # The Responses adapter keeps its chain in the run state; other models take no context.
        self._complete: Callable[..., Awaitable[ChatCompletion]] = spec.model.complete
        self._open_stream: Callable[..., AbstractAsyncContextManager[StreamedResponse]] = (
            spec.model.stream
        )
        if spec.takes_run_context:
            model: Any = spec.model  # it declared takes_run_context: its methods take context=
            self._complete = partial(model.complete, context=state.context)
            self._open_stream = partial(model.stream, context=state.context)
        self.info: RunInfo | None = None
        if hooks is not None:
            self.info = RunInfo(
                spec.agent_name, spec.model_name, ctx, conversation_id=conversation_id,
                resumed=resumed,
            )
        self._count_retry = _RetryCounter(state.usage, hooks, self.info)
        self._fitter = RequestFitter(spec, state, ctx, state.usage, self._count_retry)

    async def run(self) -> RunResult[OutputT]:
        """Go until the model gives a valid answer, a call waits for a decision, or a budget or
        limit ends the run."""
        try:
            if self.hooks is not None:
                await self.hooks.call("on_run_start", self.info)
            try:
                while self.result is None:
                    await self._advance()
            except BaseException as error:
                await self._ended(error)
                raise
            if self.hooks is not None:
                await self.hooks.call("on_run_end", self.info, self.result, None)
            return self.result
        finally:
            if self.cleanup is not None:
                await self._release()

    async def steps(self) -> AsyncIterator[RunStep]:
        """The run, step by step; `self.result` is set once the last step was yielded."""
        self._stepping = True
        try:
            if self.hooks is not None:
                await self.hooks.call("on_run_start", self.info)
            while self.result is None:
                try:
                    step = await self._advance()
                except BaseException as error:
                    await self._ended(error)
                    raise
                assert step is not None
                if isinstance(step, OutputStep | PausedStep):
                    if self.hooks is not None:
                        await self.hooks.call("on_run_end", self.info, self.result, None)
                    if self.cleanup is not None:
                        await self._release()
                yield step
        finally:
            if self.cleanup is not None:
                await self._release()

    async def _release(self) -> None:
        """Close what was opened for this run, even when it is being cancelled."""
        cleanup, self.cleanup = self.cleanup, None
        if cleanup is not None:
            with anyio.CancelScope(shield=True):
                await cleanup.aclose()

    async def _ended(self, error: BaseException) -> None:
        """The run ends on `error`: annotate it, and tell the hooks (even when cancelled)."""
        if isinstance(error, APIError | AgentRunError):
            self._annotate(error)
        if self.hooks is not None:
            with anyio.CancelScope(shield=True):
                await self.hooks.call("on_run_end", self.info, None, error)

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
            if spec.handoffs:
                chosen = next(
                    (c for c in calls if c.function.name in spec.handoffs and c.id not in answered),
                    None,
                )
                if chosen is not None:
                    await self._hand_over(chosen, calls, answered)
                    return None  # the receiving agent's first request comes next
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
        return await self._accept(output)

    async def _accept(self, output: Any) -> OutputStep:
        """Finish on `output` once every output guardrail has passed it."""
        if self.spec.output_guardrails:
            tripped = await _first_tripped(self.spec.output_guardrails, self.ctx, output)
            if tripped is not None:
                guardrail, verdict = tripped
                raise OutputGuardrailTripped(
                    f"output guardrail {guardrail.name!r} refused the answer"
                    + (f": {verdict.reason}" if verdict.reason else ""),
                    guardrail=guardrail.name, result=verdict, messages=self.messages,
                )
        return self._finish(output)

    async def _hand_over(
        self, chosen: ToolCall, calls: Sequence[ToolCall], answered: Collection[str]
    ) -> None:
        """Let the agent `chosen` names take over: its instructions, tools, output and limits
        from the next request on, with the same conversation (or what its filter keeps) and
        the same usage. The turn's other calls do not run: the new agent decides anew."""
        route = self.spec.handoffs[chosen.function.name]
        for call in calls:
            if call.id in answered:
                continue
            self._append_tool_message(
                call,
                f"Transferred to {route.agent_name}, who answers from here." if call is chosen
                else f"Not run: the conversation was transferred to {route.agent_name}.",
            )
        previous = self.spec.agent_name
        spec, system = await route.take_over(self.ctx, self.spec.model)
        messages = self.messages
        history = messages[1:] if messages and messages[0].get("role") == "system" else messages
        if route.input_filter is not None:
            history = [dict(m) for m in route.input_filter([dict(m) for m in history])]
        # In place: the state, the context and the hooks' RunInfo share this list.
        messages[:] = ([{"role": "system", "content": system}] if system else []) + list(history)
        state = self.state
        state.new_from = min(state.new_from, len(messages))
        state.agent_name = spec.agent_name
        state.output_name = spec.output.name
        state.model = spec.model_name
        state.capabilities = spec.capabilities.get(spec.cache_key) or spec.initial
        self.ctx.model = spec.model_name
        self.spec = spec
        self._definitions = spec.tool_definitions
        self._hidden = ()
        if self.info is not None:
            self.info.agent_name = spec.agent_name
            self.info.model = spec.model_name
        if self.emit is not None:
            await self.emit(AgentHandoff(previous, route.agent_name, chosen.id))
        if self.hooks is not None:
            await self.hooks.call("on_handoff", self.info, previous, route.agent_name)

    def _finish(self, output: Any) -> OutputStep:
        self.state.finished = True
        self.result = RunResult(
            output, self.messages, self.usage, self.state.new_from,
            state=self.state, sub_results=self.sub_results, agent_name=self.spec.agent_name,
        )
        return OutputStep(output)

    def _pause(self, interruptions: list[Interruption]) -> PausedStep:
        self.result = RunResult(
            cast(OutputT, None), self.messages, self.usage, self.state.new_from,
            state=self.state, interruptions=interruptions, sub_results=self.sub_results,
            agent_name=self.spec.agent_name,
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
        if spec.server_tools:
            tools = [*tools, *spec.server_tools]
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
        hooks = self.hooks
        fitting = self._fitter if self._fitter.active else None
        while True:
            request = self._build_request()
            if fitting is not None:
                try:
                    request = await fitting.fit(request)
                except AgentRunError:
                    self.state.turns -= 1  # nothing was sent: a resume asks again
                    raise
            if hooks is not None:
                await hooks.call("on_model_request", self.info, request)
            try:
                if spec.input_guardrails and self.state.turns == 1:
                    completion = await self._guarded_send(request)
                elif self.emit is None:
                    completion = await self._complete(request, on_retry=self._count_retry)
                else:
                    completion = await self._stream_turn(request, self.emit)
            except APIError as error:
                self.usage.add_response(None)  # the failed request still counts
                if hooks is not None:
                    await hooks.call("on_model_response", self.info, request, None, error)
                try:
                    refit = self._fitter.learn(error, request) and fallbacks < _MAX_FALLBACKS
                except AgentRunError:
                    self.state.turns -= 1
                    raise
                if refit:
                    fallbacks += 1
                    fitting = self._fitter
                    continue
                learned = (
                    self._fallback(error, request) if isinstance(error, BadRequestError) else None
                )
                if learned is None or fallbacks >= _MAX_FALLBACKS:
                    # No answer came, so the turn is not spent: a resume asks again.
                    self.state.turns -= 1
                    raise
                fallbacks += 1
                change = _describe_change(self.state.capabilities, learned)
                _log.info("%s rejected a request (%s); retrying with %s",
                          spec.model_name, error.message, change)
                if hooks is not None:
                    await hooks.call("on_fallback", self.info, error, change)
                self.state.capabilities = learned
                spec.capabilities[spec.cache_key] = learned
                continue
            except BaseException as error:
                if hooks is not None:
                    with anyio.CancelScope(shield=True):
                        await hooks.call("on_model_response", self.info, request, None, error)
                raise
            self.usage.add_response(completion.usage)
            usage = completion.usage
            if usage is not None and spec.pricer is not None and usage.cost_usd is None:
                cost = await spec.pricer(spec.model_name, usage)
                if cost is not None:
                    self.usage.add_cost(float(cost.usd), cost.source)
            if completion.__pydantic_extra__:
                note_server_side(completion.__pydantic_extra__, self.state.context, self.usage)
            if hooks is not None:
                await hooks.call("on_model_response", self.info, request, completion, None)
            return completion

    async def _guarded_send(self, request: dict[str, Any]) -> ChatCompletion:
        """The first request, sent while the input guardrails check the prompt: a tripped one
        cancels the request, and nothing of its answer is used."""
        spec = self.spec
        outcome: list[ChatCompletion] = []
        failures: list[BaseException] = []
        tripped: list[tuple[InputGuardrail, GuardrailResult]] = []
        prompt = prompt_text(self.messages)

        async with anyio.create_task_group() as group:
            async def send() -> None:
                try:
                    if self.emit is None:
                        outcome.append(
                            await self._complete(request, on_retry=self._count_retry)
                        )
                    else:
                        outcome.append(await self._stream_turn(request, self.emit))
                except Exception as error:  # re-raised below, outside the group
                    failures.append(error)
                    group.cancel_scope.cancel()

            async def check(guardrail: InputGuardrail) -> None:
                try:
                    verdict = await guardrail.run(self.ctx, prompt)
                except Exception as error:
                    failures.append(error)
                    group.cancel_scope.cancel()
                    return
                if verdict.tripped:
                    tripped.append((guardrail, verdict))
                    group.cancel_scope.cancel()

            for guardrail in spec.input_guardrails:
                group.start_soon(check, guardrail)
            group.start_soon(send)
        if tripped:
            guardrail, verdict = tripped[0]
            raise InputGuardrailTripped(
                f"input guardrail {guardrail.name!r} refused the prompt"
                + (f": {verdict.reason}" if verdict.reason else ""),
                guardrail=guardrail.name, result=verdict, messages=self.messages,
            )
        if failures:
            raise failures[0]
        return outcome[0]

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
        async with self._open_stream(request, on_retry=self._count_retry) as response:
            async for chunk in response:
                if not emit.wanted:
                    break  # nobody will read the events: `final()` reads the rest for less
                if not chunk.choices and chunk.__pydantic_extra__:
                    call = chunk.__pydantic_extra__.get("server_tool_call")
                    if call is not None:
                        await emit(ServerToolCalled.of(call))
                for choice in chunk.choices:
                    if choice.index != 0:
                        continue
                    delta = choice.delta
                    # `reasoning_text` reads `reasoning_content` or an extra field; most
                    # deltas have neither and are not worth the property's call.
                    if delta.reasoning_content or delta.__pydantic_extra__:
                        reasoning = delta.reasoning_text
                        if reasoning:
                            await emit(ReasoningDelta(reasoning))
                    fresh = False
                    content = delta.content
                    if content:
                        await emit(TextDelta(content))
                        if partial_text:
                            text.append(content)
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
                outcomes = {key: Outcome(text) for key, text in preset.items()}
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
        return await self._accept(output)

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
                    raise _rejected(retry, text) from None
        return value

    async def _call_output_function(self, function: Tool, arguments: Any, text: str) -> Any:
        """Call an output function with the arguments the model filled in."""
        ctx = replace(self.ctx, retry=self.state.output_failures, tool_name=function.name)
        try:
            return await function.invoke(arguments, ctx)
        except ModelRetry as retry:
            raise _rejected(retry, text) from None
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


def _rejected(retry: ModelRetry, text: str) -> OutputInvalid:
    """An answer a validator or an output function sent back with `ModelRetry`."""
    return OutputInvalid(
        f"Your answer was rejected: {retry.message}",
        errors=[{"loc": "", "msg": retry.message, "input": text}],
        raw_text=text,
    )


async def _first_tripped(
    guardrails: Sequence[OutputGuardrail], ctx: RunContext[Any], value: Any
) -> tuple[OutputGuardrail, GuardrailResult] | None:
    """Run `guardrails` on `value` concurrently; the first (in order) that tripped."""
    verdicts: list[GuardrailResult | None] = [None] * len(guardrails)
    failures: list[BaseException] = []

    async def check(index: int) -> None:
        try:
            verdicts[index] = await guardrails[index].run(ctx, value)
        except Exception as error:  # re-raised below, outside the group
            failures.append(error)

    async with anyio.create_task_group() as group:
        for index in range(len(guardrails)):
            group.start_soon(check, index)
    if failures:
        raise failures[0]
    for guardrail, verdict in zip(guardrails, verdicts, strict=True):
        if verdict is not None and verdict.tripped:
            return guardrail, verdict
    return None


def _describe_change(old: Capabilities, new: Capabilities) -> str:
    """What a fallback changed, in words for logs and hooks."""
    changes = [f"dropped {name!r}" for name in sorted(new.dropped - old.dropped)]
    if new.output_mode != old.output_mode:
        changes.append(f"output_mode={new.output_mode!r}")
    if new.strict_output != old.strict_output:
        changes.append(f"strict_output={new.strict_output}")
    return ", ".join(changes) or "no change"


def _names(word: str, text: str) -> bool:
    return re.search(rf"(?<![a-z0-9_]){re.escape(word)}(?![a-z0-9_])", text) is not None
