"""What every session stores and hands out: checked, encoded items, and the trimmed window.

Pure functions over message dicts, no I/O, shared by both sessions so an `InMemorySession`
stores exactly what a `SQLiteSession` would. Trimming keeps the newest messages, because a
model needs the latest turn most, and never lets the window open on a tool result: an API
rejects a `role == "tool"` message whose calling assistant message is not before it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import ConfigurationError, SessionError

__all__ = [
    "check_cap",
    "check_session_id",
    "decode_body",
    "encode_items",
    "estimate_tokens",
    "trim_history",
]

# Role, separators and the priming every message costs in a chat prompt, give or take.
_TOKENS_PER_MESSAGE = 4
_CHARS_PER_TOKEN = 4


def check_cap(name: str, value: int | None) -> int | None:
    """Return `value` if it is a usable cap (an int >= 1, or None for no cap).

    Args:
        name: The parameter's name, for the message.
        value: The cap to check.

    Returns:
        `value`, unchanged.

    Raises:
        ConfigurationError: `value` is not None and not an int >= 1.
    """
    # bool is an int subclass, and `max_messages=True` is surely a mistake.
    if value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 1):
        return value
    raise ConfigurationError(
        f"{name} must be a whole number >= 1, or None for no cap; got {value!r}"
    )


def check_session_id(session_id: object) -> str:
    """Return `session_id` if it is a non-empty string; raise `ConfigurationError` if not."""
    if isinstance(session_id, str) and session_id:
        return session_id
    raise ConfigurationError(f"session_id must be a non-empty string; got {session_id!r}")


def encode_items(items: Sequence[Mapping[str, Any]]) -> list[str]:
    """Check every item and encode it as compact JSON, before anything is stored.

    Raises:
        SessionError: An item is not a dict with a string `role`, or is not JSON; the message
            names its index.
    """
    if isinstance(items, str | bytes | Mapping):
        raise SessionError(
            f"add_items takes a list of message dicts, got a {type(items).__name__}; "
            "wrap a single message in a list"
        )
    bodies = []
    for index, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise SessionError(
                f"item {index} is a {type(item).__name__}, not a message dict; nothing was stored"
            )
        role = item.get("role")
        if not isinstance(role, str):
            raise SessionError(
                f"item {index} has no string 'role' (got {role!r}); every message needs one, "
                "such as 'user'; nothing was stored"
            )
        try:
            # allow_nan=False: NaN and Infinity are not JSON, and no API would accept them.
            body = json.dumps(dict(item), separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError, RecursionError) as exc:
            raise SessionError(
                f"item {index} (role {role!r}) cannot be stored as JSON: {exc}; "
                "convert it to plain dicts, lists, strings and numbers; nothing was stored"
            ) from exc
        bodies.append(body)
    return bodies


def decode_body(body: str, where: str) -> dict[str, Any]:
    """Parse one stored message; `where` names it in the error if the text is damaged."""
    try:
        message = json.loads(body)
    except (TypeError, ValueError) as exc:
        raise SessionError(f"{where} is not valid JSON: {exc}") from exc
    if not isinstance(message, dict):
        raise SessionError(f"{where} is a JSON {type(message).__name__}, not a message object")
    return message


def estimate_tokens(message: Mapping[str, Any]) -> int:
    """Estimate the prompt tokens one message costs, without a tokenizer.

    The estimate is `ceil(len(compact JSON text) / 4) + 4`: about four characters per token,
    plus a few tokens of per-message overhead. It is fast and local, and close for English
    text and code; it undercounts text in scripts that take a token or more per character
    (Chinese, Japanese...), so leave headroom under a model's real context limit. Values JSON
    cannot encode are counted by their `str()`, so estimating never fails.

    Args:
        message: A chat-completion message, such as `{"role": "user", "content": "hi"}`.

    Returns:
        The estimated token count, at least 5.
    """
    text = json.dumps(message, separators=(",", ":"), ensure_ascii=False, default=str)
    return -(-len(text) // _CHARS_PER_TOKEN) + _TOKENS_PER_MESSAGE


def trim_history(
    messages: Sequence[Mapping[str, Any]],
    *,
    max_messages: int | None = None,
    max_tokens: int | None = None,
) -> list[dict[str, Any]]:
    """The newest part of `messages` that fits the caps and can be sent as it is.

    First the longest suffix within both caps is taken (tokens by `estimate_tokens`), then
    leading `role == "tool"` messages are dropped, because their calling assistant message
    was cut off. An assistant message with `tool_calls` is followed by its results, so
    keeping it keeps them.

    If even the newest message alone is over `max_tokens`, it is returned alone, over the
    budget, since an empty history would lose the latest turn; if that newest message is a
    tool result, the result is empty. Every other result is within both caps.

    Args:
        messages: Chat-completion messages, oldest first.
        max_messages: Most messages to keep; None for no cap.
        max_tokens: Most estimated tokens to keep; None for no cap.

    Returns:
        A new list holding shallow copies of a suffix of `messages`, oldest first; it never
        starts with a tool message.

    Raises:
        ConfigurationError: A cap is not None and not an int >= 1.
    """
    check_cap("max_messages", max_messages)
    check_cap("max_tokens", max_tokens)
    start = len(messages)
    floor = 0 if max_messages is None else max(0, len(messages) - max_messages)
    budget = max_tokens
    # Walk back from the newest, so only the messages that are kept get estimated.
    while start > floor:
        if budget is not None:
            cost = estimate_tokens(messages[start - 1])
            if cost > budget:
                break
            budget -= cost
        start -= 1
    if start == len(messages) and messages:
        start -= 1  # nothing fits the token budget: keep the newest turn anyway (see above)
    while start < len(messages) and messages[start].get("role") == "tool":
        start += 1
    return [dict(message) for message in messages[start:]]
