"""`Deadline`: `anyio.move_on_after` for the request path, at a fraction of its cost on asyncio.

Every request and every stream's drain runs inside one. anyio's scope costs about 12 us to
open and close on asyncio (it looks the backend up, builds a scope tree, and delivers
cancellation by retrying each loop pass); a run makes four of them. On asyncio this does what
`asyncio.timeout` does, without the async context manager and the state machine, and without
a timer of its own: the deadlines of one event loop that fall due in the same tick share one
(see `_Ticks`). On any other event loop (trio) it is anyio's scope itself.
"""

from __future__ import annotations

import asyncio
import math
import weakref
from types import TracebackType

import anyio

__all__ = ["Deadline"]


def _tick(seconds: float) -> float:
    """How late a deadline of `seconds` may fire: the short ones (a stream's drain) by 10 ms,
    the long ones (a request's, its timeout and a second of grace) by a quarter second."""
    return 0.01 if seconds < 10 else 0.25


class _Ticks:
    """One event loop's deadlines, by the moment they fall due, rounded up to their tick.

    A timer of its own per deadline cost more than the deadline: asyncio keeps a cancelled
    timer in its heap until it falls due, and each sifts through that heap comparing timers in
    Python, the short ones (due before the rest) the most. One timer per tick is made however
    many deadlines share it; one left with none fires for nothing.
    """

    __slots__ = ("_due",)

    def __init__(self) -> None:
        self._due: dict[float, set[Deadline]] = {}

    def add(self, loop: asyncio.AbstractEventLoop, deadline: Deadline, seconds: float) -> float:
        tick = _tick(seconds)
        due_at = math.ceil((loop.time() + seconds) / tick) * tick
        waiting = self._due.get(due_at)
        if waiting is None:
            waiting = self._due[due_at] = set()
            loop.call_at(due_at, self._fire, due_at)
        waiting.add(deadline)
        return due_at

    def discard(self, deadline: Deadline, due_at: float) -> None:
        waiting = self._due.get(due_at)
        if waiting is not None:
            waiting.discard(deadline)

    def _fire(self, due_at: float) -> None:
        for deadline in self._due.pop(due_at, ()):
            deadline._expire()


# Per event loop, as anyio keeps its run variables; weakly, so a closed loop takes its own.
_LOOP_TICKS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Ticks] = (
    weakref.WeakKeyDictionary()
)


class Deadline:
    """A block given `seconds` to finish: past them it is cancelled and `expired` is True.

    Like `anyio.move_on_after`, the block's cancellation does not leave the `with`; a
    cancellation from outside (another scope, the task's own cancel) goes on through. On
    asyncio the block may run up to a tick (10 ms, or 250 ms from 10 s up) past its time.
    """

    __slots__ = ("_cancelling", "_due_at", "_fired", "_scope", "_seconds", "_task", "_ticks",
                 "expired")

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds
        self._scope: anyio.CancelScope | None = None
        self._task: asyncio.Task[object] | None = None
        self._ticks: _Ticks | None = None
        self._due_at = 0.0
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
        ticks = _LOOP_TICKS.get(loop)
        if ticks is None:
            ticks = _LOOP_TICKS[loop] = _Ticks()
        self._ticks = ticks
        self._due_at = ticks.add(loop, self, self._seconds)
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
        assert self._ticks is not None
        assert self._task is not None
        self._ticks.discard(self, self._due_at)
        if not self._fired:
            return False
        # The timer cancelled the task: take that cancellation back. It is this block's to
        # swallow only if nobody else asked for one meanwhile (then it goes on to them).
        if self._task.uncancel() <= self._cancelling and exc_type is asyncio.CancelledError:
            self.expired = True
            return True
        return False
