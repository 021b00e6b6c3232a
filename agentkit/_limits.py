"""Client-side rate limiting: requests and tokens per minute, per model, shared by every run
that uses one client (and so by a whole batch).

```python
client = GrokClient(rate_limits={"grok-4.3": RateLimit(rpm=480, tpm=2_000_000)})
```

Each request waits for its turn before it is sent, so that a thousand concurrent runs queue
here instead of drawing 429s from the server. The schedule is a GCRA (the "virtual
scheduling" form of a leaky bucket): requests leave evenly spaced, `60 / rpm` seconds apart
when they are many, and at once when they are few. Tokens are paced the same way, each request
costing the tokens it is estimated to use until its real usage is known.

What the server says also counts: the `x-ratelimit-limit-*` headers set the pace of a model
the user gave no limit for; and for a paced model, a 429's `retry-after` holds every request
back until then, and `x-ratelimit-remaining-*: 0` until `x-ratelimit-reset-*`. A model with no
pace at all is left to the retry policy, which waits out each 429 itself.
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

import anyio

from .errors import ConfigurationError

__all__ = ["RateLimit", "RateLimiter", "Reservation", "estimate_request_tokens"]

_log = logging.getLogger("agentkit.client")

# The key of the limit for every model not named on its own.
ANY_MODEL = "*"
# A rough, deliberately generous tokens-per-byte rate for JSON request bodies: a limiter that
# guesses low sends too much, one that guesses high only waits a little longer until the real
# usage corrects it.
_BYTES_PER_TOKEN = 3.5
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")


@dataclass(frozen=True)
class RateLimit:
    """A model's limits, as your tier gives them (see the xAI console).

    Attributes:
        rpm: Requests per minute; None for no limit on requests.
        tpm: Tokens per minute (prompt and completion); None for no limit on tokens.
    """

    rpm: float | None = None
    tpm: float | None = None

    def __post_init__(self) -> None:
        for name, value in (("rpm", self.rpm), ("tpm", self.tpm)):
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int | float)
                or not math.isfinite(value) or value <= 0
            ):
                raise ConfigurationError(
                    f"RateLimit({name}=...) must be a positive number per minute or None, "
                    f"not {value!r}"
                )


@dataclass
class Reservation:
    """One request's place in the schedule; `RateLimiter.settle` corrects its token cost."""

    model: str
    tokens: int
    waited: float


class _Pace:
    """One GCRA schedule: `rate` units per second, spent in advance by whoever asks."""

    __slots__ = ("rate", "tat")

    def __init__(self, per_minute: float, now: float) -> None:
        self.rate = per_minute / 60.0
        self.tat = now  # when the schedule is next free

    def reserve(self, cost: float, earliest: float) -> float:
        """Book `cost` units and return when they may be used."""
        start = max(earliest, self.tat)
        self.tat = start + cost / self.rate
        return start

    def correct(self, delta: float, now: float) -> None:
        # A request that used fewer tokens than guessed gives them back, but never lets the
        # schedule fall into the past (that would allow a burst).
        self.tat = max(now, self.tat + delta / self.rate) if delta < 0 else self.tat + delta / self.rate


class _ModelState:
    __slots__ = ("held_until", "learn_requests", "learn_tokens", "requests", "tokens")

    def __init__(self, limit: RateLimit | None, now: float) -> None:
        rpm, tpm = (limit.rpm, limit.tpm) if limit is not None else (None, None)
        self.requests = _Pace(rpm, now) if rpm else None
        self.tokens = _Pace(tpm, now) if tpm else None
        # What the user left open, the server's headers may fill in.
        self.learn_requests = rpm is None
        self.learn_tokens = tpm is None
        self.held_until = 0.0


class RateLimiter:
    """The per-model schedules of one client.

    Args:
        limits: One `RateLimit` for every model, or a mapping from model name to its limit
            (the key `"*"` for every model not named).
        clock: Monotonic seconds; injectable for tests.
        sleep: How to wait; injectable for tests.
    """

    def __init__(
        self,
        limits: RateLimit | Mapping[str, RateLimit] | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
    ) -> None:
        if limits is None:
            table: dict[str, RateLimit] = {}
        elif isinstance(limits, RateLimit):
            table = {ANY_MODEL: limits}
        elif isinstance(limits, Mapping):
            table = {}
            for model, limit in limits.items():
                if not isinstance(model, str) or not isinstance(limit, RateLimit):
                    raise ConfigurationError(
                        "rate_limits maps model names to RateLimit(rpm=..., tpm=...), e.g. "
                        "{'grok-4.3': RateLimit(rpm=480)}; got "
                        f"{model!r}: {limit!r}"
                    )
                table[model] = limit
        else:
            raise ConfigurationError(
                "rate_limits must be a RateLimit or a mapping of model names to RateLimit, "
                f"not {type(limits).__name__}"
            )
        self.limits: Mapping[str, RateLimit] = table
        self._clock = clock
        self._sleep = sleep
        self._models: dict[str, _ModelState] = {}
        self.waited = 0.0  # seconds requests spent queued here, in all
        self.held = 0  # requests that had to wait

    def limit_for(self, model: str) -> RateLimit | None:
        """The limit the user gave for `model` (or for every model), if any."""
        return self.limits.get(model) or self.limits.get(ANY_MODEL)

    def _state(self, model: str) -> _ModelState:
        state = self._models.get(model)
        if state is None:
            state = self._models[model] = _ModelState(self.limit_for(model), self._clock())
        return state

    async def acquire(self, model: str, tokens: int) -> Reservation:
        """Wait for this model's turn for one request of about `tokens` tokens."""
        state = self._state(model)
        now = self._clock()
        earliest = start = max(now, state.held_until)
        # Both books are written before any waiting, in call order: the queue is fair, and
        # a request cancelled while it waits only leaves its slot unused.
        if state.requests is not None:
            start = max(start, state.requests.reserve(1, earliest))
        if state.tokens is not None:
            start = max(start, state.tokens.reserve(tokens, earliest))
        wait = start - now
        if wait > 0:
            self.held += 1
            self.waited += wait
            _log.debug("rate limit of %s: request waits %.3f s", model, wait)
            await self._sleep(wait)
        return Reservation(model, tokens, max(wait, 0.0))

    def settle(self, reservation: Reservation, used_tokens: int | None) -> None:
        """Correct the token cost of a request once its usage is known."""
        if used_tokens is None:
            return
        state = self._models.get(reservation.model)
        if state is not None and state.tokens is not None:
            state.tokens.correct(used_tokens - reservation.tokens, self._clock())

    def observe(self, model: str, status: int, headers: Mapping[str, str],
                retry_after: float | None) -> None:
        """Learn from a response's status and `x-ratelimit-*` / `retry-after` headers."""
        state = self._state(model)
        now = self._clock()
        lowered = {k.lower(): v for k, v in headers.items()}
        if state.learn_requests:
            state.requests = _learned(state.requests, lowered.get("x-ratelimit-limit-requests"), now)
        if state.learn_tokens:
            state.tokens = _learned(state.tokens, lowered.get("x-ratelimit-limit-tokens"), now)
        if state.requests is None and state.tokens is None:
            # Not paced (no limits given or learned): each request's retries do the waiting.
            return
        if status == 429 and retry_after is not None:
            state.held_until = max(state.held_until, now + retry_after)
        for kind in ("requests", "tokens"):
            remaining = _number(lowered.get(f"x-ratelimit-remaining-{kind}"))
            reset = parse_reset(lowered.get(f"x-ratelimit-reset-{kind}"))
            if remaining is not None and remaining <= 0 and reset is not None:
                state.held_until = max(state.held_until, now + reset)


def _learned(pace: _Pace | None, header: str | None, now: float) -> _Pace | None:
    per_minute = _number(header)
    if per_minute is None or per_minute <= 0:
        return pace
    if pace is not None and pace.rate == per_minute / 60.0:
        return pace
    return _Pace(per_minute, now)


def estimate_request_tokens(body: bytes, request: Mapping[str, object]) -> int:
    """The tokens a model request may use: its prompt, guessed from the size of the body,
    and the completion it allows (`max_tokens` and its kin), when it says."""
    prompt = math.ceil(len(body) / _BYTES_PER_TOKEN)
    for field in ("max_completion_tokens", "max_tokens", "max_output_tokens"):
        value = request.get(field)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return prompt + value
    return prompt


def parse_reset(value: str | None) -> float | None:
    """Seconds from an `x-ratelimit-reset-*` value: `"1s"`, `"6m0s"`, `"250ms"` or a number."""
    if not value:
        return None
    value = value.strip()
    number = _number(value)
    if number is not None:
        return max(0.0, number)
    parts = _DURATION_PART.findall(value)
    if not parts or "".join(a + b for a, b in parts) != value:
        return None
    scale = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
    return sum(float(amount) * scale[unit] for amount, unit in parts)


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None
