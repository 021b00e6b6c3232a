"""The terminal side of a paused run, for `agentkit run --approve` and `agentkit chat`.

A run pauses when the model calls a tool that needs a yes or no (`requires_approval`) or whose
result the caller supplies (`deferred`). `decide` asks about each such call and records the
answers on the run's state; `report_paused` says what waits when nobody is there to ask.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from typing import TextIO

import anyio.to_thread

from .state import Interruption, RunState

__all__ = ["DECLINED", "NO_ANSWER", "PAUSED_HINT", "ReadLine", "decide", "describe",
           "read_answer", "report_paused"]

ReadLine = Callable[[], str | None]
"""Reads one line of the user's input without its newline; None at the end of input."""

DECLINED = "the user declined at the terminal"
NO_ANSWER = "the terminal gave no answer (end of input)"
PAUSED_HINT = "agentkit: the run paused for approval; rerun with --approve to decide at the terminal"

_YES = frozenset({"y", "yes"})


def describe(call: Interruption) -> str:
    """The call as `name({"arg": value})`, safe to print on a terminal.

    The arguments are the model's text: they are re-encoded as JSON and every character that is
    not printable is escaped, so that they cannot move the cursor or hide what is being asked.
    """
    try:
        arguments = json.dumps(json.loads(call.arguments or "{}"), ensure_ascii=False)
    except ValueError:
        arguments = call.arguments
    return f"{_printable(call.tool_name)}({_printable(arguments)})"


def report_paused(waiting: Sequence[Interruption], err: TextIO) -> None:
    """One line per waiting call, then how to decide on them."""
    for call in waiting:
        needs = "approval" if call.kind == "approval" else "a result"
        print(f"agentkit: {describe(call)} waits for {needs}", file=err)
    print(PAUSED_HINT, file=err)


async def decide(state: RunState, read: ReadLine, err: TextIO, *, in_thread: bool = True) -> None:
    """Ask about each call `state` waits on and record the answers on it.

    `y` or `yes` approves a call; any other answer rejects it. A deferred call's result is the
    line typed. At the end of input every call still undecided is rejected, so the run can
    always go on.

    Args:
        state: The paused run's state; its decisions are filled in here.
        read: Reads one answer (called in a worker thread, since it may block on stdin).
        err: Where the questions go (stderr), apart from the run's output.
        in_thread: False to call `read` on the event loop's own thread: nothing else runs
            while a paused run waits, and there Ctrl-C raises KeyboardInterrupt out of
            `read` (`agentkit chat` cancels the turn with it) instead of leaving a worker
            thread blocked on stdin.
    """
    for call in state.pending:
        if call.kind == "deferred":
            question = f"result for {describe(call)}: "
        else:
            question = f"? approve {describe(call)} [y/N] "
        err.write(question)
        err.flush()
        answer = await anyio.to_thread.run_sync(read) if in_thread else read()
        if answer is None:
            err.write("\n")  # the question line had no answer to end it
            state.reject_all(NO_ANSWER)
            return
        if call.kind == "deferred":
            state.set_result(call.call_id, answer.strip())
        elif answer.strip().lower() in _YES:
            state.approve(call.call_id)
        else:
            state.reject(call.call_id, reason=DECLINED)


def read_answer(err: TextIO) -> str | None:
    """Read an answer from stdin; None at the end of input.

    When stdin is not a terminal the typed answer is not echoed, so it is written after the
    question here, to keep what was decided readable in a log.
    """
    try:
        answer = input()
    except EOFError:
        return None
    if not sys.stdin.isatty():
        print(_printable(answer), file=err)
    return answer


def _printable(text: str) -> str:
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
