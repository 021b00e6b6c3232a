"""Deferred chat completions, as xAI serves them.

A chat request with `"deferred": true` is answered at once with `{"request_id": <uuid>}`;
the completion is made then (the simulated model is instant) and held back. The first poll
of `GET /v1/chat/deferred-completion/{id}` answers 202 with an empty body, as a real
deferred request still being worked on does; the next answers 200 with the completion, once;
every poll after that, or of an id never given or older than 24 hours, answers 404.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ._validate import deserialize_error, json_kind
from ._wire import ApiError, Code, SimResponse, json_response

__all__ = ["DEFERRED_PREFIX", "SimDeferred", "deferred_requested"]

DEFERRED_PREFIX = "/v1/chat/deferred-completion/"
"""The poll route; the request id follows it."""

_KEPT_SECONDS = 24 * 60 * 60


def deferred_requested(body: Mapping[str, Any], raw: bytes) -> bool:
    """Whether a chat request asks to be deferred: 422 for a non-boolean `deferred`, 400 for
    a deferred stream (the poll answers one JSON body, never events)."""
    value = body.get("deferred")
    if value is None:
        return False
    if not isinstance(value, bool):
        raise deserialize_error(raw, f"deferred: invalid type: {json_kind(value)}, expected a boolean")
    if value and body.get("stream") is True:
        raise ApiError(400, "Deferred completions cannot be streamed; set stream to false.")
    return value


@dataclass(slots=True)
class _Held:
    response: SimResponse
    expires: float
    pending_polls: int


class SimDeferred:
    """The deferred completions one simulator holds.

    Args:
        new_id: Makes request ids (the core's seeded UUIDs).
        clock: Unix time, for the 24-hour expiry.
        pending_polls: Polls answered 202 before the completion is served.
        max_held: Completions held at most; the oldest are dropped first (404 then).
    """

    def __init__(
        self,
        new_id: Callable[[], str],
        clock: Callable[[], float],
        *,
        pending_polls: int = 1,
        max_held: int = 1024,
    ) -> None:
        self._new_id = new_id
        self._clock = clock
        self._pending_polls = pending_polls
        self._max_held = max_held
        self._held: OrderedDict[str, _Held] = OrderedDict()

    def __len__(self) -> int:
        return len(self._held)

    def defer(self, response: SimResponse) -> SimResponse:
        """Hold `response` (a finished chat completion) and answer with its request id."""
        request_id = self._new_id()
        self._held[request_id] = _Held(response, self._clock() + _KEPT_SECONDS,
                                       self._pending_polls)
        while len(self._held) > self._max_held:
            self._held.popitem(last=False)
        return json_response({"request_id": request_id})

    def poll(self, request_id: str) -> SimResponse:
        """`GET /v1/chat/deferred-completion/{request_id}`: 202, then 200 once, then 404."""
        held = self._held.get(request_id)
        if held is not None and self._clock() >= held.expires:
            del self._held[request_id]
            held = None
        if held is None:
            raise ApiError(
                404,
                f"Deferred completion {request_id} was not found: the id is unknown, has "
                "expired, or its result was already retrieved.",
                Code.NOT_FOUND,
            )
        if held.pending_polls > 0:
            held.pending_polls -= 1
            return SimResponse(202, {})
        del self._held[request_id]
        return held.response
