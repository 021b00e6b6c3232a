"""A weather MCP server written with the MCP SDK's high-level server (`MCPServer`).

For agentkit's MCP tests: run over stdio (the default) or streamable HTTP (`--http PORT`, on
127.0.0.1). `get_radar` answers with a protocol error. Test hooks: `add_alerts_tool` adds a
tool at run time (and says so with `notifications/tools/list_changed` when asked), and
`wait_for_storm` never returns, so that a test can kill the server in the middle of a call;
`--pid-file` (a line per process) and `--marker` tell the test the process ids and that
the call has begun.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Annotated

import anyio
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS
from pydantic import BaseModel, Field

FORECASTS = {
    "paris": ("Paris", "Rain", 14.0, 80),
    "oslo": ("Oslo", "Snow", -2.0, 60),
}


class Forecast(BaseModel):
    city: str
    summary: str
    high_c: float
    rain_probability: int


def build(marker: Path | None) -> MCPServer:
    app = MCPServer("weather", log_level="WARNING")

    @app.tool()
    def get_forecast(city: str, days: Annotated[int, Field(ge=1, le=7)] = 1) -> Forecast:
        """Tomorrow's weather for a city: summary, high temperature, chance of rain."""
        row = FORECASTS.get(city.strip().lower())
        if row is None:
            raise ToolError(f"no forecast for {city!r}; the cities are Oslo and Paris")
        name, summary, high, rain = row
        return Forecast(city=name, summary=summary, high_c=high, rain_probability=rain)

    @app.tool(structured_output=False)
    def describe_city(city: str) -> str:
        """One sentence about a city's climate."""
        return f"{city.strip().title()} has a temperate climate."

    @app.tool(name="city.list", structured_output=False)
    def city_list() -> str:
        """The cities with forecasts (a dotted tool name, as MCP allows)."""
        return ", ".join(row[0] for row in FORECASTS.values())

    @app.tool()
    def get_radar(city: str) -> str:
        """A radar image of a city (none are available: answers with a protocol error)."""
        raise MCPError(code=INVALID_PARAMS, message=f"no radar images for {city}")

    @app.tool()
    async def add_alerts_tool(notify: bool, ctx: Context) -> str:
        """Test hook: add the get_alerts tool; with notify, tell the client its tools changed."""

        def get_alerts(city: str) -> str:
            """Weather alerts for a city."""
            return f"no alerts for {city}"

        if "get_alerts" not in {t.name for t in await app.list_tools()}:
            app.add_tool(get_alerts)
        if notify:
            await ctx.request_context.session.send_tool_list_changed()
        return "added get_alerts"

    @app.tool()
    async def wait_for_storm(city: str) -> str:
        """Test hook: never returns (the test kills the server meanwhile)."""
        if marker is not None:
            marker.write_text(city, encoding="utf-8")
        await anyio.sleep(3600)
        return "the storm came"

    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--http", type=int, default=None, metavar="PORT")
    parser.add_argument("--pid-file", type=Path, default=None)
    parser.add_argument("--marker", type=Path, default=None)
    args = parser.parse_args()
    if args.pid_file is not None:  # one line per process started
        with args.pid_file.open("a", encoding="utf-8") as pids:
            pids.write(f"{os.getpid()}\n")
    app = build(args.marker)
    if args.http is None:
        app.run()
    else:
        app.run("streamable-http", host="127.0.0.1", port=args.http)


if __name__ == "__main__":
    main()
