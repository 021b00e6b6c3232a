"""Failures on demand for the simulated server: what can go wrong, for how many requests.

A `FaultPlan` is a queue. Each `Fault` in it spoils the next `count` requests, then the next
fault takes over; an empty plan lets requests through. Set one at construction
(`SimCore(faults=FaultPlan([...]))`) or change it while the server runs
(`core.faults.push(Fault("429", count=2, retry_after=1))`).

A request can also carry the header::

    x-sim-fault: <kind>[;count=N][;retry_after=S][;delay=S]

for example `x-sim-fault: 503;count=3` or `x-sim-fault: slow;delay=0.2`. The fault spoils that
request and, with count=N, the next N-1 requests too, ahead of anything already planned.
Clients resend headers when they retry, so a value equal to the previous request's value
does not arm the fault again: a retry consumes the budget the first attempt armed. Send a
request without the header (or a different value) to arm it anew.

Kinds:

- `429`: HTTP 429 with a `Retry-After` header (`retry_after`, default 0 seconds).
- `500`, `503`: HTTP 500 / 503 with xAI's flat error body.
- `credits`: HTTP 429 with the credits-exhausted body and no `Retry-After` (not retryable).
- `drop`: the connection drops: after a couple of chunks of a stream, or before any byte of
  a plain response.
- `slow`: the first byte waits `delay` seconds (default 1). `delay` adds this wait to any
  other kind too.
- `bad_tool_args`: the model's tool-call arguments are malformed JSON (it calls the first
  offered tool when it meant to answer in text).
- `bad_output`: the answer is JSON that breaks the request's `json_schema` response format
  (without one: text that is not JSON at all).
- `truncate`: a stream ends with neither finish chunk nor `[DONE]`; a plain body is cut.
- `inband_error`: HTTP 200, then an `event: error` with `{"error": {...}}` inside the stream
  (a plain response carries the error object as its body).

Values are checked: an unknown kind or parameter raises `ValueError`, which the server
reports as a 400 so that a typo never passes silently.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from ._wire import ApiError, Code, SimChunk, SimResponse, dumps

__all__ = [
    "ERROR_KINDS",
    "FAULT_HEADER",
    "FAULT_KINDS",
    "Fault",
    "FaultPlan",
    "apply_fault",
    "fault_error",
    "parse_fault",
]

FAULT_HEADER = "x-sim-fault"
"""The request header that asks for a fault (lower case, as the core compares it)."""

FAULT_KINDS = frozenset(
    {
        "429",
        "500",
        "503",
        "bad_output",
        "bad_tool_args",
        "credits",
        "drop",
        "inband_error",
        "slow",
        "truncate",
    }
)
"""Every fault kind the simulated server knows."""

ERROR_KINDS = frozenset({"429", "500", "503", "credits"})
"""Kinds answered with an HTTP error instead of the endpoint's answer."""

_SLOW_DEFAULT_DELAY = 1.0
_INBAND_ERROR = {
    "error": {
        "code": Code.INTERNAL,
        "message": "The model stopped generating because of an internal error.",
        "type": "server_error",
    }
}
_PARAMETERS = frozenset({"count", "retry_after", "delay"})


@dataclass(frozen=True, slots=True)
class Fault:
    """One planned failure.

    Attributes:
        kind: One of `FAULT_KINDS`.
        count: How many consecutive requests it spoils (at least 1).
        retry_after: Seconds announced in `Retry-After` (kind "429").
        delay: Seconds before the first byte; None means 1 for "slow" and 0 otherwise.
    """

    kind: str
    count: int = 1
    retry_after: float = 0.0
    delay: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            known = ", ".join(sorted(FAULT_KINDS))
            raise ValueError(f"unknown fault kind {self.kind!r}; use one of: {known}")
        if self.count < 1:
            raise ValueError(f"fault count must be at least 1, got {self.count}")
        if not (math.isfinite(self.retry_after) and self.retry_after >= 0):
            raise ValueError(f"retry_after must be a non-negative number, got {self.retry_after}")
        if self.delay is not None and not (math.isfinite(self.delay) and self.delay >= 0):
            raise ValueError(f"delay must be a non-negative number, got {self.delay}")

    @property
    def first_byte_delay(self) -> float:
        """Seconds to wait before the response starts."""
        if self.delay is not None:
            return self.delay
        return _SLOW_DEFAULT_DELAY if self.kind == "slow" else 0.0


def parse_fault(value: str) -> Fault:
    """Read an `x-sim-fault` header value (grammar in the module docstring).

    Raises:
        ValueError: The value names an unknown kind or parameter, or a number is malformed.
    """
    kind, *params = (part.strip() for part in value.split(";"))
    numbers: dict[str, float] = {}
    for param in params:
        if not param:
            continue
        name, sep, raw = (piece.strip() for piece in param.partition("="))
        if name not in _PARAMETERS:
            raise ValueError(f"unknown fault parameter {name!r}; use count, retry_after or delay")
        if not sep:
            raise ValueError(f"fault parameter {param!r} needs a value, as in count=2")
        try:
            numbers[name] = int(raw) if name == "count" else float(raw)
        except ValueError as exc:
            raise ValueError(f"fault parameter {name!r} has a malformed value {raw!r}") from exc
    delay = numbers.get("delay")
    return Fault(
        kind,
        count=int(numbers.get("count", 1)),
        retry_after=numbers.get("retry_after", 0.0),
        delay=delay,
    )


class _Pending:
    __slots__ = ("fault", "remaining")

    def __init__(self, fault: Fault) -> None:
        self.fault = fault
        self.remaining = fault.count


class FaultPlan:
    """A queue of faults, each spoiling the next `count` requests.

    Safe to change from another thread while a server thread draws from it.
    """

    def __init__(self, faults: Iterable[Fault] = ()) -> None:
        """Start with `faults`, applied in order."""
        self._queue: deque[_Pending] = deque(_Pending(fault) for fault in faults)
        self._lock = threading.Lock()

    def push(self, fault: Fault, *, first: bool = False) -> None:
        """Plan `fault` after the others, or ahead of them with `first=True`."""
        with self._lock:
            if first:
                self._queue.appendleft(_Pending(fault))
            else:
                self._queue.append(_Pending(fault))

    def take(self) -> Fault | None:
        """The fault for the request being served, None when the plan is empty."""
        with self._lock:
            if not self._queue:
                return None
            head = self._queue[0]
            head.remaining -= 1
            if head.remaining == 0:
                self._queue.popleft()
            return head.fault

    def clear(self) -> None:
        """Drop every planned fault."""
        with self._lock:
            self._queue.clear()

    @property
    def pending(self) -> tuple[tuple[Fault, int], ...]:
        """Each planned fault with the number of requests it still spoils."""
        with self._lock:
            return tuple((item.fault, item.remaining) for item in self._queue)

    def __len__(self) -> int:
        """How many requests the plan still spoils."""
        with self._lock:
            return sum(item.remaining for item in self._queue)

    def __repr__(self) -> str:
        return f"FaultPlan({list(self.pending)!r})"


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def fault_error(fault: Fault, team_id: str) -> ApiError:
    """The HTTP error an `ERROR_KINDS` fault answers with, in xAI's flat shape."""
    if fault.kind == "429":
        return ApiError(
            429,
            f"Team {team_id} has exceeded its request rate limit. Please slow down and retry "
            "later.",
            Code.RESOURCE_EXHAUSTED,
            {"retry-after": _seconds(fault.retry_after)},
        )
    if fault.kind == "credits":
        return ApiError(
            429,
            f"Your team {team_id} has either used all available credits or reached its monthly "
            "spending limit. To continue making API requests, please purchase more credits or "
            "raise your spending limit.",
            Code.RESOURCE_EXHAUSTED,
        )
    if fault.kind == "503":
        return ApiError(
            503, "The service is temporarily unavailable. Please retry later.", Code.UNAVAILABLE
        )
    return ApiError(500, "The server had an error while processing your request.", Code.INTERNAL)


# What ends a stream: chat's finish reason or [DONE]; the Responses API's terminal events.
_ENDINGS = (b'"response.completed"', b'"response.incomplete"', b'"response.failed"')


def _is_ending(chunk: SimChunk) -> bool:
    data = chunk.data
    return (b'"finish_reason"' in data or data.startswith(b"data: [DONE]")
            or any(ending in data for ending in _ENDINGS))


def apply_fault(response: SimResponse, fault: Fault) -> None:
    """Spoil `response` in place the way `fault` says: delay, drop, truncate, in-band error.

    Content faults (`bad_tool_args`, `bad_output`) act earlier, on the model's reply; error
    kinds replace the response altogether (`fault_error`). Truncation and in-band errors only
    touch a 200.
    """
    response.first_byte_delay += fault.first_byte_delay
    events = response.events
    if fault.kind == "drop":
        response.drop_after = 0 if events is None else max(0, min(2, len(events) - 1))
        return
    if response.status != 200:
        return
    if fault.kind == "truncate":
        if events is None:
            response.body = response.body[: len(response.body) // 2]
        else:
            cut = next((i for i, chunk in enumerate(events) if _is_ending(chunk)), len(events))
            del events[cut:]
    elif fault.kind == "inband_error":
        if events is None:
            response.body = dumps(_INBAND_ERROR).encode()
            return
        kept = [chunk for chunk in events[:2] if not _is_ending(chunk)]
        kept.append(SimChunk(f"event: error\ndata: {dumps(_INBAND_ERROR)}\n\n".encode()))
        events[:] = kept
