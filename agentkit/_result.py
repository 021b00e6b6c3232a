"""`RunResult`: what a run produced (output, conversation, usage), or why it paused."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import pydantic_core

from .citations import Citation, ServerToolUse, citations_of, server_tool_calls_of
from .errors import UserError
from .usage import RunUsage

if TYPE_CHECKING:
    from .state import Interruption, RunState

__all__ = ["RunResult"]

OutputT = TypeVar("OutputT")


class RunResult(Generic[OutputT]):
    """What a run produced: the output, or the calls it paused for.

    Attributes:
        messages: The whole conversation as request messages (JSON-serialisable dicts);
            pass it as `message_history=` to continue.
        usage: What the run consumed, every request counted (retries and fallbacks too).
        new_from: Index of the first message this run added (the history came before it).
        state: The run as data: save it (`state.to_json()`) and resume a paused run with
            `agent.run(state=...)`.
        interruptions: The tool calls the run paused for (empty when it finished): approve,
            reject or answer each on `state`, then resume.
        sub_results: Results of agents run as tools during the run, by tool call id.
        agent_name: The agent that gave the output: the one run, or the last one a handoff
            passed the conversation to.
    """

    __slots__ = (
        "_output", "agent_name", "interruptions", "messages", "new_from", "state", "sub_results",
        "usage",
    )

    def __init__(
        self,
        output: OutputT,
        messages: list[dict[str, Any]],
        usage: RunUsage,
        new_from: int = 0,
        *,
        state: RunState,
        interruptions: Sequence[Interruption] = (),
        sub_results: dict[str, RunResult[Any]] | None = None,
        agent_name: str | None = None,
    ) -> None:
        self._output = output
        self.agent_name = agent_name
        self.messages = messages
        self.usage = usage
        self.new_from = new_from
        self.state = state
        self.interruptions = list(interruptions)
        self.sub_results = sub_results if sub_results is not None else {}

    @property
    def output(self) -> OutputT:
        """The validated output (`str`, or an instance of the output type).

        Raises:
            UserError: The run paused for approval or a deferred result and has no output
                yet; see `interruptions`.
        """
        if self.interruptions:
            waiting = ", ".join(f"{i.tool_name} ({i.call_id}, {i.kind})" for i in self.interruptions)
            raise UserError(
                f"the run paused before it had an output: it waits on {waiting}. Decide on "
                "each of result.interruptions with result.state.approve/reject/set_result, "
                "then resume with agent.run(state=result.state)"
            )
        return self._output

    @property
    def paused(self) -> bool:
        """Whether the run stopped for calls that wait for a decision (see `interruptions`)."""
        return bool(self.interruptions)

    @property
    def citations(self) -> list[Citation]:
        """The sources the answers cite (server-side search on the Responses API, or xAI's
        chat `citations`), each URL once, in order."""
        return citations_of(self.state.context)

    @property
    def server_tool_calls(self) -> list[ServerToolUse]:
        """The tools the server ran itself during the run (searches, code), in order."""
        return server_tool_calls_of(self.state.context)

    def new_messages(self) -> list[dict[str, Any]]:
        """The messages this run added: everything after the `message_history` it was given."""
        return self.messages[self.new_from :]

    def to_json(self, *, indent: int | None = None) -> str:
        """The conversation as JSON text; `json.loads` it into `message_history=` to go on."""
        return pydantic_core.to_json(self.messages, indent=indent).decode()

    def __repr__(self) -> str:
        if self.interruptions:
            return f"RunResult(paused, interruptions={self.interruptions!r}, usage={self.usage!r})"
        return f"RunResult(output={self._output!r}, messages={len(self.messages)}, usage={self.usage!r})"
