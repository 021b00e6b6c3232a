"""Follow-up questions that lean on the one before: "And in Tokyo?", "What about the least?".

Pure and stdlib only. A follow-up starts with "and", "what about", "how about"... or is a bare
fragment ("Tokyo?"); it says only what changes. `standalone` writes it out as the question it
means: the earlier question (itself written out, if it was a follow-up too) with the part the
follow-up replaces swapped for the new one, by kind:

- names: "Will it rain in Paris tomorrow?" + "And in Tokyo?" -> "... in Tokyo tomorrow?"
  (several names the earlier question listed are replaced together);
- the noun after which/what: "Which customer spent the most?" + "And which product?";
- a word of ranking: "... spent the most?" + "And the least?";
- a day: "... tomorrow?" + "And the day after?" / "What about in 3 days?";
- a number with its unit: "... for 3 days?" + "And for 5 days?".

A follow-up that replaces nothing is left as it is.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ._evidence import Evidence, Span

__all__ = ["is_followup", "standalone"]

_CUE = re.compile(
    r"^\s*(?:(?:ok(?:ay)?|so|great|thanks|thank you|cool|nice|hmm+)[,.!]?\s+)?"
    r"(?:and\s+(?:what|how)\s+about|and\s+also|what\s+about|how\s+about|and|also|same\s+(?:for|with)|"
    r"what\s+of|now\s+(?:for|do|try)|then|now|or)\b[\s,]*",
    re.I,
)
# Earlier questions looked back through, at most: a chat of a hundred turns stays cheap.
_MAX_BACK = 8
_MAX_FRAGMENT_WORDS = 3
_MAX_CUED_WORDS = 4
_RANKING = ["most", "least", "highest", "lowest", "biggest", "largest", "smallest", "fewest", "best", "worst", "cheapest", "priciest", "top", "bottom", "latest", "earliest", "newest", "oldest"]
_DAYS = re.compile(
    r"\b(?:the\s+day\s+after(?:\s+tomorrow)?|day\s+after\s+tomorrow|tomorrow|today|tonight|"
    r"this\s+(?:week|weekend)|next\s+week|(?:in|for|within)\s+\d+\s+days?|on\s+day\s+\d+|day\s+\d+)\b",
    re.I,
)
_NUMBER_UNIT = re.compile(r"\b(\d+(?:\.\d+)?)\s+([A-Za-z]+)")
_WH_NOUN = re.compile(r"\b(which|what)\s+(\w+)", re.I)


def is_followup(text: str) -> bool:
    """Whether a message only says what changes from the question before it."""
    stripped = text.strip()
    if not stripped or "\n" in stripped:
        return False
    if _CUE.match(stripped):
        # "And which product sold the most units?" is a question of its own.
        return 0 < len(_body(stripped).split()) <= _MAX_CUED_WORDS
    words = stripped.rstrip("?!. ").split()
    return stripped.endswith("?") and 0 < len(words) <= _MAX_FRAGMENT_WORDS


def standalone(question: str, earlier: Sequence[str]) -> str:
    """The question written out in full, from the earlier questions it leans on (oldest first)."""
    return _standalone(question, list(earlier[-_MAX_BACK:]))


def _standalone(question: str, earlier: list[str]) -> str:
    if not earlier or not is_followup(question):
        return question
    previous = _standalone(earlier[-1], earlier[:-1])
    return _swap(previous, question) or question


def _body(followup: str) -> str:
    match = _CUE.match(followup)
    body = followup[match.end():] if match else followup
    return body.strip().rstrip("?!. ").strip()


def _swap(previous: str, followup: str) -> str | None:
    body = _body(followup)
    if not body:
        return None
    new = Evidence(body)
    old = Evidence(previous)
    names = [s for s, _, _ in new.names if not _is_ranking(s.value)]
    if names:
        target = _name_span(old)
        if target is not None:
            return _replace(previous, target, " and ".join(s.value for s in names))
        place = re.match(r"(?i)(?:in|at|for|near|from)\s+", body)
        if place is not None:
            return _append(previous, body)
    wh_new = _WH_NOUN.search(body)
    wh_old = _WH_NOUN.search(previous)
    if wh_new is not None and wh_old is not None:
        span = Span(wh_old.group(2), wh_old.start(2), wh_old.end(2))
        return _replace(previous, span, wh_new.group(2))
    ranking_new = _first_word(body, _RANKING)
    ranking_old = _first_word(previous, _RANKING)
    if ranking_new is not None and ranking_old is not None:
        return _replace(previous, ranking_old, ranking_new.value)
    day_new = _DAYS.search(body)
    if day_new is not None:
        day_old = _DAYS.search(previous)
        value = _day_phrase(day_new.group())
        if day_old is not None:
            return _replace(previous, Span(day_old.group(), day_old.start(), day_old.end()), value)
        return _append(previous, value)
    number_new = _NUMBER_UNIT.search(body)
    if number_new is not None:
        for match in _NUMBER_UNIT.finditer(previous):
            if match.group(2).lower().rstrip("s") == number_new.group(2).lower().rstrip("s"):
                return _replace(previous, Span(match.group(), match.start(), match.end()),
                                number_new.group())  # fmt: skip
    return None


def _is_ranking(value: str) -> bool:
    return value.lower() in _RANKING


def _name_span(ev: Evidence) -> Span | None:
    """Where the earlier question names its subject: a list of names as one, else the first
    name after a preposition, else the first name."""
    names = [(s, prep) for s, prep, initial in ev.names if not initial or prep]
    if not names:
        names = [(s, prep) for s, prep, _ in ev.names]
    if not names:
        return None
    chain = ev.subjects
    if len(chain) >= 2:
        spans = [s for s, _ in names if s.value in chain]
        if len(spans) >= 2:
            return Span(ev.text[spans[0].start : spans[-1].end], spans[0].start, spans[-1].end)
    placed = [s for s, prep in names if prep]
    return placed[0] if placed else names[0][0]


def _first_word(text: str, words: Sequence[str]) -> Span | None:
    for match in re.finditer(r"[A-Za-z]+", text):
        if match.group().lower() in words:
            return Span(match.group(), match.start(), match.end())
    return None


def _day_phrase(text: str) -> str:
    lower = text.lower()
    if lower.startswith("the day after") and "tomorrow" not in lower:
        return "the day after tomorrow"
    return text


def _replace(text: str, span: Span, value: str) -> str:
    return text[: span.start] + value + text[span.end :]


def _append(previous: str, addition: str) -> str:
    stripped = previous.rstrip()
    end = len(stripped)
    while end and stripped[end - 1] in "?!.":
        end -= 1
    return f"{stripped[:end]} {addition}{stripped[end:]}"
