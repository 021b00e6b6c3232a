"""Fill a JSON schema from evidence, so tool arguments and structured answers validate.

Pure and stdlib only. A `Filler` walks a schema (resolving `$ref`, `anyOf` with null, type
lists) and takes each value from, in order: a `key=value` in the message, the tool results
(structured answers), the message by the parameter's type and kind (a city wants a name after
"in", a `url` wants a URL, `days` wants the number next to "days"), the schema's default, and
last a fallback of the right type that respects enum, pattern, bounds and lengths.

`_kinds` says what kind of value a parameter wants and where the message holds one;
`_sources` indexes tool results; `_schemas` knows schema nodes and scalars. `_repair` uses a
filler to fix answers that came back with validation errors.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from ._entities import amounts, iso_date, natural_dates
from ._evidence import Evidence
from ._kinds import (
    NO_PURPOSE,
    Prop,
    Purpose,
    parameter_kind,
    prop_of,
    role_values,
    shaped_values,
    string_candidates,
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
from ._sources import Entry, flatten_sources
from ._words import STOPWORDS, content_words, normalize_key, overlap, stem

__all__ = ["Entry", "Filler", "flatten_sources", "parameter_kind"]

_MAX_DEPTH = 8


def _stems(*words: str) -> frozenset[str]:
    return frozenset(stem(w) for w in words)


# Fields that want the answer itself: with tool results, the summary of them.
_ANSWER_WORDS = _stems("answer", "summary", "result", "text", "content", "response",
                       "description", "explanation", "message", "output", "detail", "info",
                       "report", "reply", "conclusion", "overview")  # fmt: skip
# Fields that say what something shows, and how they are worded.
_DESCRIBING = _stems("caption", "description", "alt", "subtitle", "legend")
# Verbs that prefix boolean names without saying what they switch ("include_forecast").
_BOOL_VERBS = _stems("include", "use", "show", "enable", "is", "has", "allow", "should", "do",
                     "with", "want", "return", "add")  # fmt: skip


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
        purpose: What the tool is for: words that only ask for it ("weather") are no value.
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
        purpose: Purpose = NO_PURPOSE,
    ) -> None:
        self.ev = evidence
        self.root = root
        self.results = results
        self.entries = flatten_sources(results) if results else []
        self.summary = summary
        self.subject = subject
        self.purpose = purpose
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
        prop = prop_of(name, node)
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
                listed: Any = raw
                if schema_type(node) == "array" and isinstance(raw, str):
                    # "Topics: security review, SSO" lists two.
                    listed = [p for p in re.split(r"\s*(?:,|;|\band\b)\s*", raw) if p]
                ok, found = self.coerce(listed, node, depth)
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
        self, node: Mapping[str, Any], prop: Prop, *, required: bool, depth: int
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
        elif kind == "string" and depth <= _MAX_DEPTH and role_values(self.ev, item, prop) is not None:
            # A list of topics or people holds the ones the message names, none if it names
            # none: the message is not echoed into it.
            values = [self._fit_string(v, item) for v in role_values(self.ev, item, prop) or ()
                      if not self._string_used(v)]  # fmt: skip
            for value in values:
                self._use_string(value)
            found = bool(values)
        elif not required or depth > _MAX_DEPTH:
            values = []
        elif kind == "string" and shaped_values(self.ev, item, prop):
            values = []
            for candidate in shaped_values(self.ev, item, prop):
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

    def _number(self, node: Mapping[str, Any], prop: Prop, *, required: bool) -> tuple[Any, bool]:
        integer = schema_type(node) == "integer"
        if prop.role == "money" and amounts(self.ev):
            # "a budget of $5k": the amount written as money, whatever number is nearer.
            span, amount = amounts(self.ev)[0]
            self._used_numbers.update(
                i for i, n in enumerate(self.ev.numbers) if span.start <= n.start < span.end
            )
            self._claims.pop(prop.name, None)
            return fit_number(amount, node, integer=integer), True
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

    def _boolean(self, node: Mapping[str, Any], prop: Prop) -> tuple[Any, bool]:
        targets = prop.words - _BOOL_VERBS or prop.words
        said = self.ev.boolean_for(targets)
        if said is None:
            return _MISSING, False
        return said, True

    # ---- strings -----------------------------------------------------------------------------

    def _string(self, node: Mapping[str, Any], prop: Prop, *, required: bool) -> tuple[Any, bool]:
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
            if fmt in ("date", "date-time"):
                # "12 March 2025" is a date too, once written the ISO way.
                candidates += [d for d in (iso_date(s.value) for s in natural_dates(ev)) if d]
            if fmt == "date":
                candidates = [c[:10] for c in candidates]
            elif fmt == "date-time":
                candidates = [c if "T" in c or " " in c else c + "T00:00:00Z" for c in candidates]
        else:
            wants_answer = bool(self.entries) and bool(prop.words & _ANSWER_WORDS)
            answer = self.summary if wants_answer and self.summary else None
            candidates = string_candidates(
                ev, prop, required=required, answer=answer, purpose=self.purpose
            )
        for candidate in candidates:
            if candidate and not self._string_used(candidate):
                self._use_string(candidate)
                return self._fit_string(candidate, node), True
        if required and self.entries and prop.words & _ANSWER_WORDS and self.summary:
            return self._fit_string(self.summary, node), True
        return _MISSING, False

    def _string_used(self, value: str) -> bool:
        lower = value.lower()
        # An email or a URL is one value: "Acme" is not used up by "bob@acme.io".
        if "@" in lower or "://" in lower:
            return lower in self._used_strings
        return any(
            lower == used or (("@" not in used and "://" not in used) and (
                lower in used or used in lower))
            for used in self._used_strings
        )

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
        self, node: Mapping[str, Any], prop: Prop, depth: int, *, required: bool
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
        if kind == "string" and prop.words & _DESCRIBING:  # a caption: what a picture was made of
            for entry in self.entries:
                if entry.words & _DESCRIBING and isinstance(entry.value, str) and entry.value:
                    text = entry.value.strip()
                    sentence = text[:1].upper() + text[1:].rstrip(".") + "."
                    return (self._fit_string(sentence if "sentenc" in prop.about else text, node),)
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
    kind = prop_of(name, node).kind
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
