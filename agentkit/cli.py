"""The `agentkit` command: run, chat, batch, worker, serve, examples, tools, models, tokenize.

`main(argv) -> int` does the work so tests can call it in-process. Exit codes: 0 success,
1 the run failed (or paused with nobody to decide), 2 a usage error. Failures print one line
(`agentkit: error: ...`); `--debug` adds the traceback.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import re
import sys
import traceback
from collections.abc import Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import asdict
from functools import partial
from pathlib import Path
from typing import Any, TextIO

import anyio
import pydantic_core

from ._cli_batch import (
    BatchFileError,
    columns,
    finished_records,
    is_tty,
    read_prompts,
    result_record,
    with_ticker,
)
from ._cli_durable import add_durable_options
from ._cli_prompts import ReadLine, decide, read_answer, report_paused
from ._progress import BatchProgress
from ._result import RunResult
from ._server_limits import add_limit_arguments, limits_from_arguments
from .agent import Agent
from .batch import BatchResult, run_batch
from .client import SIMULATED_NOTICE, GrokClient
from .errors import (
    AgentKitError,
    AgentRunError,
    APIError,
    ConfigurationError,
    SessionError,
    UserError,
)
from .events import TextDelta, ToolCallFinished, ToolCallStarted
from .sessions import SQLiteSession
from .state import RunState
from .usage import RunUsage

__all__ = ["main", "main_entry"]

class _UsageError(Exception):
    """A command line that cannot be carried out as written (exit code 2)."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="agentkit",
        description="Tool-using agents on the xAI Grok API. Offline on a simulated Grok "
        "model unless XAI_API_KEY is set.",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="run an example agent (or module:attr) on a prompt")
    run.add_argument("target", help="an example name (see `agentkit examples`) or module:attr")
    run.add_argument("prompt", nargs="?", help="the prompt (default: the example's own)")
    _model_options(run)
    run.add_argument("--stream", action="store_true", help="stream text as it arrives")
    run.add_argument("--json", action="store_true", help="print the run result as JSON")
    run.add_argument("--factory", action="store_true",
                     help="module:attr names a function that returns the Agent")
    run.add_argument("--approve", action="store_true",
                     help="when a tool call needs approval or a result, ask at the terminal")

    chat = commands.add_parser("chat", help="talk to an agent, keeping the history")
    chat.add_argument("target", nargs="?", default=None,
                      help="an example name or module:attr (default: a plain chat agent)")
    chat.add_argument("--factory", action="store_true",
                      help="module:attr names a function that returns the Agent")
    chat.add_argument("--session", metavar="NAME", default=None,
                      help="keep the conversation across restarts, in $AGENTKIT_HOME/sessions.db "
                      "(default home: ~/.agentkit)")
    _model_options(chat)

    batch = commands.add_parser(
        "batch", help="run an agent on every prompt of a JSON Lines file, resumably")
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
    batch.add_argument("--factory", action="store_true",
                       help="module:attr names a function that returns the Agent")
    batch.add_argument("--durable", action="store_true",
                       help="each line a durable run on DBOS (pip install 'agentkit[dbos]'): "
                       "crash-proof, and shared with `agentkit worker` processes on the same "
                       "--database")
    batch.add_argument("--batch-id", default=None, metavar="ID",
                       help="with --durable: names the batch's runs (default: from --out, so "
                       "a rerun attaches to the runs already made)")
    add_durable_options(batch)
    _model_options(batch)

    worker = commands.add_parser(
        "worker", help="work on durable batches (agentkit batch --durable) until stopped")
    worker.add_argument("--agent", required=True, metavar="TARGET",
                        help="the same agent as the batch's: an example name or module:attr")
    worker.add_argument("--factory", action="store_true",
                        help="module:attr names a function that returns the Agent")
    worker.add_argument("--concurrency", type=int, default=8, metavar="N",
                        help="most runs at a time in this process (default 8)")
    add_durable_options(worker)
    _model_options(worker)

    serve = commands.add_parser("serve", help="serve the simulated Grok API on 127.0.0.1")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    serve.add_argument("--api-key", default=None, help="require this Bearer key")
    serve.add_argument("--allow-remote", action="store_true", help="bind beyond loopback")
    add_limit_arguments(serve)

    commands.add_parser("examples", help="list the bundled example agents")

    tools = commands.add_parser("tools", help="list the bundled tools and their schemas")
    tools.add_argument("--json", action="store_true", help="print the tool definitions as JSON")

    models = commands.add_parser("models", help="list the models the server offers")
    _client_options(models)

    tokenize = commands.add_parser("tokenize", help="split text into the model's tokens")
    tokenize.add_argument("text")
    tokenize.add_argument("--model", default="grok-4.3")
    _client_options(tokenize)
    return parser


def _client_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--base-url", default=None,
                        help="an OpenAI-compatible server (e.g. http://127.0.0.1:8000/v1)")
    parser.add_argument("--provider", choices=("auto", "xai", "openrouter", "cometapi", "sim"),
                        default="auto", help="where to send requests (default: xAI when "
                        "XAI_API_KEY is set, else the simulated model)")


def _model_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", default=None, help="the model (default: the agent's)")
    _client_options(parser)


def _client(args: argparse.Namespace, err: TextIO) -> GrokClient:
    """The client the command line asked for: a server by URL, a provider, or the sim."""
    if args.base_url:
        return GrokClient.openai_compatible(args.base_url, os.environ.get("XAI_API_KEY"))
    provider = args.provider
    if provider == "auto":
        return GrokClient.from_environment(notice=err)
    if provider == "xai":
        return GrokClient()
    if provider == "openrouter":
        return GrokClient.openrouter()
    if provider == "cometapi":
        return GrokClient.cometapi()
    print(SIMULATED_NOTICE, file=err)
    return GrokClient.simulated()


def _example_names() -> list[str]:
    # Bundled beside the package in a checkout and inside it in the wheel: found at run time.
    examples = importlib.import_module("agentkit.examples")
    return list(examples.EXAMPLES)


AgentFactory = Callable[[GrokClient, "str | None"], Agent[Any, Any]]


def _resolve(target: str, *, factory: bool = False) -> tuple[AgentFactory, str | None]:
    """What `target` names: a way to build the agent on a client, and a default prompt.

    Resolved before any client exists, so that a usage error is reported as one.
    """
    if ":" in target:
        module_name, _, attr = target.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError as error:
            raise _UsageError(f"cannot import {module_name!r}: {error}") from None
        try:
            found = getattr(module, attr)
        except AttributeError:
            raise _UsageError(f"{module_name!r} has no attribute {attr!r}") from None
        if factory:
            if not callable(found):
                raise _UsageError(f"{target} is not callable, so --factory cannot call it")
            found = found()
        if not isinstance(found, Agent):
            hint = "" if factory else " (pass --factory if it is a function that returns one)"
            raise _UsageError(f"{target} is not an Agent{hint}")
        agent: Agent[Any, Any] = found
        return (lambda client, model: agent.replace(model=model, client=client)), None
    if target not in _example_names():
        raise _UsageError(
            f"no example named {target!r}; choose one of: {', '.join(_example_names())}, "
            "or give module:attr"
        )
    module = importlib.import_module(f"agentkit.examples.{target}")

    def build(client: GrokClient, model: str | None) -> Agent[Any, Any]:
        built: Agent[Any, Any] = module.build_agent(client=client, **({"model": model} if model else {}))
        return built

    return build, str(module.DEFAULT_PROMPT)


async def _run(args: argparse.Namespace, read: ReadLine, out: TextIO, err: TextIO) -> int:
    build, default_prompt = _resolve(args.target, factory=args.factory)
    prompt = args.prompt or default_prompt
    if not prompt:
        raise _UsageError(f"{args.target} has no default prompt: give one")
    async with _client(args, err) as client:
        agent = build(client, args.model)
        result = await _stream(agent, args, out, err, prompt=prompt)
        while result.paused:
            if not args.approve:
                report_paused(result.interruptions, err)
                return 1
            state = result.state
            await decide(state, read, err)
            result = await _stream(agent, args, out, err, state=state)
        if args.json:
            whole = {"output": result.output, "messages": result.messages,
                     "usage": asdict(result.usage)}
            print(pydantic_core.to_json(whole, indent=2).decode(), file=out)
            return 0
        output = result.output
        if args.stream and isinstance(output, str):
            out.write("\n")
        else:
            text = output if isinstance(output, str) else _to_json(output)
            print(text, file=out)
        usage = result.usage
        cost = f", ${usage.cost_usd:.6f}" if usage.cost_usd is not None else ""
        print(f"[{usage.requests} requests, {usage.tool_calls} tool calls, "
              f"{usage.prompt_tokens} prompt + {usage.completion_tokens} completion + "
              f"{usage.reasoning_tokens} reasoning tokens{cost}]", file=err)
        return 0


async def _stream(agent: Agent[Any, Any], args: argparse.Namespace, out: TextIO, err: TextIO,
                  *, prompt: str | None = None, state: RunState | None = None) -> RunResult[Any]:
    """Run (or resume) once, printing tool calls and streamed text; finished or paused."""
    async with agent.run_stream(prompt, state=state) as stream:
        async for event in stream:
            if isinstance(event, ToolCallStarted) and not args.json:
                print(f"-> {event.name}({event.arguments})", file=err)
            elif isinstance(event, ToolCallFinished) and not args.json:
                mark = "x" if event.error else "<-"
                print(f"{mark} {event.name}: {_short(event.error or event.result)}", file=err)
            elif isinstance(event, TextDelta) and args.stream and not args.json:
                out.write(event.text)
                out.flush()
        return stream.result


async def _chat(args: argparse.Namespace, read: ReadLine, answer: ReadLine, out: TextIO,
                err: TextIO) -> int:
    build = _resolve(args.target, factory=args.factory)[0] if args.target else None
    async with AsyncExitStack() as stack:
        session: SQLiteSession | None = None
        if args.session is not None:
            # Opened before anything else, so that a bad file fails before the chat starts.
            session = await stack.enter_async_context(SQLiteSession(_sessions_file(), args.session))
            if count := len(await session.get_items()):
                print(f"agentkit chat: session {args.session}, {count} messages so far", file=err)
        client = await stack.enter_async_context(_client(args, err))
        if build is not None:
            agent = build(client, args.model)
        else:
            agent = Agent(args.model or "grok-4.3", client=client,
                          instructions="You are a helpful assistant.")
        history: list[dict[str, Any]] = []
        print("agentkit chat: type a message; an empty line or Ctrl-D ends.", file=err)
        while True:
            line = await anyio.to_thread.run_sync(read)
            if line is None or not line.strip() or line.strip() in ("exit", "quit"):
                break
            # A session holds the history itself; without one it is kept here.
            result = await agent.run(line.strip(), session=session,
                                     message_history=None if session else history)
            while result.paused:  # a chat is interactive: always ask
                state = result.state
                await decide(state, answer, err)
                result = await agent.run(state=state, session=session)
            history = result.messages
            output = result.output
            print(output if isinstance(output, str) else _to_json(output), file=out)
    return 0


def _sessions_file() -> Path:
    """`sessions.db` in `$AGENTKIT_HOME` (default `~/.agentkit`), the folder made if missing."""
    home = Path(os.environ.get("AGENTKIT_HOME") or "~/.agentkit").expanduser()
    try:
        home.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise SessionError(f"cannot create the folder {str(home)!r} for sessions.db: "
                           f"{error.strerror}") from error
    return home / "sessions.db"


def _read_line() -> str | None:
    try:
        return input("> ")
    except EOFError:
        return None


def _examples(out: TextIO) -> int:
    names = _example_names()
    width = max(map(len, names))
    for name in names:
        module = importlib.import_module(f"agentkit.examples.{name}")
        summary = (module.__doc__ or "").strip().splitlines()[0] if module.__doc__ else ""
        print(f"{name:<{width}}  {summary}", file=out)
    return 0


def _tools(as_json: bool, out: TextIO) -> int:
    tools = importlib.import_module("agentkit.tools").bundled_tools()
    if as_json:
        print(json.dumps([t.definition("grok") for t in tools], indent=2), file=out)
        return 0
    for t in tools:
        params = ", ".join(t.parameters.get("properties", {}))
        print(f"{t.name}({params})  {t.description.splitlines()[0] if t.description else ''}",
              file=out)
    return 0


async def _models(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    async with _client(args, err) as client:
        for model in (await client.models.list()).data:
            print(model.id, file=out)
    return 0


async def _tokenize(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    async with _client(args, err) as client:
        tokens = await client.tokenize(text=args.text, model=args.model)
    print(json.dumps([t.string_token for t in tokens.token_ids], ensure_ascii=False), file=out)
    print(f"{tokens.count} tokens", file=err)
    return 0


# -- batch --------------------------------------------------------------------------------



class _ResultsFileError(Exception):
    """The results file cannot be written: the batch stops (exit code 1)."""


def _batch(args: argparse.Namespace, err: TextIO) -> int:
    """`agentkit batch`: every line of the prompts file run once, each result appended to
    `--out` as it finishes. A rerun reads `--out` first and skips the ids whose last record
    has no error, so an interrupted batch goes on where it stopped and failed lines are
    retried (their new record appended after the old one: the last record of an id wins)."""
    if args.concurrency < 1:
        raise _UsageError(f"--concurrency must be at least 1, got {args.concurrency}")
    build, _ = _resolve(args.agent, factory=args.factory)
    try:
        data = Path(args.prompts).read_bytes()
    except OSError as error:
        raise _UsageError(f"cannot read {args.prompts}: {error.strerror or error}") from None
    out_path = Path(args.out)
    try:
        finished, noted, ends_cut = finished_records(out_path, args.out, err)
    except BatchFileError as error:
        raise _UsageError(str(error)) from None
    pending, malformed, skipped = read_prompts(data, args.prompts, finished, err)
    line_of = {item.id: line for line, item in pending}
    tty = is_tty(err)
    progress = BatchProgress(len(pending) + len(malformed), tty=tty, skipped=skipped,
                             malformed=len(malformed), columns=columns(err) if tty else 80)

    def show(text: str) -> None:
        if text:
            err.write(text)
            err.flush()

    async def go(out: TextIO) -> None:
        def write(text: str) -> None:
            # One write per record, flushed: a kill leaves at most the last line cut off.
            try:
                out.write(text)
                out.flush()
            except OSError as error:
                raise _ResultsFileError(f"cannot write {args.out}: {error.strerror or error}") from None

        async with _client(args, err) as client:
            agent = build(client, args.model)
            # After a cut-off record a newline first, so that the next is a line of its own.
            write("\n" if ends_cut else "")
            for line, problem in malformed:
                # Recorded once, not again on each rerun; still reported and still exit 1.
                if (line, f"malformed line: {problem}") not in noted:
                    write(result_record(None, line, None, RunUsage(), f"malformed line: {problem}"))
            show(progress.start())

            def record(result: BatchResult[Any]) -> None:
                write(result_record(result.id, line_of[result.id], result.output, result.usage,
                                    result.error))
                show(progress.finished(ok=result.ok, cost_usd=result.usage.cost_usd))

            inputs = [item for _, item in pending]
            if not args.durable:
                await with_ticker(progress, show, run_batch(
                    agent, inputs, concurrency=args.concurrency, on_result=record))
                return
            from ._cli_durable import batch_id_for, durable_agent

            async with durable_agent(agent, args.agent, args, concurrency=args.concurrency) as (
                durable, queue
            ):
                # Everything enqueued at once (up to a bound), so that other workers share it;
                # --concurrency limits what this process runs.
                await with_ticker(progress, show, run_batch(
                    durable, inputs, durable=True, queue=queue,
                    batch_id=args.batch_id or batch_id_for(args.out),
                    concurrency=max(1, min(len(inputs), 1000)), on_result=record))

    try:
        out = out_path.open("a", encoding="utf-8")
    except OSError as error:
        raise _UsageError(f"cannot write {args.out}: {error.strerror or error}") from None
    with out:
        try:
            anyio.run(go, out)
        except _ResultsFileError as error:
            show(progress.interrupted())
            print(f"agentkit: error: {error}", file=err)
            return 1
        except BaseException:
            show(progress.interrupted())
            raise
    show(progress.finish())
    return 0 if progress.failed == 0 else 1


async def _worker(args: argparse.Namespace, err: TextIO) -> int:
    """`agentkit worker`: take durable batch runs off the shared queue until stopped."""
    if args.concurrency < 1:
        raise _UsageError(f"--concurrency must be at least 1, got {args.concurrency}")
    build, _ = _resolve(args.agent, factory=args.factory)
    from ._cli_durable import database_url, durable_agent

    async with _client(args, err) as client:
        agent = build(client, args.model)
        async with durable_agent(agent, args.agent, args, concurrency=args.concurrency):
            print(f"agentkit: worker {args.executor_id} on {_safe_url(database_url(args))}, "
                  f"up to {args.concurrency} runs at a time (Ctrl-C stops)", file=err, flush=True)
            await anyio.sleep_forever()
    return 0


def _safe_url(url: str) -> str:
    """A database URL without its password, to print."""
    return re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", url)


def _serve(args: argparse.Namespace, err: TextIO) -> int:
    from .sim import SimCore, serve

    try:
        limits = limits_from_arguments(args)
    except ConfigurationError as error:
        raise _UsageError(str(error)) from None
    core = SimCore(api_key=args.api_key)

    def ready(port: int) -> None:
        print(f"agentkit: serving the simulated Grok API on http://{args.host}:{port}/v1 "
              "(Ctrl-C stops)", file=err, flush=True)

    try:
        anyio.run(partial(serve, core, host=args.host, port=args.port, ready=ready,
                          allow_remote=args.allow_remote, limits=limits))
    except KeyboardInterrupt:
        print("agentkit: stopped", file=err)
    except ValueError as error:
        raise _UsageError(str(error)) from None
    return 0


def _short(value: Any, limit: int = 200) -> str:
    text = value if isinstance(value, str) else str(value)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _to_json(value: Any) -> str:
    dump = getattr(value, "model_dump_json", None)
    if callable(dump):
        return str(dump(indent=2))
    try:
        return json.dumps(asdict(value), indent=2, default=str)
    except TypeError:
        return json.dumps(value, indent=2, default=str)


def main(
    argv: Sequence[str] | None = None,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    read_line: Callable[[], str | None] | None = None,
) -> int:
    """Run the command line; returns the exit code (0 ok, 1 run failed, 2 usage error)."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    try:
        # A test's read_line answers both the chat and the approval questions.
        answer = read_line or partial(read_answer, err)
        if args.command == "run":
            return anyio.run(_run, args, answer, out, err)
        if args.command == "chat":
            return anyio.run(_chat, args, read_line or _read_line, answer, out, err)
        if args.command == "batch":
            return _batch(args, err)
        if args.command == "worker":
            try:
                return anyio.run(_worker, args, err)
            except KeyboardInterrupt:  # the way a worker is stopped: its runs stay durable
                print("agentkit: worker stopped", file=err)
                return 0
        if args.command == "serve":
            return _serve(args, err)
        if args.command == "examples":
            return _examples(out)
        if args.command == "tools":
            return _tools(args.json, out)
        if args.command == "models":
            return anyio.run(_models, args, out, err)
        return anyio.run(_tokenize, args, out, err)
    except _UsageError as error:
        print(f"agentkit: error: {error}", file=err)
        return 2
    except (AgentRunError, APIError, UserError, AgentKitError) as error:
        if args.debug:
            traceback.print_exc(file=err)
        print(f"agentkit: error: {type(error).__name__}: {error}", file=err)
        return 2 if isinstance(error, UserError) else 1
    except KeyboardInterrupt:
        print("agentkit: interrupted", file=err)
        return 1


def main_entry() -> None:
    """The console script."""
    sys.exit(main())
