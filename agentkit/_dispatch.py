"""One turn's tool calls: what stands between each call and its run (a decision on the run's
state, a pause for one, an approval policy), the calls run concurrently in a task group, and
their results appended in the model's order.

`ToolTurn` is the part of `AgentRun` that does this; the loop (`_run.py`) decides when.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import anyio
import pydantic_core

from .context import RunContext
from .errors import (
    ModelRetry,
    ToolArgumentsError,
    ToolError,
    ToolRetriesExceeded,
    UsageLimitExceeded,
)
from .events import ToolCallFinished, ToolCallStarted
from .state import Interruption, RunState, ToolCallRequest
from .steps import PausedStep, ToolResultsStep
from .tool import serialize_result
from .types.chat import ToolCall
from .usage import RunUsage

if TYPE_CHECKING:
    from ._result import RunResult
    from ._spec import Emit, RunSpec
    from .hooks import HookSet, RunInfo

__all__ = ["Outcome", "ToolTurn"]

_log = logging.getLogger("agentkit.agent")


class Outcome:
    """The text a tool call sends back, whether it was a failure, and whether a tool ran."""

    __slots__ = ("content", "failed", "invoked")

    def __init__(self, content: str, *, failed: bool = False, invoked: bool = False) -> None:
        self.content = content
        self.failed = failed
        self.invoked = invoked


class ToolTurn:
    """Runs the tool calls of a turn for an `AgentRun` (whose attributes these are)."""

    spec: RunSpec
    state: RunState
    ctx: RunContext[Any]
    messages: list[dict[str, Any]]
    usage: RunUsage
    emit: Emit | None
    hooks: HookSet | None
    info: RunInfo | None
    sub_results: dict[str, RunResult[Any]]
    _hidden: Collection[str]
    _stepping: bool
    _pause: Callable[[list[Interruption]], PausedStep]  # the loop's: a pause ends the run

    async def _run_tools(
        self, calls: Sequence[ToolCall], preset: Mapping[str, str], answered: Collection[str]
    ) -> ToolResultsStep | PausedStep | None:
        """Handle `calls` not yet `answered`: a `preset` answer, a decision made on the run's
        state, a pause for the calls that wait for one, or a run; append every result in the
        model's order."""
        spec, state = self.spec, self.state
        todo = [call for call in calls if call.id not in answered] if answered else calls
        outcomes: dict[str, Outcome] = {}
        if preset:
            outcomes = {call.id: Outcome(preset[call.id]) for call in todo if call.id in preset}
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

    async def _gate(self, call: ToolCall) -> Outcome | Interruption | None:
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
                    return Outcome(tool.serialize(text))
                return Outcome(self._cap(text))
            if decision.get("approved"):
                return None
            reason = decision.get("reason")
            return Outcome(self._cap(
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
            return Outcome(self._cap(retry.message), failed=True)
        except Exception as error:  # a failing policy fails the call, never runs it
            detail = "(details hidden)" if self.spec.redact_tool_errors else f": {error}"
            return Outcome(self._cap(
                f"Error: the approval check of {name} raised {type(error).__name__}{detail}"
            ), failed=True)
        return Interruption(call.id, name, arguments, shown, kind="approval") if needed else None

    def _transcript(
        self, calls: Sequence[ToolCall], outcomes: Mapping[str, Outcome], unanswered: str
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

    async def _call_tool(self, call: ToolCall) -> Outcome:
        hooks = self.hooks
        if hooks is None:
            return await self._call_tool_unhooked(call)
        await hooks.call("on_tool_start", self.info, call)
        try:
            outcome = await self._call_tool_unhooked(call)
        except BaseException as error:  # cancelled, or an event listener failed
            with anyio.CancelScope(shield=True):
                await hooks.call("on_tool_end", self.info, call, f"Error: {type(error).__name__}", True)
            raise
        await hooks.call("on_tool_end", self.info, call, outcome.content, outcome.failed)
        return outcome

    async def _call_tool_unhooked(self, call: ToolCall) -> Outcome:
        name = call.function.name
        arguments = call.function.arguments
        emit = self.emit
        if emit is not None:
            await emit(ToolCallStarted(call.id, name, arguments))
        # Only the agent's own tools are ever looked up: a name the model read somewhere (a
        # hostile tool result, say) and invented is an error, never a call.
        tool = self.spec.tools.get(name) if name not in self._hidden else None
        if tool is None:
            outcome = Outcome(
                self._cap(f"Error: there is no tool named {name!r}. {self._available()}"),
                failed=True,
            )
        else:
            try:
                value = await tool.invoke(arguments, self._tool_context(name, call.id))
            except ModelRetry as retry:  # ToolRetry included
                outcome = Outcome(self._cap(retry.message), failed=True, invoked=True)
            except ToolError as error:  # bad arguments, timeout: the message is for the model
                outcome = Outcome(self._cap(f"Error: {error.message}"), failed=True, invoked=True)
            except Exception as error:
                outcome = Outcome(self._cap(self._describe(error)), failed=True, invoked=True)
            else:
                try:
                    text = tool.serialize(value)
                except Exception as error:  # a result that cannot become text is a failure
                    outcome = Outcome(
                        self._cap(f"Error: the tool's result could not be turned into text "
                                  f"({type(error).__name__})"),
                        failed=True, invoked=True,
                    )
                else:
                    if tool.max_result_chars is None:
                        text = self._cap(text)
                    outcome = Outcome(text, invoked=True)
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
