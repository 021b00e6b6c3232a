"""`file_tools` under real races: paths swapped for symlinks out of the root while it works.

A thread swaps a path in a loop (a file for a symlink to a secret outside the root, or a
folder for a symlink to an outside folder) while the test calls the tools in another loop.
Every test asserts that no call ever escaped (no read returns the secret, no write lands
outside), and that some calls did see the swapped state, so it could have failed. Each loop
is bounded by a number of calls and by time, to stay fast on a small machine.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from agentkit.errors import ToolRetry
from agentkit.tool import Tool
from agentkit.tools.files import file_tools

CALLS = 2000
"""Most tool calls per test."""

SECONDS = 0.6
"""Most time per loop; both states show up within a few dozen calls."""

SECRET = "TOP SECRET"

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs POSIX symlinks")


@pytest.fixture(autouse=True)
def _frequent_thread_switches() -> Iterator[None]:
    # The swapper and the tool share the GIL: switch often so they interleave finely.
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    yield
    sys.setswitchinterval(previous)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """root/ with target.txt and sub/file.txt; outside/ with a secret file and folder."""
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    (root / "target.txt").write_text("inside\n")
    (root / "sub" / "file.txt").write_text("inside sub\n")
    outside = tmp_path / "outside"
    (outside / "dir").mkdir(parents=True)
    (outside / "secret.txt").write_text(f"{SECRET}\n")
    (outside / "dir" / "file.txt").write_text(f"{SECRET} in a folder\n")
    (outside / "dir" / "only-outside.txt").write_text(f"{SECRET} again\n")
    return root


def _tools(root: Path) -> dict[str, Tool]:
    return {t.name: t for t in file_tools(root, allow_write=True)}


def _snapshot(folder: Path) -> dict[str, str]:
    return {
        path.relative_to(folder).as_posix(): path.read_text()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def _exchange(a: Path, b: Path) -> None:
    """Swap two names atomically (renameat2 RENAME_EXCHANGE): no moment without either."""
    libc = ctypes.CDLL(None, use_errno=True)
    renameat2 = libc.renameat2
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p]
    renameat2.argtypes += [ctypes.c_uint]
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) != 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code))


def _can_exchange(tmp_path: Path) -> bool:
    (tmp_path / "probe-a").mkdir()
    (tmp_path / "probe-b").symlink_to("probe-a")
    try:
        _exchange(tmp_path / "probe-a", tmp_path / "probe-b")
    except (OSError, AttributeError):  # not Linux, or an old kernel or libc
        return False
    return True


@contextlib.contextmanager
def _swapping(swap: Callable[[], None]) -> Iterator[list[BaseException]]:
    """Run `swap` in a loop in a thread until the block ends.

    Yields the list of what the thread raised (it stops at the first), for the test to
    check after its own assertions: a tool that escaped can also break the swapping.
    """
    stop = threading.Event()
    failures: list[BaseException] = []

    def loop() -> None:
        try:
            while not stop.is_set():
                swap()
        except BaseException as error:  # reported to the test, not lost in the thread
            failures.append(error)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield failures
    finally:
        stop.set()
        thread.join(timeout=10)
        assert not thread.is_alive()


def _file_swapper(root: Path, outside: Path) -> Callable[[], None]:
    """target.txt becomes a symlink to the secret, then a regular file again, atomically."""
    target, staged = root / "target.txt", root / ".staged"

    def swap() -> None:
        staged.symlink_to(outside / "secret.txt")
        os.replace(staged, target)
        staged.write_text("inside\n")
        os.replace(staged, target)

    return swap


def _folder_swapper(root: Path, outside: Path) -> Callable[[], None]:
    """sub/ is exchanged with a symlink to an outside folder, and back, atomically."""
    (root / ".sub-link").symlink_to(outside / "dir", target_is_directory=True)

    def swap() -> None:
        _exchange(root / "sub", root / ".sub-link")

    return swap


def _call(function: Callable[[], str]) -> str:
    try:
        return function()
    except ToolRetry as retry:
        return f"retry: {retry.message}"


def _run(calls: Callable[[int], str]) -> Counter[str]:
    """Call `calls(i)` up to CALLS times within SECONDS; count the outcomes by kind."""
    outcomes: Counter[str] = Counter()
    deadline = time.monotonic() + SECONDS
    for i in range(CALLS):
        if time.monotonic() > deadline:
            break
        text = calls(i)
        if SECRET in text or "only-outside" in text:
            outcomes["escaped"] += 1
        elif "leads outside the root folder" in text:
            outcomes["refused"] += 1  # saw the swapped state
        elif text.startswith("retry: "):
            outcomes["other retry"] += 1
        else:
            outcomes["inside"] += 1
    return outcomes


def test_reads_never_follow_a_file_swapped_for_a_link_out(tree: Path) -> None:
    outside = tree.parent / "outside"
    tools = _tools(tree)
    with _swapping(_file_swapper(tree, outside)) as swapper:
        outcomes = _run(lambda i: _call(lambda: tools["read_file"]("target.txt")))
    assert outcomes["escaped"] == 0, outcomes
    assert outcomes["refused"] > 0 and outcomes["inside"] > 0, outcomes
    assert not swapper, swapper


def test_writes_never_land_through_a_file_swapped_for_a_link_out(tree: Path) -> None:
    outside = tree.parent / "outside"
    before = _snapshot(outside)
    tools = _tools(tree)
    with _swapping(_file_swapper(tree, outside)) as swapper:
        outcomes = _run(lambda i: _call(lambda: tools["write_file"]("target.txt", f"w{i}")))
    assert _snapshot(outside) == before
    assert outcomes["refused"] > 0 and outcomes["inside"] > 0, outcomes
    assert not swapper, swapper


def test_reads_never_follow_a_folder_swapped_for_a_link_out(tree: Path) -> None:
    if not _can_exchange(tree.parent):
        pytest.skip("needs renameat2(RENAME_EXCHANGE)")
    outside = tree.parent / "outside"
    tools = _tools(tree)
    with _swapping(_folder_swapper(tree, outside)) as swapper:
        outcomes = _run(lambda i: _call(lambda: tools["read_file"]("sub/file.txt")))
    assert outcomes["escaped"] == 0, outcomes
    assert outcomes["refused"] > 0 and outcomes["inside"] > 0, outcomes
    assert not swapper, swapper


def test_writes_never_land_in_a_folder_swapped_for_a_link_out(tree: Path) -> None:
    if not _can_exchange(tree.parent):
        pytest.skip("needs renameat2(RENAME_EXCHANGE)")
    outside = tree.parent / "outside"
    before = _snapshot(outside)
    tools = _tools(tree)
    with _swapping(_folder_swapper(tree, outside)) as swapper:
        # Every other call creates a folder too: the link sits on the path write_file makes.
        outcomes = _run(
            lambda i: _call(
                lambda: tools["write_file"](f"sub/d{i}/f.txt" if i % 2 else f"sub/{i}.txt", "w")
            )
        )
    assert _snapshot(outside) == before
    assert outcomes["refused"] > 0 and outcomes["inside"] > 0, outcomes
    assert not swapper, swapper


def test_listing_and_searching_never_enter_a_folder_swapped_for_a_link_out(tree: Path) -> None:
    if not _can_exchange(tree.parent):
        pytest.skip("needs renameat2(RENAME_EXCHANGE)")
    outside = tree.parent / "outside"
    tools = _tools(tree)

    def calls(i: int) -> str:
        if i % 3 == 0:
            return _call(lambda: tools["list_files"]("sub"))
        if i % 3 == 1:  # through the root: the link is skipped, never entered
            return _call(lambda: tools["list_files"](".", "**/*") + tools["search_files"]("e"))
        return _call(lambda: tools["search_files"]("secret", path="sub"))

    with _swapping(_folder_swapper(tree, outside)) as swapper:
        outcomes = _run(calls)
    assert outcomes["escaped"] == 0, outcomes
    assert outcomes["refused"] > 0 and outcomes["inside"] > 0, outcomes
    assert not swapper, swapper


def test_entries_vanishing_during_a_listing_or_search_give_clean_results(tree: Path) -> None:
    # A folder whose entries come and go: the walk meets names that are gone when opened.
    churn = tree / "churn"
    churn.mkdir()
    tools = _tools(tree)
    names = [churn / f"f{n}" for n in range(30)] + [churn / f"d{n}" for n in range(10)]

    def swap() -> None:
        for path in names:
            if path.name.startswith("d"):
                path.mkdir()
                (path / "x.txt").write_text("hello\n")
            else:
                path.write_text("hello\n")
        for path in names:
            if path.name.startswith("d"):
                (path / "x.txt").unlink()
                path.rmdir()
            else:
                path.unlink()

    calls = 0
    deadline = time.monotonic() + SECONDS
    with _swapping(swap) as swapper:
        while calls < CALLS // 4 and time.monotonic() < deadline:
            for text in (
                _call(lambda: tools["list_files"](".", "**/*")),
                _call(lambda: tools["list_files"]("churn", "*/*")),
                _call(lambda: tools["search_files"]("hello", path="churn")),
            ):
                assert str(tree) not in text and tree.parent.name not in text, text
                assert not text.startswith("retry: "), text
            calls += 3
    assert calls > 0
    assert not swapper, swapper
