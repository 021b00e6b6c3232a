"""Bundled tools: ready-made `@tool`s and tool factories, safe by default.

Stateless tools, returned by `bundled_tools()`:

- `calculate(expression)`: arithmetic and math functions through an AST whitelist.
- `now(timezone)`, `date_diff(start, end)`, `date_add(start, days, weeks, months)`:
  the clock and calendar arithmetic (`make_clock_tools(now=...)` injects the clock).
- `convert_units(value, from_unit, to_unit)`: length, mass, volume, temperature, speed.
- `fetch_url(url, max_chars)`: a web page as text; private and metadata addresses are
  refused (`make_fetch_tool(allow=...)` configures it).

Factories, bound to something only the developer can choose:

- `file_tools(root, allow_write=False)`: `list_files`, `read_file`, `search_files` and,
  if enabled, `write_file`, confined to `root`.
- `sqlite_tools(database)`: `list_tables`, `describe_table`, `run_query` (read-only).
- `retrieval_tools(folder, embed=...)`: `search_documents` over a folder of text files;
  `embedder_for(client)` adapts a `GrokClient` to `embed`.

Nothing is registered anywhere: pass the tools you want to an agent's `tools=`.
"""

from __future__ import annotations

from agentkit.tool import Tool

from .calculator import calculate
from .clock import date_add, date_diff, make_clock_tools, now
from .files import file_tools
from .http_fetch import fetch_url, make_fetch_tool
from .retrieval import embedder_for, retrieval_tools
from .sqlite import sqlite_tools
from .units import convert_units

__all__ = [
    "bundled_tools",
    "calculate",
    "convert_units",
    "date_add",
    "date_diff",
    "embedder_for",
    "fetch_url",
    "file_tools",
    "make_clock_tools",
    "make_fetch_tool",
    "now",
    "retrieval_tools",
    "sqlite_tools",
]


def bundled_tools() -> list[Tool]:
    """The stateless bundled tools, fresh where they hold settings.

    These need no configuration: `calculate`, `now`, `date_diff`, `date_add`,
    `convert_units` and `fetch_url` (with the default safety settings). The factories
    (`file_tools`, `sqlite_tools`, `retrieval_tools`) are left out because they need a
    folder, a database or an embedding function only the developer can choose.

    Returns:
        A new list, e.g. for `Agent(..., tools=bundled_tools())`.
    """
    return [calculate, *make_clock_tools(), convert_units, make_fetch_tool()]
