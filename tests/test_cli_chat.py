"""`agentkit chat`: live tool calls and streamed text, failed and cancelled turns that leave the
conversation as it was, the /commands, and Ctrl-C and Ctrl-D on a real terminal.

The agent lives in a module written into `tmp_path`, with a client of its own on a policy
that plays the model deterministically; the policy writes each request body to a file, so
what the installed console script sent (under a pseudo-terminal) is checked the same way.
"""

from __future__ import annotations

import fcntl
import importlib
import io
import json
import os
import select
import struct
import subprocess
import sys
import termios
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from agentkit.cli import main
from agentkit.sessions import SQLiteSession

SCRIPT = Path(sys.executable).parent / "agentkit"

_MODULE = '''
import json
from pathlib import Path

import anyio

from agentkit import Agent, GrokClient, tool
from agentkit.sim.reply import SimReply, SimToolCall

BODIES = Path({bodies!r})


@tool
async def wait_a_while(seconds: float) -> str:
    """Wait.

    Args:
        seconds: How long.
    """
    await anyio.sleep(seconds)
    return "waited"


@tool
def always_fails(x: int) -> str:
    """Fail.

    Args:
        x: Anything.
    """
    raise RuntimeError("the tool broke")


@tool(requires_approval=True)
def refund(order_id: int) -> str:
    """Refund an order.

    Args:
        order_id: The order.
    """
    return f"refunded {{order_id}}"


def _call(name, **arguments):
    return SimToolCall(name, json.dumps(arguments))


def policy(body):
    with BODIES.open("a", encoding="utf-8") as file:
        file.write(json.dumps(body) + "\\n")
    messages = body["messages"]
    last = max(i for i, m in enumerate(messages) if m["role"] == "user")
    prompt = str(messages[last]["content"])
    results = [str(m["content"]) for m in messages[last:] if m["role"] == "tool"]
    if results:
        return SimReply(content="done: " + " | ".join(results))
    if "slow" in prompt:
        return SimReply(tool_calls=(_call("wait_a_while", seconds=60),))
    if "break" in prompt:
        return SimReply(tool_calls=(_call("always_fails", x=1),))
    if "refund" in prompt:
        return SimReply(tool_calls=(_call("refund", order_id=7),))
    users = [str(m["content"]) for m in messages if m["role"] == "user"]
    return SimReply(content="seen: " + " | ".join(users))


agent = Agent("grok-4", tools=[wait_a_while, always_fails, refund], tool_retries=0,
              client=GrokClient.simulated(policy))
'''


@dataclass
class App:
    """The agent module, importable, and the requests its model received."""

    target: str
    folder: Path
    fed: list[str] = field(default_factory=list)

    def bodies(self) -> list[dict[str, Any]]:
        path = self.folder / "bodies.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]

    def users(self) -> list[list[str]]:
        """Per request, the user messages it carried."""
        return [[str(m["content"]) for m in body["messages"] if m["role"] == "user"]
                for body in self.bodies()]


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[App]:
    name = f"chat_agents_{uuid.uuid4().hex}"
    source = _MODULE.format(bodies=str(tmp_path / "bodies.jsonl"))
    (tmp_path / f"{name}.py").write_text(source, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("AGENTKIT_HOME", str(tmp_path / "home"))
    importlib.invalidate_caches()
    try:
        yield App(f"{name}:agent", tmp_path)
    finally:
        sys.modules.pop(name, None)


def chat(app: App, *lines: str | Callable[[], str | None], args: tuple[str, ...] = ()
         ) -> tuple[int, str, str]:
    """`agentkit chat TARGET`, fed `lines` (a callable is called for its line)."""
    out, err = io.StringIO(), io.StringIO()
    feed = iter(lines)

    def read() -> str | None:
        item = next(feed, None)
        return item() if callable(item) else item

    code = main(["chat", app.target, *args], stdout=out, stderr=err, read_line=read)
    return code, out.getvalue(), err.getvalue()


# -- in-process ----------------------------------------------------------------------------


def test_tool_calls_show_live_and_text_streams() -> None:
    out, err = io.StringIO(), io.StringIO()
    feed = iter(["Will it rain in Paris tomorrow?", ""])
    code = main(["chat", "weather"], stdout=out, stderr=err, read_line=lambda: next(feed, None))
    assert code == 0, err.getvalue()
    assert '-> get_forecast({"city":"Paris"})' in err.getvalue()
    assert "<- get_forecast: " in err.getvalue()
    assert json.loads(out.getvalue())["city"] == "Paris"  # a pipe gets the structured answer as JSON


def test_a_failed_turn_is_one_line_and_the_conversation_goes_on(app: App) -> None:
    code, out, err = chat(app, "hello", "please break", "again", "")
    assert code == 0, err
    errors = [line for line in err.splitlines() if line.startswith("agentkit: error: ")]
    assert len(errors) == 1 and errors[0].startswith("agentkit: error: ToolRetriesExceeded: ")
    assert "Traceback" not in err
    assert "x always_fails: " in err  # shown live before the run gave up
    # The failed turn is not part of what the next turn sends.
    assert app.users()[-1] == ["hello", "again"]
    assert out.splitlines() == ["seen: hello", "seen: hello | again"]


def test_an_api_error_keeps_the_chat_going(app: App) -> None:
    from agentkit.sim import Fault, FaultPlan, SimCore, SimulatedModel, run_in_thread

    sent: list[list[str]] = []
    model = SimulatedModel()

    def recording(request: Any) -> Any:
        sent.append([str(m["content"]) for m in request["messages"] if m["role"] == "user"])
        return model(request)

    core = SimCore(recording, faults=FaultPlan())

    def failing() -> str:
        core.faults.push(Fault("credits", count=1))  # not retryable: the turn fails at once
        return "this one fails"

    with run_in_thread(core) as base_url:
        code, out, err = chat(app, "first", failing, "second", "",
                              args=("--base-url", f"{base_url}/v1"))
    assert code == 0, err
    [error] = [line for line in err.splitlines() if line.startswith("agentkit: error: ")]
    assert error.startswith("agentkit: error: QuotaExceededError: ")
    assert "You asked: first" in out and "You asked: second" in out
    assert "this one fails" not in out
    # The failed turn reached no model; the next one carries only the turn that succeeded.
    assert sent == [["first"], ["first", "second"]]


def test_commands_reset_save_model_help(app: App) -> None:
    saved = app.folder / "chat.json"
    code, out, err = chat(app, "one", "/model grok-4-fast", "two", f"/save {saved}", "/reset",
                          "three", "/help", "/nonsense", "//slash", "/model", "")
    assert out.splitlines()[-1] == "seen: three | /slash"
    assert code == 0, err
    models = [body["model"] for body in app.bodies()]
    assert models == ["grok-4", "grok-4-fast", "grok-4-fast", "grok-4-fast"]
    assert app.users() == [["one"], ["one", "two"], ["three"], ["three", "/slash"]]
    messages = json.loads(saved.read_text(encoding="utf-8"))
    assert [m["role"] for m in messages] == ["user", "assistant", "user", "assistant"]
    assert messages[-1]["content"] == "seen: one | two"
    notes = err.splitlines()
    assert "agentkit chat: model grok-4-fast from the next turn on" in notes
    assert f"agentkit chat: saved 4 messages to {saved}" in notes
    assert "agentkit chat: the conversation is cleared" in notes
    assert "  /save PATH    write the conversation to PATH as JSON (the messages, as run " \
        "results hold them)" in notes
    assert "agentkit chat: unknown command /nonsense; /help lists the commands" in notes
    assert "agentkit chat: /model takes one model name, e.g. /model grok-4" in notes


def test_save_to_a_folder_that_is_not_there_is_a_note_not_the_end(app: App) -> None:
    code, out, err = chat(app, "one", f"/save {app.folder / 'no' / 'such' / 'x.json'}", "two", "")
    assert code == 0, err
    assert any(line.startswith("agentkit chat: cannot save to ") for line in err.splitlines())
    assert out.splitlines() == ["seen: one", "seen: one | two"]
    assert not (app.folder / "no").exists()


def test_reset_and_save_act_on_the_session(app: App) -> None:
    code, _, err = chat(app, "remember me", "", args=("--session", "ada"))
    assert code == 0, err
    saved = app.folder / "session.json"
    code, _, err = chat(app, f"/save {saved}", "/reset", "who am I?", "",
                        args=("--session", "ada"))
    assert code == 0, err
    assert "agentkit chat: session ada, 2 messages so far" in err.splitlines()
    assert [m["content"] for m in json.loads(saved.read_text(encoding="utf-8"))] == [
        "remember me", "seen: remember me"]
    assert app.users()[-1] == ["who am I?"]  # the reset session sent nothing older

    async def stored() -> list[dict[str, Any]]:
        async with SQLiteSession(app.folder / "home" / "sessions.db", "ada") as session:
            return await session.get_items()

    import anyio

    assert [m["content"] for m in anyio.run(stored)] == ["who am I?", "seen: who am I?"]


def test_ctrl_c_at_the_prompt_ends_the_chat_cleanly(app: App) -> None:
    def interrupt() -> str:
        raise KeyboardInterrupt

    code, out, err = chat(app, "hello", interrupt, "never read")
    assert code == 0
    assert "Traceback" not in err and "interrupted" not in err
    assert out.splitlines() == ["seen: hello"]


def test_exit_words_end_the_chat(app: App) -> None:
    for word in ("exit", "quit", "/exit", "/quit"):
        code, out, _ = chat(app, "hi", word, "never sent")
        assert code == 0 and out.splitlines() == ["seen: hi"]


# -- on a real terminal --------------------------------------------------------------------


class Terminal:
    """The console script on a pseudo-terminal: type into it, wait for what it shows."""

    def __init__(self, app: App, *argv: str) -> None:
        import pty

        if not SCRIPT.exists():
            pytest.skip(f"no agentkit console script beside {sys.executable}")
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
        env = {k: v for k, v in os.environ.items() if k not in ("XAI_API_KEY", "PYTHONPATH")}
        env["AGENTKIT_HOME"] = str(app.folder / "home")
        # A session of its own with the terminal as its controlling terminal (taken by the
        # small launcher before it becomes the console script): Ctrl-C typed into it is a
        # SIGINT to that process alone, as in a shell.
        launcher = ("import fcntl, os, sys, termios; fcntl.ioctl(0, termios.TIOCSCTTY, 0); "
                    "os.execv(sys.argv[1], sys.argv[1:])")
        self.process = subprocess.Popen(
            [sys.executable, "-c", launcher, str(SCRIPT), *argv], stdin=slave, stdout=slave,
            stderr=slave, cwd=app.folder, env=env, start_new_session=True)
        os.close(slave)
        self.screen = ""

    def wait_for(self, text: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.screen:
            if time.monotonic() > deadline:
                raise AssertionError(f"never showed {text!r}; the screen: {self.screen!r}")
            ready, _, _ = select.select([self.master], [], [], 0.2)
            if ready:
                try:
                    self.screen += os.read(self.master, 65536).decode(errors="replace")
                except OSError:  # EIO: the process closed the terminal
                    if text not in self.screen:
                        raise AssertionError(f"ended before {text!r}: {self.screen!r}") from None

    def type(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def ctrl_c(self) -> None:
        """Type Ctrl-C as a person would, not within a millisecond of the question: a SIGINT
        that lands while input() is still setting up readline is only noticed at the next
        key (CPython checks for signals when its select() is interrupted)."""
        time.sleep(0.3)
        self.type("\x03")

    def exit_code(self, timeout: float = 30) -> int:
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"still running; the screen: {self.screen!r}") from None
        finally:
            self.close()

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        os.close(self.master)


@pytest.fixture
def terminal(app: App) -> Iterator[Callable[..., Terminal]]:
    opened: list[Terminal] = []

    def open_one(*argv: str) -> Terminal:
        opened.append(Terminal(app, *argv))
        return opened[-1]

    yield open_one
    for one in opened:
        if one.process.poll() is None:
            one.close()


def test_ctrl_c_during_a_turn_cancels_only_that_turn(app: App, terminal: Callable[..., Terminal]
                                                     ) -> None:
    screen = terminal("chat", app.target)
    screen.wait_for("> ")
    screen.type("hello\r")
    screen.wait_for("seen: hello\r\n> ")
    screen.type("be slow\r")
    screen.wait_for("-> wait_a_while(")
    started = time.monotonic()
    screen.ctrl_c()
    screen.wait_for("agentkit chat: turn cancelled; the conversation is as it was before it")
    assert time.monotonic() - started < 10  # not the tool's 60 s
    screen.wait_for("before it\r\n> ")
    screen.type("again\r")
    screen.wait_for("seen: hello | again\r\n> ")
    screen.ctrl_c()  # at the prompt: the end
    assert screen.exit_code() == 0
    assert "Traceback" not in screen.screen
    assert app.users()[-1] == ["hello", "again"]


def test_ctrl_d_at_the_prompt_ends_the_chat(app: App, terminal: Callable[..., Terminal]) -> None:
    screen = terminal("chat", app.target)
    screen.wait_for("> ")
    screen.type("hi\r")
    screen.wait_for("seen: hi\r\n> ")
    screen.type("\x04")
    assert screen.exit_code() == 0
    assert "Traceback" not in screen.screen


def test_ctrl_c_at_an_approval_question_cancels_the_turn(
    app: App, terminal: Callable[..., Terminal]
) -> None:
    screen = terminal("chat", app.target)
    screen.wait_for("> ")
    screen.type("refund please\r")
    screen.wait_for('? approve refund({"order_id": 7}) [y/N] ')
    screen.ctrl_c()
    screen.wait_for("turn cancelled; the conversation is as it was before it\r\n> ")
    screen.type("refund again\r")
    screen.wait_for('[y/N] ')
    screen.type("y\r")
    screen.wait_for("done: refunded 7\r\n> ")
    screen.type("\x04")
    assert screen.exit_code() == 0
    # The cancelled turn left nothing behind: the next one starts from an empty history.
    assert app.users()[-1] == ["refund again"]
