"""`AgentStream`: a streaming run, owned by an `async with` block, read as events."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, Self, TypeVar

import anyio

from ._result import RunResult
from .errors import UserError
from .events import AgentEvent, FinalResult

if TYPE_CHECKING:
    # Types only: importing anyio's streams module costs ~7 ms that `import agentkit` would pay.
    from anyio.abc import TaskGroup
    from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

    from ._run import AgentRun, Emit

__all__ = ["AgentStream"]

OutputT = TypeVar("OutputT")


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
        self._group: TaskGroup | None = None
        self._send: MemoryObjectSendStream[AgentEvent] | None = None
        self._receive: MemoryObjectReceiveStream[AgentEvent] | None = None

    async def __aenter__(self) -> Self:
        if self._group is not None:
            raise UserError("a run stream can be entered once; call agent.run_stream() again")
        # A small buffer: the run may get a little ahead of the reader, not arbitrarily far.
        self._send, self._receive = anyio.create_memory_object_stream[AgentEvent](64)
        self._group = anyio.create_task_group()
        await self._group.__aenter__()
        self._group.start_soon(self._drive)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        assert self._group is not None
        assert self._receive is not None
        self._group.cancel_scope.cancel()
        try:
            # The block's own exception is not the group's business: passed in, it would come
            # back wrapped in an ExceptionGroup. The run task never raises (it hands its error
            # to the reader), so the group only waits here for the cancelled task to end.
            await self._group.__aexit__(None, None, None)
        finally:
            self._receive.close()
        if exc_type is None and self._error is not None:
            # The run failed and nobody read the error from the iterator: do not lose it.
            error, self._error = self._error, None
            raise error
        return None

    async def _drive(self) -> None:
        assert self._send is not None
        emit: Emit = self._send.send
        try:
            run = await self._start(emit=emit)
            result = await run.run()
            await self._finish(result)
            self._result = result
            await self._send.send(FinalResult(result))
        except Exception as error:  # handed to the reader; cancellation passes through
            self._error = error
        finally:
            self._send.close()

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> AgentEvent:
        if self._receive is None:
            raise UserError("use the stream inside `async with agent.run_stream(...) as stream:`")
        try:
            return await self._receive.receive()
        except (anyio.EndOfStream, anyio.ClosedResourceError):
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
        """Read the remaining events and return the result (or raise the run's error)."""
        async for _ in self:
            pass
        return self.result
