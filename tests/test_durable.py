"""Durable runs on DBOS: a worker killed (SIGKILL) in a model step or a tool step and started
again finishes the run with every completed step run once, the same output as a run that was
never interrupted, and the whole usage; on SQLite, and on PostgreSQL where one is given
(`.ci/run` starts one and sets AGENTKIT_TEST_POSTGRES_URL)."""

from __future__ import annotations

import functools
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("dbos", reason="the durable tests need the dbos extra: pip install 'agentkit[dbos]'")

WORKER = Path(__file__).with_name("durable_worker.py")
IN_CI = os.environ.get("CI") == "true"


def databases() -> list[Any]:
    postgres = os.environ.get("AGENTKIT_TEST_POSTGRES_URL")
    marks = [] if postgres or IN_CI else [pytest.mark.skip(reason="no PostgreSQL: set AGENTKIT_TEST_POSTGRES_URL (.ci/run starts one)")]
    return ["sqlite", pytest.param("postgres", marks=marks)]


def database_url(kind: str, folder: Path, name: str) -> str:
    if kind == "sqlite":
        return f"sqlite:///{folder / 'dbos.sqlite'}"
    base = os.environ.get("AGENTKIT_TEST_POSTGRES_URL")
    assert base, "CI must start PostgreSQL and set AGENTKIT_TEST_POSTGRES_URL"
    # A database of its own per test and run, which DBOS creates: workflow ids are reused.
    return f"{base.rstrip('/')}/{name}_{uuid.uuid4().hex[:8]}"


def worker(url: str, folder: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(WORKER), url, str(folder), *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def finish(process: subprocess.Popen[str]) -> dict[str, Any]:
    out, err = process.communicate(timeout=90)
    assert process.returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])


def lines(folder: Path, name: str) -> list[str]:
    path = folder / name
    return path.read_text().splitlines() if path.exists() else []


def kill_when_hanging(process: subprocess.Popen[str], folder: Path, marker: str = "hanging") -> None:
    deadline = time.monotonic() + 60
    while not (folder / marker).exists():
        assert process.poll() is None, process.communicate()[1][-3000:]
        assert time.monotonic() < deadline, "the worker never reached the step to hang in"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=30)  # reaps it and closes its pipes
    (folder / "killed").write_text("yes")


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], dict[str, Any]]:
    """What a run that was never killed gives, once per database: every kill test compares."""

    @functools.cache
    def run(database: str) -> dict[str, Any]:
        folder = tmp_path_factory.mktemp(f"reference-{database}")
        url = database_url(database, folder, "agentkit_durable_ref")
        return finish(worker(url, folder, "plain", "ref-1"))

    return run


@pytest.mark.parametrize("database", databases())
@pytest.mark.parametrize("hang_at", ["model:2", "tool:1"])
def test_a_killed_worker_resumes_without_redoing_finished_steps(
    tmp_path: Path, database: str, hang_at: str, uninterrupted: Callable[[str], dict[str, Any]]
) -> None:
    name = f"agentkit_durable_{hang_at.replace(':', '_')}"
    expected = uninterrupted(database)

    folder = tmp_path / "killed-run"
    folder.mkdir()
    url = database_url(database, folder, name)
    first = worker(url, folder, "start", "run-1", hang_at)
    kill_when_hanging(first, folder)
    recovered = finish(worker(url, folder, "recover", "run-1"))

    assert recovered == expected  # the same output, messages and usage as an uninterrupted run
    models, tools = lines(folder, "model_calls"), lines(folder, "tool_calls")
    if hang_at == "model:2":
        # The first request and the charge ran once; only the request in flight ran again.
        assert models == ["1", "3", "3"]
        assert len(tools) == 1
    else:
        # The request ran once; the charge in flight ran again, with the same idempotency key.
        assert models == ["1", "3"]
        keys = [json.loads(line)["key"] for line in tools]
        assert len(keys) == 2 and keys[0] == keys[1] and keys[0].startswith("run-1:")
    assert expected["requests"] == 2 and expected["tool_calls"] == 1


@pytest.mark.parametrize("database", databases())
def test_a_run_waiting_for_approval_survives_a_restart(tmp_path: Path, database: str) -> None:
    url = database_url(database, tmp_path, "agentkit_durable_approval")
    waiting = worker(url, tmp_path, "await-approval", "approval-1")
    kill_when_hanging(waiting, tmp_path, marker="waiting")
    assert json.loads((tmp_path / "waiting").read_text()) == ["charge"]
    assert lines(tmp_path, "tool_calls") == []  # nothing charged before the approval

    result = finish(worker(url, tmp_path, "approve", "approval-1"))
    assert result["output"] == "Done: charged $12.5 for order 7"
    assert len(lines(tmp_path, "tool_calls")) == 1
    assert lines(tmp_path, "model_calls") == ["1", "3"]  # the first request was not sent again
    assert result["requests"] == 2


def test_without_the_extra_the_import_says_what_to_install() -> None:
    code = "import sys; sys.modules['dbos'] = None\nimport agentkit\nimport agentkit.durable"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "durable runs need DBOS: pip install 'agentkit[dbos]'" in done.stderr


def test_import_agentkit_does_not_import_dbos() -> None:
    code = "import sys, agentkit, agentkit.cli; print('dbos' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "False", done.stderr


QUEUE_WORKER = Path(__file__).with_name("durable_queue_worker.py")


def queue_process(url: str, folder: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(QUEUE_WORKER), url, str(folder), *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


@pytest.mark.skipif(
    not os.environ.get("AGENTKIT_TEST_POSTGRES_URL") and not IN_CI,
    reason="several workers share a queue on PostgreSQL: set AGENTKIT_TEST_POSTGRES_URL (.ci/run starts one)",
)
def test_two_workers_share_a_queue_and_a_killed_one_finishes_its_runs_after_a_restart(tmp_path: Path) -> None:
    url = database_url("postgres", tmp_path, "agentkit_durable_queue")
    total = 200
    workers = {name: queue_process(url, tmp_path, "worker", name) for name in ("w1", "w2")}
    try:
        batch = queue_process(url, tmp_path, "batch", "producer", str(total))
        # Kill one worker once the batch is well under way, then start it again.
        deadline = time.monotonic() + 90
        while len(lines(tmp_path, "tool_calls")) < total // 4:
            assert batch.poll() is None, batch.communicate()[1][-3000:]
            assert time.monotonic() < deadline, "the workers took no runs"
            time.sleep(0.05)
        workers["w1"].send_signal(signal.SIGKILL)
        workers["w1"].communicate(timeout=30)
        workers["w1"] = queue_process(url, tmp_path, "worker", "w1")
        out, err = batch.communicate(timeout=120)
        assert batch.returncode == 0, err[-3000:]
        ran = len(lines(tmp_path, "tool_calls"))
        # The same batch again attaches to the finished runs: the same outputs, nothing run.
        again = queue_process(url, tmp_path, "batch", "producer-2", str(total))
        second, err = again.communicate(timeout=120)
        assert again.returncode == 0, err[-3000:]
        assert second.strip().splitlines()[-1] == out.strip().splitlines()[-1]
        assert len(lines(tmp_path, "tool_calls")) == ran
    finally:
        (tmp_path / "stop").write_text("stop")
        for process in workers.values():
            process.communicate(timeout=60)

    assert json.loads(out.strip().splitlines()[-1]) == [f"item {i} labelled" for i in range(total)]
    calls = [json.loads(line) for line in lines(tmp_path, "tool_calls")]
    runs = [call["run"] for call in calls]
    assert set(runs) == {f"batch:{i}" for i in range(total)}
    # Only a call in flight when w1 was killed runs again; every other ran exactly once.
    repeated = {run for run in runs if runs.count(run) > 1}
    assert len(repeated) <= 8  # at most the worker's concurrency
    assert {call["executor"] for call in calls} == {"w1", "w2"}  # both took part


@pytest.mark.anyio
async def test_deps_that_cannot_be_saved_are_refused_naming_the_field() -> None:
    import threading
    from dataclasses import dataclass

    from agentkit import Agent
    from agentkit.durable import DurableAgent
    from agentkit.errors import ConfigurationError
    from agentkit.testing import ScriptedModel

    @dataclass
    class Deps:
        user: str
        settings: dict[str, Any]

    durable = DurableAgent(Agent("grok-4", name="deps_check", client=ScriptedModel(["hi"])))
    bad = Deps("ada", {"lock": threading.Lock()})
    with pytest.raises(ConfigurationError, match=r"deps\.settings\['lock'\] \(lock\) does not pickle"):
        await durable.start("hello", deps=bad)
    with pytest.raises(ConfigurationError, match="needs a stable name"):
        DurableAgent(Agent("grok-4", client=ScriptedModel(["hi"])))


def test_a_streamed_durable_run_writes_its_events_per_step(tmp_path: Path) -> None:
    url = database_url("sqlite", tmp_path, "stream")
    process = worker(url, tmp_path, "stream", "stream-1")
    out, err = process.communicate(timeout=90)
    assert process.returncode == 0, err[-3000:]
    kinds, result = (json.loads(line) for line in out.strip().splitlines()[-2:])
    assert kinds[:2] == ["tool_call_started", "tool_call_finished"]
    assert kinds[2:] and set(kinds[2:]) == {"text_delta"}
    assert result["output"] == "Done: charged $12.5 for order 7"
    assert lines(tmp_path, "model_calls") == ["1", "3"]
