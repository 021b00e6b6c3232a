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
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Generic, Self, TypeVar, cast, overload

import anyio
import pydantic_core

from ._model import ChatModel, ClientModel
from ._result import RunResult
from ._run import AgentRun, Capabilities, Emit, OutputValidator, RunSpec
from ._stream import AgentStream
from .client import SIMULATED_NOTICE, GrokClient
from .context import RunContext
from .errors import ConfigurationError, UserError
from .output import OutputMode, OutputSpec, resolve_mode
from .profiles import ModelProfile, profile_for
from .prompts import PromptTemplate, template_variables
from .tool import Tool, Toolset
from .usage import RunUsage, UsageLimits

__all__ = ["Agent", "AgentStream", "Prompt"]

DepsT = TypeVar("DepsT")
OutputT = TypeVar("OutputT")
FunctionT = TypeVar("FunctionT", bound=Callable[..., Any])

Prompt = str | Mapping[str, Any] | Sequence[Mapping[str, Any]]
"""A user prompt (text), one message dict, or several messages (multimodal content, say)."""

_log = logging.getLogger("agentkit.agent")

_TEMPLATE_SUFFIXES = (".j2", ".jinja", ".jinja2", ".md", ".txt")
_OUTPUT_MODES = ("auto", "native", "tool", "prompted")
# Fields the loop owns; a model setting may not override them.
_RESERVED_SETTINGS = frozenset({"model", "messages", "stream"})


class Agent(Generic[DepsT, OutputT]):
    """A tool-using agent on a Grok (or OpenAI-compatible) chat model.

    Args:
        model: The model id, e.g. `"grok-4"`.
        instructions: The system prompt: a Jinja2 template (rendered per run with `deps`,
            `ctx`, `model`, `now`, `today`), or a template file: a `pathlib.Path`, or a str
            ending in .j2/.jinja/.md/.txt naming a file that exists.
        tools: Tools, toolsets or plain functions (made tools with defaults).
        output_type: `str` (the default), or a pydantic model, dataclass, `list[...]`, union...
        client: A `GrokClient`, or any `ChatModel` (a `testing.ScriptedModel` in unit tests).
            Default: a `GrokClient` from the environment when `XAI_API_KEY` is set, else the
            local simulated Grok (offline; said once on stderr).
        deps_type: The type of `deps`, for type checkers only.
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

    Raises:
        ConfigurationError: An option is out of range, or the client is not a client.
        ToolDefinitionError: Two tools share a name, or a tool cannot be sent.
        UserError: The instructions template has a syntax error, or the output type has no
            JSON Schema.
    """

    @overload
    def __init__(
        self: Agent[Any, str],
        model: str,
        *,
        instructions: str | Path | None = None,
        tools: Iterable[Tool | Toolset | Callable[..., Any]] = (),
        output_type: type[str] = str,
        client: GrokClient | ChatModel | None = None,
        deps_type: type[DepsT] | None = None,
        model_settings: Mapping[str, Any] | None = None,
        max_turns: int = 20,
        tool_retries: int = 2,
        output_retries: int = 2,
        usage_limits: UsageLimits | None = None,
        output_mode: OutputMode = "auto",
        parallel_tools: bool = True,
        redact_tool_errors: bool = False,
        max_result_chars: int | None = 20_000,
    ) -> None: ...

    @overload
    def __init__(
        self: Agent[Any, OutputT],
        model: str,
        *,
        instructions: str | Path | None = None,
        tools: Iterable[Tool | Toolset | Callable[..., Any]] = (),
        output_type: type[OutputT],
        client: GrokClient | ChatModel | None = None,
        deps_type: type[DepsT] | None = None,
        model_settings: Mapping[str, Any] | None = None,
        max_turns: int = 20,
        tool_retries: int = 2,
        output_retries: int = 2,
        usage_limits: UsageLimits | None = None,
        output_mode: OutputMode = "auto",
        parallel_tools: bool = True,
        redact_tool_errors: bool = False,
        max_result_chars: int | None = 20_000,
    ) -> None: ...

    @overload
    def __init__(
        self: Agent[Any, Any],
        model: str,
        *,
        instructions: str | Path | None = None,
        tools: Iterable[Tool | Toolset | Callable[..., Any]] = (),
        output_type: Any,
        client: GrokClient | ChatModel | None = None,
        deps_type: type[DepsT] | None = None,
        model_settings: Mapping[str, Any] | None = None,
        max_turns: int = 20,
        tool_retries: int = 2,
        output_retries: int = 2,
        usage_limits: UsageLimits | None = None,
        output_mode: OutputMode = "auto",
        parallel_tools: bool = True,
        redact_tool_errors: bool = False,
        max_result_chars: int | None = 20_000,
    ) -> None: ...

    def __init__(
        self,
        model: str,
        *,
        instructions: str | Path | None = None,
        tools: Iterable[Tool | Toolset | Callable[..., Any]] = (),
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
    ) -> None:
        if not isinstance(model, str) or not model.strip():
            raise ConfigurationError(f"model must be a model id such as 'grok-4', got {model!r}")
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
        if client is not None and not isinstance(client, GrokClient) and not _is_model(client):
            raise ConfigurationError(
                f"client must be a GrokClient or a ChatModel (with complete() and stream()), "
                f"got {type(client).__name__}"
            )

        self.model = model
        """The model id every request names."""
        self.deps_type = deps_type
        """The type of `deps` (informational)."""
        self.output_type = output_type
        """The type of `result.output`."""
        self.profile: ModelProfile = profile_for(model)
        """What the model is known to accept."""
        self._toolset = Toolset(tools)
        self._output: OutputSpec[OutputT] = OutputSpec(output_type)
        if self._output.tool_name in self._toolset:
            raise ConfigurationError(
                f"a tool is named {self._output.tool_name!r}, the name of the final-answer tool; "
                "rename it with @tool(name=...)"
            )
        self._template = _load_instructions(instructions)
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
        self._capabilities: dict[tuple[int, str], Capabilities] = {}
        self._spec: RunSpec | None = None

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
        self, *, model: str | None = None, client: GrokClient | ChatModel | None = None
    ) -> Agent[DepsT, OutputT]:
        """A copy of this agent that names another model or talks through another client.

        Tools, instructions, output type, validators and limits are shared; what was learned
        about a server's capabilities is not, since it may not hold for the new one.
        """
        twin = copy.copy(self)
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
    def tools(self) -> list[Tool]:
        """The agent's tools, in order."""
        return list(self._toolset)

    # -- running --------------------------------------------------------------------------

    async def run(
        self,
        prompt: Prompt | None = None,
        *,
        deps: DepsT | None = None,
        message_history: Sequence[Mapping[str, Any]] | str | None = None,
    ) -> RunResult[OutputT]:
        """Run the agent to a final answer.

        Args:
            prompt: The user's message: text, a message dict, or a list of messages. May be
                None when `message_history` ends where the model should go on.
            deps: Anything the tools, templates and validators need (through `RunContext`).
            message_history: A previous run's `result.messages` (or its `to_json()` text).

        Returns:
            The validated output, the conversation and the usage.

        Raises:
            MaxTurnsExceeded, UsageLimitExceeded, ToolRetriesExceeded, OutputValidationError:
                The run could not finish; `error.messages` holds the conversation so far.
            APIError: The server failed in a way retries and fallbacks could not fix.
            UserError: The instructions template uses an undefined variable, say.
        """
        run = await self._start(prompt, deps, message_history, emit=None)
        return await run.run()

    def run_sync(
        self,
        prompt: Prompt | None = None,
        *,
        deps: DepsT | None = None,
        message_history: Sequence[Mapping[str, Any]] | str | None = None,
    ) -> RunResult[OutputT]:
        """`run()` for scripts: starts an event loop (`anyio.run`) and runs to the end.

        A default client made by the agent is closed afterwards, because its connections
        belong to the event loop that ends here. For the same reason, a `GrokClient` passed
        in should not serve `run_sync` calls and other event loops in turn.

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

        async def main() -> RunResult[OutputT]:
            try:
                return await self.run(prompt, deps=deps, message_history=message_history)
            finally:
                await self._close_owned_client()

        return anyio.run(main)

    def run_stream(
        self,
        prompt: Prompt | None = None,
        *,
        deps: DepsT | None = None,
        message_history: Sequence[Mapping[str, Any]] | str | None = None,
    ) -> AgentStream[OutputT]:
        """Run the agent, streaming events: `async with agent.run_stream(...) as stream:`.

        Iterate the stream for `events` (text and reasoning deltas, tool calls started and
        finished, partial output, and last a `FinalResult`); `stream.result` is the
        `RunResult` once it finished. Leaving the block early cancels the run.
        """
        return AgentStream(self, prompt, deps, message_history)

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
        return (
            f"Agent(model={self.model!r}, tools={self._toolset.names!r}, "
            f"output_type={getattr(self.output_type, '__name__', self.output_type)!r})"
        )

    # -- internals ------------------------------------------------------------------------

    async def _start(
        self,
        prompt: Prompt | None,
        deps: Any,
        message_history: Sequence[Mapping[str, Any]] | str | None,
        *,
        emit: Emit | None,
    ) -> AgentRun[OutputT]:
        spec = self._run_spec()
        messages = _history(message_history)
        ctx: RunContext[Any] = RunContext(deps=deps, model=self.model, messages=messages, usage=RunUsage())
        system = await self._render_instructions(ctx)
        new_from = len(messages)
        if system is not None:
            if messages and messages[0].get("role") == "system":
                messages[0] = {"role": "system", "content": system}
            else:
                messages.insert(0, {"role": "system", "content": system})
                new_from = new_from + 1 if new_from else 0
        if prompt is not None:
            messages.extend(_prompt_messages(prompt))
        elif not messages or messages[-1].get("role") == "system":
            raise UserError("run() needs a prompt, or a message_history to go on from")
        return AgentRun(spec, ctx, new_from=new_from, emit=emit)

    def _run_spec(self) -> RunSpec:
        if self._spec is not None and self._model is not None:
            return self._spec
        model = self._resolve_model()
        target = self.profile.schema_target
        # A tool asks for strict mode; only a model whose profile takes it gets it (Grok
        # answers 400 to `strict`, so there it is always left out).
        definitions = [
            tool.definition("strict" if tool.strict and self.profile.strict_tools else target)
            for tool in self._toolset
        ]
        mode = resolve_mode(
            self._output_mode, is_text=self._output.is_text, profile=self.profile,
            has_tools=bool(definitions),
        )
        dropped = frozenset(p for p in self._settings if not self.profile.accepts(p))
        if dropped:
            _log.info("%s does not accept %s; leaving it out of requests",
                      self.model, ", ".join(sorted(dropped)))
        self._spec = RunSpec(
            model_name=self.model,
            model=model,
            tools={tool.name: tool for tool in self._toolset},
            tool_definitions=definitions,
            output=self._output,
            target=target,
            settings=self._settings,
            output_tool_definition=(
                None if self._output.is_text else self._output.tool_definition(target)
            ),
            max_turns=self._max_turns,
            tool_retries=self._tool_retries,
            output_retries=self._output_retries,
            usage_limits=self._usage_limits,
            parallel_tools=self._parallel_tools,
            redact_tool_errors=self._redact_tool_errors,
            max_result_chars=self._max_result_chars,
            validators=tuple(self._validators),
            capabilities=self._capabilities,
            cache_key=(id(model), self.model),
            initial=Capabilities(output_mode=mode, dropped=dropped),
        )
        return self._spec

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
            self._model = ClientModel(self._owned_client)
        elif isinstance(client, GrokClient):
            self._model = ClientModel(client)
        else:
            self._model = client
        return self._model

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


def _load_instructions(instructions: str | Path | None) -> PromptTemplate | None:
    if instructions is None:
        return None
    if isinstance(instructions, os.PathLike):
        path = Path(instructions)
        try:
            return PromptTemplate(path.read_text(encoding="utf-8"), name=path.name)
        except OSError as exc:
            raise ConfigurationError(f"cannot read the instructions file {str(path)!r}: {exc}") from exc
    if not isinstance(instructions, str):
        raise ConfigurationError(
            f"instructions must be text, a template file path, or None; got {type(instructions).__name__}"
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

