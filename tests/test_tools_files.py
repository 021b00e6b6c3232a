"""`file_tools`: listing, reading and searching inside a root, and every way out refused."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from agentkit.errors import ConfigurationError, ToolArgumentsError, ToolRetry, UserError
from agentkit.tool import Tool
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
