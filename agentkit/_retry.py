"""What the client retries, and how long it waits (tenacity).

Retried: connection errors, timeouts, 408, 409, 429 and 5xx. Never retried: 400, 401, 403,
404, 410, 422, a 429 that says credits or the spending limit are exhausted, an error event
inside a stream, or a stream that has already handed a chunk to the caller (the caller would
see the same text twice). The wait is exponential with jitter, unless the server said how long
in `Retry-After` (seconds or an HTTP date) or `retry-after-ms`; that is honoured up to a cap so
a hostile or broken header cannot park a run for an hour.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

import anyio

from .errors import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APIStreamError,
    QuotaExceededError,
)

if TYPE_CHECKING:
    from tenacity import RetryCallState

__all__ = ["RetryPolicy", "is_retryable", "parse_retry_after"]

T = TypeVar("T")

_RETRY_STATUSES = frozenset({408, 409, 429})
_log = logging.getLogger("agentkit.client")


def is_retryable(error: BaseException) -> bool:
    """True for the failures worth another attempt."""
    if isinstance(error, APIConnectionError):
        return True
    if isinstance(error, APIStreamError | QuotaExceededError):
        return False
    if isinstance(error, APIStatusError):
        return error.status_code in _RETRY_STATUSES or error.status_code >= 500
    return False


def parse_retry_after(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """Seconds to wait from `retry-after-ms` or `Retry-After` (seconds or HTTP date), if given."""
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return max(0.0, float(millis) / 1000.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    import email.utils  # only for the rare HTTP-date form; keeps `import agentkit` light

    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


@dataclass
class RetryPolicy:
    """How many times and how long to wait between attempts.

    Attributes:
        max_retries: Attempts after the first; 0 disables retries.
        initial_delay: The first backoff, in seconds; it doubles each attempt.
        max_delay: The longest backoff, in seconds.
        max_retry_after: The longest `Retry-After` honoured; longer asks are capped to it.
        jitter: The fraction of each backoff taken off at random (0 to 1), so that many
            clients that failed together do not come back together.
        sleep: How to wait; tests pass a fake so that no test really sleeps.
        rng: Source of the jitter; seed it for reproducible waits.
    """

    max_retries: int = 2
    initial_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 60.0
    jitter: float = 0.25
    sleep: Callable[[float], Awaitable[None]] = anyio.sleep
    rng: random.Random = field(default_factory=random.Random)

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ValueError(f"max_retries must be 0 or more, got {self.max_retries}")

    def delay(self, attempt: int, error: BaseException | None) -> float:
        """Seconds to wait before attempt `attempt + 1`, after `attempt` failures."""
        if isinstance(error, APIStatusError) and error.retry_after is not None:
            return min(error.retry_after, self.max_retry_after)
        backoff = min(self.initial_delay * 2.0 ** (attempt - 1), self.max_delay)
        return backoff * (1.0 - self.jitter * self.rng.random())

    async def call(
        self,
        attempt: Callable[[], Awaitable[T]],
        *,
        on_retry: Callable[[APIError], None] | None = None,
    ) -> T:
        """Run `attempt`, retrying retryable failures; the last failure is raised as is.

        `on_retry` is told of each failure that will be retried, before the wait (the agent
        counts the requests a run really sent with it).
        """
        if self.max_retries == 0:
            return await attempt()
        # The first try runs outside tenacity: the common case then costs nothing extra.
        try:
            return await attempt()
        except APIError as error:
            if not is_retryable(error):
                raise
            delay = self.delay(1, error)
            self._announce(2, delay, error, on_retry)
            await self.sleep(delay)
        # tenacity is imported on the first failure only: most calls never need it.
        from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt

        def before_sleep(state: RetryCallState) -> None:
            # Called only when another attempt will follow, unlike `wait`.
            error = state.outcome.exception() if state.outcome else None
            delay = state.next_action.sleep if state.next_action else 0.0
            if isinstance(error, APIError):
                self._announce(state.attempt_number + 2, delay, error, on_retry)

        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.max_retries),
            retry=retry_if_exception(is_retryable),
            wait=self._wait_after_first,
            before_sleep=before_sleep,
            sleep=self.sleep,
            reraise=True,
        )
        return await retrying(attempt)

    def _announce(
        self, next_attempt: int, delay: float, error: APIError,
        on_retry: Callable[[APIError], None] | None,
    ) -> None:
        _log.info(
            "retrying in %.2f s (attempt %d of %d) after: %s",
            delay, next_attempt, self.max_retries + 1, error.message,
        )
        if on_retry is not None:
            on_retry(error)

    def _wait_after_first(self, state: RetryCallState) -> float:
        # tenacity numbers its own attempts from 1; one failure already happened before it.
        error = state.outcome.exception() if state.outcome else None
        return self.delay(state.attempt_number + 1, error)
