"""Responses API wire models (`/v1/responses`): the response, its output items, usage, stream
events.

xAI does not document every item and event it sends (the reference marks stream events
UNCONFIRMED), so every union here has a fallback: an output item, content part, annotation or
stream event of a type these models do not know parses into an `Unknown...` model that keeps
all its fields (`model_extra`) instead of failing the whole response. Shapes follow OpenAI's
Responses API and the replies xAI has been seen to send: server-side tool calls with either
an `action` (2026) or `name`/`arguments` (2025), annotations with only a `url`, usage that
counts reasoning inside `output_tokens`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import Discriminator, Tag

from ._base import WireModel
from .usage import TICKS_PER_USD

__all__ = [
    "CodeInterpreterCall",
    "CodeInterpreterCodeDeltaEvent",
    "CodeInterpreterCodeDoneEvent",
    "CodeInterpreterOutput",
    "CompactedResponse",
    "CompactionItem",
    "ContentPart",
    "ContentPartAddedEvent",
    "ContentPartDoneEvent",
    "FileSearchCall",
    "FileSearchResult",
    "FunctionCallArgumentsDeltaEvent",
    "FunctionCallArgumentsDoneEvent",
    "FunctionCallOutput",
    "IncompleteDetails",
    "InputImage",
    "InputItemList",
    "InputText",
    "InputTokensDetails",
    "McpCall",
    "OutputItem",
    "OutputItemAddedEvent",
    "OutputItemDoneEvent",
    "OutputText",
    "OutputTextAnnotationAddedEvent",
    "OutputTextDeltaEvent",
    "OutputTextDoneEvent",
    "OutputTokensDetails",
    "ReasoningSummaryTextDeltaEvent",
    "ReasoningSummaryTextDoneEvent",
    "Refusal",
    "RefusalDeltaEvent",
    "RefusalDoneEvent",
    "Response",
    "ResponseCompletedEvent",
    "ResponseCreatedEvent",
    "ResponseDeleted",
    "ResponseError",
    "ResponseErrorEvent",
    "ResponseEvent",
    "ResponseFailedEvent",
    "ResponseFunctionCall",
    "ResponseInProgressEvent",
    "ResponseIncompleteEvent",
    "ResponseMessage",
    "ResponseReasoning",
    "ResponseStreamEvent",
    "ResponseUsage",
    "ServerSideToolUsage",
    "ServerToolCall",
    "ServerToolCallEvent",
    "SummaryText",
    "UnknownAnnotation",
    "UnknownContent",
    "UnknownEvent",
    "UnknownItem",
    "UrlCitation",
    "WebSearchAction",
    "WebSearchCall",
    "WebSearchSource",
    "XSearchCall",
]


def _tag_by_type(known: frozenset[str], fallback: str) -> Callable[[Any], str]:
    """A discriminator that sends every `type` it does not know to the fallback model."""

    def tag(value: Any) -> str:
        kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
        return kind if isinstance(kind, str) and kind in known else fallback

    return tag


# ----------------------------------------------------------------------------- annotations


class UrlCitation(WireModel):
    """A web or X source the text cites. xAI has sent it with only `url`; the span and title
    come when the server has them."""

    type: Literal["url_citation"] = "url_citation"
    url: str
    title: str | None = None
    start_index: int | None = None
    end_index: int | None = None


class UnknownAnnotation(WireModel):
    """An annotation of a type these models do not know (`file_citation`...), kept whole."""

    type: str = ""


Annotation = Annotated[
    Annotated[UrlCitation, Tag("url_citation")] | Annotated[UnknownAnnotation, Tag("*")],
    Discriminator(_tag_by_type(frozenset({"url_citation"}), "*")),
]

# ----------------------------------------------------------------------------- content parts


class OutputText(WireModel):
    """Text the model wrote, with the sources it cites."""

    type: Literal["output_text"] = "output_text"
    text: str = ""
    annotations: list[Annotation] = []
    logprobs: list[Any] | None = None


class Refusal(WireModel):
    """The model declined; `refusal` says why."""

    type: Literal["refusal"] = "refusal"
    refusal: str = ""


class InputText(WireModel):
    """Text in an input message (as `input_items` lists it back)."""

    type: Literal["input_text"] = "input_text"
    text: str = ""


class InputImage(WireModel):
    """An image in an input message: a URL (https or data:) or an uploaded file's id."""

    type: Literal["input_image"] = "input_image"
    image_url: str | None = None
    file_id: str | None = None
    detail: str | None = None


class UnknownContent(WireModel):
    """A content part of a type these models do not know (`input_file`, `input_audio`...)."""

    type: str = ""


_CONTENT_TYPES = frozenset({"output_text", "refusal", "input_text", "input_image"})
ContentPart = Annotated[
    (
        Annotated[OutputText, Tag("output_text")]
        | Annotated[Refusal, Tag("refusal")]
        | Annotated[InputText, Tag("input_text")]
        | Annotated[InputImage, Tag("input_image")]
        | Annotated[UnknownContent, Tag("*")]
    ),
    Discriminator(_tag_by_type(_CONTENT_TYPES, "*")),
]
"""One part of a message's `content`: a known part model or `UnknownContent`."""

# ----------------------------------------------------------------------------- output items


class ResponseMessage(WireModel):
    """A message: the assistant's answer in `output`, or an input message in `input_items`."""

    type: Literal["message"] = "message"
    id: str | None = None
    role: str = "assistant"
    status: str | None = None
    content: list[ContentPart] | str = []
    """Parts; an input message listed back may carry plain text instead."""

    @property
    def text(self) -> str:
        """The text of every `output_text` (or `input_text`) part, joined."""
        if isinstance(self.content, str):
            return self.content
        return "".join(p.text for p in self.content if isinstance(p, OutputText | InputText))

    @property
    def refusal(self) -> str | None:
        """The refusal text when the model declined, else None."""
        if isinstance(self.content, str):
            return None
        refusals = [p.refusal for p in self.content if isinstance(p, Refusal)]
        return "".join(refusals) if refusals else None


class ResponseFunctionCall(WireModel):
    """A call of one of your function tools: run it and send back a `function_call_output`
    with the same `call_id`."""

    type: Literal["function_call"] = "function_call"
    call_id: str
    name: str
    arguments: str = ""
    """The arguments as the model wrote them (JSON text)."""
    id: str | None = None
    status: str | None = None


class FunctionCallOutput(WireModel):
    """A function's result, as sent in `input` (and listed back by `input_items`)."""

    type: Literal["function_call_output"] = "function_call_output"
    call_id: str
    output: str | list[Any] = ""
    id: str | None = None
    status: str | None = None


class SummaryText(WireModel):
    """One part of a reasoning summary."""

    type: str = "summary_text"
    text: str = ""


class ResponseReasoning(WireModel):
    """The model's reasoning: a summary (visible-reasoning models) and, when the request
    included `reasoning.encrypted_content`, an opaque blob to send back in a later `input`."""

    type: Literal["reasoning"] = "reasoning"
    id: str | None = None
    summary: list[SummaryText] = []
    encrypted_content: str | None = None
    content: list[Any] | None = None
    status: str | None = None

    @property
    def text(self) -> str:
        """The summary's text, joined."""
        return "".join(part.text for part in self.summary)


class _ServerToolCallBase(WireModel):
    """A tool the server ran itself. 2025 replies name it with `name` and `arguments` (a JSON
    text); 2026 replies describe it with an `action`. Both are kept."""

    id: str = ""
    status: str | None = None
    name: str | None = None
    arguments: str | None = None
    call_id: str | None = None

    def _argument(self, key: str) -> str | None:
        try:
            value = json.loads(self.arguments or "")
        except ValueError:
            return None
        found = value.get(key) if isinstance(value, dict) else None
        return found if isinstance(found, str) else None


class WebSearchSource(WireModel):
    """A page a search looked at."""

    type: str = "url"
    url: str = ""


class WebSearchAction(WireModel):
    """What a search did: its query and the sources it found."""

    type: str = "search"
    query: str | None = None
    sources: list[WebSearchSource] = []


class WebSearchCall(_ServerToolCallBase):
    """A web search the server ran."""

    type: Literal["web_search_call"] = "web_search_call"
    action: WebSearchAction | None = None

    @property
    def query(self) -> str | None:
        """The search query, from `action` or from `arguments`."""
        if self.action is not None and self.action.query:
            return self.action.query
        return self._argument("query")


class XSearchCall(_ServerToolCallBase):
    """A search of X posts the server ran (xAI only)."""

    type: Literal["x_search_call"] = "x_search_call"
    action: WebSearchAction | None = None

    @property
    def query(self) -> str | None:
        """The search query, from `action` or from `arguments`."""
        if self.action is not None and self.action.query:
            return self.action.query
        return self._argument("query")


class CodeInterpreterOutput(WireModel):
    """One output of a code run: `logs` text or an `image` URL."""

    type: str = "logs"
    logs: str | None = None
    url: str | None = None


class CodeInterpreterCall(_ServerToolCallBase):
    """Code the server ran (`code_interpreter` on the wire; some xAI replies say
    `code_execution_call`)."""

    type: Literal["code_interpreter_call", "code_execution_call"] = "code_interpreter_call"
    code: str | None = None
    container_id: str | None = None
    outputs: list[CodeInterpreterOutput] | None = None

    @property
    def source(self) -> str | None:
        """The code, from `code` or from `arguments`."""
        return self.code if self.code is not None else self._argument("code")

    @property
    def logs(self) -> str:
        """Every `logs` output, joined with newlines."""
        return "\n".join(o.logs for o in self.outputs or () if o.logs)


class FileSearchResult(WireModel):
    """A passage a file search found."""

    file_id: str | None = None
    filename: str | None = None
    score: float | None = None
    text: str | None = None
    attributes: dict[str, Any] | None = None


class FileSearchCall(_ServerToolCallBase):
    """A search of your collections (vector stores) the server ran."""

    type: Literal["file_search_call"] = "file_search_call"
    queries: list[str] = []
    results: list[FileSearchResult] | None = None


class McpCall(_ServerToolCallBase):
    """A tool of a remote MCP server, called by the server."""

    type: Literal["mcp_call"] = "mcp_call"
    server_label: str | None = None
    output: str | None = None
    error: Any = None


class CompactionItem(WireModel):
    """A compacted stretch of conversation (from `/responses/compact`): send it back in
    `input` in place of the items it replaces."""

    type: Literal["compaction"] = "compaction"
    id: str | None = None
    encrypted_content: str = ""


class UnknownItem(WireModel):
    """An output item of a type these models do not know, kept whole."""

    type: str = ""
    id: str | None = None


_ITEM_TYPES = frozenset(
    {
        "message",
        "function_call",
        "function_call_output",
        "reasoning",
        "web_search_call",
        "x_search_call",
        "code_interpreter_call",
        "code_execution_call",
        "file_search_call",
        "mcp_call",
        "compaction",
    }
)


def _item_tag(value: Any) -> str:
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    if kind is None and isinstance(value, dict) and "role" in value:
        return "message"  # the short input form: {"role": "user", "content": "..."}
    if kind == "code_execution_call":
        return "code_interpreter_call"
    return kind if isinstance(kind, str) and kind in _ITEM_TYPES else "*"


OutputItem = Annotated[
    (
        Annotated[ResponseMessage, Tag("message")]
        | Annotated[ResponseFunctionCall, Tag("function_call")]
        | Annotated[FunctionCallOutput, Tag("function_call_output")]
        | Annotated[ResponseReasoning, Tag("reasoning")]
        | Annotated[WebSearchCall, Tag("web_search_call")]
        | Annotated[XSearchCall, Tag("x_search_call")]
        | Annotated[CodeInterpreterCall, Tag("code_interpreter_call")]
        | Annotated[FileSearchCall, Tag("file_search_call")]
        | Annotated[McpCall, Tag("mcp_call")]
        | Annotated[CompactionItem, Tag("compaction")]
        | Annotated[UnknownItem, Tag("*")]
    ),
    Discriminator(_item_tag),
]
"""One item of `output` (or of `input_items`): a known item model or `UnknownItem`."""

ServerToolCall = WebSearchCall | XSearchCall | CodeInterpreterCall | FileSearchCall | McpCall
"""The items for tools the server ran itself."""

# ----------------------------------------------------------------------------- usage


class InputTokensDetails(WireModel):
    """How the input tokens split."""

    cached_tokens: int | None = None


class OutputTokensDetails(WireModel):
    """How the output tokens split."""

    reasoning_tokens: int | None = None


class ServerSideToolUsage(WireModel):
    """xAI's count of server-side tool calls, per tool."""

    web_search_calls: int | None = None
    x_search_calls: int | None = None
    code_interpreter_calls: int | None = None
    file_search_calls: int | None = None
    mcp_calls: int | None = None
    document_search_calls: int | None = None


class ResponseUsage(WireModel):
    """Token usage of one response.

    Unlike xAI's chat usage, `output_tokens` includes the reasoning tokens (OpenAI's way,
    and what xAI's Responses replies show): `total_tokens = input_tokens + output_tokens`.
    """

    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    input_tokens_details: InputTokensDetails | None = None
    output_tokens_details: OutputTokensDetails | None = None
    num_sources_used: int | None = None
    num_server_side_tools_used: int | None = None
    server_side_tool_usage_details: ServerSideToolUsage | None = None
    cost_in_usd_ticks: int | None = None
    """xAI's cost of the request, in ticks: 10^10 ticks make one US dollar."""

    @property
    def cached_tokens(self) -> int:
        """Input tokens served from the cache, 0 when the server reported none."""
        details = self.input_tokens_details
        return (details.cached_tokens or 0) if details else 0

    @property
    def reasoning_tokens(self) -> int:
        """Reasoning tokens (part of `output_tokens`), 0 when the server reported none."""
        details = self.output_tokens_details
        return (details.reasoning_tokens or 0) if details else 0

    @property
    def server_side_tool_calls(self) -> int:
        """Server-side tool calls billed: the total xAI reports, else the per-tool counts."""
        if self.num_server_side_tools_used is not None:
            return self.num_server_side_tools_used
        details = self.server_side_tool_usage_details
        if details is None:
            return 0
        counts = details.model_dump(exclude_none=True).values()
        return sum(value for value in counts if isinstance(value, int))

    @property
    def cost_usd(self) -> float | None:
        """The cost in US dollars when the server reported it."""
        if self.cost_in_usd_ticks is None:
            return None
        return self.cost_in_usd_ticks / TICKS_PER_USD


# ----------------------------------------------------------------------------- responses


class ResponseError(WireModel):
    """Why a response failed."""

    code: str | None = None
    message: str = ""


class IncompleteDetails(WireModel):
    """Why a response stopped early (`max_output_tokens`, `content_filter`...)."""

    reason: str | None = None


class _WithOutput(WireModel):
    """What responses and compactions share: output items, read conveniently."""

    output: list[OutputItem] = []

    @property
    def messages(self) -> list[ResponseMessage]:
        """The message items of `output`."""
        return [item for item in self.output if isinstance(item, ResponseMessage)]

    @property
    def output_text(self) -> str:
        """The text of every assistant message, joined (what most callers want)."""
        return "".join(m.text for m in self.messages if m.role == "assistant")

    @property
    def function_calls(self) -> list[ResponseFunctionCall]:
        """The calls of your function tools, in order."""
        return [item for item in self.output if isinstance(item, ResponseFunctionCall)]

    @property
    def server_tool_calls(self) -> list[ServerToolCall]:
        """The calls the server ran itself (web and X search, code, files, MCP), in order."""
        kinds = (WebSearchCall, XSearchCall, CodeInterpreterCall, FileSearchCall, McpCall)
        return [item for item in self.output if isinstance(item, kinds)]

    @property
    def reasoning(self) -> list[ResponseReasoning]:
        """The reasoning items, in order."""
        return [item for item in self.output if isinstance(item, ResponseReasoning)]

    @property
    def citations(self) -> list[UrlCitation]:
        """Every URL the messages cite, in order, each once."""
        seen: dict[str, UrlCitation] = {}
        for message in self.messages:
            if isinstance(message.content, str):
                continue
            for part in message.content:
                if isinstance(part, OutputText):
                    for note in part.annotations:
                        if isinstance(note, UrlCitation):
                            seen.setdefault(note.url, note)
        return list(seen.values())


class Response(_WithOutput):
    """A model response (`object: "response"`), from `create`, `retrieve` or a stream's end."""

    id: str = ""
    object: str = "response"
    created_at: int | float = 0
    completed_at: int | float | None = None
    status: str | None = None
    """`completed`, `in_progress`, `incomplete` or `failed`."""
    model: str = ""
    usage: ResponseUsage | None = None
    store: bool | None = None
    previous_response_id: str | None = None
    error: ResponseError | None = None
    incomplete_details: IncompleteDetails | None = None
    instructions: Any = None
    max_output_tokens: int | None = None
    parallel_tool_calls: bool | None = None
    temperature: float | None = None
    top_p: float | None = None
    tool_choice: Any = None
    tools: list[dict[str, Any]] = []
    text: dict[str, Any] | None = None
    """The text configuration the request asked for (`{"format": {...}}`)."""
    metadata: dict[str, Any] | None = None


class CompactedResponse(_WithOutput):
    """What `/responses/compact` answers: items to send as the next `input` instead of the
    conversation they compact."""

    id: str = ""
    object: str = "response.compaction"
    created_at: int | float = 0
    usage: ResponseUsage | None = None


class ResponseDeleted(WireModel):
    """What deleting a stored response answers."""

    id: str = ""
    object: str = "response"
    deleted: bool = False


class InputItemList(WireModel):
    """`GET /responses/{id}/input_items`: the items the response was made from."""

    object: str = "list"
    data: list[OutputItem] = []
    first_id: str | None = None
    last_id: str | None = None
    has_more: bool = False


# ----------------------------------------------------------------------------- stream events


class ResponseEvent(WireModel):
    """The base of every stream event: its `type` and its place in the stream."""

    type: str = ""
    sequence_number: int | None = None


class ResponseCreatedEvent(ResponseEvent):
    """The response exists (`status: in_progress`, no output yet)."""

    type: Literal["response.created"] = "response.created"
    response: Response


class ResponseInProgressEvent(ResponseEvent):
    """The response is being made (or queued)."""

    type: Literal["response.in_progress", "response.queued"] = "response.in_progress"
    response: Response


class ResponseCompletedEvent(ResponseEvent):
    """The whole response, done (`response.done` is an older name some servers send)."""

    type: Literal["response.completed", "response.done"] = "response.completed"
    response: Response


class ResponseFailedEvent(ResponseEvent):
    """The response failed; `response.error` says why."""

    type: Literal["response.failed"] = "response.failed"
    response: Response


class ResponseIncompleteEvent(ResponseEvent):
    """The response stopped early; `response.incomplete_details` says why."""

    type: Literal["response.incomplete"] = "response.incomplete"
    response: Response


class OutputItemAddedEvent(ResponseEvent):
    """An output item begins (partial: its content comes in later events)."""

    type: Literal["response.output_item.added"] = "response.output_item.added"
    output_index: int = 0
    item: OutputItem


class OutputItemDoneEvent(ResponseEvent):
    """An output item, complete."""

    type: Literal["response.output_item.done"] = "response.output_item.done"
    output_index: int = 0
    item: OutputItem


class ContentPartAddedEvent(ResponseEvent):
    """A content part of a message begins."""

    type: Literal["response.content_part.added"] = "response.content_part.added"
    item_id: str = ""
    output_index: int = 0
    content_index: int = 0
    part: ContentPart


class ContentPartDoneEvent(ResponseEvent):
    """A content part of a message, complete."""

    type: Literal["response.content_part.done"] = "response.content_part.done"
    item_id: str = ""
    output_index: int = 0
    content_index: int = 0
    part: ContentPart


class OutputTextDeltaEvent(ResponseEvent):
    """A piece of a message's text."""

    type: Literal["response.output_text.delta"] = "response.output_text.delta"
    item_id: str = ""
    output_index: int = 0
    content_index: int = 0
    delta: str = ""


class OutputTextDoneEvent(ResponseEvent):
    """A text part's whole text."""

    type: Literal["response.output_text.done"] = "response.output_text.done"
    item_id: str = ""
    output_index: int = 0
    content_index: int = 0
    text: str = ""


class OutputTextAnnotationAddedEvent(ResponseEvent):
    """A citation added to a text part."""

    type: Literal["response.output_text.annotation.added"] = "response.output_text.annotation.added"
    item_id: str = ""
    output_index: int = 0
    content_index: int = 0
    annotation_index: int = 0
    annotation: Annotation


class RefusalDeltaEvent(ResponseEvent):
    """A piece of a refusal."""

    type: Literal["response.refusal.delta"] = "response.refusal.delta"
    item_id: str = ""
    output_index: int = 0
    content_index: int = 0
    delta: str = ""


class RefusalDoneEvent(ResponseEvent):
    """A refusal's whole text."""

    type: Literal["response.refusal.done"] = "response.refusal.done"
    item_id: str = ""
    output_index: int = 0
    content_index: int = 0
    refusal: str = ""


class FunctionCallArgumentsDeltaEvent(ResponseEvent):
    """A piece of a function call's arguments (xAI sends them whole, in one piece)."""

    type: Literal["response.function_call_arguments.delta"] = (
        "response.function_call_arguments.delta"
    )
    item_id: str = ""
    output_index: int = 0
    delta: str = ""


class FunctionCallArgumentsDoneEvent(ResponseEvent):
    """A function call's whole arguments."""

    type: Literal["response.function_call_arguments.done"] = "response.function_call_arguments.done"
    item_id: str = ""
    output_index: int = 0
    arguments: str = ""
    name: str | None = None


class ReasoningSummaryTextDeltaEvent(ResponseEvent):
    """A piece of a reasoning summary."""

    type: Literal["response.reasoning_summary_text.delta"] = "response.reasoning_summary_text.delta"
    item_id: str = ""
    output_index: int = 0
    summary_index: int = 0
    delta: str = ""


class ReasoningSummaryTextDoneEvent(ResponseEvent):
    """A reasoning summary part's whole text."""

    type: Literal["response.reasoning_summary_text.done"] = "response.reasoning_summary_text.done"
    item_id: str = ""
    output_index: int = 0
    summary_index: int = 0
    text: str = ""


class CodeInterpreterCodeDeltaEvent(ResponseEvent):
    """A piece of the code a code-interpreter call runs."""

    type: Literal["response.code_interpreter_call_code.delta"] = (
        "response.code_interpreter_call_code.delta"
    )
    item_id: str = ""
    output_index: int = 0
    delta: str = ""


class CodeInterpreterCodeDoneEvent(ResponseEvent):
    """The whole code of a code-interpreter call."""

    type: Literal["response.code_interpreter_call_code.done"] = (
        "response.code_interpreter_call_code.done"
    )
    item_id: str = ""
    output_index: int = 0
    code: str = ""


_SERVER_TOOL_EVENT = re.compile(r"response\.(\w+_call)\.(\w+)")


class ServerToolCallEvent(ResponseEvent):
    """Progress of a server-side tool call: `response.<tool>_call.<phase>`, such as
    `response.web_search_call.searching` or `response.mcp_call.completed`."""

    item_id: str = ""
    output_index: int = 0

    @property
    def tool(self) -> str:
        """The item type the event is about (`web_search_call`, `code_interpreter_call`...)."""
        match = _SERVER_TOOL_EVENT.fullmatch(self.type)
        return match.group(1) if match else ""

    @property
    def phase(self) -> str:
        """`in_progress`, `searching`, `interpreting`, `completed`, `failed`..."""
        match = _SERVER_TOOL_EVENT.fullmatch(self.type)
        return match.group(2) if match else ""


class ResponseErrorEvent(ResponseEvent):
    """An error sent inside the stream (the stream raises `APIStreamError` for it)."""

    type: Literal["error"] = "error"
    code: str | None = None
    message: str = ""
    param: str | None = None


class UnknownEvent(ResponseEvent):
    """An event of a type these models do not know, kept whole."""


_EVENT_MODELS: dict[str, str] = {
    "response.created": "created",
    "response.in_progress": "in_progress",
    "response.queued": "in_progress",
    "response.completed": "completed",
    "response.done": "completed",
    "response.failed": "failed",
    "response.incomplete": "incomplete",
    "response.output_item.added": "item_added",
    "response.output_item.done": "item_done",
    "response.content_part.added": "part_added",
    "response.content_part.done": "part_done",
    "response.output_text.delta": "text_delta",
    "response.output_text.done": "text_done",
    "response.output_text.annotation.added": "annotation",
    "response.refusal.delta": "refusal_delta",
    "response.refusal.done": "refusal_done",
    "response.function_call_arguments.delta": "arguments_delta",
    "response.function_call_arguments.done": "arguments_done",
    "response.reasoning_summary_text.delta": "summary_delta",
    "response.reasoning_summary_text.done": "summary_done",
    "response.code_interpreter_call_code.delta": "code_delta",
    "response.code_interpreter_call_code.done": "code_done",
    "error": "error",
}


def _event_tag(value: Any) -> str:
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    if not isinstance(kind, str):
        return "unknown"
    tag = _EVENT_MODELS.get(kind)
    if tag is not None:
        return tag
    return "server_tool" if _SERVER_TOOL_EVENT.fullmatch(kind) else "unknown"


ResponseStreamEvent = Annotated[
    (
        Annotated[ResponseCreatedEvent, Tag("created")]
        | Annotated[ResponseInProgressEvent, Tag("in_progress")]
        | Annotated[ResponseCompletedEvent, Tag("completed")]
        | Annotated[ResponseFailedEvent, Tag("failed")]
        | Annotated[ResponseIncompleteEvent, Tag("incomplete")]
        | Annotated[OutputItemAddedEvent, Tag("item_added")]
        | Annotated[OutputItemDoneEvent, Tag("item_done")]
        | Annotated[ContentPartAddedEvent, Tag("part_added")]
        | Annotated[ContentPartDoneEvent, Tag("part_done")]
        | Annotated[OutputTextDeltaEvent, Tag("text_delta")]
        | Annotated[OutputTextDoneEvent, Tag("text_done")]
        | Annotated[OutputTextAnnotationAddedEvent, Tag("annotation")]
        | Annotated[RefusalDeltaEvent, Tag("refusal_delta")]
        | Annotated[RefusalDoneEvent, Tag("refusal_done")]
        | Annotated[FunctionCallArgumentsDeltaEvent, Tag("arguments_delta")]
        | Annotated[FunctionCallArgumentsDoneEvent, Tag("arguments_done")]
        | Annotated[ReasoningSummaryTextDeltaEvent, Tag("summary_delta")]
        | Annotated[ReasoningSummaryTextDoneEvent, Tag("summary_done")]
        | Annotated[CodeInterpreterCodeDeltaEvent, Tag("code_delta")]
        | Annotated[CodeInterpreterCodeDoneEvent, Tag("code_done")]
        | Annotated[ServerToolCallEvent, Tag("server_tool")]
        | Annotated[ResponseErrorEvent, Tag("error")]
        | Annotated[UnknownEvent, Tag("unknown")]
    ),
    Discriminator(_event_tag),
]
"""Any stream event: a known event model, `ServerToolCallEvent`, or `UnknownEvent`."""
