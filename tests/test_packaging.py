"""The package layout: the wheel ships the bundled tools and examples inside `agentkit`, an
editable install maps the same names to the checkout's tools/ and examples/, and nothing
makes `agentkit.agentkit` or the rest of the repository importable under `agentkit`.

Every build here starts from a clean copy of the sources: setuptools builds in the source
folder, and files left in a stale build/ would otherwise reach the wheel.
"""

from __future__ import annotations

import importlib.util
import json
import os
import pkgutil
import shutil
import site
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path
from typing import Any

import pytest

import agentkit

ROOT = Path(__file__).resolve().parents[1]
# Where each source folder lands in an installed agentkit.
LAYOUT = {"agentkit": "agentkit", "tools": "agentkit/tools", "examples": "agentkit/examples"}
_JUNK = ("__pycache__", "*.pyc", "build", "dist", "*.egg-info", ".git", ".venv", ".*_cache",
         ".hypothesis")


def _pip(*args: str) -> None:
    done = subprocess.run([sys.executable, "-m", "pip", *args], capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr


def _source_files(source: Path) -> set[str]:
    """Every file the wheel must hold, at its installed path."""
    return {
        f"{installed}/{path.relative_to(source / folder).as_posix()}"
        for folder, installed in LAYOUT.items()
        for path in (source / folder).rglob("*")
        if path.is_file()
    }


@pytest.fixture(scope="module")
def source_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = tmp_path_factory.mktemp("source") / "agentkit-src"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(*_JUNK))
    return copy


@pytest.fixture(scope="module")
def wheel(source_copy: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    _pip("wheel", "--quiet", "--no-deps", "-w", str(out), str(source_copy))
    [built] = out.glob("agentkit-*.whl")
    return built


@pytest.fixture(scope="module")
def dependencies(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This environment's installed packages minus agentkit, as one folder for PYTHONPATH.

    A child process given it (and not this environment's site-packages) imports agentkit only
    from where the test installs it, whether this environment has agentkit installed
    regularly, editable, or not at all. Folders on PYTHONPATH do not run .pth files, so no
    editable finder of this environment comes along either.
    """
    folder = tmp_path_factory.mktemp("deps")
    for site_dir in site.getsitepackages():
        for entry in Path(site_dir).iterdir():
            name = entry.name.lower()
            if name.startswith(("agentkit", "__editable__", "_editable_")) or name.endswith(".pth"):
                continue
            if not (folder / entry.name).exists():
                (folder / entry.name).symlink_to(entry)
    return folder


def _child_env(*path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XAI_", "PYTHON"))}
    env["PYTHONPATH"] = os.pathsep.join(str(p) for p in path)
    env["PYTHONNOUSERSITE"] = "1"
    return env


# A child process reports how agentkit resolves, as JSON.
_PROBE = """
import importlib.util, json, pkgutil, sys
import agentkit, agentkit.examples, agentkit.examples.weather, agentkit.tools
import agentkit.tools.calculator
failed = []
names = [m.name for m in pkgutil.walk_packages(agentkit.__path__, "agentkit.",
                                               onerror=failed.append)]
print(json.dumps({
    "agentkit": agentkit.__file__, "path": list(agentkit.__path__),
    "tools": agentkit.tools.__file__, "examples": agentkit.examples.__file__,
    "bundled": [t.name for t in agentkit.tools.bundled_tools()],
    "walked": names, "walk_failed": failed,
    "nested": [n for n in ("agentkit.agentkit", "agentkit.tests", "agentkit.bench")
               if importlib.util.find_spec(n) is not None],
}))
"""


def _probe(python: str, env: dict[str, str], cwd: Path, *flags: str) -> dict[str, Any]:
    done = subprocess.run([python, *flags, "-c", _PROBE], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def _under(path: str, folder: Path) -> bool:
    return Path(path).resolve().is_relative_to(folder.resolve())


# -- the wheel -------------------------------------------------------------------------------


def test_wheel_holds_tools_and_examples_under_the_agentkit_namespace(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    dist_info = f"{wheel.name.split('-')[0]}-{wheel.name.split('-')[1]}.dist-info"
    for required in ("agentkit/py.typed", "agentkit/cli.py", "agentkit/tools/__init__.py",
                     "agentkit/tools/calculator.py", "agentkit/examples/__init__.py",
                     "agentkit/examples/weather.py", "agentkit/examples/data/weather.csv",
                     "agentkit/sim/core.py"):
        assert required in names, required
    assert {name.split("/")[0] for name in names} == {"agentkit", dist_info}
    assert not any(name.startswith(("agentkit/agentkit/", "agentkit/tests/", "agentkit/bench/"))
                   for name in names)
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "agentkit = agentkit.cli:main_entry" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_wheel_holds_exactly_the_source_files(source_copy: Path, wheel: Path) -> None:
    # A subpackage missing from pyproject's list, a data file no pattern matches, or a stale
    # file from an old build would each break this.
    shipped = _files(wheel)
    expected = _source_files(source_copy)
    assert sorted(expected - shipped) == []
    assert sorted(shipped - expected) == []


def test_installed_wheel_imports_tools_and_examples_and_runs_an_example(
    wheel: Path, dependencies: Path, tmp_path: Path
) -> None:
    target = tmp_path / "site"
    _pip("install", "--quiet", "--no-deps", "--target", str(target), str(wheel))
    env = _child_env(target, dependencies)
    # -S: no site-packages of this environment, so no editable finder and no other agentkit.
    report = _probe(sys.executable, env, tmp_path, "-S")
    for key in ("agentkit", "tools", "examples"):
        assert _under(report[key], target / "agentkit"), (key, report[key])
    assert report["path"] == [str(target / "agentkit")]
    assert report["nested"] == []
    assert {"agentkit.tools.calculator", "agentkit.examples.weather",
            "agentkit.sim.core"} <= set(report["walked"])
    assert "calculate" in report["bundled"]

    done = subprocess.run([sys.executable, "-S", "-m", "agentkit", "run", "weather", "hi"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "simulated Grok model" in done.stderr
    assert json.loads(done.stdout)["city"]


def test_sdist_builds_the_same_wheel(source_copy: Path, wheel: Path, tmp_path: Path) -> None:
    # `pip install agentkit` from an sdist builds the wheel from it: the mapping of tools/ and
    # examples/ must survive the trip. The sdist is built with the setuptools pyproject.toml
    # asks for, as a build frontend would (this environment's own may be older).
    backend = tmp_path / "backend"
    _pip("install", "--quiet", "--target", str(backend), *_build_requirements())
    done = subprocess.run(
        [sys.executable, "-S", "-c", "import sys; from setuptools import build_meta; "
         "print(build_meta.build_sdist(sys.argv[1]))", str(tmp_path)],
        cwd=source_copy, env=_child_env(backend), capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    sdist = tmp_path / done.stdout.strip().splitlines()[-1]
    with tarfile.open(sdist) as tar:
        assert any(name.endswith("/tools/calculator.py") for name in tar.getnames())
    _pip("wheel", "--quiet", "--no-deps", "-w", str(tmp_path / "out"), str(sdist))
    [rebuilt] = (tmp_path / "out").glob("agentkit-*.whl")
    assert _files(rebuilt) == _files(wheel)


def _build_requirements() -> list[str]:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    requires: list[str] = tomllib.loads(text)["build-system"]["requires"]
    return requires


def _files(wheel: Path) -> set[str]:
    return {name for name in zipfile.ZipFile(wheel).namelist() if not name.startswith("agentkit-")}


# -- an editable install and the checkout ------------------------------------------------------


def test_editable_install_maps_tools_and_examples_to_the_checkout(
    source_copy: Path, dependencies: Path, tmp_path: Path
) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True,
                   timeout=120)
    python = venv / "bin" / "python"
    _pip("--python", str(python), "install", "--quiet", "--no-deps", "-e", str(source_copy))
    env = _child_env(dependencies)
    report = _probe(str(python), env, tmp_path)
    assert _under(report["agentkit"], source_copy / "agentkit")
    assert _under(report["tools"], source_copy / "tools")
    assert _under(report["examples"], source_copy / "examples")
    assert report["path"] == [str(source_copy / "agentkit")]
    assert report["nested"] == []

    # Run from the checkout, as the README says: the script's folder is first on sys.path.
    done = subprocess.run([str(python), "examples/weather.py", "Will it rain in Paris tomorrow?"],
                          cwd=source_copy, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Paris" in done.stdout and "[usage:" in done.stdout
    done = subprocess.run([str(venv / "bin" / "agentkit"), "run", "weather", "--json"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["usage"]["requests"] >= 2


def test_checkout_tests_run_against_a_regular_install(wheel: Path, dependencies: Path,
                                                      tmp_path: Path) -> None:
    # What .ci/run does: a regular install, then pytest from the checkout, whose agentkit/
    # (first on sys.path) has no tools/ inside; tests/conftest.py maps them in.
    target = tmp_path / "site"
    _pip("install", "--quiet", "--no-deps", "--target", str(target), str(wheel))
    done = subprocess.run(
        [sys.executable, "-S", "-m", "pytest", "-q", "-p", "no:cacheprovider", "--collect-only",
         "tests/test_tools_units.py", "tests/test_examples.py"],
        cwd=ROOT, env=_child_env(target, dependencies), capture_output=True, text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_this_process_sees_one_agentkit_folder_and_no_repository_beside_it() -> None:
    assert len(agentkit.__path__) == 1
    for name in ("agentkit.agentkit", "agentkit.tests", "agentkit.bench", "agentkit.docs"):
        assert importlib.util.find_spec(name) is None, name
    failed: list[str] = []
    names = [m.name for m in pkgutil.walk_packages(agentkit.__path__, "agentkit.",
                                                   onerror=failed.append)]
    assert "agentkit.sim.core" in names
    assert not [n for n in names if n.startswith("agentkit.agentkit")]


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
