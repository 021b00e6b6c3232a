"""`agentkit chat`: a conversation with an agent at the terminal.

Each turn streams: tool calls on stderr as they run, the answer's text as it is written (a
structured answer redrawn as it takes shape, on a terminal). A turn that fails (an API error,
a run that gives up) is reported in one line and leaves the conversation as it was before
it; so does Ctrl-C during a turn, which cancels that turn only. At the prompt, Ctrl-C, Ctrl-D,
an empty line or `/exit` ends the chat. `/reset`, `/save PATH`, `/model NAME` and `/help` act
on the chat itself.

Ctrl-C: while a turn runs, SIGINT is taken by the event loop and cancels the turn's scope;
while the chat waits for a line (the prompt, or an approval question, read on the loop's own
thread because nothing else runs then), it is Python's KeyboardInterrupt, raised out of the
read. A worker thread blocked on stdin could not be interrupted either way.
"""

from __future__ import annotations

import argparse
import json
import signal
import threading
import traceback
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AsyncExitStack, contextmanager
from functools import partial
from pathlib import Path
from typing import Any, TextIO, TypeVar

import anyio

from ._cli_client import explain, make_client
from ._cli_prompts import ReadLine, decide
from ._cli_render import LiveView, plural
from ._cli_target import Bound, bind, resolve
from ._result import RunResult
from .agent import Agent
from .sessions import SQLiteSession
from .state import RunState

__all__ = ["HELP", "chat"]

T = TypeVar("T")

HELP = """\
agentkit chat commands:
  /reset        forget the conversation so far (a --session's too)
  /save PATH    write the conversation to PATH as JSON (the messages, as run results hold them)
  /model NAME   talk to model NAME from the next turn on
  /help         this list
  /exit         end the chat; so do an empty line, Ctrl-D and Ctrl-C at the prompt
  //text        send "/text" as a message
Ctrl-C during a turn cancels that turn; the conversation stays as it was before it."""

_EXITS = frozenset({"exit", "quit", "/exit", "/quit"})


class _Interrupted(Exception):
    """Ctrl-C cancelled what was running."""


def _can_take_signals() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextmanager
def _ctrl_c_raises() -> Iterator[None]:
    """Ctrl-C as KeyboardInterrupt for the whole chat, instead of the runner's handler (which
    would cancel the chat itself); the previous handler is back afterwards."""
    if not _can_take_signals():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


async def _cancellable(work: Callable[[], Awaitable[T]]) -> T:
    """Await `work`; Ctrl-C meanwhile cancels it and raises `_Interrupted`.

    Raises what `work` raises, as itself (not in an exception group).
    """
    if not _can_take_signals():
        return await work()
    interrupted = False
    outcome: list[T] = []
    failure: BaseException | None = None
    try:
        receiver = anyio.open_signal_receiver(signal.SIGINT)
        signals = receiver.__enter__()
    except (NotImplementedError, RuntimeError, ValueError):  # no signal support here
        return await work()
    try:
        async with anyio.create_task_group() as group:

            async def watch() -> None:
                nonlocal interrupted
                async for _ in signals:
                    interrupted = True
                    group.cancel_scope.cancel()
                    return

            group.start_soon(watch)
            try:
                outcome.append(await work())
            except Exception as error:
                failure = error
            group.cancel_scope.cancel()
    finally:
        receiver.__exit__(None, None, None)
    if interrupted and not outcome:
        raise _Interrupted
    if failure is not None:
        raise failure
    return outcome[0]


def _write_file(where: str, text: str) -> Path:
    """Write `text` to `where` whole: beside it first, then renamed over it, so that a failed
    write never leaves half a file."""
    path = Path(where).expanduser()
    partial_file = path.with_name(f".{path.name}.partial")
    try:
        partial_file.write_text(text, encoding="utf-8")
        partial_file.replace(path)
    finally:
        partial_file.unlink(missing_ok=True)
    return path


class _Chat:
    def __init__(self, bound: Bound, session: SQLiteSession | None, args: argparse.Namespace,
                 answer: ReadLine, out: TextIO, err: TextIO) -> None:
        self.agent: Agent[Any, Any] = bound.agent
        self.settings = bound.model_settings
        self.base_url = bound.base_url
        self.session = session
        self.debug = bool(args.debug)
        self.answer = answer
        self.out = out
        self.err = err
        self.model: str | None = None
        self.history: list[dict[str, Any]] = []

    def note(self, text: str) -> None:
        print(f"agentkit chat: {text}", file=self.err, flush=True)

    async def command(self, line: str) -> None:
        """Carry out a /command."""
        name, _, rest = line.partition(" ")
        rest = rest.strip()
        if name == "/help":
            print(HELP, file=self.err, flush=True)
        elif name == "/reset":
            if self.session is not None:
                await _cancellable(self.session.clear)
            self.history = []
            self.note("the conversation is cleared")
        elif name == "/save":
            await self.save(rest)
        elif name == "/model":
            if not rest or len(rest.split()) != 1:
                self.note("/model takes one model name, e.g. /model grok-4")
                return
            self.model = rest
            self.note(f"model {rest} from the next turn on")
        else:
            self.note(f"unknown command {name}; /help lists the commands")

    async def save(self, where: str) -> None:
        if not where:
            self.note("/save takes a file name, e.g. /save chat.json")
            return
        messages = (await _cancellable(self.session.get_items) if self.session is not None
                    else self.history)
        text = json.dumps(messages, indent=2, ensure_ascii=False) + "\n"
        try:
            path = await anyio.to_thread.run_sync(_write_file, where, text)
        except OSError as error:
            self.note(f"cannot save to {where}: {error.strerror or error}")
            return
        self.note(f"saved {plural(len(messages), 'message')} to {path}")

    async def turn(self, prompt: str) -> None:
        """One exchange; on failure or Ctrl-C the conversation is left as it was."""
        view = LiveView(self.out, self.err, stream=True,
                        structured=self.agent.output_type is not str)
        try:
            result = await _cancellable(lambda: self._stream(view, prompt=prompt))
            while result.paused:  # a chat is interactive: always ask
                state = result.state
                view.abandon()
                await decide(state, self.answer, self.err, in_thread=False)
                result = await _cancellable(partial(self._stream, view, state=state))
        except (_Interrupted, KeyboardInterrupt):
            view.abandon()
            self.note("turn cancelled; the conversation is as it was before it")
            return
        except Exception as error:
            view.abandon()
            if self.debug:
                traceback.print_exc(file=self.err)
            print(f"agentkit: error: {explain(error, self.base_url)}", file=self.err, flush=True)
            return
        # A session holds the history itself; without one it is kept here.
        if self.session is None:
            self.history = result.messages
        view.finish(result.output)

    async def _stream(self, view: LiveView, *, prompt: str | None = None,
                      state: RunState | None = None) -> RunResult[Any]:
        history = None if self.session is not None or state is not None else self.history
        async with self.agent.run_stream(
            prompt, state=state, session=self.session, message_history=history,
            model=self.model, model_settings=self.settings,
        ) as stream:
            async for event in stream:
                view.event(event)
            return stream.result


async def chat(args: argparse.Namespace, read: ReadLine, answer: ReadLine, out: TextIO,
               err: TextIO, sessions_file: Callable[[], Path]) -> int:
    """`agentkit chat`: read, run and show turns until the input ends."""
    target = resolve(args.target, factory=args.factory) if args.target else None
    with _ctrl_c_raises():
        async with AsyncExitStack() as stack:
            session: SQLiteSession | None = None
            if args.session is not None:
                # Opened before anything else, so that a bad file fails before the chat starts.
                session = await stack.enter_async_context(
                    SQLiteSession(sessions_file(), args.session))
                if count := len(await session.get_items()):
                    print(f"agentkit chat: session {args.session}, "
                          f"{plural(count, 'message')} so far", file=err)
            if target is not None:
                bound = await bind(target, args, stack, err)
            else:
                client = await stack.enter_async_context(make_client(args, err))
                bound = Bound(Agent(args.model or "grok-4.3", client=client,
                                    instructions="You are a helpful assistant."),
                              None, client.base_url)
            state = _Chat(bound, session, args, answer, out, err)
            print("agentkit chat: type a message; /help lists the commands; an empty line, "
                  "Ctrl-D or Ctrl-C ends.", file=err, flush=True)
            while True:
                try:
                    line = read()
                except KeyboardInterrupt:
                    print(file=err)  # the prompt's line had no newline to end it
                    break
                if line is None or not line.strip() or line.strip() in _EXITS:
                    break
                text = line.strip()
                if text.startswith("/") and not text.startswith("//"):
                    try:
                        await state.command(text)
                    except _Interrupted:
                        state.note("cancelled")
                    except Exception as error:  # a session that failed: the chat goes on
                        state.note(f"{text.split()[0]} failed: {type(error).__name__}: {error}")
                    continue
                await state.turn(text[1:] if text.startswith("//") else text)
    return 0
