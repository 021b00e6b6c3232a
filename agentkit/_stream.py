"""`AgentStream`: a streaming run, owned by an `async with` block, read as events."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, Protocol, Self, TypeVar

import anyio

from ._result import RunResult
from .errors import UserError
from .events import AgentEvent, FinalResult

if TYPE_CHECKING:
    from anyio.abc import TaskGroup

    from ._run import AgentRun

__all__ = ["AgentStream"]

OutputT = TypeVar("OutputT")

# A small buffer: the run may get a little ahead of the reader, not arbitrarily far.
_BUFFER = 64


class _Handoff:
    """The events on their way from the run task to the reader: a bounded queue.

    An anyio memory object stream costs two passes of the event loop per event (its `send`
    and its `receive` each yield before they look); here a send that finds room returns at
    once, and the reader, woken once, takes every event queued meanwhile. A full queue makes
    the run wait for the reader, as the memory stream did.
    """

    __slots__ = ("_closed", "_detached", "_event_class", "_ignored", "_items", "_readable",
                 "_writable")

    def __init__(self) -> None:
        self._items: deque[AgentEvent] = deque()
        self._closed = False  # the run sends no more
        self._ignored = False  # the reader waits for the end only: events are dropped
        self._detached = False  # the reader has gone: a send fails
        self._readable: anyio.Event | None = None  # set when an event or the end comes
        self._writable: anyio.Event | None = None  # set when the reader makes room
        # The running backend's own Event class, found at the first wait: `anyio.Event()`
        # looks the backend up each time, which costs more than the event itself.
        self._event_class: Callable[[], anyio.Event] | None = None

    def _event(self) -> anyio.Event:
        make = self._event_class
        if make is None:
            event = anyio.Event()
            self._event_class = type(event)
            return event
        return make()

    @property
    def wanted(self) -> bool:
        """Whether a reader will look at the events sent from now on."""
        return not (self._ignored or self._detached)

    async def __call__(self, event: AgentEvent) -> None:
        """Queue `event`; wait only while the queue is full."""
        if self._ignored and not self._detached:
            return
        items = self._items
        while len(items) >= _BUFFER and not (self._detached or self._ignored):
            if self._writable is None:
                self._writable = self._event()
            await self._writable.wait()
        if self._detached:
            raise anyio.BrokenResourceError("the stream's reader has gone")
        if self._ignored:
            return
        if self._closed:
            raise anyio.ClosedResourceError("the run's events have ended")
        items.append(event)
        readable = self._readable
        if readable is not None:
            self._readable = None
            readable.set()

    def close(self) -> None:
        """The run sends no more: the reader ends once it has taken what is queued."""
        self._closed = True
        self._wake(reader=True)

    def ignore(self) -> None:
        """The reader waits for the end and looks at no event: drop them, queued or coming."""
        self._ignored = True
        self._items.clear()
        self._wake(reader=False)

    def detach(self) -> None:
        """The reader has gone: drop what is queued, and let a waiting sender fail."""
        self._detached = True
        self._items.clear()
        self._wake(reader=False)

    def take(self) -> AgentEvent | None:
        """The next event if one is queued, else None."""
        if not self._items:
            return None
        event = self._items.popleft()
        writable = self._writable
        if writable is not None:
            self._writable = None
            writable.set()
        return event

    async def receive(self) -> AgentEvent:
        """The next event; `anyio.EndOfStream` once the run has ended (or the reader left)."""
        while not self._items:
            if self._closed or self._detached:
                raise anyio.EndOfStream
            if self._readable is None:
                self._readable = self._event()
            await self._readable.wait()
        event = self.take()
        assert event is not None
        return event

    def _wake(self, *, reader: bool) -> None:
        if reader:
            waiting, self._readable = self._readable, None
        else:
            waiting, self._writable = self._writable, None
        if waiting is not None:
            waiting.set()


class _RunTask(Protocol):
    """The task a stream's run goes on in, owned by the stream's `async with` block."""

    def begin(self) -> None:
        """Start the run now if it has not started: a reader is waiting for its events."""
        ...

    def claim(self) -> Coroutine[Any, Any, None] | None:
        """The run, for the caller to await in its own task, if nothing has started it yet
        and the caller is the task that owns the block; else None."""
        ...

    def cancel(self) -> None:
        """Ask the run to stop (it is cancelled at its next wait)."""
        ...

    async def wait(self) -> None:
        """Return once the run has ended; the run outlives no block, even a cancelled one."""
        ...


class _AsyncioRunTask:
    """The run as a plain asyncio task in a cancel scope of its own: a third of the cost of a
    task group and its task.

    The scope, not `Task.cancel()`, stops the run, so that the shielded steps inside it (hooks
    told of the end, state written out) finish as they would in a task group. The group would
    also cancel the run when a scope around the block is cancelled; here the reader is
    cancelled instead, which leaves the block, and leaving cancels the run: the same end.

    The task is made at the next pass of the event loop, when a task made at once would first
    run anyway. A reader that asks for the result alone before then runs the run itself (see
    `claim`): no task, no hand-off, as cheap as `agent.run()`.
    """

    __slots__ = ("_context", "_loop", "_owner", "_run", "_scope", "_start", "_task")

    def __init__(self, run: Coroutine[Any, Any, None]) -> None:
        loop = self._loop = asyncio.get_running_loop()
        self._owner = asyncio.current_task(loop)
        self._run: Coroutine[Any, Any, None] | None = run  # None once a task or caller has it
        self._scope: anyio.CancelScope | None = None  # made with the task
        self._task: asyncio.Task[None] | None = None
        # The run sees the context of the block's entry, as a task made there would.
        self._context = contextvars.copy_context()
        self._start = loop.call_soon(self.begin, context=self._context)

    def begin(self) -> None:
        run, self._run = self._run, None
        if run is not None:
            self._start.cancel()
            self._scope = anyio.CancelScope()
            self._task = self._loop.create_task(self._in_scope(run, self._scope),
                                                context=self._context)

    def claim(self) -> Coroutine[Any, Any, None] | None:
        if self._run is None or asyncio.current_task(self._loop) is not self._owner:
            return None
        run, self._run = self._run, None
        self._start.cancel()
        return run

    @staticmethod
    async def _in_scope(run: Coroutine[Any, Any, None], scope: anyio.CancelScope) -> None:
        with scope:
            await run

    def cancel(self) -> None:
        run, self._run = self._run, None
        if run is not None:  # never started: nothing ran, nothing to stop
            self._start.cancel()
            run.close()
        if self._scope is not None:
            self._scope.cancel()

    async def wait(self) -> None:
        task = self._task
        if task is None:
            return  # never started, or run by the block's own task, which is here now
        if not task.done():
            try:
                await asyncio.wait((task,))
            except asyncio.CancelledError:
                # This block is cancelled too: still wait for the run's end (shielded, or the
                # cancellation would wake this task at every pass of the loop), then go on.
                with anyio.CancelScope(shield=True):
                    while not task.done():
                        with contextlib.suppress(asyncio.CancelledError):  # a bare Task.cancel
                            await asyncio.wait((task,))
                raise
        failure = None if task.cancelled() else task.exception()
        if failure is not None:  # not an Exception: the run hands those to the reader
            raise failure


class _TaskGroupRunTask:
    """The run in an anyio task group, on event loops other than asyncio (trio)."""

    __slots__ = ("_group",)

    def __init__(self, group: TaskGroup) -> None:
        self._group = group

    @classmethod
    async def start(cls, run: Callable[[], Coroutine[Any, Any, None]]) -> _TaskGroupRunTask:
        group = anyio.create_task_group()
        await group.__aenter__()
        group.start_soon(run)
        return cls(group)

    def begin(self) -> None:
        pass  # started with the group

    def claim(self) -> Coroutine[Any, Any, None] | None:
        return None  # started with the group

    def cancel(self) -> None:
        self._group.cancel_scope.cancel()

    async def wait(self) -> None:
        # The block's own exception is not the group's business: passed in, it would come
        # back wrapped in an ExceptionGroup. The run task never raises (it hands its error
        # to the reader), so the group only waits here for the task to end.
        await self._group.__aexit__(None, None, None)


class AgentStream(Generic[OutputT]):
    """A streaming run: an async context manager and an async iterator of `AgentEvent`s.

    The run goes on in a task the `async with` block owns: leaving the block (early or on an
    error) cancels it, in-flight tool calls and HTTP requests included. Iteration ends after
    the `FinalResult` event, or raises the run's error.
    """

    def __init__(
        self,
        start: Callable[..., Awaitable[AgentRun[Any]]],
        finish: Callable[[RunResult[Any]], Awaitable[None]],
    ) -> None:
        self._start: Callable[..., Awaitable[AgentRun[Any]]] = start  # start(emit=...)
        self._finish = finish
        self._result: RunResult[OutputT] | None = None
        self._error: Exception | None = None
        self._task: _RunTask | None = None
        self._events: _Handoff | None = None
        self._running = False  # the run task has not ended

    async def __aenter__(self) -> Self:
        if self._events is not None:
            raise UserError("a run stream can be entered once; call agent.run_stream() again")
        events = self._events = _Handoff()
        self._running = True
        loop = asyncio._get_running_loop()
        if loop is not None and asyncio.current_task(loop) is not None:
            self._task = _AsyncioRunTask(self._drive(events))
        else:
            self._task = await _TaskGroupRunTask.start(lambda: self._drive(events))
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        assert self._task is not None
        assert self._events is not None
        if self._running:  # a run read to its end has nothing left to cancel
            self._task.cancel()
        try:
            await self._task.wait()
        finally:
            self._events.detach()
        if exc_type is None and self._error is not None:
            # The run failed and nobody read the error from the iterator: do not lose it.
            error, self._error = self._error, None
            raise error
        return None

    async def _drive(self, events: _Handoff) -> None:
        try:
            run = await self._start(emit=events)
            result = await run.run()
            await self._finish(result)
            self._result = result
            await events(FinalResult(result))
        except Exception as error:  # handed to the reader; cancellation passes through
            self._error = error
        finally:
            self._running = False
            events.close()

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> AgentEvent:
        events = self._events
        if events is None:
            raise UserError("use the stream inside `async with agent.run_stream(...) as stream:`")
        event = events.take()  # most events are queued already: no await for them
        if event is not None:
            return event
        if self._task is not None:
            self._task.begin()
        try:
            return await events.receive()
        except anyio.EndOfStream:
            if self._error is not None:
                error, self._error = self._error, None
                raise error from None
            raise StopAsyncIteration from None

    @property
    def result(self) -> RunResult[OutputT]:
        """The run's result, once the stream has been read to its end.

        Raises:
            UserError: The run has not finished (read the stream first, or `get_result()`).
        """
        if self._result is None:
            raise UserError("the run has not finished; iterate the stream or await get_result()")
        return self._result

    async def get_result(self) -> RunResult[OutputT]:
        """Wait for the run to end, dropping the events not read yet, and return the result
        (or raise the run's error)."""
        if self._events is not None:
            # Nobody will see the remaining events: the run need not make or queue them,
            # nor wake this task for each one.
            self._events.ignore()
            run = self._task.claim() if self._task is not None else None
            if run is not None:
                await run  # not started yet: it goes on here, as `agent.run()` would
        async for _ in self:
            pass
        return self.result
