"""Test-wide fixtures: anyio on asyncio, and a guard that fails any real network call."""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import ipaddress
import socket
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.shared import require_corpus

ROOT = Path(__file__).resolve().parents[1]


class _CheckoutFinder(importlib.abc.MetaPathFinder):
    """Finds `agentkit.tools` and `agentkit.examples` in the checkout's tools/ and examples/.

    `python -m pytest` puts the checkout first on sys.path, so its agentkit/ is imported even
    when the environment has a regular (non-editable) install, as `.ci/run` makes: the
    install's mapping of the two subpackages is then not in play. This does what an editable
    install's finder does, for those two names only.
    """

    def __init__(self, folders: dict[str, Path]) -> None:
        self._folders = folders

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        folder = self._folders.get(fullname)
        if folder is None:
            return None
        return importlib.util.spec_from_file_location(
            fullname, folder / "__init__.py", submodule_search_locations=[str(folder)]
        )


def _map_checkout_subpackages() -> None:
    import agentkit

    if Path(agentkit.__file__ or "").resolve().parent != ROOT / "agentkit":
        return  # an installed agentkit is under test: it brings its own tools and examples
    missing = {
        f"agentkit.{name}": ROOT / name
        for name in ("tools", "examples")
        if importlib.util.find_spec(f"agentkit.{name}") is None
    }
    if missing:
        sys.meta_path.append(_CheckoutFinder(missing))


_map_checkout_subpackages()

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_getaddrinfo = socket.getaddrinfo


def _is_local(address: Any) -> bool:
    if isinstance(address, str | bytes):  # AF_UNIX paths
        return True
    host = address[0]
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class RealNetworkCallError(AssertionError):
    """A test tried to reach a host that is not this machine."""


def _guarded_connect(self: socket.socket, address: Any) -> None:
    if not _is_local(address):
        raise RealNetworkCallError(f"tests must not touch the real network (tried {address!r})")
    return _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> int:
    if not _is_local(address):
        raise RealNetworkCallError(f"tests must not touch the real network (tried {address!r})")
    return _real_connect_ex(self, address)


def _guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    name = host.decode() if isinstance(host, bytes) else host
    if name is not None and not _is_local((name, 0)) and name != "localhost":
        raise RealNetworkCallError(f"tests must not resolve real hosts (tried {name!r})")
    return _real_getaddrinfo(host, *args, **kwargs)


@pytest.fixture(autouse=True)
def _no_real_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", _guarded_connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", _guarded_getaddrinfo)


@pytest.fixture(autouse=True)
def _no_api_key_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # A developer's real key must never leak into a test run.
    for name in ("XAI_API_KEY", "XAI_BASE_URL", "OPENROUTER_API_KEY", "COMETAPI_KEY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def shared_corpus() -> None:
    """For tests that read ../shared: skipped without it (failed under CI=true)."""
    require_corpus()


@pytest.fixture(params=["chat", "responses"])
def both_apis(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run the test once per API: every `Agent` it makes defaults to `api=` this value, so
    the same end-to-end test covers `/v1/chat/completions` and `/v1/responses` (models that
    are not a `GrokClient`, such as scripted ones, are used as they are either way)."""
    from agentkit.agent import Agent

    defaults = Agent.__init__.__kwdefaults__
    assert defaults is not None and "api" in defaults
    monkeypatch.setitem(defaults, "api", request.param)
    return str(request.param)
