"""The README's "Testing your agent" section runs as written.

Its python blocks are written to files as a newcomer would copy them (a block whose first
line is `# conftest.py` becomes that file, every other block a test module) and run by pytest
in a child process, outside this repository's configuration. The child loads
`tests/conftest.py` as a plugin only for its network guard and its removal of API keys, so
that a README mistake cannot reach a real server.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEADING = "## Testing your agent"
_BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)
_TEST = re.compile(r"^(?:async )?def (test_\w+)", re.MULTILINE)


def section() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index(f"\n{HEADING}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end >= 0 else len(text)]


def blocks() -> list[str]:
    return _BLOCK.findall(section())


def test_the_section_shows_what_a_newcomer_needs() -> None:
    code = "\n".join(blocks())
    for name in ("ScriptedModel(", "call(", "reply(", "scripted(", "GrokClient.simulated(",
                 "run_sync(", "deps=", "run_stream(", "ToolCallStarted", "ToolCallFinished",
                 "TextDelta", "FinalResult", "stream.result", "make_clock_tools(",
                 "block_model_requests()", "ModelRequestBlockedError", "RecordingTransport(",
                 "ReplayTransport(", "from agentkit"):
        assert name in code, name
    prose = section()
    for name in ("allow_model_requests()", "AGENTKIT_ALLOW_MODEL_REQUESTS=0", "file_tools(",
                 "sqlite_tools(", "retrieval_tools(", "embedder_for(", "make_fetch_tool(",
                 "bundled_tools()"):
        assert name in prose, name


def test_every_python_block_of_the_section_runs(tmp_path: Path) -> None:
    found = blocks()
    assert len(found) >= 4
    expected: list[str] = []
    for number, block in enumerate(found, 1):
        if block.startswith("# conftest.py\n"):
            target = tmp_path / "conftest.py"
            assert not target.exists(), "one conftest.py block at most"
        else:
            target = tmp_path / f"test_readme_{number}.py"
        target.write_text(block, encoding="utf-8")
        expected += _TEST.findall(block)
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("XAI_", "AGENTKIT_ALLOW_", "PYTEST_ADDOPTS"))}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error",
         "-p", "tests.conftest", "-c", str(tmp_path / "pytest.ini"), "--rootdir", str(tmp_path),
         "-rA", str(tmp_path)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert expected, "the section should hold tests to run"
    # anyio's plugin runs an async test once per event loop installed (asyncio, trio).
    passed = set(re.findall(r"^PASSED \S+::(test_\w+)", done.stdout, re.MULTILINE))
    assert passed == set(expected), output
