"""`agentkit batch`: records, failing and malformed lines, resuming from a results file, and
the progress report (plain lines off a terminal, a bar redrawn in place on one).

The agent lives in a module written into `tmp_path` (a user's `module:attr`); its `policy`
plays the model and is served on loopback, because the CLI gives a `module:attr` agent the
client of `--base-url`. The policy runs in this process (the server's thread) even when the
installed command runs in another, so `SEEN` tells which prompts were run.
"""

from __future__ import annotations

import dataclasses
import importlib
import io
import json
import os
import re
import select
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from agentkit._cli_batch import result_record
from agentkit._progress import BatchProgress
from agentkit.cli import main
from agentkit.sim import SimCore, run_in_thread
from agentkit.usage import RunUsage

_MODULE = '''
import json

import anyio

from agentkit import Agent, GrokClient, tool
from agentkit.sim.reply import SimReply, SimToolCall

SEEN = []


@tool
async def wait(seconds: float) -> str:
    """Wait a while.

    Args:
        seconds: How long.
    """
    await anyio.sleep(seconds)
    return "waited"


def policy(body):
    messages = body["messages"]
    last_user = max(i for i, m in enumerate(messages) if m["role"] == "user")
    prompt = str(messages[last_user]["content"])
    answered = any(m["role"] == "tool" for m in messages[last_user:])
    if not answered:
        SEEN.append(prompt)
    if prompt.startswith("fail"):  # calls the tool for ever: past max_turns
        return SimReply(tool_calls=(SimToolCall("wait", json.dumps({"seconds": 0})),))
    if prompt.startswith("slow") and not answered:
        return SimReply(tool_calls=(SimToolCall("wait", json.dumps({"seconds": 0.05})),))
    return SimReply(content=f"echo: {prompt} ({messages[0]['content']})")


agent = Agent("grok-4", tools=[wait], client=GrokClient.simulated(policy), max_turns=2,
              instructions="deps={{ deps }}")
'''

SUMMARY = re.compile(r"agentkit: batch done: (\d+) ok, (\d+) failed(?: \((\d+) malformed\))?, "
                     r"(\d+) skipped \(already done\), \d+\.\d runs/s(, \$\d+\.\d+)?$")


@dataclass
class App:
    """The agent module on `sys.path`, its model served on loopback, and a folder for files."""

    module: ModuleType
    base_url: str
    folder: Path

    @property
    def target(self) -> str:
        return f"{self.module.__name__}:agent"

    @property
    def seen(self) -> list[str]:
        return list(self.module.SEEN)

    def prompts(self, *lines: str) -> str:
        """A prompts file of these lines, as written; its path."""
        path = self.folder / "prompts.jsonl"
        path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
        return str(path)

    def batch(self, prompts: str, *argv: str, out: str = "out.jsonl") -> tuple[int, str]:
        err = io.StringIO()
        code = main(["batch", prompts, "--agent", self.target, "--out",
                     str(self.folder / out), "--base-url", self.base_url, *argv],
                    stdout=io.StringIO(), stderr=err)
        return code, err.getvalue()

    def records(self, out: str = "out.jsonl") -> list[dict[str, Any]]:
        lines = (self.folder / out).read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines]


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[App]:
    # A fresh name per test: a module imported once stays in sys.modules.
    name = f"batch_agents_{uuid.uuid4().hex}"
    (tmp_path / f"{name}.py").write_text(_MODULE, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module(name)
    try:
        with run_in_thread(SimCore(module.policy)) as base_url:
            yield App(module, f"{base_url}/v1", tmp_path)
    finally:
        sys.modules.pop(name, None)


def summary(err: str) -> tuple[str | None, ...]:
    """The summary line's ok, failed, malformed and skipped counts."""
    match = SUMMARY.match(err.splitlines()[-1])
    assert match, err
    return match.group(1, 2, 3, 4)


def by_id(records: list[dict[str, Any]]) -> dict[str | None, dict[str, Any]]:
    return {r["id"]: r for r in records}


# -- running a file ------------------------------------------------------------------------


def test_a_batch_of_the_weather_example_records_every_line_and_exits_0(tmp_path: Path) -> None:
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text('"Will it rain in Paris tomorrow?"\n\n'
                       '{"prompt": "Weather in Tokyo?", "id": "tokyo"}\n'
                       '{"prompt": "Rain in Berlin?"}\n', encoding="utf-8")
    out, err = tmp_path / "out.jsonl", io.StringIO()
    code = main(["batch", str(prompts), "--agent", "weather", "--out", str(out),
                 "--provider", "sim", "--concurrency", "2"], stdout=io.StringIO(), stderr=err)
    lines = err.getvalue().splitlines()
    assert code == 0, err.getvalue()
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert sorted((r["id"], r["line"]) for r in records) == [("1", 1), ("4", 4), ("tokyo", 3)]
    assert all(set(r) == {"id", "line", "output", "usage", "error"} for r in records)
    tokyo = by_id(records)["tokyo"]
    assert tokyo["error"] is None
    assert tokyo["output"]["city"] == "Tokyo"  # the pydantic output, as JSON
    assert tokyo["usage"]["requests"] == 2 and tokyo["usage"]["tool_calls"] == 1
    assert tokyo["usage"]["cost_usd"] > 0
    assert lines[-1].startswith("agentkit: batch done: 3 ok, 0 failed, 0 skipped (already done), ")
    match = SUMMARY.match(lines[-1])
    assert match and match[5]  # the simulated model reports a cost
    assert "\r" not in err.getvalue()


def test_failing_and_malformed_lines_are_reported_recorded_and_exit_1(app: App) -> None:
    prompts = app.prompts(
        '"hello"',                           # 1
        '"fail at once"',                    # 2
        "",                                  # 3: blank, skipped
        "{not json",                         # 4
        '{"id": "x"}',                       # 5
        '{"prompt": 3}',                     # 6
        '{"prompt": "again", "id": "a"}',    # 7
        '{"prompt": "twice", "id": "a"}',    # 8
        '{"prompt": "typo", "dep": 1}',      # 9
        '{"prompt": "with deps", "deps": {"user": "ann"}}',  # 10
        "[1, 2]",                            # 11
    )
    code, err = app.batch(prompts, "--concurrency", "3")
    assert code == 1
    assert [line for line in err.splitlines() if "prompts.jsonl:" in line] == [
        f"agentkit: {prompts}:4: not JSON: Expecting property name enclosed in double quotes "
        "(column 2)",
        f'agentkit: {prompts}:5: an object without "prompt"',
        f'agentkit: {prompts}:6: "prompt" must be a string, a message object or a list of '
        "message objects, not a number",
        f'agentkit: {prompts}:8: duplicate id "a" (first on line 7)',
        f'agentkit: {prompts}:9: unknown key "dep"; a line takes "prompt", "id" and "deps"',
        f'agentkit: {prompts}:11: a line is a JSON string (the prompt) or an object with '
        '"prompt", not a list',
    ]
    records = app.records()
    ran = by_id([r for r in records if r["id"] is not None])
    assert ran["1"]["output"] == "echo: hello (deps=None)" and ran["1"]["error"] is None
    assert ran["10"]["output"] == "echo: with deps (deps={'user': 'ann'})"
    assert ran["a"]["output"] == "echo: again (deps=None)" and ran["a"]["line"] == 7
    failed = ran["2"]
    assert failed["output"] is None and failed["error"].startswith("MaxTurnsExceeded: ")
    assert failed["usage"]["requests"] == 2
    malformed = {r["line"]: r["error"] for r in records if r["id"] is None}
    assert sorted(malformed) == [4, 5, 6, 8, 9, 11]
    assert malformed[5] == 'malformed line: an object without "prompt"'
    assert sorted(app.seen) == ["again", "fail at once", "hello", "with deps"]
    assert summary(err) == ("3", "7", "6", "0")
    # A rerun retries the failed line, and does not record the malformed lines again.
    code, err = app.batch(prompts)
    assert code == 1
    again = app.records()[len(records):]
    assert [(r["id"], r["error"][:17]) for r in again] == [("2", "MaxTurnsExceeded:")]
    assert summary(err) == ("0", "7", "6", "3")


def test_resume_skips_what_is_done_and_retries_failed_and_cut_off_records(app: App) -> None:
    prompts = app.prompts(*map(json.dumps, ["one", "two", "three", "four", "five"]))
    usage = dataclasses.asdict(RunUsage(requests=1))
    done = {"id": "1", "line": 1, "output": "echo: one", "usage": usage, "error": None}
    failed = {"id": "2", "line": 2, "output": None, "usage": usage,
              "error": "APIConnectionError: the server went away"}
    cut = json.dumps({"id": "3", "line": 3, "output": "echo: three", "usage": usage,
                      "error": None})[:30]  # a kill in the middle of the write
    out = app.folder / "out.jsonl"
    out.write_text(f"{json.dumps(done)}\n{json.dumps(failed)}\n{cut}", encoding="utf-8")

    code, err = app.batch(prompts)
    assert code == 0, err
    assert sorted(app.seen) == ["five", "four", "three", "two"]  # not "one"
    assert f"agentkit: {out}:3: not a complete result record, ignored (its line runs again)" in err
    assert summary(err) == ("4", "0", None, "1")
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[2] == cut  # left as it was; the new records start on a line of their own
    records = [json.loads(line) for i, line in enumerate(lines) if i != 2]
    # Two records for id "2" now: the last one wins.
    assert {r["id"]: r["error"] for r in records} == dict.fromkeys("12345")
    assert [r["id"] for r in records].count("2") == 2

    code, err = app.batch(prompts)  # everything is done: nothing runs
    assert code == 0 and len(app.seen) == 4
    assert summary(err) == ("0", "0", None, "5")


def test_usage_errors_exit_2(app: App) -> None:
    prompts = app.prompts('"hello"')
    code, err = app.batch(str(app.folder / "missing.jsonl"))
    assert code == 2
    assert err == f"agentkit: error: cannot read {app.folder / 'missing.jsonl'}: No such file or directory\n"
    code, err = app.batch(prompts, "--concurrency", "0")
    assert (code, err) == (2, "agentkit: error: --concurrency must be at least 1, got 0\n")
    assert app.batch(prompts, "--concurrency", "many")[0] == 2
    code = main(["batch", prompts, "--agent", "nope", "--out", "x.jsonl"],
                stdout=io.StringIO(), stderr=io.StringIO())
    assert code == 2
    assert main(["batch", prompts, "--agent", "weather"], stderr=io.StringIO()) == 2  # no --out
    assert app.seen == [] and not (app.folder / "out.jsonl").exists()


# -- progress ------------------------------------------------------------------------------


def _client_notes(lines: list[str]) -> tuple[list[str], list[str]]:
    """The lines saying where requests go (which come first), and the rest."""
    notes = [line for line in lines if line.startswith(
        ("agentkit: requests go to ", "agentkit: --base-url replaces the client "))]
    assert lines[: len(notes)] == notes
    return notes, lines[len(notes):]


def test_off_a_terminal_progress_is_a_few_plain_lines(app: App) -> None:
    prompts = app.prompts(*[json.dumps(f"prompt {i}") for i in range(25)])
    code, err = app.batch(prompts, "--concurrency", "4")
    assert code == 0, err
    notes, lines = _client_notes(err.splitlines())
    assert notes[0].startswith("agentkit: requests go to http://127.0.0.1:")
    assert "\r" not in err
    assert lines[0] == "agentkit: batch: 25 to run, 0 skipped (already done)"
    steps = [line for line in lines if line.startswith("agentkit: batch: ") and "done," in line]
    # One line per tenth (3 runs), not one per run; the summary instead of 25/25.
    assert [line.split()[2] for line in steps] == [f"{n}/25" for n in range(3, 25, 3)]
    assert all(re.search(r", 0 failed, \d+\.\d runs/s, \$\d+\.\d+, ETA \d+s$", s) for s in steps)
    assert SUMMARY.match(lines[-1]) and len(lines) == 10


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_plain_lines_per_tenth_or_every_five_seconds() -> None:
    clock = Clock()
    progress = BatchProgress(100, tty=False, skipped=7, clock=clock)
    assert progress.start() == "agentkit: batch: 100 to run, 7 skipped (already done)\n"
    shown = []
    for i in range(99):
        clock.now += 0.01
        shown.append(progress.finished(ok=i != 5, cost_usd=0.001))
    assert [s.split()[2] for s in shown if s] == [f"{n}/100" for n in range(10, 100, 10)]
    assert shown[9] == ("agentkit: batch: 10/100 done, 1 failed, 100.0 runs/s, $0.0100, "
                        "ETA 1s\n")
    clock.now += 4.9
    assert progress.tick() == ""
    clock.now += 0.2  # five seconds since the last line, with no run ending
    assert progress.tick().startswith("agentkit: batch: 99/100 done, 1 failed, ")
    clock.now += 0.01
    assert progress.finished(ok=True, cost_usd=None) == ""  # the summary says it
    assert progress.finish() == ("agentkit: batch done: 99 ok, 1 failed, 7 skipped "
                                 "(already done), 16.4 runs/s, $0.0990\n")
    assert progress.tick() == ""


def test_small_batches_get_a_line_per_run_and_malformed_lines_count_as_failed() -> None:
    clock = Clock()
    progress = BatchProgress(4, tty=False, malformed=1, clock=clock)
    assert progress.start() == "agentkit: batch: 3 to run, 0 skipped (already done)\n"
    clock.now += 1
    assert progress.finished(ok=True, cost_usd=None) == (
        "agentkit: batch: 2/4 done, 1 failed, 1.0 runs/s, ETA 2s\n")
    assert progress.finished(ok=True, cost_usd=None).startswith("agentkit: batch: 3/4 done")
    assert progress.finished(ok=True, cost_usd=None) == ""
    assert progress.finish() == ("agentkit: batch done: 3 ok, 1 failed (1 malformed), "
                                 "0 skipped (already done), 3.0 runs/s\n")


def test_on_a_terminal_one_line_is_redrawn_at_most_ten_times_a_second() -> None:
    clock = Clock()
    progress = BatchProgress(200, tty=True, clock=clock, columns=200)
    first = progress.start()
    assert first == "\ragentkit: [....................] 0/200, 0 failed, 0.0 runs/s, ETA ?"
    clock.now += 0.04
    assert progress.finished(ok=True, cost_usd=0.5) == ""  # too soon after the last draw
    clock.now += 0.06
    assert progress.finished(ok=False, cost_usd=None) == (
        "\ragentkit: [....................] 2/200, 1 failed, 20.0 runs/s, $0.5000, ETA 10s")
    clock.now += 0.01
    assert progress.tick() == ""
    clock.now += 0.11
    assert progress.tick().startswith("\ragentkit: [....................] 2/200, 1 failed, 9.1")
    for _ in range(198):
        progress.finished(ok=True, cost_usd=None)
    clock.now += 1
    final, summary = progress.finish().split("\n")[:2]
    assert final.startswith("\ragentkit: [####################] 200/200, 1 failed, ")
    assert summary == ("agentkit: batch done: 199 ok, 1 failed, 0 skipped (already done), "
                       "163.9 runs/s, $0.5000")
    assert progress.interrupted() == ""


def test_the_bar_pads_over_a_longer_line_and_fits_the_terminal() -> None:
    clock = Clock()
    narrow = BatchProgress(3, tty=True, clock=clock, columns=40)
    assert len(narrow.start()) == 40  # "\r" and 39 columns: a full-width line would wrap
    progress = BatchProgress(3, tty=True, clock=clock, columns=200)
    before = progress.start()
    assert before.endswith(", ETA ?")
    for _ in range(3):
        progress.finished(ok=True, cost_usd=None)
    clock.now += 1
    final = progress.finish().split("\n")[0]  # shorter: no ETA once all is done
    assert final.rstrip().endswith("3/3, 0 failed, 3.0 runs/s")
    assert len(final) == len(before)  # padded: no stale tail left on screen
    assert progress.interrupted() == ""


def test_the_eta_reads_in_seconds_minutes_or_hours() -> None:
    for total, eta in ((10, "ETA 9s"), (100, "ETA 1m39s"), (10_000, "ETA 2h46m")):
        clock = Clock()
        progress = BatchProgress(total, tty=False, clock=clock, log_every=0.5)
        clock.now += 1
        # A tenth of the batch, or (past `log_every`) time: either way a line.
        assert progress.finished(ok=True, cost_usd=None).endswith(f", 1.0 runs/s, {eta}\n")
    progress = BatchProgress(5, tty=True, clock=clock)
    assert progress.start() and progress.interrupted() == "\n"  # ends the bar's line


def test_records_hold_json_for_any_output() -> None:
    @dataclass
    class Point:
        x: int
        tags: frozenset[str]

    usage = RunUsage()
    point = json.loads(result_record("p", 1, Point(1, frozenset({"a"})), usage, None))
    assert point["output"] == {"x": 1, "tags": ["a"]}
    odd = json.loads(result_record("o", 2, object(), usage, None))
    assert odd["output"].startswith("<object object at")


# -- on a real terminal --------------------------------------------------------------------


def test_the_installed_command_redraws_a_bar_on_a_pseudo_terminal(app: App) -> None:
    pty = pytest.importorskip("pty")
    command = Path(sys.executable).parent / "agentkit"
    if not command.exists():
        pytest.skip(f"the console script is not installed beside {sys.executable}")
    prompts = app.prompts(*[json.dumps(f"slow {i}") for i in range(12)])
    env = {k: v for k, v in os.environ.items()
           if k not in ("XAI_API_KEY", "XAI_BASE_URL", "OPENROUTER_API_KEY", "COMETAPI_KEY")}
    env["PYTHONPATH"] = os.pathsep.join([str(app.folder), env.get("PYTHONPATH", "")])
    master, slave = pty.openpty()
    process: subprocess.Popen[bytes] | None = None
    try:
        process = subprocess.Popen(
            [str(command), "batch", prompts, "--agent", app.target, "--out",
             str(app.folder / "out.jsonl"), "--base-url", app.base_url, "--concurrency", "2"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=slave, env=env,
            cwd=app.folder)
        os.close(slave)
        slave = -1
        screen = b""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if not ready:
                if process.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the last writer closed the terminal
                break
            if not chunk:
                break
            screen += chunk
        code = process.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        if slave >= 0:
            os.close(slave)
        os.close(master)
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()
    text = screen.decode()
    print(repr(text))  # shown when the test fails
    assert code == 0, text
    _, lines = _client_notes(text.split("\r\n"))
    text = "\r\n".join(lines)
    draws = text.split("\r\n")[0].split("\r")[1:]  # the bar's line, up to its final newline
    assert len(draws) >= 3, text  # first, at least one redraw, and the final state
    assert draws[0].startswith("agentkit: [....................] 0/12, 0 failed")
    assert draws[-1].startswith("agentkit: [####################] 12/12, 0 failed, ")
    assert all(d.startswith("agentkit: [") for d in draws)
    summary = text.split("\r\n")[1]
    assert summary.startswith("agentkit: batch done: 12 ok, 0 failed, 0 skipped (already done), ")
    assert sorted(app.seen) == sorted(f"slow {i}" for i in range(12))
