"""How much one simulated server accepts, and what it counts while it serves.

`ServerLimits` bounds every resource a client can make the server hold: connections, bytes
of a request head and body, and the time spent waiting for each. `ServerStats` is the
server's own tally, read by tests and operators to see that attacks were shed and that the
connections they opened are gone again.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass

from .errors import ConfigurationError

__all__ = ["ServerLimits", "ServerStats", "add_limit_arguments", "limits_from_arguments"]


@dataclass(frozen=True, slots=True)
class ServerLimits:
    """The bounds a simulated server holds every client to.

    Attributes:
        max_connections: Connections served at once; those beyond are answered 503 and
            closed at once, so a flood costs a descriptor for a moment, not memory.
        head_timeout: Seconds for a whole request head to arrive, counted from the
            connection's start (first request) or from the first byte of the next one
            (keep-alive). A slowloris client is answered 408 and closed when it runs out.
        body_timeout: Seconds for a whole request body to arrive once its head has;
            408 and close after.
        send_timeout: Seconds one write may wait for a client that does not read; the
            connection is dropped after, rather than held by a stalled peer.
        keep_alive_timeout: Seconds an idle keep-alive connection waits for the next
            request. Longer than any client pool's idle timeout (httpx: 5 s), so that
            clients close first and never send on a connection the server just closed.
        max_head_bytes: Bytes of request line and headers; 431 beyond.
        max_body_bytes: Bytes of request body; 413 beyond, answered before reading any of
            it when Content-Length says so, and as soon as a chunked body exceeds it.
    """

    max_connections: int = 4096
    head_timeout: float = 10.0
    body_timeout: float = 30.0
    send_timeout: float = 30.0
    keep_alive_timeout: float = 75.0
    max_head_bytes: int = 64 * 1024
    max_body_bytes: int = 10 * 1024 * 1024

    def __post_init__(self) -> None:
        # A zero or negative bound would refuse every client; NaN would never time out.
        for name in ("max_connections", "max_head_bytes", "max_body_bytes"):
            if getattr(self, name) < 1:
                raise ConfigurationError(f"{name} must be at least 1, not {getattr(self, name)!r}")
        for name in ("head_timeout", "body_timeout", "send_timeout", "keep_alive_timeout"):
            value = getattr(self, name)
            if not (value > 0 and math.isfinite(value)):
                raise ConfigurationError(
                    f"{name} must be a positive number of seconds, not {value!r}"
                )


def add_limit_arguments(parser: argparse.ArgumentParser) -> None:
    """The command-line options that set a server's `ServerLimits`, shared by
    `agentkit serve` and `python -m agentkit.sim`."""
    defaults = ServerLimits()
    parser.add_argument("--max-connections", type=int, default=defaults.max_connections,
                        help="connections served at once; 503 beyond")
    parser.add_argument("--head-timeout", type=float, default=defaults.head_timeout,
                        help="seconds for a request head to arrive; 408 after")
    parser.add_argument("--body-timeout", type=float, default=defaults.body_timeout,
                        help="seconds for a request body to arrive; 408 after")
    parser.add_argument("--max-body-bytes", type=int, default=defaults.max_body_bytes,
                        help="largest request body; 413 beyond")
    parser.add_argument("--rpm", type=float, default=None,
                        help="requests per minute per model; 429 with retry-after beyond")
    parser.add_argument("--tpm", type=float, default=None,
                        help="tokens per minute per model; 429 with retry-after beyond")


def limits_from_arguments(args: argparse.Namespace) -> ServerLimits:
    """The `ServerLimits` that `add_limit_arguments`' options asked for.

    Raises:
        ConfigurationError: A limit is out of range; the message names it.
    """
    return ServerLimits(
        max_connections=args.max_connections,
        head_timeout=args.head_timeout,
        body_timeout=args.body_timeout,
        max_body_bytes=args.max_body_bytes,
    )


class ServerStats:
    """Counters of one server, written by its event loop and safe to read from any thread.

    Each figure is one int, so a reader on another thread sees a whole value, if possibly
    one event old.
    """

    __slots__ = (
        "_accept_errors",
        "_accepted",
        "_disconnects",
        "_open",
        "_peak",
        "_rejected",
        "_shed",
        "_timeouts",
    )

    def __init__(self) -> None:
        self._open = 0
        self._peak = 0
        self._accepted = 0
        self._shed = 0
        self._timeouts = 0
        self._rejected = 0
        self._disconnects = 0
        self._accept_errors = 0

    @property
    def open_connections(self) -> int:
        """Connections being served now (shed ones are not counted)."""
        return self._open

    @property
    def peak_connections(self) -> int:
        """The most connections served at once."""
        return self._peak

    @property
    def accepted(self) -> int:
        """Connections accepted in all, shed ones included."""
        return self._accepted

    @property
    def shed(self) -> int:
        """Connections closed at once (503) because `max_connections` were open."""
        return self._shed

    @property
    def timeouts(self) -> int:
        """Connections closed because a head, body or write took longer than allowed."""
        return self._timeouts

    @property
    def rejected(self) -> int:
        """Requests refused before they reached the core: malformed, too large, too slow."""
        return self._rejected

    @property
    def disconnects(self) -> int:
        """Connections the client closed or reset in the middle of a request or answer."""
        return self._disconnects

    @property
    def accept_errors(self) -> int:
        """Failed accepts (out of descriptors, typically), each retried after a pause."""
        return self._accept_errors

    def __repr__(self) -> str:
        return (
            f"ServerStats(open={self._open}, peak={self._peak}, accepted={self._accepted}, "
            f"shed={self._shed}, timeouts={self._timeouts}, rejected={self._rejected}, "
            f"disconnects={self._disconnects}, accept_errors={self._accept_errors})"
        )

    # The server's side: only its event loop calls these.

    def _admit(self) -> None:
        self._accepted += 1
        self._open += 1
        self._peak = max(self._peak, self._open)

    def _release(self) -> None:
        self._open -= 1

    def _shed_one(self) -> None:
        self._accepted += 1
        self._shed += 1

    def _timed_out(self) -> None:
        self._timeouts += 1

    def _rejected_one(self) -> None:
        self._rejected += 1

    def _disconnected(self) -> None:
        self._disconnects += 1

    def _accept_failed(self) -> None:
        self._accept_errors += 1
