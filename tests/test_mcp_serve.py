"""`agentkit mcp serve` (`agentkit._cli_mcp`, `agentkit.mcp_server`): bundled tools and a
user's Toolset served over stdio, driven by the MCP SDK's own client (`ClientSession` over
`stdio_client`), as Claude Desktop or Cursor would; the server built in-process; the command
line's choices and errors; and the example that puts an agent on such a server."""

from __future__ import annotations

import argparse
import io
import json
import sys
import textwrap
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import pytest

from tests.mcp_servers import missing_mcp_reason

pytest.importorskip("mcp", reason=missing_mcp_reason())

from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp import types as mcp_types
from mcp.client.client import Client
from mcp.shared.exceptions import MCPError

from agentkit import RunContext, tool
from agentkit._cli_mcp import add_mcp_command, parse_serve_arguments, run_mcp
from agentkit.errors import ToolDefinitionError
from agentkit.mcp_server import tool_server
from agentkit.tools import calculate, make_clock_tools

pytestmark = pytest.mark.anyio

MY_TOOLS = '''
from agentkit import RunContext, Toolset, ToolRetry, tool


@tool
def greet(name: str) -> str:
    """Greet someone.

    Args:
        name: Who.
    """
    return f"Hello, {name}!"


@tool
def pick(ctx: RunContext[None], option: int) -> dict:
    """Pick an option.

    Args:
        option: Which one.
    """
    return {"picked": option, "tool": ctx.tool_name}


@tool
def fussy(word: str) -> str:
    """Only polite words.

    Args:
        word: A word.
    """
    raise ToolRetry(f"{word!r} is not polite: say 'please'")


toolset = Toolset([greet, pick, fussy], prefix="my")
broken = 42
'''


@asynccontextmanager
async def served(args: Sequence[str], cwd: Path) -> AsyncIterator[ClientSession]:
    """`python -m agentkit.mcp_server ARGS` in `cwd`, through the SDK's client, initialized."""
    parameters = StdioServerParameters(
        command=sys.executable, args=["-P", "-m", "agentkit.mcp_server", *args], cwd=str(cwd)
    )
    async with stdio_client(parameters) as (read, write), ClientSession(read, write) as session:
        with anyio.fail_after(30):
            await session.initialize()
        yield session


def text_of(result: mcp_types.CallToolResult) -> str:
    [block] = result.content
    assert isinstance(block, mcp_types.TextContent)
    return block.text


# -- over stdio, through the SDK's client ------------------------------------------------------------


async def test_bundled_tools_are_served_with_their_schemas_and_answer_calls(tmp_path: Path) -> None:
    with anyio.fail_after(60):
        async with served(["--tools", "calculator,clock"], tmp_path) as session:
            assert session.server_info is not None and session.server_info.name == "agentkit"
            listed = {t.name: t for t in (await session.list_tools()).tools}
            expected = [calculate, *make_clock_tools()]
            assert list(listed) == [t.name for t in expected]
            for local in expected:
                assert listed[local.name].input_schema == local.parameters
                assert listed[local.name].description == local.description

            result = await session.call_tool("calculate", {"expression": "(3 + 4) * 12"})
            assert not result.is_error and text_of(result) == "84"
            assert result.structured_content is None  # a number is no JSON object

            result = await session.call_tool("date_diff", {"start": "2026-01-01",
                                                           "end": "2026-03-01"})
            assert result.structured_content == json.loads(text_of(result))
            assert result.structured_content["days"] == 59

            result = await session.call_tool("calculate", {"expression": "1 / 0"})
            assert result.is_error and "division by zero" in text_of(result)
            result = await session.call_tool("calculate", {"expr": "1"})
            assert result.is_error
            assert text_of(result).startswith("Invalid arguments for tool 'calculate'")
            assert "- expression: Field required" in text_of(result)

            with pytest.raises(MCPError) as caught:
                await session.call_tool("weather", {})
            assert caught.value.code == mcp_types.INVALID_PARAMS
            assert "no tool named 'weather'; the tools are: calculate, now" in caught.value.message


async def test_a_toolset_of_yours_is_served_from_module_attr(tmp_path: Path) -> None:
    (tmp_path / "mytools.py").write_text(MY_TOOLS, encoding="utf-8")
    with anyio.fail_after(60):
        async with served(["mytools:toolset", "--tools", "calculate"], tmp_path) as session:
            names = [t.name for t in (await session.list_tools()).tools]
            assert names == ["my_greet", "my_pick", "my_fussy", "calculate"]
            result = await session.call_tool("my_greet", {"name": "Ada"})
            assert text_of(result) == "Hello, Ada!"
            # A tool taking a RunContext gets one; a dict result is structured content too.
            result = await session.call_tool("my_pick", {"option": "2"})
            assert result.structured_content == {"picked": 2, "tool": "my_pick"}
            result = await session.call_tool("my_fussy", {"word": "now"})
            assert result.is_error and text_of(result) == "'now' is not polite: say 'please'"


# -- the server in-process -------------------------------------------------------------------------


async def test_the_server_gives_tools_their_deps_and_refuses_what_it_cannot_serve() -> None:
    @tool
    def whoami(ctx: RunContext[dict[str, str]]) -> str:
        """Who the deployment serves."""
        return ctx.deps["user"]

    server = tool_server([whoami], name="mine", deps={"user": "ada"})
    with anyio.fail_after(30):
        async with Client(server, mode="legacy") as connected:
            assert connected.server_info is not None and connected.server_info.name == "mine"
            result = await connected.call_tool("whoami", {})
    assert text_of(result) == "ada"

    @tool(requires_approval=True)
    def refund(order: int) -> str:
        """Refund an order.

        Args:
            order: The order.
        """
        return f"refunded {order}"

    @tool(deferred=True)
    def ask_a_person(question: str) -> str:
        """Ask someone.

        Args:
            question: The question.
        """
        return question

    with pytest.raises(ToolDefinitionError, match="'refund' needs a person's approval"):
        tool_server([refund])
    tool_server([refund], client_approves=True)
    with pytest.raises(ToolDefinitionError, match="'ask_a_person' is deferred"):
        tool_server([ask_a_person], client_approves=True)
    with pytest.raises(ToolDefinitionError, match="two tools are named 'calculate'"):
        tool_server([calculate, tool(calculate.function)])


# -- the command line ------------------------------------------------------------------------------


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run_mcp(parse_serve_arguments(argv), out, err)
    return code, out.getvalue(), err.getvalue()


def test_list_shows_what_would_be_served(tmp_path: Path) -> None:
    code, out, err = run(["--list"])
    assert code == 0 and err == ""
    assert [line.split("\t")[0] for line in out.splitlines()] == [
        "calculate", "now", "date_diff", "date_add", "convert_units", "fetch_url"]
    (tmp_path / "notes.txt").write_text("hello", encoding="utf-8")
    code, out, _ = run(["--tools", "now,files", "--files-root", str(tmp_path), "--list"])
    assert code == 0
    assert [line.split("\t")[0] for line in out.splitlines()] == [
        "now", "list_files", "read_file", "search_files"]
    code, out, _ = run(["--tools", "read_file", "--files-root", str(tmp_path), "--files-write",
                        "--list"])
    assert code == 0 and out.startswith("read_file\t")


@pytest.mark.parametrize(("argv", "message"), [
    (["--tools", "calculator,nope"], "no bundled tool or group named 'nope'; the groups are "
     "calculator, clock, units, fetch, files, sqlite"),
    (["--tools", ","], "--tools names no tools"),
    (["--tools", "files"], "the files tools need a folder: --files-root DIR"),
    (["--tools", "sqlite", "--sqlite-db", "/no/such.db"], "--sqlite-db '/no/such.db' is not a file"),
    (["nomodule_for_mcp_tests:toolset"], "no module named 'nomodule_for_mcp_tests'"),
    (["mytools:missing"], "mytools:missing: mytools has no attribute 'missing'"),
    (["mytools:broken"], "mytools:broken is an int, not a Toolset"),
    (["not a target"], "'not a target' is not MODULE:ATTR"),
    (["mytools:toolset", "--tools", "calculator", "--name", "x", "--client-approves"], None),
])
def test_what_cannot_be_served_is_a_one_line_usage_error(
    argv: list[str], message: str | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    (tmp_path / "mytools.py").write_text(MY_TOOLS, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.delitem(sys.modules, "mytools", raising=False)
    code, out, err = run([*argv, "--list"] if message is None else argv)
    if message is None:  # the last one is fine: it lists
        assert code == 0 and "my_greet" in out
        return
    assert code == 2 and out == ""
    assert err.startswith(f"agentkit: error: {message}") and err.count("\n") == 1, err


def test_a_module_that_fails_to_import_exits_1_and_a_tool_needing_approval_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    (tmp_path / "crashing_tools.py").write_text("raise RuntimeError('no database')\n",
                                                encoding="utf-8")
    (tmp_path / "careful_tools.py").write_text(textwrap.dedent('''
        from agentkit import tool

        @tool(requires_approval=True)
        def delete_everything() -> str:
            """Delete everything."""
            return "gone"
        '''), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    code, _, err = run(["crashing_tools:toolset"])
    assert code == 1
    assert err == ("agentkit: error: importing crashing_tools failed: RuntimeError: "
                   "no database\n")
    code, _, err = run(["careful_tools:delete_everything"])  # refused before serving anything
    assert code == 2 and "'delete_everything' needs a person's approval" in err
    assert "--client-approves" in err


def test_the_mcp_command_fits_a_parser_with_options_anywhere() -> None:
    from agentkit._cli_parser import _CommandParser  # the parser class of agentkit's commands

    for parser_class in (argparse.ArgumentParser, _CommandParser):
        parser = argparse.ArgumentParser(prog="agentkit")
        commands = parser.add_subparsers(dest="command", required=True,
                                         parser_class=parser_class)
        add_mcp_command(commands)
        for argv in (["mcp", "serve", "mytools:toolset", "--tools", "calculator", "--list"],
                     ["mcp", "--tools", "calculator", "serve", "mytools:toolset", "--list"]):
            args = parser.parse_args(argv)
            assert (args.command, args.mcp_action, args.target, args.tools, args.list) == (
                "mcp", "serve", "mytools:toolset", "calculator", True)
        args = parser.parse_args(["mcp", "serve"])
        assert args.target is None and args.tools is None and not args.list


# -- the example -----------------------------------------------------------------------------------


async def test_the_example_agent_uses_the_served_calculator(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from agentkit.examples import mcp_tools

    with anyio.fail_after(60):
        await mcp_tools.main()
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "(3 + 4) * 12 = 84."
    assert out.splitlines()[-1].startswith("[usage: 2 requests, 1 tool call, ")

