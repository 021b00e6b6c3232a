"""Deferred chat completions: a handle on a completion xAI computes in the background.

`client.chat.completions.create(..., deferred=True)` answers at once with a request id;
`GET /v1/chat/deferred-completion/{id}` then says 202 (still working, empty body) until it
answers 200 with the completion, once, within 24 hours; after that, or for an id it never
gave, it says 404. The handle polls, and keeps the completion it fetched, since the server
will not serve it twice.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING
from urllib.parse import quote

import anyio

from ..errors import (
    APIStatusError,
    APITimeoutError,
    ConfigurationError,
    DeferredNotFoundError,
    DeferredTimeoutError,
)
from ..types._base import WireModel
from ..types.chat import ChatCompletion

if TYPE_CHECKING:
    from ._client import GrokClient

__all__ = ["DeferredCompletion", "DeferredTicket"]

_PENDING = 202


class DeferredTicket(WireModel):
    """The answer to a deferred request: `{"request_id": ...}`."""

    request_id: str


class DeferredCompletion:
    """A deferred chat completion, by its request id; `await handle.result()` for it.

    Save `request_id` to fetch the completion later, from another process too:
    `client.chat.deferred(request_id)` makes the handle again.

    Args:
        client: The client to poll with.
        request_id: The id xAI gave the deferred request.
        sleep: Waits between polls (default `anyio.sleep`); tests pass a fake one.
        clock: Seconds on a monotonic clock (default `time.monotonic`), for the timeout.
    """

    def __init__(
        self,
        client: GrokClient,
        request_id: str,
        *,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        if not isinstance(request_id, str) or not request_id.strip():
            raise ConfigurationError(
                "request_id must be the id a deferred request returned, e.g. "
                "handle.request_id from create(..., deferred=True)"
            )
        self.request_id = request_id
        self._client = client
        self._sleep = sleep or anyio.sleep
        self._clock = clock or time.monotonic
        self._completion: ChatCompletion | None = None
        self._lock: anyio.Lock | None = None

    def __repr__(self) -> str:
        state = "fetched" if self._completion is not None else "pending"
        return f"DeferredCompletion(request_id={self.request_id!r}, {state})"

    @property
    def path(self) -> str:
        """The route this handle polls, relative to the client's base URL."""
        return f"/chat/deferred-completion/{quote(self.request_id, safe='')}"

    async def poll(self, *, timeout: float | None = None) -> ChatCompletion | None:
        """Ask once: the completion when it is ready, None while it is still being made.

        Args:
            timeout: Seconds for this one request (default: the client's timeout).

        Raises:
            DeferredNotFoundError: The id is unknown, expired or its result already fetched
                by another handle or process.
        """
        if self._completion is not None:
            return self._completion
        if self._lock is None:
            self._lock = anyio.Lock()
        # One poll at a time: the server hands the result out once, so two polls racing
        # would leave one of them with a 404 for a completion this handle holds.
        async with self._lock:
            if self._completion is None:

                async def attempt() -> ChatCompletion | None:
                    return await self._ask(timeout)

                self._completion = await self._client.retry_policy.call(attempt)
            return self._completion

    async def _ask(self, timeout: float | None) -> ChatCompletion | None:
        from ._client import _parse  # _client imports this module's importer

        client = self._client
        url = client._url(self.path)
        response = await client._http.send("GET", url, headers=client._headers,
                                           timeout=timeout)
        if response.status_code == _PENDING:
            return None
        if response.status_code == 404:
            found = client._status_error("GET", url, 404, response.headers, response.content)
            assert isinstance(found, APIStatusError)  # a status always makes one
            raise DeferredNotFoundError(
                f"deferred completion {self.request_id!r} is unknown, expired (results are "
                "kept for 24 hours) or was already fetched (each result is served once); "
                f"the server said: {found.message}",
                deferred_id=self.request_id, code=found.code, body=found.body,
                request_id=found.request_id, method="GET", url=url,
            )
        if response.status_code >= 400:
            raise client._status_error("GET", url, response.status_code, response.headers,
                                       response.content)
        return _parse(ChatCompletion, response.status_code, response.headers,
                      response.content, "GET", url)

    async def result(self, *, timeout: float = 600.0, poll_interval: float = 1.0) -> ChatCompletion:
        """Poll until the completion is ready and return it.

        Args:
            timeout: Most seconds to wait in all.
            poll_interval: Seconds between polls.

        Raises:
            DeferredTimeoutError: Still pending after `timeout` seconds (the completion is
                kept by the server: call `result()` again later).
            DeferredNotFoundError: The id is unknown, expired or already fetched.
        """
        if not timeout > 0:
            raise ConfigurationError(f"timeout must be a positive number of seconds, got {timeout}")
        if not poll_interval >= 0:
            raise ConfigurationError(
                f"poll_interval must be 0 or more seconds, got {poll_interval}")
        started = self._clock()
        deadline = started + timeout
        while True:
            remaining = deadline - self._clock()
            try:
                # A poll never outlasts what is left of the timeout, nor the client's own.
                completion = await self.poll(
                    timeout=min(self._client.timeout, max(remaining, 0.001)))
            except APITimeoutError as error:
                if self._clock() < deadline:
                    raise
                raise self._overdue(started) from error
            if completion is not None:
                return completion
            remaining = deadline - self._clock()
            if remaining <= 0:
                raise self._overdue(started)
            await self._sleep(min(poll_interval, remaining))

    def _overdue(self, started: float) -> DeferredTimeoutError:
        waited = self._clock() - started
        return DeferredTimeoutError(
            f"deferred completion {self.request_id!r} was still pending after {waited:.1f} s; "
            "the server keeps it for 24 hours: call "
            f"client.chat.deferred({self.request_id!r}).result() again later, or pass a "
            "longer timeout=",
            deferred_id=self.request_id, waited=waited, method="GET",
            url=self._client._url(self.path),
        )
