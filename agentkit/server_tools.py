"""Tools that xAI runs on its own servers, declared for a Responses request's `tools`.

```python
from agentkit.server_tools import WebSearch, XSearch

response = await client.responses.create(
    model="grok-4.3", input="What changed in the latest Python release?",
    tools=[WebSearch(allowed_domains=["python.org"]), XSearch(allowed_x_handles=["ThePSF"])],
)
print(response.output_text, [c.url for c in response.citations])
```

Each declaration checks its arguments when it is made (xAI's documented limits: at most five
domains, at most ten X handles, allowed and excluded lists never together) and `to_wire()`
gives the `tools[]` entry. Server-side tools exist on the Responses API only; chat requests
take client-side functions.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import urlsplit

from .errors import ConfigurationError

__all__ = ["CodeInterpreter", "FileSearch", "RemoteMCP", "ServerTool", "WebSearch", "XSearch"]

MAX_DOMAINS = 5
"""xAI's limit for `allowed_domains` and for `excluded_domains`."""
MAX_X_HANDLES = 10
"""xAI's limit for `allowed_x_handles` and for `excluded_x_handles`."""


@dataclass(frozen=True, kw_only=True)
class ServerTool:
    """A tool the server runs; subclasses name their `type` and check their fields.

    Attributes:
        extra: Fields to send that the declaration does not name (newer server options);
            they are added last and win.
    """

    type: ClassVar[str]
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_wire(self) -> dict[str, Any]:
        """The `tools[]` entry: `{"type": ..., <fields that were set>}`."""
        entry: dict[str, Any] = {"type": self.type}
        for item in dataclasses.fields(self):
            if item.name == "extra":
                continue
            value = _wire_value(getattr(self, item.name))
            if value is not None:
                entry[item.name] = value
        entry.update(self.extra)
        return entry


def _wire_value(value: Any) -> Any:
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, Mapping):
        return dict(value)
    return value


def _names(value: Sequence[str] | None, what: str, limit: int | None) -> tuple[str, ...] | None:
    """A list argument as a tuple of stripped, non-empty strings, checked against `limit`."""
    if value is None:
        return None
    if isinstance(value, str):
        raise ConfigurationError(f"{what} takes a list of strings, not one string: [{value!r}]")
    names = tuple(str(v).strip() for v in value)
    if not names or not all(names):
        raise ConfigurationError(f"{what} must hold at least one non-empty name")
    if limit is not None and len(names) > limit:
        raise ConfigurationError(f"{what} takes at most {limit} entries, got {len(names)}")
    return names


def _exclusive(
    allowed: tuple[str, ...] | None, excluded: tuple[str, ...] | None, names: tuple[str, str]
) -> None:
    if allowed is not None and excluded is not None:
        raise ConfigurationError(
            f"{names[0]} and {names[1]} cannot be used together; give one of them"
        )


def _domain(value: str) -> str:
    # xAI takes bare domains; a pasted URL is the likely mistake, so its host is suggested.
    if "://" in value:
        host = urlsplit(value).hostname or "example.com"
        raise ConfigurationError(f"{value!r} is a URL; give its domain, such as {host!r}")
    if "/" in value or any(c.isspace() for c in value) or "." not in value:
        raise ConfigurationError(f"{value!r} is not a domain; give one like 'example.com'")
    return value.lower()


@dataclass(frozen=True, kw_only=True)
class WebSearch(ServerTool):
    """Let the model search the web and read pages (`web_search`).

    Attributes:
        allowed_domains: Search only these domains (at most five).
        excluded_domains: Never search these domains (at most five; not with `allowed_domains`).
        enable_image_understanding: Let the model look at images on the pages it reads.
    """

    type: ClassVar[str] = "web_search"
    allowed_domains: Sequence[str] | None = None
    excluded_domains: Sequence[str] | None = None
    enable_image_understanding: bool | None = None

    def __post_init__(self) -> None:
        allowed = _names(self.allowed_domains, "allowed_domains", MAX_DOMAINS)
        excluded = _names(self.excluded_domains, "excluded_domains", MAX_DOMAINS)
        _exclusive(allowed, excluded, ("allowed_domains", "excluded_domains"))
        object.__setattr__(
            self, "allowed_domains", None if allowed is None else tuple(map(_domain, allowed))
        )
        object.__setattr__(
            self, "excluded_domains", None if excluded is None else tuple(map(_domain, excluded))
        )


def _date(value: datetime.date | str | None, what: str) -> datetime.date | None:
    if value is None or isinstance(value, datetime.date):
        return value.date() if isinstance(value, datetime.datetime) else value
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise ConfigurationError(
            f"{what} must be a date such as '2025-10-01' (YYYY-MM-DD), got {value!r}"
        ) from None


@dataclass(frozen=True, kw_only=True)
class XSearch(ServerTool):
    """Let the model search posts on X (`x_search`, xAI only).

    Attributes:
        allowed_x_handles: Search only posts by these handles (at most ten, without "@").
        excluded_x_handles: Never search these handles (at most ten; not with the above).
        from_date: The earliest day to search (a `date` or "YYYY-MM-DD").
        to_date: The last day to search.
        enable_image_understanding: Let the model look at images in posts.
        enable_video_understanding: Let the model watch videos in posts.
    """

    type: ClassVar[str] = "x_search"
    allowed_x_handles: Sequence[str] | None = None
    excluded_x_handles: Sequence[str] | None = None
    from_date: datetime.date | str | None = None
    to_date: datetime.date | str | None = None
    enable_image_understanding: bool | None = None
    enable_video_understanding: bool | None = None

    def __post_init__(self) -> None:
        allowed = _names(self.allowed_x_handles, "allowed_x_handles", MAX_X_HANDLES)
        excluded = _names(self.excluded_x_handles, "excluded_x_handles", MAX_X_HANDLES)
        _exclusive(allowed, excluded, ("allowed_x_handles", "excluded_x_handles"))
        object.__setattr__(
            self,
            "allowed_x_handles",
            None if allowed is None else tuple(h.lstrip("@") for h in allowed),
        )
        object.__setattr__(
            self,
            "excluded_x_handles",
            None if excluded is None else tuple(h.lstrip("@") for h in excluded),
        )
        start = _date(self.from_date, "from_date")
        end = _date(self.to_date, "to_date")
        if start is not None and end is not None and start > end:
            raise ConfigurationError(f"from_date {start} is after to_date {end}")
        object.__setattr__(self, "from_date", start)
        object.__setattr__(self, "to_date", end)


@dataclass(frozen=True, kw_only=True)
class CodeInterpreter(ServerTool):
    """Let the model run Python in a sandbox on the server (`code_interpreter`).

    Attributes:
        container: OpenAI's container setting (`{"type": "auto"}`); xAI needs none.
    """

    type: ClassVar[str] = "code_interpreter"
    container: Mapping[str, Any] | str | None = None


@dataclass(frozen=True, kw_only=True)
class FileSearch(ServerTool):
    """Let the model search your collections (`file_search` over vector store ids).

    Attributes:
        vector_store_ids: The collections to search (at least one).
        max_num_results: Most passages to return per search.
    """

    type: ClassVar[str] = "file_search"
    vector_store_ids: Sequence[str]
    max_num_results: int | None = None

    def __post_init__(self) -> None:
        ids = _names(self.vector_store_ids, "vector_store_ids", None)
        object.__setattr__(self, "vector_store_ids", ids)
        count = self.max_num_results
        if count is not None and (
            isinstance(count, bool) or not isinstance(count, int) or count < 1
        ):
            raise ConfigurationError(f"max_num_results must be a positive integer, got {count!r}")


@dataclass(frozen=True, kw_only=True)
class RemoteMCP(ServerTool):
    """Let the server call the tools of a remote MCP server (`mcp`; Streamable HTTP or SSE).

    Attributes:
        server_url: The MCP server's http(s) URL.
        server_label: A short name, used to prefix its tools' names.
        server_description: What the server offers, for the model.
        allowed_tools: Only these of its tools (all when None).
        authorization: A token the server sends in the MCP server's `Authorization` header.
            Never shown in a repr.
        headers: More headers for the MCP server. Their values are never shown in a repr.
    """

    type: ClassVar[str] = "mcp"
    server_url: str
    server_label: str | None = None
    server_description: str | None = None
    allowed_tools: Sequence[str] | None = None
    authorization: str | None = field(default=None, repr=False)
    headers: Mapping[str, str] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        parts = urlsplit(self.server_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigurationError(
                f"server_url must be an http(s) URL such as 'https://mcp.example.com/mcp', "
                f"got {self.server_url!r}"
            )
        if self.server_label is not None and not self.server_label.strip():
            raise ConfigurationError("server_label must not be empty; leave it out instead")
        object.__setattr__(self, "allowed_tools", _names(self.allowed_tools, "allowed_tools", None))
        if self.headers is not None:
            if any(
                not isinstance(k, str) or not isinstance(v, str) for k, v in self.headers.items()
            ):
                raise ConfigurationError("headers must map header names to string values")
            object.__setattr__(self, "headers", dict(self.headers))

    def __repr__(self) -> str:
        shown = [f"server_url={self.server_url!r}"]
        for name in ("server_label", "server_description", "allowed_tools"):
            value = getattr(self, name)
            if value is not None:
                shown.append(f"{name}={value!r}")
        if self.authorization is not None:
            shown.append("authorization=<set>")
        if self.headers:
            shown.append(f"headers=<{', '.join(sorted(self.headers))}>")
        return f"RemoteMCP({', '.join(shown)})"
