"""How the command line shows results: text as it is, structured output as a table or aligned
fields on a terminal and as JSON elsewhere, and the live view of a run (tool calls, streamed
text, the structured output taking shape).

On a terminal a list of objects is a table with aligned columns (one block of fields per item
when the table is wider than the terminal), an object is aligned `field: value` lines, and a
nested value is compact JSON. Anything the model wrote is shown with control characters
escaped, so that it cannot move the cursor or rewrite what is on screen.
"""

from __future__ import annotations

import json
import os
import time
import unicodedata
from collections.abc import Sequence
from typing import Any, TextIO

import pydantic_core

from .events import (
    AgentEvent,
    PartialOutput,
    ServerToolCalled,
    TextDelta,
    ToolCallFinished,
    ToolCallStarted,
)
from .usage import RunUsage

__all__ = ["LiveView", "is_tty", "plural", "render_json", "render_output", "terminal_size",
           "to_jsonable", "usage_line"]

# Redraws of the structured output taking shape, at most this often: smooth, not flickering.
_REDRAW_SECONDS = 0.05


def plural(count: int, singular: str, many: str | None = None) -> str:
    """`1 request`, `2 requests`, `0 tool calls`."""
    return f"{count} {singular if count == 1 else (many or singular + 's')}"


def usage_line(usage: RunUsage) -> str:
    """What a run consumed, in one bracketed line."""
    cost = f", ${usage.cost_usd:.6f}" if usage.cost_usd is not None else ""
    if cost and usage.cost_source == "prices":
        cost += " at listed prices"
    server = (f" + {plural(usage.server_tool_calls, 'server tool call')}"
              if usage.server_tool_calls else "")
    return (f"[{plural(usage.requests, 'request')}, {plural(usage.tool_calls, 'tool call')}{server}, "
            f"{usage.prompt_tokens} prompt + {usage.completion_tokens} completion + "
            f"{usage.reasoning_tokens} reasoning tokens{cost}]")


def to_jsonable(value: Any) -> Any:
    """What JSON can hold of `value`: pydantic models, dataclasses, dates, sets..."""
    try:
        return pydantic_core.to_jsonable_python(value, fallback=str)
    except Exception:  # an output that cannot even be walked is kept as its text
        return str(value)


def render_json(value: Any) -> str:
    """`value` as indented JSON."""
    return json.dumps(to_jsonable(value), indent=2, ensure_ascii=False)


def render_output(value: Any, *, terminal: bool, width: int = 80) -> str:
    """A run's output for people: text as it is; structured output as a table or fields on
    a terminal, as JSON off one (for the next program in a pipe)."""
    if isinstance(value, str):
        return value
    return render_human(value, width) if terminal else render_json(value)


def terminal_size(stream: TextIO) -> os.terminal_size:
    """The terminal's size, or 80x24 for a stream that is not one (or one that says 0x0, as
    a fresh pseudo-terminal does)."""
    try:
        size = os.get_terminal_size(stream.fileno())
    except (AttributeError, OSError, ValueError):
        return os.terminal_size((80, 24))
    return os.terminal_size((size.columns or 80, size.lines or 24))


# -- tables and fields -----------------------------------------------------------------------


def render_human(value: Any, width: int = 80) -> str:
    """A list of objects as a table, an object as aligned fields, anything else as a line."""
    data = to_jsonable(value)
    if isinstance(data, list):
        if not data:
            return "(an empty list)"
        if all(isinstance(item, dict) for item in data):
            return _table(data, width)
        return "\n".join(_cell(item) for item in data)
    if isinstance(data, dict):
        return _fields(data)
    return _cell(data)


def _fields(data: dict[str, Any]) -> str:
    if not data:
        return "(no fields)"
    labels = [f"{_printable(str(key))}:" for key in data]
    width = max(map(_width, labels))
    lines: list[str] = []
    for label, value in zip(labels, data.values(), strict=True):
        text = value if isinstance(value, str) else _cell(value)
        first, *rest = (_printable(part) for part in text.split("\n")) if text else [""]
        lines.append(f"{_pad(label, width)} {first}".rstrip())
        lines.extend(f"{'':{width}} {line}".rstrip() for line in rest)
    return "\n".join(lines)


def _table(rows: list[dict[str, Any]], width: int) -> str:
    columns: list[str] = []
    for row in rows:
        columns.extend(key for key in row if key not in columns)
    header = [_printable(str(column)) for column in columns]
    body = [[_cell(row[column]) if column in row else "" for column in columns] for row in rows]
    # Right-aligned where every value present is a number (nulls aside).
    numeric = []
    for column in columns:
        values = [row[column] for row in rows if row.get(column) is not None]
        numeric.append(bool(values) and all(map(_is_number, values)))
    widths = [max(_width(text) for text in [name, *(line[i] for line in body)])
              for i, name in enumerate(header)]
    if sum(widths) + 2 * (len(widths) - 1) > width:
        # Too wide to read as a table: one block of aligned fields per item.
        return "\n\n".join(f"#{number}\n{_fields(row)}" for number, row in enumerate(rows, 1))

    def line(cells: Sequence[str], align_numbers: bool) -> str:
        parts = [_pad(text, widths[i], right=align_numbers and numeric[i])
                 for i, text in enumerate(cells)]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(header, False), rule, *(line(cells, True) for cells in body)])


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _cell(value: Any) -> str:
    """One value on one line: strings as they are, anything else as compact JSON."""
    if isinstance(value, str):
        return _printable(value)
    return _printable(json.dumps(value, ensure_ascii=False))


def _printable(text: str) -> str:
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _width(text: str) -> int:
    """Columns `text` takes on a terminal: wide East Asian characters two, combining marks none."""
    total = 0
    for char in text:
        if unicodedata.combining(char):
            continue
        total += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return total


def _pad(text: str, width: int, *, right: bool = False) -> str:
    space = " " * max(0, width - _width(text))
    return space + text if right else text + space


def _clip(text: str, width: int) -> str:
    if _width(text) <= width:
        return text
    out, used = [], 0
    for char in text:
        step = 0 if unicodedata.combining(char) else (
            2 if unicodedata.east_asian_width(char) in ("W", "F") else 1)
        if used + step > width - 1:
            break
        out.append(char)
        used += step
    return "".join(out) + "…"


# -- the live view of a run ------------------------------------------------------------------


class LiveView:
    """What a run shows while it goes: tool calls on `err`, and on `out` the streamed text or,
    on a terminal, the structured output redrawn as it takes shape; then the output, once.

    Args:
        out: Where the output goes.
        err: Where tool calls and notes go.
        stream: Show the answer while it is written (text deltas; partial structured output
            on a terminal only: a pipe gets the final output alone).
        structured: The output is not text (deltas are then JSON, never shown raw).
        show_tools: Print a line per tool call started and finished.
    """

    def __init__(self, out: TextIO, err: TextIO, *, stream: bool, structured: bool,
                 show_tools: bool = True) -> None:
        self.out = out
        self.err = err
        self.stream = stream
        self.structured = structured
        self.show_tools = show_tools
        self.terminal = is_tty(out)
        self.streamed = False  # text written to `out` for this answer
        self._open_line = False  # `out` holds a line without its newline
        self._drawn = 0  # lines of partial output on screen
        self._last_draw = 0.0

    def event(self, event: AgentEvent) -> None:
        """Show one stream event."""
        if isinstance(event, ToolCallStarted | ToolCallFinished):
            if not self.show_tools:
                return
            self._make_room()
            if isinstance(event, ToolCallStarted):
                print(f"-> {_printable(event.name)}({_short(event.arguments)})", file=self.err)
            else:
                mark = "x" if event.error else "<-"
                print(f"{mark} {_printable(event.name)}: {_short(event.error or event.result)}",
                      file=self.err)
            self.err.flush()
        elif isinstance(event, ServerToolCalled):
            if not self.show_tools:
                return
            self._make_room()
            call = event.call
            status = f" [{call.status}]" if call.status and call.status != "completed" else ""
            print(f"~> {_printable(call.type)} on the server: {_short(call.detail or '')}{status}",
                  file=self.err)
            self.err.flush()
        elif isinstance(event, TextDelta) and self.stream and not self.structured and event.text:
            self.out.write(event.text)
            self.out.flush()
            self.streamed = True
            self._open_line = not event.text.endswith("\n")
        elif isinstance(event, PartialOutput) and self.stream and self.terminal:
            self._draw_partial(event)

    def finish(self, output: Any) -> None:
        """Show the output: what streaming has not shown yet, and end its line."""
        self._clear_partial()
        if isinstance(output, str) and self.streamed and not self.structured:
            if self._open_line:
                self.out.write("\n")
        else:
            columns = terminal_size(self.out).columns if self.terminal else 80
            print(render_output(output, terminal=self.terminal, width=columns), file=self.out)
        self.out.flush()
        self._reset()

    def abandon(self) -> None:
        """The answer will not come (an error, a cancelled turn): tidy the screen for what
        is printed next."""
        self._clear_partial()
        self._make_room()
        self._reset()

    def _reset(self) -> None:
        self.streamed = False
        self._open_line = False

    def _make_room(self) -> None:
        """End a half-written line of text before a note, on a terminal where both show."""
        self._clear_partial()
        if self._open_line and self.terminal:
            self.out.write("\n")
            self.out.flush()
            self._open_line = False

    def _draw_partial(self, event: PartialOutput[Any]) -> None:
        data = event.output if event.output is not None else event.data
        if data is None or data == {} or data == []:
            return
        now = time.monotonic()
        if now - self._last_draw < _REDRAW_SECONDS:
            return
        self._last_draw = now
        size = terminal_size(self.out)
        lines = render_human(data, size.columns).split("\n")
        # Kept within the screen, each line within its width: a line that wrapped or
        # scrolled off could not be erased by moving the cursor up.
        room = max(1, size.lines - 2)
        if len(lines) > room:
            lines = [*lines[: room - 1], "…"]
        lines = [_clip(line, max(2, size.columns - 1)) for line in lines]
        self._clear_partial()
        self.out.write("\n".join(lines))
        self.out.flush()
        self._drawn = len(lines)

    def _clear_partial(self) -> None:
        if not self._drawn:
            return
        up = f"\x1b[{self._drawn - 1}A" if self._drawn > 1 else ""
        self.out.write(f"{up}\r\x1b[J")
        self.out.flush()
        self._drawn = 0


def _short(value: Any, limit: int = 200) -> str:
    text = value if isinstance(value, str) else str(value)
    text = _printable(" ".join(text.split()))
    return text if len(text) <= limit else text[: limit - 3] + "..."


def is_tty(stream: TextIO) -> bool:
    """Whether `stream` is a terminal (False for one without a descriptor, or closed)."""
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
