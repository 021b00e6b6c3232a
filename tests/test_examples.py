"""The example agents: each follows the contract the CLI relies on, and runs offline."""

from __future__ import annotations

import importlib
import inspect
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from types import ModuleType

import anyio
import pytest

import agentkit.examples
from agentkit import Agent, GrokClient, RunContext, ToolRetry
from agentkit.examples import EXAMPLES
from agentkit.sim.media import inspect_image

EXAMPLES_DIR = Path(agentkit.examples.__file__).resolve().parent
SIMULATED_NOTICE = "agentkit: no XAI_API_KEY set; using the local simulated Grok model (offline)"
USAGE_LINE = re.compile(r"^\[usage: (\d+) requests?, (\d+) tool calls?, \d+ tokens?")


def load(name: str) -> ModuleType:
    return importlib.import_module(f"agentkit.examples.{name}")


async def run_main(name: str, capsys: pytest.CaptureFixture[str], prompt: str | None = None) -> str:
    """Run an example's `main()` offline and return its stdout, checking the shared parts."""
    with anyio.fail_after(20):
        await load(name).main(prompt)
    out, err = capsys.readouterr()
    assert err.count(SIMULATED_NOTICE) == 1, err
    lines = out.strip().splitlines()
    assert len(lines) >= 2, out
    assert USAGE_LINE.match(lines[-1]), lines[-1]
    return out


def usage_of(out: str) -> tuple[int, int]:
    match = USAGE_LINE.match(out.strip().splitlines()[-1])
    assert match is not None
    return int(match.group(1)), int(match.group(2))


@pytest.fixture
def isolated_tempdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point `tempfile.gettempdir()` at a fresh folder, so the shop database is built anew."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


# -- the contract ---------------------------------------------------------------------------


def test_examples_lists_exactly_the_example_modules_weather_first() -> None:
    on_disk = sorted(p.stem for p in EXAMPLES_DIR.glob("*.py") if not p.name.startswith("_"))
    assert sorted(EXAMPLES) == on_disk
    assert len(set(EXAMPLES)) == len(EXAMPLES)
    assert EXAMPLES[0] == "weather"
    assert agentkit.examples.__all__ == sorted(agentkit.examples.__all__)


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_follows_the_contract(name: str) -> None:
    module = load(name)
    summary = (module.__doc__ or "").strip().splitlines()
    assert summary and summary[0].endswith(".") and len(summary[0]) <= 100, module.__doc__
    assert isinstance(module.DEFAULT_PROMPT, str) and module.DEFAULT_PROMPT.strip()

    parameters = inspect.signature(module.build_agent).parameters
    assert list(parameters) == ["model", "client"]
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in parameters.values())
    assert parameters["model"].default == "grok-4.3"
    assert parameters["client"].default is None

    assert inspect.iscoroutinefunction(module.main)
    assert inspect.signature(module.main).parameters["prompt"].default is None
    source = Path(str(module.__file__)).read_text(encoding="utf-8")
    assert 'if __name__ == "__main__":' in source
    assert len(source.splitlines()) <= 120


@pytest.mark.anyio
@pytest.mark.parametrize("name", EXAMPLES)
async def test_build_agent_uses_the_model_and_client_it_is_given(
    name: str, capsys: pytest.CaptureFixture[str], isolated_tempdir: Path
) -> None:
    async with GrokClient.simulated() as client:
        agent = load(name).build_agent(model="grok-4.20", client=client)
    assert isinstance(agent, Agent)
    assert agent.model == "grok-4.20"
    assert SIMULATED_NOTICE not in capsys.readouterr().err  # a given client is used as is


def test_build_agent_without_a_client_says_it_falls_back_to_the_simulator(
    capsys: pytest.CaptureFixture[str],
) -> None:
    load("weather").build_agent()
    assert capsys.readouterr().err.strip() == SIMULATED_NOTICE


@pytest.mark.anyio
@pytest.mark.parametrize("name", EXAMPLES)
async def test_every_example_runs_offline(
    name: str, capsys: pytest.CaptureFixture[str], isolated_tempdir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AGENTKIT_OUTPUT_DIR", str(isolated_tempdir))
    await run_main(name, capsys)


def test_an_example_runs_as_a_script_with_a_prompt_argument(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "XAI_API_KEY"}
    done = subprocess.run(
        [sys.executable, str(EXAMPLES_DIR / "weather.py"), "Will it rain in London tomorrow?"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("London, tomorrow: Cloudy, 9 to 13 °C, 50% chance of rain")


# -- what each example prints ------------------------------------------------------------------


@pytest.mark.anyio
async def test_weather_answers_from_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    out = await run_main("weather", capsys)
    assert out.startswith("Paris, tomorrow: Rain, 9 to 14 °C, 80% chance of rain")
    assert usage_of(out) == (2, 1)
    out = await run_main("weather", capsys, "Will it rain in Tokyo tomorrow?")
    assert out.startswith("Tokyo, tomorrow: ")


@pytest.mark.anyio
async def test_weather_tool_lists_the_known_cities_for_an_unknown_one() -> None:
    async with GrokClient.simulated() as client:
        agent = load("weather").build_agent(client=client)
    [get_forecast] = agent.tools
    with pytest.raises(ToolRetry, match="Paris") as caught:
        await get_forecast.invoke({"city": "Atlantis"})
    assert "Atlantis" in str(caught.value) and "New York" in str(caught.value)
    week = await get_forecast.invoke({"city": " new york ", "days": 7})
    assert [day["day"] for day in week] == [1, 2, 3, 4, 5, 6, 7]
    assert {day["city"] for day in week} == {"New York"}


@pytest.mark.anyio
async def test_math_tutor_uses_the_calculator(capsys: pytest.CaptureFixture[str]) -> None:
    out = await run_main("math_tutor", capsys)
    assert "(3 + 4) * 12 = 84" in out  # the calculator's result, said as an answer
    assert "9.165151" in out  # the second step: the square root of 84
    assert usage_of(out) == (2, 2)


@pytest.mark.anyio
async def test_extraction_fills_a_contact(capsys: pytest.CaptureFixture[str]) -> None:
    out = await run_main("extraction", capsys)
    assert "name: Maria Garcia" in out
    assert "email: maria.garcia@northwind.example" in out
    assert "company: Northwind Traders" in out
    assert "phone: +34 612 345 678" in out
    assert usage_of(out) == (1, 0)


@pytest.mark.anyio
async def test_sql_analyst_reports_the_best_seller(
    capsys: pytest.CaptureFixture[str], isolated_tempdir: Path
) -> None:
    out = await run_main("sql_analyst", capsys)
    assert "Espresso Beans" in out and "24" in out
    assert (isolated_tempdir / "agentkit-examples" / "shop-1.db").is_file()


def test_shop_database_is_built_once_even_by_racing_threads(isolated_tempdir: Path) -> None:
    from agentkit.examples.data.build_shop_db import ensure_shop_db

    paths: list[Path] = []
    threads = [threading.Thread(target=lambda: paths.append(ensure_shop_db())) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(paths)) == 1
    folder = isolated_tempdir / "agentkit-examples"
    assert [p.name for p in folder.iterdir()] == ["shop-1.db"]  # no temporary files left
    with sqlite3.connect(paths[0]) as connection:
        counts = [connection.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                  for t in ("products", "customers", "orders")]
    connection.close()
    assert counts == [12, 10, 48]


@pytest.mark.anyio
async def test_research_ranks_the_right_document_first(capsys: pytest.CaptureFixture[str]) -> None:
    out = await run_main("research", capsys)
    assert "16 grams of water" in out
    first = min(out.index(m) for m in re.findall(r"[\w-]+\.md", out))
    assert out[first:].startswith("coffee-brewing.md")


@pytest.mark.anyio
async def test_vision_describes_the_bundled_picture(capsys: pytest.CaptureFixture[str]) -> None:
    out = await run_main("vision", capsys)
    assert "320x200" in out and "orange" in out
    assert usage_of(out)[0] == 3  # two agent turns and the vision request the tool made


@pytest.mark.anyio
async def test_vision_tool_only_opens_the_bundled_images() -> None:
    async with GrokClient.simulated() as client:
        agent = load("vision").build_agent(client=client)
    [describe_image] = agent.tools
    for name in ("../weather.py", "/etc/passwd", "missing.png"):
        with pytest.raises(ToolRetry, match=r"sunset\.png"):
            await describe_image.invoke({"file": name}, ctx=RunContext(deps=None))


@pytest.mark.anyio
async def test_image_generation_saves_a_png_in_the_output_folder(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGENTKIT_OUTPUT_DIR", str(tmp_path / "images"))
    monkeypatch.chdir(tmp_path)
    out = await run_main("image_generation", capsys)
    saved = Path(out.splitlines()[0].removeprefix("Saved "))
    assert saved.parent == tmp_path / "images" and saved.suffix == ".png"
    info = inspect_image(saved.read_bytes())
    assert info["format"] == "png" and "error" not in info and info["width"] > 0
    assert "lighthouse" in out.splitlines()[1]


@pytest.mark.anyio
async def test_streaming_chat_shows_tool_calls_then_the_text(
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = await run_main("streaming_chat", capsys)
    lines = out.splitlines()
    assert lines[0].startswith("[calling convert_units(")
    assert lines[1].startswith("[convert_units -> ") and "42.16" in lines[1]
    assert "42.16" in lines[2]


@pytest.mark.anyio
async def test_multi_agent_merges_the_specialists_usage(capsys: pytest.CaptureFixture[str]) -> None:
    out = await run_main("multi_agent", capsys)
    assert "Paris" in out and "84" in out
    # Coordinator: 2 requests and 2 tool calls; each specialist: 2 requests and 1 tool call.
    assert usage_of(out) == (6, 4)
