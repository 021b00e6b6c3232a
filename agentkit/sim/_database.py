"""Answering a question from a database the model can only reach through tools.

Pure and stdlib only. When the offered tools include one that runs SQL (a parameter that
holds SQL, by its name or description) and the question asks something of the data ("which
customer spent the most?") without writing the SQL itself, the model works the way an analyst
does, a turn at a time:

1. list the tables (a tool without required parameters about tables, else a query of the
   catalogue), unless an earlier turn already did;
2. describe the tables it has not seen yet (a tool that takes a table name, else a query that
   reads one row of each), all in one turn when parallel calls are allowed;
3. write one SELECT from what it learnt (`_sql.compose`) and run it;
4. answer from the rows in a sentence (`_prose.query_sentence`).

Everything is read back from the conversation, so each step follows from the last whatever
turn it is, and a schema seen in an earlier turn of a chat is not asked for again.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ._conversation import Conversation, Result, Tool
from ._kinds import parameter_kind
from ._plan import dumps
from ._prose import join_names, query_sentence, table_sentence
from ._schemas import resolve, schema_type
from ._sql import Query, compose
from ._sqlquestion import ASCENDING, AVERAGE, DESCENDING, LATEST, MONEY, PRICE, QUANTITY, TOTAL
from ._sqlschema import Column, Schema, Table, quote_name
from ._words import STOPWORDS, content_words, stem
from .reply import SimToolCall

__all__ = ["Database", "Step", "answer", "asks_database", "database_of", "next_step", "route"]

_TABLE_WORDS = frozenset(stem(w) for w in ("table", "tables", "schema", "schemas", "view"))
_DESCRIBE_WORDS = frozenset(
    stem(w) for w in ("describe", "column", "columns", "schema", "info", "inspect", "structure",
                      "definition", "detail", "details")
)  # fmt: skip
_LIST_WORDS = frozenset(stem(w) for w in ("list", "tables", "show", "all", "names", "catalog"))
# The most tables the model describes before it queries; past that, the ones the question names.
_MAX_DESCRIBED = 8
# Calls since the question after which the model stops exploring and answers.
_MAX_STEPS = 24
_NAME_KEYS = ("name", "table", "table_name", "tbl_name", "tablename")
_COLUMN_NAME_KEYS = ("name", "column", "column_name", "field")
_COLUMN_TYPE_KEYS = ("type", "data_type", "datatype", "column_type")
_KEY_FLAGS = ("primary_key", "pk", "primary", "is_primary_key", "key")
_ANALYTIC_PHRASES = ("how many", "how much", "number of", "count ", "list ", "show ")


@dataclass(frozen=True)
class Database:
    """The offered tools that reach a database: one runs SQL, others may list and describe."""

    query: Tool
    sql_parameter: str
    lister: Tool | None
    describer: Tool | None
    table_parameter: str | None
    sqlite: bool


@dataclass(frozen=True)
class Step:
    """The calls of the next step, and why the model makes them."""

    calls: tuple[SimToolCall, ...]
    why: str


def database_of(tools: Sequence[Tool]) -> Database | None:
    """The database tools among `tools`, or None when none of them runs SQL."""
    found = _find_database(tuple(tools))
    if found is None:
        return None
    query, sql_parameter, lister, describer, table_parameter, sqlite = found
    return Database(tools[query], sql_parameter, None if lister is None else tools[lister],
                    None if describer is None else tools[describer], table_parameter, sqlite)  # fmt: skip


class _ToolKey:
    """Tools hashed by their definitions, so agents that resend the same tools each turn
    (every agent) look for a database once."""

    __slots__ = ("key", "tools")

    def __init__(self, tools: tuple[Tool, ...]) -> None:
        self.tools = tools
        self.key = tuple((t.name, t.description, t.schema_key) for t in tools)

    def __hash__(self) -> int:
        return hash(self.key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _ToolKey) and other.key == self.key


def _find_database(
    tools: tuple[Tool, ...],
) -> tuple[int, str, int | None, int | None, str | None, bool] | None:
    return _database_in(_ToolKey(tools))


@functools.lru_cache(maxsize=512)
def _database_in(
    key: _ToolKey,
) -> tuple[int, str, int | None, int | None, str | None, bool] | None:
    tools = key.tools
    query: tuple[int, str] | None = None
    for index, tool in enumerate(tools):
        for name, node in _properties(tool):
            if query is None and schema_type(node) == "string" and parameter_kind(name, node) == "sql":
                query = (index, name)
    if query is None:
        return None
    lister = describer = None
    table_parameter = None
    for index, tool in enumerate(tools):
        if index == query[0] or tool.is_final:
            continue
        words = tool.words.name | tool.words.description
        required = _required(tool)
        about_tables = bool(words & _TABLE_WORDS) or bool(tool.words.parameters & _TABLE_WORDS)
        if not required and about_tables and lister is None and (
            tool.words.name & _LIST_WORDS or not tool.words.name & _DESCRIBE_WORDS
        ):
            lister = index
        elif len(required) == 1 and describer is None and about_tables:
            name, node = required[0]
            if schema_type(node) == "string" and (
                words & _DESCRIBE_WORDS or frozenset(content_words(name)) & _TABLE_WORDS
            ):
                describer, table_parameter = index, name
    text = f"{tools[query[0]].name} {tools[query[0]].description}".lower()
    return query[0], query[1], lister, describer, table_parameter, "sqlite" in text


def _properties(tool: Tool) -> list[tuple[str, Mapping[str, Any]]]:
    properties = tool.parameters.get("properties")
    if not isinstance(properties, Mapping):
        return []
    return [
        (str(name), resolve(node, tool.parameters)[0])
        for name, node in properties.items()
        if isinstance(node, Mapping)
    ]


def _required(tool: Tool) -> list[tuple[str, Mapping[str, Any]]]:
    required = tool.parameters.get("required") or ()
    return [(n, node) for n, node in _properties(tool) if n in required]


# --------------------------------------------------------------------------------------------
# What the conversation has found out
# --------------------------------------------------------------------------------------------


@dataclass
class _Known:
    tables: list[str] | None
    described: dict[str, Table]


def _known(conv: Conversation, db: Database) -> _Known:
    """What the conversation's schema calls (this turn's and earlier ones) have shown."""
    return conv.memo("database schema", lambda: _read_known(conv, db))  # type: ignore[no-any-return]


def _read_known(conv: Conversation, db: Database) -> _Known:
    known = _Known(None, {})
    for result in [*conv.earlier_results, *conv.results]:
        if result.failed:
            continue
        data = result.data
        arguments = result.arguments if isinstance(result.arguments, Mapping) else {}
        if db.lister is not None and result.name == db.lister.name:
            names = _table_names(data)
            if names is not None:
                known.tables = names
        elif db.describer is not None and result.name == db.describer.name:
            table = _described(data, str(arguments.get(db.table_parameter or "", "")))
            if table is not None:
                known.described[table.name] = table
        elif result.name == db.query.name:
            sql = str(arguments.get(db.sql_parameter, ""))
            _read_query(sql, data, known, db)
    return known


def _table_names(data: Any) -> list[str] | None:
    if isinstance(data, Mapping):
        for key in ("tables", "names", "result", "items"):
            if isinstance(data.get(key), list):
                return _table_names(data[key])
        return None
    if not isinstance(data, list):
        return None
    names: list[str] = []
    for item in data:
        if isinstance(item, str):
            names.append(item)
        elif isinstance(item, Mapping):
            found = next((item[k] for k in _NAME_KEYS if isinstance(item.get(k), str)), None)
            if found is not None and str(item.get("type", "table")).lower() in ("table", "view"):
                names.append(found)
    return names


def _described(data: Any, asked: str) -> Table | None:
    if not isinstance(data, Mapping):
        return None
    name = next((data[k] for k in ("table", "name", "table_name") if isinstance(data.get(k), str)),
                asked)  # fmt: skip
    raw = data.get("columns") or data.get("fields")
    if not name or not isinstance(raw, list):
        return None
    columns = []
    for item in raw:
        if isinstance(item, str):
            columns.append(Column(item))
        elif isinstance(item, Mapping):
            column = next((item[k] for k in _COLUMN_NAME_KEYS if isinstance(item.get(k), str)), None)
            if column is None:
                continue
            kind = next((str(item[k]) for k in _COLUMN_TYPE_KEYS if item.get(k) is not None), "")
            key = any(bool(item.get(k)) and item.get(k) not in ("", "no", "NO") for k in _KEY_FLAGS)
            columns.append(Column(column, kind, key))
    references = []
    for item in data.get("foreign_keys") or data.get("references") or ():
        if isinstance(item, Mapping):
            column = item.get("from") or item.get("column")
            other = item.get("table") or item.get("references")
            other_column = item.get("to") or item.get("references_column") or "id"
            if isinstance(column, str) and isinstance(other, str):
                references.append((column, other, str(other_column)))
    return Table(name, tuple(columns), tuple(references))


def _read_query(sql: str, data: Any, known: _Known, db: Database) -> None:
    """What the model's own catalogue and sample queries taught it."""
    if not isinstance(data, Mapping) or not isinstance(data.get("columns"), list):
        return
    columns = [str(c) for c in data["columns"]]
    rows = [r for r in data.get("rows") or () if isinstance(r, list | tuple)]
    if sql == _list_sql(db):
        known.tables = [str(r[0]) for r in rows if r]
        return
    for table in known.tables or ():
        if sql == _sample_sql(table):
            first = rows[0] if rows else [None] * len(columns)
            kinds = [_kind_of(v) for v in first]
            cols = tuple(Column(c, k, c.lower() == "id") for c, k in zip(columns, kinds, strict=False))
            known.described[table] = Table(table, cols)


def _is_exploring(result: Result, db: Database, known: _Known) -> bool:
    """Whether a query only looked at the catalogue or at a sample row."""
    arguments = result.arguments if isinstance(result.arguments, Mapping) else {}
    sql = str(arguments.get(db.sql_parameter, ""))
    return sql == _list_sql(db) or any(sql == _sample_sql(t) for t in known.tables or ())


def _kind_of(value: Any) -> str:
    if isinstance(value, bool):
        return "BOOLEAN"
    if isinstance(value, int):
        return "INTEGER"
    if isinstance(value, float):
        return "REAL"
    return "TEXT" if isinstance(value, str) else ""


def _list_sql(db: Database) -> str:
    if db.sqlite:
        return "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') ORDER BY name"
    return (
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema NOT IN ('information_schema', 'pg_catalog') ORDER BY table_name"
    )


def _sample_sql(table: str) -> str:
    return f"SELECT * FROM {quote_name(table)} LIMIT 1"


# --------------------------------------------------------------------------------------------
# Deciding
# --------------------------------------------------------------------------------------------


def route(conv: Conversation, chosen: Sequence[Tool]) -> Database | None:
    """The database tools, when the question is one to answer by querying them: they are
    offered and may be called, no other tool was chosen for it, and it asks about the data."""
    if not conv.tools_allowed or conv.forced is not None:
        return None
    db = database_of(conv.tools)
    if db is None or any(t.name != db.query.name and not _misread(conv, db, t) for t in chosen):
        return None
    return db if asks_database(conv, db) else None


def _misread(conv: Conversation, db: Database, tool: Tool) -> bool:
    """Whether a schema tool was chosen only for its verb: "list the tea products" shares
    "list" with `list_tables`, but asks for products, not tables."""
    if tool not in (db.lister, db.describer):
        return False
    objects = tool.words.name - _LIST_WORDS - _DESCRIBE_WORDS - {stem("get"), stem("show")}
    objects = objects or _TABLE_WORDS
    return not any(w in objects or w in _TABLE_WORDS for w in conv.evidence.content)


def asks_database(conv: Conversation, db: Database) -> bool:
    """Whether the question asks something of the data (and does not bring its own SQL)."""
    ev = conv.evidence
    if ev.sql or any(q.value.lower().startswith(("select", "with ")) for q in ev.quoted):
        return False
    text = f" {ev.text.lower()} "
    if any(phrase in text for phrase in _ANALYTIC_PHRASES) or ev.content & _analytic_words():
        return True
    known = _known(conv, db)
    vocabulary: set[str] = set()
    for table in known.described.values():
        vocabulary.add(table.head)
        vocabulary.update(w for c in table.columns for w in c.words)
    vocabulary.update(stem(t.lower()) for t in known.tables or ())
    vocabulary.update(content_words(conv.instructions))
    vocabulary -= STOPWORDS
    return any(len(w) >= 4 and w in vocabulary for w in ev.content)


@functools.cache
def _analytic_words() -> frozenset[str]:
    return MONEY | PRICE | QUANTITY | AVERAGE | TOTAL | DESCENDING | ASCENDING | LATEST


def next_step(conv: Conversation, db: Database) -> Step | None:
    """The calls that get the question closer to an answer; None when it is time to answer."""
    if len(conv.calls) >= _MAX_STEPS:
        return None
    known = _known(conv, db)
    if any(r.name == db.query.name and not _is_exploring(r, db, known) for r in conv.results):
        return None  # a query has answered (or failed to): what is left is to say so
    tried = _tried(conv)
    if known.tables is None:
        if db.lister is not None:
            if (db.lister.name, "") in tried:
                return None
            return Step((SimToolCall(db.lister.name, dumps(_defaults(db.lister))),),
                        f"I look at which tables the database has first (`{db.lister.name}`).")
        sql = _list_sql(db)
        if (db.query.name, sql) in tried:
            return None
        return Step((_query_call(db, sql),), "I list the database's tables first.")
    missing = [t for t in _worth_describing(conv, known) if t not in known.described]
    if db.describer is not None:
        missing = [t for t in missing if (db.describer.name, t) not in tried]
        if missing:
            calls = tuple(
                SimToolCall(db.describer.name, dumps({**_defaults(db.describer),
                                                      db.table_parameter or "table": t}))
                for t in missing
            )  # fmt: skip
            why = f"The tables are {join_names(known.tables)}; I look at their columns first."
            return Step(calls, why)
    else:
        missing = [t for t in missing if (db.query.name, _sample_sql(t)) not in tried]
        if missing:
            calls = tuple(_query_call(db, _sample_sql(t)) for t in missing)
            return Step(calls, "I read one row of each table to see its columns.")
    query = _compose(conv, known)
    if query is None or (db.query.name, query.sql) in tried:
        return None
    return Step((_query_call(db, query.sql),),
                f"From the tables' columns I write one query: {query.sql}")


def _worth_describing(conv: Conversation, known: _Known) -> list[str]:
    tables = list(known.tables or ())
    if len(tables) <= _MAX_DESCRIBED:
        return tables
    named = [t for t in tables if any(w == stem(t.lower()) or w in content_words(t)
                                      for w in conv.evidence.content)]  # fmt: skip
    return (named or tables)[:_MAX_DESCRIBED]


def _tried(conv: Conversation) -> set[tuple[str, str]]:
    """`(tool, its one telling argument)` for every call since the question."""
    tried: set[tuple[str, str]] = set()
    for _, name, arguments in conv.calls:
        if isinstance(arguments, Mapping):
            values = [v for v in arguments.values() if isinstance(v, str)]
            tried.add((name, values[0] if len(values) == 1 else ""))
            tried.update((name, v) for v in values)
        else:
            tried.add((name, ""))
    return tried


def _defaults(tool: Tool) -> dict[str, Any]:
    return {n: node["default"] for n, node in _required(tool) if "default" in node}


def _query_call(db: Database, sql: str) -> SimToolCall:
    return SimToolCall(db.query.name, dumps({**_defaults(db.query), db.sql_parameter: sql}))


def _compose(conv: Conversation, known: _Known) -> Query | None:
    return compose(conv.evidence, Schema(known.described.values()))


def answer(conv: Conversation, db: Database) -> str | None:
    """The answer to the question from the latest query's rows, in a sentence; or why there is
    none. None when the question was not answered from the database."""
    queries = [r for r in conv.results if r.name == db.query.name]
    known = _known(conv, db)
    if not queries or all(_is_exploring(r, db, known) for r in queries):
        if known.tables is not None:
            shown = join_names(known.tables) or "none"
            return (f"The database has these tables: {shown}. None of their columns matches "
                    f"what you asked, so I could not write a query for it.")
        return None
    last: Result = queries[-1]
    arguments = last.arguments if isinstance(last.arguments, Mapping) else {}
    sql = str(arguments.get(db.sql_parameter, ""))
    if last.failed:
        reason = " ".join(last.content.split())
        return f"The query failed: {reason}"
    data = last.data
    if not isinstance(data, Mapping) or not isinstance(data.get("columns"), list):
        return None
    query = _compose(conv, known)
    if query is not None and query.sql == sql:
        return query_sentence(query, data, conv.evidence)
    return table_sentence(sql, data)
