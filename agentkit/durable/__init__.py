"""Durable agent runs on DBOS (`pip install 'agentkit[dbos]'`): a run survives a crash or a
deploy and goes on where it stopped, without asking the model or running a tool twice.

```python
from dbos import DBOS
from agentkit.durable import DurableAgent

DBOS(config={"name": "support", "system_database_url": "sqlite:///support.sqlite",
             "application_version": "2026-12-02"})        # pin it: see below
durable = DurableAgent(agent)                  # before DBOS.launch(): it registers a workflow
DBOS.launch()                                  # recovers the runs a crash left unfinished
result = await durable.run("Refund order 42", workflow_id="order-42")
```

A run is a DBOS workflow named after the agent (`agentkit.<name>.run`); each model request
and each tool call is a DBOS step, whose result is saved as it finishes and read back, never
redone, when the workflow runs again. The step in flight at a crash does run again: tools see
`ctx.idempotency_key` (the workflow id and the step), the same on every attempt, to pass to
whatever charges or sends. The parallel calls of one turn draw their step numbers together, in
the model's order, before any of them starts, because DBOS identifies steps by position.

What to know, from the traps users of durable agents fall into:
- **Names are the contract.** The agent's `name` and its tool names identify the workflow and
  the steps; renaming one strands the runs in flight.
- **Pin `application_version`.** DBOS recovers only the runs of the same application version,
  which by default is a hash of the code: without a pinned version, a deploy leaves the runs
  of the old code PENDING forever.
- **`executor_id`.** A dead worker's PENDING runs are recovered by a process started with the
  same `executor_id` (DBOS config), or by DBOS Conductor; give each worker a stable one.
- **Approval is durable.** A run whose tool call needs approval waits inside its workflow
  (`DBOS.recv`): it survives restarts, and goes on once `decide(workflow_id, ...)` is called,
  from any process sharing the database. `interruptions(workflow_id)` tells what waits.
- **Deps are saved with the run** (pickled, as DBOS saves workflow inputs): a deps object that
  cannot pickle is refused at start, naming the field.
- **Streaming is buffered per step**: `run = await durable.start(prompt, stream=True)` and
  `async for event in run.events()`; a model request's events arrive when its step has
  finished (it is the step's saved result that is streamed, so a replay streams it again).
- **Usage is complete after a replay**: each request's usage (retries included) is part of
  its step's saved result.
"""

from __future__ import annotations

import contextvars
import dataclasses
import pickle
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from typing import Any, Generic, TypeVar

import pydantic_core

from .._model import ChatModel, RetryHook
from .._result import RunResult
from ..agent import Agent, Prompt
from ..context import RunContext
from ..errors import APIError, ConfigurationError, ModelRetry, ToolError, UserError
from ..events import (
    AgentEvent,
    FinalResult,
    PartialOutput,
    ReasoningDelta,
    TextDelta,
    ToolCallFinished,
    ToolCallStarted,
)
from ..state import Interruption, RunState
from ..tool import Tool, Toolset
from ..types.chat import ChatCompletion, ChatCompletionChunk

try:
    from dbos import DBOS, SetWorkflowID
except ImportError as exc:  # pragma: no cover - exercised by a subprocess test
    raise ConfigurationError(
        "durable runs need DBOS: pip install 'agentkit[dbos]'"
    ) from exc

__all__ = ["DECISIONS_TOPIC", "EVENTS_STREAM", "INTERRUPTIONS_EVENT", "DurableAgent", "DurableRun"]

DepsT = TypeVar("DepsT")
OutputT = TypeVar("OutputT")

INTERRUPTIONS_EVENT = "agentkit.interruptions"
"""The workflow event that lists the calls a paused run waits on."""
DECISIONS_TOPIC = "agentkit.decisions"
"""The DBOS message topic `decide` sends decisions on."""
EVENTS_STREAM = "agentkit.events"
"""The DBOS stream a run started with `stream=True` writes its events to."""

_EVENT_TYPES: dict[str, type[Any]] = {
    "text_delta": TextDelta, "reasoning_delta": ReasoningDelta,
    "tool_call_started": ToolCallStarted, "tool_call_finished": ToolCallFinished,
    "partial_output": PartialOutput,
}

# How long one durable wait for a decision lasts before it is simply taken up again: each wait
# is a step of its own, so a shorter one only costs a row in the log.
_DECISION_WAIT_S = 3600.0


@dataclass
class _Workflow:
    """What the steps of the durable run in this context share."""

    workflow_id: str
    agent_name: str
    # Step numbers drawn for the tool calls of the current turn, by call id.
    reserved: dict[str, Any] = field(default_factory=dict)
    turn: tuple[str, ...] = ()


_CURRENT: contextvars.ContextVar[_Workflow | None] = contextvars.ContextVar(
    "agentkit_durable_workflow", default=None
)


class DurableModel:
    """A `ChatModel` whose requests are DBOS steps inside a durable run (and plain outside)."""

    def __init__(self, inner: ChatModel, step_name: str) -> None:
        self.inner = inner
        self.step_name = step_name

    async def complete(
        self, request: Mapping[str, Any], *, on_retry: RetryHook | None = None
    ) -> ChatCompletion:
        """Answer one request; in a durable run, from the saved step when there is one."""
        if _CURRENT.get() is None:
            return await self.inner.complete(request, on_retry=on_retry)

        async def step() -> dict[str, Any]:
            retries: list[str] = []
            completion = await self.inner.complete(request, on_retry=lambda e: retries.append(e.message))
            return {"completion": completion.model_dump(mode="json"), "retries": retries}

        saved = await DBOS.run_step_async({"name": self.step_name}, step)
        _replay_retries(saved["retries"], on_retry)
        return ChatCompletion.model_validate(saved["completion"])

    @asynccontextmanager
    async def stream(
        self, request: Mapping[str, Any], *, on_retry: RetryHook | None = None
    ) -> AsyncIterator[Any]:
        """Stream one request; in a durable run the whole stream is one step, so its chunks
        arrive once the step has finished (buffered) and are read back from it on a replay."""
        if _CURRENT.get() is None:
            async with self.inner.stream(request, on_retry=on_retry) as live:
                yield live
            return

        async def step() -> dict[str, Any]:
            retries: list[str] = []
            chunks: list[dict[str, Any]] = []
            async with self.inner.stream(request, on_retry=lambda e: retries.append(e.message)) as live:
                async for chunk in live:
                    chunks.append(chunk.model_dump(mode="json"))
                completion = await live.final()
            return {"chunks": chunks, "completion": completion.model_dump(mode="json"), "retries": retries}

        saved = await DBOS.run_step_async({"name": self.step_name}, step)
        _replay_retries(saved["retries"], on_retry)
        yield _SavedStream(
            [ChatCompletionChunk.model_validate(c) for c in saved["chunks"]],
            ChatCompletion.model_validate(saved["completion"]),
        )


class _SavedStream:
    """A stream read back from a step's saved result."""

    def __init__(self, chunks: list[ChatCompletionChunk], completion: ChatCompletion) -> None:
        self._chunks = iter(chunks)
        self._completion = completion

    def __aiter__(self) -> _SavedStream:
        return self

    async def __anext__(self) -> ChatCompletionChunk:
        try:
            return next(self._chunks)
        except StopIteration:
            raise StopAsyncIteration from None

    async def final(self) -> ChatCompletion:
        return self._completion


def _replay_retries(messages: Sequence[str], on_retry: RetryHook | None) -> None:
    # The client retried inside the step; the run's usage counts each attempt, replay or not.
    if on_retry is not None:
        for message in messages:
            on_retry(APIError(message))


class _DurableTool(Tool):
    """A tool whose calls are DBOS steps inside a durable run: the same schema and options."""

    def __init__(self, inner: Tool, agent_name: str, redact: bool) -> None:
        self.__dict__.update(inner.__dict__)  # a view of the same tool, not a new definition
        self._inner = inner
        self._step_name = f"agentkit.{agent_name}.tool.{inner.name}"
        self._redact = redact

    async def invoke(self, arguments: Any, ctx: RunContext[Any] | None = None) -> Any:
        """Run the call as a step (or read its saved result back), outside durable runs as is."""
        workflow = _CURRENT.get()
        if workflow is None or ctx is None or ctx.tool_call_id is None:
            return await self._inner.invoke(arguments, ctx)
        reservation = _reservation(workflow, ctx)
        keyed = replace(ctx, idempotency_key=f"{workflow.workflow_id}:{reservation.step_id}")
        inner, redact = self._inner, self._redact

        async def step() -> tuple[str, str]:
            # What a step returns is saved (pickled): the outcome as text, never the live
            # exception or a value that might not pickle.
            try:
                return ("ok", inner.serialize(await inner.invoke(arguments, keyed)))
            except ModelRetry as retry:
                return ("retry", retry.message)
            except ToolError as error:
                return ("failed", error.message)
            except Exception as error:
                detail = "(details hidden)." if redact else f": {error}"
                return ("failed", f"the tool raised {type(error).__name__}{detail}")

        kind, text = await reservation.run_async({"name": self._step_name}, step)
        if kind == "retry":
            raise ModelRetry(text)
        if kind == "failed":
            raise ToolError(text, tool_name=self.name)
        return text


def _reservation(workflow: _Workflow, ctx: RunContext[Any]) -> Any:
    """This call's step, drawn with those of every other call of the turn still to run, in
    the model's order, by whichever call gets here first: DBOS numbers steps by position, and
    parallel calls reach their steps in any order."""
    assert ctx.tool_call_id is not None
    messages = ctx.messages
    index = len(messages) - 1
    while index >= 0 and messages[index].get("role") == "tool":
        index -= 1
    answered = {m.get("tool_call_id") for m in messages[index + 1 :]}
    turn = tuple(
        call["id"] for call in (messages[index].get("tool_calls") or ()) if call["id"] not in answered
    ) if index >= 0 else ()
    if turn != workflow.turn or ctx.tool_call_id not in workflow.reserved:
        # A new turn (or what is left of one after a pause): a step number for each call,
        # the unused ones (calls that wait for approval, or are not durable) left as gaps.
        workflow.turn = turn
        workflow.reserved = {call_id: DBOS.reserve_step() for call_id in turn}
    return workflow.reserved.pop(ctx.tool_call_id)


class DurableRun(Generic[OutputT]):
    """A durable run in progress: its workflow id, what it waits on, and its result."""

    def __init__(self, durable: DurableAgent[Any, OutputT], handle: Any) -> None:
        self._durable = durable
        self._handle = handle
        self.workflow_id: str = handle.workflow_id

    async def result(self) -> RunResult[OutputT]:
        """Wait for the run to finish (through any pauses for approval) and return its result."""
        return _result(await self._handle.get_result())

    async def interruptions(self, *, timeout: float = 0.0) -> list[Interruption]:
        """The calls the run waits on now (empty when it waits on none)."""
        return await self._durable.interruptions(self.workflow_id, timeout=timeout)

    async def decide(self, **decisions: Any) -> None:
        """Send decisions to the run: see `DurableAgent.decide`."""
        await self._durable.decide(self.workflow_id, **decisions)

    async def events(self) -> AsyncIterator[AgentEvent]:
        """The events of a run started with `stream=True`, from the first, until it ends
        (`PartialOutput.output` comes back as JSON data, not the output type)."""
        async for data in DBOS.read_stream_async(self.workflow_id, EVENTS_STREAM):
            kind = _EVENT_TYPES[data.pop("kind")]
            yield kind(**data)


class DurableAgent(Generic[DepsT, OutputT]):
    """An agent whose runs are DBOS workflows: model requests and tool calls are steps.

    Make it before `DBOS.launch()` (the workflow must be registered for DBOS to recover it)
    and with the same name in every process that may run or recover its runs.

    Args:
        agent: The agent; its `name` (or `name=`) names the workflow and its steps.
        name: The durable name, when the agent has none.

    Raises:
        ConfigurationError: Neither the agent nor `name` gives a name.
    """

    def __init__(self, agent: Agent[DepsT, OutputT], *, name: str | None = None) -> None:
        durable_name = name or agent.name
        if not durable_name:
            raise ConfigurationError(
                "DurableAgent needs a stable name: Agent(..., name='support') or "
                "DurableAgent(agent, name='support'); it names the workflow and its steps"
            )
        self.name = durable_name
        self.agent = agent
        self.workflow_name = f"agentkit.{durable_name}.run"
        # The agent as the workflow runs it: requests and calls through steps; the original
        # stays as it was (a plain run of it is not durable).
        twin = agent.replace(client=DurableModel(agent._resolve_model(), f"agentkit.{durable_name}.model"))
        twin._toolset = Toolset(
            [_DurableTool(t, durable_name, agent._redact_tool_errors) for t in agent.tools]
        )
        self._twin = twin

        async def run_workflow(prompt: Prompt, deps: Any, stream: bool = False) -> dict[str, Any]:
            return await self._run_workflow(prompt, deps, stream)

        # DBOS registers functions, not bound methods; this one is found again by its name.
        self._workflow = DBOS.workflow(name=self.workflow_name)(run_workflow)

    async def start(
        self,
        prompt: Prompt,
        *,
        deps: DepsT | None = None,
        workflow_id: str | None = None,
        stream: bool = False,
    ) -> DurableRun[OutputT]:
        """Start a durable run (or attach to the one with `workflow_id`, which DBOS runs once).

        With `stream=True` the run writes its events to a DBOS stream that `run.events()`
        reads, from this process or another: text and reasoning deltas, tool calls, partial
        output. They are buffered per step: a model request's events come once its step has
        finished (it is the step's saved result that is streamed, so a replay streams the
        same events again without asking the model).

        Raises:
            ConfigurationError: `deps` cannot be saved with the run; the message names the field.
        """
        return await self._launch(DBOS.start_workflow_async, prompt, deps, workflow_id, stream)

    async def enqueue(
        self, queue: Any, prompt: Prompt, *, deps: DepsT | None = None, workflow_id: str | None = None
    ) -> DurableRun[OutputT]:
        """Put a run on a DBOS queue (`await DBOS.register_queue_async(name, worker_concurrency=8,
        limiter=...)`): any worker process on the same database that registered the queue takes
        it, within the queue's concurrency and rate limits. An id already used attaches to that
        run, so enqueueing a batch again with the same ids resumes it.

        Raises:
            ConfigurationError: `deps` cannot be saved with the run.
        """
        return await self._launch(queue.enqueue_async, prompt, deps, workflow_id)

    async def _launch(
        self, begin: Any, prompt: Prompt, deps: Any, workflow_id: str | None, stream: bool = False
    ) -> DurableRun[OutputT]:
        """Start the workflow with `begin` (DBOS's start or a queue's enqueue), under its id."""
        _check_picklable(deps)
        if workflow_id is None:
            handle = await begin(self._workflow, prompt, deps, stream)
        else:
            with SetWorkflowID(workflow_id):
                handle = await begin(self._workflow, prompt, deps, stream)
        return DurableRun(self, handle)

    async def run(
        self, prompt: Prompt, *, deps: DepsT | None = None, workflow_id: str | None = None
    ) -> RunResult[OutputT]:
        """Run durably to the end. A call that needs approval makes the run wait (durably)
        until `decide` is called for it; use `start` to watch for that."""
        run = await self.start(prompt, deps=deps, workflow_id=workflow_id)
        return await run.result()

    async def result(self, workflow_id: str) -> RunResult[OutputT]:
        """Wait for the run `workflow_id` (started here, elsewhere, or being recovered) to end
        and return its result."""
        handle: Any = await DBOS.retrieve_workflow_async(workflow_id)
        return _result(await handle.get_result())

    async def interruptions(self, workflow_id: str, *, timeout: float = 0.0) -> list[Interruption]:
        """The calls the run `workflow_id` waits on (empty when none), waiting up to `timeout`
        seconds for the run to say."""
        listed = await DBOS.get_event_async(workflow_id, INTERRUPTIONS_EVENT, timeout_seconds=timeout)
        return [Interruption(**item) for item in listed or ()]

    async def decide(
        self,
        workflow_id: str,
        *,
        approve: Sequence[str] = (),
        reject: Mapping[str, str | None] | Sequence[str] = (),
        results: Mapping[str, Any] | None = None,
    ) -> None:
        """Decide on the calls a durable run waits on, from any process on the same database.

        Args:
            workflow_id: The run.
            approve: Call ids to approve.
            reject: Call ids to reject, or a mapping of call id to the reason the model reads.
            results: Results of deferred calls, by call id (JSON-able values).

        Raises:
            UserError: A call id the run does not wait on.
        """
        waiting = {i.call_id for i in await self.interruptions(workflow_id)}
        reasons = dict(reject) if isinstance(reject, Mapping) else dict.fromkeys(reject)
        named = set(approve) | set(reasons) | set(results or {})
        unknown = sorted(named - waiting)
        if unknown:
            raise UserError(
                f"run {workflow_id!r} does not wait on {', '.join(unknown)}; it waits on "
                f"{', '.join(sorted(waiting)) or 'nothing'}"
            )
        message = {"approve": list(approve), "reject": reasons, "results": dict(results or {})}
        await DBOS.send_async(workflow_id, message, topic=DECISIONS_TOPIC)

    async def _run_workflow(self, prompt: Prompt, deps: Any, stream: bool) -> dict[str, Any]:
        workflow_id = DBOS.workflow_id
        assert workflow_id is not None
        token = _CURRENT.set(_Workflow(workflow_id, self.name))
        try:
            result = await self._go(deps, stream, prompt=prompt)
            while result.paused:
                state = result.state
                await DBOS.set_event_async(INTERRUPTIONS_EVENT, [_listed(i) for i in state.pending])
                message = None
                while message is None:  # each wait is a step; a long pause is many of them
                    message = await DBOS.recv_async(DECISIONS_TOPIC, timeout_seconds=_DECISION_WAIT_S)
                _apply(state, message)
                await DBOS.set_event_async(INTERRUPTIONS_EVENT, [_listed(i) for i in state.pending])
                result = await self._go(deps, stream, state=state)
            if stream:
                await DBOS.close_stream_async(EVENTS_STREAM)
        finally:
            _CURRENT.reset(token)
        return {"output": result.output, "state": result.state.to_json()}

    async def _go(
        self, deps: Any, stream: bool, *, prompt: Prompt | None = None, state: RunState | None = None
    ) -> RunResult[OutputT]:
        """Run (or resume) the agent once in the workflow, its events written out if asked."""
        if not stream:
            return await self._twin.run(prompt, deps=deps, state=state)
        async with self._twin.run_stream(prompt, deps=deps, state=state) as events:
            async for event in events:
                if not isinstance(event, FinalResult):
                    await DBOS.write_stream_async(EVENTS_STREAM, _event_data(event))
            return events.result


def _event_data(event: AgentEvent) -> dict[str, Any]:
    """An event as the stream saves it: plain data (a partial output as JSON)."""
    data = {name: getattr(event, name) for name in event.__dataclass_fields__}
    if isinstance(event, PartialOutput):
        data["output"] = pydantic_core.to_jsonable_python(event.output, fallback=str)
    return data


def _listed(interruption: Interruption) -> dict[str, Any]:
    return {"call_id": interruption.call_id, "tool_name": interruption.tool_name,
            "arguments": interruption.arguments, "values": interruption.values,
            "kind": interruption.kind}


def _apply(state: RunState, message: Mapping[str, Any]) -> None:
    waiting = {i.call_id for i in state.pending}
    for call_id in message.get("approve", ()):
        if call_id in waiting:
            state.approve(call_id)
    for call_id, reason in (message.get("reject") or {}).items():
        if call_id in waiting:
            state.reject(call_id, reason)
    for call_id, value in (message.get("results") or {}).items():
        if call_id in waiting:
            state.set_result(call_id, value)


def _result(saved: Mapping[str, Any]) -> RunResult[Any]:
    state = RunState.from_json(saved["state"])
    return RunResult(saved["output"], state.messages, state.usage, state.new_from, state=state)


def _check_picklable(deps: Any) -> None:
    """Refuse deps that DBOS could not save with the run, naming the part that fails."""
    try:
        pickle.dumps(deps)
    except Exception as exc:
        where = _unpicklable_part(deps)
        raise ConfigurationError(
            f"deps cannot be saved with a durable run: {where} does not pickle ({exc}); "
            "keep clients, connections and locks out of deps (make them in the tool, or "
            "where the worker starts) and pass what identifies them instead"
        ) from exc


def _unpicklable_part(value: Any, path: str = "deps", depth: int = 0) -> str:
    parts: list[tuple[str, Any]] = []
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        parts = [(f.name, getattr(value, f.name)) for f in dataclasses.fields(value)]
    elif isinstance(value, Mapping):
        parts = [(repr(key), item) for key, item in value.items()]
    elif hasattr(value, "__dict__") and not isinstance(value, type):
        parts = list(vars(value).items())
    for name, item in parts:
        try:
            pickle.dumps(item)
        except Exception:
            inner = f"{path}.{name}" if not name.startswith("'") else f"{path}[{name}]"
            return _unpicklable_part(item, inner, depth + 1) if depth < 5 else inner
    return f"{path} ({type(value).__name__})"

