"""Short sentences from tool results, the way a person would report them.

Pure and stdlib only. A record becomes "Paris, day 1: Rain, high 14 °C, low 9 °C, rain
probability 80%": the field that names it first, its one-word description next, the rest
with the units their names carry (`_c`, `_usd`, `probability`). A result that brings its own
sentence (a `text` field) is quoted; a number answers the expression it was asked for
("(3 + 4) * 12 = 84"); passages found by a search are quoted from the best one, naming its
source; rows of a SQL query are read with what the query meant (`_sql.Query`): "Donald Knuth
spent the most: $253.80 across 5 orders."
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from typing import Any

from ._evidence import Evidence
from ._sql import Query
from ._words import content_words, overlap, split_words

__all__ = [
    "failure_sentence",
    "join_names",
    "lead",
    "query_sentence",
    "record_sentence",
    "show_value",
    "table_sentence",
    "value_sentence",
]

_MAX_SENTENCE = 600
_MAX_LISTED = 8
# Fields that name a record, best first.
_NAME_KEYS = ("name", "title", "city", "location", "place", "label", "table", "file", "path",
              "filename", "url", "country", "symbol", "id", "key")  # fmt: skip
# Fields that describe a record in a word or two.
_STATE_KEYS = ("summary", "conditions", "condition", "status", "state", "weather", "outlook",
               "description", "category", "type", "kind")  # fmt: skip
# Fields that carry a whole sentence of their own.
_TEXT_KEYS = ("text", "message", "answer", "sentence", "result_text", "explanation")
# Fields that say when a record is ("day 1"); shown beside its name.
_WHEN_KEYS = ("day", "date", "time", "week", "month", "year", "hour", "when")
# Fields that are bookkeeping, not news.
_QUIET_KEYS = ("position", "offset", "index", "line", "score", "rank", "truncated")
_UNIT_SUFFIXES = (
    (("c", "celsius"), " °C"), (("f", "fahrenheit"), " °F"), (("km",), " km"),
    (("kmh", "kph"), " km/h"), (("mph",), " mph"), (("mm",), " mm"), (("cm",), " cm"),
    (("kg",), " kg"), (("ms",), " ms"), (("pct", "percent", "percentage", "probability",
                                           "chance"), "%"),
)  # fmt: skip
_CURRENCY_SUFFIXES = {"usd": "$", "dollars": "$", "eur": "€", "euros": "€", "gbp": "£", "jpy": "¥"}
_MONEY_WORDS = frozenset({"price", "cost", "amount", "revenue", "spent", "total", "fee", "salary"})
_WH_SUBJECT = re.compile(
    r"^\s*(?:(?:so|and|ok|okay|now|then),?\s+)?(?:which|what)\s+(?:\w+\s+){0,2}?(?P<noun>\w+?)"
    r"(?P<verb>\s+(?:is|was|are|were|has|had|have|spent|sold|placed|made|bought|ordered|got|"
    r"earned|paid|brought|generated|did|does|do)\b.*)$",
    re.I,
)
_WHO = re.compile(r"^\s*(?:(?:so|and|ok|okay|now|then),?\s+)?who(?:'s|\s+is|\s+was)?\s+(?P<rest>.+)$", re.I)
_WHAT_IS_THE = re.compile(
    r"^\s*(?:(?:so|and|ok|okay|now|then),?\s+)?(?:what|which)(?:'s|\s+is|\s+was|\s+are|\s+were)"
    r"\s+(?P<rest>(?:the|our|my|your)\s+.+)$",
    re.I,
)


def show_value(value: Any, key: str = "") -> str:
    """A value as a person writes it: "$14.50", "80%", "14 °C", "12,400", "Paris"."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return "none"
    parts = _parts(key) if key else ()
    if isinstance(value, int | float):
        currency = next((_CURRENCY_SUFFIXES[p] for p in parts if p in _CURRENCY_SUFFIXES), None)
        if currency is not None:
            return money(value, currency)
        number = _number(value)
        for suffixes, unit in _UNIT_SUFFIXES:
            if parts and (parts[-1] in suffixes or (unit == "%" and set(parts) & set(suffixes))):
                return f"{number}{unit}"
        return number
    if isinstance(value, list):
        return join_names([show_value(v) for v in value[:_MAX_LISTED]], more=len(value))
    if isinstance(value, Mapping):
        return ", ".join(f"{humanize(k)} {show_value(v, str(k))}" for k, v in list(value.items())[:6])
    return " ".join(str(value).split())


def money(value: float, symbol: str) -> str:
    """An amount of money: "$253.80", "€12", "1,204.50" (no known currency)."""
    whole = float(value).is_integer()
    body = f"{value:,.0f}" if whole and abs(value) >= 1000 else f"{value:,.2f}"
    if value < 0:
        return f"-{symbol}{body.lstrip('-')}"
    return f"{symbol}{body}"


def _number(value: float) -> str:
    if isinstance(value, float):
        if not (value.is_integer() and abs(value) < 1e15):
            return str(value)
        value = int(value)
    return f"{value:,}" if abs(value) >= 10000 else str(value)


@functools.lru_cache(maxsize=4096)
def _parts(key: str) -> tuple[str, ...]:
    # Cached: tools return records with the same keys on every call.
    return tuple(p.lower() for p in split_words(key))


@functools.lru_cache(maxsize=4096)
def humanize(key: Any) -> str:
    """A field name as words, units dropped: `high_c` -> "high", `rain_probability` as is."""
    parts = _parts(str(key))
    if len(parts) > 1 and (parts[-1] in _CURRENCY_SUFFIXES
                           or any(parts[-1] in s and u != "%" for s, u in _UNIT_SUFFIXES)):
        parts = parts[:-1]
    return " ".join(parts) or str(key)


def join_names(names: Sequence[str], *, more: int = 0) -> str:
    """ "A", "A and B", "A, B and C", with "and N more" past the ones shown."""
    names = list(names)
    rest = max(0, more - len(names))
    if rest:
        return ", ".join(names) + f" and {rest} more"
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _sentence(text: str) -> str:
    text = " ".join(text.split())
    if len(text) > _MAX_SENTENCE:
        text = text[: _MAX_SENTENCE - 3].rstrip() + "..."
    return text if text[-1:] in ".!?…" else text + "."


# --------------------------------------------------------------------------------------------
# Records, values, failures
# --------------------------------------------------------------------------------------------


def _key(
    record: Mapping[str, Any], keys: Sequence[str], lowered: Mapping[str, str] | None = None
) -> str | None:
    if lowered is None:
        lowered = {str(k).lower(): str(k) for k in record}
    for wanted in keys:
        if wanted in lowered:
            return lowered[wanted]
    return None


def record_sentence(record: Mapping[str, Any], subject: str = "") -> str:
    """One record in words: its name, when it is, what it is, and the rest with units.

    Args:
        record: The record.
        subject: What the record is about when it does not say (the value it was asked for).
    """
    lowered = {str(k).lower(): str(k) for k in record}
    own_text = _key(record, _TEXT_KEYS, lowered)
    if own_text is not None and isinstance(record[own_text], str) and len(record[own_text].split()) >= 3:
        return _sentence(record[own_text])
    used: set[str] = set()
    name_key = next(
        (k for k in (lowered.get(w) for w in _NAME_KEYS)
         if k is not None and isinstance(record[k], str | int) and not isinstance(record[k], bool)
         and len(str(record[k])) <= 80),
        None,
    )  # fmt: skip
    head = subject
    if name_key is not None:
        head = str(record[name_key])
        used.add(name_key)
    else:
        # "order_id": 1042 names the record as "order 1042".
        id_key = next((k for k in record if str(k).lower().endswith(("_id", "id"))
                       and isinstance(record[k], str | int) and not isinstance(record[k], bool)
                       and len(str(record[k])) <= 40), None)  # fmt: skip
        if id_key is not None and humanize(id_key).removesuffix(" id") != humanize(id_key):
            head = f"{humanize(id_key).removesuffix(' id')} {record[id_key]}"
            used.add(id_key)
    when = [k for k in record if str(k).lower() in _WHEN_KEYS and k not in used
            and isinstance(record[k], str | int) and not isinstance(record[k], bool)]  # fmt: skip
    if when:
        shown = ", ".join(f"{humanize(k)} {record[k]}" if isinstance(record[k], int)
                          else str(record[k]) for k in when)  # fmt: skip
        head = f"{head}, {shown}" if head else shown
        used.update(when)
    state_key = _key(record, _STATE_KEYS, lowered)
    state = ""
    if state_key is not None and state_key not in used and isinstance(record[state_key], str) and (
        len(record[state_key]) <= 80
    ):
        state = record[state_key]
        used.add(state_key)
    rest = []
    for key, value in record.items():
        if key in used or str(key).lower() in _QUIET_KEYS or isinstance(value, Mapping):
            continue
        if isinstance(value, list):
            names = _names_of(value)
            if names:
                rest.append(f"{humanize(key)} {join_names(names[:12], more=len(names))}")
            continue
        rest.append(_labelled(key, show_value(value, str(key))))
        if len(rest) >= 8:
            break
    body = ", ".join(p for p in [state, *rest] if p)
    if head and body:
        return _sentence(f"{_cap(head)}: {body}")
    return _sentence(_cap(head or body or "no details"))


def _labelled(key: Any, shown: str) -> str:
    """A field and its value: "high 14 °C" after a noun; "refunded: 68" after a participle,
    which would otherwise read as a verb with an object."""
    label = humanize(key)
    last = label.rsplit(" ", 1)[-1]
    if last.endswith("ed") and len(last) > 4:
        return f"{label}: {shown}"
    return f"{label} {shown}"


def _names_of(items: Sequence[Any]) -> list[str]:
    """What a list holds, by name: its strings and numbers, or its records' names."""
    names = []
    for item in items:
        if isinstance(item, str | int | float) and not isinstance(item, bool):
            names.append(show_value(item))
        elif isinstance(item, Mapping):
            key = _key(item, _NAME_KEYS)
            if key is None:
                return []
            names.append(str(item[key]))
        else:
            return []
    return names


def records_sentence(
    records: Sequence[Mapping[str, Any]], noun: str, ev: Evidence | None = None
) -> str:
    """A list of records: their names when that is all that tells them apart ("Found 3
    tables: customers, orders and products"), else each in a few words."""
    text_key = _long_text_key(records)
    if text_key is not None:
        return passages_sentence(records, text_key, ev)
    key = _key(records[0], _NAME_KEYS)
    if key is not None and all(isinstance(r, Mapping) and key in r for r in records):
        varying = [k for k in records[0] if k != key and str(k).lower() not in _QUIET_KEYS
                   and len({repr(r.get(k)) for r in records}) > 1]  # fmt: skip
        if not varying:
            names = [str(r[key]) for r in records]
            label = f" {noun}" if noun else ""
            return _sentence(f"Found {len(records)}{label}: {join_names(names[:_MAX_LISTED], more=len(names))}")
    shown = [record_sentence(r).rstrip(".") for r in records[:_MAX_LISTED]]
    more = f" (and {len(records) - _MAX_LISTED} more)" if len(records) > _MAX_LISTED else ""
    return _sentence("; ".join(shown) + more)


def _long_text_key(records: Sequence[Mapping[str, Any]]) -> str | None:
    """The field of search hits that holds a passage (long text), if any."""
    for key, value in records[0].items():
        if isinstance(value, str) and len(value) > 120 and len(value.split()) > 15:
            return str(key)
    return None


def value_sentence(value: Any, arguments: Mapping[str, Any], expression: str | None) -> str:
    """A plain value answers what was asked: "(3 + 4) * 12 = 84", "Asia/Tokyo: 18:26"."""
    shown = show_value(value)
    if expression is not None:
        return _sentence(f"{expression} = {shown}")
    strings = [v for v in arguments.values() if isinstance(v, str) and v.strip()]
    if isinstance(value, str) and (len(value.split()) >= 4 or "=" in value):
        return _sentence(value)  # a sentence of its own: another agent's answer, a message
    moment = _moment(value)
    if moment is not None:
        where = f" in {strings[0]}" if strings else ""
        return _sentence(f"It is {moment[1]} on {moment[0]}{where}")
    if strings:
        return _sentence(f"{strings[0]}: {shown}")
    return _sentence(shown)


_MOMENT = re.compile(r"(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})(?::\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")


def _moment(value: Any) -> tuple[str, str] | None:
    """An ISO date and time as `(date, "18:26")`, the time with its UTC offset if not local."""
    match = _MOMENT.match(value.strip()) if isinstance(value, str) else None
    if match is None:
        return None
    offset = match.group(3) or ""
    zone = " UTC" if offset in ("Z", "+00:00", "+0000") else (f" (UTC{offset})" if offset else "")
    return match.group(1), match.group(2) + zone


def failure_sentence(error: str, arguments: Mapping[str, Any]) -> str:
    """A failed call, explained: what was asked and what went wrong."""
    strings = [v for v in arguments.values() if isinstance(v, str) and v.strip()]
    about = f" for {strings[0]}" if strings and len(strings[0]) <= 60 else ""
    reason = " ".join(error.split()).removeprefix("Error:").strip()
    return _sentence(f"I couldn't get an answer{about}: {reason}")


def passages_sentence(
    records: Sequence[Mapping[str, Any]], text_key: str, ev: Evidence | None = None
) -> str:
    """Search hits: the passage that answers best quoted with its source, the others named.

    The best is the one that shares most words with the question, as a reader would pick it;
    the search's own order breaks ties.
    """
    first = records[0]
    if ev is not None and ev.content:
        asked = ev.content
        scores = [overlap(asked, content_words(str(r.get(text_key, "")))) if isinstance(r, Mapping)
                  else 0.0 for r in records]  # fmt: skip
        first = records[max(range(len(records)), key=lambda i: (scores[i], -i))]
    source_key = _key(first, ("file", "path", "title", "url", "source", "name", "id"))
    source = str(first[source_key]) if source_key is not None else ""
    lines = str(first[text_key]).strip().splitlines()
    if len(lines) > 1 and lines[0].lstrip().startswith("#"):
        lines = lines[1:]  # a Markdown heading says what the passage says next
    passage = " ".join(" ".join(lines).split())
    if len(passage) > 400:
        cut = passage.rfind(". ", 0, 400)
        passage = passage[: cut + 1] if cut > 120 else passage[:397].rstrip() + "..."
    head = f"From {source}: {passage}" if source else passage
    others = []
    if source_key is not None:
        others = [str(r[source_key]) for r in records if isinstance(r, Mapping)
                  and source_key in r and str(r[source_key]) != source]  # fmt: skip
    tail = f" (also relevant: {join_names(list(dict.fromkeys(others))[:4])})" if others else ""
    return _sentence(head) + tail


# --------------------------------------------------------------------------------------------
# SQL rows
# --------------------------------------------------------------------------------------------


def _rows(data: Mapping[str, Any]) -> tuple[list[str], list[dict[str, Any]]]:
    columns = [str(c) for c in data.get("columns") or ()]
    rows: list[dict[str, Any]] = []
    for row in data.get("rows") or ():
        if isinstance(row, Mapping):
            rows.append(dict(row))
        elif isinstance(row, list | tuple):
            rows.append(dict(zip(columns, row, strict=False)))
    if not columns and rows:
        columns = list(rows[0])
    return columns, rows


def _plural(noun: str, count: float = 2) -> str:
    if count == 1 or not noun:
        return noun
    if noun.endswith("y") and noun[-2:-1] not in "aeiou":
        return noun[:-1] + "ies"
    if noun.endswith(("s", "x", "ch", "sh")):
        return noun + "es"
    return noun + "s"


def lead(question: str, label: str, *, plural: bool = False) -> str | None:
    """The question turned into its answer's opening: "Which customer spent the most?" and
    "Donald Knuth" give "Donald Knuth spent the most"; None when it is not a wh-question."""
    text = question.strip().rstrip("?.! ")
    match = _WHAT_IS_THE.match(text)
    if match is not None:
        rest = match.group("rest")
        return f"{_cap(rest)} {'are' if plural else 'is'} {label}"
    match = _WH_SUBJECT.match(text)
    if match is not None:
        verb = match.group("verb").strip()
        if verb.split()[0].lower() in ("did", "does", "do"):
            return None
        if plural and verb.split()[0].lower() in ("is", "was"):
            verb = ("are" if verb.split()[0].lower() == "is" else "were") + verb[len(verb.split()[0]):]
        return f"{label} {verb}"
    match = _WHO.match(text)
    if match is not None:
        rest = match.group("rest")
        if re.match(r"^\s*(?:who's|who\s+is|who\s+was)\b", text, re.I):
            return f"{label} {'are' if plural else 'is'} {rest}"
        return f"{label} {rest}"
    return None


def _measure_text(query: Query, row: Mapping[str, Any]) -> str:
    if query.measure is None:
        return ""
    value = row.get(query.measure)
    if value is None:
        return "nothing"
    if query.money is not None and isinstance(value, int | float):
        return money(value, query.money)
    if isinstance(value, int | float):
        noun = _count_noun(query.measure)
        number = _number(value)
        return f"{number} {_plural(noun, value)}" if noun else number
    return str(value)


def _count_noun(alias: str) -> str:
    if alias == "units":
        return "unit"
    if alias.endswith("_count"):
        return " ".join(split_words(alias[: -len("_count")])).lower()
    return ""


def _extra_text(query: Query, row: Mapping[str, Any]) -> str:
    if query.extra is None:
        return ""
    alias, noun = query.extra
    value = row.get(alias)
    if not isinstance(value, int | float):
        return ""
    singular = noun[:-1] if noun.endswith("s") else noun
    return f" across {_number(value)} {singular if value == 1 else noun}"


def _label_text(query: Query, row: Mapping[str, Any]) -> str:
    label = str(row.get(query.label, "")) if query.label else ""
    if query.details:
        if query.label and (query.label.lower() in ("id", "key") or query.label.endswith("_id")):
            label = f"{query.subject} {label}".strip()
        details = [str(row[d]) for d in query.details if row.get(d) is not None]
        if details:
            label = f"{label} ({', '.join(details)})"
    return label


def query_sentence(query: Query, data: Mapping[str, Any], ev: Evidence) -> str:
    """The rows of a query the model composed, read the way the question asked."""
    _, rows = _rows(data)
    where = f" {_filter_phrase(query)}" if query.filters else ""
    if not rows or (query.label is None and all(v is None for v in rows[0].values())):
        thing = _plural(query.subject or "row")
        return _sentence(f"No {thing} match{where}" if query.filters else f"There are no {thing}")
    if query.kind == "list":
        return _list_sentence(query, rows, data, where)
    if query.label is None:
        return _single_sentence(query, rows[0], where)
    top = rows[0]
    label = _label_text(query, top)
    value = _measure_text(query, top)
    if query.plural:
        shown = [f"{_label_text(query, r)} ({_measure_text(query, r)})" for r in rows[:_MAX_LISTED]]
        names = join_names(shown, more=len(rows))
        if query.breakdown:
            return _sentence(f"{_ranking_heading(query, len(rows))}: {names}")
        if _WHAT_IS_THE.match(ev.text.strip()) is None and not query.filters:
            # "Which products sold the most units?": the winner, then the runners-up.
            opening = lead(ev.text, label)
            if opening is not None and len(rows) > 1:
                return _sentence(f"{_cap(opening)} ({value}), followed by "
                                 f"{join_names(shown[1:], more=len(rows) - 1)}")
        opening = lead(ev.text, names, plural=True)
        if opening is not None:
            return _sentence(_cap(opening))
        return _sentence(f"{_ranking_heading(query, len(rows))}: {names}")
    measure = query.measure or ""
    ties = [r for r in rows if r.get(measure) == top.get(measure)]
    if len(ties) > 1:
        names = join_names([_label_text(query, r) for r in ties])
        if len(ties) == len(rows):
            # The query fetched only a few: there may be more with the same value.
            subject = _plural(query.subject or "row")
            return _sentence(f"At least {len(ties)} {subject} are tied with {value}"
                             f"{_extra_text(query, top)} each: {names}")
        return _sentence(f"{names} are tied, with {value}{_extra_text(query, top)} each")
    opening = lead(ev.text, label) or f"{label} comes first"
    noun = _count_noun(query.measure or "")
    if noun and _plural(noun) in opening.lower() and query.extra is None:
        value = value.rsplit(" ", 1)[0]  # "has the most customers: 2", not "2 customers"
    sentence = f"{_cap(opening)}: {value}{_extra_text(query, top)}"
    if len(rows) > 1:
        runner = rows[1]
        sentence += f" (next: {_label_text(query, runner)}, {_measure_text(query, runner)})"
    return _sentence(sentence)


def _ranking_heading(query: Query, count: int) -> str:
    subject = _plural(query.subject or "row", count)
    measure = " ".join(split_words(query.measure or "")).lower().replace(" count", "s")
    if query.breakdown:
        return f"{_cap(measure)} by {_singular(subject)}" if measure else _cap(subject)
    if query.descending:
        return f"The top {count} {subject} by {measure}"
    return f"The bottom {count} {subject} by {measure}"


def _singular(noun: str) -> str:
    if noun.endswith("ies"):
        return noun[:-3] + "y"
    return noun[:-1] if noun.endswith("s") and not noun.endswith("ss") else noun


def _single_sentence(query: Query, row: Mapping[str, Any], where: str) -> str:
    value = _measure_text(query, row)
    alias = query.measure or ""
    if query.kind == "count":
        count = row.get(alias)
        noun = _count_noun(alias) or query.subject or "row"
        verb = "is" if count == 1 else "are"
        number = _number(count) if isinstance(count, int | float) else str(count)
        return _sentence(f"There {verb} {number} {_plural(noun, count if isinstance(count, int | float) else 2)}{where}")
    if query.kind == "average":
        noun = humanize(alias.removeprefix("average_"))
        return _sentence(f"The average {noun}{where} is {value}")
    if alias == "units":
        count = row.get(alias)
        of = where.replace(" for ", " of ", 1) if where.startswith(" for ") else where
        return _sentence(f"{_cap(value)}{of} {'was' if count == 1 else 'were'} sold")
    noun = {"total_spent": "total spent", "revenue": "total revenue"}.get(alias, humanize(alias))
    return _sentence(f"The {noun}{where} is {value}")


def _list_sentence(
    query: Query, rows: Sequence[Mapping[str, Any]], data: Mapping[str, Any], where: str
) -> str:
    label = query.label
    shown = []
    for row in rows[:_MAX_LISTED]:
        name = str(row.get(label)) if label and label in row else ""
        others = [show_value(v, str(k)) for k, v in row.items() if k != label and v is not None]
        if name and others:
            shown.append(f"{name} ({', '.join(others)})")
        else:
            shown.append(name or ", ".join(others))
    total = len(rows)
    more = " or more" if data.get("truncated") else ""
    noun = _plural(query.subject or "row", total)
    verb = "is" if total == 1 else "are"
    return _sentence(f"There {verb} {total}{more} {noun}{where}: {join_names(shown, more=total)}")


def _filter_phrase(query: Query) -> str:
    return " and ".join(query.filters)


def table_sentence(sql: str, data: Mapping[str, Any]) -> str:
    """Rows of any query in words; a query that sorts reads as a ranking."""
    columns, rows = _rows(data)
    if not rows:
        return "The query returned no rows."
    if len(columns) == 1 and len(rows) == 1:
        return _sentence(f"{_cap(humanize(columns[0]))}: {show_value(rows[0][columns[0]], columns[0])}")
    texts = [c for c in columns if isinstance(rows[0].get(c), str)]
    numbers = [c for c in columns if isinstance(rows[0].get(c), int | float)
               and not isinstance(rows[0].get(c), bool)]  # fmt: skip
    order = re.search(r"\border\s+by\s+([\w.\"]+)(?:\s+(asc|desc))?", sql, re.I)
    if texts and numbers and order is not None:
        key = order.group(1).split(".")[-1].strip('"')
        measure = key if key in numbers else numbers[0]
        most = (order.group(2) or "asc").lower() == "desc"
        label = texts[0]
        first = rows[0]
        head = (f"{first[label]} has the {'most' if most else 'least'} {humanize(measure)} "
                f"({show_value(first[measure], measure)})")  # fmt: skip
        if len(rows) > 1:
            rest = [f"{r[label]} ({show_value(r[measure], measure)})" for r in rows[1:_MAX_LISTED]]
            head += f", followed by {join_names(rest, more=len(rows) - 1)}"
        return _sentence(head)
    shown = []
    for row in rows[:_MAX_LISTED]:
        parts = [show_value(v, k) for k, v in row.items()]
        shown.append(parts[0] + (f" ({', '.join(parts[1:])})" if len(parts) > 1 else ""))
    more = " or more" if data.get("truncated") else ""
    noun = "row" if len(rows) == 1 else "rows"
    return _sentence(f"The query returned {len(rows)}{more} {noun}: {join_names(shown, more=len(rows))}")
