"""The command line with runs that pause: `run --approve`, a pause with nobody to ask, and
`chat --session` across restarts.

The agent lives in a module written into `tmp_path` (a user's `module:attr`). Its `policy`
plays the model deterministically and is served on loopback, because the CLI gives a
`module:attr` agent the client the command line asks for (`--base-url` here), not the one it
was built with. Tool side effects and request bodies go to files, so the installed console
script, in another process, is checked the same way.
"""

from __future__ import annotations

import importlib
import io
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from agentkit.cli import main
from agentkit.sim import SimCore, run_in_thread

_MODULE = '''
import json
from pathlib import Path

from agentkit import Agent, GrokClient, tool
from agentkit.sim.reply import SimReply, SimToolCall

LEDGER = Path({ledger!r})
BODIES = Path({bodies!r})


def _append(path, entry):
    with path.open("a", encoding="utf-8") as file:
        file.write(json.dumps(entry) + "\\n")


@tool(requires_approval=True)
def refund_order(order_id: int) -> str:
    """Refund an order.

    Args:
        order_id: The order.
    """
    _append(LEDGER, ["refund_order", order_id])
    return f"refunded order {{order_id}}"


@tool
def lookup_order(order_id: int) -> str:
    """Look an order up.

    Args:
        order_id: The order.
    """
    _append(LEDGER, ["lookup_order", order_id])
    return f"order {{order_id}}: 2 items, $80"


@tool(deferred=True)
def ask_manager(question: str) -> str:
    """Ask the manager; the answer comes from the caller.

    Args:
        question: The question.
    """
    raise AssertionError("a deferred tool is never run")


def _call(name, **arguments):
    return SimToolCall(name, json.dumps(arguments))


def policy(body):
    _append(BODIES, body)
    messages = body["messages"]
    last_user = max(i for i, m in enumerate(messages) if m["role"] == "user")
    prompt = str(messages[last_user]["content"])
    results = [str(m["content"]) for m in messages[last_user:] if m["role"] == "tool"]
    if results:
        return SimReply(content="Done: " + " | ".join(results))
    if "manager" in prompt:
        return SimReply(tool_calls=(_call("ask_manager", question="May I refund order 1042?"),))
    if "refund" in prompt:
        return SimReply(tool_calls=(
            _call("refund_order", order_id=1042), _call("lookup_order", order_id=1042),
        ))
    return SimReply(content=f"You said: {{prompt}}")


agent = Agent("grok-4", tools=[refund_order, lookup_order, ask_manager],
              client=GrokClient.simulated(policy), name="support")
'''

REFUND = "Please refund order 1042"
APPROVE_PROMPT = '? approve refund_order({"order_id": 1042}) [y/N] '
# The free call ran in the first run, so its result comes first.
ANSWER = "Done: order 1042: 2 items, $80 | refunded order 1042"
HINT = "agentkit: the run paused for approval; rerun with --approve to decide at the terminal"


@dataclass
class App:
    """The agent module on `sys.path`, its model served on loopback, and what they did."""

    target: str
    base_url: str
    folder: Path

    def ledger(self) -> list[list[Any]]:
        return _lines(self.folder / "ledger.jsonl")

    def bodies(self) -> list[dict[str, Any]]:
        return _lines(self.folder / "bodies.jsonl")

    def count(self, name: str) -> int:
        return sum(1 for entry in self.ledger() if entry[0] == name)


def _lines(path: Path) -> list[Any]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[App]:
    # A fresh name per test: a module imported once stays in sys.modules.
    name = f"cli_agents_{uuid.uuid4().hex}"
    source = _MODULE.format(ledger=str(tmp_path / "ledger.jsonl"),
                            bodies=str(tmp_path / "bodies.jsonl"))
    (tmp_path / f"{name}.py").write_text(source, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("AGENTKIT_HOME", str(tmp_path / "home"))
    module = importlib.import_module(name)
    try:
        with run_in_thread(SimCore(module.policy)) as base_url:
            yield App(f"{name}:agent", f"{base_url}/v1", tmp_path)
    finally:
        sys.modules.pop(name, None)


def cli(app: App, *argv: str, lines: list[str] | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    feed: Iterator[str] = iter(lines or [])
    code = main([*argv, "--base-url", app.base_url], stdout=out, stderr=err,
                read_line=lambda: next(feed, None))
    return code, out.getvalue(), err.getvalue()


def tool_messages(body: dict[str, Any]) -> list[str]:
    return [str(m["content"]) for m in body["messages"] if m["role"] == "tool"]


def test_approved_call_runs_once_and_the_answer_uses_its_result(app: App) -> None:
    code, out, err = cli(app, "run", app.target, REFUND, "--approve", lines=["y"])
    assert code == 0, err
    assert APPROVE_PROMPT in err
    assert app.ledger() == [["lookup_order", 1042], ["refund_order", 1042]]
    assert out.strip() == ANSWER
    assert "-> refund_order(" in err and "<- refund_order: refunded order 1042" in err
    assert len(app.bodies()) == 2
    assert "Traceback" not in err


@pytest.mark.parametrize("answer", ["n", "no", "", "maybe"])
def test_any_answer_but_yes_rejects_and_the_model_reads_why(app: App, answer: str) -> None:
    code, out, err = cli(app, "run", app.target, REFUND, "--approve", lines=[answer])
    assert code == 0, err
    assert app.count("refund_order") == 0 and app.count("lookup_order") == 1
    rejection = ("Not run: the user rejected this call to refund_order. "
                 "Reason: the user declined at the terminal")
    assert rejection in tool_messages(app.bodies()[-1])
    assert rejection in out


def test_yes_is_case_insensitive(app: App) -> None:
    code, _, err = cli(app, "run", app.target, REFUND, "--approve", lines=["YES"])
    assert code == 0, err
    assert app.count("refund_order") == 1


def test_end_of_input_rejects_what_is_left(app: App) -> None:
    code, out, err = cli(app, "run", app.target, REFUND, "--approve", lines=[])
    assert code == 0, err
    assert APPROVE_PROMPT + "\n" in err
    assert app.count("refund_order") == 0
    assert "Not run: the user rejected this call to refund_order" in out
    assert "Reason: the terminal gave no answer (end of input)" in tool_messages(app.bodies()[-1])[1]


def test_a_deferred_result_is_typed_at_the_prompt(app: App) -> None:
    code, out, err = cli(app, "run", app.target, "Ask the manager about order 1042", "--approve",
                         lines=["  Yes, refund it in full  "])
    assert code == 0, err
    assert 'result for ask_manager({"question": "May I refund order 1042?"}): ' in err
    assert tool_messages(app.bodies()[-1]) == ["Yes, refund it in full"]
    assert out.strip() == "Done: Yes, refund it in full"


@pytest.mark.parametrize("mode", [[], ["--json"], ["--stream"]])
def test_a_pause_without_approve_says_what_waits_and_exits_1(app: App, mode: list[str]) -> None:
    code, out, err = cli(app, "run", app.target, REFUND, *mode, lines=["y"])
    assert code == 1
    assert out.strip() == ""
    lines = err.strip().splitlines()
    assert lines[-2:] == ['agentkit: refund_order({"order_id": 1042}) waits for approval', HINT]
    assert "Traceback" not in err and "UserError" not in err
    assert app.count("refund_order") == 0  # the free call ran; nothing waited on ran
    assert app.count("lookup_order") == 1


def test_a_waiting_deferred_call_is_named_too(app: App) -> None:
    code, _, err = cli(app, "run", app.target, "Ask the manager")
    assert code == 1
    assert err.strip().splitlines()[-2:] == [
        'agentkit: ask_manager({"question": "May I refund order 1042?"}) waits for a result', HINT,
    ]


def test_approve_with_json_and_stream_prints_the_final_result(app: App) -> None:
    code, out, err = cli(app, "run", app.target, REFUND, "--approve", "--json", lines=["y"])
    assert code == 0, err
    whole = json.loads(out)
    assert whole["output"] == ANSWER
    assert whole["usage"]["requests"] == 2 and whole["usage"]["tool_calls"] == 2
    assert [m["role"] for m in whole["messages"]][-3:] == ["tool", "tool", "assistant"]
    code, out, err = cli(app, "run", app.target, REFUND, "--approve", "--stream", lines=["y"])
    assert code == 0, err
    assert out == ANSWER + "\n"


def test_chat_asks_about_a_paused_turn(app: App) -> None:
    code, out, err = cli(app, "chat", app.target, lines=[REFUND, "n", "Thanks", ""])
    assert code == 0, err
    assert APPROVE_PROMPT in err
    assert app.count("refund_order") == 0
    assert "Reason: the user declined at the terminal" in out
    assert "You said: Thanks" in out


def test_chat_session_keeps_the_conversation_across_restarts(app: App) -> None:
    home = app.folder / "home"
    code, out, err = cli(app, "chat", app.target, "--session", "ada",
                         lines=["Hello, I am Ada", REFUND, "y", ""])
    assert code == 0, err
    assert "messages so far" not in err
    assert app.count("refund_order") == 1
    assert (home / "sessions.db").is_file()  # AGENTKIT_HOME is made when missing
    first = len(app.bodies())

    code, out, err = cli(app, "chat", app.target, "--session", "ada",
                         lines=["What did I say?", ""])
    assert code == 0, err
    # user, answer; then user, tool calls, two results, answer
    assert "agentkit chat: session ada, 7 messages so far" in err.splitlines()
    sent = app.bodies()[first]["messages"]
    contents = [m.get("content") for m in sent]
    assert contents[:2] == ["Hello, I am Ada", "You said: Hello, I am Ada"]
    assert "refunded order 1042" in contents
    assert sent[-1] == {"role": "user", "content": "What did I say?"}
    assert out.strip() == "You said: What did I say?"

    # Another session in the same file starts empty.
    code, _, err = cli(app, "chat", app.target, "--session", "bob", lines=["Hi", ""])
    assert code == 0 and "messages so far" not in err
    assert [m["role"] for m in app.bodies()[-1]["messages"]] == ["user"]


def test_a_corrupt_session_file_is_one_line_and_left_unchanged(app: App) -> None:
    home = app.folder / "home"
    home.mkdir()
    junk = b"this is not a SQLite database\n" * 100
    (home / "sessions.db").write_bytes(junk)
    code, out, err = cli(app, "chat", "--session", "ada", lines=["Hello", ""])
    assert code == 1
    assert out == ""
    [line] = err.strip().splitlines()
    assert line.startswith("agentkit: error: SessionError: ")
    assert "is not an agentkit session database" in line
    assert (home / "sessions.db").read_bytes() == junk
    assert app.bodies() == []


def test_a_bad_session_name_is_a_usage_error(app: App) -> None:
    code, _, err = cli(app, "chat", "--session", "", lines=["Hello", ""])
    assert code == 2
    assert err.startswith("agentkit: error: ConfigurationError: ") and "Traceback" not in err


def test_the_installed_console_script_asks_on_stdin(app: App) -> None:
    script = Path(sys.executable).parent / "agentkit"
    if not script.exists():
        pytest.skip(f"no agentkit console script beside {sys.executable}")
    env = {**os.environ, "PYTHONPATH": str(app.folder)}
    done = subprocess.run(
        [str(script), "run", app.target, REFUND, "--approve", "--base-url", app.base_url],
        input="y\n", capture_output=True, text=True, env=env, timeout=60, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ANSWER
    # stdin is not a terminal, so the answer is echoed after the question.
    assert APPROVE_PROMPT + "y\n" in done.stderr
    assert app.count("refund_order") == 1
