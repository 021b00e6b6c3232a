"""Where the shared reference material lives (CI puts a copy of shared/ beside the clone)."""

from __future__ import annotations

import os
from pathlib import Path


def shared_dir() -> Path:
    override = os.environ.get("AGENTKIT_SHARED_DIR")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[2] / "shared"


def conformance_files() -> list[Path]:
    return sorted((shared_dir() / "conformance").glob("*.json"))
