"""Test-wide fixtures: anyio on asyncio, and a guard that fails any real network call."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import pytest

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
