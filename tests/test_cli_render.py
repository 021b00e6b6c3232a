"""How results look: structured output as a table or aligned fields on a terminal, JSON in a
pipe or with --json; and `--stream` with structured output, which on a terminal redraws the
object as it grows and then shows it once, and in a pipe prints only the final output.

Terminal behaviour is checked on the installed console script under a pseudo-terminal, its
model played by a policy served on loopback with a delay per chunk, so that the stream
really arrives piece by piece.
"""

from __future__ import annotations

import fcntl
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
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from agentkit._cli_render import render_human, render_output
from agentkit.cli import main
from agentkit.sim import SimCore, SimReply, run_in_thread

SCRIPT = Path(sys.executable).parent / "agentkit"

CITIES = [
    {"name": "Paris", "country": "France", "population": 2102650},
    {"name": "Tokyo", "country": "Japan", "population": 14094034},
    {"name": "Lima", "country": "Peru", "population": 9751717},
]
FORECAST = {"city": "Paris", "summary": "Rain in the afternoon", "high_c": 14.5,
            "hours": [{"h": 12, "rain": True}]}

_MODULE = '''
from pydantic import BaseModel

from agentkit import Agent


class City(BaseModel):
    name: str
    country: str
    population: int


class Hour(BaseModel):
    h: int
    rain: bool


class Forecast(BaseModel):
    city: str
    summary: str
    high_c: float
    hours: list[Hour]


cities = Agent("grok-4.3", output_type=list[City])
forecast = Agent("grok-4.3", output_type=Forecast)
'''


def policy(body: Mapping[str, Any]) -> SimReply:
    """The answer the request's schema asks for: the cities, or the forecast."""
    schema = json.dumps(body.get("response_format") or body.get("tools") or {})
    if "population" in schema:
        return SimReply(content=json.dumps({"result": CITIES}))
    return SimReply(content=json.dumps(FORECAST))


@dataclass
class App:
    module: str
    folder: Path
    base_url: str


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[App]:
    name = f"render_agents_{uuid.uuid4().hex}"
    (tmp_path / f"{name}.py").write_text(_MODULE, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        with run_in_thread(SimCore(policy, chunk_delay=0.02)) as base_url:
            yield App(name, tmp_path, f"{base_url}/v1")
    finally:
        sys.modules.pop(name, None)


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err, read_line=lambda: None)
    return code, out.getvalue(), err.getvalue()


def on_a_terminal(app: App, *argv: str, columns: int = 100, rows: int = 30) -> tuple[int, str]:
    """The console script with stdout and stderr on a pseudo-terminal; its exit code and what
    the terminal received."""
    import pty

    if not SCRIPT.exists():
        pytest.skip(f"no agentkit console script beside {sys.executable}")
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("XAI_API_KEY", "XAI_BASE_URL")}
    process = subprocess.Popen([str(SCRIPT), *argv], stdin=subprocess.DEVNULL, stdout=slave,
                               stderr=slave, cwd=app.folder, env=env)
    os.close(slave)
    screen = b""
    try:
        deadline = time.monotonic() + 60
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
        code = process.wait(timeout=10)
    finally:
        os.close(master)
        if process.poll() is None:
            process.kill()
            process.wait()
    text = screen.decode().replace("\r\n", "\n")
    print(repr(text))  # shown when a test fails
    return code, text


TABLE = """\
name   country  population
-----  -------  ----------
Paris  France      2102650
Tokyo  Japan      14094034
Lima   Peru        9751717"""

FIELDS = """\
city:    Paris
summary: Rain in the afternoon
high_c:  14.5
hours:   [{"h": 12, "rain": true}]"""


# -- the renderer --------------------------------------------------------------------------


def test_a_list_of_objects_is_a_table_with_numbers_aligned_right() -> None:
    assert render_human(CITIES, 100) == TABLE


def test_an_object_is_aligned_fields_with_nested_values_as_compact_json() -> None:
    assert render_human(FORECAST) == FIELDS


def test_a_table_too_wide_for_the_terminal_becomes_a_block_per_item() -> None:
    assert render_human(CITIES, 20).split("\n\n") == [
        "#1\nname:       Paris\ncountry:    France\npopulation: 2102650",
        "#2\nname:       Tokyo\ncountry:    Japan\npopulation: 14094034",
        "#3\nname:       Lima\ncountry:    Peru\npopulation: 9751717",
    ]


def test_rows_with_different_keys_share_the_columns_and_nulls_show() -> None:
    rows = [{"a": "東京", "b": None}, {"c": "x\ny"}]
    assert render_human(rows).split("\n") == [
        "a     b     c",
        "----  ----  ----",
        "東京  null",
        "            x\\ny",
    ]


def test_what_the_model_wrote_cannot_drive_the_terminal() -> None:
    shown = render_human({"name": "\x1b[2J\x1b[Hgotcha", "lines": "one\ntwo"})
    assert "\x1b" not in shown
    assert shown == "name:  \\x1b[2J\\x1b[Hgotcha\nlines: one\n       two"


def test_off_a_terminal_structured_output_is_json_and_text_stays_text() -> None:
    assert json.loads(render_output(CITIES, terminal=False)) == CITIES
    assert render_output("plain words", terminal=False) == "plain words"
    assert render_output("plain words", terminal=True) == "plain words"
    assert render_output([], terminal=True) == "(an empty list)"
    assert render_output(42, terminal=True) == "42"


# -- in a pipe -----------------------------------------------------------------------------


def test_in_a_pipe_structured_output_is_json(app: App) -> None:
    code, out, err = run("run", f"{app.module}:cities", "Three big cities", "--base-url",
                         app.base_url)
    assert code == 0, err
    assert json.loads(out) == CITIES


def test_stream_in_a_pipe_prints_only_the_final_output_once(app: App) -> None:
    code, out, err = run("run", f"{app.module}:forecast", "Paris?", "--stream", "--base-url",
                         app.base_url)
    assert code == 0, err
    assert out == json.dumps(FORECAST, indent=2) + "\n"  # no raw deltas before it
    code, out, err = run("run", f"{app.module}:cities", "Cities", "--base-url", app.base_url,
                         "--stream")
    assert code == 0, err
    assert json.loads(out) == CITIES


def test_json_is_the_whole_result_even_with_stream(app: App) -> None:
    code, out, err = run("run", f"{app.module}:cities", "Cities", "--stream", "--json",
                         "--base-url", app.base_url)
    assert code == 0, err
    whole = json.loads(out)
    assert whole["output"] == CITIES and whole["usage"]["requests"] == 1


# -- on a terminal -------------------------------------------------------------------------


def test_on_a_terminal_a_list_is_a_table_and_an_object_is_fields(app: App) -> None:
    code, screen = on_a_terminal(app, "run", f"{app.module}:cities", "Cities", "--base-url",
                                 app.base_url)
    assert code == 0
    assert TABLE + "\n[1 request, 0 tool calls, " in screen
    code, screen = on_a_terminal(app, "run", f"{app.module}:forecast", "Paris?",
                                 "--base-url", app.base_url)
    assert code == 0
    assert FIELDS + "\n[1 request, 0 tool calls, " in screen


def test_json_on_a_terminal_is_still_json(app: App) -> None:
    code, screen = on_a_terminal(app, "run", f"{app.module}:cities", "Cities", "--json",
                                 "--base-url", app.base_url)
    assert code == 0
    assert json.loads(screen[screen.index("{"):])["output"] == CITIES


def test_stream_on_a_terminal_redraws_the_object_then_shows_it_once(app: App) -> None:
    code, screen = on_a_terminal(app, "run", f"{app.module}:forecast", "Paris?", "--stream",
                                 "--base-url", app.base_url)
    assert code == 0
    assert '{"' not in screen.replace('[{"h"', "")  # never the raw JSON deltas
    redraws = screen.count("\r\x1b[J")
    assert redraws >= 2, "the partial object was not drawn and redrawn"
    final = screen.rindex("\r\x1b[J") + len("\r\x1b[J")
    assert screen[final:].startswith(FIELDS + "\n[1 request, ")
    assert screen.count("summary: Rain in the afternoon") <= redraws  # partials, then once
    # Partial drawings were of the object taking shape: fields only, within the width.
    drawn = screen[:final]
    assert "city:" in drawn
    assert all(len(line) < 100 for line in drawn.split("\n"))


def test_stream_on_a_terminal_of_a_list_ends_in_the_table(app: App) -> None:
    code, screen = on_a_terminal(app, "run", f"{app.module}:cities", "Cities", "--stream",
                                 "--base-url", app.base_url, columns=60, rows=6)
    assert code == 0
    final = screen.rindex("\r\x1b[J") + len("\r\x1b[J")
    assert screen[final:].startswith(TABLE + "\n")
    # A partial taller than the terminal is cut to fit, so that it can be erased.
    for drawing in screen[:final].split("\r\x1b[J"):
        assert drawing.count("\n") <= 4
