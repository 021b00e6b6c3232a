"""The simulated server's rate limits: requests and tokens per minute, per model (pure).

`agentkit serve --rpm 600 --tpm 1000000` makes the simulator limit like xAI does: a request
over the model's pace is answered 429 with `retry-after` (and `retry-after-ms`), in xAI's flat
error shape, and every answer carries `x-ratelimit-*` headers. The pace is a GCRA with one
second of burst: up to `rpm / 60` requests may arrive at once, after which they must come
`60 / rpm` seconds apart, which is how a client that spreads its requests never sees a 429 and
one that does not soon does.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from ._wire import ApiError, Code, SimResponse

__all__ = ["SimRateLimits"]

# How much burst the server allows, in seconds of its pace.
_BURST_SECONDS = 1.0


class _Pace:
    __slots__ = ("rate", "tat", "tolerance")

    def __init__(self, per_minute: float) -> None:
        self.rate = per_minute / 60.0
        self.tat = 0.0
        # At least one request's (or token's) worth, however slow the pace.
        self.tolerance = max(_BURST_SECONDS, 1.0 / self.rate)

    def refusal(self, now: float) -> float | None:
        """Seconds until a request could be taken; None when it can be taken now."""
        wait = self.tat - self.tolerance - now
        return wait if wait > 0 else None

    def charge(self, cost: float, now: float) -> None:
        self.tat = max(self.tat, now) + cost / self.rate

    def remaining(self, now: float) -> int:
        return max(0, math.floor((self.tolerance - max(0.0, self.tat - now)) * self.rate))

    def reset(self, now: float) -> float:
        return max(0.0, self.tat - now)


@dataclass
class _ModelPaces:
    requests: _Pace | None
    tokens: _Pace | None


@dataclass
class SimRateLimits:
    """Per-model limits for `SimCore(rate_limits=...)`.

    Attributes:
        rpm: Requests per minute for every model; None for none.
        tpm: Tokens per minute for every model; None for none.
        clock: Seconds (monotonic); injectable for tests. Not the core's clock, which tests
            often freeze.
        refused: How many requests were answered 429, in all.
    """

    rpm: float | None = None
    tpm: float | None = None
    clock: Callable[[], float] = time.monotonic
    refused: int = 0
    _models: dict[str, _ModelPaces] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name, value in (("rpm", self.rpm), ("tpm", self.tpm)):
            if value is not None and not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a positive number per minute, not {value!r}")

    @classmethod
    def from_arguments(cls, args: argparse.Namespace) -> SimRateLimits | None:
        """The limits `--rpm` and `--tpm` asked for; None when neither was given.

        Raises:
            ValueError: A limit is not a positive number; the message names it.
        """
        rpm, tpm = getattr(args, "rpm", None), getattr(args, "tpm", None)
        if rpm is None and tpm is None:
            return None
        try:
            return cls(rpm=rpm, tpm=tpm)
        except ValueError as error:
            raise ValueError(f"--{error}") from None

    def _paces(self, model: str) -> _ModelPaces:
        paces = self._models.get(model)
        if paces is None:
            paces = self._models[model] = _ModelPaces(
                _Pace(self.rpm) if self.rpm else None, _Pace(self.tpm) if self.tpm else None
            )
        return paces

    def admit(self, model: str, team_id: str) -> None:
        """Take one request for `model`, or raise xAI's 429 with when to come back."""
        paces = self._paces(model)
        now = self.clock()
        waits = [wait for pace in (paces.requests, paces.tokens)
                 if pace is not None and (wait := pace.refusal(now)) is not None]
        if waits:
            self.refused += 1
            wait = max(waits)
            which = "request" if paces.requests is not None and paces.requests.refusal(now) else "token"
            raise ApiError(
                429,
                f"Team {team_id} has exceeded its {which} rate limit for model {model}. "
                "Please slow down and retry later.",
                Code.RESOURCE_EXHAUSTED,
                {"retry-after": str(max(1, math.ceil(wait))),
                 "retry-after-ms": str(max(1, math.ceil(wait * 1000))),
                 **self._headers(paces, now)},
            )
        if paces.requests is not None:
            paces.requests.charge(1, now)

    def settle(self, model: str, response: SimResponse, request_body: bytes) -> None:
        """Charge the tokens the answer used, and give it the `x-ratelimit-*` headers."""
        paces = self._paces(model)
        now = self.clock()
        if paces.tokens is not None:
            paces.tokens.charge(_tokens_used(response, request_body), now)
        response.headers.update(self._headers(paces, now))

    @staticmethod
    def _headers(paces: _ModelPaces, now: float) -> Mapping[str, str]:
        headers: dict[str, str] = {}
        for kind, pace in (("requests", paces.requests), ("tokens", paces.tokens)):
            if pace is not None:
                headers[f"x-ratelimit-limit-{kind}"] = _number(pace.rate * 60.0)
                headers[f"x-ratelimit-remaining-{kind}"] = str(pace.remaining(now))
                headers[f"x-ratelimit-reset-{kind}"] = f"{pace.reset(now):.3f}s"
        return headers


def _tokens_used(response: SimResponse, request_body: bytes) -> int:
    if not response.is_stream and response.body:
        try:
            usage = json.loads(response.body).get("usage") or {}
            total = usage.get("total_tokens")
            if isinstance(total, int):
                return total
        except (ValueError, AttributeError):
            pass
    return max(1, len(request_body) // 4)  # a stream's usage is in its last chunk: a guess


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"
