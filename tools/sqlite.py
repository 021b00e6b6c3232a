"""`sqlite_tools(database)`: look at a SQLite database and run read-only queries on it.

Read-only is enforced in layers, so one mistake does not open a hole:

1. the query must be exactly one statement (a tokenizer-aware split that knows strings,
   quoted names and comments) starting with SELECT, WITH, VALUES or EXPLAIN, or a
   whitelisted introspection PRAGMA;
2. an authorizer callback denies every action but reading, so `ATTACH`, writes, PRAGMA
   writes and transactions fail inside SQLite even if they got past step 1;
3. the database is opened with `mode=ro` and `PRAGMA query_only=ON`.

Queries run with a time limit (a progress handler) and a cap on string/blob sizes, and
return at most `max_rows` rows. Every tool is sync: agentkit runs it in a worker thread,
and each call opens and closes its own connection there.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from agentkit.errors import ConfigurationError, ToolRetry
from agentkit.tool import Tool, tool

__all__ = ["sqlite_tools"]

MAX_CELL_CHARS = 2000
"""Longer text values are cut, so one huge cell cannot crowd out the other rows."""

_READ_KEYWORDS = frozenset({"SELECT", "WITH", "VALUES", "EXPLAIN"})
# Introspection pragmas that only read; anything else (and any `= value`) is refused.
_READ_PRAGMAS = frozenset(
    {"table_info", "table_xinfo", "index_list", "index_info", "index_xinfo",
     "foreign_key_list"}
)  # fmt: skip
_ALLOWED_ACTIONS = frozenset(
    {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION,
     sqlite3.SQLITE_RECURSIVE}
)  # fmt: skip
_DENIED_FUNCTIONS = frozenset({"load_extension"})


def split_statements(sql: str) -> list[str]:
    """Split SQL text on the semicolons that end statements, as SQLite's tokenizer would.

    Semicolons inside '...' strings, "..." / `...` / [...] names and -- or /* */ comments
    do not split. Statements that are only whitespace and comments are dropped.

    Args:
        sql: The SQL text.

    Returns:
        The statements, without their terminating semicolons.

    Raises:
        ValueError: A string or quoted name is not closed.
    """
    statements: list[str] = []
    start = 0
    meaningful = False  # whether the current statement has anything but blanks and comments
    i, n = 0, len(sql)
    while i < n:
        char = sql[i]
        if char in "'\"`[":
            close = "]" if char == "[" else char
            end = i + 1
            while True:
                end = sql.find(close, end)
                if end == -1:
                    raise ValueError(f"unterminated {char}...{close} starting at offset {i}")
                # A doubled quote inside a string is an escaped quote, not the end.
                if close != "]" and end + 1 < n and sql[end + 1] == close:
                    end += 2
                    continue
                break
            i, meaningful = end + 1, True
        elif sql.startswith("--", i):
            newline = sql.find("\n", i)
            i = n if newline == -1 else newline + 1
        elif sql.startswith("/*", i):
            close_at = sql.find("*/", i + 2)
            i = n if close_at == -1 else close_at + 2  # SQLite lets a last comment run to the end
        elif char == ";":
            if meaningful:
                statements.append(sql[start:i].strip())
            start, meaningful, i = i + 1, False, i + 1
        else:
            meaningful = meaningful or not char.isspace()
            i += 1
    if meaningful:
        statements.append(sql[start:].strip())
    return statements


_LEADING_NOISE = re.compile(r"(?:\s+|--[^\n]*(?:\n|$)|/\*.*?(?:\*/|$))*", re.DOTALL)


def _first_word(statement: str) -> str:
    noise = _LEADING_NOISE.match(statement)
    rest = statement[noise.end() :] if noise else statement
    match = re.match(r"[A-Za-z_]+", rest)
    return match.group(0).upper() if match else ""


def _check_read_only(sql: str) -> str:
    """The single read-only statement in `sql`, or `ToolRetry` saying what is wrong."""
    try:
        statements = split_statements(sql)
    except ValueError as exc:
        raise ToolRetry(f"the SQL does not parse: {exc}") from exc
    if not statements:
        raise ToolRetry("the SQL is empty; pass one SELECT statement")
    if len(statements) > 1:
        raise ToolRetry(
            f"the SQL has {len(statements)} statements; pass exactly one SELECT statement "
            "(run several queries one at a time)"
        )
    statement = statements[0]
    # The newline ends a trailing -- comment, which would otherwise swallow the ';'.
    if not sqlite3.complete_statement(statement + "\n;"):
        raise ToolRetry("the SQL is incomplete (an unclosed string or quoted name?)")
    word = _first_word(statement)
    if word == "PRAGMA":
        match = re.match(r"\s*PRAGMA\s+(?:main\.)?(\w+)\s*(=)?", statement, re.IGNORECASE)
        if match and match.group(1).lower() in _READ_PRAGMAS and not match.group(2):
            return statement
        raise ToolRetry(
            "this PRAGMA is not allowed; only read-only introspection pragmas "
            f"({', '.join(sorted(_READ_PRAGMAS))}) may be used. Use describe_table instead"
        )
    if word not in _READ_KEYWORDS:
        raise ToolRetry(
            f"{word or 'this statement'} is not allowed: the database is read-only and only "
            "SELECT (or WITH ... SELECT) queries can be run"
        )
    return statement


def _authorizer(
    action: int, arg1: str | None, arg2: str | None, _db: str | None, _source: str | None
) -> int:
    if action == sqlite3.SQLITE_PRAGMA:
        readable = arg1 is not None and arg1.lower() in _READ_PRAGMAS
        return sqlite3.SQLITE_OK if readable else sqlite3.SQLITE_DENY
    if action == sqlite3.SQLITE_FUNCTION and (arg2 or "").lower() in _DENIED_FUNCTIONS:
        return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK if action in _ALLOWED_ACTIONS else sqlite3.SQLITE_DENY


def _cell(value: Any) -> Any:
    if isinstance(value, bytes):
        return f"<blob: {len(value)} bytes>"
    if isinstance(value, str) and len(value) > MAX_CELL_CHARS:
        return f"{value[:MAX_CELL_CHARS]}… [{len(value) - MAX_CELL_CHARS} more characters]"
    return value


def _quote_name(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class _Database:
    """Opens short-lived, read-only connections to one database file."""

    def __init__(self, path: Path, *, time_limit: float):
        self.path = path
        self.uri = f"{path.as_uri()}?mode=ro"
        self.time_limit = time_limit

    @contextlib.contextmanager
    def connect(self, *, untrusted: bool = False) -> Iterator[sqlite3.Connection]:
        connection = sqlite3.connect(self.uri, uri=True, timeout=5.0)
        try:
            connection.execute("PRAGMA query_only=ON")
            # Cap string and blob sizes: randomblob(2e9) would otherwise take 2 GB.
            connection.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, 10_000_000)
            deadline = time.monotonic() + self.time_limit
            # Returning True aborts the statement ("interrupted"); checked every 10k steps.
            connection.set_progress_handler(lambda: time.monotonic() > deadline, 10_000)
            if untrusted:
                connection.set_authorizer(_authorizer)
            yield connection
        except sqlite3.Error as exc:
            raise ToolRetry(_explain(exc, self.time_limit)) from exc
        finally:
            connection.close()

    def table_names(self) -> list[tuple[str, str]]:
        with self.connect() as connection:
            rows = connection.execute(
                "SELECT name, type FROM sqlite_master WHERE type IN ('table', 'view') "
                "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name"
            ).fetchall()
        return [(str(name), str(kind)) for name, kind in rows]


def _explain(exc: sqlite3.Error, time_limit: float) -> str:
    message = str(exc)
    if "interrupted" in message:
        return (
            f"the query took longer than {time_limit:g} s and was stopped; add a LIMIT, "
            "filter with WHERE, or aggregate"
        )
    if "not authorized" in message:
        return (
            "SQLite error: not authorized. The database is read-only: only SELECT queries "
            "over its tables are allowed (no ATTACH, writes, or PRAGMA changes)"
        )
    return f"SQLite error: {message}"


def sqlite_tools(
    database: str | Path, *, max_rows: int = 200, time_limit: float = 10.0
) -> list[Tool]:
    """Tools to explore a SQLite database and query it, read-only.

    Args:
        database: The database file. It is never written: connections are read-only.
        max_rows: Most rows `run_query` returns; the model is told when there were more.
        time_limit: Seconds a single query may run before it is stopped.

    Returns:
        `[list_tables, describe_table, run_query]`.

    Raises:
        UserError: (`ConfigurationError`) the file does not exist, is not a SQLite
            database, or an option is out of range.
    """
    path = Path(database).expanduser()
    if not path.is_file():
        raise ConfigurationError(
            f"sqlite_tools(database=...): {str(path)!r} does not exist or is not a file; "
            "pass the path of an existing SQLite database"
        )
    if max_rows < 1:
        raise ConfigurationError(f"sqlite_tools(max_rows=...) must be >= 1, not {max_rows}")
    if not time_limit > 0:
        raise ConfigurationError(f"sqlite_tools(time_limit=...) must be > 0, not {time_limit}")
    db = _Database(path.resolve(), time_limit=time_limit)
    try:
        db.table_names()  # fail now, not on the model's first call, if this is not SQLite
    except ToolRetry as exc:
        raise ConfigurationError(
            f"sqlite_tools(database=...): cannot read {str(path)!r} as a SQLite database "
            f"({exc.message})"
        ) from exc

    @tool
    def list_tables() -> list[dict[str, str]]:
        """List the tables and views in the database.

        Returns one `{"name": ..., "type": "table" | "view"}` per entry. Call this first,
        then describe_table to see a table's columns.
        """
        return [{"name": name, "type": kind} for name, kind in db.table_names()]

    @tool
    def describe_table(table: str) -> dict[str, Any]:
        """Describe a table or view: its columns (name, type, nullability, primary key,
        default) and its number of rows.

        Args:
            table: The table or view name, exactly as list_tables returns it.
        """
        names = {name: kind for name, kind in db.table_names()}
        if table not in names:
            folded = {name.lower(): name for name in names}
            if table.lower() not in folded:
                listed = ", ".join(names) or "(none)"
                raise ToolRetry(f"there is no table or view named {table!r}; tables: {listed}")
            table = folded[table.lower()]
        with db.connect() as connection:
            info = connection.execute(f"PRAGMA table_info({_quote_name(table)})").fetchall()
            (count,) = connection.execute(f"SELECT count(*) FROM {_quote_name(table)}").fetchone()
        columns = [
            {
                "name": name,
                "type": declared or "(none)",
                "nullable": not notnull,
                "primary_key": bool(pk),
                "default": default,
            }
            for _cid, name, declared, notnull, default, pk in info
        ]
        return {"table": table, "type": names[table], "row_count": count, "columns": columns}

    @tool
    def run_query(sql: str) -> dict[str, Any]:
        """Run one read-only SQL query (SQLite dialect) and return the rows.

        Only a single SELECT (or WITH ... SELECT, VALUES, EXPLAIN) statement is allowed;
        INSERT, UPDATE, DELETE, DROP, ATTACH, PRAGMA changes and multiple statements are
        refused. Returns `{"columns": [...], "rows": [[...], ...], "row_count": n,
        "truncated": bool}`; rows are cut at a fixed limit, so aggregate (COUNT, SUM,
        GROUP BY) or add LIMIT rather than fetching everything. Binary values are shown
        as "<blob: N bytes>".

        Args:
            sql: The query, e.g. "SELECT name, price FROM products WHERE price > 10 ORDER
                BY price DESC LIMIT 20".
        """
        statement = _check_read_only(sql)
        with db.connect(untrusted=True) as connection:
            cursor = connection.execute(statement)
            columns = [d[0] for d in cursor.description or ()]
            fetched = cursor.fetchmany(max_rows + 1)
        truncated = len(fetched) > max_rows
        rows = [[_cell(value) for value in row] for row in fetched[:max_rows]]
        result: dict[str, Any] = {
            "columns": columns,
            "rows": rows,
            "row_count": len(rows),
            "truncated": truncated,
        }
        if truncated:
            result["note"] = (
                f"only the first {max_rows} rows are shown; add LIMIT/OFFSET, a WHERE filter "
                "or an aggregate to see the rest"
            )
        return result

    return [list_tables, describe_table, run_query]
