"""`fetch_url`: pages reduced to text, and SSRF refused in every spelling, before connecting.

A real HTTP server on 127.0.0.1 (allowed through `allow=`) serves pages and redirects; the
test suite's network guard fails any connection that is not to this machine, so a refused
address that was connected to anyway would fail loudly too.
"""

from __future__ import annotations

import gzip
import ipaddress
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import anyio
import httpx2
import pytest

import agentkit.tools
from agentkit.errors import ConfigurationError, ToolArgumentsError, ToolRetry
from agentkit.tool import Tool
from agentkit.tools import bundled_tools
from agentkit.tools.http_fetch import (
    html_to_text,
    make_fetch_tool,
    parse_ip_literal,
    refusal_reason,
)

PAGE = b"""<!DOCTYPE html>
<html><head><title>Test  Page</title><style>body { color: red }</style>
<script>var secret = "do not show";</script></head>
<body>
<nav><a href="/">Home</a> | <a href="/about">About</a></nav>
<h1>Welcome &amp; hello</h1>
<p>First   paragraph with <b>bold</b>
text.</p>
<ul><li>one</li><li>two</li></ul>
<h2>Details</h2><p>Second paragraph.</p>
<script>document.write("nope")</script>
</body></html>"""


@dataclass
class Server:
    port: int
    paths: list[str] = field(default_factory=list)
    hosts: list[str] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"


def _handler(server: Server) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            server.paths.append(self.path)
            server.hosts.append(self.headers.get("Host", ""))
            port = server.port
            redirects = {
                "/to-metadata": "http://169.254.169.254/latest/meta-data/",
                "/to-private": "http://10.0.0.1/admin",
                "/to-decimal": f"http://2130706433:{port}/page",
                "/to-mapped": f"http://[::ffff:127.0.0.1]:{port}/page",
                "/to-short": f"http://127.1:{port}/page",
                "/to-userinfo": f"http://example.com@127.0.0.1:{port}/page",
                "/to-file": "file:///etc/passwd",
                "/to-relative": "/page",
                "/hop1": "/hop2",
                "/hop2": "/page",
                "/loop": "/loop",
            }
            if self.path in redirects:
                self._send(302, b"", "text/plain", Location=redirects[self.path])
            elif self.path == "/page":
                self._send(200, PAGE, "text/html; charset=utf-8")
            elif self.path == "/latin1":
                body = "<title>Caf\u00e9</title><p>cr\u00e8me br\u00fbl\u00e9e</p>".encode(
                    "latin-1"
                )
                self._send(200, body, "text/html; charset=iso-8859-1")
            elif self.path == "/text":
                self._send(200, b"plain   text\nkept as is", "text/plain")
            elif self.path == "/json":
                self._send(200, b'{"ok": true}', "application/json")
            elif self.path == "/host":
                self._send(200, self.headers.get("Host", "").encode(), "text/plain")
            elif self.path == "/image":
                self._send(200, b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "image/png")
            elif self.path == "/untyped-binary":
                self._send(200, b"\x00\x01\x02" * 100, "")
            elif self.path == "/big":
                self._send(200, b"a" * 50_000, "text/plain")
            elif self.path == "/gzip-bomb":
                bomb = gzip.compress(b"z" * 5_000_000)
                self._send(200, bomb, "text/plain", **{"Content-Encoding": "gzip"})
            elif self.path == "/gzip":
                self._send(200, gzip.compress(b"small text"), "text/plain",
                           **{"Content-Encoding": "gzip"})  # fmt: skip
            elif self.path == "/hang":
                server.release.wait(10)  # until the test is over: a server that never answers
            else:
                self._send(404, b"not here", "text/plain")

        def _send(self, status: int, body: bytes, content_type: str, **headers: str) -> None:
            self.send_response(status)
            if content_type:
                self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass  # keep the test output clean

    return Handler


@contextmanager
def run_server() -> Iterator[Server]:
    """An HTTP server on 127.0.0.1 in a thread; shut down (and its handlers released) after."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    httpd.daemon_threads = True
    server = Server(port=httpd.server_address[1])
    httpd.RequestHandlerClass = _handler(server)
    # A short poll interval: shutdown() waits for the loop to notice, up to one interval.
    thread = threading.Thread(target=httpd.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.release.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


@pytest.fixture
def server() -> Iterator[Server]:
    with run_server() as running:
        yield running


async def _no_dns(host: str, port: int) -> Sequence[str]:
    raise AssertionError(f"{host!r} must be refused (or handled) without a DNS lookup")


def _resolver(table: dict[str, list[str]]) -> object:
    calls: list[str] = []

    async def resolve(host: str, port: int) -> Sequence[str]:
        calls.append(host)
        return table[host]

    resolve.calls = calls  # type: ignore[attr-defined]
    return resolve


def _local_fetch(**options: object) -> Tool:
    options.setdefault("allow", ["127.0.0.1"])
    options.setdefault("resolve", _no_dns)
    return make_fetch_tool(**options)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# Happy paths against the local server
# --------------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_fetches_an_html_page_as_text(server: Server) -> None:
    fetch = _local_fetch()
    with anyio.fail_after(10):
        text = await fetch(server.url("/page"))
    assert text == (
        "# Test Page\n\n"
        "# Welcome & hello\n\n"
        "First paragraph with bold text.\n\n"
        "- one\n- two\n\n"
        "## Details\n\n"
        "Second paragraph."
    )
    assert server.hosts == [f"127.0.0.1:{server.port}"]


@pytest.mark.anyio
async def test_text_json_charsets_and_compression(server: Server) -> None:
    fetch = _local_fetch()
    with anyio.fail_after(10):
        assert await fetch(server.url("/text")) == "plain   text\nkept as is"
        assert await fetch(server.url("/json")) == '{"ok": true}'
        assert await fetch(server.url("/latin1")) == "# Caf\u00e9\n\ncr\u00e8me br\u00fbl\u00e9e"
        assert await fetch(server.url("/gzip")) == "small text"


@pytest.mark.anyio
async def test_follows_safe_redirects_and_says_so(server: Server) -> None:
    fetch = _local_fetch()
    with anyio.fail_after(10):
        text = await fetch(server.url("/hop1"))
    assert text.startswith(f"# Test Page\n\n(redirected to {server.url('/page')})\n\n# Welcome")
    assert server.paths == ["/hop1", "/hop2", "/page"]


@pytest.mark.anyio
async def test_cuts_long_pages_and_caps_the_bytes_read(server: Server) -> None:
    with anyio.fail_after(10):
        text = await _local_fetch()(server.url("/big"), max_chars=100)
        assert text == "a" * 100 + (
            "\n[truncated: 49900 more characters; call again with a larger max_chars to read more]"
        )
        capped = await _local_fetch(max_bytes=1000)(server.url("/big"), max_chars=5000)
        assert (
            capped == "a" * 1000 + "\n[the page is larger than 1000 bytes; only the start was read]"
        )
        bomb = await _local_fetch(max_bytes=10_000)(server.url("/gzip-bomb"), max_chars=100_000)
        assert bomb.startswith("z" * 10_000 + "\n[the page is larger than 10000 bytes")


@pytest.mark.anyio
async def test_max_chars_is_validated(server: Server) -> None:
    with anyio.fail_after(10), pytest.raises(ToolArgumentsError, match="max_chars"):
        await _local_fetch().invoke({"url": server.url("/page"), "max_chars": 10**9})


# --------------------------------------------------------------------------------------------
# Errors the model can act on
# --------------------------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/missing", "answered HTTP 404 Not Found (the page does not exist)"),
        ("/image", "is image/png, not a text or HTML page"),
        ("/untyped-binary", "is binary data, not a text or HTML page"),
        ("/loop", "redirected more than 5 times"),
        ("/to-file", "only http:// and https:// URLs can be fetched, not file://"),
    ],
)
async def test_errors_are_retries_with_clear_messages(
    server: Server, path: str, message: str
) -> None:
    with anyio.fail_after(10), pytest.raises(ToolRetry) as info:
        await _local_fetch()(server.url(path))
    assert message in info.value.message


@pytest.mark.anyio
async def test_a_server_that_never_answers_hits_the_time_limit(server: Server) -> None:
    fetch = _local_fetch(time_limit=0.3)
    with anyio.fail_after(10), pytest.raises(ToolRetry, match=r"took longer than 0\.3 s"):
        await fetch(server.url("/hang"))


@pytest.mark.anyio
async def test_connection_refused_is_a_retry() -> None:
    with run_server() as stopped:
        port = stopped.port
    with anyio.fail_after(10), pytest.raises(ToolRetry, match="could not connect to"):
        await _local_fetch()(f"http://127.0.0.1:{port}/")


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("file:///etc/passwd", "only http:// and https://"),
        ("ftp://example.com/x", "only http:// and https://"),
        ("gopher://127.0.0.1:70/", "only http:// and https://"),
        ("javascript:alert(1)", "only http:// and https://"),
        ("/etc/passwd", "is not an absolute URL"),
        ("example.com", "is not an absolute URL"),
        ("//example.com/x", "is not an absolute URL"),
        ("http://[::1", "is not a valid URL"),
        ("http:///path", "has no host name"),
    ],
)
async def test_bad_urls_are_refused(url: str, message: str) -> None:
    with anyio.fail_after(10), pytest.raises(ToolRetry) as info:
        await make_fetch_tool(resolve=_no_dns)(url)
    assert message in info.value.message


# --------------------------------------------------------------------------------------------
# SSRF: IP literals in every spelling, refused without DNS and without connecting
# --------------------------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1/", "a loopback address"),
        ("http://127.0.0.1:8080/admin", "a loopback address"),
        ("http://2130706433/", "a loopback address"),  # decimal
        ("http://017700000001/", "a loopback address"),  # octal
        ("http://0x7f000001/", "a loopback address"),  # hex
        ("http://0x7f.1/", "a loopback address"),  # hex, short form
        ("http://127.1/", "a loopback address"),  # short form
        ("http://127.0.0.1./", "a loopback address"),  # trailing dot
        ("http://[::1]/", "a loopback address"),
        ("http://[0:0:0:0:0:0:0:1]:80/", "a loopback address"),
        ("http://[::ffff:127.0.0.1]/", "a loopback address (127.0.0.1 inside"),  # IPv4-mapped
        ("http://[::ffff:7f00:1]/", "a loopback address (127.0.0.1 inside"),
        ("http://[::ffff:169.254.169.254]/", "a cloud metadata address"),
        ("http://[2002:7f00:1::]/", "a loopback address (127.0.0.1 inside"),  # 6to4
        ("http://evil@127.0.0.1/", "a loopback address"),  # user-info
        ("http://example.com@127.0.0.1/", "a loopback address"),
        ("http://example.com:80@2130706433/", "a loopback address"),
        ("http://127.0.0.1#@example.com/", "a loopback address"),
        ("http://0.0.0.0/", "the unspecified address"),
        ("http://0/", "the unspecified address"),
        ("http://[::]/", "the unspecified address"),
        ("http://10.0.0.1/", "a private-network address"),
        ("http://172.16.5.4/", "a private-network address"),
        ("http://192.168.1.1/", "a private-network address"),
        ("http://3232235777/", "a private-network address"),  # 192.168.1.1 in decimal
        ("http://100.64.0.1/", "not a public address"),  # carrier-grade NAT
        ("http://169.254.169.254/latest/meta-data/", "a cloud metadata address"),
        ("http://0xa9fea9fe/", "a cloud metadata address"),  # 169.254.169.254 in hex
        ("http://[fd00:ec2::254]/", "a cloud metadata address"),
        ("http://169.254.1.1/", "a link-local address"),
        ("http://[fe80::1]/", "a link-local address"),
        ("http://[fd12:3456::1]/", "a unique-local address"),
        ("http://224.0.0.1/", "a multicast address"),
        ("http://[ff02::1]/", "a multicast address"),
        ("https://[::1]:8443/", "a loopback address"),
    ],
)
async def test_internal_ip_literals_are_refused(url: str, reason: str) -> None:
    fetch = make_fetch_tool(resolve=_no_dns)  # the default: nothing allowed
    with anyio.fail_after(10), pytest.raises(ToolRetry) as info:
        await fetch(url)
    assert f": {reason}" in info.value.message
    assert info.value.message.startswith("refused http")
    assert "evil" not in info.value.message  # user-info is never echoed


@pytest.mark.anyio
@pytest.mark.parametrize(
    "url",
    ["http://1.2.3.4.5/", "http://256.0.0.1/", "http://08.0.0.1/", "http://0177.0.0.1/",
     "http://example.08/",
     "http://0x100000000/", "http://[fe80::1%25eth0]/"],
)  # fmt: skip
async def test_malformed_numeric_hosts_are_refused(url: str) -> None:
    with (
        anyio.fail_after(10),
        pytest.raises(ToolRetry, match=r"^refused|is not a valid URL: Invalid IPv4"),
    ):
        await make_fetch_tool(resolve=_no_dns)(url)


@pytest.mark.anyio
async def test_hostname_resolving_to_loopback_is_refused() -> None:
    resolve = _resolver(
        {"sneaky.example": ["127.0.0.1"], "mixed.example": ["93.184.216.34", "10.1.2.3"]}
    )
    fetch = make_fetch_tool(resolve=resolve)  # type: ignore[arg-type]
    with anyio.fail_after(10):
        with pytest.raises(ToolRetry) as info:
            await fetch("http://sneaky.example/")
        assert "a loopback address (sneaky.example resolves to 127.0.0.1)" in info.value.message
        with pytest.raises(
            ToolRetry, match=r"private-network address \(mixed\.example resolves to 10\.1\.2\.3\)"
        ):
            await fetch("http://mixed.example/")  # one bad answer is enough
    assert resolve.calls == ["sneaky.example", "mixed.example"]  # type: ignore[attr-defined]


@pytest.mark.anyio
async def test_metadata_and_localhost_names_are_refused_without_dns() -> None:
    fetch = make_fetch_tool(resolve=_no_dns)
    with anyio.fail_after(10):
        with pytest.raises(
            ToolRetry, match=r"metadata\.google\.internal is a cloud metadata service"
        ):
            await fetch("http://metadata.google.internal/computeMetadata/v1/")
        with pytest.raises(ToolRetry, match=r"loopback address \(localhost resolves to 127"):
            await fetch("http://localhost:8000/")
        with pytest.raises(ToolRetry, match="loopback address"):
            await fetch("http://app.localhost/")


# --------------------------------------------------------------------------------------------
# SSRF through redirects: refused before any connection to the new address
# --------------------------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("path", "message"),
    [
        (
            "/to-metadata",
            "refused http://169.254.169.254/latest/meta-data/: a cloud metadata address",
        ),
        ("/to-private", "refused http://10.0.0.1/admin: a private-network address"),
    ],
)
async def test_redirects_to_internal_addresses_are_refused(
    server: Server, path: str, message: str
) -> None:
    fetch = _local_fetch()  # 127.0.0.1 is allowed, nothing else
    with anyio.fail_after(10), pytest.raises(ToolRetry) as info:
        await fetch(server.url(path))
    assert message in info.value.message
    assert server.paths == [path]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/to-decimal", "a loopback address"),
        ("/to-mapped", "a loopback address (127.0.0.1 inside"),
        ("/to-short", "a loopback address"),
        ("/to-userinfo", "a loopback address"),
    ],
)
async def test_an_allowed_name_does_not_allow_other_spellings_of_its_address(
    server: Server, path: str, reason: str
) -> None:
    # The test server is reachable only as "intranet.test" (allowed by name). Redirects to
    # 127.0.0.1 spelled as a literal are refused, and the server never sees the request.
    resolve = _resolver({"intranet.test": ["127.0.0.1"]})
    fetch = make_fetch_tool(allow=["intranet.test"], resolve=resolve)  # type: ignore[arg-type]
    with anyio.fail_after(10), pytest.raises(ToolRetry) as info:
        await fetch(server.url(path, host="intranet.test"))
    assert reason in info.value.message
    assert server.paths == [path]


@pytest.mark.anyio
async def test_connects_to_the_checked_address_with_the_name_in_host(server: Server) -> None:
    # Resolved once per hop, then pinned: a second, different DNS answer cannot be used.
    answers = iter([["127.0.0.1"], ["169.254.169.254"]])

    async def rebinding(host: str, port: int) -> Sequence[str]:
        return next(answers)

    fetch = make_fetch_tool(allow=["intranet.test"], resolve=rebinding)
    with anyio.fail_after(10):
        assert (
            await fetch(server.url("/host", host="intranet.test")) == f"intranet.test:{server.port}"
        )
        with pytest.raises(ToolRetry, match="a cloud metadata address"):
            await fetch(server.url("/host", host="intranet.test"))  # allowed name, metadata IP
    assert server.hosts == [f"intranet.test:{server.port}"]


@pytest.mark.anyio
async def test_pins_the_address_and_sends_sni_with_a_mock_transport() -> None:
    seen: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        if request.url.path == "/start":
            return httpx2.Response(301, headers={"Location": "https://www.example.org/final"})
        return httpx2.Response(
            200, text="<title>T</title>hi", headers={"Content-Type": "text/html"}
        )

    resolve = _resolver({"example.org": ["93.184.215.14"], "www.example.org": ["2606:2800:21f::1"]})
    fetch = make_fetch_tool(resolve=resolve, transport=httpx2.MockTransport(handler))  # type: ignore[arg-type]
    with anyio.fail_after(10):
        text = await fetch("http://user:pw@example.org/start")
    assert text == "# T\n\n(redirected to https://www.example.org/final)\n\nhi"
    first, second = seen
    assert str(first.url) == "http://93.184.215.14/start"
    assert first.headers["host"] == "example.org"
    assert "authorization" not in first.headers  # user-info is dropped, never sent
    assert str(second.url) == "https://[2606:2800:21f::1]/final"
    assert second.headers["host"] == "www.example.org"
    assert second.extensions["sni_hostname"] == "www.example.org"


# --------------------------------------------------------------------------------------------
# Configuration and the pure helpers
# --------------------------------------------------------------------------------------------


def test_allow_entries_are_checked() -> None:
    with pytest.raises(ConfigurationError, match="neither an IP address"):
        make_fetch_tool(allow=["not a host!"])
    with pytest.raises(ConfigurationError, match="time_limit"):
        make_fetch_tool(time_limit=0)
    make_fetch_tool(allow="127.0.0.1")  # a lone string is one entry


def test_refusal_reason_with_allowed_networks() -> None:
    address = ipaddress.ip_address("10.1.2.3")
    assert refusal_reason(address) == "a private-network address"
    assert refusal_reason(address, [ipaddress.ip_network("10.0.0.0/8")]) is None
    assert refusal_reason(ipaddress.ip_address("93.184.215.14")) is None
    assert refusal_reason(ipaddress.ip_address("::ffff:93.184.215.14")) is None
    assert refusal_reason(ipaddress.ip_address("2606:4700::1111")) is None


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("2130706433", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("0177.0.0.01", "127.0.0.1"),
        ("10.1", "10.0.0.1"),
        ("192.168.257", "192.168.1.1"),
        ("0", "0.0.0.0"),
        ("::ffff:127.0.0.1", "::ffff:7f00:1"),
        ("[::1]", "::1"),
        ("example.com", None),
        ("1.example.com", None),
        ("xn--bcher-kva.de", None),
    ],
)
def test_parse_ip_literal(host: str, expected: str | None) -> None:
    parsed = parse_ip_literal(host)
    assert (None if parsed is None else str(parsed)) == expected


def test_html_to_text_keeps_structure() -> None:
    title, text = html_to_text(
        "<html><head><title>T</title></head><body><nav>skip</nav>"
        "<table><tr><th>a</th> <th>b</th></tr><tr><td>1</td><td>2</td></tr></table>"
        "<pre>x  =  1\n  y</pre><p>one<br>two</p><svg><title>icon</title></svg>"
        "<noscript>enable js</noscript><h3>Small   heading</h3></body></html>"
    )
    assert title == "T"
    assert text == "a | b\n1 | 2\n\nx  =  1\n  y\n\none\ntwo\n\n### Small heading"
    assert html_to_text("no markup  at   all") == (None, "no markup at all")


# --------------------------------------------------------------------------------------------
# The package: bundled tools
# --------------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_bundled_tools_are_the_stateless_ones_with_default_safety() -> None:
    tools = bundled_tools()
    assert [t.name for t in tools] == [
        "calculate", "now", "date_diff", "date_add", "convert_units", "fetch_url"
    ]  # fmt: skip
    assert bundled_tools()[-1] is not tools[-1]  # fresh tools, nothing shared to mutate
    fetch = tools[-1]
    with anyio.fail_after(10), pytest.raises(ToolRetry, match="a loopback address"):
        await fetch("http://[::ffff:127.0.0.1]:8080/")
    for item in tools:  # every bundled tool can be sent to Grok and OpenAI as it is
        assert item.definition("grok")["function"]["description"]
        assert item.definition("openai")["function"]["parameters"]["type"] == "object"


def test_package_exports_are_sorted_and_exist() -> None:
    names = agentkit.tools.__all__
    assert names == sorted(names)
    for name in names:
        assert getattr(agentkit.tools, name) is not None
    assert {"file_tools", "sqlite_tools", "retrieval_tools", "make_fetch_tool"} <= set(names)
