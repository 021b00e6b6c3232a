"""`Deadline`: `anyio.move_on_after` for the request path, at a third of its cost on asyncio.

Every request and every stream's drain runs inside one. anyio's scope costs about 12 us to
open and close on asyncio (it looks the backend up, builds a scope tree, and delivers
cancellation by retrying each loop pass); a run makes four of them. On asyncio this does what
`asyncio.timeout` does, without the async context manager and the state machine: one timer
that cancels the task, undone on the way out. On any other event loop (trio) it is anyio's
scope itself.
"""

from __future__ import annotations

import asyncio
from types import TracebackType

import anyio

__all__ = ["Deadline"]


class Deadline:
    """A block given `seconds` to finish: past them it is cancelled and `expired` is True.

    Like `anyio.move_on_after`, the block's cancellation does not leave the `with`; a
    cancellation from outside (another scope, the task's own cancel) goes on through.
    """

    __slots__ = ("_cancelling", "_fired", "_handle", "_scope", "_seconds", "_task", "expired")

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds
        self._scope: anyio.CancelScope | None = None
        self._task: asyncio.Task[object] | None = None
        self._handle: asyncio.TimerHandle | None = None
        self._cancelling = 0
        self._fired = False
        self.expired = False

    def __enter__(self) -> Deadline:
        loop = asyncio._get_running_loop()
        if loop is None or (task := asyncio.current_task(loop)) is None:
            # Not on asyncio (trio): anyio's scope knows that loop.
            self._scope = anyio.move_on_after(self._seconds)
            self._scope.__enter__()
            return self
        self._task = task
        self._cancelling = task.cancelling()
        self._handle = loop.call_at(loop.time() + self._seconds, self._expire)
        return self

    def _expire(self) -> None:
        self._fired = True
        assert self._task is not None
        self._task.cancel()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        scope = self._scope
        if scope is not None:
            swallowed = bool(scope.__exit__(exc_type, exc, tb))
            self.expired = scope.cancelled_caught
            return swallowed
        assert self._handle is not None
        assert self._task is not None
        self._handle.cancel()
        if not self._fired:
            return False
        # The timer cancelled the task: take that cancellation back. It is this block's to
        # swallow only if nobody else asked for one meanwhile (then it goes on to them).
        if self._task.uncancel() <= self._cancelling and exc_type is asyncio.CancelledError:
            self.expired = True
            return True
        return False
