"""Open paths under a root folder without ever letting the kernel follow a symbolic link.

Checking a path and then opening it by name is racy: between the two, any component can be
swapped for a symlink to somewhere else. So nothing here opens a path by name. `Root.open`
starts from a descriptor of the root and opens one component at a time with `dir_fd=` and
`O_NOFOLLOW` (plus `O_DIRECTORY` for folders), so the kernel refuses any component that is
a link at the moment it is opened. A refused component is then read with `readlink` and
followed by hand: its target is spliced into the remaining components and walked the same
way, `..` pops a folder this walk opened itself (never the kernel's `..`), and an absolute
target must name a place under the root. Whatever is swapped, and whenever, the walk can only
reach what it could reach from the root through real folders: the worst a race can do is make
a call fail.

`describe_os_error` turns an `OSError` into a message for the model that names the path the
model passed and says what to do, and never includes the error's own text or file name (both
carry absolute host paths).
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Sequence
from pathlib import Path

__all__ = [
    "DIR_FLAGS",
    "MAX_FOLDERS",
    "MAX_LINK_HOPS",
    "READ_FLAGS",
    "WRITE_FLAGS",
    "LeavesRoot",
    "Root",
    "describe_os_error",
    "is_regular",
    "shown",
    "supported",
]

MAX_LINK_HOPS = 40
"""Symbolic links one open may follow before it fails with ELOOP, as Linux allows."""

MAX_FOLDERS = 256
"""Deepest path `Root.open` walks (a longer one fails with ENAMETOOLONG)."""

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
# O_NONBLOCK: opening a FIFO for reading must not wait for a writer; the caller's fstat then
# refuses anything that is not a regular file.
READ_FLAGS = os.O_RDONLY | _NOFOLLOW | _NONBLOCK
"""Flags for opening the last component to read it (a file, or a folder to list)."""
DIR_FLAGS = os.O_RDONLY | _DIRECTORY | _NOFOLLOW
"""Flags for opening a folder."""
WRITE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | _NOFOLLOW | _NONBLOCK
"""Flags for creating or replacing a file."""

_SHOWN_CHARS = 200


def supported() -> bool:
    """Whether this platform has what `Root` needs: `openat`, `O_NOFOLLOW`, `O_DIRECTORY`."""
    return (
        bool(_NOFOLLOW and _DIRECTORY)
        and os.open in os.supports_dir_fd
        and os.mkdir in os.supports_dir_fd
        and os.readlink in os.supports_dir_fd
        and os.scandir in os.supports_fd
    )


class LeavesRoot(Exception):
    """A symbolic link on the path leads outside the root.

    It carries no details on purpose: the link's target may be an absolute host path.
    """


class Root:
    """A folder that paths are opened under, symlinks followed only where they stay inside.

    Args:
        path: The folder. Its real path is fixed here; link targets that are absolute must
            start with that real path or with the absolute form of `path` to count as inside.
    """

    def __init__(self, path: Path) -> None:
        self.real = path.resolve()
        aliases = {self.real.parts}
        given = path.absolute()
        if ".." not in given.parts:
            aliases.add(given.parts)
        # Longest first, so a root nested inside another alias maps to the deepest match.
        self._aliases = sorted((tuple(a[1:]) for a in aliases), key=len, reverse=True)

    def open(
        self,
        parts: Sequence[str],
        flags: int,
        *,
        mode: int = 0o644,
        make_dirs: bool = False,
    ) -> tuple[int, tuple[str, ...]]:
        """Open `parts` (relative, no `..`) under the root, following in-root links by hand.

        Args:
            parts: The path's components, e.g. `("docs", "guide.md")`; empty for the root.
            flags: `os.open` flags for the last component (`READ_FLAGS`, `DIR_FLAGS`,
                `WRITE_FLAGS`); `O_NOFOLLOW` is always added.
            mode: The permissions of a file `O_CREAT` creates.
            make_dirs: Create missing folders before the last component.

        Returns:
            The open descriptor (the caller closes it) and the real components of what was
            opened, links replaced by their targets.

        Raises:
            LeavesRoot: A link on the way points outside the root.
            OSError: The open failed; ELOOP after `MAX_LINK_HOPS` links.
        """
        if len(parts) > MAX_FOLDERS + 1:  # refused before make_dirs creates any of it
            raise OSError(errno.ENAMETOOLONG, os.strerror(errno.ENAMETOOLONG))
        pending = list(reversed(parts))  # a stack: the next component is at the end
        folders = [os.open(self.real, os.O_RDONLY | _DIRECTORY)]
        real: list[str] = []
        hops = 0
        try:
            while pending:
                name = pending.pop()
                if name == "..":  # only ever from a link target
                    if not real:
                        raise LeavesRoot
                    os.close(folders.pop())
                    real.pop()
                    continue
                last = not pending
                if name == "." and not last:
                    continue
                try:
                    if last:
                        opened = os.open(name, flags | _NOFOLLOW, mode, dir_fd=folders[-1])
                    else:
                        opened = _open_folder(name, folders[-1], make_dirs=make_dirs)
                except OSError as error:
                    # A link makes O_NOFOLLOW fail with ELOOP, or ENOTDIR with O_DIRECTORY.
                    if error.errno not in (errno.ELOOP, errno.ENOTDIR):
                        raise
                    target = _link_target(name, folders[-1])
                    if target is None:
                        if error.errno == errno.ENOTDIR and not _may_be_folder(name, folders[-1]):
                            raise  # a real file where a folder is expected
                        target = name  # a link when opened but not now (a race): try again
                    hops += 1
                    if hops > MAX_LINK_HOPS:
                        raise OSError(errno.ELOOP, os.strerror(errno.ELOOP)) from None
                    if target.startswith("/"):
                        relative = self._under_root(target)
                        while len(folders) > 1:
                            os.close(folders.pop())
                        real.clear()
                    else:
                        relative = _split(target)
                    # A link to "." (or to the root) names the folder that holds it.
                    pending.extend(reversed(relative or ["."]))
                    continue
                if last:
                    if name != ".":
                        real.append(name)
                    return opened, tuple(real)
                folders.append(opened)
                real.append(name)
                if len(real) > MAX_FOLDERS:  # each level holds a descriptor open
                    raise OSError(errno.ENAMETOOLONG, os.strerror(errno.ENAMETOOLONG))
            # No components at all: the root itself.
            return os.dup(folders[0]), ()
        finally:
            for descriptor in folders:
                os.close(descriptor)

    def _under_root(self, target: str) -> list[str]:
        parts = _split(target)
        for alias in self._aliases:
            if tuple(parts[: len(alias)]) == alias:
                return parts[len(alias) :]
        raise LeavesRoot


def _split(target: str) -> list[str]:
    return [part for part in target.split("/") if part not in ("", ".")]


def _open_folder(name: str, parent: int, *, make_dirs: bool) -> int:
    try:
        return os.open(name, DIR_FLAGS, dir_fd=parent)
    except FileNotFoundError:
        if not make_dirs:
            raise
    # Made by someone else meanwhile: open whatever is there now, links refused as ever.
    with contextlib.suppress(FileExistsError):
        os.mkdir(name, 0o777, dir_fd=parent)
    return os.open(name, DIR_FLAGS, dir_fd=parent)


def _may_be_folder(name: str, parent: int) -> bool:
    """Whether `name` is now a folder or a link (it changed since it was opened)."""
    mode = os.stat(name, dir_fd=parent, follow_symlinks=False).st_mode
    return stat.S_ISDIR(mode) or stat.S_ISLNK(mode)


def _link_target(name: str, parent: int) -> str | None:
    """The target of the link `name` in `parent`, or None when it is not a link."""
    try:
        return os.readlink(name, dir_fd=parent)
    except OSError as error:
        if error.errno == errno.EINVAL:
            return None
        raise


def is_regular(descriptor: int) -> bool:
    """Whether `descriptor` is open on a regular file."""
    return stat.S_ISREG(os.fstat(descriptor).st_mode)


def shown(path: str) -> str:
    """`path` quoted for a message, with the middle of a very long one cut out."""
    if len(path) > _SHOWN_CHARS:
        path = f"{path[: _SHOWN_CHARS // 2]}…{path[-_SHOWN_CHARS // 4 :]}"
    return repr(path)


def describe_os_error(error: OSError, action: str, path: str) -> str:
    """A message for the model about `error`, raised while trying to `action` `path`.

    Only the errno is used: `str(error)` and `error.filename` hold the absolute host path,
    which the model must not see.

    Args:
        error: The failure.
        action: A verb for what was tried: "read", "list", "search", "write".
        path: The path as the model passed it (relative to the root).

    Returns:
        One sentence naming `path` and saying what to do instead.
    """
    what = shown(path)
    code = error.errno
    if code == errno.ENOENT:
        return f"{what} does not exist; call list_files to see what is there"
    if code == errno.EEXIST:
        return f"{what} already exists and cannot be replaced; pass another path"
    if code == errno.ENOTDIR:
        return (
            f"a part of {what} is a file, not a folder; check each folder on the path with "
            "list_files"
        )
    if code == errno.EISDIR:
        return f"{what} is a folder; pass a file path (list_files shows what is inside)"
    if code == errno.ELOOP:
        return (
            f"{what} goes through more than {MAX_LINK_HOPS} symbolic links (a link loop?); "
            "pass the path of the file itself"
        )
    if code == errno.ENAMETOOLONG:
        return f"{what} has a name too long for the file system; use shorter names"
    if code in (errno.EACCES, errno.EPERM):
        return f"permission denied: cannot {action} {what}; try another file or folder"
    if code in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        return (
            f"cannot {action} {what}: no space left on the device (or the quota is used "
            "up); write less, or ask the user to free some space"
        )
    if code == errno.EROFS:
        return f"cannot {action} {what}: the file system is read-only"
    if code in (errno.ENXIO, errno.ENODEV):
        return f"{what} is not a regular file (a pipe, socket or device); it cannot be used"
    if code in (errno.EMFILE, errno.ENFILE):
        return f"cannot {action} {what} now: too many open files; try again later"
    name = errno.errorcode.get(code, "unknown error") if code is not None else "unknown error"
    return f"could not {action} {what} ({name})"
