"""What one call of `run()`, `run_sync()`, `run_stream()` or `iter()` asked for, and what
happens to a session once the run ends."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypedDict

from .errors import UserError

if TYPE_CHECKING:
    from ._result import RunResult
    from .hooks import RunHooks
    from .sessions import Session
    from .state import RunState
    from .tool import Tool, Toolset, ToolSource
    from .usage import UsageLimits

__all__ = ["RunOptions"]

Prompt = str | Mapping[str, Any] | Sequence[Mapping[str, Any]]
"""A user prompt (text), one message dict, or several messages (multimodal content, say)."""


class RunOptions(TypedDict, total=False):
    """The keyword options of `run()` beside `prompt`, `deps` and `output_type`.

    Attributes:
        message_history: A previous run's `result.messages` (or their JSON text).
        state: A `RunState` to go on from (a paused run, or one an error ended).
        session: A `Session`: its items are the history, and the run's new messages are
            added to it when the run finishes.
        model: This run's model id.
        model_settings: Request fields merged over the agent's.
        tools: Tools added to the agent's for this run.
        replace_tools: Use only `tools`, not the agent's.
        usage_limits: This run's caps instead of the agent's.
        max_turns: This run's most model requests instead of the agent's.
        hooks: Lifecycle hooks (`agentkit.hooks.RunHooks`) added to the agent's for this run.
    """

    message_history: Sequence[Mapping[str, Any]] | str | None
    state: RunState | None
    session: Session | None
    model: str | None
    model_settings: Mapping[str, Any] | None
    tools: Iterable[Tool | Toolset | ToolSource | Callable[..., Any]] | None
    replace_tools: bool
    usage_limits: UsageLimits | None
    max_turns: int | None
    hooks: Sequence[RunHooks] | None


_OPTION_NAMES = frozenset(RunOptions.__annotations__)


@dataclass(slots=True)
class RunCall:
    """One call's arguments, checked once."""

    prompt: Prompt | None
    deps: Any
    output_type: Any
    message_history: Sequence[Mapping[str, Any]] | str | None = None
    state: RunState | None = None
    session: Session | None = None
    model: str | None = None
    model_settings: Mapping[str, Any] | None = None
    tools: Iterable[Tool | Toolset | ToolSource | Callable[..., Any]] | None = None
    replace_tools: bool = False
    usage_limits: UsageLimits | None = None
    max_turns: int | None = None
    hooks: Sequence[RunHooks] | None = None

    @classmethod
    def of(cls, prompt: Prompt | None, deps: Any, output_type: Any, options: Mapping[str, Any]) -> RunCall:
        """Check the options' names (a typo must not be ignored) and gather them."""
        if not options:
            return cls(prompt, deps, output_type)
        unknown = sorted(set(options) - _OPTION_NAMES)
        if unknown:
            raise UserError(
                f"run() got unknown option(s) {', '.join(unknown)}; it takes "
                f"{', '.join(sorted(_OPTION_NAMES | {'deps', 'output_type'}))}"
            )
        if options.get("model") is not None and not str(options["model"]).strip():
            raise UserError("model= must be a model id such as 'grok-4'")
        return cls(prompt, deps, output_type, **options)

    @property
    def overrides_nothing(self) -> bool:
        """Whether the agent's own spec serves this run (the common, fast case)."""
        return (
            self.model is None and self.model_settings is None and self.tools is None
            and not self.replace_tools and self.output_type is None
            and self.usage_limits is None and self.max_turns is None
        )


async def record(call: RunCall, result: RunResult[Any]) -> None:
    """Add a finished run's new messages to its session. The system prompt is the agent's,
    rendered afresh each run, so it is not stored; a paused run adds nothing until it ends,
    so a session never holds a tool call without its result."""
    if call.session is None or result.paused:
        return
    await call.session.add_items([m for m in result.new_messages() if m.get("role") != "system"])
