"""MCP servers as tool sources: their tools, offered to an agent beside its own.

```python
from agentkit import Agent
from agentkit.mcp import MCPServerStdio, MCPServerStreamableHTTP

weather = MCPServerStdio("python", ["weather_server.py"], prefix="weather")
docs = MCPServerStreamableHTTP("https://mcp.example.com/mcp",
                               headers={"Authorization": "Bearer ..."})
agent = Agent("grok-4.3", tools=[weather, docs])
result = await agent.run("Will it rain in Paris tomorrow?")  # each server opened for the run
```

Built on the official MCP SDK (`pip install 'agentkit[mcp]'`): a `ClientSession` over
`stdio_client` or the streamable HTTP client, speaking the handshake era of the protocol
(`initialize`), which every MCP server understands.

- The server's tools get the input schemas it gives, made acceptable to Grok as for any tool;
  the model's arguments are checked against the whole schema before a call leaves.
- A call's structured result (`structuredContent`) is what the model reads (a value the
  server wrapped as `{"result": value}`, unwrapped); without one, its text content.
- An error result (`isError`), a protocol error, a server that stops answering (each request
  is bounded by `timeout`) and one that exits are tool errors the model reads, naming the
  server: never a crash, never a hang. A server that cannot start (bounded by
  `startup_timeout`), be reached or list its tools raises `MCPServerError`.
- The tool list is cached while the session lasts and dropped when the server says it changed
  (`notifications/tools/list_changed`); `cache_tools=False` asks every time.
- `prefix="weather"` names the tools `weather_<tool>`, against clashes; `requires_approval`
  applies to every tool of the server, as `@tool(requires_approval=...)` does.

A server an agent is given closed is opened for each run and closed when the run ends. Open
it yourself (`async with server:`) to keep one session across runs, or to share it between
runs at the same time: a server an agent opened is closed when the run that opened it ends.
The session runs in an asyncio task of its own (anyio's default backend), so that a failing
transport can end the session but never the run.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import itertools
import logging
import re
import sys
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from contextvars import ContextVar
from os import PathLike
from types import TracebackType
from typing import Any, Self, TextIO

import anyio
from pydantic import ValidationError

try:
    from mcp import ClientSession, StdioServerParameters, stdio_client
    from mcp import types as mcp_types
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared._httpx_utils import create_mcp_http_client
    from mcp.shared.exceptions import MCPError
except ImportError as missing:  # pragma: no cover - depends on the environment
    raise ImportError(
        f"agentkit.mcp needs the MCP SDK, which is not installed ({missing}): "
        "pip install 'agentkit[mcp]'"
    ) from missing

from ._schema import TOOL_NAME_PATTERN
from .errors import AgentKitError, ConfigurationError, ToolDefinitionError, ToolError, UserError
from .errors import redact as _redact
from .tool import ApprovalPolicy, Tool

__all__ = ["MCPServerError", "MCPServerStdio", "MCPServerStreamableHTTP"]

_log = logging.getLogger("agentkit.mcp")

_DEFAULT_TIMEOUT = 60.0
# Starting can be slow: an interpreter importing its packages, `npx` fetching the server.
_DEFAULT_STARTUP_TIMEOUT = 60.0
# A server that ignores the end of its session gets this long before it is cut off.
_CLOSE_GRACE = 5.0
# A server whose tools/list pages never end must not hold a run forever.
_MAX_PAGES = 100
_UNSAFE_NAME_CHARACTERS = re.compile(r"[^A-Za-z0-9_-]")
_SECRET_HEADER = re.compile(r"(?i)authorization|cookie|token|secret|key|auth|session|password")
_URL_PASSWORD = re.compile(r"(?<=://)([^/@:]*):([^/@]*)@")

# The keys of the servers opened in a task, once per opening: see `is_open`.
_OPENED: ContextVar[tuple[int, ...]] = ContextVar("agentkit_mcp_opened", default=())
_KEYS = itertools.count()

_CONNECTION_CLOSED = mcp_types.CONNECTION_CLOSED
_REQUEST_TIMEOUT = mcp_types.REQUEST_TIMEOUT


class MCPServerError(AgentKitError):
    """An MCP server could not be started, reached, or asked for its tools.

    Failures of a single tool call are not raised: they go back to the model as the call's
    result (`ToolError`), naming the server.
    """


Streams = tuple[Any, Any]


class _MCPServer(ABC):
    """What both transports share: the session in a task of its own, tools and calls."""

    def __init__(
        self,
        *,
        name: str | None,
        prefix: str | None,
        cache_tools: bool,
        requires_approval: ApprovalPolicy,
        timeout: float,
        startup_timeout: float,
        secrets: Sequence[str],
    ) -> None:
        for option, seconds in (("timeout", timeout), ("startup_timeout", startup_timeout)):
            if not seconds > 0:
                raise ConfigurationError(f"{option} must be > 0 seconds, not {seconds}")
        if prefix is not None and not TOOL_NAME_PATTERN.fullmatch(f"{prefix}_x"):
            raise ConfigurationError(
                f"prefix {prefix!r} cannot start a tool name; use up to 62 letters, digits, "
                "'_' or '-'"
            )
        if not isinstance(requires_approval, bool) and not callable(requires_approval):
            raise ConfigurationError(
                "requires_approval must be True, False or a function (ctx, call) -> bool, "
                f"not {requires_approval!r}"
            )
        self.name = name
        self.prefix = prefix
        self.cache_tools = cache_tools
        self.requires_approval: ApprovalPolicy = requires_approval
        self.timeout = float(timeout)
        self.startup_timeout = float(startup_timeout)
        self._secrets = tuple(s for s in secrets if s)
        self._task: asyncio.Task[None] | None = None
        self._users = 0
        self._key = next(_KEYS)
        self._session: ClientSession | None = None
        self._server_name: str | None = None
        # Made when the server is opened: an anyio Event needs a running event loop.
        self._ready: anyio.Event | None = None
        self._stop: anyio.Event | None = None
        self._gone: anyio.Event | None = None
        self._failure: BaseException | None = None
        self._tools: list[Tool] | None = None
        # Bumped by each list_changed: a listing that a change overtook is not cached.
        self._tools_version = 0

    # -- the seam ---------------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        """Whether the server is open here: inside `async with server:` (or the run that opened
        it), and in the tasks started there. Another task's runs open it again, sharing the
        session while it lasts, which is what lets concurrent runs share one server."""
        return self._key in _OPENED.get()

    @property
    def label(self) -> str:
        """How messages name the server: `name=`, else what it calls itself, else where it is."""
        if self.name:
            return repr(self.name)
        where = self._where()
        return f"{self._server_name!r} ({where})" if self._server_name else where

    async def list_tools(self) -> list[Tool]:
        """The server's tools, as agentkit tools (cached until the server says they changed).

        Raises:
            UserError: The server is not open.
            MCPServerError: The server failed, stopped or timed out while listing them.
        """
        session = await self._live_session()
        if self.cache_tools and self._tools is not None:
            return list(self._tools)
        version = self._tools_version
        listed: list[mcp_types.Tool] = []
        cursor: str | None = None
        try:
            with anyio.fail_after(self.timeout):
                for _ in range(_MAX_PAGES):
                    params = None if cursor is None else mcp_types.PaginatedRequestParams(cursor=cursor)
                    page = await session.list_tools(params=params)
                    listed.extend(page.tools)
                    cursor = page.next_cursor
                    if cursor is None:
                        break
        except TimeoutError:
            raise MCPServerError(
                self._redact(f"MCP server {self.label} did not list its tools within "
                             f"{self.timeout:g} s")
            ) from None
        except (MCPError, ValidationError) as error:
            raise MCPServerError(
                self._redact(f"MCP server {self.label} could not list its tools: "
                             f"{_describe_protocol_error(error)}")
            ) from error
        tools = [tool for tool in map(self._tool, listed) if tool is not None]
        if self.cache_tools and version == self._tools_version:
            self._tools = tools
        return list(tools)

    async def __aenter__(self) -> Self:
        # Openings are counted: the first starts the session, the others share it, the last
        # to leave ends it. Concurrent runs of an agent each open the server (none of them
        # sees it open, see is_open), so they share one session and none closes it under
        # another.
        self._users += 1
        try:
            if self._task is None:
                await self._start()
            else:
                await self._wait_until_started()
        except BaseException:
            self._users -= 1
            if self._users == 0:
                await self._close()
            raise
        _OPENED.set((*_OPENED.get(), self._key))
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        opened = list(_OPENED.get())
        if self._key in opened:
            opened.remove(self._key)
            _OPENED.set(tuple(opened))
        self._users -= 1
        if self._users == 0:
            await self._close()

    async def _start(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            raise UserError("agentkit.mcp runs on asyncio (anyio's default backend)") from None
        ready, stop, gone = anyio.Event(), anyio.Event(), anyio.Event()
        self._ready, self._stop, self._gone = ready, stop, gone
        self._failure, self._server_name, self._tools = None, None, None
        # The session lives in a task of its own, outside the opener's cancel scopes. A task
        # group entered here would have to be exited by the opener as its innermost scope,
        # which a shielded cleanup (an agent run's, say) is not; and a transport that fails
        # (a refused or dropped HTTP connection) ends that task, never the run that uses it.
        self._task = loop.create_task(self._serve(ready, stop, gone),
                                      name=f"MCP session with {self._where()}")
        await self._wait_until_started()

    async def _wait_until_started(self) -> None:
        if self._ready is not None:
            await self._ready.wait()  # bounded: the session task gives up after startup_timeout
        if self._session is None:
            failure = self._failure
            raise MCPServerError(self._redact(self._start_failure(failure))) from failure

    # -- the session ------------------------------------------------------------------------

    @abstractmethod
    def _connect(self) -> AbstractAsyncContextManager[Streams]:
        """The transport's (read, write) streams, for the session."""

    @abstractmethod
    def _where(self) -> str:
        """The command or URL, for messages."""

    async def _serve(self, ready: anyio.Event, stop: anyio.Event, gone: anyio.Event) -> None:
        try:
            async with AsyncExitStack() as stack:
                read, write = await stack.enter_async_context(self._connect())
                session = await stack.enter_async_context(
                    ClientSession(read, write, message_handler=self._on_message)
                )
                with anyio.fail_after(self.startup_timeout):
                    result = await session.initialize()
                self._server_name = result.server_info.name or None
                self._session = session
                ready.set()
                await stop.wait()
        except Exception as error:  # whatever the transport or the peer did: reported, not raised
            self._failure = error
            _log.debug("MCP server %s: session ended: %r", self._where(), error)
        finally:
            self._session = None
            gone.set()
            ready.set()

    async def _close(self) -> None:
        task, stop, gone = self._task, self._stop, self._gone
        self._task = None
        if task is None or stop is None or gone is None:
            return
        stop.set()
        # Closing must finish even when the opener is being cancelled, or the server (a
        # process) would outlive it; every wait is bounded.
        with anyio.CancelScope(shield=True):
            with anyio.move_on_after(_CLOSE_GRACE):
                await gone.wait()
            if not gone.is_set():  # a transport stuck in its shutdown: cut it off
                task.cancel()
                with anyio.move_on_after(_CLOSE_GRACE):
                    await gone.wait()

    async def _on_message(self, message: Any) -> None:
        if isinstance(message, mcp_types.ToolListChangedNotification):
            self._tools_version += 1
            self._tools = None
        elif isinstance(message, Exception):
            _log.debug("MCP server %s sent something unreadable: %r", self.label, message)

    async def _live_session(self) -> ClientSession:
        if self._task is not None and self._ready is not None and not self._ready.is_set():
            await self._ready.wait()  # another task is opening it
        if self._task is None:
            raise UserError(
                f"MCP server {self.label} is not open: use `async with server:`, or give it to "
                "an Agent, which opens it for each run"
            )
        if self._session is None:
            raise MCPServerError(self._redact(self._gone_message()))
        return self._session

    def _gone_message(self) -> str:
        cause = f" ({_describe(self._failure)})" if self._failure is not None else ""
        return f"the connection to MCP server {self.label} is closed{cause}"

    def _start_failure(self, failure: BaseException | None) -> str:
        leaves = list(_leaves(failure)) if failure is not None else []
        if any(isinstance(leaf, TimeoutError) for leaf in leaves):
            return (f"MCP server {self.label} did not complete the MCP handshake within "
                    f"{self.startup_timeout:g} s; is it an MCP server?")
        if any(isinstance(leaf, MCPError) and leaf.code == _CONNECTION_CLOSED for leaf in leaves):
            return (f"MCP server {self.label} closed the connection during the handshake "
                    "(it exited, or it is not an MCP server; see its stderr)")
        detail = _describe(failure) if failure is not None else "no reason given"
        return f"cannot start MCP server {self.label}: {detail}"

    def _redact(self, text: str) -> str:
        return _redact(text, self._secrets)

    # -- tools ------------------------------------------------------------------------------

    def _tool(self, listed: mcp_types.Tool) -> Tool | None:
        exposed = _UNSAFE_NAME_CHARACTERS.sub("_", listed.name)
        if self.prefix:
            exposed = f"{self.prefix}_{exposed}"
        description = listed.description or listed.title or ""

        async def call(arguments: dict[str, Any]) -> Any:
            return await self._call(listed.name, exposed, arguments)

        call.__qualname__ = f"{type(self).__name__}.{listed.name}"
        try:
            return Tool.from_schema(exposed, description, listed.input_schema, call,
                                    requires_approval=self.requires_approval)
        except ToolDefinitionError as error:
            # One unusable tool must not take the server's other tools away from every run.
            _log.warning("MCP server %s: tool %r left out: %s", self.label, listed.name, error)
            return None

    async def _call(self, name: str, exposed: str, arguments: dict[str, Any]) -> Any:
        session = self._session
        if session is None:
            message = (self._gone_message() if self._task is not None else
                       f"MCP server {self.label} is not open (the run that opened it ended)")
            raise ToolError(self._redact(message), tool_name=exposed)
        try:
            with anyio.fail_after(self.timeout):
                result = await session.call_tool(name, arguments)
        except TimeoutError:
            raise ToolError(self._redact(
                f"MCP server {self.label} did not answer the call to {name!r} within "
                f"{self.timeout:g} s"), tool_name=exposed) from None
        except MCPError as error:
            if error.code == _CONNECTION_CLOSED:
                message = (f"MCP server {self.label} is gone: its connection closed (the server "
                           f"exited or crashed), so the call to {name!r} got no answer")
            elif error.code == _REQUEST_TIMEOUT:
                message = f"MCP server {self.label} timed out on the call to {name!r}"
            else:
                message = (f"MCP server {self.label} refused the call to {name!r}: "
                           f"{_describe_protocol_error(error)}")
            raise ToolError(self._redact(message), tool_name=exposed) from error
        except (RuntimeError, ValidationError) as error:
            # RuntimeError: the SDK found structured content that breaks the tool's own
            # output schema, or a result that asks for input this client cannot give.
            raise ToolError(self._redact(
                f"MCP server {self.label} answered the call to {name!r} with an unusable "
                f"result: {_first_line(error)}"), tool_name=exposed) from error
        if result.is_error:
            text = _content_text(result.content) or "no details given"
            raise ToolError(self._redact(
                f"the {name!r} tool of MCP server {self.label} failed: {text}"
            ), tool_name=exposed)
        structured = result.structured_content
        if structured is None:
            return _content_text(result.content)
        # The SDK's servers wrap a result that is not an object (a str, a list) as
        # {"result": value}: the model reads the value itself.
        if isinstance(structured, dict) and list(structured) == ["result"]:
            return structured["result"]
        return structured


class MCPServerStdio(_MCPServer):
    """An MCP server run as a subprocess, spoken to over its stdin and stdout.

    The process starts when the server is opened and is stopped when it is closed (its stdin
    is closed, then it is terminated if it lingers). Its stderr goes to this process's.

    Attributes:
        command: The program to run, e.g. `"npx"` or `sys.executable`.
        args: Its arguments.
        env: Variables for the server, over the SDK's safe defaults (`PATH`, `HOME`...): the
            rest of this process's environment is not passed on.
        cwd: The folder it runs in; None for the current one.
    """

    def __init__(
        self,
        command: str,
        args: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        cwd: str | PathLike[str] | None = None,
        *,
        name: str | None = None,
        prefix: str | None = None,
        cache_tools: bool = True,
        requires_approval: ApprovalPolicy = False,
        timeout: float = _DEFAULT_TIMEOUT,
        startup_timeout: float = _DEFAULT_STARTUP_TIMEOUT,
    ) -> None:
        """Describe the server; nothing starts until it is opened.

        Args:
            command: The program to run.
            args: Its arguments.
            env: Extra environment variables for it.
            cwd: Its working folder.
            name: How messages name the server; default: the name it gives itself.
            prefix: Name its tools `prefix_tool` (against clashes with other tools).
            cache_tools: Keep the tool list until the server says it changed.
            requires_approval: True, or `(ctx, call) -> bool`: every call to one of its
                tools waits for a person's decision first, as with `@tool`.
            timeout: Seconds a tool listing or a call may take.
            startup_timeout: Seconds the server may take to start and finish the handshake.

        Raises:
            ConfigurationError: An option is out of range.
        """
        if isinstance(args, str):
            raise ConfigurationError(
                f"args takes a list of arguments, not one string: args={[args]!r}, "
                "or split it yourself"
            )
        self.command = command
        self.args = list(args)
        self.env = dict(env) if env is not None else None
        self.cwd = cwd
        super().__init__(name=name, prefix=prefix, cache_tools=cache_tools,
                         requires_approval=requires_approval, timeout=timeout,
                         startup_timeout=startup_timeout,
                         secrets=[v for v in (self.env or {}).values() if len(v) >= 8])

    def _where(self) -> str:
        shown = " ".join([self.command, *self.args])
        return f"`{shown if len(shown) <= 80 else shown[:77] + '...'}`"

    def _connect(self) -> AbstractAsyncContextManager[Streams]:
        parameters = StdioServerParameters(
            command=self.command, args=self.args, env=self.env,
            cwd=None if self.cwd is None else str(self.cwd),
        )
        return stdio_client(parameters, errlog=_stderr())

    def _start_failure(self, failure: BaseException | None) -> str:
        leaves = list(_leaves(failure)) if failure is not None else []
        if any(isinstance(leaf, FileNotFoundError) for leaf in leaves):
            folder = f", or no folder {str(self.cwd)!r}" if self.cwd is not None else ""
            return (f"cannot start MCP server {self.label}: no program {self.command!r}"
                    f"{folder}; check the command, and that it is on PATH")
        if any(isinstance(leaf, PermissionError) for leaf in leaves):
            return f"cannot start MCP server {self.label}: {self.command!r} is not executable"
        return super()._start_failure(failure)

    def __repr__(self) -> str:
        env = f", env={sorted(self.env)!r}" if self.env else ""
        prefix = f", prefix={self.prefix!r}" if self.prefix else ""
        return f"MCPServerStdio({self.command!r}, {self.args!r}{env}{prefix})"


class MCPServerStreamableHTTP(_MCPServer):
    """An MCP server at a URL, spoken to over the streamable HTTP transport.

    Attributes:
        url: The endpoint, e.g. `"http://127.0.0.1:8000/mcp"`.
        headers: Sent with every request (an `Authorization` header, say); the values of
            secret-looking headers never appear in a repr or an error message.
    """

    def __init__(
        self,
        url: str,
        headers: Mapping[str, str] | None = None,
        *,
        name: str | None = None,
        prefix: str | None = None,
        cache_tools: bool = True,
        requires_approval: ApprovalPolicy = False,
        timeout: float = _DEFAULT_TIMEOUT,
        startup_timeout: float = _DEFAULT_STARTUP_TIMEOUT,
    ) -> None:
        """Describe the server; nothing is sent until it is opened.

        Args:
            url: The MCP endpoint.
            headers: Headers for every request.
            name: How messages name the server; default: the name it gives itself.
            prefix: Name its tools `prefix_tool` (against clashes with other tools).
            cache_tools: Keep the tool list until the server says it changed.
            requires_approval: True, or `(ctx, call) -> bool`: every call to one of its
                tools waits for a person's decision first, as with `@tool`.
            timeout: Seconds a tool listing or a call may take.
            startup_timeout: Seconds the server may take to start and finish the handshake.

        Raises:
            ConfigurationError: The URL is not http(s), or an option is out of range.
        """
        if not url.startswith(("http://", "https://")):
            raise ConfigurationError(f"an MCP server URL starts with http:// or https://: {url!r}")
        self.url = url
        self.headers = dict(headers or {})
        secrets = [value for key, value in self.headers.items() if _SECRET_HEADER.search(key)]
        secrets += [part for value in secrets for part in value.split()[1:]]  # "Bearer <token>"
        secrets += [m.group(2) for m in _URL_PASSWORD.finditer(url) if m.group(2)]
        super().__init__(name=name, prefix=prefix, cache_tools=cache_tools,
                         requires_approval=requires_approval, timeout=timeout,
                         startup_timeout=startup_timeout, secrets=secrets)

    def _where(self) -> str:
        return _URL_PASSWORD.sub(r"\1:[REDACTED]@", self.url)

    @asynccontextmanager
    async def _connect(self) -> AsyncIterator[Streams]:
        # The SDK's own client factory: its timeouts suit an event stream that stays open.
        async with create_mcp_http_client(headers=self.headers) as http, \
                streamable_http_client(self.url, http_client=http) as streams:
            yield streams

    def _start_failure(self, failure: BaseException | None) -> str:
        leaves = list(_leaves(failure)) if failure is not None else []
        if any(_is_connection_error(leaf) for leaf in leaves):
            return (f"cannot connect to MCP server at {self._where()}: "
                    f"{'; '.join(_describe(leaf) for leaf in leaves)}")
        return super()._start_failure(failure)

    def __repr__(self) -> str:
        headers = {key: "[REDACTED]" if _SECRET_HEADER.search(key) else value
                   for key, value in self.headers.items()}
        shown = f", headers={headers!r}" if headers else ""
        prefix = f", prefix={self.prefix!r}" if self.prefix else ""
        return f"MCPServerStreamableHTTP({self._where()!r}{shown}{prefix})"


# -- results ---------------------------------------------------------------------------------


def _content_text(blocks: Sequence[mcp_types.ContentBlock]) -> str:
    """A result's content as the model reads it: text as is, other media described."""
    return "\n".join(_block_text(block) for block in blocks)


def _block_text(block: mcp_types.ContentBlock) -> str:
    if isinstance(block, mcp_types.TextContent):
        return block.text
    if isinstance(block, mcp_types.ImageContent | mcp_types.AudioContent):
        kind = "image" if isinstance(block, mcp_types.ImageContent) else "audio"
        return f"[{kind}: {block.mime_type}, {_decoded_size(block.data)} bytes, not shown]"
    if isinstance(block, mcp_types.EmbeddedResource):
        resource = block.resource
        if isinstance(resource, mcp_types.TextResourceContents):
            return resource.text
        size = _decoded_size(resource.blob)
        return f"[resource {resource.uri}: {resource.mime_type or 'binary'}, {size} bytes, not shown]"
    return f"[resource link: {block.name} <{block.uri}>]"


def _decoded_size(data: str) -> int:
    try:
        return len(base64.b64decode(data, validate=False))
    except (binascii.Error, ValueError):
        return len(data)


# -- errors ----------------------------------------------------------------------------------


def _leaves(error: BaseException) -> Iterator[BaseException]:
    if isinstance(error, BaseExceptionGroup):
        for inner in error.exceptions:
            yield from _leaves(inner)
    else:
        yield error


def _is_connection_error(error: BaseException) -> bool:
    # httpx2's ConnectError and friends are not imported here (they are the SDK's business):
    # recognised by name, and OSError for the socket-level ones.
    return isinstance(error, OSError) or type(error).__name__ in (
        "ConnectError", "ConnectTimeout", "RemoteProtocolError", "ReadError"
    )


def _describe(error: BaseException) -> str:
    leaves = list(_leaves(error))
    return "; ".join(f"{_first_line(leaf) or type(leaf).__name__}"
                     + ("" if isinstance(leaf, MCPError) else f" ({type(leaf).__name__})")
                     for leaf in leaves)


def _describe_protocol_error(error: Exception) -> str:
    if isinstance(error, MCPError):
        return f"{error.message} (MCP error {error.code})"
    return f"a malformed answer ({_first_line(error)})"


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else ""


def _stderr() -> TextIO:
    """Where a server's stderr goes: ours, or the process's own when ours is not a file
    (a test's captured stderr, a notebook), since a child process needs a real descriptor."""
    for stream in (sys.stderr, sys.__stderr__):
        try:
            if stream is not None:
                stream.fileno()
                return stream
        except (AttributeError, OSError, ValueError):
            continue
    return sys.stderr

