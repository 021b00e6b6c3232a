"""`fetch_url`: GET a web page and return it as readable text, refusing internal addresses.

The model chooses the URL, so the URL is hostile until checked (SSRF). Every hop, the first
request and each redirect alike, goes through the same steps:

1. only `http` and `https`; user-info (`http://evil@127.0.0.1/`) is dropped, never sent;
2. the host is parsed as an IP literal in every form the C library accepts (decimal
   `2130706433`, octal and hex `0177.0x0.1`, short `127.1`, IPv6 `[::1]`, IPv4-mapped
   `[::ffff:127.0.0.1]`...) and otherwise resolved, once, through the injectable resolver;
3. every address is checked: loopback, private, link-local, unique-local, multicast,
   reserved, unspecified and cloud-metadata addresses are refused (including IPv4 addresses
   hidden in IPv6 forms) unless an `allow` entry says otherwise;
4. the request goes to the checked IP itself, with the name in the Host header and in TLS
   SNI, so a second DNS answer (DNS rebinding) cannot send it elsewhere.

Redirects are followed by hand (at most 5). Bodies are read up to a byte cap, compressed
bodies are inflated under the same cap, and the whole fetch runs under a time limit.
HTML is reduced to text by `html_to_text`, which is pure and does no I/O.
"""

from __future__ import annotations

import codecs
import ipaddress
import re
import socket
import zlib
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Annotated

import anyio
import httpx2
from pydantic import Field

from agentkit.errors import ConfigurationError, ToolRetry
from agentkit.tool import Tool, tool

__all__ = [
    "Resolver",
    "fetch_url",
    "html_to_text",
    "make_fetch_tool",
    "parse_ip_literal",
    "refusal_reason",
    "system_resolver",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

Resolver = Callable[[str, int], Awaitable[Sequence[str]]]
"""Resolves `(host, port)` to IP address strings; injectable for tests."""

MAX_REDIRECTS = 5
DEFAULT_MAX_BYTES = 2_000_000
DEFAULT_TIME_LIMIT = 20.0
USER_AGENT = "agentkit-fetch/0.1 (an AI agent's web page reader)"

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
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_TEXT_TYPES = frozenset(
    {"application/xhtml+xml", "application/xml", "application/json", "application/ld+json",
     "application/javascript", "application/x-javascript", "application/rss+xml",
     "application/atom+xml", "application/x-yaml", "application/yaml", "application/toml"}
)  # fmt: skip


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
class _Target:
    """Where one request really goes: checked addresses, and the name to present."""

    addresses: list[IPAddress]
    host_header: str
    sni: str | None


class _Guard:
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

    async def target(self, url: httpx2.URL) -> _Target:
        if url.scheme not in ("http", "https"):
            raise ToolRetry(f"only http:// and https:// URLs can be fetched, not {url.scheme}://")
        try:
            host = url.raw_host.decode("ascii").lower()
        except UnicodeDecodeError:
            raise ToolRetry(f"the host of {_shown(url)} is not valid") from None
        if not host:
            raise ToolRetry(f"{_shown(url)} has no host name")
        port = url.port or (443 if url.scheme == "https" else 80)
        default_port = url.port is None
        try:
            literal = parse_ip_literal(host)
        except ValueError as exc:
            raise ToolRetry(f"refused {_shown(url)}: {exc}") from exc
        if literal is not None:
            self._check(literal, url, trusted_name=False)
            bracketed = f"[{literal}]" if literal.version == 6 else str(literal)
            return _Target([literal], _netloc(bracketed, port, default_port), None)
        name = host.removesuffix(".")
        if not _HOST_NAME.fullmatch(name):
            raise ToolRetry(f"refused {_shown(url)}: {host!r} is not a valid host name")
        trusted = name in self.hosts
        if name in METADATA_HOSTS and not trusted:
            raise ToolRetry(f"refused {_shown(url)}: {name} is a cloud metadata service")
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
        return _Target(addresses, _netloc(host, port, default_port), name)

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
            f"refused {_shown(url)}: {reason}{via}. Only public internet addresses can be "
            "fetched; do not retry with another form of this address"
        )


def _netloc(host: str, port: int, default_port: bool) -> str:
    return host if default_port else f"{host}:{port}"


def _shown(url: httpx2.URL) -> str:
    """The URL for messages: without user-info, which may hold a password."""
    return str(url.copy_with(username=None, password=None, fragment=None))


# --------------------------------------------------------------------------------------------
# HTML to text (pure)
# --------------------------------------------------------------------------------------------

_SKIPPED_TAGS = frozenset(
    {"script", "style", "nav", "noscript", "template", "svg", "iframe", "object", "canvas",
     "select", "button"}
)  # fmt: skip
_BLOCK_TAGS = frozenset(
    {"p", "div", "section", "article", "main", "header", "footer", "aside", "blockquote",
     "pre", "ul", "ol", "dl", "dt", "dd", "table", "thead", "tbody", "tfoot", "figure",
     "figcaption", "form", "fieldset", "address", "details", "summary", "hr", "caption",
     "center", "body", "html"}
)  # fmt: skip
_HEADINGS = {f"h{n}": n for n in range(1, 7)}


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.title: str | None = None
        self._title_parts: list[str] | None = None
        self._out: list[str] = []
        self._skip = 0
        self._pre = 0
        self._breaks = 0  # newlines owed before the next text
        self._prefix = ""  # "## " or "- ", written before the next text
        self._line_start = True
        self._row_cells = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED_TAGS:
            self._skip += 1
        elif tag == "title" and self.title is None and not self._skip:
            self._title_parts = []
        elif tag in _HEADINGS:
            self._break(2)
            self._prefix = "#" * _HEADINGS[tag] + " "
        elif tag == "li":
            self._break(1)
            self._prefix = "- "
        elif tag == "br":
            self._break(1)
        elif tag == "tr":
            self._break(1)
            self._row_cells = 0
        elif tag in ("td", "th"):
            if self._row_cells:
                self._prefix = " | "
            self._row_cells += 1
        elif tag in _BLOCK_TAGS:
            self._break(2)
        if tag == "pre":
            self._pre += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED_TAGS:
            self._skip = max(0, self._skip - 1)
        elif tag == "title" and self._title_parts is not None:
            self.title = " ".join("".join(self._title_parts).split()) or None
            self._title_parts = None
        elif tag in _HEADINGS or tag in _BLOCK_TAGS:
            self._break(2)
            self._prefix = ""
        elif tag in ("li", "tr"):
            self._break(1)
        if tag == "pre":
            self._pre = max(0, self._pre - 1)

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._title_parts is not None:
            self._title_parts.append(data)
            return
        text = data if self._pre else re.sub(r"\s+", " ", data)
        if not self._pre and self._line_start:
            text = text.lstrip()
        if not text:
            return
        if self._breaks:
            if self._out:
                self._out.append("\n" * self._breaks)
            self._breaks = 0
            self._line_start = True
            if not self._pre:
                text = text.lstrip()
                if not text:
                    return
        if self._prefix:
            if self._prefix != " | " or not self._line_start:
                self._append(self._prefix)
                text = text if self._pre else text.lstrip()
            self._prefix = ""
        self._append(text)
        self._line_start = text.endswith("\n")

    def _break(self, count: int) -> None:
        self._breaks = max(self._breaks, count)

    def _append(self, text: str) -> None:
        # Inline whitespace from both sides of a tag must not add up to two spaces.
        if text.startswith(" ") and not self._pre and self._out and self._out[-1].endswith(" "):
            text = text[1:]
        if text:
            self._out.append(text)

    def text(self) -> str:
        joined = "".join(self._out)
        lines = [line.rstrip() for line in joined.split("\n")]
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def html_to_text(html: str) -> tuple[str | None, str]:
    """Reduce an HTML document to readable text.

    Scripts, styles, navigation and other non-content elements are dropped; headings
    become `#`-prefixed lines, list items `- ` lines, table cells are joined with ` | `,
    paragraphs are separated by blank lines and other whitespace is collapsed (except in
    `<pre>`).

    Args:
        html: The document.

    Returns:
        `(title, text)`; the title is None when the page has none.
    """
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    return parser.title, parser.text()


# --------------------------------------------------------------------------------------------
# Bodies
# --------------------------------------------------------------------------------------------


class _BoundedBody:
    """Collects a body up to `limit` bytes, inflating gzip/deflate under the same limit."""

    def __init__(self, limit: int, encoding: str):
        self.limit = limit
        self.chunks: list[bytes] = []
        self.size = 0
        self.truncated = False
        encoding = encoding.strip().lower()
        if encoding in ("", "identity"):
            self._inflater = None
        elif encoding in ("gzip", "x-gzip", "deflate"):
            self._inflater = zlib.decompressobj(wbits=47)  # 47: gzip or zlib header
        else:
            raise ToolRetry(f"the server sent an unsupported content encoding ({encoding})")

    def feed(self, chunk: bytes) -> bool:
        """Add a raw chunk; False once the limit is reached (stop reading)."""
        if self._inflater is None:
            self._keep(chunk)
        else:
            data = chunk
            while data and not self.truncated:
                try:
                    out = self._inflater.decompress(data, self.limit - self.size + 1)
                except zlib.error as exc:
                    raise ToolRetry(f"the compressed body is corrupt ({exc})") from exc
                self._keep(out)
                data = self._inflater.unconsumed_tail
        return not self.truncated

    def _keep(self, data: bytes) -> None:
        room = self.limit - self.size
        if len(data) > room:
            data, self.truncated = data[:room], True
        self.chunks.append(data)
        self.size += len(data)

    def data(self) -> bytes:
        return b"".join(self.chunks)


def _charset(content_type: str, body: bytes, is_html: bool) -> str:
    name = "utf-8"
    declared = re.search(r"charset=[\"']?([\w.:-]+)", content_type, re.IGNORECASE)
    if declared is not None:
        name = declared.group(1)
    elif is_html:
        meta = re.search(rb"<meta[^>]+charset=[\"']?([\w.:-]+)", body[:4096], re.IGNORECASE)
        if meta is not None:
            name = meta.group(1).decode("ascii")
    try:
        return codecs.lookup(name).name
    except LookupError:
        return "utf-8"


def _is_text(mime: str) -> bool:
    return mime.startswith("text/") or mime in _TEXT_TYPES or mime.endswith(("+xml", "+json"))


# --------------------------------------------------------------------------------------------
# The tool
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Page:
    """A final (non-redirect) answer's body, capped."""

    mime: str
    content_type: str
    data: bytes
    truncated: bool


_Answer = str | _Page
"""What one request gives: a redirect's Location, or the page."""


class _Borrowed(httpx2.AsyncBaseTransport):
    """An injected transport, used by each call's client but never closed by it."""

    def __init__(self, inner: httpx2.AsyncBaseTransport):
        self.inner = inner

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        return await self.inner.handle_async_request(request)


class _Fetcher:
    def __init__(
        self,
        *,
        guard: _Guard,
        transport: httpx2.AsyncBaseTransport | None,
        time_limit: float,
        max_bytes: int,
        user_agent: str,
    ):
        self.guard = guard
        # Each call opens and closes its own client; a caller's transport must outlive it.
        self.transport = None if transport is None else _Borrowed(transport)
        self.time_limit = time_limit
        self.max_bytes = max_bytes
        self.headers = {
            "User-Agent": user_agent,
            "Accept": "text/html,application/xhtml+xml,text/plain;q=0.9,*/*;q=0.5",
            # Ask for no compression; what comes compressed anyway is inflated under the cap.
            "Accept-Encoding": "identity",
        }

    async def fetch(self, url: str, max_chars: int) -> str:
        try:
            current = httpx2.URL(url.strip())
        except (httpx2.InvalidURL, TypeError) as exc:
            # httpx2 rejects some numeric hosts itself ("0177.0.0.1"): refused all the same.
            raise ToolRetry(f"{url!r} is not a valid URL: {exc}") from exc
        if not current.scheme:
            raise ToolRetry(f"{url!r} is not an absolute URL; pass e.g. 'https://example.com/'")
        try:
            with anyio.fail_after(self.time_limit):
                return await self._fetch(current, max_chars)
        except TimeoutError as exc:
            raise ToolRetry(
                f"fetching {_shown(current)} took longer than {self.time_limit:g} s; the site "
                "may be slow or down"
            ) from exc

    async def _fetch(self, start: httpx2.URL, max_chars: int) -> str:
        timeout = httpx2.Timeout(self.time_limit)
        # trust_env=False: an environment proxy would connect by name, undoing the pinning.
        async with httpx2.AsyncClient(
            transport=self.transport, trust_env=False, follow_redirects=False, timeout=timeout
        ) as client:
            current = start
            for _hop in range(MAX_REDIRECTS + 1):
                target = await self.guard.target(current)  # before any connection to it
                answer = await self._get(client, current, target)
                if isinstance(answer, _Page):
                    return self._render(answer, start, current, max_chars)
                try:
                    current = current.join(answer)  # a redirect: checked on the next turn
                except httpx2.InvalidURL as exc:
                    raise ToolRetry(
                        f"{_shown(current)} redirected to an invalid URL {answer!r}"
                    ) from exc
        raise ToolRetry(f"{_shown(start)} redirected more than {MAX_REDIRECTS} times; giving up")

    async def _get(self, client: httpx2.AsyncClient, url: httpx2.URL, target: _Target) -> _Answer:
        extensions = {"sni_hostname": target.sni} if target.sni and url.scheme == "https" else {}
        headers = {**self.headers, "Host": target.host_header}
        failure: httpx2.ConnectError | None = None
        for address in target.addresses:
            pinned = httpx2.URL(
                scheme=url.scheme, host=str(address), port=url.port, raw_path=url.raw_path
            )
            try:
                async with client.stream(
                    "GET", pinned, headers=headers, extensions=extensions
                ) as response:
                    return await self._read(response, url)
            except httpx2.ConnectError as exc:
                failure = exc  # try the next checked address
            except httpx2.TimeoutException as exc:
                raise ToolRetry(f"{_shown(url)} timed out ({type(exc).__name__})") from exc
            except httpx2.HTTPError as exc:
                raise ToolRetry(
                    f"could not fetch {_shown(url)}: {exc or type(exc).__name__}"
                ) from exc
        raise ToolRetry(f"could not connect to {_shown(url)}: {failure}") from failure

    async def _read(self, response: httpx2.Response, url: httpx2.URL) -> _Answer:
        status = response.status_code
        if status in _REDIRECTS:
            location = response.headers.get("Location")
            if not location:
                raise ToolRetry(f"{_shown(url)} answered {status} without a Location")
            return location
        if status >= 400:
            raise ToolRetry(
                f"{_shown(url)} answered HTTP {status} {response.reason_phrase}"
                + (" (the page does not exist)" if status in (404, 410) else "")
            )
        content_type = response.headers.get("Content-Type", "")
        mime = content_type.split(";", 1)[0].strip().lower()
        if mime and not _is_text(mime):
            raise ToolRetry(
                f"{_shown(url)} is {mime}, not a text or HTML page; this tool only reads text"
            )
        if response.is_stream_consumed:
            # Built in memory (a mock transport, say): already decoded, only the cap applies.
            body = _BoundedBody(self.max_bytes, "identity")
            body.feed(response.content)
        else:
            body = _BoundedBody(self.max_bytes, response.headers.get("Content-Encoding", ""))
            async for chunk in response.aiter_raw():
                if not body.feed(chunk):
                    break
        data = body.data()
        if not mime and b"\x00" in data[:1024]:
            raise ToolRetry(f"{_shown(url)} is binary data, not a text or HTML page")
        return _Page(mime, content_type, data, body.truncated)

    def _render(self, page: _Page, start: httpx2.URL, final: httpx2.URL, max_chars: int) -> str:
        sniffed = page.data[:512].lstrip().lower()
        is_html = page.mime in ("text/html", "application/xhtml+xml") or (
            not page.mime and sniffed.startswith((b"<!doctype html", b"<html"))
        )
        text = page.data.decode(_charset(page.content_type, page.data, is_html), errors="replace")
        title: str | None = None
        if is_html:
            title, text = html_to_text(text)
        parts = [f"# {title}"] if title else []
        if final != start:
            parts.append(f"(redirected to {_shown(final)})")
        parts.append(text.strip() or "(the page has no readable text)")
        result = "\n\n".join(parts)
        notes = []
        if len(result) > max_chars:
            notes.append(
                f"[truncated: {len(result) - max_chars} more characters; call again with a "
                "larger max_chars to read more]"
            )
            result = result[:max_chars]
        if page.truncated:
            notes.append(
                f"[the page is larger than {self.max_bytes} bytes; only the start was read]"
            )
        return "\n".join([result, *notes])


def make_fetch_tool(
    *,
    allow: Iterable[str] = (),
    resolve: Resolver | None = None,
    transport: httpx2.AsyncBaseTransport | None = None,
    time_limit: float = DEFAULT_TIME_LIMIT,
    max_bytes: int = DEFAULT_MAX_BYTES,
    user_agent: str = USER_AGENT,
) -> Tool:
    """A `fetch_url` tool with its own safety settings.

    Args:
        allow: IP addresses, networks (`"10.0.0.0/8"`) or host names that may be fetched
            even though they are private, e.g. an intranet or a test server on
            `"127.0.0.1"`. An allowed host name may resolve to private addresses, but
            never to a cloud metadata address unless that address's network is allowed.
        resolve: Resolves `(host, port)` to address strings; defaults to the system
            resolver. Tests inject a fake.
        transport: The httpx2 transport; defaults to a real network one.
        time_limit: Seconds the whole fetch (redirects included) may take.
        max_bytes: Most body bytes read (after decompression); the rest is ignored.
        user_agent: The User-Agent header.

    Returns:
        The tool.

    Raises:
        ConfigurationError: An `allow` entry or an option is invalid.
    """
    if isinstance(allow, str):
        allow = [allow]  # a lone "127.0.0.1" is one entry, not nine characters
    if not time_limit > 0:
        raise ConfigurationError(f"make_fetch_tool(time_limit=...) must be > 0, not {time_limit}")
    if max_bytes < 1:
        raise ConfigurationError(f"make_fetch_tool(max_bytes=...) must be >= 1, not {max_bytes}")
    fetcher = _Fetcher(
        guard=_Guard(allow, resolve or system_resolver),
        transport=transport,
        time_limit=time_limit,
        max_bytes=max_bytes,
        user_agent=user_agent,
    )

    @tool
    async def fetch_url(
        url: str, max_chars: Annotated[int, Field(ge=100, le=100_000)] = 20000
    ) -> str:
        """Fetch a web page (HTTP GET) and return its readable text.

        HTML is reduced to text: the title first (as "# Title"), then headings, paragraphs,
        lists and tables, without scripts, styles or navigation. Plain text and JSON are
        returned as they are. Only public http:// and https:// addresses can be fetched;
        local, private-network and cloud-metadata addresses are refused, and so are
        binary files such as images or PDFs. Long pages are cut at `max_chars`.

        Args:
            url: The absolute URL, e.g. "https://en.wikipedia.org/wiki/Python".
            max_chars: Most characters of text to return.
        """
        return await fetcher.fetch(url, max_chars)

    return fetch_url


fetch_url = make_fetch_tool()
"""`fetch_url(url, max_chars=20000)` with the default safety settings."""
