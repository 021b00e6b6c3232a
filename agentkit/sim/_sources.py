"""Tool results as data to answer from: indexed by key, narrowed to the record asked about.

Pure and stdlib only. `flatten_sources` lets a filler find `temperature` wherever a result
keeps it; `pick_record` narrows a list of records (a week of forecasts, rows of products) to
the one the question names ("in 3 days" and a `day` field of 3, "the Milk Frother" and a
`name` field), so the answer comes from that record rather than from the first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ._evidence import Evidence
from ._words import content_words, normalize_key

__all__ = ["Entry", "flatten_sources", "pick_record"]

_MAX_ENTRIES = 400
_MAX_RECORDS = 50
# A string field longer than this is prose, not a name the question could use.
_MAX_NAME_CHARS = 60
_TOKEN = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class Entry:
    """One key of a tool result: its normalised name, its words and its value."""

    key: str
    words: frozenset[str]
    value: Any


def flatten_sources(sources: Iterable[tuple[str, Any]]) -> list[Entry]:
    """Index tool results by key, shallow keys first, then each result by its tool's name.

    Args:
        sources: `(tool name, parsed result)` pairs.

    Returns:
        The entries, at most a few hundred (huge results are cut, not scanned forever).
    """
    entries: list[Entry] = []
    labelled: list[Entry] = []
    queue: list[Any] = []
    for label, value in sources:
        queue.append(value)
        words = frozenset(content_words(label))
        if words:
            labelled.append(Entry(normalize_key(label), words, value))
    while queue and len(entries) < _MAX_ENTRIES:
        value = queue.pop(0)
        if isinstance(value, Mapping):
            for key, item in value.items():
                entries.append(
                    Entry(normalize_key(str(key)), frozenset(content_words(str(key))), item)
                )
                queue.append(item)
        elif isinstance(value, list):
            queue.extend(value[:50])
    return entries + labelled


def pick_record(value: Any, ev: Evidence) -> Any:
    """The record of a list of records that the question names, else `value` unchanged.

    A list of objects is narrowed to the one object that matches the question best; so is
    such a list inside an object (`{"days": [...]}`, the other keys kept). A record matches
    by a number the question writes next to the field's name ("in 3 days", "day 3") and by
    a short string field the question uses: several words as they stand ("milk frother"),
    one word only as a name or quoted ("Paris", not "rain" for "Rain"). Values every record
    shares (the same city on every day) match all of them and so decide nothing.

    Args:
        value: A tool result, parsed.
        ev: The question.
    """
    if _is_records(value):
        return _pick(value, ev)
    if isinstance(value, Mapping):
        lists = [k for k, v in value.items() if _is_records(v)]
        if len(lists) == 1:
            picked = _pick(value[lists[0]], ev)
            if picked is not value[lists[0]]:
                return {**value, lists[0]: picked}
    return value


def _is_records(value: Any) -> bool:
    return (
        isinstance(value, list)
        and len(value) >= 2
        and all(isinstance(item, Mapping) for item in value[:_MAX_RECORDS])
    )


def _pick(records: list[Any], ev: Evidence) -> Any:
    if not ev.numbers and not ev.words:
        return records
    spoken = f" {' '.join(w.lower for w in ev.words)} "
    # One word names a record only when the question writes it as a name or quotes it:
    # "Paris" does, "rain" in "will it rain" does not name the day whose summary is "Rain".
    named = frozenset(
        " ".join(_TOKEN.findall(text.lower()))
        for text in [s.value for s, _, _ in ev.names] + [q.value for q in ev.quoted]
    )
    scores = [_match(record, ev, spoken, named) for record in records[:_MAX_RECORDS]]
    best = max(scores)
    if best > 0 and scores.count(best) == 1:
        return records[scores.index(best)]
    return records


def _says_key(ev: Evidence, start: int, key: str) -> bool:
    """Whether the word just before a number is the field's name as written ("day 4")."""
    before = ev.text[:start].split()
    return bool(before) and before[-1].strip(".,:;#").lower() == key.lower()


def _match(record: Mapping[str, Any], ev: Evidence, spoken: str, named: frozenset[str]) -> int:
    score = 0
    for key, field in record.items():
        if isinstance(field, int) and not isinstance(field, bool):
            words = frozenset(content_words(str(key)))
            near = [n for n in ev.numbers if n.value == field
                    and ev.near(n.start, n.end, words, before=2, after=2) is not None]  # fmt: skip
            if near:
                # "day 4" names the day; "the next 5 days" counts them.
                score += 3 if any(_says_key(ev, n.start, str(key)) for n in near) else 2
        elif isinstance(field, str) and 3 <= len(field) <= _MAX_NAME_CHARS:
            phrase = " ".join(_TOKEN.findall(field.lower()))
            if (" " in phrase and f" {phrase} " in spoken) or phrase in named:
                score += 1
    return score
