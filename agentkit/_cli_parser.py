"""The `agentkit` command line's grammar: commands, options, their checks, one-line errors.

Options go anywhere: before or after a command's target and prompt (`agentkit run weather
"..." --stream`), and the global ones (`--debug`) after the command too. A mistake is one
line, `agentkit: error: ...` with exit code 2, never a usage dump.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Iterable
from typing import Any, NoReturn, TypeVar, overload

from ._cli_durable import add_durable_options
from ._cli_mcp import add_mcp_command
from ._server_limits import add_limit_arguments
from ._version import __version__
from .client._providers import COMETAPI, OPENAI_COMPATIBLE, OPENROUTER, XAI, cloudflare_provider

__all__ = ["PROVIDERS", "CommandLineError", "add_client_options", "build_parser", "port_number", "positive_seconds"]

PROVIDERS: tuple[str, ...] = (
    "auto",
    XAI.name,
    OPENROUTER.name,
    COMETAPI.name,
    cloudflare_provider("account", "gateway").name,
    OPENAI_COMPATIBLE.name,
    "sim",
)
"""`--provider` choices: every route of `agentkit.client._providers`, by its own name, plus
`auto` (xAI with a key, else the simulator) and `sim` (the simulator, always)."""

_N = TypeVar("_N")


class CommandLineError(Exception):
    """A command line that cannot be carried out as written (exit code 2)."""


class _Parser(argparse.ArgumentParser):
    """argparse with its errors raised as one line instead of a usage dump and exit."""

    def error(self, message: str) -> NoReturn:
        if message.startswith("unrecognized arguments"):
            message += "; a prompt of several words goes in quotes"
        raise CommandLineError(f"{message} (see `{self.prog} --help`)")


class _CommandParser(_Parser):
    """A command's parser: options may come before, between or after its positionals.

    Plain argparse takes `run weather --stream "text"` as target `weather`, an empty prompt,
    and a stray `"text"`; intermixed parsing reads the options first, then the positionals.
    """

    _intermixing = False

    @overload
    def parse_known_args(
        self, args: Iterable[str] | None = None, namespace: None = None
    ) -> tuple[argparse.Namespace, list[str]]: ...
    @overload
    def parse_known_args(self, args: Iterable[str] | None, namespace: _N) -> tuple[_N, list[str]]: ...
    @overload
    def parse_known_args(self, *, namespace: _N) -> tuple[_N, list[str]]: ...

    def parse_known_args(
        self, args: Iterable[str] | None = None, namespace: Any = None
    ) -> tuple[Any, list[str]]:
        # Up to Python 3.12 the intermixed parse calls back into parse_known_args: the
        # inner calls must be the plain parse.
        if self._intermixing:
            return super().parse_known_args(args, namespace)
        self._intermixing = True
        try:
            return super().parse_known_intermixed_args(args, namespace)
        finally:
            self._intermixing = False


def port_number(text: str) -> int:
    """`--port`: a TCP port, 0 to 65535."""
    try:
        value = int(text, 10)
    except ValueError:
        value = -1
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(
            f"invalid port {text!r}: give a number from 0 to 65535 (0 picks a free port)")
    return value


def positive_seconds(text: str) -> float:
    """`--timeout`: a positive, finite number of seconds."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(
            f"invalid duration {text!r}: give a positive number of seconds, e.g. 30")
    return value


def _command(commands: Any, name: str, help_text: str) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(name, help=help_text,
                                                          description=help_text)
    # Also after the command: `agentkit run weather --debug`. SUPPRESS keeps the top-level
    # value when the command's parser does not see the flag.
    parser.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show tracebacks")
    return parser


def _target_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--factory", action="store_true",
                        help="module:attr names a function that returns the Agent; it is "
                        "called with no arguments")


def add_client_options(parser: argparse.ArgumentParser) -> None:
    """Where a command's requests go, and how long each may take."""
    parser.add_argument("--base-url", default=None, metavar="URL",
                        help="an OpenAI-compatible server, e.g. http://127.0.0.1:8000/v1 "
                        "(`agentkit serve`); XAI_API_KEY, if set, is sent to it")
    parser.add_argument("--provider", choices=PROVIDERS, default="auto",
                        help="where to send requests (default auto: xAI when XAI_API_KEY is "
                        "set, else the simulated model); cloudflare also needs "
                        "--cloudflare-account and --cloudflare-gateway; openai-compatible "
                        "needs --base-url")
    parser.add_argument("--cloudflare-account", default=None, metavar="ID",
                        help="Cloudflare account id for --provider cloudflare (default: "
                        "$CLOUDFLARE_ACCOUNT_ID)")
    parser.add_argument("--cloudflare-gateway", default=None, metavar="ID",
                        help="AI Gateway id for --provider cloudflare (default: "
                        "$CLOUDFLARE_GATEWAY_ID); $CF_AIG_TOKEN authenticates to it")
    parser.add_argument("--timeout", type=positive_seconds, default=None, metavar="SECONDS",
                        help="most seconds to wait for each response (default 600)")
    parser.add_argument("--http", choices=("httpx2", "aiohttp"), default="httpx2",
                        help="the HTTP library (aiohttp needs agentkit[aiohttp])")


def _model_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", default=None, help="the model (default: the agent's)")
    add_client_options(parser)


def build_parser() -> argparse.ArgumentParser:
    """The whole grammar of `agentkit`."""
    parser = _Parser(
        prog="agentkit",
        description="Tool-using agents on the xAI Grok API. Offline on a simulated Grok "
        "model unless XAI_API_KEY is set. Options may come before or after a command's "
        "arguments.",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    parser.add_argument("--version", action="version", version=f"agentkit {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                     parser_class=_CommandParser)

    run = _command(commands, "run", "run an example agent (or module:attr) on a prompt")
    run.add_argument("target", help="an example name (see `agentkit examples`) or "
                     "module:attr, e.g. mymod:agent for the Agent `agent` in ./mymod.py")
    run.add_argument("prompt", nargs="?",
                     help="the prompt (default: the example's own; - reads it from stdin)")
    _model_options(run)
    run.add_argument("--stream", action="store_true",
                     help="show the answer as it arrives (text, or the structured output "
                     "taking shape on a terminal)")
    run.add_argument("--json", action="store_true",
                     help="print the whole run result (output, messages, usage) as JSON")
    _target_options(run)
    run.add_argument("--approve", action="store_true",
                     help="when a tool call needs approval or a result, ask at the terminal")
    run.add_argument("--trace", action="store_true",
                     help="print the run's OpenTelemetry span tree on stderr "
                     "(needs agentkit[otel])")

    chat = _command(commands, "chat", "talk to an agent, keeping the history (/help inside)")
    chat.add_argument("target", nargs="?", default=None,
                      help="an example name or module:attr (default: a plain chat agent)")
    _target_options(chat)
    chat.add_argument("--session", metavar="NAME", default=None,
                      help="keep the conversation across restarts, in $AGENTKIT_HOME/sessions.db "
                      "(default home: ~/.agentkit)")
    _model_options(chat)

    batch = _command(commands, "batch",
                     "run an agent on every prompt of a JSON Lines file, resumably")
    batch.add_argument("prompts", help='a JSON Lines file: per line a prompt (a JSON string) or '
                       '{"prompt": ..., "id": ..., "deps": ...}; the id defaults to the line number')
    batch.add_argument("--agent", required=True, metavar="TARGET",
                       help="an example name (see `agentkit examples`) or module:attr")
    batch.add_argument("--out", required=True, metavar="FILE",
                       help="the results, one JSON object per line, appended as runs finish; "
                       "read first, so that a rerun skips the ids already done (for an id "
                       "recorded twice, the last record wins)")
    batch.add_argument("--concurrency", type=int, default=8, metavar="N",
                       help="most runs at a time (default 8)")
    _target_options(batch)
    batch.add_argument("--durable", action="store_true",
                       help="each line a durable run on DBOS (pip install 'agentkit[dbos]'): "
                       "crash-proof, and shared with `agentkit worker` processes on the same "
                       "--database")
    batch.add_argument("--batch-id", default=None, metavar="ID",
                       help="with --durable: names the batch's runs (default: from --out, so "
                       "a rerun attaches to the runs already made)")
    add_durable_options(batch)
    _model_options(batch)

    worker = _command(commands, "worker",
                      "work on durable batches (agentkit batch --durable) until stopped")
    worker.add_argument("--agent", required=True, metavar="TARGET",
                        help="the same agent as the batch's: an example name or module:attr")
    _target_options(worker)
    worker.add_argument("--concurrency", type=int, default=8, metavar="N",
                        help="most runs at a time in this process (default 8)")
    add_durable_options(worker)
    _model_options(worker)

    serve = _command(commands, "serve", "serve the simulated Grok API on 127.0.0.1")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=port_number, default=8000,
                       help="0 picks a free port (default 8000)")
    serve.add_argument("--api-key", default=None, help="require this Bearer key")
    serve.add_argument("--allow-remote", action="store_true", help="bind beyond loopback")
    add_limit_arguments(serve)

    _command(commands, "examples", "list the bundled example agents")

    tools = _command(commands, "tools",
                     "list the bundled tools and tool factories, with their parameters")
    tools.add_argument("--json", action="store_true", help="print the tool definitions as JSON")
    add_mcp_command(commands)

    models = _command(commands, "models",
                      "list the server's language models: aliases, context window, prices")
    models.add_argument("--json", action="store_true",
                        help="print the models as JSON (prices as exact decimal strings)")
    add_client_options(models)

    tokenize = _command(commands, "tokenize", "split text into the model's tokens")
    tokenize.add_argument("text")
    tokenize.add_argument("--model", default="grok-4.3")
    add_client_options(tokenize)
    return parser
