"""`file_tools`: listing, reading and searching inside a root, and every way out refused."""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest

from agentkit.errors import ConfigurationError, ToolArgumentsError, ToolRetry, UserError
from agentkit.tool import Tool
from agentkit.tools import files as files_module
from agentkit.tools._safepath import describe_os_error
from agentkit.tools.files import file_tools


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """root/ with text, a subfolder, a binary file; outside/ with a secret beside it."""
    root = tmp_path / "root"
    (root / "docs" / "deep").mkdir(parents=True)
    (root / "README.md").write_text("# Project\nHello World\nsecond line\n", encoding="utf-8")
    (root / "docs" / "guide.md").write_text("Install it.\nSay hello to the world.\n")
    (root / "docs" / "deep" / "notes.txt").write_text("nothing here\nHELLO again\n")
    (root / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00hello")
    (root / ".git").mkdir()
    (root / ".git" / "config").write_text("hello from git internals\n")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("hello TOP SECRET\n")
    return root


def _tools(root: Path, **options: bool) -> dict[str, Tool]:
    return {t.name: t for t in file_tools(root, **options)}


def test_write_is_off_by_default(tree: Path) -> None:
    assert set(_tools(tree)) == {"list_files", "read_file", "search_files"}
    assert set(_tools(tree, allow_write=True)) == {
        "list_files", "read_file", "search_files", "write_file"
    }  # fmt: skip


def test_missing_root_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="not an existing folder"):
        file_tools(tmp_path / "nope")
    assert issubclass(ConfigurationError, UserError)


def test_list_files(tree: Path) -> None:
    list_files = _tools(tree)["list_files"]
    listing = list_files().splitlines()
    assert listing == [".git/", "README.md (34 bytes)", "docs/", "image.png (15 bytes)"]
    assert list_files("docs") == "docs/deep/\ndocs/guide.md (36 bytes)"
    assert list_files(".", "**/*.md").splitlines() == [
        "README.md (34 bytes)",
        "docs/guide.md (36 bytes)",
    ]
    assert "No entries" in list_files("docs", "*.csv")


def test_read_file(tree: Path) -> None:
    read_file = _tools(tree)["read_file"]
    assert read_file("README.md") == "# Project\nHello World\nsecond line\n"
    assert read_file("docs/deep/notes.txt") == "nothing here\nHELLO again\n"
    assert read_file("./README.md") == read_file("README.md")


def test_read_file_caps_the_size(tree: Path) -> None:
    (tree / "big.txt").write_text("x" * 5000)
    text = _tools(tree)["read_file"]("big.txt", max_chars=100)
    assert text.startswith("x" * 100 + "\n[truncated: showing the first 100 characters")
    assert "4.9 KB" in text


@pytest.mark.anyio
async def test_read_file_limits_max_chars_through_the_schema(tree: Path) -> None:
    with anyio.fail_after(5), pytest.raises(ToolArgumentsError, match="max_chars"):
        await _tools(tree)["read_file"].invoke({"path": "README.md", "max_chars": 10**9})


def test_read_file_refuses_binary_and_folders_and_missing_files(tree: Path) -> None:
    read_file = _tools(tree)["read_file"]
    with pytest.raises(ToolRetry, match=r"'image\.png' is a binary file"):
        read_file("image.png")
    with pytest.raises(ToolRetry, match="is not a file; use list_files"):
        read_file("docs")
    with pytest.raises(ToolRetry, match="does not exist; call list_files"):
        read_file("missing.md")


def test_search_files(tree: Path) -> None:
    search = _tools(tree)["search_files"]
    assert search("hello").splitlines() == [
        "README.md:2: Hello World",
        "docs/guide.md:2: Say hello to the world.",
        "docs/deep/notes.txt:2: HELLO again",
    ]  # case-insensitive; the binary file, .git and the outside folder are not searched
    assert search("hello", path="docs/deep") == "docs/deep/notes.txt:2: HELLO again"
    assert search("hello", path="README.md") == "README.md:2: Hello World"
    assert search("no such text") == "No matches for 'no such text'."
    limited = search("hello", max_results=1).splitlines()
    assert limited == [
        "README.md:2: Hello World",
        "[stopped at 1 matches; narrow the query or the path]",
    ]
    with pytest.raises(ToolRetry, match="empty"):
        search("  ")


# --------------------------------------------------------------------------------------------
# Escapes
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("../outside/secret.txt", "leaves the root folder ('..' is not allowed)"),
        ("docs/../../outside/secret.txt", "leaves the root folder"),
        ("..", "leaves the root folder"),
        ("..\\outside\\secret.txt", "leaves the root folder"),
        ("/etc/passwd", "is an absolute path; pass a path relative to the root"),
        ("README.md\x00.png", "NUL"),
    ],
)
def test_path_escapes_are_refused(tree: Path, path: str, message: str) -> None:
    tools = _tools(tree, allow_write=True)
    for name, call in [
        ("read_file", lambda: tools["read_file"](path)),
        ("list_files", lambda: tools["list_files"](path)),
        ("search_files", lambda: tools["search_files"]("hello", path=path)),
        ("write_file", lambda: tools["write_file"](path, "pwned")),
    ]:
        with pytest.raises(ToolRetry) as info:
            call()
        assert message in info.value.message, name
    assert (tree.parent / "outside" / "secret.txt").read_text() == "hello TOP SECRET\n"


def test_the_absolute_path_of_the_root_itself_is_refused(tree: Path) -> None:
    with pytest.raises(ToolRetry, match="absolute path"):
        _tools(tree)["read_file"](str(tree / "README.md"))


def test_symlinks_pointing_outside_are_refused(tree: Path) -> None:
    outside = tree.parent / "outside"
    (tree / "escape").symlink_to(outside, target_is_directory=True)
    (tree / "docs" / "secret-link.txt").symlink_to(outside / "secret.txt")
    tools = _tools(tree, allow_write=True)

    for path in ("escape/secret.txt", "docs/secret-link.txt", "escape"):
        with pytest.raises(ToolRetry, match="leads outside the root folder"):
            tools["read_file"](path)
    with pytest.raises(ToolRetry, match="leads outside the root folder"):
        tools["list_files"]("escape")
    with pytest.raises(ToolRetry, match="leads outside the root folder"):
        tools["search_files"]("secret", path="escape")
    with pytest.raises(ToolRetry, match="leads outside the root folder"):
        tools["write_file"]("escape/new.txt", "pwned")
    with pytest.raises(ToolRetry, match="leads outside the root folder"):
        tools["write_file"]("docs/secret-link.txt", "pwned")

    # Listing and searching from the root skip the links instead of following them.
    listing = tools["list_files"](".", "**/*")
    assert "secret" not in listing and "escape" not in listing
    assert "TOP SECRET" not in tools["search_files"]("secret")
    assert "escape/secret.txt" not in tools["list_files"](".", "escape/*")
    assert not (outside / "new.txt").exists()
    assert (outside / "secret.txt").read_text() == "hello TOP SECRET\n"


def test_a_symlink_leading_out_and_back_in_is_refused(tree: Path) -> None:
    # escape/../root/README.md resolves inside the root, but only by leaving it first.
    (tree / "escape").symlink_to(tree.parent / "outside", target_is_directory=True)
    with pytest.raises(ToolRetry, match=r"'\.\.' is not allowed"):
        _tools(tree)["read_file"]("escape/../root/README.md")


def test_symlinks_inside_the_root_are_followed(tree: Path) -> None:
    (tree / "guide-link.md").symlink_to(tree / "docs" / "guide.md")
    (tree / "dangling.md").symlink_to(tree / "gone.md")
    tools = _tools(tree)
    assert tools["read_file"]("guide-link.md") == "Install it.\nSay hello to the world.\n"
    assert "dangling.md (unreadable)" in tools["list_files"]()
    with pytest.raises(ToolRetry, match="does not exist"):
        tools["read_file"]("dangling.md")


def test_list_pattern_cannot_climb_out(tree: Path) -> None:
    list_files = _tools(tree)["list_files"]
    for pattern in ("../*", "/etc/*", "docs/../../*"):
        with pytest.raises(ToolRetry, match="relative and cannot contain"):
            list_files(".", pattern)


# --------------------------------------------------------------------------------------------
# Writing, when enabled
# --------------------------------------------------------------------------------------------


def test_write_file_creates_folders_inside_the_root(tree: Path) -> None:
    tools = _tools(tree, allow_write=True)
    assert tools["write_file"]("out/summary.md", "# Summary\n") == (
        "Wrote 10 characters to out/summary.md."
    )
    assert (tree / "out" / "summary.md").read_text() == "# Summary\n"
    assert tools["read_file"]("out/summary.md") == "# Summary\n"
    tools["write_file"]("out/summary.md", "replaced")
    assert (tree / "out" / "summary.md").read_text() == "replaced"
    with pytest.raises(ToolRetry, match="is a folder"):
        tools["write_file"]("docs", "x")
    with pytest.raises(ToolRetry, match="is a folder"):
        tools["write_file"](".", "x")


@pytest.mark.anyio
async def test_tools_run_through_invoke(tree: Path) -> None:
    tools = _tools(tree)
    with anyio.fail_after(5):
        assert (
            await tools["search_files"].invoke({"query": "install"})
            == "docs/guide.md:1: Install it."
        )


def test_a_relative_root_is_fixed_at_creation(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tree.parent)
    read_file = _tools(Path("root"))["read_file"]
    monkeypatch.chdir(tree / "docs")  # a later chdir does not move the root
    assert read_file("README.md").startswith("# Project")


# --------------------------------------------------------------------------------------------
# Symbolic links inside the root: followed by hand, only while they stay inside
# --------------------------------------------------------------------------------------------


def test_in_root_links_are_followed_relative_absolute_and_chained(tree: Path) -> None:
    (tree / "rel.md").symlink_to("docs/guide.md")
    (tree / "chain.md").symlink_to("rel.md")
    (tree / "docs-link").symlink_to("docs", target_is_directory=True)
    (tree / "docs" / "up.txt").symlink_to("../README.md")
    (tree / "here").symlink_to(".", target_is_directory=True)
    (tree / "abs-dir").symlink_to(tree / "docs" / "deep", target_is_directory=True)
    tools = _tools(tree, allow_write=True)
    guide = "Install it.\nSay hello to the world.\n"
    assert tools["read_file"]("rel.md") == guide
    assert tools["read_file"]("chain.md") == guide
    assert tools["read_file"]("docs-link/guide.md") == guide
    assert tools["read_file"]("here/here/docs-link/guide.md") == guide
    assert tools["read_file"]("docs/up.txt").startswith("# Project")
    assert tools["read_file"]("abs-dir/notes.txt") == "nothing here\nHELLO again\n"
    assert tools["list_files"]("docs-link") == (
        "docs/deep/\ndocs/guide.md (36 bytes)\ndocs/up.txt (34 bytes)"
    )  # named by where they really are
    assert "docs-link/guide.md (36 bytes)" in tools["list_files"](".", "docs-link/*")
    assert tools["search_files"]("hello", path="abs-dir") == "docs/deep/notes.txt:2: HELLO again"
    # Writing through a link writes its target, inside the root.
    assert tools["write_file"]("docs-link/new.md", "x") == "Wrote 1 characters to docs/new.md."
    assert (tree / "docs" / "new.md").read_text() == "x"


def test_links_that_leave_the_root_even_to_come_back_are_refused(tree: Path) -> None:
    root_name = tree.name
    (tree / "back").symlink_to(f"../{root_name}/docs", target_is_directory=True)
    (tree / "slash").symlink_to("/", target_is_directory=True)
    (tree / "docs" / "away.txt").symlink_to("../../outside/secret.txt")
    tools = _tools(tree, allow_write=True)
    for path in ("back/guide.md", "slash/etc/passwd", "docs/away.txt", "slash"):
        with pytest.raises(ToolRetry, match="leads outside the root folder"):
            tools["read_file"](path)
    with pytest.raises(ToolRetry, match="leads outside the root folder"):
        tools["write_file"]("back/new.md", "x")
    # Listing and searching skip them; a glob never walks through the link to /.
    assert "slash" not in tools["list_files"](".", "*")
    assert tools["list_files"](".", "slash/**") == "No entries in '.' match 'slash/**'."
    assert "TOP SECRET" not in tools["search_files"]("secret")
    assert not (tree / "docs" / "new.md").exists()


def test_fifos_are_refused_without_blocking(tree: Path) -> None:
    os.mkfifo(tree / "pipe")
    tools = _tools(tree, allow_write=True)
    with pytest.raises(ToolRetry, match="not a regular file"):
        tools["read_file"]("pipe")
    with pytest.raises(ToolRetry, match="not a regular file"):
        tools["write_file"]("pipe", "x")
    with pytest.raises(ToolRetry, match="not a regular file or a folder"):
        tools["search_files"]("x", path="pipe")
    assert "README.md:2: Hello World" in tools["search_files"]("hello")  # the pipe is skipped


# --------------------------------------------------------------------------------------------
# Errors name the relative path and never the host's
# --------------------------------------------------------------------------------------------


def _assert_no_host_path(text: str, tree: Path) -> None:
    for host in (str(tree), str(tree.resolve()), tree.parent.name, str(tree.parent.parent)):
        assert host not in text, text
    assert "Errno" not in text and "Traceback" not in text, text


def _assert_clean(message: str, tree: Path, path: str) -> None:
    """`message` names `path` (its start, for long ones) and nothing of the host's."""
    _assert_no_host_path(message, tree)
    assert repr(path[:80])[:-1] in message, message


def _every_tool(tools: dict[str, Tool], path: str) -> list[Callable[[], object]]:
    return [
        lambda: tools["read_file"](path),
        lambda: tools["list_files"](path),
        lambda: tools["search_files"]("hello", path=path),
        lambda: tools["write_file"](path, "x"),
    ]


def _messages(tools: dict[str, Tool], path: str) -> list[str]:
    messages = []
    for call in _every_tool(tools, path):
        with pytest.raises(ToolRetry) as info:
            call()
        messages.append(info.value.message)
    return messages


@pytest.mark.parametrize("path", ["loop", "ping", "self-abs", "loop/inner.txt", "docs/loop2"])
def test_symlink_loops_give_a_clean_error(tree: Path, path: str) -> None:
    (tree / "loop").symlink_to("loop")
    (tree / "ping").symlink_to("pong")
    (tree / "pong").symlink_to("ping")
    (tree / "self-abs").symlink_to(tree / "self-abs")
    (tree / "docs" / "loop2").symlink_to("../docs/loop2")
    for message in _messages(_tools(tree, allow_write=True), path):
        _assert_clean(message, tree, path)
        assert "symbolic links (a link loop?)" in message
    assert "loop (unreadable)" in _tools(tree)["list_files"]()


@pytest.mark.parametrize(
    "path",
    [
        "n" * 300,
        f"docs/{'n' * 256}",
        f"{'n' * 300}/x.txt",
        f"docs/{'é' * 200}",  # 200 characters, 400 bytes
        "/".join(["d"] * 300),  # deeper than the walk goes
    ],
)
def test_names_too_long_for_the_file_system_give_a_clean_error(tree: Path, path: str) -> None:
    for message in _messages(_tools(tree, allow_write=True), path):
        _assert_clean(message, tree, path)
        assert "name too long for the file system" in message
        assert len(message) < 400  # the name is shortened, not repeated in full
    assert not (tree / "d").exists()  # refused before write_file created any folder


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("docs", "is a folder; pass a file path"),  # write_file
        ("docs/deep", "is a folder; pass a file path"),
        ("README.md/x.txt", "is a file, not a folder"),
        ("docs/guide.md/deeper/x.txt", "is a file, not a folder"),
    ],
)
def test_a_folder_where_a_file_is_expected_and_back(tree: Path, path: str, message: str) -> None:
    tools = _tools(tree, allow_write=True)
    with pytest.raises(ToolRetry) as info:
        tools["write_file"](path, "x")
    _assert_clean(info.value.message, tree, path)
    assert message in info.value.message
    if "/x.txt" in path:  # a file used as a folder fails the same way for every tool
        for text in _messages(tools, path):
            _assert_clean(text, tree, path)
            assert "is a file, not a folder" in text
    else:
        with pytest.raises(ToolRetry, match="is not a file; use list_files") as read:
            tools["read_file"](path)
        _assert_clean(read.value.message, tree, path)
    with pytest.raises(ToolRetry, match="is not a folder; use read_file") as listing:
        tools["list_files"]("README.md")
    _assert_clean(listing.value.message, tree, "README.md")


def test_a_vanished_entry_while_globbing_through_links(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Deterministic form of the race: every entry disappears right after the scan saw it.
    (tree / "slash").symlink_to("/", target_is_directory=True)
    (tree / "docs-link").symlink_to("docs", target_is_directory=True)
    scanned: Callable[[int], list[os.DirEntry[str]]] = files_module._entries

    def vanishing(folder: int) -> list[os.DirEntry[str]]:
        entries = scanned(folder)
        for entry in entries:
            if entry.name in ("guide.md", "notes.txt", "deep"):
                with contextlib.suppress(OSError):
                    os.unlink(entry.name, dir_fd=folder)
                with contextlib.suppress(OSError):
                    os.rmdir(entry.name, dir_fd=folder)
        return entries

    monkeypatch.setattr(files_module, "_entries", vanishing)
    tools = _tools(tree)
    listing = tools["list_files"](".", "**/*")
    assert "docs/guide.md (unreadable)" in listing and "slash" not in listing
    assert "docs-link/guide.md" not in tools["list_files"](".", "*/*")
    assert "guide.md" not in tools["search_files"]("hello")
    for text in (listing, tools["list_files"](".", "slash/**"), tools["search_files"]("x")):
        _assert_no_host_path(text, tree)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (errno.EACCES, "permission denied: cannot"),
        (errno.EPERM, "permission denied: cannot"),
        (errno.ENOSPC, "no space left on the device"),
        (errno.EROFS, "the file system is read-only"),
        (errno.EIO, "(EIO)"),
    ],
)
def test_permission_and_device_errors_give_a_clean_error(
    tree: Path, monkeypatch: pytest.MonkeyPatch, code: int, expected: str
) -> None:
    # Simulated: these tests may run as root, whom permissions do not stop.
    real_open = os.open

    def failing_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if os.fsdecode(path).startswith("locked"):
            raise OSError(code, os.strerror(code), str(tree / "docs" / os.fsdecode(path)))
        return real_open(path, flags, *args, **kwargs)

    tools = _tools(tree, allow_write=True)
    monkeypatch.setattr(os, "open", failing_open)
    for path in ("locked.txt", "locked-dir/x.txt", "docs/locked.md"):
        for message in _messages(tools, path):
            _assert_clean(message, tree, path)
            assert expected in message
            assert os.strerror(code) not in message


def _check_real_permission_errors(root: Path) -> None:
    (root / "README.md").write_text("# Project\nHello World\n")
    (root / "private.txt").write_text("x")
    (root / "private.txt").chmod(0)
    (root / "closed").mkdir()
    (root / "closed").chmod(0)
    tools = _tools(root, allow_write=True)
    for path in ("private.txt", "closed/x.txt"):
        with pytest.raises(ToolRetry, match="permission denied") as info:
            tools["read_file"](path)
        _assert_clean(info.value.message, root, path)
    with pytest.raises(ToolRetry, match="permission denied") as info:
        tools["write_file"]("closed/x.txt", "x")
    _assert_clean(info.value.message, root, "closed/x.txt")
    assert "README.md:2" in tools["search_files"]("hello")  # the unreadable are skipped


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_real_permission_errors_give_a_clean_error(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        root = tmp_path / "root"
        root.mkdir()
        try:
            _check_real_permission_errors(root)
        finally:
            shutil.rmtree(root, onerror=lambda *_: None)
        return
    # Root ignores permissions, so a forked child drops to `nobody` (65534) for the checks,
    # in a folder of its own under /tmp (pytest's folders are closed to other users).
    base = Path(tempfile.mkdtemp(prefix="agentkit-perm-", dir="/tmp"))
    base.chmod(0o755)
    root = base / "work" / "root"
    root.mkdir(parents=True)
    os.chown(root, 65534, 65534)
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through the pipe
        os.close(reader)
        code = 0
        try:
            os.setgid(65534)
            os.setuid(65534)
            _check_real_permission_errors(root)
        except BaseException as error:  # everything goes back to the parent
            os.write(writer, repr(error).encode()[:4000])
            code = 1
        os._exit(code)
    os.close(writer)
    with os.fdopen(reader, "rb") as pipe:
        report = pipe.read().decode()
    _, status = os.waitpid(pid, 0)
    with contextlib.suppress(OSError):
        (root / "closed").chmod(0o755)
    shutil.rmtree(base)
    assert os.waitstatus_to_exitcode(status) == 0, report


def test_a_root_that_disappeared_gives_a_clean_error(tree: Path) -> None:
    tools = _tools(tree, allow_write=True)
    shutil.rmtree(tree)
    for message in _messages(tools, "README.md"):
        _assert_clean(message, tree, "README.md")


def test_describe_os_error_never_includes_the_error_text() -> None:
    host = "/srv/secret-host-path/workspace/file.txt"
    for code in [*sorted(errno.errorcode), None]:
        error = OSError(code, f"strerror text {code}", host)
        message = describe_os_error(error, "read", "notes/file.txt")
        assert "'notes/file.txt'" in message, code
        assert host not in message and "secret-host-path" not in message, code
        assert f"strerror text {code}" not in message and "Errno" not in message, code


def test_unencodable_paths_and_content_are_refused_cleanly(tree: Path) -> None:
    tools = _tools(tree, allow_write=True)
    with pytest.raises(ToolRetry, match="cannot be part of a file name"):
        tools["read_file"]("bad\ud800.txt")
    with pytest.raises(ToolRetry, match="cannot be written as UTF-8"):
        tools["write_file"]("new.txt", "bad\ud800")
    assert not (tree / "new.txt").exists()
