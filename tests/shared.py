"""Where the shared reference material lives (CI puts a copy of shared/ beside the clone).

Every test that reads it goes through here: its module says
`pytestmark = pytest.mark.usefixtures("shared_corpus")` (the fixture is in conftest.py) and
takes its recordings from `conformance_files()` / `conformance_params()`. Without the corpus
those tests are skipped, with a reason naming the folder looked in; with `CI=true` they fail
instead, so that a CI run can never pass by skipping them.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

ENV_VAR = "AGENTKIT_SHARED_DIR"


def shared_dir() -> Path:
    """`$AGENTKIT_SHARED_DIR`, else `shared/` beside the checkout."""
    override = os.environ.get(ENV_VAR)
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[2] / "shared"


def conformance_dir() -> Path:
    return shared_dir() / "conformance"


def conformance_files() -> list[Path]:
    """The recordings, sorted; empty when the corpus is absent."""
    return sorted(conformance_dir().glob("*.json"))


def missing_corpus_reason() -> str | None:
    """Why the corpus cannot be used, naming where it was looked for; None when it can."""
    folder = conformance_dir()
    if folder.is_dir() and any(folder.glob("*.json")):
        return None
    state = "holds no recordings" if folder.is_dir() else "does not exist"
    problem = f"the shared conformance corpus is missing: {folder} {state}"
    if os.environ.get(ENV_VAR):
        return f"{problem} (from {ENV_VAR}); point {ENV_VAR} at a copy of shared/"
    return f"{problem}; put a copy of shared/ beside the checkout, or set {ENV_VAR} to one"


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def require_corpus() -> None:
    """Skip the calling test when the corpus is absent; fail it under CI."""
    reason = missing_corpus_reason()
    if reason is None:
        return
    if in_ci():
        pytest.fail(f"{reason}; CI must provide it", pytrace=False)
    pytest.skip(reason)


def conformance_params(files: Sequence[Path]) -> list[Any]:
    """`files` as parameters with their names as ids.

    Without the corpus there are no files, and pytest would skip the test for an empty
    parameter set, with a reason that names no folder and even under CI. One placeholder
    parameter lets the `shared_corpus` fixture decide instead; the test body never sees it.
    """
    if not files and missing_corpus_reason() is not None:
        return [pytest.param(None, id="no-corpus")]
    return [pytest.param(path, id=path.name) for path in files]
