"""OpenTelemetry traces of agent runs, following the GenAI semantic conventions.

`pip install 'agentkit[otel]'`, then `Agent(..., hooks=[OpenTelemetryHooks()])`. Each run is
an `invoke_agent {name}` span; each model request a `chat {model}` span under it, with the
client's retries as span events (the loop's capability fallbacks are events of the run's
span); each tool call an
`execute_tool {name}` span beside them. Spans carry the `gen_ai.*` attributes (provider
`xai`, request and response model, response id, finish reasons, token usage, tool call id,
conversation id) and the run's cost as `agentkit.usage.cost_usd`.

Message and argument content carries user data, so it is left out unless
`include_content=True` (the convention's `gen_ai.input.messages`, `gen_ai.output.messages`,
`gen_ai.tool.call.arguments` and `gen_ai.tool.call.result`). Credentials never reach a span:
the hooks only see request bodies, and error text is agentkit's own, already redacted.

With no tracer provider set (OpenTelemetry's default no-op), a run costs one check: the run
span does not record, and nothing else is built.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, TextIO

from ._version import __version__
from .hooks import RunHooks, RunInfo

try:
    from opentelemetry import trace
    from opentelemetry.trace import Span, SpanKind, Status, StatusCode
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    raise ImportError(
        "agentkit.otel needs OpenTelemetry: pip install 'agentkit[otel]'"
    ) from exc

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import ReadableSpan

    from ._result import RunResult
    from .errors import APIError
    from .types.chat import ChatCompletion, ToolCall

__all__ = ["OpenTelemetryHooks", "print_tree", "tree_printer"]

PROVIDER = "xai"
# Request fields the conventions name, and the attribute each goes to.
_REQUEST_ATTRIBUTES = {
    "temperature": "gen_ai.request.temperature",
    "top_p": "gen_ai.request.top_p",
    "max_tokens": "gen_ai.request.max_tokens",
    "max_completion_tokens": "gen_ai.request.max_tokens",
    "frequency_penalty": "gen_ai.request.frequency_penalty",
    "presence_penalty": "gen_ai.request.presence_penalty",
    "seed": "gen_ai.request.seed",
    "stop": "gen_ai.request.stop_sequences",
    "reasoning_effort": "gen_ai.request.reasoning_effort",
}


class OpenTelemetryHooks(RunHooks):
    """Hooks that turn runs into OpenTelemetry spans.

    Args:
        tracer_provider: Where spans go; default the global one (`trace.set_tracer_provider`).
        include_content: Put messages, tool arguments and tool results on the spans. They hold
            whatever users and tools wrote, so this is off unless you ask.
    """

    def __init__(
        self, *, tracer_provider: trace.TracerProvider | None = None, include_content: bool = False
    ) -> None:
        self._tracer = trace.get_tracer("agentkit", __version__, tracer_provider=tracer_provider)
        self.include_content = include_content
        # Open spans by run, and by (run, call id) for tools: runs and a turn's tool calls
        # overlap, so nothing can rely on OpenTelemetry's "current span".
        self._runs: dict[str, Span] = {}
        self._requests: dict[str, Span] = {}
        self._tools: dict[tuple[str, str], Span] = {}

    # -- the run --------------------------------------------------------------------------

    def on_run_start(self, run: RunInfo) -> None:
        name = run.agent_name or "agent"
        span = self._tracer.start_span(f"invoke_agent {name}", kind=SpanKind.INTERNAL)
        if not span.is_recording():
            return  # no provider: the other hooks find no run span and do nothing
        span.set_attributes({
            "gen_ai.operation.name": "invoke_agent",
            "gen_ai.provider.name": PROVIDER,
            "gen_ai.request.model": run.model,
            "agentkit.run.id": run.run_id,
            "agentkit.run.resumed": run.resumed,
        })
        if run.agent_name:
            span.set_attribute("gen_ai.agent.name", run.agent_name)
        if run.conversation_id:
            span.set_attribute("gen_ai.conversation.id", run.conversation_id)
        self._runs[run.run_id] = span

    def on_run_end(
        self, run: RunInfo, result: RunResult[Any] | None, error: BaseException | None
    ) -> None:
        span = self._runs.pop(run.run_id, None)
        if span is None:
            return
        usage = run.ctx.usage
        span.set_attributes(_usage_attributes(
            usage.prompt_tokens, usage.completion_tokens, usage.reasoning_tokens,
            usage.cached_tokens, usage.cost_usd,
        ))
        span.set_attribute("agentkit.usage.requests", usage.requests)
        span.set_attribute("agentkit.usage.tool_calls", usage.tool_calls)
        if result is not None:
            span.set_attribute("agentkit.run.paused", result.paused)
            if self.include_content and not result.paused:
                span.set_attribute("gen_ai.output.messages", _json(result.new_messages()))
        if error is not None:
            _failed(span, error)
        span.end()

    # -- model requests -------------------------------------------------------------------

    def on_model_request(self, run: RunInfo, request: Mapping[str, Any]) -> None:
        parent = self._runs.get(run.run_id)
        if parent is None:
            return
        model = str(request.get("model", run.model))
        span = self._tracer.start_span(
            f"chat {model}", context=trace.set_span_in_context(parent), kind=SpanKind.CLIENT
        )
        span.set_attributes({
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": PROVIDER,
            "gen_ai.request.model": model,
        })
        for field, attribute in _REQUEST_ATTRIBUTES.items():
            value = request.get(field)
            if isinstance(value, str):
                value = [value] if field == "stop" else value
            if isinstance(value, bool | int | float | str) or (
                isinstance(value, list) and all(isinstance(v, str) for v in value)
            ):
                span.set_attribute(attribute, value)
        if run.conversation_id:
            span.set_attribute("gen_ai.conversation.id", run.conversation_id)
        if request.get("stream"):
            span.set_attribute("agentkit.request.stream", True)
        if self.include_content:
            span.set_attribute("gen_ai.input.messages", _json(request.get("messages", [])))
        self._requests[run.run_id] = span

    def on_retry(self, run: RunInfo, error: APIError) -> None:
        span = self._requests.get(run.run_id)
        if span is not None:
            span.add_event("retry", {"error.type": type(error).__name__, "message": error.message})

    def on_fallback(self, run: RunInfo, error: APIError, change: str) -> None:
        # On the run's span: the refused request's span has ended, and the next one is the
        # fallback's own.
        span = self._runs.get(run.run_id)
        if span is not None:
            span.add_event(
                "capability_fallback",
                {"error.type": type(error).__name__, "message": error.message, "change": change},
            )

    def on_model_response(
        self,
        run: RunInfo,
        request: Mapping[str, Any],
        response: ChatCompletion | None,
        error: BaseException | None,
    ) -> None:
        span = self._requests.get(run.run_id)
        if span is None:
            return
        del self._requests[run.run_id]
        if response is not None:
            span.set_attribute("gen_ai.response.model", response.model)
            span.set_attribute("gen_ai.response.id", response.id)
            reasons = [str(c.finish_reason) for c in response.choices if c.finish_reason]
            if reasons:
                span.set_attribute("gen_ai.response.finish_reasons", reasons)
            usage = response.usage
            if usage is not None:
                ticks = usage.cost_in_usd_ticks
                span.set_attributes(_usage_attributes(
                    usage.prompt_tokens, usage.completion_tokens, usage.reasoning_tokens,
                    usage.cached_tokens, None if ticks is None else ticks / 1e10,
                ))
            if self.include_content and response.choices:
                message = response.choices[0].message.to_param()
                span.set_attribute("gen_ai.output.messages", _json([message]))
        if error is not None:
            _failed(span, error)
        span.end()

    def on_handoff(self, run: RunInfo, from_agent: str | None, to_agent: str) -> None:
        span = self._runs.get(run.run_id)
        if span is not None:
            span.add_event("handoff", {"from_agent": from_agent or "", "to_agent": to_agent})
            span.set_attribute("agentkit.run.final_agent", to_agent)

    # -- tool calls -----------------------------------------------------------------------

    def on_tool_start(self, run: RunInfo, call: ToolCall) -> None:
        parent = self._runs.get(run.run_id)
        if parent is None:
            return
        name = call.function.name
        span = self._tracer.start_span(
            f"execute_tool {name}", context=trace.set_span_in_context(parent),
            kind=SpanKind.INTERNAL,
        )
        span.set_attributes({
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.provider.name": PROVIDER,
            "gen_ai.tool.name": name,
            "gen_ai.tool.call.id": call.id,
            "gen_ai.tool.type": "function",
        })
        if self.include_content:
            span.set_attribute("gen_ai.tool.call.arguments", call.function.arguments)
        self._tools[(run.run_id, call.id)] = span

    def on_tool_end(self, run: RunInfo, call: ToolCall, result: str, failed: bool) -> None:
        span = self._tools.pop((run.run_id, call.id), None)
        if span is None:
            return
        if self.include_content:
            span.set_attribute("gen_ai.tool.call.result", result)
        if failed:
            span.set_attribute("error.type", "tool_error")
            span.set_status(Status(StatusCode.ERROR, result[:200] if self.include_content else None))
        span.end()


def _usage_attributes(
    prompt: int, completion: int, reasoning: int, cached: int, cost: float | None
) -> dict[str, int | float]:
    attributes: dict[str, int | float] = {
        "gen_ai.usage.input_tokens": prompt,
        # xAI counts reasoning apart from the visible completion; the convention's output
        # tokens are everything the model generated.
        "gen_ai.usage.output_tokens": completion + reasoning,
        "gen_ai.usage.reasoning.output_tokens": reasoning,
        "gen_ai.usage.cache_read.input_tokens": cached,
    }
    if cost is not None:
        attributes["agentkit.usage.cost_usd"] = cost
    return attributes


def _failed(span: Span, error: BaseException) -> None:
    span.set_attribute("error.type", type(error).__name__)
    message = getattr(error, "message", None)
    span.set_status(Status(StatusCode.ERROR, message if isinstance(message, str) else type(error).__name__))


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


# -- a span tree on a terminal (agentkit run --trace) --------------------------------------


def print_tree(spans: Sequence[ReadableSpan], file: TextIO) -> None:
    """Print finished `spans` as trees, one per root, children in start order, with each
    span's duration and the attributes a reader looks for first."""
    children: dict[int | None, list[ReadableSpan]] = {}
    ids = {span.context.span_id for span in spans if span.context is not None}
    for span in spans:
        parent = span.parent.span_id if span.parent is not None else None
        children.setdefault(parent if parent in ids else None, []).append(span)
    for siblings in children.values():
        siblings.sort(key=lambda s: s.start_time or 0)

    def walk(span: ReadableSpan, prefix: str, last: bool, root: bool) -> None:
        branch = "" if root else ("└─ " if last else "├─ ")
        print(f"{prefix}{branch}{_describe_span(span)}", file=file)
        below = children.get(span.context.span_id if span.context else None, [])
        inner = prefix if root else prefix + ("   " if last else "│  ")
        for index, child in enumerate(below):
            walk(child, inner, index == len(below) - 1, False)

    for root in children.get(None, []):
        walk(root, "", True, True)


def _describe_span(span: ReadableSpan) -> str:
    attributes = dict(span.attributes or {})
    seconds = ((span.end_time or 0) - (span.start_time or 0)) / 1e9
    parts = [span.name, f"{seconds:.3f} s"]
    reasons = attributes.get("gen_ai.response.finish_reasons")
    if isinstance(reasons, Sequence) and not isinstance(reasons, str):
        parts.append(",".join(str(r) for r in reasons))
    if "gen_ai.usage.input_tokens" in attributes:
        parts.append(
            f"{attributes['gen_ai.usage.input_tokens']} in / "
            f"{attributes.get('gen_ai.usage.output_tokens', 0)} out tokens"
        )
    cost = attributes.get("agentkit.usage.cost_usd")
    if isinstance(cost, float) and span.parent is None:
        parts.append(f"${cost:.6f}")
    if span.status.status_code == StatusCode.ERROR:
        parts.append(f"ERROR {attributes.get('error.type', '')}".rstrip())
    for event in span.events:
        event_attributes = dict(event.attributes or {})
        detail = event_attributes.get("error.type") or event_attributes.get("to_agent") or ""
        parts.append(f"[{event.name}{': ' + str(detail) if detail else ''}]")
    return "  ".join(parts)


def tree_printer(file: TextIO) -> OpenTelemetryHooks:
    """Hooks that print each run's span tree on `file` once the run ends (needs the SDK:
    `pip install 'agentkit[otel]'`). What `agentkit run --trace` uses."""
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

    class _TreeExporter(SpanExporter):
        def __init__(self) -> None:
            self._spans: list[ReadableSpan] = []

        def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
            self._spans.extend(spans)
            if any(span.parent is None for span in spans):  # a run's span ends last
                print_tree(self._spans, file)
                self._spans = []
            return SpanExportResult.SUCCESS

    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(_TreeExporter()))
    return OpenTelemetryHooks(tracer_provider=provider)
