"""Kinds of parameter, and the values of each kind a message holds.

Pure and stdlib only. A parameter's kind comes from the words of its name, then of its
description: a `url` wants a URL, an `expression` arithmetic, a `city` a place. This module
says which kind a parameter is (`prop_of`), which spans of a message could fill it, best first
(`kind_candidates`), and which values of a shaped kind the message holds, in order
(`values_of_kind`: what makes one call per URL, per expression, per SQL statement).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ._evidence import Evidence
from ._words import content_words, split_words, stem

__all__ = [
    "SHAPED_KINDS",
    "Prop",
    "kind_candidates",
    "parameter_kind",
    "prop_of",
    "shaped_kind",
    "shaped_values",
    "values_of_kind",
]


def _stems(*words: str) -> frozenset[str]:
    return frozenset(stem(w) for w in words)


# Kinds of string parameter, told apart by the words of their name (then description).
_STRONG_KINDS: tuple[tuple[str, frozenset[str]], ...] = (
    ("url", _stems("url", "uri", "link", "href", "website", "site", "webpage", "endpoint",
                   "homepage")),
    ("email", _stems("email", "mail", "e-mail")),
    ("phone", _stems("phone", "telephone", "tel", "mobile", "cell", "fax")),
    ("path", _stems("path", "file", "filename", "filepath", "dir", "directory", "folder",
                    "glob")),
    ("expression", _stems("expression", "expr", "formula", "calculation", "equation", "math",
                          "arithmetic")),
    ("sql", _stems("sql")),
    ("code", _stems("code", "script", "snippet", "program", "command", "cmd", "shell")),
)  # fmt: skip
_WEAK_KINDS: tuple[tuple[str, frozenset[str]], ...] = (
    ("entity", _stems(
        "city", "location", "place", "name", "country", "person", "region", "town", "state",
        "address", "destination", "origin", "author", "user", "username", "company",
        "organization", "org", "team", "recipient", "contact", "airport", "station", "venue",
        "capital", "language", "lang", "artist", "brand", "product", "symbol", "ticker",
        "stock", "currency", "who", "where", "customer", "owner", "employee", "member")),
    ("query", _stems("query", "q", "search", "term", "keyword", "topic", "question",
                     "subject", "title", "lookup")),
    ("text", _stems("text", "content", "body", "message", "prompt", "input", "description",
                    "note", "comment", "sentence", "phrase", "word", "summary", "answer",
                    "reason", "instruction", "string", "response", "reply", "explanation")),
)  # fmt: skip
SHAPED_KINDS = frozenset({"url", "email", "phone", "path", "expression", "sql", "code", "date"})
"""Kinds whose values have a shape of their own, so the message shows them unmistakably."""

# Where a parameter's words ask for one end of a route, the preposition that introduces it:
# "from London to Tokyo", "convert USD to EUR".
_ORIGIN_WORDS = _stems("source", "from", "origin", "start", "departure", "sender", "base")
_DESTINATION_WORDS = _stems(
    "target", "to", "destination", "end", "arrival", "recipient", "dest", "into", "quote"
)
_ORIGIN_PREPOSITIONS = frozenset({"from"})
_DESTINATION_PREPOSITIONS = frozenset({"to", "into", "in"})
# Prepositions that introduce places and people ("in Paris", "for Ada Lovelace").
_FILL_PREPOSITIONS = frozenset({"in", "at", "near", "for", "from", "to", "about", "of", "into"})
# Prepositions before a name that make it a place ("rain in Paris"; not "capital of France").
_PLACE_PREPOSITIONS = frozenset({"in", "at", "near", "from", "to", "for", "around", "into"})

_FORMAT_KINDS = {"date": "date", "date-time": "date", "email": "email", "uri": "url", "url": "url"}
_SQL_STARTS = ("select", "with ")


@dataclass(frozen=True)
class Prop:
    """A parameter as words: its name's stems, its description's, its kind and its direction.

    Attributes:
        name: The parameter's name as written.
        words: Stems of the name's words.
        about: Stems of the description's and title's words.
        kind: See `parameter_kind`.
        direction: "origin", "destination" or "" (`from_unit`, `to_unit`).
    """

    name: str
    words: frozenset[str]
    about: frozenset[str]
    kind: str
    direction: str


def prop_of(name: str, node: Mapping[str, Any]) -> Prop:
    """The parameter `name` with schema `node`, read."""
    return _read_prop(name, str(node.get("description", "")), str(node.get("title", "")))


@functools.lru_cache(maxsize=4096)
def _read_prop(name: str, description: str, title: str) -> Prop:
    # Cached: agents send the same schemas on every turn.
    words = frozenset(content_words(name))
    text = f"{description} {title}"
    about = frozenset(content_words(text)) if text.strip() else frozenset()
    # "from" and "to" are stopwords, but in a name ("from_unit") they say which end it is.
    parts = frozenset(stem(p) for p in split_words(name)) | about
    direction = ""
    if parts & _ORIGIN_WORDS:
        direction = "origin"
    elif parts & _DESTINATION_WORDS:
        direction = "destination"
    return Prop(name, words, about, _kind(words, about), direction)


def parameter_kind(name: str, node: Mapping[str, Any]) -> str:
    """What a string parameter holds, judged by its name and description.

    One of "url", "email", "phone", "path", "expression", "sql", "code" (values with a shape of
    their own), "entity" (a place or a name), "query", "text", or "generic".
    """
    return prop_of(name, node).kind


def shaped_kind(name: str, node: Mapping[str, Any]) -> str:
    """`parameter_kind`, except that a `format` (date, email, uri) decides first."""
    fmt = node.get("format")
    if isinstance(fmt, str) and fmt in _FORMAT_KINDS:
        return _FORMAT_KINDS[fmt]
    return parameter_kind(name, node)


def _kind(words: frozenset[str], about: frozenset[str]) -> str:
    # Shaped kinds first, by name then by description ("query: a SQL SELECT statement" holds
    # SQL, not a search query); then the loose kinds, by name then by description.
    for kinds in (_STRONG_KINDS, _WEAK_KINDS):
        for source in (words, about):
            for kind, keys in kinds:
                if source & keys:
                    return kind
    return "generic"


# --------------------------------------------------------------------------------------------
# Values of a kind
# --------------------------------------------------------------------------------------------


def values_of_kind(ev: Evidence, kind: str) -> tuple[str, ...]:
    """The values of a kind the message holds unmistakably, in its order, without repeats.

    Shaped kinds give their spans (URLs, expressions, SQL statements, backticked SQL first);
    "entity" gives capitalised names after a place preposition ("in Cairo"); loose kinds
    (query, text, generic), which any words can fill, give ().
    """
    values: list[str]
    if kind == "url":
        values = [s.value for s in ev.urls]
    elif kind == "email":
        values = [s.value for s in ev.emails]
    elif kind == "phone":
        values = [s.value for s in ev.phones]
    elif kind == "date":
        values = [s.value for s in ev.dates]
    elif kind == "path":
        values = _pathish_quotes(ev) or [s.value for s in ev.paths]
    elif kind == "expression":
        values = list(ev.expressions_in_order)
    elif kind == "sql":
        values = _sqlish_quotes(ev) or [s.value for s in ev.sql]
    elif kind == "code":
        values = [s.value for s in ev.code_blocks]
    elif kind == "entity":
        values = [s.value for s, prep, _ in ev.names if prep in _PLACE_PREPOSITIONS]
    else:
        values = []
    return tuple(dict.fromkeys(values))


def _pathish_quotes(ev: Evidence) -> list[str]:
    return [q.value for q in ev.quoted if "/" in q.value or "." in q.value or "*" in q.value]


def _sqlish_quotes(ev: Evidence) -> list[str]:
    return [q.value for q in ev.quoted if q.value.lower().startswith(_SQL_STARTS)]


def shaped_values(ev: Evidence, node: Mapping[str, Any], prop: Prop) -> list[str]:
    """Every value of a shape a list item wants (all emails for a list of emails), or []."""
    fmt = node.get("format")
    if fmt in ("email", "idn-email") or (fmt is None and prop.kind == "email"):
        return [s.value for s in ev.emails]
    if fmt in ("uri", "url", "iri") or (fmt is None and prop.kind == "url"):
        return [s.value for s in ev.urls]
    if fmt == "date":
        return [s.value[:10] for s in ev.dates]
    if fmt is None and prop.kind == "path":
        return [s.value for s in ev.paths]
    return []


def kind_candidates(ev: Evidence, prop: Prop, *, required: bool, answer: str | None) -> list[str]:
    """Spans of the message that could fill a string parameter, best first.

    Args:
        ev: The message.
        prop: The parameter.
        required: Whether the parameter is required; an optional one takes only what is
            clearly meant for it.
        answer: The answer so far, for a text field that wants it (`summary`, `answer`).
    """
    kind = prop.kind
    targets = prop.words | prop.about
    near_quotes = [q.value for q in ev.quoted if ev.near(q.start, q.end, prop.words) is not None]
    if kind == "url":
        return near_quotes + [s.value for s in ev.urls]
    if kind == "email":
        return [s.value for s in ev.emails]
    if kind == "phone":
        return near_quotes + [s.value for s in ev.phones]
    if kind == "path":
        return _pathish_quotes(ev) + [s.value for s in ev.paths]
    if kind == "expression":
        return list(ev.expressions)
    if kind == "sql":
        return _sqlish_quotes(ev) + [s.value for s in ev.sql] + (near_quotes if required else [])
    if kind == "code":
        return [s.value for s in ev.code_blocks] + (near_quotes or [q.value for q in ev.quoted])
    names = ev.names
    near_names = [s.value for s, _, _ in names if ev.near(s.start, s.end, targets) is not None]
    if not required:
        strong = near_quotes + near_names
        if kind == "entity":
            strong += [s.value for s, prep, _ in names if prep]
        if kind == "query" and ev.topic:
            strong.append(ev.topic)
        return strong
    quoted = [q.value for q in ev.quoted]
    directed: list[str] = []
    if prop.direction:
        origin = prop.direction == "origin"
        wanted = _ORIGIN_PREPOSITIONS if origin else _DESTINATION_PREPOSITIONS
        unwanted = _DESTINATION_PREPOSITIONS if origin else _ORIGIN_PREPOSITIONS
        directed = [s.value for s, prep, _ in names if prep in wanted]
        directed += [s.value for s in ev.after_preposition(wanted)]
        if origin:
            # "convert 5 miles to km": without "from", the origin is what comes before "to".
            directed += [s.value for s in ev.before_preposition(unwanted)]
        names = tuple(n for n in names if n[1] not in unwanted)
    prep_names = directed + [s.value for s, prep, _ in names if prep]
    plain_names = [s.value for s, prep, initial in names if not prep and not initial]
    initial_names = [s.value for s, _, initial in names if initial]
    lower_places = [s.value for s in ev.after_preposition(_FILL_PREPOSITIONS)]
    salient = [ev.salient] if ev.salient else []
    if kind == "entity":
        return (near_quotes + quoted + near_names + prep_names + plain_names + initial_names
                + lower_places + salient)  # fmt: skip
    if kind == "query":
        topic = [ev.topic] if ev.topic else []
        return near_quotes + quoted + topic + salient
    if kind == "text":
        if answer:
            return [*near_quotes, answer]
        return near_quotes + quoted + salient
    # A plain parameter takes names in the order the message gives them.
    in_order = [s.value for s, _, initial in sorted(names, key=lambda n: n[0].start) if not initial]
    return near_quotes + quoted + near_names + directed + in_order + salient
