"""State under faults: a run state or a session written by a process that is killed (SIGKILL)
at a random moment is the old one or the new one afterwards, never a torn file; a state edited
by hand into something the agent would not do is refused (see test_run_state.py for those)."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from agentkit import RunState, SQLiteSession

pytestmark = pytest.mark.anyio

KILLS = 12  # kills per test: each at a random moment of a busy writer

STATE_WRITER = textwrap.dedent('''
    import sys
    from agentkit.state import Capabilities, RunState
    from agentkit.usage import RunUsage

    path = sys.argv[1]
    version = 0
    while True:  # until killed: each state a little longer than the last
        version += 1
        messages = [{"role": "user", "content": "x" * (200 * version)}]
        state = RunState(messages, RunUsage(requests=version), model="grok-4", agent_name="w",
                         output_name="text", capabilities=Capabilities("text"), turns=version)
        state.save(path)
        if version == 1:
            print("writing", flush=True)
''')

SESSION_WRITER = textwrap.dedent('''
    import sys
    import anyio
    from agentkit.sessions import SQLiteSession

    async def main():
        async with SQLiteSession(sys.argv[1], "s") as session:
            pair = len(await session.get_items()) // 2
            while True:  # until killed: pairs that must land together
                pair += 1
                await session.add_items([
                    {"role": "user", "content": f"question {pair}"},
                    {"role": "assistant", "content": f"answer {pair}" + "." * 2000},
                ])
                if pair % 50 == 1:
                    print("writing", flush=True)

    anyio.run(main)
''')


def start(code: str, path: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", code, str(path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def kill_soon(process: subprocess.Popen[bytes], rng: random.Random) -> None:
    assert process.stdout is not None
    # The writer says when it is writing; then it is killed at a random moment of it.
    assert process.stdout.readline() == b"writing\n", process.communicate()[1][-2000:]
    time.sleep(rng.uniform(0.0, 0.1))
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=30)


def test_a_state_saved_while_the_process_is_killed_is_never_torn(tmp_path: Path) -> None:
    rng = random.Random(7)
    path = tmp_path / "run.json"
    seen: list[int] = []
    for _ in range(KILLS):
        kill_soon(start(STATE_WRITER, path), rng)
        state = RunState.load(path)  # parses: the whole of one version
        assert state.messages[0]["content"] == "x" * (200 * state.turns)
        assert state.usage.requests == state.turns
        seen.append(state.turns)
        # Only the state file is left: no temporary beside it grows with each kill.
        assert len([p for p in tmp_path.iterdir() if p.name != "run.json"]) <= 1
    assert len(set(seen)) > 1  # the kills did land at different moments


async def test_a_session_written_while_the_process_is_killed_keeps_whole_turns(tmp_path: Path) -> None:
    rng = random.Random(11)
    path = tmp_path / "chat.db"
    counts: list[int] = []
    for _ in range(KILLS):
        kill_soon(start(SESSION_WRITER, path), rng)
        async with SQLiteSession(path, "s") as session:  # opens: not corrupt
            items = await session.get_items()
        assert len(items) % 2 == 0  # every pair landed whole, or not at all
        for question, answer in zip(items[::2], items[1::2], strict=True):
            number = question["content"].removeprefix("question ")
            assert answer["content"].startswith(f"answer {number}.")
        counts.append(len(items))
    assert counts == sorted(counts) and counts[-1] > counts[0]  # nothing lost, kills spread
    json.dumps(counts)


def test_threads_saving_one_state_file_at_once_never_tear_it(tmp_path: Path) -> None:
    import threading

    from agentkit.state import Capabilities
    from agentkit.usage import RunUsage

    path = tmp_path / "run.json"
    errors: list[BaseException] = []

    def save(turns: int) -> None:
        try:
            for _ in range(30):
                RunState([{"role": "user", "content": "y" * 5000 * turns}], RunUsage(),
                         model="m", agent_name=None, output_name="text",
                         capabilities=Capabilities("text"), turns=turns).save(path)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=save, args=(n,)) for n in range(1, 5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    state = RunState.load(path)
    assert state.messages[0]["content"] == "y" * 5000 * state.turns
    assert [p.name for p in tmp_path.iterdir()] == ["run.json"]
