"""The wheel ships the bundled tools and examples inside `agentkit`, and the installed
`agentkit` command runs an example from any directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(out), str(ROOT)],
        check=True, capture_output=True, timeout=600,
    )
    [built] = out.glob("agentkit-*.whl")
    return built


def test_wheel_holds_tools_and_examples_under_the_agentkit_namespace(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    for required in ("agentkit/py.typed", "agentkit/cli.py", "agentkit/tools/__init__.py",
                     "agentkit/tools/calculator.py", "agentkit/examples/__init__.py",
                     "agentkit/examples/weather.py", "agentkit/sim/core.py"):
        assert required in names, required
    top_level = {name.split("/")[0] for name in names}
    assert top_level <= {"agentkit", f"{wheel.name.split('-')[0]}-{wheel.name.split('-')[1]}.dist-info"}
    assert not any(name.startswith(("tools/", "examples/", "tests/", "bench/")) for name in names)
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "agentkit = agentkit.cli:main_entry" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_installed_command_runs_an_example_from_any_directory(tmp_path: Path) -> None:
    command = Path(sys.executable).parent / "agentkit"
    if not command.exists():
        pytest.skip("the agentkit command is not installed in this environment")
    env = {k: v for k, v in os.environ.items() if k != "XAI_API_KEY"}
    done = subprocess.run([str(command), "run", "weather", "--json"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "simulated Grok model" in done.stderr
    assert json.loads(done.stdout)["usage"]["requests"] >= 2
