"""`sqlite_tools`: exploring and querying a database, and every kind of write refused."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import anyio
import pytest

from agentkit.errors import ToolRetry, UserError
from agentkit.tool import Tool
from agentkit.tools.sqlite import split_statements, sqlite_tools


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "shop.db"
    with sqlite3.connect(path) as connection:
        connection.executescript(
            """
            CREATE TABLE products (
                id INTEGER PRIMARY KEY,
                name TEXT NOT NULL,
                price REAL DEFAULT 0,
                photo BLOB
            );
            CREATE TABLE "odd;name" (x INTEGER);
            CREATE VIEW cheap AS SELECT name, price FROM products WHERE price < 5;
            """
        )
        connection.executemany(
            "INSERT INTO products (name, price, photo) VALUES (?, ?, ?)",
            [(f"item {i:03}", i * 1.5, b"\x00\x01" if i == 1 else None) for i in range(1, 501)],
        )
    connection.close()
    return path


def _tools(path: Path, **options: Any) -> dict[str, Tool]:
    return {t.name: t for t in sqlite_tools(path, **options)}


def _count(path: Path) -> int:
    connection = sqlite3.connect(path)
    try:
        return int(connection.execute("SELECT count(*) FROM products").fetchone()[0])
    finally:
        connection.close()


def test_missing_or_invalid_database_is_a_user_error_at_factory_time(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="does not exist"):
        sqlite_tools(tmp_path / "missing.db")
    assert not (tmp_path / "missing.db").exists()  # read-only: never created
    (tmp_path / "notes.txt").write_text("this is not a database at all, just some text" * 50)
    with pytest.raises(UserError, match=r"cannot read .* as a SQLite database"):
        sqlite_tools(tmp_path / "notes.txt")
    with pytest.raises(UserError, match="max_rows"):
        sqlite_tools(tmp_path / "notes.txt", max_rows=0)


def test_list_and_describe_tables(database: Path) -> None:
    tools = _tools(database)
    assert set(tools) == {"list_tables", "describe_table", "run_query"}
    assert tools["list_tables"]() == [
        {"name": "cheap", "type": "view"},
        {"name": "odd;name", "type": "table"},
        {"name": "products", "type": "table"},
    ]
    described = tools["describe_table"]("products")
    assert described["row_count"] == 500
    assert described["type"] == "table"
    assert described["columns"] == [
        {"name": "id", "type": "INTEGER", "nullable": True, "primary_key": True, "default": None},
        {"name": "name", "type": "TEXT", "nullable": False, "primary_key": False, "default": None},
        {"name": "price", "type": "REAL", "nullable": True, "primary_key": False, "default": "0"},
        {"name": "photo", "type": "BLOB", "nullable": True, "primary_key": False, "default": None},
    ]
    assert tools["describe_table"]("PRODUCTS")["table"] == "products"
    assert tools["describe_table"]("cheap")["row_count"] == 3
    assert tools["describe_table"]("odd;name")["row_count"] == 0  # quoted safely


def test_describe_unknown_table_lists_the_tables(database: Path) -> None:
    with pytest.raises(ToolRetry, match="no table or view named 'orders'; tables: cheap"):
        _tools(database)["describe_table"]("orders")
    with pytest.raises(ToolRetry, match="no table or view named"):
        _tools(database)["describe_table"]('products"; DROP TABLE products; --')
    assert _count(database) == 500


def test_run_query(database: Path) -> None:
    run_query = _tools(database)["run_query"]
    result = run_query("SELECT name, price FROM products WHERE price > 747 ORDER BY price")
    assert result == {
        "columns": ["name", "price"],
        "rows": [["item 499", 748.5], ["item 500", 750.0]],
        "row_count": 2,
        "truncated": False,
    }
    assert run_query("SELECT count(*) AS n FROM cheap")["rows"] == [[3]]
    assert run_query("SELECT photo FROM products WHERE id = 1")["rows"] == [["<blob: 2 bytes>"]]
    assert run_query("  select 'a;b' as x; -- trailing comment")["rows"] == [["a;b"]]
    assert run_query("WITH t(n) AS (VALUES (1), (2)) SELECT sum(n) FROM t")["rows"] == [[3]]
    assert run_query("PRAGMA table_info(products)")["row_count"] == 4


def test_run_query_limits_rows(database: Path) -> None:
    run_query = _tools(database, max_rows=10)["run_query"]
    result = run_query("SELECT id FROM products ORDER BY id")
    assert result["row_count"] == 10
    assert result["rows"] == [[i] for i in range(1, 11)]
    assert result["truncated"] is True
    assert "only the first 10 rows" in result["note"]
    assert _tools(database)["run_query"]("SELECT id FROM products")["row_count"] == 200


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("DELETE FROM products", "DELETE is not allowed: the database is read-only"),
        ("DROP TABLE products", "DROP is not allowed"),
        ("INSERT INTO products (name) VALUES ('x')", "INSERT is not allowed"),
        ("UPDATE products SET price = 0", "UPDATE is not allowed"),
        ("REPLACE INTO products (id, name) VALUES (1, 'x')", "REPLACE is not allowed"),
        ("ATTACH DATABASE '/tmp/x.db' AS x", "ATTACH is not allowed"),
        ("ATTACH ':memory:' AS x", "ATTACH is not allowed"),
        ("CREATE TABLE t (x)", "CREATE is not allowed"),
        ("VACUUM INTO '/tmp/copy.db'", "VACUUM is not allowed"),
        ("BEGIN", "BEGIN is not allowed"),
        ("/* hi */ delete from products", "DELETE is not allowed"),
        ("SELECT 1; DROP TABLE products", "has 2 statements; pass exactly one"),
        ("SELECT 1; SELECT 2", "has 2 statements"),
        ("SELECT 1;;; DELETE FROM products;", "has 2 statements"),
        ("PRAGMA query_only = OFF", "this PRAGMA is not allowed"),
        ("PRAGMA user_version = 7", "this PRAGMA is not allowed"),
        ("PRAGMA journal_mode", "this PRAGMA is not allowed"),
        ("SELECT 'unterminated", "does not parse: unterminated"),
        ("", "the SQL is empty"),
        ("-- only a comment", "the SQL is empty"),
    ],
)
def test_writes_and_tricks_are_refused(database: Path, sql: str, message: str) -> None:
    with pytest.raises(ToolRetry) as info:
        _tools(database)["run_query"](sql)
    assert message in info.value.message
    assert _count(database) == 500
    assert {t["name"] for t in _tools(database)["list_tables"]()} == {
        "cheap",
        "odd;name",
        "products",
    }


@pytest.mark.parametrize(
    "sql",
    [
        # Past the keyword check; SQLite's authorizer (and mode=ro) still refuse them.
        "WITH x AS (SELECT 1) DELETE FROM products",
        "WITH x AS (SELECT 1) INSERT INTO products (name) SELECT 'y' FROM x",
        "EXPLAIN DELETE FROM products",
        "SELECT load_extension('/tmp/evil.so')",
    ],
)
def test_the_authorizer_backs_up_the_keyword_check(database: Path, sql: str) -> None:
    with pytest.raises(ToolRetry, match="not authorized"):
        _tools(database)["run_query"](sql)
    assert _count(database) == 500


def test_sqlite_errors_become_retries(database: Path) -> None:
    run_query = _tools(database)["run_query"]
    with pytest.raises(ToolRetry, match="SQLite error: no such table: orders"):
        run_query("SELECT * FROM orders")
    with pytest.raises(ToolRetry, match="SQLite error: no such column: colour"):
        run_query("SELECT colour FROM products")
    with pytest.raises(ToolRetry, match=r"SQLite error: .*syntax error"):
        run_query("SELECT FROM WHERE")


def test_runaway_queries_are_stopped(database: Path) -> None:
    run_query = _tools(database, time_limit=0.2)["run_query"]
    endless = (
        "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c) SELECT count(*) FROM c"
    )
    with pytest.raises(ToolRetry, match=r"took longer than 0\.2 s and was stopped"):
        run_query(endless)
    with pytest.raises(ToolRetry, match="too big"):
        run_query("SELECT length(randomblob(100000000))")


def test_the_database_file_is_not_modified(database: Path) -> None:
    before = database.read_bytes()
    tools = _tools(database)
    tools["list_tables"]()
    tools["describe_table"]("products")
    tools["run_query"]("SELECT * FROM products")
    assert database.read_bytes() == before


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT 1", ["SELECT 1"]),
        ("SELECT 1;", ["SELECT 1"]),
        ("SELECT ';' ; SELECT 2", ["SELECT ';'", "SELECT 2"]),
        ("SELECT 'it''s;' ", ["SELECT 'it''s;'"]),
        ('SELECT "a;b" FROM [c;d] JOIN `e;f`', ['SELECT "a;b" FROM [c;d] JOIN `e;f`']),
        ("SELECT 1 -- ; not a split\n", ["SELECT 1 -- ; not a split"]),
        ("SELECT /* ; */ 1", ["SELECT /* ; */ 1"]),
        ("; ; -- nothing\n/* at all */;", []),
        ("SELECT 1; /* c */ ; SELECT 2", ["SELECT 1", "SELECT 2"]),
    ],
)
def test_split_statements(sql: str, expected: list[str]) -> None:
    assert split_statements(sql) == expected


def test_split_statements_rejects_unterminated_quotes() -> None:
    for sql in ("SELECT 'abc", 'SELECT "abc', "SELECT [abc", "SELECT 'it''s"):
        with pytest.raises(ValueError, match="unterminated"):
            split_statements(sql)


@pytest.mark.anyio
async def test_tools_run_in_worker_threads_through_invoke(database: Path) -> None:
    tools = _tools(database, max_rows=3)
    with anyio.fail_after(5):
        result = await tools["run_query"].invoke({"sql": "SELECT id FROM products"})
        assert result["rows"] == [[1], [2], [3]]
        async with anyio.create_task_group() as group:  # concurrent calls, own connections
            for _ in range(5):
                group.start_soon(tools["describe_table"].invoke, {"table": "products"})
    assert tools["run_query"].serialize(result).startswith('{"columns":["id"]')
