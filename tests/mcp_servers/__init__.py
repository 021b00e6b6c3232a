"""MCP servers for the MCP tests, and what those tests share.

The servers run as subprocesses (`python tests/mcp_servers/weather_server.py`), so they import
only the MCP SDK. The tests need the SDK too (the `mcp` extra): without it they are skipped
with the reason, and under `CI=true` they fail instead, so a CI run cannot pass by skipping.
"""

from __future__ import annotations

import importlib.util
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.shared import in_ci

HERE = Path(__file__).resolve().parent
WEATHER_SERVER = HERE / "weather_server.py"


def missing_mcp_reason() -> str:
    """Why an MCP test module is skipped without the SDK, for `pytest.importorskip("mcp",
    reason=...)`; under CI it fails the module instead."""
    reason = "the MCP SDK is not installed: pip install 'agentkit[mcp]'"
    if in_ci() and importlib.util.find_spec("mcp") is None:
        pytest.fail(f"{reason}; CI must install it", pytrace=False)
    return reason


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start_http_server(*args: str, timeout: float = 30.0) -> tuple[subprocess.Popen[bytes], str]:
    """The weather server over streamable HTTP on 127.0.0.1, once it accepts connections.

    Returns the process (the caller kills it) and the endpoint URL.
    """
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(WEATHER_SERVER), "--http", str(port), *args],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            stderr = process.stderr.read().decode(errors="replace") if process.stderr else ""
            raise AssertionError(f"the HTTP weather server exited early:\n{stderr}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process, f"http://127.0.0.1:{port}/mcp"
        except OSError:
            time.sleep(0.1)
    stop(process)
    raise AssertionError(f"the HTTP weather server did not listen on port {port} within {timeout} s")


def stop(process: subprocess.Popen[bytes]) -> None:
    """Kill a server process and reap it, within a bounded time."""
    if process.poll() is None:
        process.kill()
    process.wait(timeout=10)
    if process.stderr is not None:
        process.stderr.close()
