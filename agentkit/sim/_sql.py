"""Writing a read-only SQL query for a question, from a schema the model has looked at.

Pure and stdlib only. `compose` reads the question the way an analyst would: what it is
about (the table or column after "which", "per", "by", "who"), what it measures (money spent,
units sold, a count of rows, a price), how it ranks ("most", "cheapest", "top 3"), and what
it filters on (a name, a place after "in", a year or a date, "more than 20"); then it joins
the tables that hold those columns along their foreign keys (declared ones, or `<thing>_id`
columns that point at the table of that thing) and writes one SELECT.

Nothing here knows any particular database: tables and columns are matched by their words,
and the words of questions come from small tables of common English (spent, sold, cheapest).
The `Query` it returns says how to read the rows back into a sentence (`_prose`).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from ._evidence import Evidence
from ._sqlquestion import (
    ASCENDING,
    AVERAGE,
    DESCENDING,
    EARLIEST,
    GROUPING,
    LATEST,
    MONEY,
    PRICE,
    QUANTITY,
    TOTAL,
    WH,
    Mention,
    conditions,
    find_mentions,
    top_n,
    words_of,
)
from ._sqlschema import (
    CATEGORY_COLUMN,
    Column,
    Joins,
    Schema,
    Table,
    currency,
    date_column,
    find_money,
    find_quantity,
    price_column,
    quote_name,
)
from ._words import split_words, stem

__all__ = ["Column", "Query", "Schema", "Table", "compose", "quote_name"]


def _stems(words: str) -> frozenset[str]:
    return frozenset(stem(w) for w in words.split())


_DEFAULT_TOP = 5
_SINGLE_TOP = 3  # one asked for; the next two show a tie or how close the race was
_LIST_LIMIT = 50



@dataclass(frozen=True)
class Query:
    """A composed query and what its columns mean, to read the rows back into words.

    Attributes:
        sql: The statement.
        kind: "rank", "count", "total", "average" or "list".
        label: The alias of the column that names each row (None for a single number).
        measure: The alias of the number the question asks for.
        money: The currency symbol of `measure` ("$"), "" when it is money of no known
            currency, None when it is no money at all.
        extra: The alias of a count shown beside the measure ("across 5 orders"), and its noun.
        subject: The noun of what rows are ("customer"), as the question says it.
        plural: Whether the question asks for several.
        descending: Which end a ranking shows first.
        filters: The values the query filters on, as the question wrote them.
        breakdown: Whether the question asks for every group ("revenue per category").
        details: Aliases of the names a nameless row points at (an order's customer).
    """

    sql: str
    kind: str
    label: str | None = None
    measure: str | None = None
    money: str | None = None
    extra: tuple[str, str] | None = None
    subject: str = ""
    plural: bool = False
    descending: bool = True
    filters: tuple[str, ...] = ()
    details: tuple[str, ...] = ()
    breakdown: bool = False


# --------------------------------------------------------------------------------------------
# Composing
# --------------------------------------------------------------------------------------------


@dataclass
class _Plan:
    subject: Mention | None = None  # what rows are ("which customer")
    counted: Mention | None = None  # what a count counts ("how many orders")
    kind: str = "list"
    measure: str = ""  # "money", "price", "quantity", "count", "date", "column"
    measure_column: tuple[Table, Column] | None = None
    descending: bool = True
    limit: int | None = None
    plural: bool = False
    breakdown: bool = False


def compose(ev: Evidence, schema: Schema) -> Query | None:
    """One SELECT that answers the question from the schema's tables; None if none fits.

    Args:
        ev: The question.
        schema: The tables (with columns) the model has described.
    """
    if not schema:
        return None
    words = words_of(ev)
    stems = [s for _, s in words]
    lowers = [w for w, _ in words]
    stem_set = frozenset(stems)
    mentions = find_mentions(ev, schema)
    plan = _Plan()
    text = ev.text

    counting = ("how" in lowers and _after(lowers, "how", "many")) or "number of" in text.lower() \
        or "count" in lowers
    plan.descending = not (stem_set & ASCENDING) or bool(stem_set & DESCENDING & _stems("most"))
    ranking = bool(stem_set & (DESCENDING | ASCENDING)) or top_n(text) is not None
    if stem_set & LATEST or stem_set & EARLIEST:
        ranking = True
        plan.measure = "date"
        plan.descending = bool(stem_set & LATEST)

    # What the question measures.
    if not plan.measure:
        if stem_set & MONEY:
            plan.measure = "money"
        elif stem_set & PRICE:
            plan.measure = "price"
        elif stem_set & QUANTITY and find_quantity(schema) is not None:
            plan.measure = "quantity"
    if plan.measure == "price" and stem_set & TOTAL:
        plan.measure = "money"

    # What the rows are: the table or column after "which"/"what"/"per"/"by", or "who".
    plan.subject, breakdown = _subject(lowers, mentions, schema)
    if counting:
        plan.counted = _counted(lowers, mentions)
        if plan.counted is None and plan.subject is not None and plan.subject.column is None:
            plan.counted, plan.subject = plan.subject, None
        if plan.counted is not None and plan.subject is not None and (
            plan.counted.index == plan.subject.index
        ):
            plan.subject = None
    if plan.subject is None and ranking:
        # "the most expensive product", "top 3 products by revenue": the first table named.
        plan.subject = next((m for m in mentions if m.column is None), None) or next(
            iter(mentions), None
        )
    plan.plural = plan.subject.plural if plan.subject is not None else False

    if stem_set & AVERAGE:
        plan.kind = "average"
    elif counting and plan.measure not in ("quantity", "money"):
        plan.kind = "count"
    elif ranking:
        plan.kind = "rank"
    elif plan.measure in ("money", "quantity") or stem_set & TOTAL:
        # "Which customers spent more than 200?", "revenue per category": one total per row.
        plan.kind = "rank" if plan.subject is not None else "total"
    elif plan.subject is not None or mentions:
        plan.kind = "list"
    else:
        return None
    if plan.kind == "rank" and not plan.measure:
        after = _noun_after_superlative(lowers, stems, mentions)
        if after is not None:
            plan.counted = after
            plan.measure = "count"
        elif plan.subject is not None and plan.subject.column is not None and (
            plan.subject.column.numeric
        ):
            plan.measure = "column"
            plan.measure_column = (plan.subject.table, plan.subject.column)
            plan.subject = Mention(plan.subject.index, plan.subject.table, None, plan.plural)
        else:
            plan.measure = "count"

    limit = top_n(text)
    if breakdown and plan.kind != "list":
        plan.limit = limit or _LIST_LIMIT
        plan.plural = True
        plan.breakdown = limit is None
    elif plan.kind == "rank" or (plan.kind == "count" and plan.subject is not None):
        plan.limit = limit or (_DEFAULT_TOP if plan.plural else _SINGLE_TOP)
    return _write(ev, schema, plan, mentions, stem_set)


def _after(lowers: Sequence[str], first: str, second: str) -> bool:
    return any(a == first and b == second for a, b in itertools.pairwise(lowers))


def _subject(
    lowers: Sequence[str], mentions: Sequence[Mention], schema: Schema
) -> tuple[Mention | None, bool]:
    """What the rows are, and whether the question asks for a breakdown ("per", "by")."""
    by_index = {m.index: m for m in mentions}
    for i, word in enumerate(lowers):
        if word in WH or word in GROUPING or word == "top":
            # The next naming word within a few ("which coffee product", "per city").
            for j in range(i + 1, min(len(lowers), i + 5)):
                if j in by_index:
                    return by_index[j], word in GROUPING
                if lowers[j] in ("is", "are", "was", "were", "did", "does", "do", "has", "have"):
                    break
        if word in ("who", "whom"):
            people = [t for t in schema.tables.values() if t.is_people and t.label is not None]
            if people:
                # The people a fact table points at are the ones who buy, order, write...
                people.sort(key=lambda t: (not schema.fact_tables(t.name), t.name))
                return Mention(i, people[0], None, False), False
    return None, False


def _counted(lowers: Sequence[str], mentions: Sequence[Mention]) -> Mention | None:
    for i, word in enumerate(lowers):
        if (word == "many" and i and lowers[i - 1] == "how") or (
            word == "of" and i and lowers[i - 1] == "number"
        ) or word == "count":
            later = [m for m in mentions if m.index > i]
            if later:
                return later[0]
    return None


def _noun_after_superlative(
    lowers: Sequence[str], stems: Sequence[str], mentions: Sequence[Mention]
) -> Mention | None:
    """"the most orders": the table a ranking counts, named right after "most"/"fewest"."""
    for i, word_stem in enumerate(stems):
        if word_stem in DESCENDING | ASCENDING:
            for m in mentions:
                if m.index in (i + 1, i + 2) and m.column is None:
                    return m
    return None


def _write(
    ev: Evidence, schema: Schema, plan: _Plan, mentions: Sequence[Mention],
    stem_set: frozenset[str],
) -> Query | None:
    subject = plan.subject
    group_table = subject.table if subject is not None else None
    group_column = subject.column if subject is not None else None

    measure_sql: str | None = None
    measure_alias = ""
    money: str | None = None
    extra: tuple[str, str] | None = None

    # The table the query starts from: what is counted, else what the rows are, else the facts.
    if plan.kind == "count" and plan.counted is not None:
        root = plan.counted.table
    elif group_table is not None:
        root = group_table
    elif mentions:
        root = mentions[0].table
    else:
        money_at = find_money(schema)
        if money_at is None:
            return None
        root = money_at[0]
    builder = Joins(schema, root)

    def counted_rows(table: Table) -> str:
        key = table.key
        if builder.joined and key is not None:
            ref = builder.ref(table, key)
            return f"COUNT(DISTINCT {ref})"
        return "COUNT(*)"

    if plan.measure == "money":
        price = find_money(schema, unit_price=True)
        quantity = find_quantity(schema)
        total = find_money(schema, unit_price=False)
        if total is not None and (price is None or not stem_set & PRICE):
            ref = builder.ref(*total)
            measure_sql = f"SUM({ref})" if ref else None
            money = currency(total[1])
            facts = total[0]
        elif price is not None:
            price_ref = builder.ref(*price)
            quantity_ref = builder.ref(*quantity) if quantity is not None else None
            facts = quantity[0] if quantity is not None else price[0]
            if price_ref is None:
                return None
            measure_sql = f"SUM({quantity_ref} * {price_ref})" if quantity_ref else f"SUM({price_ref})"
            money = currency(price[1])
        else:
            return None
        measure_sql = f"ROUND({measure_sql}, 2)" if measure_sql else None
        measure_alias = _alias_for(stem_set, "total_spent", "revenue")
        if group_table is not None and facts.name != group_table.name:
            extra = (f"{facts.head}_count", _plural_noun(facts.name))
    elif plan.measure == "quantity":
        quantity = find_quantity(schema)
        if quantity is None:
            return None
        ref = builder.ref(*quantity)
        if ref is None:
            return None
        measure_sql, measure_alias = f"SUM({ref})", "units"
        if group_table is not None and quantity[0].name != group_table.name:
            extra = (f"{quantity[0].head}_count", _plural_noun(quantity[0].name))
    elif plan.measure == "price":
        price = price_column(schema, group_table)
        if price is None:
            return None
        ref = builder.ref(*price)
        if ref is None:
            return None
        money = currency(price[1])
        if plan.kind == "average":
            measure_sql, measure_alias = f"ROUND(AVG({ref}), 2)", "average_" + price[1].name
        elif group_table is not None and price[0].name == group_table.name and group_column is None:
            measure_sql, measure_alias = ref, price[1].name  # a row's own price: no aggregate
        else:
            measure_sql, measure_alias = f"ROUND(SUM({ref}), 2)", "total_" + price[1].name
    elif plan.measure == "date":
        dated = date_column(schema, group_table)
        if dated is None:
            return None
        ref = builder.ref(*dated)
        if ref is None:
            return None
        aggregate = "MAX" if plan.descending else "MIN"
        if group_table is not None and dated[0].name != group_table.name:
            measure_sql = f"{aggregate}({ref})"
        else:
            measure_sql = ref
        measure_alias = dated[1].name
        plan.descending = aggregate == "MAX"
    elif plan.measure == "column" and plan.measure_column is not None:
        ref = builder.ref(*plan.measure_column)
        if ref is None:
            return None
        measure_sql, measure_alias = ref, plan.measure_column[1].name
        if plan.measure_column[1].is_money:
            money = currency(plan.measure_column[1])
    elif plan.kind in ("count", "rank"):
        counted = plan.counted.table if plan.counted is not None else None
        if counted is None and group_table is not None:
            pointing = schema.fact_tables(group_table.name)
            counted = schema.tables[pointing[0]] if pointing else group_table
        if counted is None:
            counted = root
        builder.include(counted)
        measure_sql = counted_rows(counted)
        measure_alias = f"{counted.head}_count"
        if plan.kind == "rank":
            plan.kind = "count"

    filters, where, having = conditions(ev, schema, builder, mentions, measure_alias)

    # What names each row.
    label_sql: str | None = None
    label_alias: str | None = None
    group_by: list[str] = []
    details: list[tuple[str, str]] = []
    if group_table is not None and plan.kind != "total" and not (
        plan.kind == "count" and subject is plan.counted
    ):
        if group_column is not None and not group_column.numeric:
            label_sql = builder.ref(group_table, group_column)
            label_alias = group_column.name
            group_by = [label_sql] if label_sql else []
        elif group_table.label is not None:
            label_sql = builder.ref(group_table, group_table.label)
            label_alias = group_table.label.name
            key = group_table.key
            key_sql = builder.ref(group_table, key) if key is not None else None
            group_by = [g for g in (key_sql, label_sql) if g]
        elif group_table.key is not None:
            # Rows without a name of their own (an order): the key, and what they point at.
            label_sql = builder.ref(group_table, group_table.key)
            label_alias = group_table.key.name
            group_by = [label_sql] if label_sql else []
            for edge in schema.edges:
                other = schema.tables[edge.other]
                if edge.table != group_table.name or other.label is None:
                    continue
                ref = builder.ref(other, other.label)
                if ref is not None:
                    alias = _singular(_plural_noun(other.name).split()[-1])
                    details.append((f"{ref} AS {quote_name(alias)}", alias))
                    group_by.append(ref)

    aggregated = measure_sql is not None and any(
        f in measure_sql for f in ("SUM(", "COUNT(", "AVG(", "MAX(", "MIN(")
    )
    select: list[str] = []
    if plan.kind == "list":
        table = group_table or root
        columns = _list_columns(table, mentions, builder)
        select = columns
        label_alias = table.label.name if table.label is not None else None
        order = f" ORDER BY {columns[0]}" if columns else ""
        sql = f"SELECT {', '.join(columns)} {builder.source()}"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += f"{order} LIMIT {_LIST_LIMIT}"
        return Query(sql, "list", label=label_alias, subject=_subject_noun(subject, table),
                     plural=True, filters=filters)
    if measure_sql is None:
        return None
    if label_sql is not None:
        select.append(label_sql)
    select.append(f"{measure_sql} AS {measure_alias}")
    select.extend(d for d, _ in details)
    if extra is not None:
        facts_table = next(t for t in schema.tables.values() if f"{t.head}_count" == extra[0])
        select.append(f"{counted_rows(facts_table)} AS {extra[0]}")
    sql = f"SELECT {', '.join(select)} {builder.source()}"
    if where:
        sql += " WHERE " + " AND ".join(where)
    if label_sql is not None and aggregated:
        sql += " GROUP BY " + ", ".join(group_by)
    if having and aggregated and label_sql is not None:
        sql += " HAVING " + " AND ".join(having)
    if label_sql is not None:
        direction = "DESC" if plan.descending else "ASC"
        sql += f" ORDER BY {measure_alias} {direction}"
        if plan.limit and not having:
            sql += f" LIMIT {plan.limit}"
    kind = plan.kind if label_sql is not None or plan.kind != "rank" else "total"
    if kind == "count" and label_sql is not None:
        kind = "rank"
    return Query(
        sql, kind, label=label_alias, measure=measure_alias, money=money, extra=extra,
        subject=_subject_noun(subject, group_table), plural=plan.plural,
        descending=plan.descending, filters=filters, breakdown=plan.breakdown,
        details=tuple(a for _, a in details),
    )


def _alias_for(stem_set: frozenset[str], spent: str, revenue: str) -> str:
    return spent if stem_set & _stems("spent spend spends spending paid pay") else revenue


def _plural_noun(table_name: str) -> str:
    parts = split_words(table_name)
    return " ".join(p.lower() for p in parts) if parts else table_name


def _subject_noun(subject: Mention | None, table: Table | None) -> str:
    if subject is not None and subject.column is not None:
        return " ".join(subject.column.parts)
    if table is None:
        return ""
    parts = split_words(table.name)
    last = parts[-1].lower() if parts else table.name.lower()
    return _singular(last)


def _singular(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("ses", "xes", "ches", "shes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _list_columns(table: Table, mentions: Sequence[Mention], builder: Joins) -> list[str]:
    """What a list shows: the rows' names, and the columns the question talks about."""
    columns: list[str] = []
    if table.label is not None:
        ref = builder.ref(table, table.label)
        if ref:
            columns.append(ref)
    for mention in mentions:
        if mention.column is not None and mention.column is not table.label:
            ref = builder.ref(mention.table, mention.column)
            if ref and ref not in columns:
                columns.append(ref)
    if len(columns) <= 1:
        for column in table.columns:
            if column.is_money or (column.textual and column.words & CATEGORY_COLUMN):
                ref = builder.ref(table, column)
                if ref and ref not in columns:
                    columns.append(ref)
    if not columns:
        columns = [builder.ref(table, c) or c.name for c in table.columns[:4]]
    return columns
