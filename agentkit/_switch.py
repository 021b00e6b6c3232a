"""The switch that makes real model requests fail (for test suites), and what counts as one.

Real means leaving this machine: requests to loopback hosts, and through in-process
transports (decided in `_http.reaches_network`), are never blocked. No I/O here.
"""

from __future__ import annotations

import ipaddress
import os
from contextvars import ContextVar, Token
from types import TracebackType
from urllib.parse import urlsplit

from .errors import ConfigurationError, ModelRequestBlockedError

__all__ = [
    "ALLOW_MODEL_REQUESTS_ENV",
    "ModelRequestSwitch",
    "check_model_request",
    "is_loopback_host",
    "model_requests_allowed",
]

ALLOW_MODEL_REQUESTS_ENV = "AGENTKIT_ALLOW_MODEL_REQUESTS"
"""Set to 0 (false, no, off) to make every real model request fail: for test suites."""

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")

# Context-local rather than a module flag: a `with` block switches requests for the code it
# runs (tasks and worker threads started inside inherit it) and for nothing else, so tests
# running side by side cannot switch each other. None: the environment decides.
_allowed_here: ContextVar[bool | None] = ContextVar("agentkit_allow_model_requests", default=None)


def _switched_off_by() -> str | None:
    """What switches real model requests off here, or None when they are allowed."""
    allowed = _allowed_here.get()
    if allowed is not None:
        return None if allowed else "agentkit.testing.block_model_requests()"
    raw = os.environ.get(ALLOW_MODEL_REQUESTS_ENV, "")
    value = raw.strip().lower()
    if not value or value in _TRUE:
        return None
    if value in _FALSE:
        return f"{ALLOW_MODEL_REQUESTS_ENV}={raw}"
    # A typo must not let requests through, nor block them without saying why.
    raise ConfigurationError(
        f"{ALLOW_MODEL_REQUESTS_ENV}={raw!r} is not understood: use 1 to allow real model "
        "requests or 0 to block them"
    )


def model_requests_allowed() -> bool:
    """Whether a real (non-simulated, non-loopback) model request may be sent here and now."""
    return _switched_off_by() is None


class ModelRequestSwitch:
    """A `with` block in which real model requests are allowed, or blocked.

    Made by `agentkit.testing.allow_model_requests()` and `block_model_requests()`. Not a
    decorator on purpose: around an `async def` a decorator would switch only while the
    coroutine object is created, and nothing while it runs.
    """

    __slots__ = ("_allowed", "_tokens")

    def __init__(self, allowed: bool) -> None:
        self._allowed = allowed
        self._tokens: list[tuple[Token[bool | None], bool | None]] = []

    def __enter__(self) -> None:
        before = _allowed_here.get()
        self._tokens.append((_allowed_here.set(self._allowed), before))

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        token, before = self._tokens.pop()
        try:
            _allowed_here.reset(token)
        except ValueError:  # left in another context than entered (a fixture's teardown)
            _allowed_here.set(before)

    def __repr__(self) -> str:
        return f"{'allow' if self._allowed else 'block'}_model_requests()"


def is_loopback_host(host: str | None) -> bool:
    """Whether `host` is this machine: `localhost` (and `*.localhost`), 127.0.0.0/8 or ::1."""
    if not host:
        return False
    host = host.lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_model_request(method: str, url: str) -> None:
    """Refuse to send `method url` while real model requests are switched off.

    Raises:
        ModelRequestBlockedError: They are, and `url` is not on this machine.
    """
    switched_off_by = _switched_off_by()
    if switched_off_by is None or is_loopback_host(urlsplit(url).hostname):
        return
    if switched_off_by.startswith(ALLOW_MODEL_REQUESTS_ENV):
        how = f"set {ALLOW_MODEL_REQUESTS_ENV}=1, or run the code inside"
    else:
        how = "run the code outside that block, or inside"
    raise ModelRequestBlockedError(
        f"real model requests are switched off ({switched_off_by}), so {method} {url} was "
        "not sent. Tests should use GrokClient.simulated(), agentkit.testing.ScriptedModel or "
        f"a ReplayTransport; to allow real requests, {how} "
        "`with agentkit.testing.allow_model_requests():`"
    )
