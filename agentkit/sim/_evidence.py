"""What the simulated model can read out of a text: words, numbers, names, quoted spans, lists.

Pure and stdlib only. The policy decides; this module only reads. Everything is computed on
demand and cached per `Evidence`, so a request that needs only the words pays only for them.
Words and stems live in `_words`, arithmetic in `_arith`, validation feedback in `_feedback`;
their names are re-exported here for code that reads everything from one place.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ._arith import find_expressions, safe_eval
from ._feedback import FieldError, parse_field_errors
from ._words import (
    COMMON_CAPS,
    NAME_PREPOSITIONS,
    NEGATIVE,
    STOPWORDS,
    content_words,
    normalize_key,
    overlap,
    related,
    related_to_any,
    split_words,
    stem,
)

__all__ = [
    "STOPWORDS",
    "Evidence",
    "FieldError",
    "Span",
    "content_words",
    "normalize_key",
    "overlap",
    "parse_field_errors",
    "related",
    "related_to_any",
    "safe_eval",
    "split_words",
    "stem",
]

_TOKEN = re.compile(r"[^\W_]+")

# --------------------------------------------------------------------------------------------
# Patterns
# --------------------------------------------------------------------------------------------

_URL = re.compile(r"https?://[^\s<>\"'`)\]]+")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_DATETIME = re.compile(
    r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?)?\b"
)
_TIME = re.compile(r"\b\d{1,2}:\d{2}(?::\d{2})?\b")
_UUID = re.compile(
    r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"
)
_PHONE = re.compile(r"(?<![\w+(])(?:\+|\()?\d[\d ().-]{5,}\d(?!\w)")
_IPV4 = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b")
_FENCE = re.compile(r"```[\w+-]*\n?([\s\S]*?)```")
_QUOTED = re.compile(
    r"\"([^\"\n]+)\"|“([^”\n]+)”|‘([^’\n]+)’|`([^`\n]+)`|(?<![\w'])'([^'\n]+?)'(?![\w'])"
)
_NUMBER = re.compile(r"(?<![\w.\-])-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?!\d)")
_NUMBER_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "twenty": 20, "thirty": 30,
    "fifty": 50, "hundred": 100, "dozen": 12,
}  # fmt: skip
# "the day after tomorrow" counts days as "in 2 days" does; the number sits after "day", so
# a `days` parameter or a `day` field finds it next to its name.
_DAY_AFTER = re.compile(r"(?<=\bday )after tomorrow\b", re.IGNORECASE)
_NUMBER_WORD = re.compile(r"\b(" + "|".join(_NUMBER_WORDS) + r")\b", re.IGNORECASE)
_PATH = re.compile(
    r"(?<![\w/:.@-])(?:(?:~|\.{1,2})?/?[\w.*-]+(?:/[\w.*-]+)+/?|(?:~|\.{1,2})?/[\w.*-]+"
    r"|[\w.-]*\*[\w.*-]*|[\w-]{2,}\.[A-Za-z][A-Za-z0-9]{0,5}\b)"
)
_EXTENSION = re.compile(r"[\w-]{2,}\.[A-Za-z][A-Za-z0-9]{0,5}$")
_SQL = re.compile(
    r"\b(?:SELECT|WITH|INSERT|UPDATE|DELETE|CREATE|DROP|ALTER|PRAGMA|EXPLAIN)\b[^;]*;?"
    r"|\bselect\b[^;]*?\bfrom\b[^;?]*",
)
_NAME = re.compile(
    r"\b[A-Z][\w'’-]*(?:\.(?=\s[A-Z]))?"
    r"(?:\s+(?:(?:de|da|del|der|di|du|van|von|la|le|of|the)\s+)?[A-Z][\w'’-]*)*"
)
_SENTENCE_ENDS = frozenset(".!?:;\n>*•-")
# A "Key: value" line holds the whole rest of the line ("Phone: +34 612 345 678").
_KEY_VALUE_LINE = re.compile(
    r"^[ \t]*([A-Za-z_][\w -]{0,30}?)[ \t]*:[ \t]*(\S[^\n]*?)[ \t]*$", re.M
)
# "Topics: security review, SSO. Phone ...": an inline "Key: value" holds up to the end of
# its sentence, or up to the next "key:" in a list of them.
_KEY_COLON = re.compile(
    r"\b([A-Za-z][\w-]*)\s*:[ \t]*(?!//)(\S.*?)(?=\s*(?:[;\n]|\.(?:\s|$)|,\s*[A-Za-z_][\w-]*\s*[:=]|$))"
)
_KEY_VALUE = re.compile(r"\b([A-Za-z_][\w-]*)\s*(?:=|:)\s*(\"[^\"]*\"|'[^']*'|[^\s,;]+)")
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+(.+?)\s*$", re.M)
_LIST_GAP = re.compile(r"\s*(?:,\s*(?:and|or|&)?|and|or|&|vs\.?|versus)\s*", re.I)
# Names a message asks about one after the other: "Paris, then Tokyo", "in Paris? And in
# Tokyo?", "Paris and then in Rome". A bare "in" is no join: "Paris in June" is one subject.
_THEN_GAP = re.compile(
    r"\s*(?:[,.?!;]\s*)?(?:and\s+)?then\s+(?:(?:in|at|for|near|to)\s+)?(?:the\s+)?"
    r"|\s*[.?!;]\s+(?:and|also|what about|how about)\s+(?:(?:in|at|for|near|to)\s+)?(?:the\s+)?"
    r"|\s*,?\s*(?:and|or)\s+(?:in|at|for|near)\s+(?:the\s+)?",
    re.I,
)
_LEADING = re.compile(
    r"^(?:(?:please|kindly|hey|hi|hello|ok|okay|so|now|then|also|can you|could you|would you|"
    r"will you|i want you to|i'd like you to|i would like you to|i want to|i'd like to|"
    r"tell me|show me|give me|let me know|help me|i need|i want|what(?:'s| is| are| was| were)|"
    r"who(?:'s| is| was| are)|where(?:'s| is| are)|when(?:'s| is| was)|which|"
    r"how (?:many|much|do i|do you|does|is|are|can i|to)|find(?: me)?|search(?: for)?|"
    r"look up|look for|get(?: me)?|fetch|check|do|does|is|are|the|a|an)\b[\s,]*)+",
    re.IGNORECASE,
)
_SEARCHING = re.compile(r"(?i)\b(?:search\w*|look\w*|find\w*|hunt\w*|docs?|documents?|notes?|info\w*|results?|anything|something)\W*\w*\W*$")
_TOPIC = re.compile(r"\b(?:about|regarding|on the topic of|related to|for)\s+([^.?!;\n]+)", re.I)

@dataclass(frozen=True)
class Span:
    """A piece of the text and where it is: `text[start:end] == value` (quotes excluded)."""

    value: str
    start: int
    end: int


@dataclass(frozen=True)
class _Number:
    value: int | float
    start: int
    end: int


@dataclass(frozen=True)
class _Word:
    lower: str
    stem: str
    start: int
    end: int


# --------------------------------------------------------------------------------------------
# Evidence
# --------------------------------------------------------------------------------------------


class Evidence:
    """One text, and everything the simulated model can read out of it.

    Attributes are computed on first use and cached; an `Evidence` is never mutated after
    that, so one can be shared by several fillers (one per parallel call).
    """

    def __init__(self, text: str) -> None:
        self.text = text

    # ---- words ------------------------------------------------------------------------------

    @functools.cached_property
    def words(self) -> tuple[_Word, ...]:
        out = []
        for match in _TOKEN.finditer(self.text):
            lower = match.group().lower()
            out.append(_Word(lower, stem(lower), match.start(), match.end()))
        return tuple(out)

    @functools.cached_property
    def _word_starts(self) -> list[int]:
        return [w.start for w in self.words]

    @functools.cached_property
    def stems(self) -> frozenset[str]:
        """Every word's stem, stopwords included (enum values may be "none" or "all")."""
        return frozenset(w.stem for w in self.words)

    @functools.cached_property
    def content(self) -> frozenset[str]:
        """The stems of the meaningful words (camelCase split), for scoring tools."""
        return frozenset(content_words(self.text))

    @functools.cached_property
    def keywords(self) -> tuple[str, ...]:
        """Meaningful words as written (lower-cased), first occurrences, in order."""
        seen: dict[str, None] = {}
        for word in self.words:
            # Single letters are mostly the ends of contractions ("what's" -> "what", "s").
            if word.lower not in STOPWORDS and not word.lower.isdigit() and len(word.lower) > 1:
                seen.setdefault(word.lower, None)
        return tuple(seen)

    def near(
        self, start: int, end: int, targets: frozenset[str], *, before: int = 3, after: int = 2
    ) -> int | None:
        """Distance in words from the span to the nearest word whose stem is in `targets`.

        Only `before` words before the span and `after` words after it are looked at.
        """
        if not targets:
            return None
        i = bisect.bisect_left(self._word_starts, start)
        best: int | None = None
        for distance, k in enumerate(range(i - 1, max(-1, i - 1 - before), -1), start=1):
            if self._matches(self.words[k].stem, targets):
                best = distance
                break
        j = bisect.bisect_left(self._word_starts, end)
        for distance, k in enumerate(range(j, min(len(self.words), j + after)), start=1):
            if self._matches(self.words[k].stem, targets):
                if best is None or distance < best:
                    best = distance
                break
        return best

    @staticmethod
    def _matches(word: str, targets: frozenset[str]) -> bool:
        # A stopword names nothing, even when it starts a target ("for" and "forecast").
        return word in targets or (word not in STOPWORDS and related_to_any(word, targets))

    def mentions(self, targets: frozenset[str]) -> list[_Word]:
        """The words of the text that match one of `targets` (by stem or prefix)."""
        return [
            w for w in self.words if w.lower not in STOPWORDS and self._matches(w.stem, targets)
        ]

    # ---- spans that hold something else than prose ------------------------------------------

    @functools.cached_property
    def urls(self) -> tuple[Span, ...]:
        return tuple(
            Span(m.group().rstrip(".,;:!?"), m.start(), m.start() + len(m.group().rstrip(".,;:!?")))
            for m in _URL.finditer(self.text)
        )

    @functools.cached_property
    def emails(self) -> tuple[Span, ...]:
        return _spans(_EMAIL, self.text)

    @functools.cached_property
    def dates(self) -> tuple[Span, ...]:
        return _spans(_DATETIME, self.text)

    @functools.cached_property
    def times(self) -> tuple[Span, ...]:
        return tuple(s for s in _spans(_TIME, self.text) if not self._inside(s, self.dates))

    @functools.cached_property
    def phones(self) -> tuple[Span, ...]:
        """Phone-number-like runs of digits ("+34 612 345 678"), dates and times excluded."""
        return tuple(
            s
            for s in _spans(_PHONE, self.text)
            if sum(ch.isdigit() for ch in s.value) >= 7
            and not self._inside(s, self.dates + self.times + self.ips)
        )

    @functools.cached_property
    def uuids(self) -> tuple[Span, ...]:
        return _spans(_UUID, self.text)

    @functools.cached_property
    def ips(self) -> tuple[Span, ...]:
        return _spans(_IPV4, self.text)

    @functools.cached_property
    def code_blocks(self) -> tuple[Span, ...]:
        return tuple(
            Span(m.group(1).strip("\n"), m.start(1), m.end(1)) for m in _FENCE.finditer(self.text)
        )

    @functools.cached_property
    def sql(self) -> tuple[Span, ...]:
        out = []
        for match in _SQL.finditer(self.text):
            value = match.group().strip().rstrip("?").strip()
            if len(value.split()) >= 2:
                out.append(Span(value, match.start(), match.start() + len(value)))
        return tuple(out)

    @functools.cached_property
    def _blocked(self) -> tuple[Span, ...]:
        """Spans whose digits are not numbers of their own (a URL's port, a date's year)."""
        # A phone number written with "+", "(" or "-" is one value, not several numbers.
        phones = tuple(p for p in self.phones if any(ch in p.value for ch in "+(-"))
        return (
            self.urls + self.emails + self.dates + self.times + self.uuids + self.ips
            + self.code_blocks + self.paths_with_digits + phones
        )  # fmt: skip

    @staticmethod
    def _inside(span: Span | _Number, spans: Iterable[Span]) -> bool:
        return any(s.start <= span.start and span.end <= s.end for s in spans)

    @functools.cached_property
    def paths(self) -> tuple[Span, ...]:
        out = []
        taken = self.urls + self.emails
        for match in _PATH.finditer(self.text):
            value = match.group().rstrip(".")
            span = Span(value, match.start(), match.start() + len(value))
            if self._inside(span, taken) or value.replace(".", "").isdigit():
                continue
            if ("/" in value and len(value) > 1) or "*" in value or _EXTENSION.search(value):
                out.append(span)
        return tuple(out)

    @functools.cached_property
    def paths_with_digits(self) -> tuple[Span, ...]:
        return tuple(p for p in self.paths if any(ch.isdigit() for ch in p.value))

    # ---- numbers, quotes, names --------------------------------------------------------------

    @functools.cached_property
    def numbers(self) -> tuple[_Number, ...]:
        found: list[_Number] = []
        for match in _NUMBER.finditer(self.text):
            raw = match.group().replace(",", "")
            value: int | float = float(raw) if "." in raw else int(raw)
            found.append(_Number(value, match.start(), match.end()))
        for match in _NUMBER_WORD.finditer(self.text):
            found.append(_Number(_NUMBER_WORDS[match.group().lower()], match.start(), match.end()))
        for match in _DAY_AFTER.finditer(self.text):
            found.append(_Number(2, match.start(), match.end()))
        blocked = self._blocked
        kept = [n for n in found if not self._inside(n, blocked)]
        return tuple(sorted(kept, key=lambda n: n.start))

    @functools.cached_property
    def quoted(self) -> tuple[Span, ...]:
        out = []
        for match in _QUOTED.finditer(self.text):
            index = next(i for i in range(1, 6) if match.group(i) is not None)
            value = match.group(index).strip()
            if value and not self._inside(
                Span(value, match.start(), match.end()), self.code_blocks
            ):
                out.append(Span(value, match.start(index), match.end(index)))
        return tuple(out)

    @functools.cached_property
    def names(self) -> tuple[tuple[Span, str, bool], ...]:
        """Capitalised phrases as `(span, preposition before it or "", starts_a_sentence)`.

        Question and command words that open a sentence ("What", "Tell") are dropped; a
        phrase of one capitalised word at a sentence start is kept but flagged, since "Paris
        is lovely" names a place and "Book a table" does not.
        """
        out = []
        blocked = self.urls + self.emails + self.sql + self.code_blocks
        for match in _NAME.finditer(self.text):
            start = match.start()
            parts = match.group().split()
            before = self.text[:start].rstrip(" \t\"'“(")
            initial = not before or before[-1] in _SENTENCE_ENDS
            while parts and (parts[0].lower().strip("'’") in COMMON_CAPS or parts[0] == "I"):
                start = self.text.index(parts[0], start) + len(parts[0])
                start += len(self.text[start:]) - len(self.text[start:].lstrip())
                parts = parts[1:]
                initial = False
            while parts and parts[-1].lower() in (
                "of",
                "the",
                "de",
                "da",
                "la",
                "le",
                "van",
                "von",
            ):
                parts = parts[:-1]
            if not parts:
                continue
            value = " ".join(parts)
            for suffix in ("'s", "’s"):
                value = value.removesuffix(suffix)
            value = value.rstrip(".'’-")
            if not value or value.lower() in COMMON_CAPS:
                continue
            span = Span(value, start, start + len(value))
            if self._inside(span, blocked):
                continue
            previous = self.text[:start].split()
            if previous and previous[-1].lower() == "the":
                previous = previous[:-1]
            preposition = previous[-1].lower() if previous else ""
            if preposition not in NAME_PREPOSITIONS:
                preposition = ""
            out.append((span, preposition, initial and len(parts) == 1))
        return tuple(out)

    @functools.cached_property
    def key_values(self) -> Mapping[str, str]:
        """`key=value` and `key: value` pairs, keys normalised (`normalize_key`)."""
        pairs: dict[str, str] = {}
        for match in _KEY_VALUE_LINE.finditer(self.text):
            # "Name: Tom Baker; email ...": a semicolon ends a value, as a comma may not.
            pairs.setdefault(normalize_key(match.group(1)), match.group(2).split("; ")[0])
        for match in _KEY_COLON.finditer(self.text):
            value = match.group(2).strip()
            if value and not (value[0] in "\"'" and value[-1:] == value[0]):
                pairs.setdefault(normalize_key(match.group(1)), value.rstrip(".?!"))
        for match in _KEY_VALUE.finditer(self.text):
            value = match.group(2)
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                value = value[1:-1]
            pairs.setdefault(normalize_key(match.group(1)), value.rstrip(".?!"))
        return pairs

    def memo(self, key: str, compute: Callable[[], Any]) -> Any:
        """`compute()`, once per text: for readers kept in other modules (`_entities`)."""
        cache = self.__dict__.setdefault("_memo", {})
        if key not in cache:
            cache[key] = compute()
        return cache[key]

    # ---- lists of subjects -------------------------------------------------------------------

    @functools.cached_property
    def subjects(self) -> tuple[str, ...]:
        """The things a message lists: bullet items, quoted items, "Paris, Tokyo and Rome".

        Returns the first list found, in that order of preference, or () when the message
        names fewer than two things.
        """
        bullets = [m.group(1).strip().strip("\"'“”`") for m in _BULLET.finditer(self.text)]
        if len(bullets) >= 2:
            return tuple(bullets)
        if len(self.quoted) >= 2:
            return tuple(s.value for s in self.quoted)
        chain = _longest_chain([s for s, _, _ in self.names], self.text)
        if len(chain) >= 2:
            return tuple(chain)
        return self._colon_list

    @functools.cached_property
    def _colon_list(self) -> tuple[str, ...]:
        head, colon, tail = self.text.rpartition(":")
        if not colon or not head or "//" in tail[:3]:
            return ()
        tail = tail.strip().rstrip(".?!")
        items = [
            i.strip()
            for i in re.split(r"\s*(?:,\s*(?:and|or)?|\band\b|\bor\b)\s*", tail)
            if i.strip()
        ]
        if len(items) >= 2 and all(1 <= len(i.split()) <= 4 for i in items):
            return tuple(items)
        return ()

    @functools.cached_property
    def number_list(self) -> tuple[int | float, ...]:
        """Numbers joined as a list ("5 and 7", "3, 4 and 10"), for one-number tools."""
        numbers = list(self.numbers)
        best: list[_Number] = []
        run: list[_Number] = []
        for number in numbers:
            if run and _LIST_GAP.fullmatch(self.text[run[-1].end : number.start]):
                run.append(number)
            else:
                run = [number]
            if len(run) > len(best):
                best = list(run)
        return tuple(n.value for n in best) if len(best) >= 2 else ()

    # ---- prose spans -------------------------------------------------------------------------

    @functools.cached_property
    def salient(self) -> str:
        """The gist of the message: its first sentence without "please", "what is", "?"."""
        text = self.text.strip()
        for block in self.code_blocks:
            text = text.replace(block.value, " ")
        first = re.split(r"(?<=[.?!])\s+|\n", text, maxsplit=1)[0] if text else ""
        gist = _LEADING.sub("", first).strip().rstrip("?.!").strip()
        gist = re.sub(r"\s+(?:please)$", "", gist, flags=re.I)
        return (gist or first.strip().rstrip("?.!") or text)[:200]

    @functools.cached_property
    def topic(self) -> str | None:
        """What a search is for: the words after "about", "regarding" or "for", if any."""
        best: re.Match[str] | None = None
        for match in _TOPIC.finditer(self.text):
            keyword = match.group().split()[0].lower()
            if keyword != "for":
                best = match
                break
            # "search the notes for X" looks for X; "size a solar system for my house" does not.
            if _SEARCHING.search(self.text[max(0, match.start() - 40) : match.start()]):
                best = best or match
        if best is None:
            return None
        value = best.group(1).strip().strip("\"'“”`").rstrip(",")
        return value or None

    def after_preposition(self, prepositions: frozenset[str]) -> list[Span]:
        """Lower-case phrases after a preposition ("weather in paris" -> "paris"), up to 3 words."""
        out = []
        words = self.words
        for i, word in enumerate(words):
            if word.lower not in prepositions:
                continue
            picked: list[_Word] = []
            for nxt in words[i + 1 : i + 4]:
                gap = self.text[(picked[-1].end if picked else word.end) : nxt.start]
                if nxt.lower in STOPWORDS or nxt.lower.isdigit() or gap.strip():
                    break
                picked.append(nxt)
            if picked:
                start, end = picked[0].start, picked[-1].end
                out.append(Span(self.text[start:end], start, end))
        return out

    def before_preposition(self, prepositions: frozenset[str]) -> list[Span]:
        """Phrases just before a preposition ("5 miles to km" -> "miles"), up to 3 words."""
        out = []
        words = self.words
        for i, word in enumerate(words):
            if word.lower not in prepositions:
                continue
            picked: list[_Word] = []
            for previous in reversed(words[max(0, i - 3) : i]):
                gap = self.text[previous.end : (picked[0].start if picked else word.start)]
                if previous.lower in STOPWORDS or previous.lower.isdigit() or gap.strip():
                    break
                picked.insert(0, previous)
            if picked:
                start, end = picked[0].start, picked[-1].end
                out.append(Span(self.text[start:end], start, end))
        return out

    @functools.cached_property
    def expressions_in_order(self) -> tuple[str, ...]:
        """Arithmetic expressions in the order the text gives them ("(3 + 4) * 12", "sqrt(84)")."""
        if not any(ch.isdigit() for ch in self.text):
            return ()
        blanks = [s.value for s in self.dates + self.times + self.urls + self.ips]
        return tuple(find_expressions(self.text, blanks))

    @functools.cached_property
    def expressions(self) -> tuple[str, ...]:
        """Arithmetic expressions in the text, longest first ("(3 + 4) * 12", "2^10")."""
        return tuple(sorted(self.expressions_in_order, key=len, reverse=True))

    # ---- booleans and enums ------------------------------------------------------------------

    def boolean_for(self, targets: frozenset[str]) -> bool | None:
        """True/False when the text says so near a word in `targets` ("with the forecast")."""
        for word in self.mentions(targets):
            i = self.words.index(word)
            window = [w.lower for w in self.words[max(0, i - 3) : i]]
            window_after = [w.lower for w in self.words[i + 1 : i + 3]]
            negated = any(w in NEGATIVE for w in window)
            return not (negated or any(w in ("no", "false", "off") for w in window_after))
        return None

    def enum_values(self, values: Sequence[Any]) -> list[Any]:
        """The enum values the text mentions, in the order the text mentions them."""
        hits: list[tuple[int, int, Any]] = []
        lower = self.text.lower()
        for order, value in enumerate(values):
            label = str(value).lower()
            if not label:
                continue
            pattern = r"(?<![\w])" + re.escape(label) + r"(?![\w])"
            match = re.search(pattern, lower)
            if match is None and not isinstance(value, bool | int | float):
                parts = [stem(p.lower()) for p in split_words(str(value))]
                if parts and all(p in self.stems for p in parts):
                    first = min(w.start for w in self.words if w.stem in parts)
                    hits.append((first, order, value))
                continue
            if match is not None:
                hits.append((match.start(), order, value))
        return [value for _, _, value in sorted(hits, key=lambda h: (h[0], h[1]))]


def _spans(pattern: re.Pattern[str], text: str) -> tuple[Span, ...]:
    return tuple(Span(m.group(), m.start(), m.end()) for m in pattern.finditer(text))


def _longest_chain(spans: Sequence[Span], text: str) -> list[str]:
    best: list[Span] = []
    run: list[Span] = []
    for span in spans:
        gap = text[run[-1].end : span.start] if run else ""
        if run and (_LIST_GAP.fullmatch(gap) or _THEN_GAP.fullmatch(gap)):
            run.append(span)
        else:
            run = [span]
        if len(run) > len(best):
            best = list(run)
    return [s.value for s in best]
