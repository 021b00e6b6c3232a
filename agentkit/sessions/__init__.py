"""Sessions: conversation memory that outlives one run, and one process.

A session stores the chat-completion messages of one conversation, keyed by `session_id`.
The agent loop calls `get_items()` before a run, to send the stored history, and
`add_items(new_messages)` after it. This package owns the `Session` protocol and its two
implementations: `InMemorySession` for tests, and `SQLiteSession` for memory that survives
restarts. Both cap what `get_items()` returns with `trim_history`, which never deletes
anything stored.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from ._sqlite import SQLiteSession
from ._window import (
    check_cap,
    check_session_id,
    decode_body,
    encode_items,
    estimate_tokens,
    trim_history,
)

__all__ = ["InMemorySession", "SQLiteSession", "Session", "estimate_tokens", "trim_history"]


@runtime_checkable
class Session(Protocol):
    """The memory of one conversation: messages as JSON-serialisable dicts, oldest first.

    Attributes:
        session_id: Which conversation this object reads and writes.
    """

    session_id: str

    async def get_items(self, limit: int | None = None) -> list[dict[str, Any]]:
        """The stored window of the conversation, oldest first; called before a run.

        Implementations apply their own caps (`max_messages`, `max_tokens`) and then
        `limit`, and trim with `trim_history`, so the list never opens on a tool result.

        Args:
            limit: Keep at most this many of the newest messages; None for the whole window.

        Returns:
            Copies of the messages; changing them does not change the session.
        """
        ...

    async def add_items(self, items: Sequence[Mapping[str, Any]]) -> None:
        """Append messages, all of them or none; called after a run with its new messages.

        Args:
            items: Message dicts, oldest first, each with a string `role`.

        Raises:
            SessionError: An item cannot be stored; nothing was stored.
        """
        ...

    async def pop_item(self) -> dict[str, Any] | None:
        """Remove the newest message and return it (to undo or edit the last turn).

        Returns:
            The removed message, or None when the session is empty.
        """
        ...

    async def clear(self) -> None:
        """Remove every message of this `session_id`."""
        ...


class InMemorySession:
    """A `Session` in a list, gone with the object: for tests and short-lived programs.

    Items are checked and stored as the JSON a `SQLiteSession` would write, so the two behave
    alike (a tuple comes back a list) and callers cannot change stored items through the
    dicts they passed in or got back.

    Args:
        session_id: The conversation's id (kept for the protocol; one object holds one).
        max_messages: Most messages `get_items()` returns; None for no cap.
        max_tokens: Most estimated tokens `get_items()` returns (see `estimate_tokens`);
            None for no cap.

    Raises:
        ConfigurationError: A bad `session_id` or cap.
    """

    def __init__(
        self,
        session_id: str = "default",
        *,
        max_messages: int | None = None,
        max_tokens: int | None = None,
    ):
        self.session_id = check_session_id(session_id)
        self.max_messages = check_cap("max_messages", max_messages)
        self.max_tokens = check_cap("max_tokens", max_tokens)
        self._bodies: list[str] = []

    def __repr__(self) -> str:
        return f"InMemorySession(session_id={self.session_id!r}, items={len(self._bodies)})"

    async def get_items(self, limit: int | None = None) -> list[dict[str, Any]]:
        """The stored window, oldest first: see `Session.get_items`.

        Raises:
            ConfigurationError: `limit` is not None and not an int >= 1.
        """
        check_cap("limit", limit)
        caps = [cap for cap in (self.max_messages, limit) if cap is not None]
        most = min(caps) if caps else None
        bodies = self._bodies if most is None else self._bodies[-most:]
        messages = [decode_body(body, f"item {i}") for i, body in enumerate(bodies)]
        return trim_history(messages, max_messages=most, max_tokens=self.max_tokens)

    async def add_items(self, items: Sequence[Mapping[str, Any]]) -> None:
        """Append messages, all or none: see `Session.add_items`.

        Raises:
            SessionError: An item is not a dict with a string `role`, or is not JSON.
        """
        self._bodies.extend(encode_items(items))

    async def pop_item(self) -> dict[str, Any] | None:
        """Remove and return the newest message, or None when empty."""
        if not self._bodies:
            return None
        return decode_body(self._bodies.pop(), "the newest item")

    async def clear(self) -> None:
        """Remove every message."""
        self._bodies.clear()
