"""The server-side tools of the simulated Responses API: how they are offered to the
simulated model, and canned, deterministic versions of what they do.

The policy sees each declared tool as a function (`OfferedTool.definition`) and decides, by
its usual scoring, whether the question calls for it. A call's result is derived from a hash
of its arguments: search results on example domains (or the allowed ones) titled from the
query's words, X posts by the allowed handles, passages of the named collections, an MCP
tool's echo. Nothing is fetched or executed; code is only searched for arithmetic, which
`_arith.safe_eval` evaluates without `eval`.

Pure and stdlib only.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ._arith import find_expressions, safe_eval
from ._wire import dumps

__all__ = [
    "ITEM_PREFIX",
    "SERVER_ITEMS",
    "OfferedTool",
    "mcp_name",
    "offer",
    "run_server_tool",
    "server_call",
]

SERVER_ITEMS = frozenset(
    {"web_search_call", "x_search_call", "code_interpreter_call", "file_search_call", "mcp_call"}
)
"""Output item types of server-side calls."""
ITEM_PREFIX = {
    "web_search": "ws",
    "x_search": "xs",
    "code_interpreter": "ci",
    "file_search": "fs",
    "mcp": "mcp",
}

_SEARCH_RESULTS = 3

_SEARCH_DOMAINS = ("example.com", "example.org", "example.net", "example.edu")

_WORD = re.compile(r"[^\W_]+")


# ----------------------------------------------------------------------------- offering


@dataclass(frozen=True)
class OfferedTool:
    """A server-side tool as the policy sees it: a function it may call."""

    kind: str
    name: str
    spec: Mapping[str, Any]
    description: str
    parameter: str
    mcp_tool: str = ""

    def definition(self) -> dict[str, Any]:
        """The chat-shaped function definition, with one string parameter."""
        schema = {
            "type": "object",
            "properties": {
                self.parameter: {"type": "string", "description": f"The {self.parameter}."}
            },
            "required": [self.parameter],
        }
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": schema},
        }


_DESCRIPTIONS = {
    "web_search": (
        "Search the web for current information: news, facts, prices, releases, "
        "documentation and other web pages.",
        "query",
    ),
    "x_search": (
        "Search posts on X (Twitter): what people are saying, tweets, reactions, "
        "accounts and trends.",
        "query",
    ),
    "code_interpreter": (
        "Run Python code in a sandbox to calculate, compute or analyse numbers and data exactly.",
        "code",
    ),
    "file_search": (
        "Search the uploaded files and documents in the collections for passages.",
        "query",
    ),
}


def offer(kind: str, spec: Mapping[str, Any]) -> OfferedTool:
    """A built-in server tool (`web_search`, `x_search`, `code_interpreter`, `file_search`)
    as the function the policy sees."""
    description, parameter = _DESCRIPTIONS[kind]
    return OfferedTool(kind, kind, spec, description, parameter)


def mcp_name(label: str, tool: str) -> str:
    """The function name an MCP server's tool is offered under: `<label>_<tool>`, sanitised."""
    text = "_".join(w for w in (label, tool) if w)
    return "".join(c if c.isalnum() or c == "_" else "_" for c in text)[:64] or "mcp"


# ----------------------------------------------------------------------------- running


def _digest(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def _search_sources(kind: str, spec: Mapping[str, Any], query: str) -> list[dict[str, str]]:
    digest = _digest(kind, query)
    words = _WORD.findall(query)[:8] or ["results"]
    topic = " ".join(w[:1].upper() + w[1:] for w in words)
    slug = "-".join(w.lower() for w in words)
    sources = []
    if kind == "x_search":
        excluded = {h.lower() for h in spec.get("excluded_x_handles") or ()}
        handles = [h for h in spec.get("allowed_x_handles") or () if h.lower() not in excluded]
        for i in range(_SEARCH_RESULTS):
            handle = handles[i % len(handles)] if handles else f"user_{digest[i * 6 : i * 6 + 6]}"
            # Post ids are 19 digits, as X's are.
            status = 10**18 + int(digest[16 + i * 15 : 31 + i * 15], 16) % (9 * 10**18)
            sources.append(
                {
                    "type": "url",
                    "url": f"https://x.com/{handle}/status/{status}",
                    "title": f"@{handle} on X: {topic}",
                }
            )
        return sources
    excluded = {d.lower() for d in spec.get("excluded_domains") or ()}
    domains = [
        d for d in spec.get("allowed_domains") or _SEARCH_DOMAINS if d.lower() not in excluded
    ] or ["search.invalid"]
    for i, label in enumerate(("Overview", "Guide", "Latest")):
        domain = domains[i % len(domains)]
        sources.append(
            {
                "type": "url",
                "url": f"https://{domain}/{slug}-{digest[i * 8 : i * 8 + 8]}",
                "title": f"{topic}: {label} ({domain})",
            }
        )
    return sources


def run_server_tool(tool: OfferedTool, arguments: str, item_id: str) -> dict[str, Any]:
    """The output item of one canned server-side call."""
    try:
        parsed = json.loads(arguments)
    except ValueError:
        parsed = {}
    given = parsed.get(tool.parameter) if isinstance(parsed, dict) else None
    value = given if isinstance(given, str) else arguments
    if tool.kind in ("web_search", "x_search"):
        action = {
            "type": "search",
            "query": value,
            "sources": _search_sources(tool.kind, tool.spec, value),
        }
        return {"type": f"{tool.kind}_call", "id": item_id, "status": "completed", "action": action}
    if tool.kind == "code_interpreter":
        values = [safe_eval(e) for e in find_expressions(value)]
        logs = "\n".join(str(v) for v in values if v is not None)
        return {
            "type": "code_interpreter_call",
            "id": item_id,
            "status": "completed",
            "code": value,
            "container_id": f"cntr_{_digest('container', value)[:16]}",
            "outputs": [{"type": "logs", "logs": logs or "(no output)"}],
        }
    if tool.kind == "file_search":
        digest = _digest("file_search", value)
        stores = list(tool.spec.get("vector_store_ids") or ())
        count = min(int(tool.spec.get("max_num_results") or _SEARCH_RESULTS), _SEARCH_RESULTS)
        slug = "-".join(w.lower() for w in _WORD.findall(value))[:40] or "notes"
        results = [
            {
                "file_id": f"file_{digest[i * 8 : i * 8 + 8]}",
                "filename": f"{slug}-{i + 1}.md",
                "score": round(0.92 - 0.11 * i, 2),
                "text": f"Passage {i + 1} on {value} from collection {stores[i % len(stores)]}.",
            }
            for i in range(count)
        ]
        return {
            "type": "file_search_call",
            "id": item_id,
            "status": "completed",
            "queries": [value],
            "results": results,
        }
    label = str(tool.spec.get("server_label") or "")
    output = dumps(
        {
            "server": label or tool.spec.get("server_url"),
            "tool": tool.mcp_tool,
            "input": value,
            "result": f"ok-{_digest('mcp', label, arguments)[:10]}",
        }
    )
    return {
        "type": "mcp_call",
        "id": item_id,
        "status": "completed",
        "name": tool.mcp_tool,
        "arguments": arguments,
        "server_label": label,
        "output": output,
        "error": None,
    }


def server_call(
    item: Mapping[str, Any], tool_names: Mapping[str, str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A server-side item as the chat call and result the policy saw (or would have)."""
    kind = item["type"]
    if kind in ("web_search_call", "x_search_call"):
        action = item.get("action") or {}
        query = str(action.get("query") or "")
        name, arguments = kind[: -len("_call")], dumps({"query": query})
        result: Any = {
            "query": query,
            "results": [
                {k: v for k, v in s.items() if k != "type"} for s in action.get("sources") or ()
            ],
        }
    elif kind == "code_interpreter_call":
        name, arguments = "code_interpreter", dumps({"code": str(item.get("code") or "")})
        result = {"logs": "\n".join(str(o.get("logs") or "") for o in item.get("outputs") or ())}
    elif kind == "file_search_call":
        query = " ".join(item.get("queries") or ())
        name, arguments = "file_search", dumps({"query": query})
        result = {"query": query, "results": item.get("results") or []}
    else:
        label, tool = str(item.get("server_label") or ""), str(item.get("name") or "")
        name = (
            tool_names.get(f"{label}/{tool}")
            or tool_names.get(f"{label}/")
            or mcp_name(label, tool)
        )
        # The arguments are the model's own JSON text, as it wrote them.
        arguments = str(item.get("arguments") or "{}")
        result = item.get("output") or ""
    call = {
        "id": item["id"],
        "type": "function",
        "function": {"name": name, "arguments": arguments},
    }
    content = result if isinstance(result, str) else dumps(result)
    return call, {"role": "tool", "tool_call_id": item["id"], "content": content}
