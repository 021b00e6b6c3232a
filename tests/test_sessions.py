"""Sessions: the protocol on both stores, safe trimming, two processes on one file, and files
that are not ours left byte for byte as they were."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentkit.errors import ConfigurationError, SessionError
from agentkit.sessions import (
    InMemorySession,
    Session,
    SQLiteSession,
    estimate_tokens,
    trim_history,
)
from agentkit.sessions._sqlite import SCHEMA_VERSION

pytestmark = pytest.mark.anyio

Message = dict[str, Any]
Factory = Callable[..., Any]


def user(text: str) -> Message:
    return {"role": "user", "content": text}


def answer(text: str) -> Message:
    return {"role": "assistant", "content": text}


def call(*ids: str) -> Message:
    return {
        "role": "assistant",
        "content": "",
        "tool_calls": [
            {"id": i, "type": "function", "function": {"name": "f", "arguments": "{}"}}
            for i in ids
        ],
    }


def result(call_id: str, content: str = "42") -> Message:
    return {"role": "tool", "tool_call_id": call_id, "content": content}


# user, a call with two results, the answer, and the next question.
CONVERSATION = [user("q1"), call("c1", "c2"), result("c1"), result("c2"), answer("a1"), user("q2")]


@pytest.fixture(params=["memory", "sqlite"])
def make(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Factory]:
    """Build sessions of one kind; every SQLite one shares one file and is closed after."""
    opened: list[SQLiteSession] = []

    def factory(session_id: str = "default", **caps: Any) -> Any:
        if request.param == "memory":
            return InMemorySession(session_id, **caps)
        session = SQLiteSession(tmp_path / "sessions.db", session_id, **caps)
        opened.append(session)
        return session

    yield factory
    for session in opened:
        session.close()


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Callable[..., SQLiteSession]]:
    opened: list[SQLiteSession] = []

    def factory(path: Any = None, session_id: str = "default", **caps: Any) -> SQLiteSession:
        session = SQLiteSession(tmp_path / "s.db" if path is None else path, session_id, **caps)
        opened.append(session)
        return session

    yield factory
    for session in opened:
        session.close()


# --------------------------------------------------------------------------------------------
# The protocol, on both stores


async def test_add_get_pop_clear_keep_order(make: Factory) -> None:
    session = make()
    assert isinstance(session, Session)
    assert await session.get_items() == []
    assert await session.pop_item() is None
    await session.add_items(CONVERSATION[:2])
    await session.add_items(CONVERSATION[2:])
    await session.add_items([])
    assert await session.get_items() == CONVERSATION
    assert await session.pop_item() == user("q2")
    assert await session.pop_item() == answer("a1")
    assert await session.get_items() == CONVERSATION[:4]
    await session.clear()
    assert await session.get_items() == []
    assert await session.pop_item() is None


async def test_copies_go_in_and_out(make: Factory) -> None:
    session = make()
    item = call("c1")
    await session.add_items([item])
    item["tool_calls"][0]["id"] = "changed"
    got = await session.get_items()
    got[0]["tool_calls"].append("junk")
    got.clear()
    assert await session.get_items() == [call("c1")]
    # Stored as JSON, like the SQLite file would: a tuple comes back a list.
    await session.add_items([{"role": "user", "content": ("a", "b")}])
    assert (await session.pop_item()) == {"role": "user", "content": ["a", "b"]}


async def test_caps_never_open_on_a_tool_result(make: Factory) -> None:
    last_five = sum(estimate_tokens(m) for m in CONVERSATION[1:])
    cases: list[tuple[dict[str, Any], int | None, list[Message]]] = [
        # The last 4 start on a tool result: both results go, the answer and question stay.
        ({"max_messages": 4}, None, CONVERSATION[4:]),
        # The last 5 start on the call: it comes with both its results.
        ({"max_messages": 5}, None, CONVERSATION[1:]),
        ({}, 3, CONVERSATION[4:]),
        ({"max_messages": 5}, 100, CONVERSATION[1:]),
        ({"max_messages": 2}, 5, CONVERSATION[4:]),
        ({"max_tokens": last_five}, None, CONVERSATION[1:]),
        ({"max_tokens": last_five - 1}, None, CONVERSATION[4:]),
        ({"max_tokens": last_five, "max_messages": 4}, 6, CONVERSATION[4:]),
    ]
    for n, (caps, limit, expected) in enumerate(cases):
        session = make(f"case {n}", **caps)
        await session.add_items(CONVERSATION)
        assert await session.get_items(limit) == expected, (caps, limit)
        # Capping only hides: everything is still stored.
        await session.add_items([user("q3")])
        assert [await session.pop_item() for _ in range(7)] == [user("q3"), *CONVERSATION[::-1]]


async def test_sessions_in_one_file_are_isolated(make: Factory) -> None:
    alice, bob = make("alice"), make("bob")
    await alice.add_items([user("from alice")])
    await bob.add_items([user("from bob")])
    await alice.add_items([answer("to alice")])
    assert await alice.get_items() == [user("from alice"), answer("to alice")]
    assert await bob.pop_item() == user("from bob")
    await alice.clear()
    assert await alice.get_items() == []
    await bob.add_items([user("again")])
    assert await bob.get_items() == [user("again")]


async def test_bad_items_store_nothing(make: Factory) -> None:
    session = make()
    await session.add_items([user("kept")])
    bad: list[tuple[Any, str]] = [
        ([user("ok"), {"content": "no role"}], "item 1 has no string 'role'"),
        ([user("ok"), {"role": 3}], "item 1 has no string 'role'"),
        ([user("ok"), user("ok"), {"role": "user", "content": object()}], "item 2 .*JSON"),
        ([{"role": "user", "content": float("nan")}], "item 0 .*JSON"),
        ([user("ok"), "hello"], "item 1 is a str"),
        (user("a single dict"), "wrap a single message in a list"),
    ]
    for items, message in bad:
        with pytest.raises(SessionError, match=message):
            await session.add_items(items)
    assert await session.get_items() == [user("kept")]


async def test_bad_caps_are_configuration_errors(make: Factory) -> None:
    bad: Any
    for bad in (0, -1, True, 1.5, "3"):
        with pytest.raises(ConfigurationError, match=r"max_messages must be .* >= 1, or None"):
            make(max_messages=bad)
        with pytest.raises(ConfigurationError, match="max_tokens"):
            make(max_tokens=bad)
        with pytest.raises(ConfigurationError, match="limit"):
            await make().get_items(limit=bad)
        with pytest.raises(ConfigurationError, match="max_tokens"):
            trim_history([], max_tokens=bad)
    with pytest.raises(ConfigurationError, match="session_id"):
        make("")


# --------------------------------------------------------------------------------------------
# SQLiteSession: the file


async def test_history_survives_a_restart(tmp_path: Path) -> None:
    path = str(tmp_path / "chat.db")
    async with SQLiteSession(path, "chat") as first:
        await first.add_items(CONVERSATION)
    async with SQLiteSession(Path(path), "chat", max_messages=5) as second:
        assert await second.get_items() == CONVERSATION[1:]
        assert await second.pop_item() == user("q2")
    with SQLiteSession(path, "chat") as third:
        assert repr(third) == f"SQLiteSession(path={path!r}, session_id='chat')"
        assert await third.get_items() == CONVERSATION[:-1]


async def test_the_file_format(db: Callable[..., SQLiteSession], tmp_path: Path) -> None:
    session = db()
    await session.add_items([user("héllo"), call("c1")])
    session.close()
    connection = sqlite3.connect(tmp_path / "s.db")
    try:
        assert connection.execute("SELECT version FROM agentkit_schema").fetchall() == [(1,)]
        rows = connection.execute(
            "SELECT session_id, body, created_at FROM agentkit_messages ORDER BY id"
        ).fetchall()
        indexes = connection.execute("PRAGMA index_list(agentkit_messages)").fetchall()
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    finally:
        connection.close()
    assert [r[1] for r in rows] == ['{"role":"user","content":"héllo"}', json.dumps(
        call("c1"), separators=(",", ":"))]
    assert all(r[0] == "default" and abs(r[2] - time.time()) < 60 for r in rows)
    assert indexes


async def test_close_reopens_lazily_and_memory_works(db: Callable[..., SQLiteSession]) -> None:
    session = db()
    await session.add_items([user("a")])
    await session.aclose()
    await session.aclose()  # twice is fine
    assert await session.get_items() == [user("a")]  # reopened
    memory = db(":memory:")
    await memory.add_items([user("m")])
    assert await memory.get_items() == [user("m")]
    memory.close()
    assert await memory.get_items() == []  # a new in-memory database


async def test_concurrent_tasks_on_one_session(db: Callable[..., SQLiteSession]) -> None:
    session = db()

    async def write(n: int) -> None:
        for i in range(5):
            await session.add_items([user(f"{n}.{i}"), answer(f"{n}.{i}")])

    async with anyio.create_task_group() as tasks:
        for n in range(10):
            tasks.start_soon(write, n)
    items = await session.get_items()
    assert len(items) == 100
    assert all(items[k]["content"] == items[k + 1]["content"] for k in range(0, 100, 2))


async def test_an_empty_file_gets_the_schema(db: Callable[..., SQLiteSession], tmp_path: Path) -> None:
    (tmp_path / "empty.db").touch()
    session = db(tmp_path / "empty.db")
    await session.add_items([user("a")])
    assert await session.get_items() == [user("a")]


async def test_a_missing_folder_is_named(tmp_path: Path) -> None:
    session = SQLiteSession(tmp_path / "no" / "such" / "s.db")
    with pytest.raises(SessionError, match=r"the folder .*such' does not exist; create it"):
        await session.get_items()
    assert not (tmp_path / "no").exists()
    with pytest.raises(SessionError, match="is a folder"):
        await SQLiteSession(tmp_path).get_items()


async def test_a_damaged_row_is_named(db: Callable[..., SQLiteSession], tmp_path: Path) -> None:
    await db().add_items([user("a")])
    connection = sqlite3.connect(tmp_path / "s.db")
    with connection:
        connection.execute("UPDATE agentkit_messages SET body = '{broken'")
    connection.close()
    with pytest.raises(SessionError, match=r"message row 1 of .* is not valid JSON"):
        await db().get_items()


async def _session_db(path: Path, messages: int = 300) -> None:
    async with SQLiteSession(path) as session:
        for i in range(messages):
            await session.add_items([user(f"message {i} " + "x" * 200)])


async def _random_bytes(path: Path) -> None:
    path.write_bytes(os.urandom(8192))


async def _text_file(path: Path) -> None:
    path.write_text("meeting notes\n" * 300)


async def _truncated(path: Path) -> None:
    await _session_db(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


async def _header_overwritten(path: Path) -> None:
    await _session_db(path)
    data = path.read_bytes()
    path.write_bytes(b"\x00" * 100 + data[100:])


async def _foreign(path: Path) -> None:
    connection = sqlite3.connect(path)
    with connection:
        connection.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
        connection.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY)")
        connection.execute("INSERT INTO invoices (total) VALUES (9.5)")
    connection.close()


async def _newer(path: Path) -> None:
    await _session_db(path, messages=2)
    connection = sqlite3.connect(path)
    with connection:
        connection.execute("UPDATE agentkit_schema SET version = ?", (SCHEMA_VERSION + 1,))
    connection.close()


@pytest.mark.parametrize(
    ("make_file", "message"),
    [
        (_random_bytes, "not an agentkit session database.*move it aside, or pass another path"),
        (_text_file, "not an agentkit session database: it is not a SQLite file"),
        (_truncated, "not an agentkit session database.*malformed"),
        (_header_overwritten, "not an agentkit session database"),
        (_foreign, r"another program's SQLite database \(tables: customers, invoices\)\. It was"),
        (_newer, r"schema version 2, written by a newer agentkit .*; upgrade agentkit"),
    ],
)
async def test_a_file_that_is_not_ours_is_refused_and_left_alone(
    tmp_path: Path, make_file: Callable[[Path], Awaitable[None]], message: str
) -> None:
    path = tmp_path / "data.db"
    await make_file(path)
    before = path.read_bytes()
    session = SQLiteSession(path)
    for attempt in (lambda: session.add_items([user("x")]), session.get_items, session.clear):
        with pytest.raises(SessionError, match=message) as caught:
            await attempt()
        assert str(path) in str(caught.value)
    if make_file is not _newer and make_file is not _foreign:
        assert isinstance(caught.value.__cause__, sqlite3.DatabaseError)
    with pytest.raises(SessionError), session:
        pass
    session.close()
    assert path.read_bytes() == before


# --------------------------------------------------------------------------------------------
# Two processes appending to one file

_WRITER = """
import sys, time, anyio
from pathlib import Path
from agentkit.sessions import SQLiteSession

path, tag, go = sys.argv[1], sys.argv[2], Path(sys.argv[3])
deadline = time.monotonic() + 30
while not go.exists() and time.monotonic() < deadline:
    time.sleep(0.005)

async def main():
    async with SQLiteSession(path, "shared") as session:
        for i in range(100):
            await session.add_items([
                {"role": "user", "content": f"{tag} {i} a"},
                {"role": "assistant", "content": f"{tag} {i} b"},
            ])
            await anyio.sleep(0.002)  # let the other process in, so the writes interleave

anyio.run(main)
"""


def test_two_processes_append_to_one_file_and_lose_nothing(tmp_path: Path) -> None:
    path, go = tmp_path / "shared.db", tmp_path / "go"
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(path), tag, str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for tag in ("P", "Q")
    ]
    go.touch()  # both are importing by now; they start together and race to create the schema
    try:
        for process in processes:
            _, stderr = process.communicate(timeout=60)
            assert process.returncode == 0, stderr.decode()
    finally:
        for process in processes:
            process.kill()
            process.wait()
    connection = sqlite3.connect(path)
    try:
        bodies = [json.loads(b) for (b,) in connection.execute(
            "SELECT body FROM agentkit_messages WHERE session_id = 'shared' ORDER BY id")]
    finally:
        connection.close()
    contents = [m["content"] for m in bodies]
    assert len(contents) == 400
    for tag in ("P", "Q"):
        expected = [f"{tag} {i} {half}" for i in range(100) for half in "ab"]
        assert [c for c in contents if c.startswith(tag)] == expected
    for k in range(0, 400, 2):  # every add_items call landed as one contiguous pair
        assert contents[k].endswith(" a") and contents[k + 1] == contents[k][:-1] + "b"


# --------------------------------------------------------------------------------------------
# trim_history properties

_roles = st.sampled_from(["system", "user", "assistant", "tool"])
_any_messages = st.lists(
    st.builds(lambda role, text: {"role": role, "content": text}, _roles, st.text(max_size=40)),
    max_size=30,
)
_caps = st.one_of(st.none(), st.integers(min_value=1, max_value=60))


@st.composite
def _conversations(draw: st.DrawFn) -> list[Message]:
    """Well-formed histories: every tool result right after the call that asked for it."""
    messages: list[Message] = []
    for turn in range(draw(st.integers(0, 12))):
        kind = draw(st.sampled_from(["user", "answer", "calls"]))
        if kind == "calls":
            ids = [f"t{turn}.{k}" for k in range(draw(st.integers(1, 3)))]
            messages.append(call(*ids))
            messages.extend(result(i, draw(st.text(max_size=30))) for i in ids)
        else:
            text = draw(st.text(max_size=30))
            messages.append(user(text) if kind == "user" else answer(text))
    return messages


def _fits(messages: list[Message], max_messages: int | None, max_tokens: int | None) -> bool:
    return (max_messages is None or len(messages) <= max_messages) and (
        max_tokens is None or sum(map(estimate_tokens, messages)) <= max_tokens
    )


@settings(max_examples=300, deadline=None)
@given(st.one_of(_any_messages, _conversations()), _caps, st.one_of(st.none(), st.integers(5, 400)))
def test_trim_history_properties(
    messages: list[Message], max_messages: int | None, max_tokens: int | None
) -> None:
    original = json.dumps(messages)
    kept = trim_history(messages, max_messages=max_messages, max_tokens=max_tokens)
    assert json.dumps(messages) == original  # the input is untouched
    start = len(messages) - len(kept)
    assert kept == messages[start:]  # a suffix
    assert not kept or kept[0]["role"] != "tool"
    assert max_messages is None or len(kept) <= max_messages
    if not _fits(kept, max_messages, max_tokens):
        # Only when the newest message alone is over the budget: it is kept alone.
        assert kept == messages[-1:] and max_tokens is not None
        assert estimate_tokens(messages[-1]) > max_tokens
    # The longest such suffix: any longer one is over a cap or opens on a tool result.
    for longer in range(start):
        suffix = messages[longer:]
        assert suffix[0]["role"] == "tool" or not _fits(suffix, max_messages, max_tokens)
    assert trim_history(kept, max_messages=max_messages, max_tokens=max_tokens) == kept


@settings(max_examples=200, deadline=None)
@given(_conversations(), _caps, st.one_of(st.none(), st.integers(5, 400)))
def test_trim_history_keeps_every_result_with_its_call(
    messages: list[Message], max_messages: int | None, max_tokens: int | None
) -> None:
    kept = trim_history(messages, max_messages=max_messages, max_tokens=max_tokens)
    called: set[str] = set()
    for message in kept:
        if message["role"] == "tool":
            assert message["tool_call_id"] in called
        called.update(c["id"] for c in message.get("tool_calls", []))


def test_estimate_tokens_is_a_quarter_of_the_json_plus_four() -> None:
    message = user("x" * 23)  # {"role":"user","content":"xxx..."} is 50 characters
    assert estimate_tokens(message) == 13 + 4
    assert estimate_tokens({"role": "user", "content": object()}) > 4  # never fails
    huge = user("y" * 4000)
    assert trim_history([user("a"), huge], max_tokens=10) == [huge]  # over, but the newest
    assert trim_history([huge, result("c1")], max_tokens=10) == []
