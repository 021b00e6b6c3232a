"""Kinds of parameter, and the values of each kind a message holds.

Pure and stdlib only. A parameter's kind comes from the words of its name, then of its
description: a `url` wants a URL, an `expression` arithmetic, a `city` a place. This module
says which kind a parameter is (`prop_of`), which spans of a message could fill it, best first
(`kind_candidates`), and which values of a shaped kind the message holds, in order
(`values_of_kind`: what makes one call per URL, per expression, per SQL statement).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ._entities import (
    amounts,
    depicted,
    natural_dates,
    organizations,
    people,
    reasons,
    topics,
)
from ._evidence import Evidence
from ._words import STOPWORDS, content_words, related_to_any, split_words, stem

__all__ = [
    "NO_PURPOSE",
    "SHAPED_KINDS",
    "Prop",
    "Purpose",
    "kind_candidates",
    "other_roles",
    "parameter_kind",
    "prop_of",
    "role_candidates",
    "role_values",
    "shaped_kind",
    "shaped_values",
    "string_candidates",
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

_HOW_MANY = re.compile(
    r"\bhow\s+many\s+([^\W\d_][\w°/]*(?:\s+(?!(?:are|is|in|make|equals?)\b)[^\W\d_][\w°/]*)?)"
    r"\s+(?:are|is|in|make|equals?)\b",
    re.I,
)
_UNIT_AFTER_NUMBER = re.compile(r"\d(?:[\d.,]*\d)?\s*(°?[^\W\d_][\w°/]*)")
_FILE_NAME = re.compile(r"(?<![\w./-])[\w-]+\.[A-Za-z][A-Za-z0-9]{0,4}(?![\w.])")
# A free-text parameter for what the user asks ("question", "prompt").
_ASKING = frozenset(stem(w) for w in ("question", "ask", "prompt", "query"))
_PICTURE_WORDS = frozenset(
    stem(w) for w in ("image", "picture", "photo", "drawing", "illustration", "draw", "paint")
)
_LEADING_ASK = re.compile(
    r"^(?:(?:what|how much|how many|how|which|who|where|when|why|is|are|do|does|can|should)\s+)+",
    re.I,
)
_FORMAT_KINDS = {"date": "date", "date-time": "date", "email": "email", "uri": "url", "url": "url"}
_SQL_STARTS = ("select", "with ")


# What an entity or free-text field is about, by its words: who, which company, where...
_ROLES: tuple[tuple[str, frozenset[str]], ...] = (
    ("organization", _stems("company", "organization", "organisation", "org", "employer",
                            "business", "firm", "agency", "institution", "workplace", "vendor",
                            "corporation", "enterprise")),
    ("place", _stems("city", "country", "location", "address", "region", "town", "place",
                     "destination", "origin", "venue")),
    ("person", _stems("person", "full", "first", "last", "given", "family", "surname",
                      "contact", "sender", "author", "attendee", "applicant", "candidate",
                      "guest", "people", "who", "lead", "customer", "client", "speaker")),
    ("topic", _stems("topic", "topics", "interest", "interests", "subject", "subjects",
                     "request", "requests", "need", "needs", "agenda", "inquiry", "enquiry",
                     "purpose", "want", "wants", "talk", "discuss")),
    ("reason", _stems("reason", "why", "cause")),
    ("date", _stems("date", "deadline", "when", "birthday", "dob", "due", "appointment",
                    "day", "schedule", "scheduled")),
    ("money", _stems("budget", "amount", "price", "cost", "salary", "revenue", "fee", "spend",
                     "payment", "money")),
)  # fmt: skip


def _role(words: frozenset[str], about: frozenset[str]) -> str:
    """What a field is about: by its name's words first, then by its description's."""
    for source in (words, about):
        for role, keys in _ROLES:
            if source & keys:
                return role
    if stem("name") in words:
        return "person"
    return ""


@dataclass(frozen=True)
class Prop:
    """A parameter as words: its name's stems, its description's, its kind and its direction.

    Attributes:
        name: The parameter's name as written.
        words: Stems of the name's words.
        about: Stems of the description's and title's words.
        kind: See `parameter_kind`.
        direction: "origin", "destination" or "" (`from_unit`, `to_unit`).
        role: What the field is about: "person", "organization", "place", "topic", "date",
            "money", or "".
        examples: File names the description gives as examples ("e.g. "sunset.png"").
    """

    name: str
    words: frozenset[str]
    about: frozenset[str]
    kind: str
    direction: str
    role: str = ""
    examples: tuple[str, ...] = ()


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
    examples = tuple(dict.fromkeys(_FILE_NAME.findall(description)))
    return Prop(name, words, about, _kind(words, about), direction, _role(words, about), examples)


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


@dataclass(frozen=True)
class Purpose:
    """What a tool is for, as stems: its name's words and its description's."""

    name: frozenset[str] = frozenset()
    description: frozenset[str] = frozenset()

    @functools.cached_property
    def words(self) -> frozenset[str]:
        return self.name | self.description

    def __bool__(self) -> bool:
        return bool(self.name or self.description)


NO_PURPOSE = Purpose()


def _leftover(ev: Evidence, purpose: frozenset[str]) -> list[str]:
    """The longest run of the message's meaningful words that say nothing about the tool."""
    best: list[str] = []
    run: list[str] = []
    previous_end = -1
    for word in ev.words:
        meaningful = (
            word.lower not in STOPWORDS and not word.lower.isdigit() and len(word.lower) > 1
            and not related_to_any(word.stem, purpose)
        )
        joined = previous_end < 0 or not ev.text[previous_end : word.start].strip(" -")
        if meaningful and (joined or not run):
            run.append(ev.text[word.start : word.end])
        elif meaningful:
            run = [ev.text[word.start : word.end]]
        else:
            run = []
        previous_end = word.end
        if len(run) > len(best):
            best = list(run)
    return [" ".join(best)] if best else []


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


_ROLE_KINDS = frozenset({"entity", "query", "text", "generic"})


def role_candidates(ev: Evidence, prop: Prop, purpose: Purpose = NO_PURPOSE) -> list[str] | None:
    """The spans a field of a role takes (a person's name, a company, a topic, a date, an
    amount, a reason), best first; None for fields without a role, or whose kind decides
    better."""
    if prop.kind not in _ROLE_KINDS:
        return None
    role = prop.role
    if role == "reason":
        return reasons(ev, purpose.name | prop.words) or None
    if role == "person":
        return [s.value for s in people(ev)]
    if role == "organization":
        return [s.value for s in organizations(ev)]
    if role == "topic":
        found = list(topics(ev))
        if prop.kind == "query":
            found = list(dict.fromkeys(_unframed(t, purpose.words) for t in found))
        return found
    if role == "date":
        return [s.value for s in natural_dates(ev)]
    if role == "money":
        return [s.value for s, _ in amounts(ev)]
    return None


def other_roles(ev: Evidence, prop: Prop) -> frozenset[str]:
    """Values that belong to another role than the field's: a company is nobody's name."""
    if prop.role == "person":
        return frozenset(s.value for s in organizations(ev))
    if prop.role == "organization":
        return frozenset(s.value for s in people(ev))
    return frozenset()


def string_candidates(
    ev: Evidence, prop: Prop, *, required: bool, answer: str | None,
    purpose: Purpose = NO_PURPOSE,
) -> list[str]:
    """What a string field takes, best first: by its role (a person, a company...), then,
    when it must have a value, by its kind, leaving out what belongs to another role."""
    by_role = role_candidates(ev, prop, purpose)
    if by_role is None or answer:
        return kind_candidates(ev, prop, required=required, answer=answer, purpose=purpose)
    if not required:
        return by_role
    others = other_roles(ev, prop)
    rest = kind_candidates(ev, prop, required=True, answer=None, purpose=purpose)
    return by_role + [c for c in rest if c not in others]


def role_values(ev: Evidence, node: Mapping[str, Any], prop: Prop) -> list[str] | None:
    """Every value a list field of a role takes (its topics, the people named); None for a
    list whose items have no role of that kind (or a format of their own)."""
    if node.get("format") is not None or "enum" in node:
        return None
    if prop.role not in ("topic", "person", "organization"):
        return None
    return role_candidates(ev, prop)


def kind_candidates(
    ev: Evidence, prop: Prop, *, required: bool, answer: str | None,
    purpose: Purpose = NO_PURPOSE,
) -> list[str]:
    """Spans of the message that could fill a string parameter, best first.

    Args:
        ev: The message.
        prop: The parameter.
        required: Whether the parameter is required; an optional one takes only what is
            clearly meant for it.
        answer: The answer so far, for a text field that wants it (`summary`, `answer`).
        purpose: Stems of what the tool is for; the message's other words are what it is
            asked about ("orders" in "describe the orders table").
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
        found = _pathish_quotes(ev) + [s.value for s in ev.paths]
        if found or not required:
            return found
        # "the sunset picture" and a description that gives "sunset.png" as an example.
        named = [e for e in prop.examples
                 if any(w.stem in ev.stems for w in Evidence(e.rsplit(".", 1)[0]).words)]  # fmt: skip
        return named + (_leftover(ev, purpose.words | prop.words | prop.about) if purpose else [])
    if kind == "expression":
        return list(ev.expressions)
    if kind == "sql":
        return _sqlish_quotes(ev) + [s.value for s in ev.sql] + (near_quotes if required else [])
    if kind == "code":
        return [s.value for s in ev.code_blocks] + (near_quotes or [q.value for q in ev.quoted])
    # "Weather in Paris?": a sentence's capitalised first word that is what the tool is about
    # names the subject of the question, not a value for it.
    subject = purpose.words
    names = tuple(
        n for n in ev.names
        if not (n[2] and subject and all(w.stem in subject for w in Evidence(n[0].value).words))
    )
    near_names = [s.value for s, _, _ in names if ev.near(s.start, s.end, targets) is not None]
    if not required:
        strong = near_quotes + near_names
        if kind == "entity":
            strong += [s.value for s, prep, _ in names if prep]
        if kind == "query" and ev.topic:
            strong.append(ev.topic)
        if kind in ("query", "text") and prop.words & _ASKING and ev.text.rstrip().endswith("?"):
            strong.append(ev.text.strip())  # the user's question, passed on as asked
        return strong
    quoted = [q.value for q in ev.quoted]
    directed: list[str] = []
    if prop.direction:
        origin = prop.direction == "origin"
        wanted = _ORIGIN_PREPOSITIONS if origin else _DESTINATION_PREPOSITIONS
        unwanted = _DESTINATION_PREPOSITIONS if origin else _ORIGIN_PREPOSITIONS
        # "How many feet are in 3 metres?": the unit asked for after "how many", the one
        # converted from right after its number.
        asked = [m.group(1) for m in _HOW_MANY.finditer(ev.text)]
        directed = [] if origin else asked
        directed += [s.value for s, prep, _ in names if prep in wanted]
        directed += [s.value for s in ev.after_preposition(wanted)]
        if origin:
            directed += [m.group(1) for m in _UNIT_AFTER_NUMBER.finditer(ev.text)
                         if m.group(1).lower() not in STOPWORDS and m.group(1) not in asked]  # fmt: skip
            # "convert 5 miles to km": without "from", the origin is what comes before "to".
            directed += [s.value for s in ev.before_preposition(unwanted)]
        names = tuple(n for n in names if n[1] not in unwanted)
    prep_names = directed + [s.value for s, prep, _ in names if prep]
    plain_names = [s.value for s, prep, initial in names if not prep and not initial]
    initial_names = [s.value for s, _, initial in names if initial]
    lower_places = [s.value for s in ev.after_preposition(_FILL_PREPOSITIONS)]
    salient = [ev.salient] if ev.salient else []
    found = quoted or prep_names or plain_names or initial_names or lower_places or near_names
    if purpose and kind in ("entity", "generic") and not found:
        salient = _leftover(ev, purpose.words | prop.words | prop.about) + salient
    if kind == "entity":
        return (near_quotes + quoted + near_names + prep_names + plain_names + initial_names
                + lower_places + salient)  # fmt: skip
    if kind == "query":
        topic = [_unframed(ev.topic, purpose.words)] if ev.topic else []
        # "Search the documents: how much water ...?": what follows the command is the query.
        head, colon, rest = ev.text.partition(":")
        asked = [_LEADING_ASK.sub("", rest.strip()).rstrip("?.! ")] if (
            colon and rest.strip() and len(head.split()) <= 4 and "//" not in rest[:2]
        ) else []
        unframed = [_unframed(text, purpose.words) for text in salient]
        return near_quotes + quoted + topic + [a for a in asked if a] + unframed
    if kind == "text":
        if answer:
            return [*near_quotes, answer]
        shown = depicted(ev) if (prop.words | prop.about | purpose.words) & _PICTURE_WORDS else []
        return near_quotes + quoted + shown + salient
    # A plain parameter takes names in the order the message gives them.
    in_order = [s.value for s, _, initial in sorted(names, key=lambda n: n[0].start) if not initial]
    return near_quotes + quoted + near_names + directed + in_order + salient


_CONNECTORS = frozenset({"for", "about", "on", "regarding"})


def _unframed(query: str, framing: frozenset[str]) -> str:
    """`query` without a lead-in that only says where to look: "web for Python 3.14 release
    notes" to a web search tool is "Python 3.14 release notes". The lead-in must be words of
    the tool's purpose ending in "for", "about", "on" or "regarding"; anything else is kept."""
    words = query.split()
    for index, word in enumerate(words[:-1]):
        lowered = word.lower()
        if lowered in _CONNECTORS:
            framed = index > 0 and any(
                all(w.stem in framing for w in Evidence(lead).words)
                and Evidence(lead).words for lead in words[:index]
            )
            return " ".join(words[index + 1:]) if framed else query
        found = Evidence(word).words
        if not (lowered in STOPWORDS or (found and all(w.stem in framing for w in found))):
            return query
    return query
