"""`SQLiteSession`: conversation memory in a SQLite file, safe for several processes at once.

This module owns the file format (one row per message, the body as compact JSON) and the
checks that refuse a file agentkit did not write.

Every statement runs in a worker thread (`anyio.to_thread`), never on the event loop. Writes
are `BEGIN IMMEDIATE` transactions: SQLite then takes the write lock up front, so two
processes appending to one file queue up (for up to `busy_timeout`) instead of failing
midway, and the items of one `add_items` call land together or not at all.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Self, TypeVar

import anyio.to_thread

from ..errors import ConfigurationError, SessionError
from ._window import check_cap, check_session_id, decode_body, encode_items, trim_history

__all__ = ["SCHEMA_VERSION", "SQLiteSession"]

SCHEMA_VERSION = 1
"""The version of the tables below; a file with a higher one was written by a newer agentkit."""

_BUSY_TIMEOUT_S = 10.0
_MEMORY = ":memory:"
# SQLite's primary result codes: locked by another connection; not a (healthy) database.
_SQLITE_BUSY = 5
_SQLITE_CORRUPT = 11
_SQLITE_NOTADB = 26

_CREATE_SCHEMA = (
    "CREATE TABLE agentkit_schema (version INTEGER NOT NULL)",
    f"INSERT INTO agentkit_schema (version) VALUES ({SCHEMA_VERSION})",
    "CREATE TABLE agentkit_messages ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT, session_id TEXT NOT NULL,"
    " body TEXT NOT NULL, created_at REAL NOT NULL)",
    "CREATE INDEX agentkit_messages_session ON agentkit_messages (session_id, id)",
)

_T = TypeVar("_T")


@contextmanager
def _immediate(connection: sqlite3.Connection) -> Iterator[None]:
    """One write transaction that holds the write lock from its first statement."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        if connection.in_transaction:  # SQLite may already have rolled back on its own
            connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


def _use_wal(connection: sqlite3.Connection) -> None:
    """Switch to WAL, so readers go on while another process writes.

    The switch needs a moment of exclusive access, and SQLite answers "database is locked" at
    once, without waiting out `busy_timeout`, when another process is creating the schema of
    a new file: so wait here, as long as the busy timeout would.
    """
    deadline = time.monotonic() + _BUSY_TIMEOUT_S
    while True:
        try:
            connection.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode & 0xFF != _SQLITE_BUSY or time.monotonic() > deadline:
                raise
        time.sleep(0.01)


class SQLiteSession:
    """A `Session` stored in a SQLite file, kept across restarts and shared by processes.

    The connection opens on first use (or on entering the context manager). Opening an
    existing file checks, without writing to it, that it is an agentkit session database:
    the schema version, and `PRAGMA quick_check` (a read of the whole file, a fraction of a
    second for tens of megabytes). A file that fails is never recreated or changed; a new path
    or an empty file gets the schema. Several sessions (and processes) may share one file,
    each seeing only the rows of its `session_id`.

    After `close()` the session can still be used: the next call opens the file again. With
    `":memory:"` that is a new, empty database.

    Args:
        path: The database file (`str` or path-like); its folder must exist. `":memory:"`
            keeps the database in memory, private to this object.
        session_id: Which conversation in the file this object reads and writes.
        max_messages: Most messages `get_items()` returns; None for no cap.
        max_tokens: Most estimated tokens `get_items()` returns (see `estimate_tokens`);
            None for no cap.

    Raises:
        ConfigurationError: A bad `session_id` or cap.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        session_id: str = "default",
        *,
        max_messages: int | None = None,
        max_tokens: int | None = None,
    ):
        self.path = os.fspath(path)
        if not isinstance(self.path, str):
            raise ConfigurationError(f"path must be a str or a path-like of str; got {path!r}")
        self.session_id = check_session_id(session_id)
        self.max_messages = check_cap("max_messages", max_messages)
        self.max_tokens = check_cap("max_tokens", max_tokens)
        # One connection, used by one worker thread at a time.
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None

    def __repr__(self) -> str:
        return f"SQLiteSession(path={self.path!r}, session_id={self.session_id!r})"

    async def get_items(self, limit: int | None = None) -> list[dict[str, Any]]:
        """The stored window: the newest messages within the caps, oldest first.

        Args:
            limit: Also keep at most this many of the newest messages; None for no extra cap.

        Returns:
            Fresh dicts, trimmed by `trim_history` so the list never opens on a tool result.

        Raises:
            ConfigurationError: `limit` is not None and not an int >= 1.
            SessionError: The file cannot be read.
        """
        check_cap("limit", limit)
        caps = [cap for cap in (self.max_messages, limit) if cap is not None]
        most = min(caps) if caps else None

        def read(connection: sqlite3.Connection) -> list[dict[str, Any]]:
            query = "SELECT id, body FROM agentkit_messages WHERE session_id = ? ORDER BY id DESC"
            rows = connection.execute(
                query if most is None else f"{query} LIMIT ?",
                (self.session_id,) if most is None else (self.session_id, most),
            ).fetchall()
            messages = [decode_body(body, self._row(row_id)) for row_id, body in reversed(rows)]
            return trim_history(messages, max_messages=most, max_tokens=self.max_tokens)

        return await self._call(read)

    async def add_items(self, items: Sequence[Mapping[str, Any]]) -> None:
        """Append messages in one transaction: all of them, next to each other, or none.

        Args:
            items: Message dicts, oldest first, each with a string `role`.

        Raises:
            SessionError: An item is not a dict with a `role` or not JSON (nothing is
                written), or the file cannot be written.
        """
        bodies = encode_items(items)
        if not bodies:
            return
        now = time.time()
        rows = [(self.session_id, body, now) for body in bodies]

        def write(connection: sqlite3.Connection) -> None:
            with _immediate(connection):
                connection.executemany(
                    "INSERT INTO agentkit_messages (session_id, body, created_at) VALUES (?, ?, ?)",
                    rows,
                )

        await self._call(write)

    async def pop_item(self) -> dict[str, Any] | None:
        """Remove the newest message and return it; None when the session is empty."""

        def pop(connection: sqlite3.Connection) -> dict[str, Any] | None:
            with _immediate(connection):
                row = connection.execute(
                    "SELECT id, body FROM agentkit_messages WHERE session_id = ?"
                    " ORDER BY id DESC LIMIT 1",
                    (self.session_id,),
                ).fetchone()
                if row is None:
                    return None
                connection.execute("DELETE FROM agentkit_messages WHERE id = ?", (row[0],))
            return decode_body(row[1], self._row(row[0]))

        return await self._call(pop)

    async def clear(self) -> None:
        """Remove every message of this `session_id`; other sessions in the file stay."""

        def clear(connection: sqlite3.Connection) -> None:
            with _immediate(connection):
                connection.execute(
                    "DELETE FROM agentkit_messages WHERE session_id = ?", (self.session_id,)
                )

        await self._call(clear)

    def close(self) -> None:
        """Close the connection (waiting for a running call); the next call reopens it."""
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    async def aclose(self) -> None:
        """`close()`, off the event loop."""
        await anyio.to_thread.run_sync(self.close)

    def __enter__(self) -> Self:
        self._locked(lambda connection: None)  # open now, so a bad file fails here
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    async def __aenter__(self) -> Self:
        await self._call(lambda connection: None)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def _call(self, operation: Callable[[sqlite3.Connection], _T]) -> _T:
        # Not abandoned on cancellation: a write that started finishes (or rolls back) whole.
        return await anyio.to_thread.run_sync(self._locked, operation)

    def _locked(self, operation: Callable[[sqlite3.Connection], _T]) -> _T:
        with self._lock:
            if self._connection is None:
                self._connection = self._open()
            try:
                return operation(self._connection)
            except sqlite3.Error as exc:
                raise self._error(exc) from exc

    def _row(self, row_id: int) -> str:
        return f"message row {row_id} of {self.path!r}"

    def _refuse(self, why: str, advice: str = "move it aside, or pass another path") -> SessionError:
        return SessionError(
            f"{self.path!r} is not an agentkit session database: {why}. It was left unchanged; "
            f"{advice}"
        )

    def _error(self, exc: sqlite3.Error) -> SessionError:
        if exc.sqlite_errorcode & 0xFF in (_SQLITE_CORRUPT, _SQLITE_NOTADB):
            return self._refuse(f"it is not a SQLite file, or a damaged one (SQLite says: {exc})")
        return SessionError(f"session database {self.path!r} failed: {exc}")

    def _open(self) -> sqlite3.Connection:
        if self.path != _MEMORY:
            folder = os.path.dirname(os.path.abspath(self.path))
            if not os.path.isdir(folder):
                raise SessionError(
                    f"cannot open session database {self.path!r}: the folder {folder!r} does "
                    f"not exist; create it first (os.makedirs({folder!r}, exist_ok=True))"
                )
            if os.path.isdir(self.path):
                raise SessionError(
                    f"session database {self.path!r} is a folder; pass the path of a file in it"
                )
        try:
            connection = sqlite3.connect(
                self.path, timeout=_BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise SessionError(f"cannot open session database {self.path!r}: {exc}") from exc
        try:
            self._prepare(connection)
        except sqlite3.Error as exc:
            connection.close()
            raise self._error(exc) from exc
        except BaseException:
            connection.close()
            raise
        return connection

    def _prepare(self, connection: sqlite3.Connection) -> None:
        connection.execute(f"PRAGMA busy_timeout = {int(_BUSY_TIMEOUT_S * 1000)}")
        # Look before writing anything: a file that is not ours must stay byte for byte.
        if self._objects(connection):
            self._check_schema(connection)
            _use_wal(connection)
        else:
            # Journal mode cannot change inside a transaction, so it goes first.
            _use_wal(connection)
            with _immediate(connection):
                # Another process may have created the schema since we looked.
                if self._objects(connection):
                    self._check_schema(connection)
                else:
                    for statement in _CREATE_SCHEMA:
                        connection.execute(statement)
        connection.execute("PRAGMA synchronous = NORMAL")

    @staticmethod
    def _objects(connection: sqlite3.Connection) -> list[tuple[str, str]]:
        rows = connection.execute(
            "SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite~_%' ESCAPE '~'"
        ).fetchall()
        return [(str(kind), str(name)) for kind, name in rows]

    def _check_schema(self, connection: sqlite3.Connection) -> None:
        objects = self._objects(connection)
        tables = sorted(name for kind, name in objects if kind == "table")
        if "agentkit_schema" not in tables:
            found = ", ".join(tables) or "none, only " + ", ".join(f"{k} {n}" for k, n in objects)
            raise self._refuse(f"it is another program's SQLite database (tables: {found})")
        rows = connection.execute("SELECT version FROM agentkit_schema").fetchall()
        version = rows[0][0] if len(rows) == 1 else None
        if isinstance(version, int) and version > SCHEMA_VERSION:
            raise self._refuse(
                f"it has schema version {version}, written by a newer agentkit (this one reads "
                f"version {SCHEMA_VERSION})",
                "upgrade agentkit, or pass another path",
            )
        problems = [str(row[0]) for row in connection.execute("PRAGMA quick_check")]
        if problems != ["ok"]:
            detail = f"quick_check: {problems[0]}"
        elif "agentkit_messages" not in tables:
            detail = "its agentkit_messages table is missing"
        elif version != SCHEMA_VERSION:
            detail = f"agentkit_schema holds {rows!r}, not the one row ({SCHEMA_VERSION},)"
        else:
            return
        raise self._refuse(f"it is damaged ({detail})")
