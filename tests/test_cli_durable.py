"""`agentkit batch --durable` and `agentkit worker`, driven as a user would: the installed
command in subprocesses, on a SQLite system database, offline on the simulated model."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("dbos", reason="durable batches need the dbos extra: pip install 'agentkit[dbos]'")

AGENTKIT = Path(sys.executable).parent / "agentkit"
pytestmark = pytest.mark.skipif(not AGENTKIT.exists(), reason=f"no installed command at {AGENTKIT}")


def agentkit(*args: str, home: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AGENTKIT_HOME": str(home)}
    env.pop("XAI_API_KEY", None)
    return subprocess.run([str(AGENTKIT), *args], capture_output=True, text=True, env=env,
                          timeout=timeout, check=False)


def outputs(path: Path) -> dict[str, object]:
    return {record["id"]: record["output"] for record in map(json.loads, path.read_text().splitlines())}


def test_a_durable_batch_gives_what_a_plain_one_gives_and_resumes(tmp_path: Path) -> None:
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text("\n".join(json.dumps(f"Will it rain in {city} tomorrow?")
                                 for city in ("Paris", "Tokyo", "Oslo", "Lima")) + "\n")
    database = f"sqlite:///{tmp_path / 'dbos.sqlite'}"
    plain = agentkit("batch", str(prompts), "--agent", "weather", "--provider", "sim",
                     "--out", str(tmp_path / "plain.jsonl"), home=tmp_path)
    assert plain.returncode == 0, plain.stderr
    durable = agentkit("batch", str(prompts), "--agent", "weather", "--provider", "sim",
                       "--out", str(tmp_path / "durable.jsonl"), "--durable", "--database", database,
                       home=tmp_path)
    assert durable.returncode == 0, durable.stderr
    assert "batch done: 4 ok, 0 failed" in durable.stderr
    assert outputs(tmp_path / "durable.jsonl") == outputs(tmp_path / "plain.jsonl")

    again = agentkit("batch", str(prompts), "--agent", "weather", "--provider", "sim",
                     "--out", str(tmp_path / "durable.jsonl"), "--durable", "--database", database,
                     home=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "0 ok, 0 failed, 4 skipped (already done)" in again.stderr


def test_a_worker_shares_a_durable_batch_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text("\n".join(json.dumps(f"Will it rain in Paris on day {day % 7 + 1}?")
                                 for day in range(16)) + "\n")
    database = f"sqlite:///{tmp_path / 'dbos.sqlite'}"
    env = {**os.environ, "AGENTKIT_HOME": str(tmp_path)}
    worker = subprocess.Popen(
        [str(AGENTKIT), "worker", "--agent", "weather", "--provider", "sim", "--database", database,
         "--executor-id", "second-machine"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    seen: list[str] = []
    try:
        assert worker.stderr is not None
        # The worker says it is ready once DBOS is up and it listens to the queue.
        while not any("Ctrl-C stops" in line for line in seen):
            line = worker.stderr.readline()
            assert line, "".join(seen) + worker.communicate()[1]
            seen.append(line)
        batch = agentkit("batch", str(prompts), "--agent", "weather", "--provider", "sim",
                         "--out", str(tmp_path / "out.jsonl"), "--durable", "--database", database,
                         "--concurrency", "2", "--executor-id", "first-machine", home=tmp_path)
        assert batch.returncode == 0, batch.stderr
        assert len(outputs(tmp_path / "out.jsonl")) == 16
    finally:
        worker.send_signal(signal.SIGINT)
        _, rest = worker.communicate(timeout=60)
    err = "".join(seen) + rest
    assert worker.returncode == 0, err
    assert "worker second-machine on sqlite:///" in err and "worker stopped" in err
    with sqlite3.connect(tmp_path / "dbos.sqlite") as db:  # DBOS's own record of who ran what
        executors = dict(db.execute("SELECT executor_id, COUNT(*) FROM workflow_status GROUP BY 1"))
    assert executors.get("second-machine", 0) >= 1 and executors.get("first-machine", 0) >= 1
