"""`AgentIter`: a run the caller steps through, and may stop after any step."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, Self, TypeVar

from .errors import UserError

if TYPE_CHECKING:
    from ._result import RunResult
    from ._run import AgentRun
    from .state import RunState
    from .steps import RunStep

__all__ = ["AgentIter"]

OutputT = TypeVar("OutputT")


class AgentIter(Generic[OutputT]):
    """A run, one step at a time: an async context manager and an async iterator of steps.

    ```python
    async with agent.iter("Refund order 42") as run:
        async for step in run:
            if step.kind == "model_response" and step.tool_calls:
                saved = step.state.to_json()   # stop here; resume later from `saved`
                break
    ```

    Nothing runs between steps: a step is read, then the run waits for the next `__anext__`.
    Leaving the block closes the run where it is.
    """

    def __init__(
        self,
        start: Callable[[], Awaitable[AgentRun[Any]]],
        finish: Callable[[RunResult[Any]], Awaitable[None]],
    ) -> None:
        self._start = start
        self._finish = finish
        self._run: AgentRun[Any] | None = None
        self._steps: AsyncIterator[RunStep] | None = None
        self._closed = False

    async def __aenter__(self) -> Self:
        await self._begin()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop the run where it is (its `state` stays readable)."""
        self._closed = True
        steps, self._steps = self._steps, None
        close = getattr(steps, "aclose", None)
        if close is not None:
            await close()

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> RunStep:
        if self._closed:
            raise StopAsyncIteration
        await self._begin()
        assert self._steps is not None
        assert self._run is not None
        try:
            step = await self._steps.__anext__()
        except StopAsyncIteration:
            self._closed = True
            raise
        # A copy: the run goes on changing its own state after the step.
        step.state = self._run.state.copy()
        if self._run.result is not None:  # the last step: the run is over (or paused)
            self._closed = True
            await self._finish(self._run.result)
        return step

    @property
    def state(self) -> RunState:
        """A copy of the run's state as it is now.

        Raises:
            UserError: The run has not started (enter the block or read a step first).
        """
        if self._run is None:
            raise UserError("the run has not started; use `async with agent.iter(...) as run:`")
        return self._run.state.copy()

    @property
    def result(self) -> RunResult[OutputT]:
        """The run's result, once its last step (an `OutputStep` or `PausedStep`) was read.

        Raises:
            UserError: The run has not reached its end.
        """
        if self._run is None or self._run.result is None:
            raise UserError("the run has not ended; read its steps up to an OutputStep or PausedStep")
        return self._run.result

    async def _begin(self) -> None:
        if self._run is None:
            self._run = await self._start()
            self._steps = self._run.steps()
