"""What `agent.run_stream()` yields: one small dataclass per kind of event, told apart by `kind`.

A stream of a run reads, turn by turn: reasoning and text deltas as the model writes, partial
structured output as it takes shape, a started and a finished event for each tool call, and
last of all one `FinalResult`. Match on the class or on `kind`:

```python
async with agent.run_stream("...") as stream:
    async for event in stream:
        if event.kind == "text_delta":
            print(event.text, end="")
```
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeAlias, TypeVar

from .citations import ServerToolUse

__all__ = [
    "AgentEvent",
    "AgentHandoff",
    "FinalResult",
    "PartialOutput",
    "ReasoningDelta",
    "ServerToolCalled",
    "TextDelta",
    "ToolCallFinished",
    "ToolCallStarted",
]

OutputT = TypeVar("OutputT")
ResultT = TypeVar("ResultT")


@dataclass(frozen=True, slots=True)
class TextDelta:
    """A piece of the assistant's visible text.

    Attributes:
        text: The new text.
        kind: Always `"text_delta"`.
    """

    text: str
    kind: Literal["text_delta"] = field(default="text_delta", init=False)


@dataclass(frozen=True, slots=True)
class ReasoningDelta:
    """A piece of the model's visible reasoning (`reasoning_content`), where it shows any.

    Attributes:
        text: The new reasoning text.
        kind: Always `"reasoning_delta"`.
    """

    text: str
    kind: Literal["reasoning_delta"] = field(default="reasoning_delta", init=False)


@dataclass(frozen=True, slots=True)
class ToolCallStarted:
    """The agent is about to run a tool call the model made.

    Attributes:
        tool_call_id: The model's id for the call.
        name: The tool name the model asked for (perhaps one the agent does not have).
        arguments: The arguments as the model wrote them (JSON text).
        kind: Always `"tool_call_started"`.
    """

    tool_call_id: str
    name: str
    arguments: str
    kind: Literal["tool_call_started"] = field(default="tool_call_started", init=False)


@dataclass(frozen=True, slots=True)
class ToolCallFinished:
    """A tool call is done; its result (or the error sent instead) goes back to the model.

    Attributes:
        tool_call_id: The model's id for the call.
        name: The tool name.
        result: The text sent back to the model: the result, or the error feedback.
        error: The failure in words when the call failed, else None.
        kind: Always `"tool_call_finished"`.
    """

    tool_call_id: str
    name: str
    result: str
    error: str | None = None
    kind: Literal["tool_call_finished"] = field(default="tool_call_finished", init=False)

    @property
    def ok(self) -> bool:
        """Whether the call succeeded."""
        return self.error is None


@dataclass(frozen=True, slots=True)
class PartialOutput(Generic[OutputT]):
    """Structured output as far as the model has written it.

    Attributes:
        data: The JSON read so far, parsed leniently (an unfinished string is kept, an
            unfinished key or value dropped).
        output: `data` validated as the output type, once it validates (for a list, the
            items finished so far); None while it does not.
        kind: Always `"partial_output"`.
    """

    data: Any
    output: OutputT | None = None
    kind: Literal["partial_output"] = field(default="partial_output", init=False)


@dataclass(frozen=True, slots=True)
class FinalResult(Generic[ResultT]):
    """The run is over; always the last event of a stream that succeeded.

    Attributes:
        result: The `RunResult`, as `agent.run()` would have returned it.
        kind: Always `"final_result"`.
    """

    result: ResultT
    kind: Literal["final_result"] = field(default="final_result", init=False)


@dataclass(frozen=True, slots=True)
class AgentHandoff:
    """Another agent takes over the conversation (`Agent(handoffs=[...])`).

    Attributes:
        from_agent: The agent that handed over.
        to_agent: The agent that answers from now on.
        tool_call_id: The model's `transfer_to_...` call.
        kind: Always `"handoff"`.
    """

    from_agent: str | None
    to_agent: str
    tool_call_id: str
    kind: Literal["handoff"] = field(default="handoff", init=False)


@dataclass(frozen=True, slots=True)
class ServerToolCalled:
    """The server ran one of its own tools (a web or X search, code...) on the Responses API.

    Attributes:
        call: What it ran: `call.type`, `call.detail` (the query or code), `call.status`.
        kind: Always `"server_tool_call"`.
    """

    call: ServerToolUse
    kind: Literal["server_tool_call"] = field(default="server_tool_call", init=False)

    @classmethod
    def of(cls, data: Any) -> ServerToolCalled:
        """From the plain data the model adapter sends along the stream."""
        return cls(ServerToolUse.of(data))


AgentEvent: TypeAlias = (
    TextDelta
    | ReasoningDelta
    | ToolCallStarted
    | ToolCallFinished
    | ServerToolCalled
    | AgentHandoff
    | PartialOutput[Any]
    | FinalResult[Any]
)
"""Any event a run stream yields."""
