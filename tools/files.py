"""`file_tools(root)`: list, read and search the files under one folder; write only if asked.

Every path the model passes is relative to `root` and must stay inside it: absolute paths
and `..` are refused, and each component is resolved (following symlinks) and checked
against the resolved root, so a symlink pointing outside is refused too. Binary files are
skipped, and reads and searches are capped so a huge file cannot flood the context.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Annotated

from pydantic import Field

from agentkit.errors import ConfigurationError, ToolRetry
from agentkit.tool import Tool, tool

__all__ = ["file_tools"]

MAX_LISTED = 500
"""Most entries `list_files` returns."""

MAX_SEARCH_FILE_BYTES = 2_000_000
"""Larger files are skipped by `search_files`."""

MAX_SCANNED = 10_000
"""`list_files` and `search_files` stop after looking at this many files."""

MAX_WRITE_CHARS = 1_000_000
"""Largest `content` `write_file` accepts."""

_SNIFF_BYTES = 8192
# Directories that are noise to a search and can be enormous.
_SKIPPED_DIRS = frozenset(
    {".git", ".hg", ".svn", "__pycache__", "node_modules", ".venv", ".mypy_cache",
     ".pytest_cache", ".ruff_cache", ".tox"}
)  # fmt: skip


class _Sandbox:
    """Maps the model's relative paths into `root`, refusing anything that leaves it."""

    def __init__(self, root: Path):
        self.root = root

    def resolve(self, path: str) -> Path:
        """The real path of `path` inside the root, or `ToolRetry` saying why not."""
        text = path.strip() or "."
        if "\x00" in text:
            raise ToolRetry("paths cannot contain NUL characters")
        pure = PurePosixPath(text.replace("\\", "/"))
        if pure.is_absolute() or Path(text).is_absolute() or Path(text).drive:
            raise ToolRetry(
                f"{path!r} is an absolute path; pass a path relative to the root folder, "
                "e.g. 'docs/readme.md'"
            )
        if ".." in pure.parts:
            raise ToolRetry(f"{path!r} leaves the root folder ('..' is not allowed)")
        # Check every prefix, so a symlinked directory that points outside is caught even
        # when a later component would lead back in.
        current = self.root
        try:
            for part in pure.parts:
                current = current / part
                self.check(current.resolve(), path)
            return current.resolve()
        except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop
            raise ToolRetry(f"{path!r} cannot be resolved: {exc}") from exc

    def check(self, real: Path, original: str) -> None:
        """Refuse `real` unless it is inside the root; `original` is for the message."""
        if not real.is_relative_to(self.root):
            raise ToolRetry(
                f"{original!r} leads outside the root folder (through a symbolic link); "
                "only files inside it can be used"
            )

    def inside(self, path: Path) -> bool:
        """Whether `path` (already under the root by name) really is inside it."""
        try:
            return path.resolve().is_relative_to(self.root)
        except (OSError, RuntimeError):  # a symlink loop
            return False

    def relative(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix() if path != self.root else "."


def _is_binary(head: bytes) -> bool:
    return b"\x00" in head


def _read_head(path: Path) -> bytes:
    with path.open("rb") as handle:
        return handle.read(_SNIFF_BYTES)


def _size_text(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    scaled = size / 1024
    unit = "KB"
    for bigger in ("MB", "GB"):
        if scaled < 1024:
            break
        scaled, unit = scaled / 1024, bigger
    return f"{scaled:.1f} {unit}"


def file_tools(root: str | Path, *, allow_write: bool = False) -> list[Tool]:
    """Tools that read (and, if allowed, write) the files under `root`.

    Args:
        root: The folder the model may see. Nothing outside it is reachable, symlinks
            included.
        allow_write: Add `write_file`. Off by default: a model that can only read
            cannot damage anything.

    Returns:
        `[list_files, read_file, search_files]`, plus `write_file` when `allow_write`.

    Raises:
        ConfigurationError: `root` does not exist or is not a folder.
    """
    base = Path(root).expanduser()
    if not base.is_dir():
        raise ConfigurationError(f"file_tools(root=...): {str(base)!r} is not an existing folder")
    sandbox = _Sandbox(base.resolve())

    @tool
    def list_files(path: str = ".", pattern: str = "*") -> str:
        """List the files and folders in a folder, one per line; folders end with "/".

        Files show their size. Use a glob `pattern` to filter: "*.md" matches names in
        the folder itself, "**/*.py" searches all subfolders too. At most 500 entries are
        returned.

        Args:
            path: The folder, relative to the root; "." is the root itself.
            pattern: A glob pattern such as "*", "*.csv" or "**/*.py".
        """
        folder = sandbox.resolve(path)
        if not folder.is_dir():
            raise ToolRetry(f"{path!r} is not a folder; use read_file for files")
        glob = pattern.strip() or "*"
        pure = PurePosixPath(glob.replace("\\", "/"))
        if pure.is_absolute() or ".." in pure.parts:
            raise ToolRetry("the pattern must be relative and cannot contain '..'")
        entries: list[Path] = []
        for entry in folder.glob(glob):
            # glob yields names under the folder; a symlink among them may point outside.
            if sandbox.inside(entry):
                entries.append(entry)
                if len(entries) > MAX_SCANNED:
                    break  # a pattern like "**/*" over a huge tree: stop, say so below
        lines: list[str] = []
        for entry in sorted(entries)[:MAX_LISTED]:
            name = sandbox.relative(entry)
            if entry.is_dir():
                lines.append(f"{name}/")
            else:
                try:
                    lines.append(f"{name} ({_size_text(entry.stat().st_size)})")
                except OSError:  # a dangling symlink, or removed since the glob saw it
                    lines.append(f"{name} (unreadable)")
        if not lines:
            return f"No entries in {sandbox.relative(folder)!r} match {glob!r}."
        if len(entries) > MAX_SCANNED:
            lines.append("[many more entries not shown; narrow the path or the pattern]")
        elif len(entries) > len(lines):
            lines.append(
                f"[{len(entries) - len(lines)} more entries not shown; narrow the pattern]"
            )
        return "\n".join(lines)

    @tool
    def read_file(path: str, max_chars: Annotated[int, Field(ge=1, le=200_000)] = 20000) -> str:
        """Read a text file and return its contents.

        Long files are cut after `max_chars` characters with a note saying how much was
        left out. Binary files (images, archives...) are refused.

        Args:
            path: The file, relative to the root, e.g. "notes/todo.md".
            max_chars: Most characters to return.
        """
        file = sandbox.resolve(path)
        if not file.exists():
            raise ToolRetry(f"{path!r} does not exist; call list_files to see what is there")
        if not file.is_file():
            raise ToolRetry(f"{path!r} is not a file; use list_files for folders")
        if _is_binary(_read_head(file)):
            raise ToolRetry(f"{path!r} is a binary file; only text files can be read")
        with file.open(encoding="utf-8", errors="replace", newline="") as handle:
            text = handle.read(max_chars + 1)
        if len(text) > max_chars:
            size = file.stat().st_size
            return (
                f"{text[:max_chars]}\n[truncated: showing the first {max_chars} characters "
                f"of a {_size_text(size)} file]"
            )
        return text

    @tool
    def search_files(
        query: str,
        path: str = ".",
        max_results: Annotated[int, Field(ge=1, le=500)] = 50,
    ) -> str:
        """Find lines containing some text (case-insensitive) in the text files of a folder.

        Searches all subfolders. Returns one match per line as `path:line: text`, e.g.
        "src/app.py:12: def main():". Binary and very large files are skipped.

        Args:
            query: The text to look for, matched as a plain substring, not a regex.
            path: The folder (or a single file) to search, relative to the root.
            max_results: Most matching lines to return.
        """
        needle = query.casefold()
        if not needle.strip():
            raise ToolRetry("the query is empty; pass the text to look for")
        start = sandbox.resolve(path)
        if not start.exists():
            raise ToolRetry(f"{path!r} does not exist; call list_files to see what is there")
        results: list[str] = []
        for file in _walk(start, sandbox):
            try:
                if file.stat().st_size > MAX_SEARCH_FILE_BYTES or _is_binary(_read_head(file)):
                    continue
                with file.open(encoding="utf-8", errors="replace") as handle:
                    for number, line in enumerate(handle, start=1):
                        if needle in line.casefold():
                            text = line.strip()
                            text = text if len(text) <= 300 else f"{text[:300]}…"
                            results.append(f"{sandbox.relative(file)}:{number}: {text}")
                            if len(results) >= max_results:
                                results.append(
                                    f"[stopped at {max_results} matches; narrow the query "
                                    "or the path]"
                                )
                                return "\n".join(results)
            except OSError:
                continue  # unreadable (permissions, vanished): skip it, search the rest
        return "\n".join(results) if results else f"No matches for {query!r}."

    @tool
    def write_file(path: str, content: str) -> str:
        """Create or overwrite a text file with `content` (UTF-8); folders are created.

        Args:
            path: The file, relative to the root, e.g. "out/summary.md".
            content: The complete new contents of the file.
        """
        if len(content) > MAX_WRITE_CHARS:
            raise ToolRetry(f"content is limited to {MAX_WRITE_CHARS} characters")
        target = sandbox.resolve(path)
        if target == sandbox.root or target.is_dir():
            raise ToolRetry(f"{path!r} is a folder; pass a file path")
        target.parent.mkdir(parents=True, exist_ok=True)
        sandbox.check(target.parent.resolve(), path)
        # O_NOFOLLOW: if a symlink appeared at the checked path since, do not write through it.
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
        try:
            descriptor = os.open(target, flags, 0o644)
        except OSError as exc:
            raise ToolRetry(f"cannot write {path!r}: {exc.strerror}") from exc
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as handle:
            handle.write(content)
        return f"Wrote {len(content)} characters to {sandbox.relative(target)}."

    tools = [list_files, read_file, search_files]
    if allow_write:
        tools.append(write_file)
    return tools


def _walk(start: Path, sandbox: _Sandbox) -> Iterator[Path]:
    """The regular files under `start` (or `start` itself), without leaving the root."""
    if start.is_file():
        yield start
        return
    seen = 0
    # followlinks=False: a symlinked folder is not entered; symlinked files are checked below.
    for folder, dirs, files in os.walk(start, followlinks=False):
        dirs[:] = sorted(d for d in dirs if d not in _SKIPPED_DIRS)
        for name in sorted(files):
            file = Path(folder) / name
            if sandbox.inside(file) and file.is_file():
                yield file
                seen += 1
                if seen >= MAX_SCANNED:
                    return
