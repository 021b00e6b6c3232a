"""Tests that need ../shared are skipped without it, saying where they looked, and fail
under CI; every test module that reads it goes through tests/shared.py."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests import shared

ROOT = Path(__file__).resolve().parents[1]
CORPUS_MODULES = ("tests/test_conformance.py", "tests/test_sim_conformance.py")


def _copy_of_shared(clone: Path) -> ModuleType:
    """tests/shared.py as it runs in a clone at `clone` (so its default is clone/../shared)."""
    target = clone / "tests" / "shared.py"
    target.parent.mkdir(parents=True)
    target.write_text((ROOT / "tests" / "shared.py").read_text(encoding="utf-8"))
    spec = importlib.util.spec_from_file_location("shared_in_a_clone", target)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_reason_names_the_default_folder_beside_the_clone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(shared.ENV_VAR, raising=False)
    module = _copy_of_shared(tmp_path / "clone")
    reason = module.missing_corpus_reason()
    assert reason is not None
    assert f"{tmp_path / 'shared' / 'conformance'} does not exist" in reason
    assert "beside the checkout" in reason and shared.ENV_VAR in reason
    assert module.conformance_files() == []


def test_the_reason_names_the_folder_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(shared.ENV_VAR, str(tmp_path))
    reason = shared.missing_corpus_reason()
    assert reason is not None
    assert f"{tmp_path / 'conformance'} does not exist (from {shared.ENV_VAR})" in reason
    (tmp_path / "conformance").mkdir()
    assert "holds no recordings" in (shared.missing_corpus_reason() or "")
    (tmp_path / "conformance" / "one.json").write_text("{}")
    assert shared.missing_corpus_reason() is None
    assert shared.conformance_files() == [tmp_path / "conformance" / "one.json"]


def test_require_corpus_skips_locally_and_fails_under_ci(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(shared.ENV_VAR, str(tmp_path))
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=re.escape(str(tmp_path))):
        shared.require_corpus()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI must provide it"):
        shared.require_corpus()
    assert [p.id for p in shared.conformance_params([])] == ["no-corpus"]


def _run_corpus_tests(shared_dir: Path, ci: bool) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env[shared.ENV_VAR] = str(shared_dir)
    if ci:
        env["CI"] = "true"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rsE", *CORPUS_MODULES],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )


def test_without_the_corpus_its_tests_skip_saying_where_they_looked(tmp_path: Path) -> None:
    done = _run_corpus_tests(tmp_path / "nowhere", ci=False)
    assert done.returncode == 0, done.stdout + done.stderr
    skipped = [line for line in done.stdout.splitlines() if line.startswith("SKIPPED")]
    assert len(skipped) >= 5  # every test of both modules, the parametrized ones included
    assert all(str(tmp_path / "nowhere" / "conformance") in line for line in skipped), skipped
    assert re.search(r"\b\d+ skipped\b", done.stdout) and " passed" not in done.stdout


def test_without_the_corpus_its_tests_fail_under_ci(tmp_path: Path) -> None:
    done = _run_corpus_tests(tmp_path / "nowhere", ci=True)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "skipped" not in done.stdout
    assert "CI must provide it" in done.stdout and str(tmp_path / "nowhere") in done.stdout


def test_every_module_that_reads_the_corpus_goes_through_the_helper() -> None:
    uses = re.compile(r"conformance_files|shared_dir|AGENTKIT_SHARED_DIR|shared/conformance")
    readers = []
    for path in sorted((ROOT / "tests").glob("test_*.py")):
        if path.name == Path(__file__).name:
            continue
        text = path.read_text(encoding="utf-8")
        code = re.sub(r'"""(.*?)"""', "", text, flags=re.DOTALL)  # docstrings may mention it
        if uses.search(code):
            readers.append(path.relative_to(ROOT).as_posix())
            assert 'pytestmark = pytest.mark.usefixtures("shared_corpus")' in text, path.name
    assert set(readers) >= set(CORPUS_MODULES)
