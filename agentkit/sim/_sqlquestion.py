"""Reading a question for a query: the words of ranking and measuring, and its filters.

Pure and stdlib only. `mentions` finds the words that name tables and columns ("customer",
"city"); `filters` turns the values the question names into WHERE and HAVING conditions: a
place after "in", a person's name after "did", a category word before a table's name ("tea
products"), a month or a year, a date after "since", an amount after "more than". The word
tables (spent, sold, cheapest, most...) belong to no database.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ._evidence import Evidence
from ._sqlschema import (
    CATEGORY_COLUMN,
    LABEL_COLUMN,
    PLACE_COLUMN,
    Column,
    Joins,
    Schema,
    Table,
    date_column,
    find_money,
    literal,
    table_matches,
)
from ._words import STOPWORDS, split_words, stem

__all__ = [
    "ASCENDING",
    "AVERAGE",
    "DESCENDING",
    "EARLIEST",
    "GROUPING",
    "LATEST",
    "MONEY",
    "PRICE",
    "QUANTITY",
    "TOTAL",
    "WH",
    "Mention",
    "conditions",
    "find_mentions",
    "top_n",
    "words_of",
]


def _stems(words: str) -> frozenset[str]:
    return frozenset(stem(w) for w in words.split())


# What a question measures, by its words.
MONEY = _stems(
    "spent spend spends spending revenue revenues sales earned earn earns earning earnings "
    "income money paid pay pays paying turnover worth grossed gross"
)
PRICE = _stems("price prices priced cost costs expensive cheap cheaper cheapest pricey priciest "
                "costly costliest pricy")  # fmt: skip
QUANTITY = _stems(
    "unit units quantity quantities sold sell sells selling seller sellers bestseller "
    "bestselling bought buy buys purchased volume popular"
)
AVERAGE = _stems("average avg mean typical")
TOTAL = _stems("total sum overall altogether combined")
DESCENDING = _stems(
    "most highest top best biggest largest greatest max maximum priciest costliest "
    "expensive popular bestselling bestseller"
)
ASCENDING = _stems("least lowest fewest smallest cheapest cheap worst min minimum")
LATEST = _stems("latest newest recent last")
EARLIEST = _stems("earliest oldest first")
_ALL = _stems("all every each")
GROUPING = frozenset({"per", "by", "each", "every"})
WH = frozenset({"which", "what", "whose"})

_PLACE_PREPOSITIONS = frozenset({"in", "from", "at", "near", "to"})
_PERSON_CUES = frozenset({"did", "does", "has", "have", "had", "by", "is", "was"})
_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"]
    )
}
_MONTH_SHORT = {m[:3]: i for m, i in _MONTHS.items()}
_CALENDAR = frozenset(stem(w) for w in [*_MONTHS, *_MONTH_SHORT]) | _stems(
    "monday tuesday wednesday thursday friday saturday sunday today yesterday tomorrow"
)
_COMPARISONS = (
    (re.compile(r"\b(?:more than|over|above|greater than|higher than|exceeding)\s+\$?(\d[\d,]*(?:\.\d+)?)", re.I), ">"),
    (re.compile(r"\b(?:at least|no less than)\s+\$?(\d[\d,]*(?:\.\d+)?)", re.I), ">="),
    (re.compile(r"\b(?:less than|under|below|fewer than|lower than|cheaper than)\s+\$?(\d[\d,]*(?:\.\d+)?)", re.I), "<"),
    (re.compile(r"\b(?:at most|no more than|up to)\s+\$?(\d[\d,]*(?:\.\d+)?)", re.I), "<="),
)
_TOP_N = re.compile(
    r"\b(?:top|first|best|worst|bottom|last)\s+(\d{1,3}|one|two|three|four|five|six|seven|"
    r"eight|nine|ten)\b|\b(\d{1,3}|two|three|four|five|six|seven|eight|nine|ten)\s+"
    r"(?:most|least|best|worst|biggest|largest|top|cheapest|highest|lowest|latest|newest|"
    r"oldest|earliest|recent|last|first)\b",
    re.I,
)
_SMALL_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
                  "eight": 8, "nine": 9, "ten": 10}  # fmt: skip
_YEAR = re.compile(r"\b(?:in|during|for|of)\s+((?:19|20)\d{2})\b", re.I)
_MONTH_PHRASE = re.compile(
    r"\b(?:in|during|for)\s+(" + "|".join(_MONTHS) + r"|" + "|".join(_MONTH_SHORT) + r")"
    r"\.?(?:\s+((?:19|20)\d{2}))?\b",
    re.I,
)
_DATE_BOUND = re.compile(
    r"\b(since|after|from|before|until|till|on)\s+(\d{4}-\d{2}-\d{2})\b", re.I
)
# Words before a table's name that count it rather than name a category ("how many products").
_QUANTIFIERS = frozenset({
    "many", "much", "few", "several", "all", "any", "some", "more", "less", "other", "our",
    "my", "your", "their", "distinct", "different", "unique", "total",
})  # fmt: skip
_CURRENCY_SIGNS = ("$", "€", "£", "¥", "dollar", "euro", "pound", "usd", "eur", "gbp")

# --------------------------------------------------------------------------------------------
# Reading the question
# --------------------------------------------------------------------------------------------


@dataclass
class Mention:
    """A word of the question that names a table or a column."""

    index: int  # the word's position in the question
    table: Table
    column: Column | None  # None: the table itself
    plural: bool



def words_of(ev: Evidence) -> list[tuple[str, str]]:
    return [(w.lower, w.stem) for w in ev.words]



def find_mentions(ev: Evidence, schema: Schema) -> list[Mention]:
    """The question's words that name tables or (non-key) columns, in order."""
    found: list[Mention] = []
    for index, (lower, word_stem) in enumerate(words_of(ev)):
        if lower in STOPWORDS or lower in LABEL_COLUMN:
            continue
        plural = lower != word_stem and lower.endswith("s")
        tables = [t for t in schema.tables.values() if table_matches(t, word_stem)]
        if tables:
            found.append(Mention(index, tables[0], None, plural))
            continue
        for table in schema.tables.values():
            column = next(
                (c for c in table.columns
                 if not c.is_key and word_stem in c.words and len(word_stem) >= 3),
                None,
            )  # fmt: skip
            if column is not None:
                found.append(Mention(index, table, column, plural))
                break
    return found



def top_n(text: str) -> int | None:
    match = _TOP_N.search(text)
    if match is None:
        return None
    raw = (match.group(1) or match.group(2)).lower()
    return _SMALL_NUMBERS.get(raw) or int(raw)



def _number(text: str) -> str:
    return text.replace(",", "")


def conditions(
    ev: Evidence, schema: Schema, builder: Joins, mentions: Sequence[Mention], measure: str
) -> tuple[tuple[str, ...], list[str], list[str]]:
    """WHERE (and HAVING) conditions for the values the question names."""
    said: list[str] = []
    where: list[str] = []
    having: list[str] = []
    names = set(m.table.name for m in mentions)
    text = ev.text
    lowers = [w.lower for w in ev.words]

    # Names: "Ada Lovelace", "in Boston", "'Earl Grey'".
    values = [(s.value, prep, s.start) for s, prep, _ in ev.names]
    values += [(q.value, "", q.start) for q in ev.quoted]
    for value, preposition, start in values:
        value_stems = frozenset(stem(p.lower()) for p in split_words(value))
        if not value_stems or all(
            _is_schema_word(s, schema) or _is_lexicon(s) or s in _CALENDAR for s in value_stems
        ):
            continue
        if value.isupper() and len(value) <= 4:
            continue  # "SQL", "USD": not a value of a row
        before = ev.text[:start].split()
        cue = before[-1].lower() if before else ""
        target = _value_column(schema, value, preposition, cue, mentions, names)
        if target is None:
            continue
        ref = builder.ref(*target)
        if ref is None:
            continue
        table, column = target
        if column.words & PLACE_COLUMN:
            said.append(f"in {value}")
        elif table.is_people:
            said.append(f"by {value}")
        else:
            said.append(f"for {value}")
        where.append(f"LOWER({ref}) LIKE {literal('%' + value.lower() + '%')}")

    # Categories: "tea products", "in the coffee category".
    for mention in mentions:
        if mention.column is not None:
            continue
        categories = [c for c in mention.table.columns
                      if c.textual and c.words & CATEGORY_COLUMN]  # fmt: skip
        if len(categories) != 1 or mention.index == 0:
            continue
        word = lowers[mention.index - 1]
        if word in STOPWORDS or word in _QUANTIFIERS or _is_lexicon(stem(word)) or not word.isalpha():
            continue
        if any(word == w.lower for s, _, _ in ev.names for w in ev.words
               if s.start <= w.start < s.end):  # fmt: skip
            continue
        ref = builder.ref(mention.table, categories[0])
        if ref is not None:
            said.append(f"in the {word} {' '.join(categories[0].parts)}")
            where.append(f"LOWER({ref}) = {literal(word)}")
    for mention in mentions:
        named = mention.column
        if named is None or not named.textual or not named.words & CATEGORY_COLUMN:
            continue
        neighbours = [lowers[i] for i in (mention.index - 1, mention.index + 1)
                      if 0 <= i < len(lowers)]  # fmt: skip
        for word in neighbours:
            if word in STOPWORDS or word in _QUANTIFIERS or _is_lexicon(stem(word)) or not word.isalpha():
                continue
            if _is_schema_word(stem(word), schema):
                continue
            ref = builder.ref(mention.table, named)
            if ref is not None and all(word not in phrase for phrase in said):
                said.append(f"in the {word} {' '.join(named.parts)}")
                where.append(f"LOWER({ref}) = {literal(word)}")
            break

    # Dates: "in 2024", "in March", "since 2024-03-01".
    dated = date_column(schema, builder.root)
    if dated is not None:
        ref = builder.ref(*dated) if (_YEAR.search(text) or _MONTH_PHRASE.search(text)
                                      or _DATE_BOUND.search(text)) else None  # fmt: skip
        if ref is not None:
            month = _MONTH_PHRASE.search(text)
            year = _YEAR.search(text)
            if month is not None:
                number = _MONTHS.get(month.group(1).lower()) or _MONTH_SHORT[month.group(1).lower()[:3]]
                when = month.group(2) or (year.group(1) if year else None)
                pattern = f"{when}-{number:02d}-%" if when else f"%-{number:02d}-%"
                where.append(f"{ref} LIKE {literal(pattern)}")
                said.append("in " + month.group(0).split(None, 1)[1])
            elif year is not None:
                where.append(f"{ref} LIKE {literal(year.group(1) + '-%')}")
                said.append(f"in {year.group(1)}")
            for bound in _DATE_BOUND.finditer(text):
                word, day = bound.group(1).lower(), bound.group(2)
                op = {"since": ">=", "after": ">", "from": ">=", "before": "<", "until": "<=",
                      "till": "<=", "on": "="}[word]  # fmt: skip
                compare = f"substr({ref}, 1, 10)" if op == "=" else ref
                where.append(f"{compare} {op} {literal(day)}")
                said.append(f"{word} {day}")

    # Comparisons: "more than 20", "under $10".
    for comparison, op in _COMPARISONS:
        for match in comparison.finditer(text):
            amount = _number(match.group(1))
            compared = _compared_column(ev, schema, match.start(), match.end())
            if compared is not None:
                ref = builder.ref(*compared)
                if ref is not None:
                    where.append(f"{ref} {op} {amount}")
                    said.append(match.group(0))
                    continue
            if measure:
                having.append(f"{measure} {op} {amount}")
                said.append(match.group(0))
    return tuple(said), where, having


def _is_schema_word(word_stem: str, schema: Schema) -> bool:
    return any(table_matches(t, word_stem) or word_stem in {w for c in t.columns for w in c.words}
               for t in schema.tables.values())  # fmt: skip


def _is_lexicon(word_stem: str) -> bool:
    return word_stem in (MONEY | PRICE | QUANTITY | AVERAGE | TOTAL | DESCENDING
                         | ASCENDING | LATEST | EARLIEST | _ALL)  # fmt: skip


def _value_column(
    schema: Schema, value: str, preposition: str, cue: str, mentions: Sequence[Mention],
    named: set[str],
) -> tuple[Table, Column] | None:
    """The text column a named value belongs in: a place column after "in", a category, a
    person's name after "did"/"by", else the name of a row of a table the question names."""
    tables = list(schema.tables.values())
    if preposition in _PLACE_PREPOSITIONS or cue in _PLACE_PREPOSITIONS:
        for table in sorted(tables, key=lambda t: t.name not in named):
            place = next((c for c in table.columns if c.textual and c.words & PLACE_COLUMN), None)
            if place is not None:
                return table, place
    # The column a neighbouring word names: "category 'tea'", "city of Boston".
    for mention in mentions:
        if mention.column is not None and mention.column.textual and not mention.column.is_date:
            return mention.table, mention.column
    labelled = [t for t in tables if t.label is not None and not _is_facts(schema, t)]
    if not labelled:
        return None
    people = [t for t in labelled if t.is_people]
    things = [t for t in labelled if not t.is_people]
    personal = cue in _PERSON_CUES or preposition in ("by", "for", "from") or (
        len(value.split()) >= 2 and cue not in ("of", "the") and not things
    )
    mentioned = [t for t in labelled if t.name in named]
    if preposition == "of" or cue == "of":
        pool = things or labelled
    elif personal:
        pool = people or labelled
    else:
        pool = [t for t in mentioned if not t.is_people] or things or labelled
    table = pool[0]
    assert table.label is not None
    return table, table.label


def _is_facts(schema: Schema, table: Table) -> bool:
    """A table whose rows record events between others (orders), not things with names."""
    return sum(1 for e in schema.edges if e.table == table.name) >= 2 and table.label is None


def _compared_column(
    ev: Evidence, schema: Schema, start: int, end: int
) -> tuple[Table, Column] | None:
    """The numeric column a comparison is about: a column word just before or after it, or
    money for an amount written with a currency ("under $10")."""
    written = ev.text[start:end + 12].lower()
    if any(sign in written for sign in _CURRENCY_SIGNS):
        return find_money(schema, unit_price=True) or find_money(schema)
    for table in schema.tables.values():
        for column in table.columns:
            if not column.numeric or column.is_key:
                continue
            words = column.words - {"usd", "eur", "gbp"}
            if column.is_money:
                words = words | PRICE
            if ev.near(start, end, frozenset(words), before=4, after=3) is not None:
                return table, column
    return None
