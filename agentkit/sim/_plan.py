"""The calls a question asks of one tool: one per subject, and which of them are already made.

Pure and stdlib only. A message can name several subjects of the same kind for one parameter:
places ("Paris, Tokyo and Rome"), quoted terms, numbers ("are 7 and 12 prime?"), and values
with a shape of their own: two expressions ("(3 + 4) * 12? Then the square root of 84"), two
URLs, two backticked SQL statements. Each gets a call of its own. `unanswered` tells which
planned calls a conversation has not made yet, so that a model told to make one call per turn
(`parallel_tool_calls: false`), or given "then ..." in a message, still gets to every subject.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ._conversation import Tool
from ._evidence import Evidence
from ._fill import Filler
from ._kinds import SHAPED_KINDS, Purpose, parameter_kind, shaped_kind, values_of_kind
from ._schemas import resolve, schema_type
from .reply import SimToolCall

__all__ = ["MAX_CALLS", "Planned", "calls_for", "dumps", "subjects_of", "unanswered"]

MAX_CALLS = 16
"""The most calls one reply makes."""

# Values one call takes one of, read as a list ("Paris, Tokyo and Rome").
_LIST_KINDS = frozenset({"entity", "query", "generic", "text"})


@dataclass(frozen=True)
class Planned:
    """A call the question asks for, and the subject it is for (None: the tool's only call)."""

    call: SimToolCall
    parameter: str | None
    value: Any


def dumps(value: Any) -> str:
    """Compact JSON, as models send arguments."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def calls_for(tool: Tool, ev: Evidence) -> list[Planned]:
    """The calls the message asks of `tool`: one per subject, else one."""
    subjects = subjects_of(tool, ev)
    if subjects is not None:
        name, values = subjects
        return [_subject_call(tool, ev, name, value) for value in values[:MAX_CALLS]]
    schema = tool.parameters or {"type": "object", "properties": {}}
    arguments = _object(Filler(ev, schema, purpose=_purpose(tool)).fill())
    return [Planned(SimToolCall(tool.name, dumps(arguments)), None, None)]


def _subject_call(tool: Tool, ev: Evidence, name: str, value: Any) -> Planned:
    schema = tool.parameters or {"type": "object", "properties": {}}
    arguments = _object(Filler(ev, schema, subject=(name, value), purpose=_purpose(tool)).fill())
    return Planned(SimToolCall(tool.name, dumps(arguments)), name, arguments.get(name))


def _purpose(tool: Tool) -> Purpose:
    return Purpose(tool.words.name, tool.words.description)


def unanswered(tool: Tool, ev: Evidence, calls: Sequence[tuple[str, str, Any]]) -> list[Planned]:
    """The calls the message asks of `tool` that none of `calls` (id, name, arguments) made.

    A tool's only call is made by any call to it (its arguments may have been repaired
    since); a subject's call by a call that sends the same subject. Arguments are only
    filled for the calls still missing.
    """
    subjects = subjects_of(tool, ev)
    if subjects is None:
        return [] if any(called == tool.name for _, called, _ in calls) else calls_for(tool, ev)
    name, values = subjects
    missing = []
    for value in values[:MAX_CALLS]:
        if _sent(calls, tool.name, name, value):
            continue
        planned = _subject_call(tool, ev, name, value)
        # The schema may have shaped the value (a pattern, a length); compare that too.
        if not _sent(calls, tool.name, name, planned.value):
            missing.append(planned)
    return missing


def _sent(calls: Sequence[tuple[str, str, Any]], tool: str, parameter: str, value: Any) -> bool:
    return any(
        called == tool and isinstance(arguments, Mapping) and _same(arguments.get(parameter), value)
        for _, called, arguments in calls
    )


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return a.strip().lower() == b.strip().lower()
    return bool(a == b)


def _object(value: Any) -> dict[str, Any]:
    # Tool arguments must be a JSON object, whatever a schema without properties produced.
    return dict(value) if isinstance(value, Mapping) else {}


def subjects_of(tool: Tool, ev: Evidence) -> tuple[str, Sequence[Any]] | None:
    """The parameter that takes one subject per call, and the message's subjects for it.

    None unless the message holds two or more: a list of names or terms for the tool's one
    free-text parameter, numbers for its one number, or values of a shape (URLs,
    expressions, SQL...) for its one parameter of that shape.
    """
    for name, how in _subject_parameters(tool.schema_key):
        values: Sequence[Any]
        if how == "list":
            values = ev.subjects
        elif how == "number":
            values = ev.number_list
        else:
            values = values_of_kind(ev, how)
        if len(values) >= 2:
            return name, values
    return None


@functools.lru_cache(maxsize=2048)
def _subject_parameters(schema_key: str) -> tuple[tuple[str, str], ...]:
    """Parameters that could take one subject per call: `(name, "list" | "number" | kind)`.

    A single free-text parameter among the required ones qualifies (with two, "'Lunch' and
    'See you'" are more likely one value each), and so does a parameter that is the only one
    of its shape. None does when a required array takes the whole list in one call.
    Cached by the schema's JSON: agents send the same tools on every turn.
    """
    schema = json.loads(schema_key)
    properties = schema.get("properties") if isinstance(schema, Mapping) else None
    if not isinstance(properties, Mapping):
        return ()
    required = [n for n in schema.get("required") or () if n in properties]
    resolved = {n: resolve(properties[n], schema)[0] for n in properties}
    if any(schema_type(resolved[n]) == "array" for n in required):
        return ()
    strings = [
        n for n in properties if schema_type(resolved[n]) == "string" and "enum" not in resolved[n]
    ]
    kinds = {n: shaped_kind(str(n), resolved[n]) for n in strings}
    found: list[tuple[str, str]] = []
    free = [n for n in (required or list(properties)) if n in kinds]
    if len(free) == 1:
        node = resolved[free[0]]
        if "format" not in node and parameter_kind(free[0], node) in _LIST_KINDS:
            found.append((free[0], "list"))
    numeric = [n for n in required if schema_type(resolved[n]) in ("integer", "number")]
    if not free and len(required) == 1 and numeric:
        found.append((numeric[0], "number"))
    for name in free:
        kind = kinds[name]
        if kind in SHAPED_KINDS and list(kinds.values()).count(kind) == 1:
            found.append((name, kind))
    return tuple(found)
