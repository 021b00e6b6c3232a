"""`Agent`: a model, instructions, tools and an output type, declared once and run many times.

```python
agent = Agent("grok-4", instructions="You are a weather assistant. Today is {{ today }}.",
              tools=[get_forecast], output_type=Forecast)
result = await agent.run("Will it rain in Paris tomorrow?")
result.output      # a validated Forecast
```

The agent holds configuration and what is worth computing once (tool definitions, the output
schema, compiled instructions, capabilities learned from the server); each run gets its own
conversation, usage and retry counters (`_run.AgentRun`). Nothing is global: the default
client is made per agent, from the environment read in the constructor.
"""

from __future__ import annotations

import copy
import inspect
import logging
import os
import sys
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import AsyncExitStack
from dataclasses import replace
from datetime import datetime
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import Any, Generic, Literal, Self, TypedDict, TypeVar, Unpack, cast, overload

import anyio
import pydantic_core

from ._call import Prompt, RunCall, RunOptions, record
from ._iter import AgentIter
from ._model import ChatModel, ClientModel
from ._responses_model import ResponsesModel
from ._result import RunResult
from ._run import AgentRun, Capabilities, Emit, OutputValidator, RunSpec
from ._spec import HandoffRoute
from ._stream import AgentStream
from .client import SIMULATED_NOTICE, GrokClient
from .context import RunContext
from .errors import AgentRunError, APIError, ConfigurationError, RunStateError, UserError
from .guardrails import InputGuardrail, OutputGuardrail, as_guardrails
from .handoffs import as_handoffs
from .history import Compact, ContextPolicy, HistoryProcessor
from .hooks import HookSet, RunHooks
from .output import OutputMode, OutputSpec, resolve_mode
from .profiles import ModelProfile, profile_for
from .prompts import PromptTemplate, template_variables
from .server_tools import ServerTool
from .state import RunState
from .tool import Tool, Toolset, ToolSource, split_sources
from .usage import RunUsage, UsageLimits

__all__ = ["Agent", "AgentIter", "AgentOptions", "AgentStream", "Prompt", "RunOptions"]

DepsT = TypeVar("DepsT")
OutputT = TypeVar("OutputT")
RunOutputT = TypeVar("RunOutputT")
FunctionT = TypeVar("FunctionT", bound=Callable[..., Any])

_log = logging.getLogger("agentkit.agent")


class AgentOptions(TypedDict, total=False):
    """The keyword options of `Agent(...)` beside `deps_type` and `output_type`; each is
    described on `Agent`."""

    name: str | None
    instructions: str | Path | PromptTemplate | None
    tools: Iterable[Tool | Toolset | ToolSource | Callable[..., Any]]
    client: GrokClient | ChatModel | None
    model_settings: Mapping[str, Any] | None
    max_turns: int
    tool_retries: int
    output_retries: int
    usage_limits: UsageLimits | None
    output_mode: OutputMode
    parallel_tools: bool
    redact_tool_errors: bool
    max_result_chars: int | None
    hooks: Sequence[RunHooks]
    input_guardrails: Sequence[Any]
    output_guardrails: Sequence[Any]
    handoffs: Sequence[Any]
    history_processors: Sequence[HistoryProcessor]
    context: ContextPolicy | None


_TEMPLATE_SUFFIXES = (".j2", ".jinja", ".jinja2", ".md", ".txt")
_OUTPUT_MODES = ("auto", "native", "tool", "prompted")
# Fields the loop owns; a model setting may not override them.
_RESERVED_SETTINGS = frozenset({"model", "messages", "stream"})


class Agent(Generic[DepsT, OutputT]):
    """A tool-using agent on a Grok (or OpenAI-compatible) chat model.

    Args:
        model: The model id, e.g. `"grok-4"`.
        name: The agent's name: it marks the run states it makes (a state is refused by an
            agent of another name) and names it as a tool (`as_tool`).
        instructions: The system prompt: a Jinja2 template (rendered per run with `deps`,
            `ctx`, `model`, `now`, `today`), or a template file: a `pathlib.Path`, or a str
            ending in .j2/.jinja/.md/.txt naming a file that exists, or a `PromptTemplate`
            (to set its rendering limits: `max_chars`, `max_seconds`, `max_range`).
        tools: Tools, toolsets or plain functions (made tools with defaults), and tool
            sources such as MCP servers (`agentkit.mcp`), asked for their tools at each run.
        output_type: `str` (the default), or a pydantic model, dataclass, `list[...]`, union...
        client: A `GrokClient`, or any `ChatModel` (a `testing.ScriptedModel` in unit tests).
            Default: a `GrokClient` from the environment when `XAI_API_KEY` is set, else the
            local simulated Grok (offline; said once on stderr).
        deps_type: The type of `deps`, for type checkers: `Agent(..., deps_type=Deps)` is an
            `Agent[Deps, ...]` whose `run(deps=...)` takes a `Deps`.
        model_settings: Request fields sent with every request (temperature, max_tokens,
            reasoning_effort...); a field the model is known to reject is left out. Fields
            the client does not name go in `{"extra_body": {...}}`.
        max_turns: Most model requests in one run.
        tool_retries: Failures in a row a tool may have before the run stops with
            `ToolRetriesExceeded` (a tool's own `retries` wins).
        output_retries: Invalid final answers allowed before `OutputValidationError`.
        usage_limits: Caps on requests, tokens, tool calls and cost, checked before each
            request; default `UsageLimits()` (50 requests).
        output_mode: `"auto"` (chosen from the model's profile), `"native"`
            (`response_format`), `"tool"` (a `final_result` tool) or `"prompted"`.
        parallel_tools: Run the tool calls of one turn concurrently.
        redact_tool_errors: Tell the model only the type of an exception raised in a tool,
            not its message (which may hold secrets).
        max_result_chars: Longest tool result (or error text) sent back to the model: longer
            text keeps its first `max_result_chars` characters and gets
            `"\\n[truncated: N more characters]"` appended. A tool's own `max_result_chars`
            wins; None sends everything.
        hooks: Lifecycle hooks (`agentkit.hooks.RunHooks`) called in every run: run start and
            end, each model request and response, retries, fallbacks, each tool call.
            `agentkit.otel.OpenTelemetryHooks()` traces runs with OpenTelemetry.
        input_guardrails: Checks on the prompt (`agentkit.guardrails`: functions returning a
            `GuardrailResult`, a bool or None, or agents), run beside the first request; one
            that trips raises `InputGuardrailTripped` before any tool runs.
        output_guardrails: Checks on the final output; one that trips raises
            `OutputGuardrailTripped` instead of returning it.
        handoffs: Agents (or `agentkit.handoffs.handoff(agent, ...)`) this one may pass the
            conversation to: the model gets a `transfer_to_<name>` tool for each, and the
            agent it calls answers from then on (`result.agent_name` says which).
        history_processors: Functions `(messages)` or `(ctx, messages)`, plain or async,
            that return what to send of the conversation, in turn before each request
            (`agentkit.history`); the run's own conversation keeps everything.
        context: What to do when a request would not fit the model's context window:
            `agentkit.history.DropOldest()`, `Summarize()` or `RaiseOnOverflow()`. Without
            one, a server that says the prompt is too long stops the run with
            `ContextWindowExceeded` (carrying its state).

    Raises:
        ConfigurationError: An option is out of range, or the client is not a client.
        ToolDefinitionError: Two tools share a name, or a tool cannot be sent.
        UserError: The instructions template has a syntax error, or the output type has no
            JSON Schema.
    """

    @overload
    def __init__(
        self: Agent[DepsT, str],
        model: str,
        *,
        deps_type: type[DepsT],
        output_type: type[str] = str,
        **options: Unpack[AgentOptions],
    ) -> None: ...

    @overload
    def __init__(
        self: Agent[DepsT, OutputT],
        model: str,
        *,
        deps_type: type[DepsT],
        output_type: Callable[..., Awaitable[OutputT]],
        **options: Unpack[AgentOptions],
    ) -> None: ...

    @overload
    def __init__(
        self: Agent[DepsT, OutputT],
        model: str,
        *,
        deps_type: type[DepsT],
        output_type: Callable[..., OutputT],
        **options: Unpack[AgentOptions],
    ) -> None: ...

    @overload
    def __init__(
        self: Agent[Any, str],
        model: str,
        *,
        deps_type: None = None,
        output_type: type[str] = str,
        **options: Unpack[AgentOptions],
    ) -> None: ...

    @overload
    def __init__(
        self: Agent[Any, OutputT],
        model: str,
        *,
        deps_type: None = None,
        output_type: Callable[..., Awaitable[OutputT]],
        **options: Unpack[AgentOptions],
    ) -> None: ...

    @overload
    def __init__(
        self: Agent[Any, OutputT],
        model: str,
        *,
        deps_type: None = None,
        output_type: Callable[..., OutputT],
        **options: Unpack[AgentOptions],
    ) -> None: ...

    @overload
    def __init__(
        self: Agent[Any, Any],
        model: str,
        *,
        deps_type: Any = None,
        output_type: Any,
        **options: Unpack[AgentOptions],
    ) -> None: ...

    def __init__(
        self,
        model: str,
        *,
        name: str | None = None,
        instructions: str | Path | PromptTemplate | None = None,
        tools: Iterable[Tool | Toolset | ToolSource | Callable[..., Any]] = (),
        output_type: Any = str,
        client: GrokClient | ChatModel | None = None,
        deps_type: Any = None,
        model_settings: Mapping[str, Any] | None = None,
        max_turns: int = 20,
        tool_retries: int = 2,
        output_retries: int = 2,
        usage_limits: UsageLimits | None = None,
        output_mode: OutputMode = "auto",
        parallel_tools: bool = True,
        redact_tool_errors: bool = False,
        max_result_chars: int | None = 20_000,
        hooks: Sequence[RunHooks] = (),
        input_guardrails: Sequence[Any] = (),
        output_guardrails: Sequence[Any] = (),
        handoffs: Sequence[Any] = (),
        history_processors: Sequence[HistoryProcessor] = (),
        context: ContextPolicy | None = None,
        api: Literal["chat", "responses"] = "chat",
    ) -> None:
        if not isinstance(model, str) or not model.strip():
            raise ConfigurationError(f"model must be a model id such as 'grok-4', got {model!r}")
        if name is not None and (not isinstance(name, str) or not name.strip()):
            raise ConfigurationError(f"name must be a non-empty string or None, got {name!r}")
        if max_turns < 1:
            raise ConfigurationError(f"max_turns must be at least 1, got {max_turns}")
        for option, value in (("tool_retries", tool_retries), ("output_retries", output_retries)):
            if value < 0:
                raise ConfigurationError(f"{option} must be 0 or more, got {value}")
        if max_result_chars is not None and max_result_chars < 1:
            raise ConfigurationError(f"max_result_chars must be positive or None, got {max_result_chars}")
        if output_mode not in _OUTPUT_MODES:
            raise ConfigurationError(
                f"output_mode must be one of {', '.join(_OUTPUT_MODES)}, got {output_mode!r}"
            )
        settings = dict(model_settings or {})
        reserved = sorted(_RESERVED_SETTINGS.intersection(settings))
        if reserved:
            raise ConfigurationError(
                f"model_settings may not set {', '.join(reserved)}: the agent sends those itself"
            )
        if api not in ("chat", "responses"):
            raise ConfigurationError(
                f"api must be 'chat' (/v1/chat/completions) or 'responses' (/v1/responses), "
                f"got {api!r}"
            )
        server_tools, tools = split_server_tools(tools)
        if server_tools and api != "responses":
            names = ", ".join(type(t).__name__ for t in server_tools)
            raise ConfigurationError(
                f"{names} run on the server through the Responses API: "
                "Agent(..., api='responses')"
            )
        if client is not None and not isinstance(client, GrokClient) and not _is_model(client):
            raise ConfigurationError(
                f"client must be a GrokClient or a ChatModel (with complete() and stream()), "
                f"got {type(client).__name__}"
            )

        self.model = model
        """The model id every request names."""
        self.name = name
        """The agent's name: it marks the run states it makes, and names it as a tool."""
        self.deps_type = deps_type
        """The type of `deps` (informational)."""
        self.output_type = output_type
        """The type of `result.output`."""
        self.profile: ModelProfile = profile_for(model)
        """What the model is known to accept."""
        self.api = api
        """The API requests go to: `"chat"` or `"responses"`."""
        self._server_tools = tuple(server_tools)
        sources, static = split_sources(tools)
        self._sources: tuple[ToolSource, ...] = tuple(sources)
        self._toolset = Toolset(static)
        self._output: OutputSpec[OutputT] = OutputSpec(output_type)
        if self._output.tool_name in self._toolset:
            raise ConfigurationError(
                f"a tool is named {self._output.tool_name!r}, the name of the final-answer tool; "
                "rename it with @tool(name=...)"
            )
        self._template = _load_instructions(instructions)
        self._hooks = tuple(hooks)
        HookSet(self._hooks)  # checks them now rather than at the first run
        self._input_guardrails = as_guardrails(input_guardrails, InputGuardrail)
        self._output_guardrails = as_guardrails(output_guardrails, OutputGuardrail)
        self._handoffs = as_handoffs(handoffs)
        for route in self._handoffs:
            if route.tool_name in self._toolset or route.tool_name == self._output.tool_name:
                raise ConfigurationError(
                    f"a tool is named {route.tool_name!r}, the tool of a handoff; rename one"
                )
        for processor in history_processors:
            if not callable(processor):
                raise ConfigurationError(
                    f"history_processors takes functions (messages) -> messages, got {processor!r}"
                )
        if context is not None and not isinstance(context, ContextPolicy):
            raise ConfigurationError(
                "context must be a policy from agentkit.history (DropOldest(), Summarize(), "
                f"RaiseOnOverflow()), got {context!r}"
            )
        if isinstance(context, Compact) and api != "responses":
            raise ConfigurationError(
                "Compact() compacts through /v1/responses/compact: Agent(..., api='responses'), "
                "or context=Summarize() on chat completions"
            )
        self._history_processors = tuple(history_processors)
        self._context = context
        # Context windows the server reported, by model id: later runs fit to them at once.
        self._windows: dict[str, int] = {}
        self._instruction_functions: list[tuple[Callable[..., Any], bool]] = []
        self._validators: list[OutputValidator] = []
        self._settings = settings
        self._max_turns = max_turns
        self._tool_retries = tool_retries
        self._output_retries = output_retries
        self._usage_limits = usage_limits if usage_limits is not None else UsageLimits()
        self._output_mode: OutputMode = output_mode
        self._parallel_tools = parallel_tools
        self._redact_tool_errors = redact_tool_errors
        self._max_result_chars = max_result_chars
        self._client = client
        # The environment is read here, once; the client itself is made on first use, so an
        # agent that never runs opens nothing.
        self._has_env_key = client is None and bool(os.environ.get("XAI_API_KEY"))
        self._owned_client: GrokClient | None = None
        self._model: ChatModel | None = None
        self._notice_shown = False
        # Learned per (model object, model id): what the server rejected, so later runs do
        # not send it again. Held by the agent, never global.
        self._capabilities: dict[tuple[int, str, str], Capabilities] = {}
        self._spec: RunSpec | None = None
        self._output_specs: dict[Any, OutputSpec[Any]] = {}

    # -- decorators ---------------------------------------------------------------------

    def instructions(self, function: FunctionT) -> FunctionT:
        """Add dynamic instructions: `@agent.instructions` on `(ctx) -> str` or `() -> str`.

        The function (sync or async) runs at the start of each run; its text follows the
        `instructions` template, separated by a blank line. None or "" adds nothing.
        """
        self._instruction_functions.append((function, _takes_argument(function)))
        return function

    def output_validator(self, function: FunctionT) -> FunctionT:
        """Add an output validator: `(output)` or `(ctx, output)`, sync or async.

        It returns the output (perhaps changed) or raises `ModelRetry("why")` to send the model
        back with that reason, within `output_retries`.
        """
        self._validators.append(OutputValidator(function))
        self._spec = None
        return function

    def replace(
        self,
        *,
        model: str | None = None,
        client: GrokClient | ChatModel | None = None,
        hooks: Sequence[RunHooks] | None = None,
    ) -> Agent[DepsT, OutputT]:
        """A copy of this agent that names another model, talks through another client, or
        has other lifecycle hooks (instead of its own).

        Tools, instructions, output type, validators and limits are shared; what was learned
        about a server's capabilities is not, since it may not hold for the new one.
        """
        twin = copy.copy(self)
        if hooks is not None:
            HookSet(hooks)  # checked now, as in Agent(...)
            twin._hooks = tuple(hooks)
        if model is not None:
            if not model.strip():
                raise ConfigurationError("model must be a model id such as 'grok-4'")
            twin.model = model
            twin.profile = profile_for(model)
        if client is not None:
            twin._client = client
            twin._has_env_key = False
        twin._instruction_functions = list(self._instruction_functions)
        twin._validators = list(self._validators)
        twin._owned_client = None
        twin._model = None
        twin._notice_shown = False
        twin._capabilities = {}
        twin._spec = None
        return twin

    # -- properties -----------------------------------------------------------------------

    @property
    def client(self) -> GrokClient | ChatModel | None:
        """The client (or model) the agent was given; None when it picks one itself."""
        return self._client

    @property
    def tools(self) -> list[Tool]:
        """The agent's tools, in order."""
        return list(self._toolset)

    # -- running --------------------------------------------------------------------------

    @overload
    async def run(
        self, prompt: Prompt | None = None, *, deps: DepsT | None = None,
        output_type: None = None, **options: Unpack[RunOptions],
    ) -> RunResult[OutputT]: ...

    @overload
    async def run(
        self, prompt: Prompt | None = None, *, deps: DepsT | None = None,
        output_type: Callable[..., Awaitable[RunOutputT]], **options: Unpack[RunOptions],
    ) -> RunResult[RunOutputT]: ...

    @overload
    async def run(
        self, prompt: Prompt | None = None, *, deps: DepsT | None = None,
        output_type: Callable[..., RunOutputT], **options: Unpack[RunOptions],
    ) -> RunResult[RunOutputT]: ...

    @overload
    async def run(
        self, prompt: Prompt | None = None, *, deps: DepsT | None = None,
        output_type: Any, **options: Unpack[RunOptions],
    ) -> RunResult[Any]: ...

    async def run(
        self, prompt: Prompt | None = None, *, deps: DepsT | None = None,
        output_type: Any = None, **options: Unpack[RunOptions],
    ) -> RunResult[Any]:
        """Run the agent to a final answer, or until a tool call waits for a decision.

        Args:
            prompt: The user's message: text, a message dict, or a list of messages. May be
                None when `message_history` ends where the model should go on, or with `state`.
            deps: Anything the tools, templates and validators need (through `RunContext`).
            output_type: This run's output type instead of the agent's (a type or an output
                function).
            **options: `message_history` (a previous run's `result.messages` or their JSON),
                `state` (a `RunState` to go on from), `session` (a `Session` to load history
                from and add this run's messages to), and per-run overrides: `model`,
                `model_settings` (merged over the agent's), `tools` (added to the agent's, or
                instead of them with `replace_tools=True`), `usage_limits`, `max_turns`.

        Returns:
            The validated output, the conversation, the usage and the state; or, when a call
            needs approval or a deferred result, `result.interruptions` and `result.state`.

        Raises:
            MaxTurnsExceeded, UsageLimitExceeded, ToolRetriesExceeded, OutputValidationError:
                The run could not finish; `error.messages` holds the conversation so far and
                `error.state` the state to resume from.
            APIError: The server failed in a way retries and fallbacks could not fix (with
                `error.state` too).
            RunStateError: `state` cannot be resumed by this agent.
            UserError: The instructions template uses an undefined variable, say.
        """
        call = RunCall.of(prompt, deps, output_type, options)
        run = await self._start(call, emit=None)
        result = await run.run()
        await record(call, result)
        return result

    @overload
    def run_sync(
        self, prompt: Prompt | None = None, *, deps: DepsT | None = None,
        output_type: None = None, **options: Unpack[RunOptions],
    ) -> RunResult[OutputT]: ...

    @overload
    def run_sync(
        self, prompt: Prompt | None = None, *, deps: DepsT | None = None,
        output_type: Callable[..., Awaitable[RunOutputT]], **options: Unpack[RunOptions],
    ) -> RunResult[RunOutputT]: ...

    @overload
    def run_sync(
        self, prompt: Prompt | None = None, *, deps: DepsT | None = None,
        output_type: Callable[..., RunOutputT], **options: Unpack[RunOptions],
    ) -> RunResult[RunOutputT]: ...

    @overload
    def run_sync(
        self, prompt: Prompt | None = None, *, deps: DepsT | None = None,
        output_type: Any, **options: Unpack[RunOptions],
    ) -> RunResult[Any]: ...

    def run_sync(
        self, prompt: Prompt | None = None, *, deps: DepsT | None = None,
        output_type: Any = None, **options: Unpack[RunOptions],
    ) -> RunResult[Any]:
        """`run()` for scripts: starts an event loop (`anyio.run`) and runs to the end.

        Takes what `run()` takes. A default client made by the agent is closed afterwards,
        because its connections belong to the event loop that ends here. For the same reason,
        a `GrokClient` passed in should not serve `run_sync` calls and other event loops in
        turn.

        Raises:
            UserError: Called from async code (use `await agent.run(...)` there).
        """
        import asyncio  # here: only scripts need it, and the import is not free

        try:
            asyncio.get_running_loop()
        except RuntimeError:  # no event loop running: the normal case for a script
            pass
        else:
            raise UserError("run_sync() cannot run inside an event loop; use `await agent.run(...)`")

        async def main() -> RunResult[Any]:
            try:
                result: RunResult[Any] = await self.run(
                    prompt, deps=deps, output_type=output_type, **options
                )
                return result
            finally:
                await self._close_owned_client()

        return anyio.run(main)

    @overload
    def run_stream(
        self, prompt: Prompt | None = None, *, deps: DepsT | None = None,
        output_type: None = None, **options: Unpack[RunOptions],
    ) -> AgentStream[OutputT]: ...

    @overload
    def run_stream(
        self, prompt: Prompt | None = None, *, deps: DepsT | None = None,
        output_type: Callable[..., Awaitable[RunOutputT]], **options: Unpack[RunOptions],
    ) -> AgentStream[RunOutputT]: ...

    @overload
    def run_stream(
        self, prompt: Prompt | None = None, *, deps: DepsT | None = None,
        output_type: Callable[..., RunOutputT], **options: Unpack[RunOptions],
    ) -> AgentStream[RunOutputT]: ...

    @overload
    def run_stream(
        self, prompt: Prompt | None = None, *, deps: DepsT | None = None,
        output_type: Any, **options: Unpack[RunOptions],
    ) -> AgentStream[Any]: ...

    def run_stream(
        self, prompt: Prompt | None = None, *, deps: DepsT | None = None,
        output_type: Any = None, **options: Unpack[RunOptions],
    ) -> AgentStream[Any]:
        """Run the agent, streaming events: `async with agent.run_stream(...) as stream:`.

        Takes what `run()` takes. Iterate the stream for `events` (text and reasoning deltas,
        tool calls started and finished, partial output, and last a `FinalResult`);
        `stream.result` is the `RunResult` once it finished (or paused: see its
        `interruptions`). Leaving the block early cancels the run.
        """
        call = RunCall.of(prompt, deps, output_type, options)
        return AgentStream(partial(self._start, call), partial(record, call))

    @overload
    def iter(
        self, prompt: Prompt | None = None, *, deps: DepsT | None = None,
        output_type: None = None, **options: Unpack[RunOptions],
    ) -> AgentIter[OutputT]: ...

    @overload
    def iter(
        self, prompt: Prompt | None = None, *, deps: DepsT | None = None,
        output_type: Callable[..., Awaitable[RunOutputT]], **options: Unpack[RunOptions],
    ) -> AgentIter[RunOutputT]: ...

    @overload
    def iter(
        self, prompt: Prompt | None = None, *, deps: DepsT | None = None,
        output_type: Callable[..., RunOutputT], **options: Unpack[RunOptions],
    ) -> AgentIter[RunOutputT]: ...

    @overload
    def iter(
        self, prompt: Prompt | None = None, *, deps: DepsT | None = None,
        output_type: Any, **options: Unpack[RunOptions],
    ) -> AgentIter[Any]: ...

    def iter(
        self, prompt: Prompt | None = None, *, deps: DepsT | None = None,
        output_type: Any = None, **options: Unpack[RunOptions],
    ) -> AgentIter[Any]:
        """Step through a run: `async with agent.iter(...) as run: async for step in run:`.

        Takes what `run()` takes. Each step (`ModelRequestStep`, `ModelResponseStep`,
        `ToolResultsStep`, then `OutputStep` or `PausedStep`) carries the `state` right after
        it: stop after any step and `agent.run(state=step.state)` goes on from there.
        `run.result` is the `RunResult` once the last step was read.
        """
        call = RunCall.of(prompt, deps, output_type, options)
        return AgentIter(partial(self._start, call, emit=None), partial(record, call))

    def as_tool(
        self,
        name: str | None = None,
        description: str | None = None,
        *,
        max_result_chars: int | None = None,
    ) -> Tool:
        """This agent as a tool of another agent: the model sends it a request in words, and
        the tool's result is this agent's output.

        The inner run gets the outer run's `deps`; its usage adds to the outer run's, and its
        `RunResult` (messages included) lands in the outer `result.sub_results` under the
        tool call's id. An inner run that pauses for approval is reported to the outer model
        as the tool's failure: approvals do not cross agents.

        Args:
            name: The tool's name; default the agent's `name`.
            description: What the agent does, for the model; default from its name.
            max_result_chars: Cut longer outputs to this many characters.

        Raises:
            ConfigurationError: No name was given and the agent has none.
        """
        tool_name = name or self.name
        if not tool_name:
            raise ConfigurationError("as_tool() needs a name: pass one, or give the agent name=")
        agent = self

        async def run_agent(ctx: RunContext[Any], request: str) -> Any:
            try:
                result = await agent.run(request, deps=ctx.deps)
            except (AgentRunError, APIError) as error:
                # What the inner run spent is spent: it counts in the outer run's usage.
                if error.state is not None:
                    ctx.usage.merge(error.state.usage)
                raise
            ctx.usage.merge(result.usage)
            if ctx.tool_call_id is not None:
                ctx.sub_results[ctx.tool_call_id] = result
            if result.paused:
                waiting = ", ".join(i.tool_name for i in result.interruptions)
                raise UserError(
                    f"agent {tool_name!r} paused for approval of {waiting}; an agent used as "
                    "a tool cannot ask for approval"
                )
            return result.output

        run_agent.__doc__ = f"""{description or f"Ask the {tool_name} agent."}

        Args:
            request: What to ask the agent, in words, with everything it needs to know.
        """
        return Tool(run_agent, name=tool_name, max_result_chars=max_result_chars)

    async def aclose(self) -> None:
        """Close the client the agent made for itself (never one that was passed in)."""
        await self._close_owned_client()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        named = f"name={self.name!r}, " if self.name else ""
        return (
            f"Agent({named}model={self.model!r}, tools={self._toolset.names!r}, "
            f"output_type={getattr(self.output_type, '__name__', self.output_type)!r})"
        )

    # -- internals ------------------------------------------------------------------------

    async def _start(self, call: RunCall, *, emit: Emit | None) -> AgentRun[Any]:
        sources = [] if call.replace_tools else list(self._sources)
        if call.tools is not None:
            given, static = split_sources(call.tools)
            sources += given
            call = replace(call, tools=static)
        if not sources:
            return await self._start_run(call, emit)
        # Tools from sources (MCP servers...) are fetched per run, opening a source that is
        # not open for this run only; the run closes them when it ends, in this same task.
        stack = AsyncExitStack()
        try:
            fetched: list[Tool] = []
            for source in sources:
                if not getattr(source, "is_open", True) and hasattr(source, "__aenter__"):
                    await stack.enter_async_context(source)  # type: ignore[arg-type]
                fetched.extend(await source.list_tools())
            call = replace(call, tools=[*(call.tools or ()), *fetched])
            run = await self._start_run(call, emit)
        except BaseException:
            with anyio.CancelScope(shield=True):
                await stack.aclose()
            raise
        run.cleanup = stack
        return run

    async def _start_run(self, call: RunCall, emit: Emit | None) -> AgentRun[Any]:
        if call.state is not None:
            return self._resume(call, emit)
        spec = self._spec_for(call, call.model)
        if call.session is not None:
            if call.message_history is not None:
                raise UserError("pass message_history or session, not both: the session holds the history")
            history: Sequence[Mapping[str, Any]] | str | None = await call.session.get_items()
        else:
            history = call.message_history
        messages = _history(history)
        usage = RunUsage()
        ctx: RunContext[Any] = RunContext(deps=call.deps, model=spec.model_name, messages=messages, usage=usage)
        system = await self._render_instructions(ctx)
        new_from = len(messages)
        if system is not None:
            if messages and messages[0].get("role") == "system":
                messages[0] = {"role": "system", "content": system}
            else:
                messages.insert(0, {"role": "system", "content": system})
                new_from = new_from + 1 if new_from else 0
        if call.prompt is not None:
            messages.extend(_prompt_messages(call.prompt))
        elif not messages or messages[-1].get("role") == "system":
            raise UserError("run() needs a prompt, or a message_history to go on from")
        state = RunState(
            messages, usage, model=spec.model_name, agent_name=self.name,
            output_name=spec.output.name,
            capabilities=spec.capabilities.get(spec.cache_key) or spec.initial,
            new_from=new_from,
        )
        return AgentRun(
            spec, state, ctx, emit=emit, hooks=HookSet.of(self._hooks, call.hooks),
            conversation_id=getattr(call.session, "session_id", None),
        )

    def _handoff_named(self, name: str) -> Agent[Any, Any] | None:
        """The agent called `name` that this one can reach through handoffs, or None."""
        seen: set[int] = {id(self)}
        todo = [route.agent for route in self._handoffs]
        while todo:
            agent = todo.pop(0)
            if id(agent) in seen:
                continue
            seen.add(id(agent))
            if agent.name == name:
                return agent
            todo.extend(route.agent for route in agent._handoffs)
        return None

    def _resume(
        self,
        call: RunCall,
        emit: Emit | None,
        *,
        hooks: Sequence[RunHooks] | None = None,
        via: ChatModel | None = None,
    ) -> AgentRun[Any]:
        saved = call.state
        if not isinstance(saved, RunState):
            raise UserError(
                f"state= takes a RunState (RunState.from_json(text) reads a saved one), "
                f"not {type(saved).__name__}"
            )
        if call.prompt is not None or call.message_history is not None:
            raise UserError(
                "a resumed run goes on from its state alone: pass state= without a prompt or "
                "message_history (start a new run for a new prompt)"
            )
        if saved.agent_name is not None and self.name is not None and saved.agent_name != self.name:
            receiver = self._handoff_named(saved.agent_name)
            if receiver is not None:  # the run was handed over: it goes on where it got to
                return receiver._resume(
                    call, emit, hooks=hooks or self._hooks, via=via or self._resolve_model()
                )
            raise RunStateError(
                f"this run state belongs to agent {saved.agent_name!r}, not {self.name!r}; "
                "resume it with the agent that made it"
            )
        spec = self._spec_for(call, call.model or saved.model, via=via)
        if saved.output_name != spec.output.name:
            raise RunStateError(
                f"this run state was made for output {saved.output_name!r}, but the run's output "
                f"is {spec.output.name!r}; resume it with the agent (and output_type) that made it"
            )
        state = saved.copy()
        state.model = spec.model_name
        ctx: RunContext[Any] = RunContext(
            deps=call.deps, model=spec.model_name, messages=state.messages, usage=state.usage
        )
        return AgentRun(
            spec, state, ctx, emit=emit, resumed=True,
            hooks=HookSet.of(self._hooks if hooks is None else hooks, call.hooks),
            conversation_id=getattr(call.session, "session_id", None),
        )

    def _spec_for(
        self, call: RunCall, model_name: str | None, *, via: ChatModel | None = None
    ) -> RunSpec:
        """The agent's own spec, or one built for this run's overrides. `via` is the handing
        agent's model, for a handed-over run: an agent without a client talks through it."""
        if via is not None and self._client is not None:
            via = None
        if call.overrides_nothing and (model_name is None or model_name == self.model) and via is None:
            return self._run_spec()
        if call.max_turns is not None and call.max_turns < 1:
            raise ConfigurationError(f"max_turns must be at least 1, got {call.max_turns}")
        settings = self._settings
        if call.model_settings is not None:
            settings = {**settings, **call.model_settings}
            reserved = sorted(_RESERVED_SETTINGS.intersection(settings))
            if reserved:
                raise ConfigurationError(
                    f"model_settings may not set {', '.join(reserved)}: the agent sends those itself"
                )
        toolset = self._toolset
        server_tools = self._server_tools
        if call.tools is not None:
            given_server, given = split_server_tools(call.tools)
            if given_server and self.api != "responses":
                raise ConfigurationError(
                    f"{type(given_server[0]).__name__} runs on the server through the "
                    "Responses API: Agent(..., api='responses')"
                )
            _, static = split_sources(given)  # _start fetched the sources' tools already
            toolset = Toolset(static if call.replace_tools else [self._toolset, Toolset(static)])
            server_tools = (
                tuple(given_server) if call.replace_tools else (*server_tools, *given_server)
            )
        elif call.replace_tools:
            toolset = Toolset(())
            server_tools = ()
        output = self._output if call.output_type is None else self._output_spec(call.output_type)
        if output.tool_name in toolset:
            raise ConfigurationError(
                f"a tool is named {output.tool_name!r}, the name of the final-answer tool; "
                "rename it with @tool(name=...)"
            )
        name = model_name or self.model
        return self._build_spec(
            name, profile_for(name) if name != self.model else self.profile, toolset, output,
            settings,
            max_turns=call.max_turns if call.max_turns is not None else self._max_turns,
            usage_limits=call.usage_limits if call.usage_limits is not None else self._usage_limits,
            model=via, server_tools=server_tools,
        )

    def _output_spec(self, output_type: Any) -> OutputSpec[Any]:
        # Building a spec builds a pydantic validator: worth keeping per type.
        try:
            found = self._output_specs.get(output_type)
        except TypeError:  # an unhashable type expression: built each time
            return OutputSpec(output_type)
        if found is None:
            found = self._output_specs[output_type] = OutputSpec(output_type)
        return found

    def _run_spec(self) -> RunSpec:
        if self._spec is not None and self._model is not None:
            return self._spec
        self._spec = self._build_spec(
            self.model, self.profile, self._toolset, self._output, self._settings,
            max_turns=self._max_turns, usage_limits=self._usage_limits,
        )
        return self._spec

    async def _take_over(self, ctx: RunContext[Any], model: ChatModel) -> tuple[RunSpec, str | None]:
        """This agent's spec and instructions, for a run another agent hands over; without a
        client of its own it talks through the handing agent's `model`."""
        if self._client is None:
            spec = self._build_spec(
                self.model, self.profile, self._toolset, self._output, self._settings,
                max_turns=self._max_turns, usage_limits=self._usage_limits, model=model,
            )
        else:
            spec = self._run_spec()
        ctx.model = spec.model_name
        return spec, await self._render_instructions(ctx)

    def _build_spec(
        self,
        model_name: str,
        profile: ModelProfile,
        toolset: Toolset,
        output: OutputSpec[Any],
        settings: Mapping[str, Any],
        *,
        max_turns: int,
        usage_limits: UsageLimits | None,
        model: ChatModel | None = None,
        server_tools: Sequence[ServerTool] | None = None,
    ) -> RunSpec:
        model = model or self._resolve_model()
        if server_tools is None:
            server_tools = self._server_tools
        target = profile.schema_target
        # A tool asks for strict mode; only a model whose profile takes it gets it (Grok
        # answers 400 to `strict`, so there it is always left out).
        definitions = [
            tool.definition("strict" if tool.strict and profile.strict_tools else target)
            for tool in toolset
        ]
        definitions += [route.definition() for route in self._handoffs]
        mode = resolve_mode(
            self._output_mode, is_text=output.is_text, profile=profile,
            has_tools=bool(definitions),
        )
        dropped = frozenset(p for p in settings if not profile.accepts(p))
        if dropped:
            _log.info("%s does not accept %s; leaving it out of requests",
                      model_name, ", ".join(sorted(dropped)))
        tools = list(toolset)
        return RunSpec(
            model_name=model_name,
            model=model,
            tools={tool.name: tool for tool in tools},
            tool_definitions=definitions,
            output=output,
            target=target,
            settings=settings,
            output_tool_definition=None if output.is_text else output.tool_definition(target),
            max_turns=max_turns,
            tool_retries=self._tool_retries,
            output_retries=self._output_retries,
            usage_limits=usage_limits,
            parallel_tools=self._parallel_tools,
            redact_tool_errors=self._redact_tool_errors,
            max_result_chars=self._max_result_chars,
            validators=tuple(self._validators),
            capabilities=self._capabilities,
            # What a server taught about one model holds for the mode it was learned in.
            cache_key=(id(model), model_name, mode),
            initial=Capabilities(output_mode=mode, dropped=dropped),
            agent_name=self.name,
            interrupting=any(tool.interrupts for tool in tools),
            preparing=tuple((i, tool) for i, tool in enumerate(tools) if tool.prepare is not None),
            input_guardrails=self._input_guardrails,
            output_guardrails=self._output_guardrails,
            history_processors=self._history_processors,
            context_policy=self._context,
            windows=self._windows,
            server_tools=tuple(tool.to_wire() for tool in server_tools),
            takes_run_context=getattr(model, "takes_run_context", False) is True,
            pricer=getattr(model, "pricer", None),
            handoffs={
                route.tool_name: HandoffRoute(
                    route.tool_name, route.agent.name or "", route.agent._take_over,
                    route.input_filter,
                )
                for route in self._handoffs
            },
        )

    def _resolve_model(self) -> ChatModel:
        if self._model is not None:
            return self._model
        client = self._client
        if client is None:
            if self._has_env_key:
                self._owned_client = GrokClient()
            else:
                if not self._notice_shown:
                    self._notice_shown = True
                    print(SIMULATED_NOTICE, file=sys.stderr)
                self._owned_client = GrokClient.simulated()
            self._model = self._adapter(self._owned_client)
        elif isinstance(client, GrokClient):
            self._model = self._adapter(client)
        else:
            self._model = client
        return self._model

    def _adapter(self, client: GrokClient) -> ChatModel:
        return ResponsesModel(client) if self.api == "responses" else ClientModel(client)

    async def _close_owned_client(self) -> None:
        owned, self._owned_client = self._owned_client, None
        if owned is not None:
            self._model = None
            self._spec = None
            await owned.aclose()

    async def _render_instructions(self, ctx: RunContext[Any]) -> str | None:
        parts: list[str] = []
        template = self._template
        if template is not None:
            if template.is_static:  # the common case: no clock read, no variables built
                parts.append(template.source)
            else:
                now = datetime.now().astimezone()
                parts.append(template.render(template_variables(ctx, now=now)))
        for function, takes_ctx in self._instruction_functions:
            text = function(ctx) if takes_ctx else function()
            if inspect.isawaitable(text):
                text = await text
            if text:
                parts.append(str(text))
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else "\n\n".join(part for part in parts if part)


# -- helpers ------------------------------------------------------------------------------


def _is_model(value: object) -> bool:
    return callable(getattr(value, "complete", None)) and callable(getattr(value, "stream", None))


def _load_instructions(
    instructions: str | Path | PromptTemplate | None,
) -> PromptTemplate | None:
    if instructions is None or isinstance(instructions, PromptTemplate):
        return instructions
    if isinstance(instructions, os.PathLike):
        path = Path(instructions)
        try:
            return PromptTemplate(path.read_text(encoding="utf-8"), name=path.name)
        except OSError as exc:
            raise ConfigurationError(f"cannot read the instructions file {str(path)!r}: {exc}") from exc
    if not isinstance(instructions, str):
        raise ConfigurationError(
            "instructions must be text, a template file path, a PromptTemplate, or None; "
            f"got {type(instructions).__name__}"
        )
    if instructions.endswith(_TEMPLATE_SUFFIXES) and "\n" not in instructions:
        path = Path(instructions)
        if path.is_file():
            return PromptTemplate(path.read_text(encoding="utf-8"), name=path.name)
    return PromptTemplate(instructions)


def _history(history: Sequence[Mapping[str, Any]] | str | None) -> list[dict[str, Any]]:
    if history is None:
        return []
    if isinstance(history, str):
        try:
            loaded = pydantic_core.from_json(history)
        except ValueError as exc:
            raise UserError(f"message_history is not JSON: {exc}") from exc
        history = cast(Sequence[Mapping[str, Any]], loaded)
    messages: list[dict[str, Any]] = []
    for index, message in enumerate(history):
        if not isinstance(message, Mapping) or "role" not in message:
            raise UserError(
                f"message_history[{index}] is not a message (a dict with a 'role'); pass "
                "result.messages or json.loads(result.to_json())"
            )
        # Shallow: messages are never changed in place, only replaced or appended.
        messages.append(message if isinstance(message, dict) else dict(message))
    return messages


def _prompt_messages(prompt: Prompt) -> list[dict[str, Any]]:
    if isinstance(prompt, str):
        return [{"role": "user", "content": prompt}]
    if isinstance(prompt, Mapping):
        return [dict(prompt)]
    return [dict(message) for message in prompt]


def _takes_argument(function: Callable[..., Any]) -> bool:
    try:
        return len(inspect.signature(function).parameters) >= 1
    except (TypeError, ValueError):
        return False


def split_server_tools(
    items: Iterable[Any],
) -> tuple[list[ServerTool], list[Any]]:
    """`items` as (server-side tool declarations, everything else), each in order."""
    server: list[ServerTool] = []
    rest: list[Any] = []
    for item in items:
        (server if isinstance(item, ServerTool) else rest).append(item)
    return server, rest
