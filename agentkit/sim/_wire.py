"""What the simulated server answers, before any adapter puts it on a wire; xAI's error shape.

`SimResponse` is the whole answer to one request: a status, headers and either one body or
a list of `SimChunk`s (a stream). The adapters (`transport.py`, `server.py`) honour its
delays and cut the connection where `drop_after` says.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ApiError",
    "Code",
    "SimChunk",
    "SimResponse",
    "dumps",
    "error_response",
    "json_response",
]


class Code:
    """xAI's `code` strings: the gRPC status phrases its gateway reports."""

    INVALID_ARGUMENT = "Client specified an invalid argument"
    NOT_FOUND = "Some requested entity was not found"
    UNAUTHENTICATED = "The request does not have valid authentication credentials for the operation"
    RESOURCE_EXHAUSTED = "Some resource has been exhausted"
    UNIMPLEMENTED = "Operation is not implemented or not supported"
    INTERNAL = "Internal error"
    UNAVAILABLE = "The service is currently unavailable"


_JSON_CONTENT_TYPE = "application/json"

_encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def dumps(value: Any) -> str:
    """Compact JSON with UTF-8 text kept as is, the way xAI writes it."""
    return _encoder.encode(value)


@dataclass(frozen=True, slots=True)
class SimChunk:
    """One piece of a streamed body, sent (and flushed) on its own.

    Attributes:
        data: The bytes, usually one whole SSE event.
        delay: Seconds to wait before sending it.
    """

    data: bytes
    delay: float = 0.0


@dataclass(slots=True)
class SimResponse:
    """The simulated server's whole answer to one request.

    Attributes:
        status: HTTP status code.
        headers: Response headers, names in lower case (no Content-Length: the adapter sets
            framing).
        body: The body of a plain response.
        events: The chunks of a streamed response; None for a plain one.
        drop_after: Cut the connection after this many chunks (a plain response: before any
            byte); None keeps it whole.
        first_byte_delay: Seconds to wait before anything is sent.
    """

    status: int
    headers: dict[str, str]
    body: bytes = b""
    events: list[SimChunk] | None = None
    drop_after: int | None = None
    first_byte_delay: float = 0.0

    @property
    def is_stream(self) -> bool:
        """Whether the body is a list of chunks."""
        return self.events is not None

    def json(self) -> Any:
        """The plain body, parsed (a convenience for tests)."""
        return json.loads(self.body)

    def stream_bytes(self) -> bytes:
        """Every chunk joined, as a client that reads to the end would see it."""
        return b"".join(chunk.data for chunk in self.events or ())


@dataclass
class ApiError(Exception):
    """An HTTP error the simulated server answers with xAI's flat `{"code", "error"}` body.

    Attributes:
        status: HTTP status code.
        message: The `error` text.
        code: The `code` text; None leaves the key out (xAI's 410 has none).
        headers: Extra response headers.
    """

    status: int
    message: str
    code: str | None = Code.INVALID_ARGUMENT
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.status}: {self.message}"

    def response(self) -> SimResponse:
        """This error as a response."""
        return error_response(self.status, self.message, self.code, self.headers)


def json_response(payload: Any, status: int = 200) -> SimResponse:
    """A plain JSON response."""
    return SimResponse(status, {"content-type": _JSON_CONTENT_TYPE}, dumps(payload).encode())


def error_response(
    status: int, message: str, code: str | None, headers: dict[str, str] | None = None
) -> SimResponse:
    """An xAI error response: flat `{"code": ..., "error": ...}` JSON."""
    payload = {"error": message} if code is None else {"code": code, "error": message}
    response = json_response(payload, status)
    if headers:
        response.headers.update(headers)
    return response
