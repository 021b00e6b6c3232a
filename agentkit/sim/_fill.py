"""Fill a JSON schema from evidence, so tool arguments and structured answers validate.

Pure and stdlib only. A `Filler` walks a schema (resolving `$ref`, `anyOf` with null, type
lists) and takes each value from, in order: a `key=value` in the message, the tool results
(structured answers), the message by the parameter's type and kind (a city wants a name after
"in", a `url` wants a URL, `days` wants the number next to "days"), the schema's default, and
last a fallback of the right type that respects enum, pattern, bounds and lengths.

`_repair` uses a filler to fix answers that came back with validation errors; `_schemas`
holds what this module needs to know about schema nodes and scalars.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ._evidence import (
    STOPWORDS,
    Evidence,
    content_words,
    normalize_key,
    overlap,
    split_words,
    stem,
)
from ._schemas import (
    fit_number,
    generate_from_pattern,
    matches_pattern,
    resolve,
    schema_type,
    show_number,
    to_bool,
    to_number,
)

__all__ = ["Entry", "Filler", "flatten_sources", "parameter_kind"]

_MAX_DEPTH = 8
_MAX_ENTRIES = 400


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
# Fields that want the answer itself: with tool results, the summary of them.
_ANSWER_WORDS = _stems(
    "answer",
    "summary",
    "result",
    "text",
    "content",
    "response",
    "description",
    "explanation",
    "message",
    "output",
    "detail",
    "info",
    "report",
    "reply",
    "conclusion",
    "overview",
)
# Verbs that prefix boolean names without saying what they switch ("include_forecast").
_BOOL_VERBS = _stems(
    "include",
    "use",
    "show",
    "enable",
    "is",
    "has",
    "allow",
    "should",
    "do",
    "with",
    "want",
    "return",
    "add",
)
# Where a parameter's words ask for one end of a route, the preposition that introduces it:
# "from London to Tokyo", "convert USD to EUR".
_ORIGIN_WORDS = _stems("source", "from", "origin", "start", "departure", "sender", "base")
_DESTINATION_WORDS = _stems(
    "target", "to", "destination", "end", "arrival", "recipient", "dest", "into", "quote"
)
_ORIGIN_PREPOSITIONS = frozenset({"from"})
_DESTINATION_PREPOSITIONS = frozenset({"to", "into", "in"})
# Prepositions that introduce places and people ("in Paris", "for Ada Lovelace").
_PLACE_PREPOSITIONS = frozenset({"in", "at", "near", "for", "from", "to", "about", "of", "into"})


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


@dataclass(frozen=True)
class _Prop:
    name: str
    words: frozenset[str]
    about: frozenset[str]
    kind: str
    direction: str  # "origin", "destination" or ""


def _prop(name: str, node: Mapping[str, Any]) -> _Prop:
    return _read_prop(name, str(node.get("description", "")), str(node.get("title", "")))


@functools.lru_cache(maxsize=4096)
def _read_prop(name: str, description: str, title: str) -> _Prop:
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
    return _Prop(name, words, about, _kind(words, about), direction)


def parameter_kind(name: str, node: Mapping[str, Any]) -> str:
    """What a string parameter holds, judged by its name and description.

    One of "url", "email", "phone", "path", "expression", "sql", "code" (values with a shape of
    their own), "entity" (a place or a name), "query", "text", or "generic".
    """
    return _prop(name, node).kind


def _kind(words: frozenset[str], about: frozenset[str]) -> str:
    # Shaped kinds first, by name then by description ("query: a SQL SELECT statement" holds
    # SQL, not a search query); then the loose kinds, by name then by description.
    for kinds in (_STRONG_KINDS, _WEAK_KINDS):
        for source in (words, about):
            for kind, keys in kinds:
                if source & keys:
                    return kind
    return "generic"


class _Missing:
    """Marks a field that is absent (not null)."""


_MISSING = _Missing()


class Filler:
    """Builds values for one schema from one message (and tool results, if any).

    A filler keeps which numbers and strings it has used, so two parameters do not get the
    same one; make a new filler per tool call.

    Args:
        evidence: The user's message, read.
        root: The schema document (for `$ref`); the value to build is its root.
        results: Tool results as `(tool name, parsed value)` pairs.
        summary: The text answer fields such as `answer` or `summary` get when found nowhere.
        subject: `(property, value)` to force the top-level property of one parallel call.
        base_depth: The depth of the schema root in a larger value; nested fillers start
            deeper, so the depth limit holds for recursive schemas.
    """

    def __init__(
        self,
        evidence: Evidence,
        root: Mapping[str, Any],
        *,
        results: Sequence[tuple[str, Any]] = (),
        summary: str = "",
        subject: tuple[str, Any] | None = None,
        base_depth: int = 0,
    ) -> None:
        self.ev = evidence
        self.root = root
        self.results = results
        self.entries = flatten_sources(results) if results else []
        self.summary = summary
        self.subject = subject
        self._base_depth = base_depth
        self._used_numbers: set[int] = set()
        self._claims: dict[str, int] = {}
        self._used_strings: list[str] = []

    # ---- entry points ------------------------------------------------------------------------

    def fill(self) -> Any:
        """Build a value for the whole schema."""
        return self.value(self.root, "", required=True, depth=0)[0]

    # ---- values ------------------------------------------------------------------------------

    def value(self, schema: Any, name: str, *, required: bool, depth: int) -> tuple[Any, bool]:
        """Build a value for `schema`, the property `name` of its parent.

        Returns:
            The value, and whether it came from the evidence (False: default or fallback;
            optional properties that were not found are left out by the caller).
        """
        node, nullable = resolve(schema, self.root)
        if depth > _MAX_DEPTH + 4:
            return (None if nullable else self._fallback(node, name, depth)), False
        prop = _prop(name, node)
        if self.subject is not None and depth == self._base_depth + 1 and name == self.subject[0]:
            ok, forced = self.coerce(self.subject[1], node, depth)
            if ok:
                self._use_string(forced)
                return forced, True
        if "const" in node:
            return node["const"], False
        if name:
            raw = self.ev.key_values.get(normalize_key(name))
            if raw is not None:
                ok, found = self.coerce(raw, node, depth)
                if ok:
                    return found, True
        if self.entries and name:
            hit = self._from_entries(node, prop, depth, required=required)
            if hit is not None:
                return hit[0], True
        kind = schema_type(node)
        found_value: tuple[Any, bool]
        if isinstance(node.get("enum"), list) and node["enum"]:
            found_value = self._enum(node)
        elif kind == "object":
            found_value = self._object(node, depth)
        elif kind == "array":
            found_value = self._array(node, prop, required=required, depth=depth)
        elif kind in ("integer", "number"):
            found_value = self._number(node, prop, required=required)
        elif kind == "boolean":
            found_value = self._boolean(node, prop)
        elif kind == "null":
            return None, False
        else:
            found_value = self._string(node, prop, required=required)
        if found_value[1]:
            return found_value
        if "default" in node:
            return node["default"], False
        if nullable:
            return None, False
        if found_value[0] is not _MISSING:
            return found_value[0], False
        return self._fallback(node, name, depth), False

    def _enum(self, node: Mapping[str, Any]) -> tuple[Any, bool]:
        values = node["enum"]
        hits = self.ev.enum_values(values)
        if hits:
            return hits[0], True
        return _MISSING, False

    def _object(self, node: Mapping[str, Any], depth: int) -> tuple[Any, bool]:
        properties = node.get("properties")
        if not isinstance(properties, Mapping) or not properties:
            return {}, False
        required = set(node.get("required") or ())
        self._claim_numbers(properties)
        out: dict[str, Any] = {}
        found_any = False
        for name, sub in properties.items():
            is_required = name in required
            if depth >= _MAX_DEPTH and not is_required:
                continue
            item, found = self.value(sub, name, required=is_required, depth=depth + 1)
            if found or is_required:
                out[name] = item
            found_any = found_any or found
        return out, found_any

    def _array(
        self, node: Mapping[str, Any], prop: _Prop, *, required: bool, depth: int
    ) -> tuple[Any, bool]:
        items_schema = node.get("items", {})
        if isinstance(items_schema, list):
            items_schema = items_schema[0] if items_schema else {}
        item, _ = resolve(items_schema, self.root)
        kind = schema_type(item)
        values: list[Any] = []
        found = False
        if isinstance(item.get("enum"), list):
            values = self.ev.enum_values(item["enum"])
            found = bool(values)
        elif not required or depth > _MAX_DEPTH:
            values = []
        elif kind == "string" and self._shaped(item, prop):
            values = []
            for candidate in self._shaped(item, prop):
                if candidate not in values and not self._string_used(candidate):
                    values.append(self._fit_string(candidate, item))
            for value in values:
                self._use_string(value)
            found = bool(values)
        elif kind in ("string", "any"):
            subjects = [s for s in self.ev.subjects if not self._string_used(s)]
            if subjects:
                values = [self._fit_string(s, item) for s in subjects]
                found = True
            else:
                one, found = self._string(item, prop, required=True)
                values = [self._fit_string(one, item)] if found else []
        elif kind in ("integer", "number"):
            for index, number in enumerate(self.ev.numbers):
                if index not in self._used_numbers and index not in self._claims.values():
                    self._used_numbers.add(index)
                    values.append(fit_number(number.value, item, integer=kind == "integer"))
            found = bool(values)
        elif kind == "object":
            primary = _primary_string(item, self.root)
            # Only the outermost list of objects takes the subjects; a recursive schema would
            # otherwise multiply them at every level.
            if self.ev.subjects and primary is not None and self.subject is None:
                for subject in self.ev.subjects:
                    child = Filler(
                        self.ev,
                        self.root,
                        results=self.results,
                        summary=self.summary,
                        subject=(primary, subject),
                        base_depth=depth + 1,
                    )
                    # Numbers the parent has taken or promised ("budget of 2000") stay its own.
                    child._used_numbers |= self._used_numbers | set(self._claims.values())
                    values.append(child.value(item, "", required=True, depth=depth + 1)[0])
                found = True
            else:
                one, found = self.value(item, "", required=True, depth=depth + 1)
                values = [one] if found else []
        values = self.size_list(values, node, item, depth)
        return values, found

    def size_list(
        self, values: list[Any], node: Mapping[str, Any], item: Mapping[str, Any], depth: int
    ) -> list[Any]:
        """Fit a list to the array node's `uniqueItems`, `maxItems` and `minItems`."""
        if node.get("uniqueItems") is True:
            unique: list[Any] = []
            for value in values:
                if value not in unique:
                    unique.append(value)
            values = unique
        maximum = node.get("maxItems")
        if isinstance(maximum, int):
            values = values[:maximum]
        minimum = node.get("minItems")
        if isinstance(minimum, int):
            while len(values) < minimum:
                extra = self._fallback(item, "", depth + 1, index=len(values))
                if node.get("uniqueItems") is True and extra in values:
                    extra = self._fallback(item, "", depth + 1, index=len(values) + 7)
                values.append(extra)
        return values

    def _claim_numbers(self, properties: Mapping[str, Any]) -> None:
        """Give each numeric property the number written next to its name ("5 days")."""
        for name, sub in properties.items():
            node, _ = resolve(sub, self.root)
            if schema_type(node) not in ("integer", "number") or name in self._claims:
                continue
            targets = frozenset(content_words(name))
            best: tuple[int, int] | None = None
            for index, number in enumerate(self.ev.numbers):
                if index in self._used_numbers or index in self._claims.values():
                    continue
                distance = self.ev.near(number.start, number.end, targets, before=2, after=2)
                if distance is not None and (best is None or distance < best[0]):
                    best = (distance, index)
            if best is not None:
                self._claims[name] = best[1]

    def _number(self, node: Mapping[str, Any], prop: _Prop, *, required: bool) -> tuple[Any, bool]:
        integer = schema_type(node) == "integer"
        index = self._claims.pop(prop.name, None)
        if index is None and required:
            claimed = set(self._claims.values())
            index = next(
                (
                    i
                    for i in range(len(self.ev.numbers))
                    if i not in self._used_numbers and i not in claimed
                ),
                None,
            )
        if index is None:
            return _MISSING, False
        self._used_numbers.add(index)
        return fit_number(self.ev.numbers[index].value, node, integer=integer), True

    def _boolean(self, node: Mapping[str, Any], prop: _Prop) -> tuple[Any, bool]:
        targets = prop.words - _BOOL_VERBS or prop.words
        said = self.ev.boolean_for(targets)
        if said is None:
            return _MISSING, False
        return said, True

    # ---- strings -----------------------------------------------------------------------------

    def _string(self, node: Mapping[str, Any], prop: _Prop, *, required: bool) -> tuple[Any, bool]:
        ev = self.ev
        fmt = node.get("format")
        by_format = {
            "date": ev.dates, "date-time": ev.dates, "time": ev.times, "email": ev.emails,
            "idn-email": ev.emails, "uri": ev.urls, "url": ev.urls, "iri": ev.urls,
            "uuid": ev.uuids, "ipv4": ev.ips,
        }  # fmt: skip
        candidates: list[str] = []
        if isinstance(fmt, str) and fmt in by_format:
            candidates = [s.value for s in by_format[fmt]]
            if fmt == "date":
                candidates = [c[:10] for c in candidates]
            elif fmt == "date-time":
                candidates = [c if "T" in c or " " in c else c + "T00:00:00Z" for c in candidates]
        else:
            candidates = self._kind_candidates(prop, required=required)
        for candidate in candidates:
            if candidate and not self._string_used(candidate):
                self._use_string(candidate)
                return self._fit_string(candidate, node), True
        if required and self.entries and prop.words & _ANSWER_WORDS and self.summary:
            return self._fit_string(self.summary, node), True
        return _MISSING, False

    def _shaped(self, node: Mapping[str, Any], prop: _Prop) -> list[str]:
        """Every value of a shape the item wants (all emails for a list of emails), or []."""
        ev = self.ev
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

    def _kind_candidates(self, prop: _Prop, *, required: bool) -> list[str]:
        ev = self.ev
        kind = prop.kind
        targets = prop.words | prop.about
        near_quotes = [
            q.value for q in ev.quoted if ev.near(q.start, q.end, prop.words) is not None
        ]
        if kind == "url":
            return near_quotes + [s.value for s in ev.urls]
        if kind == "email":
            return [s.value for s in ev.emails]
        if kind == "phone":
            return near_quotes + [s.value for s in ev.phones]
        if kind == "path":
            pathish = [
                q.value for q in ev.quoted if "/" in q.value or "." in q.value or "*" in q.value
            ]
            return pathish + [s.value for s in ev.paths]
        if kind == "expression":
            return list(ev.expressions)
        if kind == "sql":
            sqlish = [q.value for q in ev.quoted if q.value.lower().startswith(("select", "with "))]
            return sqlish + [s.value for s in ev.sql] + (near_quotes if required else [])
        if kind == "code":
            return [s.value for s in ev.code_blocks] + (near_quotes or [q.value for q in ev.quoted])
        names = ev.names
        near_names = [s.value for s, _, _ in names if ev.near(s.start, s.end, targets) is not None]
        if not required:
            # An optional parameter takes only what is clearly meant for it.
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
        lower_places = [s.value for s in ev.after_preposition(_PLACE_PREPOSITIONS)]
        salient = [ev.salient] if ev.salient else []
        if kind == "entity":
            return (near_quotes + quoted + near_names + prep_names + plain_names + initial_names
                    + lower_places + salient)  # fmt: skip
        if kind == "query":
            topic = [ev.topic] if ev.topic else []
            return near_quotes + quoted + topic + salient
        if kind == "text":
            if self.entries and prop.words & _ANSWER_WORDS and self.summary:
                return [*near_quotes, self.summary]
            return near_quotes + quoted + salient
        # A plain parameter takes names in the order the message gives them.
        in_order = [
            s.value for s, _, initial in sorted(names, key=lambda n: n[0].start) if not initial
        ]
        return near_quotes + quoted + near_names + directed + in_order + salient

    def _string_used(self, value: str) -> bool:
        lower = value.lower()
        return any(lower in used or used in lower for used in self._used_strings)

    def _use_string(self, value: Any) -> None:
        if isinstance(value, str) and value:
            self._used_strings.append(value.lower())

    def _fit_string(self, value: Any, node: Mapping[str, Any]) -> str:
        text = value if isinstance(value, str) else str(value)
        pattern = node.get("pattern")
        if isinstance(pattern, str) and not matches_pattern(pattern, text):
            text = self.pattern_candidate(pattern) or generate_from_pattern(pattern) or text
        maximum = node.get("maxLength")
        if isinstance(maximum, int) and len(text) > maximum:
            text = text[:maximum]
        minimum = node.get("minLength")
        if isinstance(minimum, int) and len(text) < minimum:
            text = text + "x" * (minimum - len(text))
        return text

    def pattern_candidate(self, pattern: str) -> str | None:
        """A span of the message (quoted text, a name, a word...) that `pattern` matches."""
        ev = self.ev
        pool = [q.value for q in ev.quoted] + [s.value for s, _, _ in ev.names]
        pool += [ev.text[w.start : w.end] for w in ev.words]
        pool += [s.value for s in ev.urls + ev.emails + ev.dates + ev.paths]
        return next((c for c in pool if matches_pattern(pattern, c)), None)

    # ---- tool results ------------------------------------------------------------------------

    def _from_entries(
        self, node: Mapping[str, Any], prop: _Prop, depth: int, *, required: bool
    ) -> tuple[Any] | None:
        key = normalize_key(prop.name)
        for entry in self.entries:
            if entry.key == key:
                ok, value = self.coerce(entry.value, node, depth)
                if ok:
                    return (value,)
        kind = schema_type(node)
        if kind == "array" and self._dict_results():
            item, _ = resolve(node.get("items", {}), self.root)
            if schema_type(item) == "object":
                ok, value = self.coerce(self._dict_results(), node, depth)
                if ok and value:
                    return (value,)
        best: tuple[Any] | None = None
        best_score = 0.0
        for entry in self.entries:
            score = 2 * overlap(prop.words, entry.words) + overlap(prop.about, entry.words)
            if score > best_score:
                ok, value = self.coerce(entry.value, node, depth)
                if ok:
                    best, best_score = (value,), score
        if best is not None:
            return best
        if not required:
            return None
        if kind == "string" and prop.words & _ANSWER_WORDS and self.summary:
            return (self._fit_string(self.summary, node),)
        if kind in ("integer", "number", "boolean"):
            wanted = (bool,) if kind == "boolean" else (int, float)
            for entry in self.entries:
                leaf = entry.value
                if isinstance(leaf, wanted) and (kind == "boolean" or not isinstance(leaf, bool)):
                    ok, value = self.coerce(leaf, node, depth)
                    if ok:
                        return (value,)
        return None

    def _dict_results(self) -> list[Any]:
        """The results that are objects of their own (one per parallel call), in order."""
        return [value for _, value in self.results if isinstance(value, Mapping)]

    def coerce(self, value: Any, schema: Any, depth: int) -> tuple[bool, Any]:
        """Convert `value` to what `schema` asks for, if it sensibly can.

        Numbers come from numeric strings ("21.5", "21 C"), strings from scalars, booleans
        from yes/no words, arrays from lists (or one value), objects from dicts (filled by
        a filler that reads that dict).

        Returns:
            `(True, converted)` or `(False, None)`.
        """
        node, nullable = resolve(schema, self.root)
        if value is None:
            return nullable or schema_type(node) in ("null", "any"), None
        if "const" in node:
            return value == node["const"], node["const"]
        enum = node.get("enum")
        if isinstance(enum, list) and enum:
            for option in enum:
                if option == value and type(option) is type(value):
                    return True, option
            for option in enum:
                if str(option).lower() == str(value).strip().lower():
                    return True, option
            return False, None
        kind = schema_type(node)
        if kind == "string":
            if isinstance(value, str):
                return True, self._fit_string(value, node)
            if isinstance(value, bool):
                return True, self._fit_string("true" if value else "false", node)
            if isinstance(value, int | float):
                return True, self._fit_string(show_number(value), node)
            return False, None
        if kind in ("integer", "number"):
            number = to_number(value)
            if number is None or (
                kind == "integer" and not float(number).is_integer() and not isinstance(value, str)
            ):
                return False, None
            return True, fit_number(number, node, integer=kind == "integer")
        if kind == "boolean":
            flag = to_bool(value)
            return flag is not None, flag
        if kind == "array":
            items = value if isinstance(value, list) else [value]
            out = []
            for item in items:
                ok, converted = self.coerce(item, node.get("items", {}), depth + 1)
                if ok:
                    out.append(converted)
            if not out and items:
                return False, None
            item_node, _ = resolve(node.get("items", {}), self.root)
            return True, self.size_list(out, node, item_node, depth)
        if kind == "object":
            if not isinstance(value, Mapping):
                return False, None
            child = Filler(self.ev, self.root, results=[("", value)], summary=self.summary)
            return True, child.value(node, "", required=True, depth=depth)[0]
        if kind == "null":
            return False, None
        return True, value

    # ---- fallbacks ---------------------------------------------------------------------------

    def _fallback(self, node: Mapping[str, Any], name: str, depth: int, *, index: int = 0) -> Any:
        """A value of the right type, for when the evidence says nothing."""
        if "const" in node:
            return node["const"]
        enum = node.get("enum")
        if isinstance(enum, list) and enum:
            return node["default"] if node.get("default") in enum else enum[index % len(enum)]
        if "default" in node:
            return node["default"]
        kind = schema_type(node)
        if kind == "object":
            out = {}
            properties = node.get("properties") or {}
            for key in node.get("required") or ():
                if key in properties:
                    sub, nullable = resolve(properties[key], self.root)
                    out[key] = (
                        None
                        if nullable or depth > _MAX_DEPTH + 4
                        else self._fallback(sub, key, depth + 1)
                    )
            return out
        if kind == "array":
            minimum = node.get("minItems")
            item, _ = resolve(node.get("items", {}), self.root)
            count = minimum if isinstance(minimum, int) else 0
            return [self._fallback(item, name, depth + 1, index=i) for i in range(count)]
        if kind in ("integer", "number"):
            return fit_number(index, node, integer=kind == "integer")
        if kind == "boolean":
            return False
        if kind == "null":
            return None
        return self._fit_string(_string_fallback(node, name, self.ev, index), node)


def _primary_string(node: Mapping[str, Any], root: Mapping[str, Any]) -> str | None:
    properties = node.get("properties") or {}
    required = list(node.get("required") or ())
    for name in required + [n for n in properties if n not in required]:
        sub, _ = resolve(properties.get(name, {}), root)
        if schema_type(sub) == "string" and "enum" not in sub:
            return str(name)
    return None


def _string_fallback(node: Mapping[str, Any], name: str, ev: Evidence, index: int) -> str:
    fmt = node.get("format")
    formats = {
        "date": "2024-01-01", "date-time": "2024-01-01T00:00:00Z", "time": "00:00:00",
        "email": "user@example.com", "idn-email": "user@example.com",
        "uri": "https://example.com", "url": "https://example.com", "iri": "https://example.com",
        "uuid": "00000000-0000-4000-8000-000000000000", "ipv4": "127.0.0.1", "ipv6": "::1",
        "hostname": "example.com",
    }  # fmt: skip
    if isinstance(fmt, str) and fmt in formats:
        return formats[fmt]
    kind = _prop(name, node).kind
    by_kind = {
        "url": "https://example.com",
        "email": "user@example.com",
        "path": ".",
        "expression": "0",
    }
    if kind in by_kind:
        return by_kind[kind]
    if index == 0 and ev.salient:
        return ev.salient
    label = " ".join(w for w in re.findall(r"[A-Za-z]+", name) if w.lower() not in STOPWORDS)
    return f"{label or 'value'} {index + 1}" if index else (label or "unknown")
