"""The files of `agentkit batch`: the prompts (JSON Lines in), the results (JSON Lines out, one
record per finished line) and resuming from them, and the progress ticker. The command itself
(`cli._batch`) puts these together."""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any, TextIO

import anyio
import pydantic_core

from ._progress import BatchProgress
from .batch import BatchInput
from .usage import RunUsage

__all__ = [
    "BatchFileError",
    "columns",
    "finished_records",
    "is_tty",
    "read_prompts",
    "result_record",
    "with_ticker",
]


_LINE_KEYS = ("prompt", "id", "deps")


class BatchFileError(Exception):
    """A prompts or results file that cannot be read (the command line's mistake: exit 2)."""


async def with_ticker(progress: BatchProgress, show: Callable[[str], None],
                       work: Awaitable[Any]) -> None:
    """Await `work`, redrawing the progress meanwhile: rate and ETA move with no run ending."""
    every = 0.1 if progress.tty else 1.0

    async def tick() -> None:
        while True:
            await anyio.sleep(every)
            show(progress.tick())

    failure: Exception | None = None
    async with anyio.create_task_group() as group:
        group.start_soon(tick)
        try:
            await work
        except Exception as error:  # raised as itself, not wrapped in an ExceptionGroup
            failure = error
        finally:
            group.cancel_scope.cancel()
    if failure is not None:
        raise failure


def finished_records(path: Path, name: str, err: TextIO
                    ) -> tuple[dict[str, bool], set[tuple[int, str]], bool]:
    """What an earlier run left in the results file: for each id whether its last record
    succeeded, the malformed lines recorded (line and error), and whether the file ends in a
    cut-off line (a kill mid-write)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return {}, set(), False
    except OSError as error:
        raise BatchFileError(f"cannot read {name}: {error.strerror or error}") from None
    finished: dict[str, bool] = {}
    noted: set[tuple[int, str]] = set()
    for number, raw in enumerate(data.split(b"\n"), 1):
        if not raw.strip():
            continue
        try:
            entry = json.loads(raw)
        except ValueError:
            entry = None
        if not isinstance(entry, dict) or "error" not in entry:
            print(f"agentkit: {name}:{number}: not a complete result record, ignored "
                  "(its line runs again)", file=err)
            continue
        item_id, line, problem = entry.get("id"), entry.get("line"), entry["error"]
        if isinstance(item_id, str):
            finished[item_id] = problem is None
        elif isinstance(line, int) and isinstance(problem, str):  # a malformed line's record
            noted.add((line, problem))
    return finished, noted, bool(data) and not data.endswith(b"\n")


def read_prompts(data: bytes, name: str, finished: dict[str, bool], err: TextIO
                 ) -> tuple[list[tuple[int, BatchInput]], list[tuple[int, str]], int]:
    """The prompts file's lines: those to run, the malformed ones (each reported on `err`)
    and how many were done before."""
    pending: list[tuple[int, BatchInput]] = []
    malformed: list[tuple[int, str]] = []
    skipped = 0
    first_line: dict[str, int] = {}
    for number, raw in enumerate(data.split(b"\n"), 1):
        if not raw.strip():
            continue
        try:
            item = _prompt_line(raw, number)
            if item.id in first_line:
                raise ValueError(f"duplicate id {_quoted(item.id)} (first on line "
                                 f"{first_line[item.id]})")
        except ValueError as error:
            print(f"agentkit: {name}:{number}: {error}", file=err)
            malformed.append((number, str(error)))
            continue
        assert item.id is not None  # _batch_line always names the item
        first_line[item.id] = number
        if finished.get(item.id):
            skipped += 1
        else:
            pending.append((number, item))
    return pending, malformed, skipped


def _prompt_line(raw: bytes, number: int) -> BatchInput:
    """One line of the prompts file as a run; ValueError says what is wrong with it."""
    try:
        text = raw.decode("utf-8-sig" if number == 1 else "utf-8")
    except UnicodeDecodeError:
        raise ValueError("not UTF-8 text") from None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"not JSON: {error.msg} (column {error.colno})") from None
    if isinstance(value, str):
        return BatchInput(value, id=str(number))
    if not isinstance(value, dict):
        raise ValueError('a line is a JSON string (the prompt) or an object with "prompt", '
                         f"not {_json_kind(value)}")
    unknown = [key for key in value if key not in _LINE_KEYS]
    if unknown:
        raise ValueError(f"unknown key{'s' if len(unknown) > 1 else ''} "
                         f"{', '.join(map(_quoted, unknown))}; a line takes "
                         '"prompt", "id" and "deps"')
    if "prompt" not in value:
        raise ValueError('an object without "prompt"')
    prompt = value["prompt"]
    if not (isinstance(prompt, str | dict)
            or (isinstance(prompt, list) and all(isinstance(m, dict) for m in prompt))):
        raise ValueError('"prompt" must be a string, a message object or a list of message '
                         f"objects, not {_json_kind(prompt)}")
    item_id = value.get("id")
    if item_id is None:
        item_id = str(number)
    elif isinstance(item_id, int) and not isinstance(item_id, bool):
        item_id = str(item_id)
    elif not isinstance(item_id, str):
        raise ValueError(f'"id" must be a string or an integer, not {_json_kind(item_id)}')
    return BatchInput(prompt, id=item_id, deps=value.get("deps"))


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, dict):
        return "an object"
    return "a list" if isinstance(value, list) else "a string"


def _quoted(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def result_record(item_id: str | None, line: int, output: Any, usage: RunUsage,
                  error: str | None) -> str:
    """One line of the results file, newline included."""
    try:
        # pydantic models, dataclasses, dates, sets...: what JSON can hold of them.
        jsonable = pydantic_core.to_jsonable_python(output, fallback=str)
    except Exception:  # an output that cannot even be walked is kept as its text
        jsonable = str(output)
    entry = {"id": item_id, "line": line, "output": jsonable, "usage": asdict(usage),
             "error": error}
    return json.dumps(entry, ensure_ascii=False, default=str) + "\n"


def is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a stream without one, or closed
        return False


def columns(stream: TextIO) -> int:
    try:
        return os.get_terminal_size(stream.fileno()).columns or 80
    except (AttributeError, OSError, ValueError):
        return 80
