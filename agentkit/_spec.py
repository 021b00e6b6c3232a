"""What an agent's runs share: the `RunSpec` the agent builds once, and output validators."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ._model import ChatModel
from ._schema import Target
from .context import RunContext
from .events import AgentEvent
from .guardrails import InputGuardrail, OutputGuardrail
from .history import ContextPolicy, HistoryProcessor
from .output import OutputSpec
from .pricing import Cost
from .state import Capabilities
from .tool import Tool
from .types.usage import Usage
from .usage import UsageLimits

__all__ = ["Emit", "HandoffRoute", "OutputValidator", "RunSpec"]

class Emit(Protocol):
    """Where a streaming run sends its events."""

    async def __call__(self, event: AgentEvent, /) -> None:
        """Hand `event` on (waiting while the reader is behind)."""
        ...

    @property
    def wanted(self) -> bool:
        """False once nobody will look at the events (the reader awaits the result only):
        the run may then skip making the events it makes for listeners alone."""
        ...


class OutputValidator:
    """An `@agent.output_validator` function: `(output)` or `(ctx, output)`, sync or async.

    It returns the output (perhaps changed; None keeps it as it was) or raises `ModelRetry`.
    """

    def __init__(self, function: Callable[..., Any]) -> None:
        self.function = function
        try:
            parameters = list(inspect.signature(function).parameters.values())
        except (TypeError, ValueError):
            parameters = []
        positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        self.takes_context = len(positional) >= 2
        self.is_async = inspect.iscoroutinefunction(function)

    async def __call__(self, ctx: RunContext[Any], output: Any) -> Any:
        """Validate `output`."""
        args = (ctx, output) if self.takes_context else (output,)
        value = self.function(*args)
        if inspect.isawaitable(value):
            value = await value
        return output if value is None else value


@dataclass(frozen=True, slots=True)
class HandoffRoute:
    """Where a `transfer_to_...` call leads: what the loop needs to let another agent take
    over, built by the agent (which the loop must not know).

    Attributes:
        tool_name: The tool the model calls to hand over.
        agent_name: The receiving agent's name.
        take_over: `(ctx, model) -> (spec, system prompt or None)`: the receiving agent's
            spec (on `model`, the handing agent's, when it has no client of its own) and its
            instructions rendered for this run.
        input_filter: What of the conversation (without the system prompt) the receiving
            agent sees; None for all of it.
    """

    tool_name: str
    agent_name: str
    take_over: Callable[[RunContext[Any], ChatModel], Awaitable[tuple[RunSpec, str | None]]]
    input_filter: Callable[[list[dict[str, Any]]], Sequence[Mapping[str, Any]]] | None = None


@dataclass(slots=True)
class RunSpec:
    """Everything an agent's runs share, built once per agent (and model, or per-run overrides).

    Attributes:
        model_name: The model id sent in each request.
        model: Where requests go.
        tools: The agent's tools by name: the only functions a run ever calls.
        tool_definitions: Their definitions in the model's schema dialect (built once).
        output: The output spec.
        target: The schema dialect of the model (`grok`, or `openai` for others).
        settings: Model settings sent with every request.
        output_tool_definition: The final-answer tool, sent in tool mode.
        max_turns: Most model requests (turns) per run.
        tool_retries: Failures a tool may have before the run stops, unless the tool says.
        output_retries: Invalid answers allowed before `OutputValidationError`.
        usage_limits: Caps checked before each request.
        parallel_tools: Run one turn's calls concurrently.
        redact_tool_errors: Hide the message of exceptions raised inside tools.
        max_result_chars: Cut longer tool results (and error texts) to this many characters.
        validators: The output validators, in order.
        capabilities: The agent's cache of learned capabilities, by (model object, name).
        cache_key: This spec's key in `capabilities`.
        initial: The capabilities to start from when nothing was learned yet.
        agent_name: The agent's name, written into run states.
        interrupting: Whether any tool may stop the run (approval, deferred results).
        preparing: The tools with a `prepare` function, by their index in `tool_definitions`.
        input_guardrails: Checks on the prompt, run beside the first request.
        output_guardrails: Checks on the final output, before it is returned.
        handoffs: The agents this one can hand the conversation to, by tool name.
        history_processors: What to send of the conversation, applied before each request.
        context_policy: What to do with a request over the model's context window.
        windows: Context windows servers reported, by model id (the agent's, shared).
        server_tools: Server-side tool entries (Responses `tools[]`) sent beside the functions.
        pricer: Prices a response the server did not (from the client's price catalog).
        takes_run_context: The model keeps per-run data in `RunState.context` (the Responses
            adapter's chain), so the loop passes it `context=`.
    """

    model_name: str
    model: ChatModel
    tools: Mapping[str, Tool]
    tool_definitions: Sequence[dict[str, Any]]
    output: OutputSpec[Any]
    target: Target
    settings: Mapping[str, Any]
    output_tool_definition: dict[str, Any] | None
    max_turns: int
    tool_retries: int
    output_retries: int
    usage_limits: UsageLimits | None
    parallel_tools: bool
    redact_tool_errors: bool
    max_result_chars: int | None
    validators: Sequence[OutputValidator]
    capabilities: dict[tuple[int, str, str], Capabilities]
    cache_key: tuple[int, str, str]
    initial: Capabilities
    agent_name: str | None = None
    interrupting: bool = False
    preparing: tuple[tuple[int, Tool], ...] = ()
    input_guardrails: tuple[InputGuardrail, ...] = ()
    output_guardrails: tuple[OutputGuardrail, ...] = ()
    handoffs: Mapping[str, HandoffRoute] = field(default_factory=dict)
    history_processors: tuple[HistoryProcessor, ...] = ()
    context_policy: ContextPolicy | None = None
    windows: dict[str, int] = field(default_factory=dict)
    server_tools: tuple[dict[str, Any], ...] = ()
    pricer: Callable[[str, Usage], Awaitable[Cost | None]] | None = None
    takes_run_context: bool = False
