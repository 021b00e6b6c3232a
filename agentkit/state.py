"""`RunState`: a run as data, to pause, save, inspect and resume.

A run's whole state is its conversation (request messages, only ever appended to), its usage,
its counters (turns, output and tool failures), the capabilities in force (the output mode and
what the server rejected), the tool calls waiting for a person or another service, and the
decisions made about them. Where the run goes next follows from the conversation: an
assistant message whose tool calls are not all answered is handled next (its calls run), an
answer that has not been judged is validated, and anything else is sent to the model.

```python
result = await agent.run("Refund order 42")
for call in result.interruptions:            # calls waiting for approval
    result.state.approve(call.call_id)       # or .reject(call.call_id, reason="...")
text = result.state.to_json()                # save it anywhere; later, in any process:
result = await agent.run(state=RunState.from_json(text))
```

The JSON carries a format version. This module does no I/O except `save` and `load`, which
write through a temporary file and a rename, so a file is the old state or the new one, never
a torn mix.
"""

from __future__ import annotations

import copy
import functools
import glob
import os
import secrets
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, NotRequired

import pydantic_core
from pydantic import TypeAdapter, ValidationError

# pydantic validates typing_extensions' TypedDict on Python 3.11 (pydantic depends on it).
from typing_extensions import TypedDict

from .errors import RunStateError, UserError
from .output import ResolvedMode
from .tool import serialize_result
from .usage import RunUsage

__all__ = [
    "STATE_VERSION",
    "Capabilities",
    "Interruption",
    "RunState",
    "ToolCallRequest",
]

STATE_VERSION = 1
"""The format version `to_json` writes and `from_json` reads."""

InterruptionKind = Literal["approval", "deferred"]


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a run may send a model, as the agent learned it (from the profile, then from 400s).

    Attributes:
        output_mode: How structured output is asked for.
        dropped: Request fields left out because the model rejects them.
        strict_output: Whether `json_schema` is sent with `strict: true`.
    """

    output_mode: ResolvedMode
    dropped: frozenset[str] = frozenset()
    strict_output: bool = True


@dataclass(frozen=True, slots=True)
class ToolCallRequest:
    """A tool call the model asked for.

    Attributes:
        call_id: The model's id for the call.
        tool_name: The tool it names.
        arguments: The arguments as the model wrote them (JSON text).
        values: The arguments validated by the tool's schema (coerced to its parameter
            types), when the agent validated them; None otherwise.
    """

    call_id: str
    tool_name: str
    arguments: str
    values: dict[str, Any] | None = field(default=None, repr=False, compare=False)

    @property
    def args(self) -> dict[str, Any]:
        """The arguments as a dict: the validated `values` when there are some (what the tool
        would run with: `"7"` for an int parameter is `7` here), else the JSON text parsed
        ({} when it is not a JSON object)."""
        if self.values is not None:
            return self.values
        try:
            value = pydantic_core.from_json(self.arguments or "{}")
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}


@dataclass(frozen=True, slots=True)
class Interruption(ToolCallRequest):
    """A tool call the run stopped for, before running it.

    Attributes:
        kind: `"approval"`: the tool needs a yes or no (`state.approve` / `state.reject`);
            `"deferred"`: the caller supplies the result (`state.set_result`).
    """

    kind: InterruptionKind = "approval"


class _Decision(TypedDict, total=False):
    approved: bool
    reason: str | None
    result: str


class _InterruptionDoc(TypedDict):
    call_id: str
    tool_name: str
    arguments: str
    values: dict[str, Any] | None
    kind: InterruptionKind


class _StateDoc(TypedDict):
    version: int
    agent: str | None
    output: str
    model: str
    messages: list[dict[str, Any]]
    new_from: int
    usage: RunUsage
    turns: int
    output_failures: int
    tool_failures: dict[str, int]
    output_mode: ResolvedMode
    dropped: list[str]
    strict_output: bool
    interruptions: list[_InterruptionDoc]
    decisions: dict[str, _Decision]
    finished: bool
    context: NotRequired[dict[str, Any]]  # absent from states written before it existed


def _remove_orphans(target: Path) -> None:
    """Remove the temporaries that processes killed mid-save left beside `target`."""
    for orphan in target.parent.glob(f".{glob.escape(target.name)}.*.tmp"):
        pid = orphan.name.removeprefix(f".{target.name}.").partition("-")[0]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)  # signal 0: is that process still there?
        except ProcessLookupError:
            orphan.unlink(missing_ok=True)
        except OSError:  # alive, under another user: its save may be in progress
            continue


@functools.cache
def _adapter() -> TypeAdapter[_StateDoc]:
    # Built on first use: only programs that load states pay for the schema.
    return TypeAdapter(_StateDoc)


@dataclass(slots=True)
class RunState:
    """A run as data: everything needed to go on from where it stopped.

    Made by the agent (never by hand): `result.state`, `error.state`, or a step's `state` in
    `agent.iter`. Resume with `agent.run(state=...)` (or `run_stream`, `iter`); the agent
    works on a copy, so a state can be resumed again.

    Attributes:
        messages: The conversation, ready to send (system prompt included).
        usage: What the run consumed so far, every request counted.
        model: The model id the run talks to.
        agent_name: The name of the agent that made the state (None if it had none).
        output_name: The name of the output type, to refuse a state from another agent.
        capabilities: The output mode in force and the request fields left out.
        new_from: Index of the first message of this run (the history came before it).
        turns: Model requests made so far.
        output_failures: Invalid final answers so far.
        tool_failures: Failures in a row, by tool name.
        interruptions: The tool calls the run stopped for, in the model's order.
        decisions: What the caller decided about them, by call id.
        finished: Whether the run reached its final output.
        context: What the context policy (a summary, what it learned of the window) and the
            model adapter keep between requests; JSON values only.
    """

    messages: list[dict[str, Any]]
    usage: RunUsage
    model: str
    agent_name: str | None
    output_name: str
    capabilities: Capabilities
    new_from: int = 0
    turns: int = 0
    output_failures: int = 0
    tool_failures: dict[str, int] = field(default_factory=dict)
    interruptions: list[Interruption] = field(default_factory=list)
    decisions: dict[str, _Decision] = field(default_factory=dict)
    finished: bool = False
    context: dict[str, Any] = field(default_factory=dict)

    # -- decisions --------------------------------------------------------------------------

    @property
    def pending(self) -> list[Interruption]:
        """The interruptions with no decision yet."""
        return [i for i in self.interruptions if i.call_id not in self.decisions]

    def approve(self, call_id: str) -> None:
        """Let the call run when the run resumes.

        Raises:
            UserError: No interruption has that id, or it is a deferred call (use `set_result`).
        """
        self._interruption(call_id, "approval")
        self.decisions[call_id] = {"approved": True}

    def reject(self, call_id: str, reason: str | None = None) -> None:
        """Refuse the call: it never runs, and the model reads that it was refused, with
        `reason` when given.

        Raises:
            UserError: No interruption has that id.
        """
        self._interruption(call_id, None)
        self.decisions[call_id] = {"approved": False, "reason": reason}

    def set_result(self, call_id: str, result: Any) -> None:
        """Give the result of a deferred call (any value a tool may return; sent as text).

        Raises:
            UserError: No interruption has that id, or it waits for approval, not a result.
        """
        self._interruption(call_id, "deferred")
        self.decisions[call_id] = {"result": serialize_result(result)}

    def approve_all(self) -> None:
        """Approve every call that waits for approval and has no decision yet."""
        for interruption in self.pending:
            if interruption.kind == "approval":
                self.decisions[interruption.call_id] = {"approved": True}

    def reject_all(self, reason: str | None = None) -> None:
        """Reject every call that has no decision yet."""
        for interruption in self.pending:
            self.decisions[interruption.call_id] = {"approved": False, "reason": reason}

    def _interruption(self, call_id: str, kind: InterruptionKind | None) -> Interruption:
        for interruption in self.interruptions:
            if interruption.call_id == call_id:
                if kind is not None and interruption.kind != kind:
                    fix = "state.set_result(call_id, value)" if interruption.kind == "deferred" \
                        else "state.approve(call_id) or state.reject(call_id)"
                    raise UserError(
                        f"call {call_id!r} ({interruption.tool_name}) waits for "
                        f"{'a result' if interruption.kind == 'deferred' else 'approval'}; "
                        f"use {fix}"
                    )
                return interruption
        waiting = ", ".join(f"{i.call_id} ({i.tool_name})" for i in self.interruptions)
        raise UserError(
            f"no interrupted call has the id {call_id!r}; "
            + (f"the run waits on: {waiting}" if waiting else "the run waits on no call")
        )

    # -- copies and JSON ----------------------------------------------------------------------

    def copy(self) -> RunState:
        """An independent copy (messages are never changed in place, so they are shared)."""
        return RunState(
            messages=list(self.messages),
            usage=copy.deepcopy(self.usage),
            model=self.model,
            agent_name=self.agent_name,
            output_name=self.output_name,
            capabilities=self.capabilities,
            new_from=self.new_from,
            turns=self.turns,
            output_failures=self.output_failures,
            tool_failures=dict(self.tool_failures),
            interruptions=list(self.interruptions),
            decisions={key: dict(value) for key, value in self.decisions.items()},  # type: ignore[misc]
            finished=self.finished,
            context=copy.deepcopy(self.context),
        )

    def to_json(self, *, indent: int | None = None) -> str:
        """The state as JSON text, for `RunState.from_json`.

        Raises:
            RunStateError: A message holds a value JSON cannot carry.
        """
        caps = self.capabilities
        document = {
            "version": STATE_VERSION,
            "agent": self.agent_name,
            "output": self.output_name,
            "model": self.model,
            "messages": self.messages,
            "new_from": self.new_from,
            "usage": asdict(self.usage),
            "turns": self.turns,
            "output_failures": self.output_failures,
            "tool_failures": self.tool_failures,
            "output_mode": caps.output_mode,
            "dropped": sorted(caps.dropped),
            "strict_output": caps.strict_output,
            "interruptions": [
                {"call_id": i.call_id, "tool_name": i.tool_name, "arguments": i.arguments,
                 "values": i.values, "kind": i.kind}
                for i in self.interruptions
            ],
            "decisions": self.decisions,
            "finished": self.finished,
            "context": self.context,
        }
        try:
            return pydantic_core.to_json(document, indent=indent).decode()
        except pydantic_core.PydanticSerializationError as exc:
            raise RunStateError(f"the run state cannot be written as JSON: {exc}") from exc

    @classmethod
    def from_json(cls, text: str | bytes) -> RunState:
        """Read a state written by `to_json`.

        Raises:
            RunStateError: Not JSON, not a run state, a format version this agentkit does
                not read, or fields of the wrong shape; the message says which.
        """
        try:
            raw = pydantic_core.from_json(text)
        except ValueError as exc:
            raise RunStateError(f"a run state must be JSON text from state.to_json(): {exc}") from exc
        if not isinstance(raw, dict) or "version" not in raw or "messages" not in raw:
            raise RunStateError(
                "this JSON is not an agentkit run state (no 'version' and 'messages'); "
                "pass the text of state.to_json()"
            )
        version = raw["version"]
        if version != STATE_VERSION:
            raise RunStateError(
                f"run state format version {version!r} is not one this agentkit reads "
                f"(it reads version {STATE_VERSION}); resume it with the agentkit that wrote it"
            )
        try:
            doc = _adapter().validate_python(raw)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or 'state'}: {e['msg']}"
                for e in exc.errors(include_url=False)[:5]
            )
            raise RunStateError(f"this run state is damaged: {problems}") from None
        messages = doc["messages"]
        for index, message in enumerate(messages):
            if not isinstance(message.get("role"), str):
                raise RunStateError(f"this run state is damaged: messages[{index}] has no role")
        if not 0 <= doc["new_from"] <= len(messages):
            raise RunStateError("this run state is damaged: new_from is outside the conversation")
        return cls(
            messages=messages,
            usage=doc["usage"],
            model=doc["model"],
            agent_name=doc["agent"],
            output_name=doc["output"],
            capabilities=Capabilities(
                output_mode=doc["output_mode"],
                dropped=frozenset(doc["dropped"]),
                strict_output=doc["strict_output"],
            ),
            new_from=doc["new_from"],
            turns=doc["turns"],
            output_failures=doc["output_failures"],
            tool_failures=doc["tool_failures"],
            interruptions=[Interruption(**i) for i in doc["interruptions"]],
            decisions=doc["decisions"],
            finished=doc["finished"],
            context=doc.get("context", {}),
        )

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write `to_json()` to `path` atomically: a reader (or a crash) sees the old file or
        the new one, never part of either.

        The text goes to a temporary file beside `path` (named after this process) and is
        renamed over it; a process killed before the rename leaves its temporary behind, and
        the next save removes those of processes that are gone.
        """
        target = Path(path)
        text = self.to_json()
        # The pid tells whose it is if it is left behind; the rest keeps threads apart.
        temporary = target.with_name(f".{target.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
        try:
            with temporary.open("w", encoding="utf-8") as file:
                file.write(text)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, target)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        _remove_orphans(target)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> RunState:
        """Read a state that `save` wrote.

        Raises:
            RunStateError: The file cannot be read, or does not hold a run state.
        """
        try:
            text = Path(path).read_bytes()
        except OSError as exc:
            raise RunStateError(f"cannot read the run state file {os.fspath(path)!r}: {exc.strerror}") from exc
        return cls.from_json(text)

    def __repr__(self) -> str:
        status = "finished" if self.finished else (
            f"{len(self.pending)} pending" if self.interruptions else "running"
        )
        return (
            f"RunState(agent={self.agent_name!r}, model={self.model!r}, "
            f"messages={len(self.messages)}, turns={self.turns}, {status})"
        )
