"""`agentkit mcp serve`: bundled tools, or a Toolset of yours, as an MCP server over stdio.

For Claude Desktop, Cursor and other MCP clients, which start the command and speak MCP on its
stdin and stdout, e.g. in `claude_desktop_config.json`:

    {"mcpServers": {"agentkit": {"command": "agentkit",
                                 "args": ["mcp", "serve", "--tools", "calculator,clock"]}}}

`--tools` takes groups (`calculator`, `clock`, `units`, `fetch`, `files`, `sqlite`) or single
tool names (`calculate`, `now`...); `files` needs `--files-root DIR` and `sqlite` needs
`--sqlite-db FILE`. `MODULE:ATTR` names a Toolset, a Tool or a list of them in the current
folder's `MODULE.py`. Without either, the stateless bundled tools are served. `--list` prints
what would be served, and exits.

`add_mcp_command(subparsers)` adds the command to a parser; `run_mcp(args, stdout, stderr)`
carries it out (0 served until the client hung up, 1 the tools could not be loaded, 2 a usage
error); `python -m agentkit.mcp_server [options] [MODULE:ATTR]` does the same.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TextIO

import anyio

from .errors import ToolDefinitionError
from .tool import Tool, Toolset

__all__ = ["add_mcp_command", "parse_serve_arguments", "run_mcp"]

_STATELESS = ("calculator", "clock", "units", "fetch")
_GROUPS = (*_STATELESS, "files", "sqlite")


class _UsageError(Exception):
    """The command line asks for something that cannot be served as written (exit code 2)."""


class _LoadError(Exception):
    """The user's module failed while being imported (exit code 1)."""


def add_mcp_command(subparsers: Any) -> argparse.ArgumentParser:
    """Add `mcp` (with its one action, `serve`) to a parser's subcommands; returns its parser."""
    help_text = "serve tools over MCP on stdin/stdout, for Claude Desktop, Cursor and others"
    parser: argparse.ArgumentParser = subparsers.add_parser("mcp", help=help_text,
                                                            description=help_text)
    parser.add_argument("mcp_action", choices=["serve"], metavar="serve",
                        help="serve: speak MCP on stdin and stdout until the client hangs up")
    _add_serve_options(parser)
    # Also after the command, as for the other commands; SUPPRESS keeps the top-level value.
    parser.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show tracebacks")
    return parser


def parse_serve_arguments(argv: Sequence[str]) -> argparse.Namespace:
    """`argv` as `agentkit mcp serve` reads its options (for `python -m agentkit.mcp_server`)."""
    parser = argparse.ArgumentParser(
        prog="python -m agentkit.mcp_server",
        description="Serve tools over MCP on stdin/stdout (the same as `agentkit mcp serve`).",
    )
    _add_serve_options(parser)
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    args = parser.parse_args(list(argv))
    args.mcp_action = "serve"
    return args


def _add_serve_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", nargs="?", default=None, metavar="MODULE:ATTR",
                        help="a Toolset, Tool or list of tools to serve, e.g. mytools:toolset "
                        "for `toolset` in ./mytools.py")
    parser.add_argument("--tools", default=None, metavar="NAMES",
                        help="bundled tools to serve, comma-separated: groups "
                        f"({', '.join(_GROUPS)}) or tool names (calculate, now...); default: "
                        "the stateless ones, when no MODULE:ATTR is given")
    parser.add_argument("--files-root", default=None, metavar="DIR",
                        help="the folder the files tools may read (needed by `files`)")
    parser.add_argument("--files-write", action="store_true",
                        help="let the files tools write under --files-root too")
    parser.add_argument("--sqlite-db", default=None, metavar="FILE",
                        help="the SQLite database the sqlite tools query, read-only (needed by "
                        "`sqlite`)")
    parser.add_argument("--name", default="agentkit",
                        help="the name the server gives MCP clients (default agentkit)")
    parser.add_argument("--client-approves", action="store_true",
                        help="serve tools that need approval before each call, leaving the "
                        "asking to the client")
    parser.add_argument("--list", action="store_true",
                        help="print the tools that would be served, and exit")


def run_mcp(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    """Carry out `agentkit mcp serve`; returns the exit code.

    The protocol goes over this process's own stdin and stdout; `stdout` receives `--list`,
    and `stderr` the one-line notices and errors (MCP clients show a server's stderr as its log).
    """
    debug = bool(getattr(args, "debug", False))
    try:
        tools = _collect(args)
        if args.list:
            for tool in tools:
                summary = tool.description.strip().splitlines()[0] if tool.description else ""
                print(f"{tool.name}\t{summary}" if summary else tool.name, file=stdout)
            stdout.flush()
            return 0
        try:
            from .mcp_server import serve_stdio, tool_server
        except ImportError as missing:
            raise _UsageError(str(missing)) from None
        server = tool_server(tools, name=args.name, client_approves=args.client_approves)
    except (_UsageError, ToolDefinitionError) as error:
        print(f"agentkit: error: {error}", file=stderr)
        return 2
    except _LoadError as error:
        if debug and error.__cause__ is not None:
            import traceback

            traceback.print_exception(error.__cause__, file=stderr)
        print(f"agentkit: error: {error}", file=stderr)
        return 1
    names = ", ".join(tool.name for tool in tools)
    print(f"agentkit: serving {len(tools)} tool{'s' if len(tools) != 1 else ''} over MCP on "
          f"stdin/stdout as {args.name!r}: {names}", file=stderr, flush=True)
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C in a terminal: a normal stop
        anyio.run(serve_stdio, server)
    return 0


# -- what to serve ---------------------------------------------------------------------------


def _collect(args: argparse.Namespace) -> Toolset:
    parts: list[Tool | Toolset] = []
    if args.target is not None:
        parts.append(_load_target(args.target))
    if args.tools is not None:
        names = [name.strip() for name in args.tools.split(",") if name.strip()]
        if not names:
            raise _UsageError("--tools names no tools; e.g. --tools calculator,clock")
        parts.extend(_bundled(names, args))
    elif args.target is None:
        defaults = list(_STATELESS)
        defaults += ["files"] if args.files_root is not None else []
        defaults += ["sqlite"] if args.sqlite_db is not None else []
        parts.extend(_bundled(defaults, args))
    return Toolset(parts)


def _bundled(names: Iterable[str], args: argparse.Namespace) -> list[Tool]:
    # Found at run time: beside the package in a checkout, inside it once installed.
    bundled = importlib.import_module("agentkit.tools")
    groups: dict[str, Callable[[], list[Tool]]] = {
        "calculator": lambda: [bundled.calculate],
        "clock": bundled.make_clock_tools,
        "units": lambda: [bundled.convert_units],
        "fetch": lambda: [bundled.make_fetch_tool()],
        "files": lambda: _files(args),
        "sqlite": lambda: _sqlite(args),
    }
    made: dict[str, list[Tool]] = {}

    def group(name: str) -> list[Tool]:
        if name not in made:
            made[name] = groups[name]()
        return made[name]

    chosen: list[Tool] = []
    for name in names:
        if name in groups:
            found = group(name)
        else:
            found = [tool for tool in _single(name, group, args) if tool.name == name]
        chosen.extend(tool for tool in found if tool not in chosen)
    return chosen


def _single(name: str, group: Callable[[str], list[Tool]], args: argparse.Namespace) -> list[Tool]:
    """The group holding the tool called `name` (those needing an option only if it is given)."""
    available = list(_STATELESS)
    available += ["files"] if args.files_root is not None else []
    available += ["sqlite"] if args.sqlite_db is not None else []
    for candidate in available:
        tools = group(candidate)
        if any(tool.name == name for tool in tools):
            return tools
    known = sorted({tool.name for g in available for tool in group(g)})
    hint = ("" if args.files_root is not None and args.sqlite_db is not None else
            "; the files and sqlite tools need --files-root and --sqlite-db")
    raise _UsageError(
        f"no bundled tool or group named {name!r}; the groups are {', '.join(_GROUPS)} and "
        f"the tools {', '.join(known)}{hint}"
    )


def _files(args: argparse.Namespace) -> list[Tool]:
    if args.files_root is None:
        raise _UsageError("the files tools need a folder: --files-root DIR")
    root = Path(args.files_root).expanduser()
    if not root.is_dir():
        raise _UsageError(f"--files-root {args.files_root!r} is not a folder")
    tools: list[Tool] = importlib.import_module("agentkit.tools").file_tools(
        root, allow_write=args.files_write)
    return tools


def _sqlite(args: argparse.Namespace) -> list[Tool]:
    if args.sqlite_db is None:
        raise _UsageError("the sqlite tools need a database: --sqlite-db FILE")
    database = Path(args.sqlite_db).expanduser()
    if not database.is_file():
        raise _UsageError(f"--sqlite-db {args.sqlite_db!r} is not a file")
    tools: list[Tool] = importlib.import_module("agentkit.tools").sqlite_tools(database)
    return tools


def _load_target(text: str) -> Tool | Toolset:
    module_name, _, attr = text.partition(":")
    valid = all(part.isidentifier() for part in module_name.split(".")) and all(
        part.isidentifier() for part in attr.split(".")
    )
    if not module_name or not attr or not valid:
        raise _UsageError(f"{text!r} is not MODULE:ATTR, e.g. mytools:toolset for `toolset` in "
                          "./mytools.py")
    # As `python -m` and `agentkit run` do: the current folder's modules come first.
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name is not None and module_name.startswith(error.name):
            raise _UsageError(f"no module named {error.name!r} (looked in {os.getcwd()} and the "
                              "installed packages)") from None
        raise _LoadError(f"importing {module_name} failed: {type(error).__name__}: {error}") from error
    except Exception as error:
        raise _LoadError(f"importing {module_name} failed: {type(error).__name__}: {error}") from error
    found: Any = module
    for part in attr.split("."):
        try:
            found = getattr(found, part)
        except AttributeError:
            raise _UsageError(f"{text}: {module_name} has no attribute {attr!r}") from None
    if isinstance(found, Tool | Toolset):
        return found
    if isinstance(found, list | tuple) and found and all(isinstance(t, Tool | Toolset) for t in found):
        return Toolset(found)
    raise _UsageError(
        f"{text} is {_kind(found)}, not a Toolset, a Tool or a list of tools; make tools with "
        "@tool and group them in Toolset([...])"
    )


def _kind(value: Any) -> str:
    if callable(value):
        return f"a function or class ({getattr(value, '__qualname__', type(value).__name__)})"
    name = type(value).__name__
    return f"{'an' if name[:1].lower() in 'aeiou' else 'a'} {name}"
