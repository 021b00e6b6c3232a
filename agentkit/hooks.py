"""Lifecycle hooks: the seam users' logging, metrics and tracing plug into.

A `RunHooks` subclass overrides the methods it cares about, each sync or async (`on_retry`
sync only); the loop
calls them at each point of a run. `Agent(..., hooks=[...])` sets hooks for every run and
`run(..., hooks=[...])` adds some to one run. `agentkit.otel.OpenTelemetryHooks` is built on
this seam, so the loop itself never imports OpenTelemetry.

An exception raised in a hook propagates and ends the run like any error, because a hook that
fails silently (a metrics counter that stopped counting) is worse than one that fails loudly.
A run with no hooks pays one `is None` check per point.
"""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import ConfigurationError

if TYPE_CHECKING:
    from ._result import RunResult
    from .context import RunContext
    from .errors import APIError
    from .types.chat import ChatCompletion, ToolCall

__all__ = ["HookSet", "RunHooks", "RunInfo"]


@dataclass(slots=True, eq=False)
class RunInfo:
    """One run, as hooks see it: the same object at every hook call of that run.

    Attributes:
        run_id: Unique to this run (a resumed run gets a new one).
        agent_name: The agent's `name`, or None.
        model: The model id the run's requests name.
        ctx: The run's context: deps, usage and messages so far.
        conversation_id: The session's id when the run has a `session=`, else None.
        resumed: Whether the run goes on from a saved `RunState`.
    """

    agent_name: str | None
    model: str
    ctx: RunContext[Any]
    conversation_id: str | None = None
    resumed: bool = False
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex)


class RunHooks:
    """Override any of these; each may be a plain or an `async` method.

    Every method gets the run's `RunInfo` first. The arguments are the loop's own objects:
    read them, don't change them.
    """

    def on_run_start(self, run: RunInfo) -> Any:
        """The run begins (or goes on from a saved state)."""

    def on_run_end(
        self, run: RunInfo, result: RunResult[Any] | None, error: BaseException | None
    ) -> Any:
        """The run ended: with `result` (which may be paused) or with `error`."""

    def on_model_request(self, run: RunInfo, request: Mapping[str, Any]) -> Any:
        """A request is about to be sent (`request` is its body, without credentials)."""

    def on_model_response(
        self,
        run: RunInfo,
        request: Mapping[str, Any],
        response: ChatCompletion | None,
        error: BaseException | None,
    ) -> Any:
        """The request ended: `response` came, or `error` was raised (after the client's own
        retries)."""

    def on_retry(self, run: RunInfo, error: APIError) -> None:
        """The client will send the current request again after `error`. Called from inside
        the client's retry loop, so this one must be a plain (not `async`) method."""

    def on_fallback(self, run: RunInfo, error: APIError, change: str) -> Any:
        """The server refused a feature with a 400; the loop retries with `change` (e.g.
        "output_mode='tool'" or "dropped 'temperature'")."""

    def on_handoff(self, run: RunInfo, from_agent: str | None, to_agent: str) -> Any:
        """The conversation passes to another agent; `run.agent_name` is the new one after."""

    def on_tool_start(self, run: RunInfo, call: ToolCall) -> Any:
        """A tool call is about to run."""

    def on_tool_end(self, run: RunInfo, call: ToolCall, result: str, failed: bool) -> Any:
        """A tool call ended; `result` is the text the model gets, `failed` says whether it is
        an error (bad arguments, an exception, `ToolRetry`, a timeout)."""


_HOOK_NAMES = tuple(
    name for name, value in vars(RunHooks).items() if name.startswith("on_") and callable(value)
)


class HookSet:
    """The hooks of one run, asked only for the methods each of them overrides."""

    __slots__ = ("_by_name",)

    def __init__(self, hooks: Iterable[RunHooks]) -> None:
        by_name: dict[str, list[Any]] = {name: [] for name in _HOOK_NAMES}
        for hook in hooks:
            if not isinstance(hook, RunHooks):
                raise ConfigurationError(
                    f"hooks= takes RunHooks objects (subclass agentkit.hooks.RunHooks), "
                    f"not {type(hook).__name__}"
                )
            for name in _HOOK_NAMES:
                if getattr(type(hook), name) is not getattr(RunHooks, name):
                    by_name[name].append(getattr(hook, name))
            if inspect.iscoroutinefunction(type(hook).on_retry):
                raise ConfigurationError(
                    f"{type(hook).__name__}.on_retry must be a plain method, not async: it is "
                    "called from inside the client's retry loop"
                )
        self._by_name = {name: tuple(methods) for name, methods in by_name.items() if methods}

    def __bool__(self) -> bool:
        return bool(self._by_name)

    async def call(self, name: str, *args: Any) -> None:
        """Call every hook that overrides `name`, in order, awaiting the async ones."""
        for method in self._by_name.get(name, ()):
            value = method(*args)
            if inspect.isawaitable(value):
                await value

    def call_now(self, name: str, *args: Any) -> None:
        """Call every hook that overrides `name` (a plain method), in order."""
        for method in self._by_name.get(name, ()):
            method(*args)

    @staticmethod
    def of(*groups: Iterable[RunHooks] | None) -> HookSet | None:
        """The hooks of `groups` together, or None when there is nothing to call."""
        hooks = [hook for group in groups if group for hook in group]
        if not hooks:
            return None
        merged = HookSet(hooks)
        return merged if merged else None
