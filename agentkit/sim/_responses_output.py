"""Writing a simulated response: its output items, citations and usage, and the stream of
events a streamed request gets (OpenAI's Responses event names and framing).

Pure functions over plain dicts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ._chat import Answer, split_text
from ._responses_input import seal
from ._wire import SimChunk, dumps
from .models import SimModel

__all__ = ["Turn", "answer_items", "cite", "events", "reasoning_item", "usage"]

# xAI bills server-side tool calls on top of tokens; $5 per 1000 calls is its published web
# search price, assumed here for every tool.
_TOOL_CALL_TICKS = 50_000_000


# ----------------------------------------------------------------------------- output


@dataclass
class Turn:
    """What one request made: its output items, token counts and server-side tool calls."""

    items: list[dict[str, Any]]
    status: str
    input_tokens: int
    cached_tokens: int
    output_tokens: int
    reasoning_tokens: int
    tool_counts: dict[str, int]
    max_prompt: int


def answer_items(answer: Answer, response_id: str) -> list[dict[str, Any]]:
    """The message (when there is text or nothing else) and the function calls."""
    items: list[dict[str, Any]] = []
    if answer.content or not answer.tool_calls:
        part = {"type": "output_text", "text": answer.content, "annotations": [], "logprobs": []}
        items.append(
            {
                "type": "message",
                "id": f"msg_{response_id}",
                "role": "assistant",
                "status": "incomplete" if answer.finish_reason == "length" else "completed",
                "content": [part],
            }
        )
    for index, (call_id, name, arguments) in enumerate(answer.tool_calls):
        items.append(
            {
                "type": "function_call",
                "id": f"fc_{response_id}_{index}",
                "call_id": call_id,
                "name": name,
                "arguments": arguments,
                "status": "completed",
            }
        )
    return items


def reasoning_item(
    texts: Sequence[str], model: SimModel, response_id: str, encrypted: bool
) -> dict[str, Any]:
    """One reasoning item for the whole turn (every inner step's reasoning, in order)."""
    text = "\n".join(texts)
    # Hidden-reasoning models show no summary; the text travels only inside the blob.
    summary = [{"type": "summary_text", "text": text}] if model.reasoning == "visible" else []
    item: dict[str, Any] = {
        "type": "reasoning",
        "id": f"rs_{response_id}",
        "summary": summary,
        "status": "completed",
    }
    if encrypted:
        item["encrypted_content"] = seal({"reasoning": text})
    return item


def cite(items: list[dict[str, Any]]) -> None:
    """Annotate the answer with every source the searches found, each once."""
    sources: dict[str, str] = {}
    for item in items:
        for source in (item.get("action") or {}).get("sources") or ():
            sources.setdefault(source["url"], source.get("title") or source["url"])
    for item in items:
        if item["type"] == "message" and sources:
            part = item["content"][0]
            end = len(part["text"])
            part["annotations"] = [
                {
                    "type": "url_citation",
                    "url": url,
                    "title": title,
                    "start_index": 0,
                    "end_index": end,
                }
                for url, title in sources.items()
            ]


def usage(model: SimModel, turn: Turn) -> dict[str, Any]:
    """Responses usage: reasoning inside `output_tokens`, cost in ticks, tool calls counted."""
    uncached = turn.input_tokens - turn.cached_tokens
    factor = (
        2 if model.long_context_threshold and turn.max_prompt > model.long_context_threshold else 1
    )
    # Prices are USD per million tokens; 10^10 ticks per USD makes 10^4 ticks per token-dollar.
    ticks = factor * round(
        uncached * model.input_price * 10_000
        + turn.cached_tokens * model.cached_input_price * 10_000
        + turn.output_tokens * model.output_price * 10_000
    )
    calls = sum(turn.tool_counts.values())
    return {
        "input_tokens": turn.input_tokens,
        "input_tokens_details": {"cached_tokens": turn.cached_tokens},
        "output_tokens": turn.output_tokens,
        "output_tokens_details": {"reasoning_tokens": turn.reasoning_tokens},
        "total_tokens": turn.input_tokens + turn.output_tokens,
        "num_sources_used": 0,
        "num_server_side_tools_used": calls,
        "server_side_tool_usage_details": {
            f"{kind}_calls": turn.tool_counts.get(kind, 0)
            for kind in (
                "web_search",
                "x_search",
                "code_interpreter",
                "file_search",
                "mcp",
                "document_search",
            )
        },
        "cost_in_usd_ticks": ticks + calls * _TOOL_CALL_TICKS,
    }


# ----------------------------------------------------------------------------- streaming


class _Events:
    """SSE events with running sequence numbers, OpenAI's framing (`event:` + `data:`)."""

    def __init__(self, delay: float) -> None:
        self.chunks: list[SimChunk] = []
        self._delay = delay

    def send(self, kind: str, **fields: Any) -> None:
        payload = {"type": kind, "sequence_number": len(self.chunks), **fields}
        frame = f"event: {kind}\ndata: {dumps(payload)}\n\n"
        self.chunks.append(SimChunk(frame.encode(), self._delay))


def events(response: Mapping[str, Any], delay: float) -> list[SimChunk]:
    """The stream of a finished response: created, in progress, each item's events, then
    `response.completed` (or `response.incomplete`) with the whole response."""
    out = _Events(delay)
    pending = {
        **response,
        "status": "in_progress",
        "output": [],
        "usage": None,
        "completed_at": None,
        "incomplete_details": None,
    }
    out.send("response.created", response=pending)
    out.send("response.in_progress", response=pending)
    for index, item in enumerate(response["output"]):
        _item_events(out, index, item)
    ended = "response.completed" if response["status"] == "completed" else "response.incomplete"
    out.send(ended, response=response)
    return out.chunks


def _item_events(out: _Events, index: int, item: Mapping[str, Any]) -> None:
    kind, item_id = item["type"], item["id"]
    where = {"item_id": item_id, "output_index": index}
    if kind == "message":
        part = item["content"][0]
        empty = {**part, "text": "", "annotations": []}
        out.send(
            "response.output_item.added",
            output_index=index,
            item={**item, "status": "in_progress", "content": []},
        )
        out.send("response.content_part.added", content_index=0, part=empty, **where)
        for piece in split_text(part["text"]):
            out.send(
                "response.output_text.delta", content_index=0, delta=piece, logprobs=[], **where
            )
        for number, note in enumerate(part["annotations"]):
            out.send(
                "response.output_text.annotation.added",
                content_index=0,
                annotation_index=number,
                annotation=note,
                **where,
            )
        out.send(
            "response.output_text.done", content_index=0, text=part["text"], logprobs=[], **where
        )
        out.send("response.content_part.done", content_index=0, part=part, **where)
    elif kind == "reasoning":
        started = {k: v for k, v in item.items() if k != "encrypted_content"}
        out.send(
            "response.output_item.added",
            output_index=index,
            item={**started, "summary": [], "status": "in_progress"},
        )
        for number, summary in enumerate(item["summary"]):
            out.send(
                "response.reasoning_summary_part.added",
                summary_index=number,
                part={**summary, "text": ""},
                **where,
            )
            for piece in split_text(summary["text"]):
                out.send(
                    "response.reasoning_summary_text.delta",
                    summary_index=number,
                    delta=piece,
                    **where,
                )
            out.send(
                "response.reasoning_summary_text.done",
                summary_index=number,
                text=summary["text"],
                **where,
            )
            out.send(
                "response.reasoning_summary_part.done", summary_index=number, part=summary, **where
            )
    elif kind == "function_call":
        out.send(
            "response.output_item.added",
            output_index=index,
            item={**item, "arguments": "", "status": "in_progress"},
        )
        # xAI sends a call's arguments whole: one delta.
        out.send("response.function_call_arguments.delta", delta=item["arguments"], **where)
        out.send(
            "response.function_call_arguments.done",
            arguments=item["arguments"],
            name=item["name"],
            **where,
        )
    else:
        _server_item_events(out, index, item, where)
    out.send("response.output_item.done", output_index=index, item=item)


def _server_item_events(
    out: _Events, index: int, item: Mapping[str, Any], where: Mapping[str, Any]
) -> None:
    kind = item["type"]
    started: dict[str, Any] = {**item, "status": "in_progress"}
    if "action" in item:
        started["action"] = {**item["action"], "query": "", "sources": []}
    for key, empty in (("outputs", []), ("results", []), ("output", None), ("code", "")):
        if key in item:
            started[key] = empty
    out.send("response.output_item.added", output_index=index, item=started)
    out.send(f"response.{kind}.in_progress", **where)
    if kind == "code_interpreter_call":
        out.send("response.code_interpreter_call.interpreting", **where)
        out.send("response.code_interpreter_call_code.delta", delta=item["code"], **where)
        out.send("response.code_interpreter_call_code.done", code=item["code"], **where)
    elif kind == "mcp_call":
        out.send("response.mcp_call_arguments.delta", delta=item["arguments"], **where)
        out.send("response.mcp_call_arguments.done", arguments=item["arguments"], **where)
    else:
        out.send(f"response.{kind}.searching", **where)
    out.send(f"response.{kind}.completed", **where)
