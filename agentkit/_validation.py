"""Turn pydantic validation failures into feedback a model can act on.

Shared by tool arguments and structured output: both send the model one line per bad field,
named by its path, and keep the same facts as data for the caller.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import pydantic_core
from pydantic import ValidationError

__all__ = ["drop_rejected_nulls", "error_details", "format_errors", "format_loc"]

# Long inputs (a whole document the model pasted) would drown the message it has to read.
_MAX_INPUT_CHARS = 80

# For these the input is the enclosing object, not the bad value, so echoing it only adds noise.
_NO_INPUT_TYPES = frozenset({"missing", "missing_argument", "missing_keyword_only_argument"})


def format_loc(loc: Sequence[int | str]) -> str:
    """Render a pydantic location as a path: `("items", 0, "name")` -> `"items[0].name"`.

    An empty location (the whole input) renders as `""`.
    """
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


def error_details(exc: ValidationError) -> list[dict[str, Any]]:
    """List every error of `exc` as `{"loc": "a.b", "msg": ..., "input": ...}`.

    `loc` is the dotted path of `format_loc`; `input` is the value that failed (for a missing
    field, the object it is missing from).
    """
    return [
        {"loc": format_loc(error["loc"]), "msg": error["msg"], "input": error["input"]}
        for error in exc.errors(include_url=False, include_context=False)
    ]


def format_errors(exc: ValidationError, *, root: str = "input") -> str:
    """One line per bad field: `"days: Input should be less than or equal to 14 (got 30)"`.

    Args:
        exc: The pydantic error.
        root: The name used for errors about the whole input (bad JSON, not an object).

    Returns:
        The lines joined by newlines, each starting with `"- "`.
    """
    lines = []
    for error in exc.errors(include_url=False, include_context=False):
        where = format_loc(error["loc"]) or root
        line = f"- {where}: {error['msg']}"
        if error["type"] not in _NO_INPUT_TYPES and error["type"] != "json_invalid":
            line += f" (got {_show(error['input'])})"
        lines.append(line)
    return "\n".join(lines)


def drop_rejected_nulls(data: Any, exc: ValidationError) -> Any | None:
    """Return a copy of `data` without the `null` values that `exc` rejected, or None if none.

    OpenAI strict mode makes every optional field required and nullable, so a model sends
    `"days": null` to mean "use the default". Validation always runs against the full pydantic
    model, where `days: int = 3` refuses `None`; dropping the key lets the default apply. The
    caller validates the copy again and reports the original errors if that fails too.
    """
    if not isinstance(data, dict):
        return None
    pruned = copy.deepcopy(data)
    dropped = False
    for error in exc.errors(include_url=False, include_context=False):
        if error["input"] is not None:
            continue
        container: Any = pruned
        # Walk the path until the null itself; union tags and validator names past it are skipped.
        for part in error["loc"]:
            if isinstance(container, dict) and isinstance(part, str) and part in container:
                if container[part] is None:
                    del container[part]
                    dropped = True
                    break
                container = container[part]
            elif isinstance(container, list) and isinstance(part, int) and part < len(container):
                container = container[part]
            else:
                break
    return pruned if dropped else None


def _show(value: Any) -> str:
    """A short JSON rendering of a bad input, cut to `_MAX_INPUT_CHARS`."""
    try:
        text = pydantic_core.to_json(value, fallback=repr).decode("utf-8", errors="replace")
    except Exception:
        try:
            text = repr(value)
        except Exception:  # a structure too deep (RecursionError) or a failing __repr__
            text = f"<{type(value).__name__}>"
    if len(text) > _MAX_INPUT_CHARS:
        text = text[: _MAX_INPUT_CHARS - 3] + "..."
    return text
