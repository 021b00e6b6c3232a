"""Choosing a tool: how strongly a message asks for each offered tool.

Pure and stdlib only. A tool scores by the words it shares with the message (its name counts
most, then its description, then its parameters), by values of the message that have a
parameter of their shape waiting for them (an expression and an `expression` parameter), and
by two weaker signs that only count together:

- its required parameters can be filled from the message by their kind (a capitalised place
  after "in" for a `city`, a URL for a `url`), and
- the message uses a topic word of the tool's broad domain ("hot" or "sunny" for a tool about
  the weather), from a small table of common words that belongs to no particular tool.

A tool that needs a value of a shape the message lacks (a date, a URL) loses a little.

So "How hot will it be in Cairo tomorrow?" calls a weather forecast tool, while "Tell me a
joke" (no topic word, no place) and "Will it rain in the next 3 days?" (no city to fill)
do not.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from ._conversation import Tool, ToolWords
from ._evidence import Evidence
from ._kinds import SHAPED_KINDS, prop_of, shaped_kind, values_of_kind
from ._schemas import resolve, schema_type
from ._words import related_to_any, stem

__all__ = ["by_clause", "clauses", "rank", "uses_name"]

# Weights of a message word found in a tool's name, description, or parameters.
_NAME_WEIGHT = 3.0
_DESCRIPTION_WEIGHT = 1.0
_PARAMETER_WEIGHT = 0.5
# A message holding exactly the kind of value a parameter wants ("(3 + 4) * 12" for an
# `expression`, a URL for a `url`) is as strong a sign as the tool's name.
_SHAPE_WEIGHT = 3.0
# Hints, not reasons: each alone stays under the default threshold of 1.
_FILL_WEIGHT = 0.5
_DOMAIN_WEIGHT = 0.5
# A tool that needs a value of a shape the message does not hold (dates, a URL) is less
# likely meant, whatever words it shares: "What time is it?" is not for `date_diff`.
_MISSING_PENALTY = 0.5
# A tool the system prompt tells the model to use: a hint alone, a reason with a question.
_INSTRUCTED_WEIGHT = 0.5


def _stems(words: str) -> frozenset[str]:
    return frozenset(stem(w) for w in words.split())


# Common topic words of broad domains. A tool belongs to a domain when its name or
# description uses one of them; a message then asks for it a little when it uses another.
_DOMAINS: tuple[frozenset[str], ...] = (
    _stems(
        "weather forecast rain rainy raining sunny cloudy clouds hot cold warm chilly "
        "temperature snow snowing wind windy humid humidity storm stormy umbrella celsius "
        "fahrenheit degrees climate"
    ),
    _stems("time clock date today tomorrow yesterday now hour minute timezone calendar"),
    _stems(
        "math calculate calculation compute sum product square root plus minus times multiply "
        "divide percent average total arithmetic equation"
    ),
    _stems("currency exchange price cost dollar dollars euro euros pound yen money"),
    _stems(
        "convert conversion unit units mile miles kilometre kilometer metre meter metres "
        "meters inch inches feet foot yard yards kilogram kilograms gram grams pound pounds "
        "ounce ounces stone tonne ton litre litres liter liters gallon gallons pint pints cup "
        "cups celsius fahrenheit kelvin mph knots"
    ),
    _stems(
        "image images picture pictures photo photos drawing draw paint painting sketch "
        "illustration illustrate render colour color colours colors shape shapes png jpg"
    ),
    _stems("search find lookup documentation docs article articles"),
    _stems("email mail inbox send message recipient"),
    _stems("file files folder directory read open document"),
    _stems("url website webpage page fetch download link"),
    _stems("sql database table query rows columns"),
)


def rank(
    ev: Evidence, tools: Sequence[Tool], instructions: str = ""
) -> list[tuple[float, Tool]]:
    """The tools with their scores, best first (ties keep the order they were offered in).

    Args:
        ev: The message.
        tools: The offered tools.
        instructions: The system prompt; a tool it tells the model to use ("start with
            search_documents") is a little more likely meant.
    """
    words = ev.content
    shapes = _shapes(ev)
    question = _is_question(ev)
    scored = [
        (
            max(0.0, _score(words, t.words) + _hints(ev, t) + _shape_bonus(shapes, t)
                + _instructed(t, instructions, question)),
            t,
        )
        for t in tools
    ]  # fmt: skip
    return sorted(scored, key=lambda pair: (-pair[0], pair[1].index))


_QUESTION_START = re.compile(
    r"^\s*(?:what|whats|what's|which|who|whom|whose|where|when|why|how|is|are|was|were|do|does|"
    r"did|can|could|should|would|will|shall|may|might|must|has|have)\b",
    re.I,
)


def _is_question(ev: Evidence) -> bool:
    return ev.text.rstrip().endswith("?") or bool(_QUESTION_START.match(ev.text))


def _instructed(tool: Tool, instructions: str, question: bool) -> float:
    """A hint for a tool the instructions name; with a question for its search parameter,
    a reason (the agent was told to look questions up with it)."""
    if not instructions or not _named_in(tool.name, instructions):
        return 0.0
    if question and any(need == "loose" and kind == "query"
                        for need, kind in _query_needs(tool.schema_key)):  # fmt: skip
        return _INSTRUCTED_WEIGHT * 2
    return _INSTRUCTED_WEIGHT


def _named_in(name: str, text: str) -> bool:
    return re.search(rf"(?<![\w.]){re.escape(name)}(?![\w])", text) is not None


@functools.lru_cache(maxsize=2048)
def _query_needs(schema_key: str) -> tuple[tuple[str, str], ...]:
    """Each required string parameter's need ("loose"...) and kind ("query"...)."""
    schema = json.loads(schema_key)
    properties = schema.get("properties") if isinstance(schema, Mapping) else None
    if not isinstance(properties, Mapping):
        return ()
    out = []
    for name in schema.get("required") or ():
        if isinstance(name, str) and name in properties:
            node = resolve(properties[name], schema)[0]
            if schema_type(node) == "string":
                shape = shaped_kind(name, node)
                need = shape if shape in SHAPED_KINDS or shape == "entity" else "loose"
                out.append((need, shape))
    return tuple(out)


# Where one request of a message ends and the next begins: "..., and what is 6 * 7?".
_CLAUSE_GAP = re.compile(
    r"(?<=[.?!;])\s+|,\s*(?:and\s+|but\s+|also\s+|then\s+|plus\s+)+"
    r"|\s+and\s+(?:also\s+|then\s+)?(?=(?:what|what's|how|which|who|where|when|is|are|will|can|"
    r"could|ask|tell|get|find|convert|calculate|compute|look|check|show|give)\b)",
    re.I,
)


def clauses(text: str) -> list[str]:
    """The requests of a message, one per sentence or ", and ..." clause."""
    return [part.strip() for part in _CLAUSE_GAP.split(text) if part and part.strip()]


def by_clause(
    ev: Evidence, tools: Sequence[Tool], instructions: str, threshold: float
) -> dict[str, Evidence]:
    """The clause each tool is for, when a message asks different tools for different things
    ("Will it rain in Tokyo, and what is 6 * 7?"): tool name -> that clause, read. Empty
    when one tool serves every clause (its subjects are planned from the whole message)."""
    parts = clauses(ev.text)
    if len(parts) < 2:
        return {}
    found: dict[str, Evidence] = {}
    for part in parts:
        clause = Evidence(part)
        ranked = rank(clause, tools, instructions)
        if ranked and ranked[0][0] >= threshold:
            found.setdefault(ranked[0][1].name, clause)
    return found if len(found) >= 2 else {}


def uses_name(ev: Evidence, tool: Tool) -> bool:
    """Whether the message uses every word of the tool's name ("add and multiply")."""
    name = tool.words.name
    return bool(name) and all(related_to_any(n, ev.content) for n in name)


def _score(words: frozenset[str], tool: ToolWords) -> float:
    total = 0.0
    for word in words:
        if word in tool.name:
            total += _NAME_WEIGHT
        elif len(word) < 2:
            continue  # the "s" of "what's" is no word of a description
        elif word in tool.description:
            total += _DESCRIPTION_WEIGHT
        elif word in tool.parameters:
            total += _PARAMETER_WEIGHT
        elif related_to_any(word, tool.name):
            total += _NAME_WEIGHT / 2
        elif related_to_any(word, tool.description):
            total += _DESCRIPTION_WEIGHT / 2
    return total


def _shape_bonus(shapes: Mapping[str, int], tool: Tool) -> float:
    return _SHAPE_WEIGHT * _shape_matches(shapes, tool.words.kinds)


def _shapes(ev: Evidence) -> dict[str, int]:
    """How many values of each shape the message holds: expressions, URLs, dates, paths..."""
    found = {
        "expression": min(1, len(ev.expressions)),
        "url": len(ev.urls),
        "email": len(ev.emails),
        "sql": len(ev.sql),
        "code": len(ev.code_blocks),
        "date": len(ev.dates),
    }
    if not ev.urls:
        found["path"] = len(ev.paths)
    return found


def _shape_matches(shapes: Mapping[str, int], kinds: Sequence[str]) -> int:
    """Values of the message that have a parameter of their shape waiting for them.

    Two dates and a tool with a start and an end date match twice; the same dates and a tool
    with one date parameter match once.
    """
    return sum(min(count, kinds.count(kind)) for kind, count in shapes.items() if count)


# ---- the weak signs -------------------------------------------------------------------------


def _hints(ev: Evidence, tool: Tool) -> float:
    fill = _fillable(ev, tool)
    if fill == "unshaped":
        return -_MISSING_PENALTY
    if fill == "missing":
        return 0.0
    total = _FILL_WEIGHT if fill == "specific" else 0.0
    if _domain_words(ev, tool.words):
        total += _DOMAIN_WEIGHT
    return total


def _fillable(ev: Evidence, tool: Tool) -> str:
    """Whether the message can fill the tool's required parameters by their kind.

    "specific" when at least one takes a value of its kind (a place, a URL, an expression...)
    and every other can be filled too; "loose" when they are all free text, which any
    message fills; "missing" when one cannot be filled (a city and no place named, a number
    and no number); "unshaped" when the one that cannot wants a value of a shape (two dates
    and no date in the message).
    """
    specific = False
    missing = False
    for need, values in _needs(tool.schema_key):
        if need == "enum":
            missing = missing or not ev.enum_values(values)
        elif need == "number":
            # A number is a value of its own kind: "150 pounds" for a conversion's `value`.
            missing = missing or not ev.numbers
            specific = specific or bool(ev.numbers)
        elif need != "loose":
            if need == "path" and _names_example(ev, values):
                specific = True
            elif not values_of_kind(ev, need):
                if need in SHAPED_KINDS:
                    return "unshaped"
                missing = True
            specific = True
    if missing:
        return "missing"
    return "specific" if specific else "loose"


def _names_example(ev: Evidence, examples: Sequence[Any]) -> bool:
    return any(
        stem(part.lower()) in ev.stems
        for example in examples
        for part in str(example).rsplit(".", 1)[0].replace("-", "_").split("_")
        if len(part) >= 3
    )


@functools.lru_cache(maxsize=2048)
def _needs(schema_key: str) -> tuple[tuple[str, Sequence[Any]], ...]:
    """What each required parameter needs from a message: "enum" (with its values),
    "number", a kind with a shape of its own or "entity", or "loose" (anything will do).

    Cached by the schema's JSON: agents send the same tools on every turn.
    """
    schema = json.loads(schema_key)
    properties = schema.get("properties") if isinstance(schema, Mapping) else None
    if not isinstance(properties, Mapping):
        return ()
    needs: list[tuple[str, Sequence[Any]]] = []
    for name in schema.get("required") or ():
        if not isinstance(name, str) or name not in properties:
            continue
        node = resolve(properties[name], schema)[0]
        kind = schema_type(node)
        if isinstance(node.get("enum"), list) and node["enum"]:
            needs.append(("enum", tuple(node["enum"])))
        elif kind in ("integer", "number"):
            needs.append(("number", ()))
        elif kind == "string":
            shape = shaped_kind(name, node)
            # A file the description names as an example ("sunset.png") can be meant by its
            # words ("the sunset picture").
            examples = prop_of(name, node).examples if shape == "path" else ()
            needs.append((shape if shape in SHAPED_KINDS or shape == "entity" else "loose",
                          examples))  # fmt: skip
    return tuple(needs)


def _domain_words(ev: Evidence, tool: ToolWords) -> frozenset[str]:
    """Topic words of the tool's domains that the message uses and that do not already
    count in full (a word of the tool's name or description)."""
    found: set[str] = set()
    for domain in _tool_domains(tool.name | tool.description):
        found.update(
            w
            for w in ev.content & domain
            if w not in tool.description and not related_to_any(w, tool.name)
        )
    return frozenset(found)


@functools.lru_cache(maxsize=2048)
def _tool_domains(words: frozenset[str]) -> tuple[frozenset[str], ...]:
    return tuple(domain for domain in _DOMAINS if words & domain)
