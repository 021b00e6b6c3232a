"""Server-sent events: bytes in, events out. No I/O.

The decoder follows the WHATWG event-stream rules that matter for model APIs: lines end with
LF, CRLF or CR (a CRLF may be split across two network reads); `:` lines are comments
(OpenRouter's keep-alives); `event:` names an event (Groq's `event: error`); several `data:`
lines join with LF; a blank line dispatches. A stream that ends without its last blank line
still delivers the event it was building, because some servers close right after the data.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["SSEDecoder", "ServerSentEvent"]


class ServerSentEvent(NamedTuple):
    """One dispatched event (a tuple: a stream makes one per token, and a frozen dataclass
    costs twice as much to make).

    Attributes:
        data: The data lines, joined with LF.
        event: The event name; "message" when the server named none.
        id: The last event id seen, if any.
        retry: The reconnection time the server asked for, in milliseconds, if any.
    """

    data: str
    event: str = "message"
    id: str | None = None
    retry: int | None = None


class SSEDecoder:
    """Incremental decoder: feed it network chunks of any size, get whole events back."""

    __slots__ = ("_data", "_event", "_id", "_pending", "_retry")

    def __init__(self) -> None:
        self._pending = b""
        self._data: list[str] = []
        self._event: str | None = None
        self._id: str | None = None
        self._retry: int | None = None

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """Decode `chunk` and return the events it completes (possibly none)."""
        data = self._pending + chunk if self._pending else chunk
        # A CR at the very end may be the first half of a CRLF: keep it until more arrives.
        trailing_cr = data.endswith(b"\r")
        if trailing_cr:
            data = data[:-1]
        if b"\r" in data:
            data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        lines = data.split(b"\n")
        self._pending = lines.pop() + (b"\r" if trailing_cr else b"")
        events: list[ServerSentEvent] = []
        for line in lines:
            # The two lines nearly every event is made of, `data: ...` and the blank line that
            # ends it, are handled here; `_line` takes the rest.
            if not line:
                event = self._dispatch()
                if event is not None:
                    events.append(event)
            elif line[:5] == b"data:":
                value = line[6:] if line[5:6] == b" " else line[5:]
                self._data.append(value.decode("utf-8", errors="replace"))
            else:
                event = self._line(line)
                if event is not None:
                    events.append(event)
        return events

    def flush(self) -> list[ServerSentEvent]:
        """End of stream: return the event left without its closing blank line, if any."""
        events: list[ServerSentEvent] = []
        if self._pending:
            line = self._pending.rstrip(b"\r")
            self._pending = b""
            event = self._line(line)
            if event is not None:
                events.append(event)
        event = self._line(b"")
        if event is not None:
            events.append(event)
        return events

    def _line(self, raw: bytes) -> ServerSentEvent | None:
        if not raw:
            return self._dispatch()
        if raw[:1] == b":":
            return None
        line = raw.decode("utf-8", errors="replace")
        name, colon, value = line.partition(":")
        if colon and value[:1] == " ":
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id" and "\0" not in value:
            self._id = value
        elif name == "retry" and value.isdigit():
            self._retry = int(value)
        # Unknown field names are ignored, as the specification says.
        return None

    def _dispatch(self) -> ServerSentEvent | None:
        data = self._data
        if not data:
            self._event = None
            return None
        event = ServerSentEvent(
            data[0] if len(data) == 1 else "\n".join(data),
            self._event or "message",
            self._id,
            self._retry,
        )
        self._data = []
        self._event = None
        return event
