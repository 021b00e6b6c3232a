"""`file_tools(root)`: list, read and search the files under one folder; write only if asked.

Every path the model passes is relative to `root` and must stay inside it: absolute paths
and `..` are refused. Paths are never checked and then opened by name (a component could be
swapped for a symlink in between): every call opens the root and walks the path one
component at a time relative to the folder it has open, refusing to let the kernel follow
any link (`tools/_safepath.py`). Listing and searching read folders through those same
descriptors.

Symbolic links inside the root are followed, by hand: a link's target is read and walked
from the folder holding the link (an absolute target must name a place under the root), with
the same no-follow opens and a limit of 40 links. A link whose target leaves the root, even
to come back in, is refused when named and skipped when listing or searching.

Binary files are skipped, and reads and searches are capped so a huge file cannot flood the
context. Failures become `ToolRetry` messages that name the model's relative path and say what
to do; they never carry an exception's own text, which holds absolute host paths.
"""

from __future__ import annotations

import contextlib
import io
import os
import stat
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path, PurePosixPath
from typing import Annotated

from pydantic import Field

from agentkit.errors import ConfigurationError, ToolRetry
from agentkit.tool import Tool, tool

from ._safepath import (
    DIR_FLAGS,
    READ_FLAGS,
    WRITE_FLAGS,
    LeavesRoot,
    Root,
    describe_os_error,
    is_regular,
    shown,
    supported,
)

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

MAX_DEPTH = 64
"""`list_files` and `search_files` do not descend below this many folders under the root."""

_Parts = tuple[str, ...]


def _parts(path: str) -> _Parts:
    """The components of the model's `path`, or `ToolRetry` if it could leave the root."""
    text = path.strip() or "."
    if "\x00" in text:
        raise ToolRetry("paths cannot contain NUL characters")
    pure = PurePosixPath(text.replace("\\", "/"))
    if pure.is_absolute() or Path(text).is_absolute() or Path(text).drive:
        raise ToolRetry(
            f"{shown(path)} is an absolute path; pass a path relative to the root folder, "
            "e.g. 'docs/readme.md'"
        )
    if ".." in pure.parts:
        raise ToolRetry(f"{shown(path)} leaves the root folder ('..' is not allowed)")
    try:
        os.fsencode(text)
    except UnicodeEncodeError:  # a lone surrogate from the model's JSON
        raise ToolRetry(
            f"{shown(path)} contains characters that cannot be part of a file name"
        ) from None
    return pure.parts


def _joined(parts: _Parts) -> str:
    return "/".join(parts) or "."


@contextlib.contextmanager
def _failures(action: str, path: str) -> Iterator[None]:
    """Turn a link out of the root or an `OSError` into a `ToolRetry` about `path`."""
    try:
        yield
    except LeavesRoot:
        raise ToolRetry(
            f"{shown(path)} leads outside the root folder (through a symbolic link); "
            "only files inside it can be used"
        ) from None
    except OSError as error:
        # `from None`: the chained error's text holds the host path.
        raise ToolRetry(describe_os_error(error, action, path)) from None


def _is_binary(head: bytes) -> bool:
    return b"\x00" in head


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


@dataclass(frozen=True)
class _Entry:
    """One listed entry: `size` is None for a folder, -1 when it cannot be read."""

    parts: _Parts
    size: int | None


def _entries(folder: int) -> list[os.DirEntry[str]]:
    """The entries of the open `folder`, sorted by name; none if it cannot be read."""
    try:
        with os.scandir(folder) as scan:
            return sorted(scan, key=lambda entry: entry.name)
    except OSError:  # unreadable, or removed since it was opened
        return []


def _describe(root: Root, entry: os.DirEntry[str], parts: _Parts) -> _Entry | None:
    """`entry` for a listing; None for a link that leaves the root."""
    try:
        if entry.is_symlink():
            descriptor, _ = root.open(parts, READ_FLAGS)
            try:
                info = os.fstat(descriptor)
            finally:
                os.close(descriptor)
        else:
            info = entry.stat(follow_symlinks=False)
    except LeavesRoot:
        return None
    except OSError:  # a dangling link, a loop, or removed since the scan saw it
        return _Entry(parts, -1)
    return _Entry(parts, None if stat.S_ISDIR(info.st_mode) else info.st_size)


def _open_subfolder(root: Root, folder: int, entry: os.DirEntry[str], parts: _Parts) -> int | None:
    """A descriptor of the folder `entry` (a link only if it stays in the root), or None."""
    try:
        if entry.is_symlink():
            return root.open(parts, DIR_FLAGS)[0]
        return os.open(entry.name, DIR_FLAGS, dir_fd=folder)
    except (LeavesRoot, OSError):  # not a folder, outside, or swapped since the scan
        return None


def _glob(root: Root, folder: int, where: _Parts, pattern: _Parts) -> Generator[_Entry, None, None]:
    """The entries under the open `folder` matching `pattern`, as `Path.glob` would match.

    `**` matches this folder and every real subfolder (links to folders are not descended
    into, as `Path.glob` does not); other components are `fnmatch` patterns, case-sensitive,
    that match hidden names too.
    """
    head, rest = pattern[0], pattern[1:]
    if head == "**":
        if rest:
            yield from _glob(root, folder, where, rest)
        else:
            yield _Entry(where, None)
        # The depth cap bounds the recursion and the descriptors held open along the way.
        for entry in _entries(folder) if len(where) < MAX_DEPTH else ():
            if not entry.is_dir(follow_symlinks=False):
                continue
            try:
                child = os.open(entry.name, DIR_FLAGS, dir_fd=folder)
            except OSError:
                continue
            try:
                yield from _glob(root, child, (*where, entry.name), pattern)
            finally:
                os.close(child)
        return
    for entry in _entries(folder):
        if not fnmatchcase(entry.name, head):
            continue
        parts = (*where, entry.name)
        if not rest:
            described = _describe(root, entry, parts)
            if described is not None:
                yield described
            continue
        child_or_none = (
            _open_subfolder(root, folder, entry, parts) if len(parts) < MAX_DEPTH else None
        )
        if child_or_none is None:
            continue
        try:
            yield from _glob(root, child_or_none, parts, rest)
        finally:
            os.close(child_or_none)


def _single(parts: _Parts, descriptor: int) -> Generator[tuple[_Parts, int], None, None]:
    """The one file `search_files` was pointed at, shaped like `_files`."""
    yield parts, descriptor


def _files(root: Root, folder: int, where: _Parts) -> Generator[tuple[_Parts, int], None, None]:
    """Each regular file under the open `folder`, top-down, as (parts, open descriptor).

    The descriptor is closed when the generator moves on (or is closed). Links are followed
    only to files inside the root; folders in `_SKIPPED_DIRS` and links to folders are not
    entered.
    """
    subfolders: list[str] = []
    for entry in _entries(folder):
        parts = (*where, entry.name)
        try:
            if entry.is_symlink():
                descriptor = root.open(parts, READ_FLAGS)[0]
            elif entry.is_file(follow_symlinks=False):
                descriptor = os.open(entry.name, READ_FLAGS, dir_fd=folder)
            else:
                if (
                    entry.is_dir(follow_symlinks=False)
                    and entry.name not in _SKIPPED_DIRS
                    and len(parts) < MAX_DEPTH  # bounds the recursion and the open folders
                ):
                    subfolders.append(entry.name)
                continue
        except (LeavesRoot, OSError):  # outside, dangling, or gone: search the rest
            continue
        try:
            if is_regular(descriptor):
                yield parts, descriptor
        finally:
            os.close(descriptor)
    for name in subfolders:
        try:
            child = os.open(name, DIR_FLAGS, dir_fd=folder)
        except OSError:  # unreadable, or swapped for a link since the scan
            continue
        try:
            yield from _files(root, child, (*where, name))
        finally:
            os.close(child)


def _matches(descriptor: int, needle: str, name: str, limit: int, results: list[str]) -> None:
    """Append `name:line: text` for the lines of the open file containing `needle`."""
    with open(descriptor, "rb", closefd=False) as raw:
        if os.fstat(descriptor).st_size > MAX_SEARCH_FILE_BYTES or _is_binary(
            raw.read(_SNIFF_BYTES)
        ):
            return
        raw.seek(0)
        text = io.TextIOWrapper(raw, encoding="utf-8", errors="replace")
        for number, line in enumerate(text, start=1):
            if needle in line.casefold():
                found = line.strip()
                found = found if len(found) <= 300 else f"{found[:300]}…"
                results.append(f"{name}:{number}: {found}")
                if len(results) >= limit:
                    break
        text.detach()


def file_tools(root: str | Path, *, allow_write: bool = False) -> list[Tool]:
    """Tools that read (and, if allowed, write) the files under `root`.

    Args:
        root: The folder the model may see. Nothing outside it is reachable, symlinks
            included: links inside it are followed only while they stay inside.
        allow_write: Add `write_file`. Off by default: a model that can only read
            cannot damage anything.

    Returns:
        `[list_files, read_file, search_files]`, plus `write_file` when `allow_write`.

    Raises:
        ConfigurationError: `root` does not exist or is not a folder, or the system
            cannot open files relative to a folder without following links.
    """
    base = Path(root).expanduser()
    if not base.is_dir():
        raise ConfigurationError(f"file_tools(root=...): {str(base)!r} is not an existing folder")
    if not supported():
        raise ConfigurationError(
            "file_tools needs openat() with O_NOFOLLOW and O_DIRECTORY (Linux, macOS, BSD) "
            "to keep paths inside the root safely"
        )
    sandbox = Root(base)

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
        parts = _parts(path)
        glob = pattern.strip() or "*"
        pure = PurePosixPath(glob.replace("\\", "/"))
        if pure.is_absolute() or ".." in pure.parts:
            raise ToolRetry("the pattern must be relative and cannot contain '..'")
        if not pure.parts:
            raise ToolRetry("the pattern is empty; pass e.g. '*' or '**/*.md'")
        entries: dict[_Parts, _Entry] = {}
        with _failures("list", path):
            folder, real = sandbox.open(parts, READ_FLAGS)
            try:
                if not stat.S_ISDIR(os.fstat(folder).st_mode):
                    raise ToolRetry(f"{shown(path)} is not a folder; use read_file for files")
                # closing(): stopping early must close the descriptors the walk holds open.
                with contextlib.closing(_glob(sandbox, folder, real, pure.parts)) as found:
                    for entry in found:
                        entries.setdefault(entry.parts, entry)
                        if len(entries) > MAX_SCANNED:
                            break  # a pattern like "**/*" over a huge tree: stop, say so below
            finally:
                os.close(folder)
        lines: list[str] = []
        for key in sorted(entries)[:MAX_LISTED]:
            entry = entries[key]
            name = _joined(entry.parts)
            if entry.size is None:
                lines.append(f"{name}/")
            elif entry.size < 0:
                lines.append(f"{name} (unreadable)")
            else:
                lines.append(f"{name} ({_size_text(entry.size)})")
        if not lines:
            return f"No entries in {_joined(real)!r} match {glob!r}."
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
        parts = _parts(path)
        with _failures("read", path):
            descriptor, _ = sandbox.open(parts, READ_FLAGS)
            try:
                info = os.fstat(descriptor)
                if stat.S_ISDIR(info.st_mode):
                    raise ToolRetry(f"{shown(path)} is not a file; use list_files for folders")
                if not stat.S_ISREG(info.st_mode):
                    raise ToolRetry(
                        f"{shown(path)} is not a regular file (a pipe, socket or device); "
                        "only text files can be read"
                    )
                with open(descriptor, "rb", closefd=False) as raw:
                    if _is_binary(raw.read(_SNIFF_BYTES)):
                        raise ToolRetry(
                            f"{shown(path)} is a binary file; only text files can be read"
                        )
                    raw.seek(0)
                    decoded = io.TextIOWrapper(raw, encoding="utf-8", errors="replace", newline="")
                    text = decoded.read(max_chars + 1)
                    decoded.detach()
            finally:
                os.close(descriptor)
        if len(text) > max_chars:
            return (
                f"{text[:max_chars]}\n[truncated: showing the first {max_chars} characters "
                f"of a {_size_text(info.st_size)} file]"
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
        parts = _parts(path)
        results: list[str] = []
        with _failures("search", path):
            start, real = sandbox.open(parts, READ_FLAGS)
            try:
                mode = os.fstat(start).st_mode
                if stat.S_ISREG(mode):
                    found = _single(real, start)
                elif stat.S_ISDIR(mode):
                    found = _files(sandbox, start, real)
                else:
                    raise ToolRetry(
                        f"{shown(path)} is not a regular file or a folder; it cannot be searched"
                    )
                # closing(): stopping early must close the descriptors the walk holds open.
                with contextlib.closing(found):
                    for scanned, (name, descriptor) in enumerate(found, start=1):
                        try:
                            _matches(descriptor, needle, _joined(name), max_results, results)
                        except OSError:
                            continue  # unreadable (an I/O error): skip it, search the rest
                        if len(results) >= max_results:
                            results.append(
                                f"[stopped at {max_results} matches; narrow the query or the path]"
                            )
                            break
                        if scanned >= MAX_SCANNED:
                            break
            finally:
                os.close(start)
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
        parts = _parts(path)
        if not parts:
            raise ToolRetry(f"{shown(path)} is a folder; pass a file path")
        try:
            data = content.encode("utf-8")
        except UnicodeEncodeError:  # encoded first, so a refusal leaves no empty file behind
            raise ToolRetry(
                "content contains characters that cannot be written as UTF-8 (lone "
                "surrogates); remove them"
            ) from None
        with _failures("write", path):
            descriptor, real = sandbox.open(parts, WRITE_FLAGS, make_dirs=True)
            try:
                if not is_regular(descriptor):
                    raise ToolRetry(
                        f"{shown(path)} is not a regular file (a pipe, socket or device); "
                        "pass the path of a text file"
                    )
                with open(descriptor, "wb", closefd=False) as handle:
                    handle.write(data)
            finally:
                os.close(descriptor)
        return f"Wrote {len(content)} characters to {_joined(real)}."

    tools = [list_files, read_file, search_files]
    if allow_write:
        tools.append(write_file)
    return tools
