"""The `agentkit` command: run, chat, batch, worker, serve, examples, tools, models, tokenize.

`main(argv) -> int` does the work so tests can call it in-process. Exit codes: 0 success,
1 the run failed (or paused with nobody to decide), 2 a usage error. Failures print one line
(`agentkit: error: ...`); `--debug` adds the traceback. Output piped into a program that stops
reading (`agentkit tools | head -1`) ends the command quietly.

The parts: `_cli_parser` (the grammar), `_cli_target` (what TARGET names, on which client),
`_cli_client` (where requests go, and failures explained), `_cli_render` (tables, fields,
JSON and the live view of a run), `_cli_chat` (the REPL), `_cli_tools` (`agentkit tools`),
`_cli_prompts` (approval at the terminal), `_cli_batch` and `_cli_durable` (batches),
`_cli_models` (`agentkit models`).
"""

from __future__ import annotations

import argparse
import errno
import importlib
import json
import os
import re
import socket
import sys
import traceback
from collections.abc import Callable, Sequence
from contextlib import AsyncExitStack, suppress
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
from ._cli_chat import chat
from ._cli_client import explain, make_client
from ._cli_mcp import run_mcp
from ._cli_models import list_models
from ._cli_parser import CommandLineError, build_parser
from ._cli_prompts import ReadLine, decide, read_answer, report_paused
from ._cli_render import LiveView, plural, usage_line
from ._cli_target import Bound, Target, TargetLoadError, bind, example_names, resolve
from ._cli_tools import list_tools
from ._progress import BatchProgress
from ._result import RunResult
from ._server_limits import limits_from_arguments
from .batch import BatchResult, run_batch
from .errors import AgentKitError, ConfigurationError, SessionError, UserError
from .hooks import RunHooks
from .state import RunState
from .usage import RunUsage

__all__ = ["main", "main_entry"]


def _prompt(args: argparse.Namespace, target: Target) -> str:
    if args.prompt == "-":
        text = sys.stdin.read()
        if not text.strip():
            raise CommandLineError("the prompt read from stdin (-) is empty")
        return text.strip()
    prompt = args.prompt or target.default_prompt
    if not prompt:
        raise CommandLineError(f"{args.target} has no default prompt: give one")
    return str(prompt)


async def _run(args: argparse.Namespace, read: ReadLine, out: TextIO, err: TextIO) -> int:
    target = resolve(args.target, factory=args.factory)
    prompt = _prompt(args, target)
    async with AsyncExitStack() as stack:
        bound = await bind(target, args, stack, err)
        args.requests_to = bound.base_url
        view = LiveView(out, err, stream=args.stream and not args.json,
                        structured=bound.agent.output_type is not str, show_tools=not args.json)
        hooks = _trace_hooks(err) if args.trace else ()
        result = await _once(bound, view, prompt=prompt, hooks=hooks)
        while result.paused:
            view.abandon()
            if not args.approve:
                report_paused(result.interruptions, err)
                return 1
            state = result.state
            await decide(state, read, err)
            result = await _once(bound, view, state=state, hooks=hooks)
        if args.json:
            whole = {"output": result.output, "messages": result.messages,
                     "usage": asdict(result.usage)}
            print(pydantic_core.to_json(whole, indent=2, fallback=str).decode(), file=out)
            out.flush()
            return 0
        view.finish(result.output)
        print(usage_line(result.usage), file=err)
        return 0


def _trace_hooks(err: TextIO) -> tuple[RunHooks, ...]:
    try:
        from .otel import tree_printer

        return (tree_printer(err),)
    except ImportError:
        raise CommandLineError(
            "--trace needs OpenTelemetry: pip install 'agentkit[otel]'"
        ) from None


async def _once(bound: Bound, view: LiveView, *, prompt: str | None = None,
                state: RunState | None = None, hooks: Sequence[RunHooks] = ()) -> RunResult[Any]:
    """Run (or resume) once, showing it as it goes; finished or paused."""
    async with bound.agent.run_stream(prompt, state=state, hooks=hooks,
                                      model_settings=bound.model_settings) as stream:
        async for event in stream:
            view.event(event)
        return stream.result


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
    """The next chat line from the terminal; None at its end (Ctrl-D).

    Called on the event loop's thread (nothing else runs while the chat waits), so that
    Ctrl-C raises KeyboardInterrupt here.
    """
    try:
        return input("> ")
    except EOFError:
        return None


def _line_editing() -> None:
    """Arrow keys and history at the chat prompt, where the platform has readline."""
    if sys.stdin.isatty():
        with suppress(ImportError):
            importlib.import_module("readline")  # input() uses it once it is imported


def _examples(out: TextIO) -> int:
    names = example_names()
    width = max(map(len, names))
    for name in names:
        module = importlib.import_module(f"agentkit.examples.{name}")
        summary = (module.__doc__ or "").strip().splitlines()[0] if module.__doc__ else ""
        print(f"{name:<{width}}  {summary}", file=out)
    return 0


async def _tokenize(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    async with make_client(args, err) as client:
        args.requests_to = client.base_url
        tokens = await client.tokenize(text=args.text, model=args.model)
    print(json.dumps([t.string_token for t in tokens.token_ids], ensure_ascii=False), file=out)
    print(plural(tokens.count, "token"), file=err)
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
        raise CommandLineError(f"--concurrency must be at least 1, got {args.concurrency}")
    target = resolve(args.agent, factory=args.factory)
    try:
        data = Path(args.prompts).read_bytes()
    except OSError as error:
        raise CommandLineError(f"cannot read {args.prompts}: {error.strerror or error}") from None
    out_path = Path(args.out)
    try:
        finished, noted, ends_cut = finished_records(out_path, args.out, err)
    except BatchFileError as error:
        raise CommandLineError(str(error)) from None
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

        async with AsyncExitStack() as stack:
            bound = await bind(target, args, stack, err, per_run_settings=False)
            args.requests_to = bound.base_url
            agent = bound.agent
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
        raise CommandLineError(f"cannot write {args.out}: {error.strerror or error}") from None
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
        raise CommandLineError(f"--concurrency must be at least 1, got {args.concurrency}")
    target = resolve(args.agent, factory=args.factory)
    from ._cli_durable import database_url, durable_agent

    async with AsyncExitStack() as stack:
        bound = await bind(target, args, stack, err, per_run_settings=False)
        async with durable_agent(bound.agent, args.agent, args, concurrency=args.concurrency):
            print(f"agentkit: worker {args.executor_id} on {_safe_url(database_url(args))}, "
                  f"up to {plural(args.concurrency, 'run')} at a time (Ctrl-C stops)",
                  file=err, flush=True)
            await anyio.sleep_forever()
    return 0


def _safe_url(url: str) -> str:
    """A database URL without its password, to print."""
    return re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", url)


# -- serve --------------------------------------------------------------------------------


def _serve(args: argparse.Namespace, err: TextIO) -> int:
    from .sim import SimCore, SimRateLimits, serve

    try:
        limits = limits_from_arguments(args)
    except ConfigurationError as error:
        raise CommandLineError(str(error)) from None
    try:
        rate_limits = SimRateLimits.from_arguments(args)
    except ValueError as error:
        raise CommandLineError(str(error)) from None
    core = SimCore(api_key=args.api_key, rate_limits=rate_limits)

    def ready(port: int) -> None:
        print(f"agentkit: serving the simulated Grok API on http://{args.host}:{port}/v1 "
              "(Ctrl-C stops)", file=err, flush=True)

    try:
        anyio.run(partial(serve, core, host=args.host, port=args.port, ready=ready,
                          allow_remote=args.allow_remote, limits=limits))
    except KeyboardInterrupt:
        print("agentkit: stopped", file=err)
    except ValueError as error:
        raise CommandLineError(str(error)) from None
    except OSError as error:
        print(f"agentkit: error: cannot serve on {args.host}:{args.port}: "
              f"{_listen_failure(error, args.port)}", file=err)
        return 1
    return 0


def _listen_failure(error: OSError, port: int) -> str:
    if isinstance(error, socket.gaierror):
        return f"cannot resolve the host ({error.strerror or error})"
    if error.errno == errno.EADDRINUSE:
        return ("the port is in use (by another `agentkit serve`?); pick another with --port, "
                "or --port 0 for a free one")
    if error.errno in (errno.EACCES, errno.EPERM):
        return f"permission denied{' (ports below 1024 need privileges)' if port < 1024 else ''}"
    if error.errno == errno.EADDRNOTAVAIL:
        return "this machine has no such address"
    return error.strerror or str(error)


# -- main ---------------------------------------------------------------------------------


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
    args: argparse.Namespace | None = None
    try:
        args = build_parser().parse_args(argv)
        # A test's read_line answers both the chat and the approval questions.
        answer = read_line or partial(read_answer, err)
        if args.command == "run":
            return anyio.run(_run, args, answer, out, err)
        if args.command == "chat":
            if read_line is None:
                _line_editing()
            return anyio.run(chat, args, read_line or _read_line, answer, out, err,
                             _sessions_file)
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
            return list_tools(args.json, out)
        if args.command == "mcp":
            return run_mcp(args, out, err)
        if args.command == "models":
            return anyio.run(list_models, args, out, err)
        return anyio.run(_tokenize, args, out, err)
    except SystemExit as exit_:  # --help and --version
        return int(exit_.code or 0)
    except CommandLineError as error:
        print(f"agentkit: error: {error}", file=err)
        return 2
    except (AgentKitError, TargetLoadError) as error:
        assert args is not None  # parsing raises only CommandLineError
        if args.debug:
            traceback.print_exc(file=err)
        sent_to = getattr(args, "requests_to", None) or getattr(args, "base_url", None)
        line = explain(error, sent_to) if isinstance(error, AgentKitError) else str(error)
        print(f"agentkit: error: {line}", file=err)
        return 2 if isinstance(error, UserError) else 1
    except KeyboardInterrupt:
        print("agentkit: interrupted", file=err)
        return 1


def _broken_pipe(error: BaseException) -> bool:
    """Whether `error` is, or only holds, a write to a pipe whose reader has gone."""
    if isinstance(error, BrokenPipeError):
        return True
    if isinstance(error, BaseExceptionGroup):
        return all(_broken_pipe(inner) for inner in error.exceptions)
    return False


def main_entry() -> None:
    """The console script."""
    try:
        code = main()
        sys.stdout.flush()  # inside the try: a reader that left shows up here at the latest
    except BaseException as error:
        if not _broken_pipe(error):
            raise
        # As the Python docs advise for SIGPIPE: point stdout at devnull, so that the
        # interpreter's own flush at exit does not fail (and print) a second time.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        code = 1
    sys.exit(code)
