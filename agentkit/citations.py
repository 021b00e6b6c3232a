"""What the server looked up for a run: the server-side tool calls it made and the sources its
answers cite, kept in the run state so that a saved and resumed run still has them.

```python
agent = Agent("grok-4.3", api="responses", tools=[WebSearch()])
result = await agent.run("What is new in Python 3.14?")
for citation in result.citations:
    print(citation.title, citation.url)
```
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

from .usage import RunUsage

__all__ = ["Citation", "ServerToolUse", "citations_of", "note_server_side", "server_tool_calls_of"]

_CITATIONS = "citations"
_CALLS = "server_tool_calls"


@dataclass(frozen=True, slots=True)
class Citation:
    """A source an answer cites.

    Attributes:
        url: Where it is.
        title: Its title, when the server gave one.
    """

    url: str
    title: str | None = None


@dataclass(frozen=True, slots=True)
class ServerToolUse:
    """A tool the server ran during the run (a web or X search, code, a file search, a
    remote MCP tool).

    Attributes:
        type: `"web_search"`, `"x_search"`, `"code_interpreter"`, `"file_search"`, `"mcp"`,
            or a newer kind as the server names it.
        id: The server's id of the call.
        status: How it ended (`"completed"`, `"failed"`...), when the server said.
        detail: What it ran: the query, the code, or the MCP server and tool.
    """

    type: str
    id: str
    status: str | None = None
    detail: str | None = None

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> ServerToolUse:
        """From the plain data the model adapter records."""
        detail = data.get("query") or data.get("code")
        if detail is None and data.get("name"):
            label = data.get("server_label")
            detail = f"{label}.{data['name']}" if label else str(data["name"])
        if detail is None and data.get("queries"):
            detail = "; ".join(str(q) for q in data["queries"])
        return cls(str(data.get("type") or "server_tool"), str(data.get("id") or ""),
                   data.get("status"), None if detail is None else str(detail))


def note_server_side(
    extra: Mapping[str, Any], context: MutableMapping[str, Any], usage: RunUsage
) -> None:
    """Record a response's server-side calls and citations (from its extra fields: the
    Responses adapter's, or chat's own `citations` list of URLs) in the run's context."""
    calls = extra.get(_CALLS)
    if isinstance(calls, list) and calls:
        context.setdefault(_CALLS, []).extend(c for c in calls if isinstance(c, Mapping))
        usage.server_tool_calls += len(calls)
    cited = extra.get(_CITATIONS)
    if isinstance(cited, list) and cited:
        kept: list[dict[str, Any]] = context.setdefault(_CITATIONS, [])
        seen = {c["url"] for c in kept}
        for item in cited:
            entry = _citation(item)
            if entry is not None and entry["url"] not in seen:
                seen.add(entry["url"])
                kept.append(entry)


def citations_of(context: Mapping[str, Any]) -> list[Citation]:
    """The citations a run's context holds, in the order they came, each URL once."""
    return [Citation(c["url"], c.get("title")) for c in context.get(_CITATIONS) or ()]


def server_tool_calls_of(context: Mapping[str, Any]) -> list[ServerToolUse]:
    """The server-side tool calls a run's context holds, in order."""
    return [ServerToolUse.of(c) for c in context.get(_CALLS) or ()]


def _citation(item: Any) -> dict[str, Any] | None:
    if isinstance(item, str) and item:
        return {"url": item}
    if isinstance(item, Mapping) and isinstance(item.get("url"), str) and item["url"]:
        entry: dict[str, Any] = {"url": item["url"]}
        if isinstance(item.get("title"), str) and item["title"]:
            entry["title"] = item["title"]
        return entry
    return None
