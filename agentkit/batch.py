"""Run one agent over many prompts: `run_batch`, with bounded concurrency and no lost item.

A batch is unattended, so every item ends as a `BatchResult`: its output, or one line saying
why it has none (the run failed, or paused for a decision nobody is there to make). A failing
item never stops the others. Results come back in input order, and `on_result` sees each one
as it finishes, so a caller can record progress durably while the batch goes on.

Concurrency is a fixed pool of workers pulling from the inputs, never one task per item: a
batch of a million prompts holds `concurrency` runs in flight and reads its inputs lazily.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import anyio
import anyio.lowlevel
from anyio.abc import TaskGroup

from ._call import Prompt
from ._cli_prompts import describe
from ._result import RunResult
from .agent import Agent
from .errors import ConfigurationError, UserError
from .usage import RunUsage

if TYPE_CHECKING:
    from .durable import DurableAgent

__all__ = ["BatchInput", "BatchResult", "OnResult", "run_batch"]

OutputT = TypeVar("OutputT")


@dataclass(frozen=True)
class BatchInput:
    """One run of a batch.

    Attributes:
        prompt: The user's message: text, a message dict, or a list of messages.
        id: The item's name in the results; default: its position in the inputs ("0", "1"...).
            Ids must be unique within a batch.
        deps: The run's `deps`.
    """

    prompt: Prompt
    id: str | None = None
    deps: Any = None


@dataclass(frozen=True)
class BatchResult(Generic[OutputT]):
    """How one item of a batch ended.

    Attributes:
        id: The item's id (its `BatchInput.id`, or its position as text).
        index: The item's position in the inputs, from 0.
        output: The run's output; None when it failed or paused.
        usage: What the run consumed, a failed run's too (what it spent before it stopped).
        error: None on success; else one line, `"TypeName: message"`, or
            `"paused: waits for approval of name({...})"` for a run that paused.
        paused: Whether the run paused for approval or a deferred result (`error` says which).
    """

    id: str
    index: int
    output: OutputT | None
    usage: RunUsage
    error: str | None = None
    paused: bool = False

    @property
    def ok(self) -> bool:
        """Whether the run finished with an output."""
        return self.error is None


OnResult = Callable[[BatchResult[Any]], "Awaitable[None] | None"]
"""Called with each result as its run finishes (sync or async)."""


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _error_text(error: BaseException) -> str:
    """`"TypeName: message"` on one line, as a batch records a failure."""
    message = _one_line(str(error))
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


def _paused_text(result: RunResult[Any]) -> str:
    waits = ", ".join(
        f"{'approval' if call.kind == 'approval' else 'a result'} of {describe(call)}"
        for call in result.interruptions
    )
    return f"paused: waits for {waits}"


async def _run_item(agent: Agent[Any, OutputT] | DurableAgent[Any, OutputT], item: BatchInput,
                    *, index: int, item_id: str) -> BatchResult[OutputT]:
    """Run one item to its `BatchResult`; never raises but for cancellation.

    This is the one place a batch runs an agent; a durable batch runs items the same way
    through `_durable_runner`, and the batch knows nothing else of the difference.
    """
    return await _outcome(agent.run(item.prompt, deps=item.deps), index=index, item_id=item_id)


def _durable_runner(agent: Any, queue: Any, batch_id: str | None) -> Any:
    from .durable import DurableAgent  # the extra, imported only for a durable batch

    if not isinstance(agent, DurableAgent):
        raise ConfigurationError(
            "a durable batch runs a DurableAgent: make DurableAgent(agent) before "
            "DBOS.launch() and pass it to run_batch(..., durable=True)"
        )
    if queue is None or not batch_id:
        raise ConfigurationError(
            "a durable batch needs queue= (await DBOS.register_queue_async(name, ...)) and a "
            "batch_id= naming it, so that running it again resumes it"
        )

    async def run_item(item: BatchInput, *, index: int, item_id: str) -> BatchResult[Any]:
        async def durable_run() -> RunResult[Any]:
            run = await agent.enqueue(queue, item.prompt, deps=item.deps,
                                      workflow_id=f"{batch_id}:{item_id}")
            return await run.result()

        return await _outcome(durable_run(), index=index, item_id=item_id)

    return run_item


async def _outcome(running: Awaitable[RunResult[OutputT]], *, index: int,
                   item_id: str) -> BatchResult[OutputT]:
    try:
        result = await running
    except Exception as error:  # an unattended batch records every failure
        state = getattr(error, "state", None)
        usage = state.usage if state is not None else RunUsage()
        return BatchResult(item_id, index, None, usage, _error_text(error))
    if result.paused:
        return BatchResult(item_id, index, None, result.usage, _paused_text(result), paused=True)
    return BatchResult(item_id, index, result.output, result.usage)


def _as_input(value: Any, index: int) -> tuple[str, BatchInput]:
    """The item's id and the item itself; a value of the wrong kind is a `UserError`."""
    if isinstance(value, str):
        return str(index), BatchInput(value)
    if not isinstance(value, BatchInput):
        raise UserError(
            f"batch input {index} is a {type(value).__name__}; give a str prompt or a "
            "BatchInput(prompt, id=..., deps=...)"
        )
    if value.id is None:
        return str(index), value
    if not isinstance(value.id, str):
        raise UserError(f"batch input {index} has the id {value.id!r}; ids are strings")
    return value.id, value


class _Feed:
    """The inputs, handed out one at a time to whichever worker is free.

    Workers share one event loop and `take` never awaits, so no lock is needed. The first
    bad input stops the feed: the runs in flight finish and are reported, then the batch
    raises it.
    """

    def __init__(self, inputs: Iterator[Any], *, seen: set[str] | None) -> None:
        self._inputs = inputs
        self._next_index = 0
        # None when the ids were all checked before the batch started.
        self._seen = seen
        self.error: Exception | None = None
        self._exhausted = False

    def take(self) -> tuple[int, str, BatchInput] | None:
        """The next item with its index and id; None once the inputs end or one was bad."""
        if self._exhausted or self.error is not None:
            return None
        try:
            value = next(self._inputs)
            index = self._next_index
            item_id, item = _as_input(value, index)
            if self._seen is not None:
                if item_id in self._seen:
                    raise UserError(f"batch input {index} repeats the id {item_id!r}; ids must be unique")
                self._seen.add(item_id)
        except StopIteration:
            # Some iterators do not stay exhausted; each worker asking again must not matter.
            self._exhausted = True
            return None
        except Exception as error:  # a failing input iterator stops the feed
            self.error = error
            return None
        self._next_index += 1
        return index, item_id, item


def _check(inputs: Sequence[Any]) -> None:
    """Check every item of a sequence before anything runs."""
    first: dict[str, int] = {}
    for index, value in enumerate(inputs):
        item_id, _ = _as_input(value, index)
        if item_id in first:
            raise UserError(
                f"batch inputs {first[item_id]} and {index} have the same id {item_id!r}; "
                "ids must be unique"
            )
        first[item_id] = index


async def run_batch(
    agent: Agent[Any, OutputT] | DurableAgent[Any, OutputT],
    inputs: Iterable[BatchInput | str],
    *,
    concurrency: int = 8,
    on_result: OnResult | None = None,
    durable: bool = False,
    queue: Any = None,
    batch_id: str | None = None,
) -> list[BatchResult[OutputT]]:
    """Run `agent` on every input, at most `concurrency` runs at a time.

    With `durable=True`, `agent` is a `DurableAgent` and each item is a durable run put on the
    DBOS `queue` (`await DBOS.register_queue_async(name, worker_concurrency=...)`), with the
    workflow id `"{batch_id}:{item id}"`: every process on the same database that registered
    the queue works on the batch, within the queue's limits, and running the same batch again
    (same `batch_id` and ids) attaches to the runs already made instead of running them twice.
    `concurrency` is then how many runs this call keeps enqueued at once. A durable item that
    needs approval waits for it (`DurableAgent.decide`), durably, as any durable run does.

    Args:
        agent: The agent; each item is one `agent.run(prompt, deps=...)` (or a durable run).
        inputs: Prompts (str) or `BatchInput`s. A sequence is checked whole (types, unique
            ids) before anything runs; any other iterable is read lazily, one item per free
            worker, and checked as it is read.
        concurrency: Most runs in flight.
        on_result: Called with each result as its run finishes, in completion order (awaited
            when it returns an awaitable). What it raises cancels the batch and is raised:
            results that cannot be recorded should not be paid for.
        durable: Run each item durably on `queue` (see above).
        queue: The DBOS queue of a durable batch.
        batch_id: Names a durable batch: the prefix of its runs' workflow ids.

    Returns:
        One result per input, in input order. A run that failed or paused is a result with
        `error` set; the batch goes on without it.

    Raises:
        ConfigurationError: `concurrency` is not an integer of at least 1, or a durable batch
            lacks its `DurableAgent`, `queue` or `batch_id`.
        UserError: An input is neither a str nor a `BatchInput`, or repeats an id. For a
            lazy iterable this is found when the item is read: no new run starts, the runs
            in flight finish (and reach `on_result`), then the error is raised. An exception
            from the iterable itself is raised the same way.
    """
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ConfigurationError(f"concurrency must be an integer of at least 1, got {concurrency!r}")
    run_item = _durable_runner(agent, queue, batch_id) if durable else partial(_run_item, agent)
    if isinstance(inputs, str | bytes | Mapping):
        raise UserError(
            f"run_batch() takes an iterable of prompts, not one {type(inputs).__name__}; "
            "wrap a single prompt in a list"
        )
    if isinstance(inputs, Sequence):
        _check(inputs)
        feed = _Feed(iter(inputs), seen=None)
        workers = min(concurrency, len(inputs))
    else:
        feed = _Feed(iter(inputs), seen=set())
        workers = concurrency
    results: dict[int, BatchResult[OutputT]] = {}
    failure: list[BaseException] = []

    async def work(group: TaskGroup) -> None:
        while (taken := feed.take()) is not None:
            index, item_id, item = taken
            result = await run_item(item, index=index, item_id=item_id)
            results[index] = result
            if on_result is not None:
                try:
                    pending = on_result(result)
                    if inspect.isawaitable(pending):
                        await pending
                except Exception as error:  # raised plainly once the group ends
                    if not failure:
                        failure.append(error)
                    group.cancel_scope.cancel()
                    return
            # A run that never waits (an in-process model) must not keep the other workers,
            # nor a caller's progress display, from their turn.
            await anyio.lowlevel.checkpoint()

    async with anyio.create_task_group() as group:
        for _ in range(workers):
            group.start_soon(work, group)
    if failure:
        raise failure[0]
    if feed.error is not None:
        raise feed.error
    return [results[index] for index in range(len(results))]
