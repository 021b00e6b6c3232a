"""What a tool or an instructions template may see of the run that calls it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from .usage import RunUsage

if TYPE_CHECKING:
    from ._result import RunResult

__all__ = ["RunContext"]

DepsT = TypeVar("DepsT")


@dataclass
class RunContext(Generic[DepsT]):
    """Handed to tools that declare a `RunContext[...]` parameter; never shown to the model.

    Attributes:
        deps: The dependencies passed to `agent.run(..., deps=...)`.
        model: The model name the run talks to.
        usage: What the run has consumed so far.
        messages: The conversation so far (request messages, as dicts).
        retry: How many times the current tool has already failed in this run.
        tool_name: The tool being called, when in a tool.
        tool_call_id: The model's id for this call, when in a tool.
        sub_results: Results of agents run as tools in this run (`Agent.as_tool`), by tool
            call id; they end up in `result.sub_results`.
        idempotency_key: In a durable run (`agentkit.durable`), a key unique to this tool
            call and the same each time the call runs again after a crash (workflow id and
            step): a tool that charges or sends passes it on, so a repeat does nothing twice.
            None outside durable runs.
    """

    deps: DepsT
    model: str = ""
    usage: RunUsage = field(default_factory=RunUsage)
    messages: list[dict[str, Any]] = field(default_factory=list)
    retry: int = 0
    tool_name: str | None = None
    tool_call_id: str | None = None
    sub_results: dict[str, RunResult[Any]] = field(default_factory=dict, repr=False)
    idempotency_key: str | None = None
