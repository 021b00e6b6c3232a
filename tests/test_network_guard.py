"""The guard in conftest makes an accidental real call fail loudly."""

from __future__ import annotations

import socket

import pytest

from tests.conftest import RealNetworkCallError


def test_connecting_to_a_public_address_fails() -> None:
    with socket.socket() as sock, pytest.raises(RealNetworkCallError, match="real network"):
        sock.connect(("93.184.216.34", 443))


def test_resolving_a_public_host_fails() -> None:
    with pytest.raises(RealNetworkCallError, match=r"api\.x\.ai"):
        socket.getaddrinfo("api.x.ai", 443)


def test_loopback_is_allowed() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.socket() as client:
            client.connect(server.getsockname())
