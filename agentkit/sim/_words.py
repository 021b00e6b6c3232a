"""Words: tokens, light stems, stopwords, and how related two words are.

Pure and stdlib only. Every other part of the simulated model compares words through these
functions, so a message, a tool and a result key are always split and stemmed the same way.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

__all__ = [
    "COMMON_CAPS",
    "NAME_PREPOSITIONS",
    "NEGATIVE",
    "STOPWORDS",
    "content_words",
    "normalize_key",
    "overlap",
    "related",
    "related_to_any",
    "split_words",
    "stem",
]

STOPWORDS = frozenset(
    """
    a about above after again all also am an and any are as at be been before being below
    between both but by can could did do does doing done don dont down during each either
    else etc ever every few for from further get gets getting give given gives had has have
    having he her here hers him his how however i if in into is it its itself just kind
    kindly let lets like may me might mine more most much must my need no nor not now of off
    often on once only or other our ours out over own please per really same shall she
    should show so some such tell than thank thanks that the their theirs them then there
    these they this those through to too under until up upon us use used using very via want
    was we were what whats when where whether which while who whom whose why will with
    within without would yes yet you your yours
    """.split()  # noqa: SIM905 - a word list reads better as prose
)
"""Words that say nothing about what a message or a tool is about."""

COMMON_CAPS = STOPWORDS | frozenset(
    """
    add book calculate call check compare compute convert create define delete describe draw
    explain fetch find generate hello hey hi list look make open plot read remove run search
    send set summarise summarize translate write ok okay sure thank i i'm i'd i've it's
    what's who's where's how's that's there's here's let's
    """.split()  # noqa: SIM905 - a word list reads better as prose
)
"""Capitalised words that start sentences without naming anything."""

NAME_PREPOSITIONS = frozenset(
    """
    in at for from to of near about by with on into around between like called named visit
    visiting
    """.split()  # noqa: SIM905 - a word list reads better as prose
)
"""Prepositions before a name ("in Paris", "called Acme")."""

NEGATIVE = frozenset(
    """
    no not without exclude excluding disable disabled off false don't dont never skip hide
    none nope
    """.split()  # noqa: SIM905 - a word list reads better as prose
)
"""Words that say no ("without", "don't")."""

_TOKEN = re.compile(r"[^\W_]+")
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+|[^\W\d_]+")

# Suffix -> replacement, tried in order; "ation" and "ator" meet "ate", so "calculation",
# "calculator" and "calculate" share one stem.
_SUFFIXES = (
    ("ations", "ate"),
    ("ation", "ate"),
    ("ators", "ate"),
    ("ator", "ate"),
    ("ies", "y"),
    ("ied", "y"),
    ("sses", "ss"),
    ("shes", "sh"),
    ("ches", "ch"),
    ("xes", "x"),
    ("zes", "z"),
    ("ing", ""),
    ("ed", ""),
    ("s", ""),
)
_NO_PLURAL = ("ss", "us", "is")


@functools.lru_cache(maxsize=8192)
def stem(word: str) -> str:
    """A light, deterministic stem: plurals, -ing, -ed, -ation/-ator, and a final -e.

    Not a linguistic stemmer; it only has to map both sides of a comparison the same way
    ("cities" and "city", "forecasts" and "forecast"). Cached: words repeat across requests.
    """
    word = word.lower()
    for _ in range(2):
        for suffix, replacement in _SUFFIXES:
            if word.endswith(suffix) and len(word) - len(suffix) >= 3:
                if suffix == "s" and word.endswith(_NO_PLURAL):
                    continue
                word = word[: -len(suffix)] + replacement
                break
        else:
            break
    if len(word) > 4 and word.endswith("e"):
        word = word[:-1]
    return word


def split_words(text: str) -> list[str]:
    """The words of `text` as written, snake_case and camelCase split ("getWeather" -> get, Weather)."""
    parts: list[str] = []
    for token in _TOKEN.findall(text):
        if token.islower() or token.isupper() or token.isdigit():
            parts.append(token)
        else:
            parts.extend(_CAMEL.findall(token))
    return parts


def content_words(text: str) -> list[str]:
    """The stems of `text`'s words that carry meaning, in order (snake_case and camelCase split).

    Stopwords and bare numbers are left out.
    """
    out: list[str] = []
    for part in split_words(text):
        lower = part.lower()
        if lower in STOPWORDS or lower.isdigit():
            continue
        out.append(stem(lower))
    return out


def normalize_key(key: str) -> str:
    """A key reduced to lower-case letters and digits: `"Temp_C"` and `"tempC"` meet."""
    return "".join(ch for ch in key.lower() if ch.isalnum())


def related(a: str, b: str) -> bool:
    """Whether two stems are the same word, or one is a real prefix of the other."""
    if a == b:
        return True
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    # "temp" and "temperature", "doc" and "documentation": a prefix of 3+ letters, but only
    # when it is a real part of the longer word, not a coincidence of two short words.
    return len(short) >= 3 and len(long_) >= 5 and long_.startswith(short)


@functools.lru_cache(maxsize=16384)
def related_to_any(word: str, pool: frozenset[str]) -> bool:
    """Whether `word` is `related` to any word of `pool`; cached, as tools repeat per turn."""
    return word in pool or any(related(word, other) for other in pool)


def overlap(words: Iterable[str], others: Iterable[str]) -> float:
    """How many of `words` appear in `others`: 1 for an exact stem, 0.5 for a prefix match."""
    pool = others if isinstance(others, frozenset) else frozenset(others)
    total = 0.0
    for word in set(words):
        if word in pool:
            total += 1.0
        elif related_to_any(word, pool):
            total += 0.5
    return total
