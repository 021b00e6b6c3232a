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

The address checks live in `_netguard` and the HTML reduction in `_html`; this module keeps
the tool and the fetching, and re-exports the public names it used to define.
"""

from __future__ import annotations

import codecs
import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated

import anyio
import httpx2
from pydantic import Field

from agentkit.errors import ConfigurationError, ToolRetry
from agentkit.tool import Tool, tool

# `X as X`: names defined here before the split stay importable from here.
from ._html import html_to_text
from ._netguard import METADATA_ADDRESSES as METADATA_ADDRESSES
from ._netguard import METADATA_HOSTS as METADATA_HOSTS
from ._netguard import (
    Guard,
    Resolver,
    Target,
    parse_ip_literal,
    refusal_reason,
    shown,
    system_resolver,
)
from ._netguard import IPAddress as IPAddress
from ._netguard import Network as Network

__all__ = [
    "Resolver",
    "fetch_url",
    "html_to_text",
    "make_fetch_tool",
    "parse_ip_literal",
    "refusal_reason",
    "system_resolver",
]

MAX_REDIRECTS = 5
DEFAULT_MAX_BYTES = 2_000_000
DEFAULT_TIME_LIMIT = 20.0
USER_AGENT = "agentkit-fetch/0.1 (an AI agent's web page reader)"

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_TEXT_TYPES = frozenset(
    {"application/xhtml+xml", "application/xml", "application/json", "application/ld+json",
     "application/javascript", "application/x-javascript", "application/rss+xml",
     "application/atom+xml", "application/x-yaml", "application/yaml", "application/toml"}
)  # fmt: skip



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
        guard: Guard,
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
                f"fetching {shown(current)} took longer than {self.time_limit:g} s; the site "
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
                        f"{shown(current)} redirected to an invalid URL {answer!r}"
                    ) from exc
        raise ToolRetry(f"{shown(start)} redirected more than {MAX_REDIRECTS} times; giving up")

    async def _get(self, client: httpx2.AsyncClient, url: httpx2.URL, target: Target) -> _Answer:
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
                raise ToolRetry(f"{shown(url)} timed out ({type(exc).__name__})") from exc
            except httpx2.HTTPError as exc:
                raise ToolRetry(
                    f"could not fetch {shown(url)}: {exc or type(exc).__name__}"
                ) from exc
        raise ToolRetry(f"could not connect to {shown(url)}: {failure}") from failure

    async def _read(self, response: httpx2.Response, url: httpx2.URL) -> _Answer:
        status = response.status_code
        if status in _REDIRECTS:
            location = response.headers.get("Location")
            if not location:
                raise ToolRetry(f"{shown(url)} answered {status} without a Location")
            return location
        if status >= 400:
            raise ToolRetry(
                f"{shown(url)} answered HTTP {status} {response.reason_phrase}"
                + (" (the page does not exist)" if status in (404, 410) else "")
            )
        content_type = response.headers.get("Content-Type", "")
        mime = content_type.split(";", 1)[0].strip().lower()
        if mime and not _is_text(mime):
            raise ToolRetry(
                f"{shown(url)} is {mime}, not a text or HTML page; this tool only reads text"
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
            raise ToolRetry(f"{shown(url)} is binary data, not a text or HTML page")
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
            parts.append(f"(redirected to {shown(final)})")
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
        guard=Guard(allow, resolve or system_resolver),
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
