"""What `agent.iter()` yields: one small dataclass per step of a run.

A run goes, turn by turn: a `ModelRequestStep` (the conversation is about to be sent), a
`ModelResponseStep` (the model answered: text and/or tool calls, not run yet), a
`ToolResultsStep` (the calls ran; their results join the conversation), and at the end an
`OutputStep` (the validated output) or a `PausedStep` (calls wait for approval or a result).
An answer that fails validation is followed by the next `ModelRequestStep`, with the
feedback in the conversation.

Each step's `state` is the run as it stood right after that step: stop anywhere, and
`agent.run(state=step.state)` goes on from there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

from .events import ToolCallFinished
from .types.chat import ChatCompletion, ToolCall

if TYPE_CHECKING:
    from .state import Interruption, RunState

__all__ = [
    "ModelRequestStep",
    "ModelResponseStep",
    "OutputStep",
    "PausedStep",
    "RunStep",
    "ToolResultsStep",
]


@dataclass(slots=True)
class ModelRequestStep:
    """The conversation is about to be sent to the model.

    Attributes:
        turn: The number of this request in the run (1 for the first).
        messages: The conversation to send.
        state: The run at this point (set by `agent.iter`).
        kind: Always `"model_request"`.
    """

    turn: int
    messages: list[dict[str, Any]]
    state: RunState | None = field(default=None, repr=False)
    kind: Literal["model_request"] = field(default="model_request", init=False)


@dataclass(slots=True)
class ModelResponseStep:
    """The model answered; its tool calls have not run yet.

    Attributes:
        completion: The whole response.
        text: The visible text ("" when it only called tools).
        tool_calls: The calls it made, in order.
        state: The run at this point (set by `agent.iter`).
        kind: Always `"model_response"`.
    """

    completion: ChatCompletion | None
    text: str
    tool_calls: list[ToolCall]
    state: RunState | None = field(default=None, repr=False)
    kind: Literal["model_response"] = field(default="model_response", init=False)


@dataclass(slots=True)
class ToolResultsStep:
    """Tool calls ran (or were refused); their results are in the conversation.

    Attributes:
        results: One per call handled in this step, in the model's order.
        state: The run at this point (set by `agent.iter`).
        kind: Always `"tool_results"`.
    """

    results: list[ToolCallFinished]
    state: RunState | None = field(default=None, repr=False)
    kind: Literal["tool_results"] = field(default="tool_results", init=False)


@dataclass(slots=True)
class OutputStep:
    """The run is over: the model's answer validated.

    Attributes:
        output: The validated output.
        state: The finished run (set by `agent.iter`).
        kind: Always `"output"`.
    """

    output: Any
    state: RunState | None = field(default=None, repr=False)
    kind: Literal["output"] = field(default="output", init=False)


@dataclass(slots=True)
class PausedStep:
    """The run stopped before running calls that need approval or a result from outside.

    Attributes:
        interruptions: The calls waiting, in the model's order.
        state: The run to decide on and resume (set by `agent.iter`).
        kind: Always `"paused"`.
    """

    interruptions: list[Interruption]
    state: RunState | None = field(default=None, repr=False)
    kind: Literal["paused"] = field(default="paused", init=False)


RunStep: TypeAlias = ModelRequestStep | ModelResponseStep | ToolResultsStep | OutputStep | PausedStep
"""Any step `agent.iter` yields."""
