"""The command line against a server that is not what the URL says: `https://` to the plain-HTTP
`agentkit serve`, a base URL without `/v1`, a server slower than `--timeout`.

The TLS case is checked at both ends: the simulated server answers a ClientHello at once
(instead of waiting out its head timeout for a request line), and the CLI turns the TLS
failure into one line that says to use http://.
"""

from __future__ import annotations

import io
import socket
import ssl
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from agentkit.cli import main
from agentkit.sim import Fault, FaultPlan, SimCore, run_in_thread
from agentkit.sim.server import RunningServer, ServerLimits

# Long enough that waiting for it would be noticed: the answers below come well before.
HEAD_TIMEOUT = 20.0


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err, read_line=lambda: None)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def server() -> Iterator[RunningServer]:
    with RunningServer(SimCore(), limits=ServerLimits(head_timeout=HEAD_TIMEOUT)) as running:
        yield running


def _client_hello() -> bytes:
    """A real ClientHello, as the ssl module writes it."""
    context = ssl.create_default_context()
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = context.wrap_bio(incoming, outgoing, server_hostname="127.0.0.1")
    with pytest.raises(ssl.SSLWantReadError):
        tls.do_handshake()
    return outgoing.read()


def test_the_server_answers_a_tls_handshake_at_once_in_plain_http(server: RunningServer) -> None:
    hello = _client_hello()
    assert hello[0] == 0x16
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(hello)
        received = b""
        while chunk := sock.recv(4096):
            received += chunk
    assert time.monotonic() - started < 5
    head, _, body = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 Bad Request")
    assert b"content-type: text/plain; charset=utf-8" in head
    assert b"connection: close" in head
    assert body == (f"this server speaks plain HTTP; use http://127.0.0.1:{server.port}/v1 "
                    "(http://, not https://)\n").encode()
    assert server.stats.rejected >= 1


def test_a_tls_client_fails_fast_against_the_server(server: RunningServer) -> None:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as raw, \
            pytest.raises(ssl.SSLError):
        context.wrap_socket(raw, server_hostname="127.0.0.1")
    assert time.monotonic() - started < 5


def test_plain_http_is_served_as_before_after_a_tls_attempt(server: RunningServer) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(_client_hello())
        sock.recv(4096)
    code, out, err = run("models", "--base-url", f"{server.base_url}/v1")
    assert code == 0, err
    assert "grok-4.3" in out.split()


def test_an_https_base_url_for_the_plain_server_is_one_line_suggesting_http(
    server: RunningServer,
) -> None:
    started = time.monotonic()
    code, _, err = run("models", "--base-url", f"https://127.0.0.1:{server.port}/v1")
    elapsed = time.monotonic() - started
    assert code == 1
    assert elapsed < 10, f"took {elapsed:.1f} s"  # not the head timeout, nor the read timeout
    assert err.splitlines()[-1] == (
        f"agentkit: error: APIConnectionError: https://127.0.0.1:{server.port} answered in "
        f"plain HTTP, not TLS: use http://, e.g. --base-url http://127.0.0.1:{server.port}/v1")
    assert "Traceback" not in err and "timeout" not in err


def test_a_run_against_https_says_the_same(server: RunningServer) -> None:
    code, _, err = run("run", "weather", "Rain in Paris?", "--base-url",
                       f"https://127.0.0.1:{server.port}/v1")
    assert code == 1
    assert err.splitlines()[-1].endswith(
        f"use http://, e.g. --base-url http://127.0.0.1:{server.port}/v1")


def test_a_base_url_without_v1_gets_a_hint_on_404(server: RunningServer) -> None:
    code, _, err = run("models", "--base-url", server.base_url)
    assert code == 1
    line = err.splitlines()[-1]
    assert line.startswith("agentkit: error: NotFoundError: ")
    assert line.endswith(f"(the base URL {server.base_url} has no /v1 path: try --base-url "
                         f"{server.base_url}/v1)")
    # With /v1 there, no such hint on a 404 (an unknown model, say).
    code, _, err = run("tokenize", "hi", "--model", "no-such-model", "--base-url",
                       f"{server.base_url}/v1")
    assert "has no /v1 path" not in err


def test_nobody_listening_gets_a_hint() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    code, _, err = run("models", "--base-url", f"http://127.0.0.1:{port}/v1")
    assert code == 1
    assert err.splitlines()[-1].endswith(
        "; is a server listening there? (`agentkit serve` runs one at http://127.0.0.1:8000/v1)")


def test_timeout_bounds_each_response() -> None:
    core = SimCore(faults=FaultPlan([Fault("slow", count=10, delay=5)]))
    with run_in_thread(core) as base_url:
        started = time.monotonic()
        code, _, err = run("models", "--base-url", f"{base_url}/v1", "--timeout", "0.3")
        elapsed = time.monotonic() - started
    assert code == 1
    assert elapsed < 5, f"took {elapsed:.1f} s"  # three short attempts, not one 5 s wait
    line = err.splitlines()[-1]
    assert line.startswith("agentkit: error: APITimeoutError: ")
    assert line.endswith("(on the command line: --timeout SECONDS)")


_OWN_CLIENT = '''
from agentkit import Agent, GrokClient

agent = Agent("grok-4.3", client=GrokClient.openai_compatible({url!r}))
'''


def test_timeout_reaches_an_agents_own_client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                              ) -> None:
    core = SimCore(faults=FaultPlan([Fault("slow", count=10, delay=5)]))
    with run_in_thread(core) as base_url:
        name = f"own_client_{tmp_path.name.replace('-', '_')}"
        (tmp_path / f"{name}.py").write_text(_OWN_CLIENT.format(url=f"{base_url}/v1"),
                                             encoding="utf-8")
        monkeypatch.syspath_prepend(str(tmp_path))
        started = time.monotonic()
        code, _, err = run("run", f"{name}:agent", "hi", "--timeout", "0.3")
        elapsed = time.monotonic() - started
    assert code == 1
    assert elapsed < 5, f"took {elapsed:.1f} s"
    assert f"uses its own client: requests go to {base_url}/v1" in err
    assert "APITimeoutError" in err.splitlines()[-1]
