"""Recovering from a tool's error: call again with a value the error offers, a bounded number
of times, and forget the failures that a retry has made good.

Pure and stdlib only. The policy is stateless, so everything is counted from the conversation:
how often a tool has failed since the question, which values were already tried.

A value is only taken when it relates to the one that failed: the same value in other case
("paris" -> "Paris"), a value that contains it or that it contains ("Tokyo" -> "Asia/Tokyo"),
a near spelling ("Tokio" -> "Tokyo"), or one sharing a long word ("St Petersburg" ->
"Saint Petersburg"). "Unknown city 'Atlantis'; known cities: Paris, Tokyo" offers nothing
that relates, so the model explains the failure instead of guessing.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ._conversation import Result
from ._feedback import offered_values, parse_field_errors

__all__ = ["MAX_RETRIES", "Retry", "retries_so_far", "suggest", "superseded", "tried_values"]

MAX_RETRIES = 2
"""Retries of one tool in one conversation turn, after its first failure."""

_TOKEN = re.compile(r"[^\W_]+")
# A shared word this long is a name, not a filler ("new", "san", "the").
_LONG_WORD = 4


@dataclass(frozen=True)
class Retry:
    """Call the failed call again with `parameter` set to `value`."""

    parameter: str
    value: str


def retries_so_far(results: Sequence[Result], pending: Sequence[Result], name: str) -> int:
    """How many times `name` was already called again after failing since the question.

    Every failure of the tool before the latest batch of results was followed by another
    call, so each counts as one retry (different subjects of the tool share the budget).
    """
    earlier = results[: len(results) - len(pending)]
    return sum(1 for r in earlier if r.name == name and r.failed)


def tried_values(calls: Sequence[tuple[str, str, Any]], name: str) -> set[str]:
    """Every string argument already sent to the tool `name` since the question."""
    tried: set[str] = set()
    for _, called, arguments in calls:
        if called == name and isinstance(arguments, Mapping):
            tried.update(v for v in arguments.values() if isinstance(v, str))
    return tried


def suggest(result: Result, tried: Collection[str]) -> Retry | None:
    """The argument to change, and the value to try, that a failed result offers; or None.

    Args:
        result: A failed tool result, with the call it answers.
        tried: Values already sent to this tool (never offered again).
    """
    arguments = result.arguments
    if not isinstance(arguments, Mapping):
        return None
    text = failure_text(result)
    offered = offered_values(text)
    if not offered:
        return None
    strings = [(str(k), v) for k, v in arguments.items() if isinstance(v, str) and v.strip()]
    lowered = text.lower()
    # The argument the error names is the one that failed; else any string argument may be.
    named = [(k, v) for k, v in strings if v.strip().lower() in lowered]
    best: tuple[tuple[int, int, int], Retry] | None = None
    for key, value in named or strings:
        for order, candidate in enumerate(offered):
            if candidate in (value, key) or candidate in tried:
                continue
            relation = _relation(value, candidate)
            if relation is None:
                continue
            rank = (*relation, order)
            if best is None or rank < best[0]:
                best = (rank, Retry(key, candidate))
    return best[1] if best is not None else None


def failure_text(result: Result) -> str:
    """A failed result as text to read offers from; a JSON error object is rendered flat."""
    data = result.data
    if not isinstance(data, Mapping):
        return result.content
    parts = []
    for key, value in data.items():
        if isinstance(value, list):
            value = ", ".join(f"'{v}'" for v in value if isinstance(v, str | int | float))
        parts.append(f"{key}: {value}")
    return "; ".join(parts)


def superseded(results: Sequence[Result]) -> set[int]:
    """Indexes of failed results that a later successful call to the same tool made good.

    A later call made it good when it sends a value the failure offered, or when the failure
    listed invalid fields (so the later call is their repair). A later call for another
    subject ("Tokyo" after "Paris" failed) does neither, and the failure stays reported.
    """
    gone: set[int] = set()
    for i, failed in enumerate(results):
        if not failed.failed or not isinstance(failed.arguments, Mapping):
            continue
        text = failure_text(failed).lower()
        repaired = bool(parse_field_errors(failed.content))
        for later in results[i + 1 :]:
            if later.name != failed.name or later.failed:
                continue
            if not isinstance(later.arguments, Mapping):
                continue
            changed = [
                v
                for k, v in later.arguments.items()
                if failed.arguments.get(k) != v and isinstance(v, str)
            ]
            if repaired or any(v.lower() in text for v in changed):
                gone.add(i)
                break
    return gone


def _relation(failed: str, offered: str) -> tuple[int, int] | None:
    """How closely an offered value relates to the failed one: (tier, distance); None if not."""
    a, b = failed.strip().lower(), offered.strip().lower()
    if a == b:
        return (0, 0)
    a_words, b_words = _TOKEN.findall(a), _TOKEN.findall(b)
    if not a_words or not b_words:
        return None
    if set(a_words) <= set(b_words):
        return (1, len(b_words) - len(a_words))
    if set(b_words) <= set(a_words):
        return (1, len(a_words) - len(b_words))
    limit = max(1, len(a) // 5)
    distance = min(_distance(a, b), *(_distance(a, w) for w in b_words))
    if distance <= limit:
        return (2, distance)
    shared = {w for w in a_words if len(w) >= _LONG_WORD} & set(b_words)
    if shared:
        return (3, len(set(a_words) ^ set(b_words)))
    return None


def _distance(a: str, b: str) -> int:
    """Edit distance with transpositions ("Sydeny" is one edit from "Sydney")."""
    if abs(len(a) - len(b)) > 3:
        return max(len(a), len(b))  # too far apart to be a misspelling; skip the table
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1]
