"""The Responses API of the simulated server: `POST /v1/responses` (plain and streamed), the
stored responses behind `previous_response_id`, `GET`/`DELETE /v1/responses/{id}`,
`GET /v1/responses/{id}/input_items`, and `POST /v1/responses/compact`.

The simulated model is the chat one, reused whole: a request's input (after the stored
conversation it continues) becomes the chat conversation the policy reads, and the policy's
reply becomes output items. Declared server-side tools (web and X search, code, files, MCP)
are offered to the policy as functions; when it calls one, this module runs a canned version,
feeds the result back and asks again, as xAI's agentic loop does, until the model answers or
calls one of the client's own functions. Canned results come from a hash of the call's
arguments, so they are deterministic and never depend on particular prompts; nothing is ever
fetched or executed (code is only searched for arithmetic, evaluated by `_arith.safe_eval`).

Encrypted reasoning and compaction blobs are opaque to clients; the simulator reads its own
back. Output follows what xAI's Responses replies show: reasoning inside `output_tokens`,
`num_server_side_tools_used` and `server_side_tool_usage_details` in usage, `url_citation`
annotations, and OpenAI's stream event names.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ._answers import shorten
from ._chat import Answer, prompt_usage, shape_answer
from ._responses_input import (
    RESPONSE_FIELDS,
    Tools,
    chat_options,
    check_outputs_answer_calls,
    content_text,
    missing,
    normalize_input,
    read_tools,
    seal,
    to_chat,
)
from ._responses_output import Turn, answer_items, cite, events, reasoning_item, usage
from ._server_tools import ITEM_PREFIX, OfferedTool, run_server_tool
from ._validate import check_chat_request, check_context_window, check_fields, deserialize_error
from ._wire import ApiError, Code, SimResponse, json_response
from .faults import Fault
from .media import count_tokens
from .models import SimModel
from .reply import Policy, SimReply, SimToolCall

__all__ = ["SimResponses"]

_SSE_HEADERS = {"content-type": "text/event-stream", "cache-control": "no-cache"}

_ENCRYPTED_REASONING = "reasoning.encrypted_content"

_DEFAULT_TURNS = 5


class _Core(Protocol):
    """What the handlers need of `SimCore`."""

    policy: Policy
    chunk_delay: float

    def _model(self, name: str, kind: str) -> SimModel: ...
    def _uuid(self) -> str: ...
    def _call_id(self) -> str: ...
    def _clock(self) -> float: ...


class _Incoming(Protocol):
    """What the handlers need of a request."""

    raw: bytes
    fault: Fault | None
    param: str

    def json(self) -> dict[str, Any]: ...


Handler = Callable[[_Incoming], SimResponse]


def _split(
    reply: SimReply, server: Mapping[str, OfferedTool]
) -> tuple[list[SimToolCall], list[SimToolCall]]:
    ran = [c for c in reply.tool_calls if c.name in server]
    return ran, [c for c in reply.tool_calls if c.name not in server]


# ----------------------------------------------------------------------------- the store


@dataclass
class _Stored:
    body: dict[str, Any]
    inputs: list[dict[str, Any]]
    history: list[dict[str, Any]]
    """The conversation a continuation starts from: earlier turns, this input, this output."""
    prompt_tokens: int


class SimResponses:
    """The Responses handlers of one `SimCore`, and the responses it keeps.

    Args:
        core: The server whose policy, models, ids and clock to use.
        max_stored: Responses kept for `previous_response_id` and `retrieve`; the oldest go.
    """

    def __init__(self, core: _Core, *, max_stored: int = 1024) -> None:
        self._core = core
        self.max_stored = max_stored
        self._stored: OrderedDict[str, _Stored] = OrderedDict()

    def __len__(self) -> int:
        return len(self._stored)

    def route(self, rest: str) -> tuple[Mapping[str, Handler], str] | None:
        """The handlers for `/v1/responses/<rest>`, with the id; None when none match."""
        parts = rest.split("/")
        if len(parts) == 1 and parts[0]:
            return {"GET": self.retrieve, "DELETE": self.delete}, parts[0]
        if len(parts) == 2 and parts[0] and parts[1] == "input_items":
            return {"GET": self.input_items}, parts[0]
        return None

    # -- stored responses ------------------------------------------------------------------

    def _find(self, response_id: str) -> _Stored:
        stored = self._stored.get(response_id)
        if stored is None:
            raise ApiError(
                404, f"Response {response_id} does not exist or is not stored.", Code.NOT_FOUND
            )
        return stored

    def retrieve(self, request: _Incoming) -> SimResponse:
        """GET `/v1/responses/{id}`."""
        return json_response(self._find(request.param).body)

    def delete(self, request: _Incoming) -> SimResponse:
        """DELETE `/v1/responses/{id}`."""
        self._find(request.param)
        del self._stored[request.param]
        return json_response({"id": request.param, "object": "response", "deleted": True})

    def input_items(self, request: _Incoming) -> SimResponse:
        """GET `/v1/responses/{id}/input_items`, oldest first."""
        items = self._find(request.param).inputs
        return json_response(
            {
                "object": "list",
                "data": items,
                "first_id": items[0]["id"] if items else None,
                "last_id": items[-1]["id"] if items else None,
                "has_more": False,
            }
        )

    def _keep(self, response_id: str, stored: _Stored) -> None:
        self._stored[response_id] = stored
        while len(self._stored) > self.max_stored:
            self._stored.popitem(last=False)

    # -- create ----------------------------------------------------------------------------

    def create(self, request: _Incoming) -> SimResponse:
        """POST `/v1/responses`."""
        body = request.json()
        raw = request.raw
        check_fields(body, raw, RESPONSE_FIELDS, ("model", "input"))
        model = self._core._model(body["model"], "chat")
        for name in ("max_output_tokens", "max_turns"):
            if body.get(name) is not None and body[name] < 1:
                raise ApiError(400, f"{name} must be at least 1, got {body[name]}.")
        include = body.get("include") or []
        if not all(isinstance(value, str) for value in include):
            raise deserialize_error(raw, "include: invalid type, expected a sequence of strings")
        previous = (
            self._find(body["previous_response_id"])
            if body.get("previous_response_id") is not None
            else None
        )
        response_id = self._core._uuid()
        inputs = normalize_input(body["input"], raw, response_id)
        tools = read_tools(body.get("tools"), raw)
        history = (previous.history if previous else []) + inputs
        messages = to_chat(history, tools.mcp_names)
        check_outputs_answer_calls(messages)
        if body.get("instructions"):
            messages.insert(0, {"role": "system", "content": body["instructions"]})
        chat = {"model": body["model"], "messages": messages, **chat_options(body, raw)}
        offered = tools.functions + [t.definition() for t in tools.server.values()]
        if offered:
            chat["tools"] = offered
        check_chat_request(chat, raw, model)
        check_context_window(model, sum(prompt_usage(messages, chat.get("tools"))))
        turn = self._turn(
            chat,
            body,
            model,
            tools,
            request.fault,
            response_id,
            previous.prompt_tokens if previous else 0,
        )
        response = self._body(body, model, tools, turn, response_id)
        if body.get("store", True):
            self._keep(
                response_id, _Stored(response, inputs, history + turn.items, turn.max_prompt)
            )
        if body.get("stream"):
            return SimResponse(
                200, dict(_SSE_HEADERS), events=events(response, self._core.chunk_delay)
            )
        return json_response(response)

    def _turn(
        self,
        chat: dict[str, Any],
        body: Mapping[str, Any],
        model: SimModel,
        tools: Tools,
        fault: Fault | None,
        response_id: str,
        cached: int,
    ) -> Turn:
        """Ask the policy, running its server-side calls, until it answers or calls a
        function of the client's."""
        server = tools.server
        turns = body.get("max_turns") or _DEFAULT_TURNS
        items: list[dict[str, Any]] = []
        reasoning: list[str] = []
        prompts: list[int] = []
        counts: dict[str, int] = {}
        call_tokens = 0
        reply = SimReply()
        for turn in range(turns + 1):
            if turn == turns and server:
                # Past `max_turns` of server-side calls the model answers with what it has.
                chat = {**chat, "tools": tools.functions}
                if not tools.functions:
                    del chat["tools"]
                    chat.pop("tool_choice", None)
            prompts.append(sum(prompt_usage(chat["messages"], chat.get("tools"))))
            reply = self._core.policy(chat)
            if reply.reasoning and model.reasoning != "none":
                reasoning.append(reply.reasoning)
            ran, _ = _split(reply, server)
            if not ran:
                break
            new: list[dict[str, Any]] = []
            for call in ran:
                tool = server[call.name]
                item_id = f"{ITEM_PREFIX[tool.kind]}_{response_id}_{len(items) + len(new)}"
                item = run_server_tool(tool, call.arguments, item_id)
                new.append(item)
                counts[tool.kind] = counts.get(tool.kind, 0) + 1
                call_tokens += count_tokens(call.name) + count_tokens(call.arguments)
            items += new
            chat = {**chat, "messages": chat["messages"] + to_chat(new, tools.mcp_names)}
            if chat.get("tool_choice") not in (None, "none"):
                chat["tool_choice"] = "auto"  # forced once, as on xAI: then the model decides
            if len(ran) < len(reply.tool_calls):
                break  # it also called the client's functions: the turn ends with those
        reasoning_tokens = sum(count_tokens(text) for text in reasoning)
        answer = self._answer(
            reply, chat, body, model, tools, fault, reasoning_tokens + call_tokens
        )
        encrypted = _ENCRYPTED_REASONING in (body.get("include") or ())
        ordered = [reasoning_item(reasoning, model, response_id, encrypted)] if reasoning else []
        ordered += items + answer_items(answer, response_id)
        cite(ordered)
        status = "incomplete" if answer.finish_reason == "length" else "completed"
        cached += sum(prompts[:-1])  # each inner turn re-reads the one before it: cached
        return Turn(
            ordered,
            status,
            sum(prompts),
            min(cached, sum(prompts)),
            answer.completion_tokens + call_tokens + reasoning_tokens,
            reasoning_tokens,
            counts,
            max(prompts),
        )

    def _answer(
        self,
        reply: SimReply,
        chat: dict[str, Any],
        body: Mapping[str, Any],
        model: SimModel,
        tools: Tools,
        fault: Fault | None,
        spent: int,
    ) -> Answer:
        """The final reply, bent to the request as chat bends it (`shape_answer`)."""
        final = SimReply(
            content=reply.content, reasoning=None, tool_calls=tuple(_split(reply, tools.server)[1])
        )
        shaping = {**chat, "tools": tools.functions}
        limit = body.get("max_output_tokens")
        if limit is not None:
            if limit - spent < 1:
                return Answer("", None, 0, [], "length", 0)
            shaping["max_completion_tokens"] = limit - spent
        return shape_answer(final, shaping, model, fault, self._core._call_id)

    def _body(
        self, body: Mapping[str, Any], model: SimModel, tools: Tools, turn: Turn, response_id: str
    ) -> dict[str, Any]:
        created = int(self._core._clock())
        effort = (body.get("reasoning") or {}).get("effort")
        fmt = (body.get("text") or {}).get("format") or {"type": "text"}
        return {
            "id": response_id,
            "object": "response",
            "created_at": created,
            "completed_at": created if turn.status == "completed" else None,
            "status": turn.status,
            "model": model.response_name(effort),
            "output": turn.items,
            "usage": usage(model, turn),
            "store": body.get("store", True),
            "previous_response_id": body.get("previous_response_id"),
            "instructions": body.get("instructions"),
            "max_output_tokens": body.get("max_output_tokens"),
            "parallel_tool_calls": body.get("parallel_tool_calls", True),
            "reasoning": {"effort": effort, "summary": None},
            "temperature": body.get("temperature"),
            "top_p": body.get("top_p"),
            "text": {"format": fmt},
            "tool_choice": body.get("tool_choice", "auto"),
            "tools": tools.echo,
            "user": body.get("user"),
            "incomplete_details": (
                {"reason": "max_output_tokens"} if turn.status == "incomplete" else None
            ),
            "error": None,
            "metadata": body.get("metadata") or {},
            "prompt_cache_key": body.get("prompt_cache_key"),
            "background": False,
        }

    # -- compact ---------------------------------------------------------------------------

    def compact(self, request: _Incoming) -> SimResponse:
        """POST `/v1/responses/compact`: the conversation as one compaction item whose
        blob holds it with every message cut to its gist (tool calls kept with their
        results), a fraction of the original as a real compaction is."""
        body = request.json()
        raw = request.raw
        check_fields(body, raw, RESPONSE_FIELDS, ("model",))
        model = self._core._model(body["model"], "chat")
        if body.get("input") is None and body.get("previous_response_id") is None:
            raise missing(raw, "(body)", "input")
        response_id = self._core._uuid()
        history = (
            self._find(body["previous_response_id"]).history
            if body.get("previous_response_id") is not None
            else []
        )
        if body.get("input") is not None:
            history = history + normalize_input(body["input"], raw, response_id)
        messages = to_chat(history, {})
        kept = _compacted(messages)
        text_tokens, image_tokens = prompt_usage(messages, None)
        summary_tokens = sum(count_tokens(content_text(m.get("content"))) for m in kept)
        item = {
            "type": "compaction",
            "id": f"cmp_{response_id}",
            "encrypted_content": seal({"messages": kept}),
        }
        turn = Turn(
            [item],
            "completed",
            text_tokens + image_tokens,
            0,
            summary_tokens,
            0,
            {},
            text_tokens + image_tokens,
        )
        return json_response(
            {
                "id": response_id,
                "object": "response.compaction",
                "created_at": int(self._core._clock()),
                "output": [item],
                "usage": usage(model, turn),
            }
        )


def _compacted(messages: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    # The structure stays (tool calls with their results, so later items can still refer to
    # them); the words shrink to the gist, as a real compaction's do.
    limits = {"user": 160, "assistant": 100, "tool": 80}
    kept: list[dict[str, Any]] = []
    for message in messages:
        copy = dict(message)
        content = message.get("content")
        limit = limits.get(str(message.get("role")))
        if isinstance(content, list):
            content = "\n".join(
                p["text"] if p.get("type") == "text" else "[image]" for p in content
            )
            copy["content"] = content
        if limit is not None and isinstance(content, str):
            copy["content"] = shorten(content, limit)
        kept.append(copy)
    return kept
