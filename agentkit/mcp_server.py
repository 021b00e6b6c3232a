"""agentkit tools as an MCP server, for Claude Desktop, Cursor and every other MCP client.

```python
from agentkit.mcp_server import serve_tools
from agentkit.tools import bundled_tools

anyio.run(serve_tools, bundled_tools())   # speaks MCP on stdin/stdout until stdin closes
```

`tool_server(tools)` builds the server (the MCP SDK's low-level `Server`) for any transport;
`serve_tools(tools)` runs one over stdio (`serve_stdio(server)` runs any). Each tool is listed with its JSON Schema; a call is
validated and run as the agent loop runs it (`Tool.invoke`: sync tools in a thread, timeouts
enforced), and answers with its text and, for a result that is a JSON object, the object as
`structuredContent`. A tool's failure (`ToolRetry`, bad arguments, an exception) is an error
result the client's model reads; an unknown tool is a protocol error.

`python -m agentkit.mcp_server [--tools calculator,clock] [module:attr]` is
`agentkit mcp serve`.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any

import pydantic_core

try:
    from mcp import types as mcp_types
    from mcp.server import Server, ServerRequestContext
    from mcp.server.stdio import stdio_server
    from mcp.shared.exceptions import MCPError
except ImportError as missing:  # pragma: no cover - depends on the environment
    raise ImportError(
        f"agentkit.mcp_server needs the MCP SDK, which is not installed ({missing}): "
        "pip install 'agentkit[mcp]'"
    ) from missing

from ._version import __version__
from .context import RunContext
from .errors import ModelRetry, ToolDefinitionError, ToolError
from .tool import Tool, Toolset

__all__ = ["serve_stdio", "serve_tools", "tool_server"]


def tool_server(
    tools: Iterable[Tool | Toolset] | Toolset,
    *,
    name: str = "agentkit",
    version: str = __version__,
    instructions: str | None = None,
    deps: Any = None,
    client_approves: bool = False,
) -> Server[Any]:
    """An MCP server offering `tools`, to run over any transport the MCP SDK has.

    Args:
        tools: Tools and toolsets (their names must be unique).
        name: The name the server gives itself in the handshake.
        version: The version it gives.
        instructions: Guidance for the client's model, sent in the handshake.
        deps: What a tool that takes a `RunContext` finds in `ctx.deps`.
        client_approves: Serve tools that need approval (`requires_approval`), leaving the
            asking to the client: the server itself runs every call it gets.

    Returns:
        The SDK's low-level `Server`: `await server.run(read, write,
        server.create_initialization_options())`, or `server.streamable_http_app()`.

    Raises:
        ToolDefinitionError: Two tools share a name, a tool is deferred, or one needs
            approval and `client_approves` is false.
    """
    toolset = tools if isinstance(tools, Toolset) else Toolset(tools)
    for tool in toolset:
        if tool.deferred:
            raise ToolDefinitionError(
                f"tool {tool.name!r} is deferred: its results come from the caller, so a "
                "server has nothing to run for it"
            )
        if tool.requires_approval is not False and not client_approves:
            raise ToolDefinitionError(
                f"tool {tool.name!r} needs a person's approval before each call, which a "
                "server cannot ask for; serve it only to MCP clients that ask their user "
                "before every call, with client_approves=True (--client-approves)"
            )
    listing = [
        mcp_types.Tool(name=tool.name, description=tool.description or None,
                       input_schema=tool.parameters)
        for tool in toolset
    ]

    async def list_tools(
        ctx: ServerRequestContext[Any], params: mcp_types.PaginatedRequestParams | None
    ) -> mcp_types.ListToolsResult:
        return mcp_types.ListToolsResult(tools=[entry.model_copy(deep=True) for entry in listing])

    async def call_tool(
        ctx: ServerRequestContext[Any], params: mcp_types.CallToolRequestParams
    ) -> mcp_types.CallToolResult:
        tool = toolset.get(params.name)
        if tool is None:
            raise MCPError(
                code=mcp_types.INVALID_PARAMS,
                message=f"no tool named {params.name!r}; the tools are: {', '.join(toolset.names)}",
            )
        run_context: RunContext[Any] = RunContext(
            deps=deps, model="mcp", tool_name=tool.name,
            tool_call_id=None if ctx.request_id is None else str(ctx.request_id),
        )
        try:
            value = await tool.invoke(params.arguments or {}, run_context)
        except ModelRetry as retry:  # ToolRetry too: the words are for the client's model
            return _error(retry.message)
        except ToolError as error:  # bad arguments, a timeout
            return _error(error.message)
        except Exception as error:
            return _error(f"the tool raised {type(error).__name__}: {error}")
        try:
            text = tool.serialize(value)
            structured = pydantic_core.to_jsonable_python(value, fallback=str)
        except Exception as error:  # a result that cannot become text is a failure
            return _error(f"the tool's result could not be turned into text ({type(error).__name__})")
        return mcp_types.CallToolResult(
            content=[mcp_types.TextContent(text=text)],
            structured_content=structured if isinstance(structured, dict) else None,
        )

    def input_schema(tool_name: str) -> dict[str, Any] | None:
        found = toolset.get(tool_name)
        return None if found is None else found.parameters

    return Server(
        name, version=version, instructions=instructions,
        on_list_tools=list_tools, on_call_tool=call_tool, get_tool_input_schema=input_schema,
    )


async def serve_tools(
    tools: Iterable[Tool | Toolset] | Toolset,
    *,
    name: str = "agentkit",
    instructions: str | None = None,
    deps: Any = None,
    client_approves: bool = False,
) -> None:
    """Serve `tools` over MCP on this process's stdin and stdout, until stdin closes.

    While it serves, anything else printed to stdout goes to stderr, so that it cannot break
    the protocol. Arguments as for `tool_server`.
    """
    await serve_stdio(tool_server(tools, name=name, instructions=instructions, deps=deps,
                                  client_approves=client_approves))


async def serve_stdio(server: Server[Any]) -> None:
    """Run an MCP server (`tool_server`'s, or any low-level `Server`) on stdin and stdout,
    until stdin closes."""
    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())


def _error(text: str) -> mcp_types.CallToolResult:
    return mcp_types.CallToolResult(content=[mcp_types.TextContent(text=text)], is_error=True)


def main(argv: list[str] | None = None) -> int:
    """`python -m agentkit.mcp_server ...`: `agentkit mcp serve ...`."""
    from ._cli_mcp import parse_serve_arguments, run_mcp

    return run_mcp(parse_serve_arguments(sys.argv[1:] if argv is None else argv),
                   sys.stdout, sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
