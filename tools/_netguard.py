"""Address safety for `fetch_url`: which hosts and IPs a model-chosen URL may reach (SSRF).

IP literals are read in every spelling the C library accepts; loopback, private, link-local,
multicast, reserved and cloud-metadata addresses are refused, also when hidden inside IPv6
forms; host names are resolved once, through an injectable resolver, and every answer is
checked. `Guard` turns a URL into the checked addresses a request may be pinned to; sending
the request is `http_fetch`'s job.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import anyio

from agentkit.errors import ConfigurationError, ToolRetry

if TYPE_CHECKING:
    # Annotations only: the guard reads URLs but never sends a request.
    import httpx2

__all__ = [
    "METADATA_ADDRESSES",
    "METADATA_HOSTS",
    "Guard",
    "IPAddress",
    "Network",
    "Resolver",
    "Target",
    "parse_ip_literal",
    "refusal_reason",
    "shown",
    "system_resolver",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

Resolver = Callable[[str, int], Awaitable[Sequence[str]]]
"""Resolves `(host, port)` to IP address strings; injectable for tests."""

METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "fd00:ec2::254", "169.254.170.2", "100.100.100.200")
)
"""Cloud instance-metadata endpoints (AWS, AWS ECS, GCP, Azure, Alibaba)."""

METADATA_HOSTS = frozenset({"metadata.google.internal", "metadata.goog", "metadata"})

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_UNIQUE_LOCAL = ipaddress.ip_network("fc00::/7")
_HOST_NAME = re.compile(r"[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*")
_NUMERIC_PART = re.compile(r"0x[0-9a-f]*|[0-9]+", re.IGNORECASE)


# --------------------------------------------------------------------------------------------
# Addresses (pure)
# --------------------------------------------------------------------------------------------


def parse_ip_literal(host: str) -> IPAddress | None:
    """Read `host` as an IP address the way `inet_aton` and URL parsers do, or None for a name.

    IPv4 may be written in 1 to 4 dot-separated parts, each decimal, octal (leading 0) or
    hex (0x); the last part fills the remaining bytes, so `127.1`, `2130706433`,
    `0x7f000001` and `0177.0.0.1` are all 127.0.0.1. A host whose last label is a number
    is an IPv4 literal or invalid, never a name, as in the WHATWG URL standard.

    Args:
        host: The host as it appears in the URL, without brackets.

    Returns:
        The address, or None when `host` is a domain name.

    Raises:
        ValueError: The host looks numeric but is not a valid address (or has an IPv6
            zone id, which has no place in a URL fetched on a model's behalf).
    """
    text = host.strip().removeprefix("[").removesuffix("]")
    if ":" in text:
        if "%" in text:
            raise ValueError(f"IPv6 zone ids are not allowed: {host!r}")
        return ipaddress.IPv6Address(text)
    labels = text.removesuffix(".").split(".")
    if not _NUMERIC_PART.fullmatch(labels[-1]):
        return None
    if len(labels) > 4:
        raise ValueError(f"{host!r} has too many parts for an IPv4 address")
    numbers = [_parse_ipv4_part(label, host) for label in labels]
    value = 0
    for number in numbers[:-1]:
        if number > 0xFF:
            raise ValueError(f"{host!r} is not a valid IPv4 address")
        value = value << 8 | number
    remaining_bits = 8 * (5 - len(numbers))
    if numbers[-1] >= 1 << remaining_bits:
        raise ValueError(f"{host!r} is not a valid IPv4 address")
    return ipaddress.IPv4Address(value << remaining_bits | numbers[-1])


def _parse_ipv4_part(label: str, host: str) -> int:
    if not _NUMERIC_PART.fullmatch(label):
        raise ValueError(f"{host!r} is not a valid IPv4 address")
    lowered = label.lower()
    if lowered.startswith("0x"):
        return int(lowered[2:] or "0", 16)
    if len(label) > 1 and label.startswith("0"):
        if not re.fullmatch(r"[0-7]+", label):
            raise ValueError(f"{host!r} is not a valid IPv4 address (bad octal {label!r})")
        return int(label, 8)
    return int(label)


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, 6to4, Teredo, NAT64), if any."""
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def refusal_reason(address: IPAddress, allow: Iterable[Network] = ()) -> str | None:
    """Why `address` must not be fetched, or None when it may be.

    An address inside an `allow` network is always allowed. Otherwise only globally
    routable unicast addresses are; an IPv4 address inside an IPv6 one is judged too.

    Args:
        address: The address to check.
        allow: Networks allowed even if private (intranets, test servers).

    Returns:
        A short phrase such as "a loopback address", or None.
    """
    inner = _embedded_ipv4(address)
    if inner is None:
        candidates: list[IPAddress] = [address]
    elif isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        # ::ffff:a.b.c.d *is* a.b.c.d on the wire; Python calls the whole ::ffff:0:0/96
        # range private, which would refuse every mapped public address.
        candidates = [inner]
    else:
        candidates = [address, inner]
    allowed = list(allow)
    if any(c in network for c in candidates for network in allowed if c.version == network.version):
        return None
    for candidate in reversed(candidates):  # the embedded IPv4 address says the most
        reason = _reason(candidate)
        if reason is not None:
            return reason if candidate is address else f"{reason} ({candidate} inside {address})"
    return None


def _is_metadata(address: IPAddress) -> bool:
    return address in METADATA_ADDRESSES or _embedded_ipv4(address) in METADATA_ADDRESSES


def _reason(address: IPAddress) -> str | None:
    if address in METADATA_ADDRESSES:
        return "a cloud metadata address"
    checks = (
        (address.is_unspecified, "the unspecified address"),
        (address.is_loopback, "a loopback address"),
        (address.is_link_local, "a link-local address"),
        (address.is_multicast, "a multicast address"),
        (isinstance(address, ipaddress.IPv6Address) and address in _UNIQUE_LOCAL,
         "a unique-local address"),
        (address.is_private, "a private-network address"),
        (isinstance(address, ipaddress.IPv6Address) and address.is_site_local,
         "a site-local address"),
        (address.is_reserved, "a reserved address"),
        (not address.is_global, "not a public address"),
    )  # fmt: skip
    return next((reason for failed, reason in checks if failed), None)

# --------------------------------------------------------------------------------------------
# Host names and resolution
# --------------------------------------------------------------------------------------------


async def system_resolver(host: str, port: int) -> list[str]:
    """Resolve `host` with the system resolver (`getaddrinfo`, off the event loop).

    Args:
        host: An ASCII (IDNA-encoded) host name.
        port: The port, passed on to `getaddrinfo`.

    Returns:
        The distinct addresses, in the resolver's order.
    """
    infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: list[str] = []
    for *_, sockaddr in infos:
        address = str(sockaddr[0]).split("%", 1)[0]
        if address not in addresses:
            addresses.append(address)
    return addresses


@dataclass(frozen=True)
class Target:
    """Where one request really goes: checked addresses, and the name to present."""

    addresses: list[IPAddress]
    host_header: str
    sni: str | None


class Guard:
    """Validates URLs and resolves them to the addresses a request may use."""

    def __init__(self, allow: Iterable[str], resolve: Resolver):
        self.networks: list[Network] = []
        self.hosts: set[str] = set()
        for entry in allow:
            try:
                network = entry.strip().removeprefix("[").removesuffix("]")
                self.networks.append(ipaddress.ip_network(network, strict=False))
            except ValueError:
                name = entry.strip().lower().removesuffix(".")
                if not name or not _HOST_NAME.fullmatch(name):
                    raise ConfigurationError(
                        f"allow entry {entry!r} is neither an IP address, a network such as "
                        "'10.0.0.0/8', nor a host name"
                    ) from None
                self.hosts.add(name)
        self.resolve = resolve

    async def target(self, url: httpx2.URL) -> Target:
        if url.scheme not in ("http", "https"):
            raise ToolRetry(f"only http:// and https:// URLs can be fetched, not {url.scheme}://")
        try:
            host = url.raw_host.decode("ascii").lower()
        except UnicodeDecodeError:
            raise ToolRetry(f"the host of {shown(url)} is not valid") from None
        if not host:
            raise ToolRetry(f"{shown(url)} has no host name")
        port = url.port or (443 if url.scheme == "https" else 80)
        default_port = url.port is None
        try:
            literal = parse_ip_literal(host)
        except ValueError as exc:
            raise ToolRetry(f"refused {shown(url)}: {exc}") from exc
        if literal is not None:
            self._check(literal, url, trusted_name=False)
            bracketed = f"[{literal}]" if literal.version == 6 else str(literal)
            return Target([literal], _netloc(bracketed, port, default_port), None)
        name = host.removesuffix(".")
        if not _HOST_NAME.fullmatch(name):
            raise ToolRetry(f"refused {shown(url)}: {host!r} is not a valid host name")
        trusted = name in self.hosts
        if name in METADATA_HOSTS and not trusted:
            raise ToolRetry(f"refused {shown(url)}: {name} is a cloud metadata service")
        if name == "localhost" or name.endswith(".localhost"):
            found: Sequence[str] = ["127.0.0.1"]  # RFC 6761: loopback, whatever DNS says
        else:
            try:
                with anyio.fail_after(10):
                    found = await self.resolve(name, port)
            except (OSError, TimeoutError) as exc:
                raise ToolRetry(f"could not resolve {name!r}: {exc}") from exc
        if not found:
            raise ToolRetry(f"could not resolve {name!r}: no addresses")
        try:
            addresses = [ipaddress.ip_address(a) for a in found]
        except ValueError as exc:
            raise ToolRetry(f"could not resolve {name!r}: {exc}") from exc
        for address in addresses:
            # Every answer must pass: a name that mixes public and private answers is suspect.
            self._check(address, url, trusted_name=trusted, name=name)
        return Target(addresses, _netloc(host, port, default_port), name)

    def _check(
        self, address: IPAddress, url: httpx2.URL, *, trusted_name: bool, name: str | None = None
    ) -> None:
        reason = refusal_reason(address, self.networks)
        if reason is None:
            return
        # An allowed host name may resolve privately (an intranet); never to metadata.
        if trusted_name and not _is_metadata(address):
            return
        via = f" ({name} resolves to {address})" if name else ""
        raise ToolRetry(
            f"refused {shown(url)}: {reason}{via}. Only public internet addresses can be "
            "fetched; do not retry with another form of this address"
        )


def _netloc(host: str, port: int, default_port: bool) -> str:
    return host if default_port else f"{host}:{port}"


def shown(url: httpx2.URL) -> str:
    """The URL for messages: without user-info, which may hold a password."""
    return str(url.copy_with(username=None, password=None, fragment=None))
