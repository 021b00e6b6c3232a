"""Database schemas as the simulated model learns them, and joins between their tables.

Pure and stdlib only. A `Table` is what a describe tool (or a sample row) showed: columns with
their types and keys. `Schema` finds the foreign keys, declared ones or `customer_id` columns
that point at the table of customers, and the shortest way to join two tables; `Joins` adds
tables to a query along them. Columns are told apart by their words: money (`price_usd`),
quantities, dates (`ordered_on`), places, names, categories.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ._words import STOPWORDS, related, split_words, stem

__all__ = [
    "CATEGORY_COLUMN",
    "LABEL_COLUMN",
    "PLACE_COLUMN",
    "UNIT_PRICE_COLUMN",
    "Column",
    "Joins",
    "Schema",
    "Table",
    "currency",
    "date_column",
    "find_money",
    "find_quantity",
    "literal",
    "price_column",
    "quote_name",
    "table_matches",
]


def _stems(words: str) -> frozenset[str]:
    return frozenset(stem(w) for w in words.split())


# Words of tables and columns that hold something of a kind, whatever the database calls it.
_MONEY_COLUMN = _stems(
    "price cost amount total revenue usd eur gbp jpy value paid spend spent fee charge "
    "salary sales income subtotal"
)
UNIT_PRICE_COLUMN = _stems("price rate fee unit")
_QUANTITY_COLUMN = _stems("quantity qty units count pieces volume")
_DATE_COLUMN = _stems("date time day timestamp created updated when")
_DATE_SUFFIXES = ("on", "at", "date", "time")
PLACE_COLUMN = _stems("city country region state location address town county place")
LABEL_COLUMN = ("name", "title", "label", "full_name", "fullname", "username", "display_name")
CATEGORY_COLUMN = _stems("category type kind group genre class department segment status tier")
_PEOPLE = _stems(
    "customer customers user users client clients employee employees member members person "
    "people author authors student students buyer buyers patient patients owner owners staff "
    "seller sellers"
)
# A question may name a table by a common synonym ("clients" for `customers`).
_SYNONYMS: Mapping[str, frozenset[str]] = {
    stem("customer"): _stems("client clients buyer buyers shopper shoppers purchaser"),
    stem("product"): _stems("item items goods merchandise article"),
    stem("order"): _stems("purchase purchases sale sales transaction transactions"),
    stem("employee"): _stems("staff worker workers"),
    stem("user"): _stems("account accounts"),
}
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Column:
    """A column as a schema tool described it."""

    name: str
    type: str = ""
    primary_key: bool = False

    @functools.cached_property
    def words(self) -> frozenset[str]:
        return frozenset(stem(p.lower()) for p in split_words(self.name))

    @functools.cached_property
    def parts(self) -> tuple[str, ...]:
        return tuple(p.lower() for p in split_words(self.name))

    @property
    def numeric(self) -> bool:
        kind = self.type.upper()
        return any(t in kind for t in ("INT", "REAL", "NUM", "DEC", "FLOAT", "DOUBLE", "MONEY"))

    @property
    def textual(self) -> bool:
        kind = self.type.upper()
        return not self.numeric and ("CHAR" in kind or "TEXT" in kind or "CLOB" in kind
                                     or kind in ("", "(NONE)", "STRING", "VARCHAR"))

    @property
    def is_date(self) -> bool:
        kind = self.type.upper()
        if "DATE" in kind or "TIME" in kind:
            return True
        return not self.numeric and (
            bool(self.words & _DATE_COLUMN) or (len(self.parts) > 1 and self.parts[-1] in _DATE_SUFFIXES)
        )

    @property
    def is_money(self) -> bool:
        return self.numeric and bool(self.words & _MONEY_COLUMN) and not self.is_key

    @property
    def is_quantity(self) -> bool:
        return self.numeric and bool(self.words & _QUANTITY_COLUMN) and not self.is_key

    @property
    def is_key(self) -> bool:
        return self.primary_key or self.parts[-1:] == ("id",) or self.name.lower().endswith("id")


@dataclass(frozen=True)
class Table:
    """A table: its columns, and the foreign keys a schema tool reported (`column, table, column`)."""

    name: str
    columns: tuple[Column, ...]
    references: tuple[tuple[str, str, str], ...] = ()

    @functools.cached_property
    def head(self) -> str:
        """The stem of the table's last word: `order_items` is about items."""
        parts = split_words(self.name)
        return stem(parts[-1].lower()) if parts else stem(self.name.lower())

    @functools.cached_property
    def words(self) -> frozenset[str]:
        return frozenset(stem(p.lower()) for p in split_words(self.name))

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name.lower() == name.lower()), None)

    @functools.cached_property
    def key(self) -> Column | None:
        return next((c for c in self.columns if c.primary_key), None) or self.column("id")

    @functools.cached_property
    def label(self) -> Column | None:
        """The column that names a row: `name`, `title`..., else the first text column."""
        for wanted in LABEL_COLUMN:
            found = self.column(wanted)
            if found is not None:
                return found
        named = [c for c in self.columns if c.textual and "name" in c.parts and not c.is_key]
        if named:
            return named[0]
        return next((c for c in self.columns if c.textual and not c.is_key and not c.is_date),
                    None)

    @property
    def is_people(self) -> bool:
        return bool(self.words & _PEOPLE)


@dataclass(frozen=True)
class _Edge:
    table: str
    column: str
    other: str
    other_column: str


class Schema:
    """The tables a model has seen, and how they join."""

    def __init__(self, tables: Iterable[Table]) -> None:
        self.tables: dict[str, Table] = {}
        for table in tables:
            self.tables.setdefault(table.name, table)

    def __bool__(self) -> bool:
        return bool(self.tables)

    @functools.cached_property
    def edges(self) -> tuple[_Edge, ...]:
        """Foreign keys: declared ones, else `customer_id` pointing at `customers.id`."""
        edges: list[_Edge] = []
        for table in self.tables.values():
            declared = {name for name, _, _ in table.references}
            for name, other, other_column in table.references:
                if other in self.tables:
                    edges.append(_Edge(table.name, name, other, other_column))
            for column in table.columns:
                if column.name in declared or column.primary_key:
                    continue
                target = self._referenced(table, column)
                if target is not None and target.key is not None:
                    edges.append(_Edge(table.name, column.name, target.name, target.key.name))
        return tuple(edges)

    def _referenced(self, table: Table, column: Column) -> Table | None:
        parts = column.parts
        if len(parts) < 2 or parts[-1] not in ("id", "key", "fk", "ref"):
            return None
        thing = stem(parts[-2])
        for other in self.tables.values():
            if other.name != table.name and (other.head == thing or related(other.head, thing)):
                return other
        return None

    def path(self, start: str, goal: str) -> list[_Edge] | None:
        """The joins from `start` to `goal`, fewest first (edges walk both ways)."""
        if start == goal:
            return []
        frontier: list[tuple[str, list[_Edge]]] = [(start, [])]
        seen = {start}
        while frontier:
            here, route = frontier.pop(0)
            for edge in self.edges:
                for a, b in ((edge.table, edge.other), (edge.other, edge.table)):
                    if a == here and b not in seen:
                        seen.add(b)
                        if b == goal:
                            return [*route, edge]
                        frontier.append((b, [*route, edge]))
        return None

    def fact_tables(self, table: str) -> list[str]:
        """Tables that point at `table` (orders point at customers and products)."""
        return list(dict.fromkeys(e.table for e in self.edges if e.other == table))


def table_matches(table: Table, word_stem: str) -> bool:
    if word_stem in STOPWORDS or len(word_stem) < 3:
        return False
    if word_stem == table.head or (related(word_stem, table.head) and len(word_stem) >= 4):
        return True
    return word_stem in _SYNONYMS.get(table.head, frozenset())



def quote_name(name: str) -> str:
    """A table or column name as SQL writes it: bare when it can be, else double-quoted."""
    if _IDENTIFIER.fullmatch(name) and name.upper() not in _RESERVED:
        return name
    return '"' + name.replace('"', '""') + '"'


_RESERVED = frozenset(
    ["SELECT", "FROM", "WHERE", "GROUP", "ORDER", "BY", "LIMIT", "JOIN", "ON", "AS", "AND", "OR", "NOT", "IN", "IS", "NULL", "TABLE", "INDEX", "UNION", "ALL", "DISTINCT", "CASE", "WHEN", "THEN", "ELSE", "END", "HAVING", "LIKE", "BETWEEN", "EXISTS", "PRIMARY", "KEY", "REFERENCES", "CHECK", "DEFAULT", "VALUES", "INSERT", "UPDATE", "DELETE", "CREATE", "DROP", "ALTER"]
)



def literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"



class Joins:
    """One query under construction: the tables it reads, with aliases and joins."""

    def __init__(self, schema: Schema, root: Table) -> None:
        self.schema = schema
        self.root = root
        self.aliases: dict[str, str] = {}
        self.joins: list[str] = []
        self._alias(root.name)

    def _alias(self, table: str) -> str:
        if table in self.aliases:
            return self.aliases[table]
        parts = [p for p in split_words(table) if p]
        base = "".join(p[0] for p in parts).lower() or "t"
        alias, n = base, 2
        while alias in self.aliases.values() or alias.upper() in _RESERVED:
            alias, n = f"{base}{n}", n + 1
        self.aliases[table] = alias
        return alias

    def ref(self, table: Table, column: Column) -> str | None:
        """`alias.column`, joining the table in when it is not yet part of the query."""
        if not self.include(table):
            return None
        return f"{self.aliases[table.name]}.{quote_name(column.name)}"

    def include(self, table: Table) -> bool:
        if table.name in self.aliases:
            return True
        # Join from whichever table of the query is closest.
        best: list[_Edge] | None = None
        for present in list(self.aliases):
            route = self.schema.path(present, table.name)
            if route is not None and (best is None or len(route) < len(best)):
                best = route
        if best is None:
            return False
        for edge in best:
            new = edge.other if edge.table in self.aliases else edge.table
            if new in self.aliases:
                continue
            alias = self._alias(new)
            a = f"{self.aliases[edge.table]}.{quote_name(edge.column)}"
            b = f"{self.aliases[edge.other]}.{quote_name(edge.other_column)}"
            self.joins.append(f"JOIN {quote_name(new)} {alias} ON {a} = {b}")
        return True

    @property
    def joined(self) -> bool:
        return bool(self.joins)

    def source(self) -> str:
        head = f"FROM {quote_name(self.root.name)} {self.aliases[self.root.name]}"
        return " ".join([head, *self.joins])


def find_quantity(schema: Schema) -> tuple[Table, Column] | None:
    for table in schema.tables.values():
        for column in table.columns:
            if column.is_quantity:
                return table, column
    return None


def find_money(schema: Schema, *, unit_price: bool | None = None) -> tuple[Table, Column] | None:
    found: list[tuple[int, Table, Column]] = []
    for order, table in enumerate(schema.tables.values()):
        for column in table.columns:
            if column.is_money:
                per_unit = bool(column.words & UNIT_PRICE_COLUMN)
                if unit_price is None or per_unit == unit_price:
                    found.append((order, table, column))
    return (found[0][1], found[0][2]) if found else None


def currency(column: Column) -> str:
    symbols = {"usd": "$", "dollar": "$", "eur": "€", "euro": "€", "gbp": "£", "pound": "£",
               "jpy": "¥", "yen": "¥"}  # fmt: skip
    for part in column.parts:
        if part in symbols:
            return symbols[part]
    return ""


def price_column(schema: Schema, near: Table | None) -> tuple[Table, Column] | None:
    if near is not None:
        own = [c for c in near.columns if c.is_money]
        if own:
            return near, own[0]
    return find_money(schema, unit_price=True) or find_money(schema)


def date_column(schema: Schema, near: Table | None) -> tuple[Table, Column] | None:
    tables = list(schema.tables.values())
    if near is not None:
        tables.sort(key=lambda t: t.name != near.name)
    for table in tables:
        for column in table.columns:
            if column.is_date:
                return table, column
    return None
