"""Reading feedback: validation errors, and the error texts tools send back.

Pure and stdlib only. `parse_field_errors` reads the errors an agent sends back when an answer
or a call's arguments did not validate. `reports_failure` tells a tool's error text ("Error:
unknown time zone 'Tokyo'", a `ToolRetry` message such as "Unknown city 'Atlantis'; known
cities: ...") from a result, and `offered_values` lists the values such a text offers
instead; `_recovery` decides what to do with them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "FieldError",
    "about_parameters",
    "extract_json",
    "offered_values",
    "parse_field_errors",
    "reports_failure",
    "show_path",
]


@dataclass(frozen=True)
class FieldError:
    """One complaint about an answer: where (a path of keys and indexes) and what."""

    path: tuple[str | int, ...]
    message: str


_FEEDBACK_HINT = re.compile(
    r"(?i)valid|error|fix|retry|again|failed|wrong|incorrect|does not match|rejected"
)
_ERRORISH = re.compile(
    r"(?i)required|missing|not permitted|extra|should|must|invalid|valid|expected|at least|"
    r"at most|greater|less|error|unexpected|too (?:long|short|many|few|large|small)|match|"
    r"not allowed|not one of|unable|cannot|can't"
)
_BULLET_ERROR = re.compile(r"^\s*[-*•]\s*([\w$][\w.\[\]$-]*)\s*:\s*(.+?)\s*$", re.M)
_PYDANTIC_LOC = re.compile(r"^([\w$][\w.\[\]$-]*)\n\s+(.+?)(?:\s*\[type=[^\]]*\])?$", re.M)
_GOT = re.compile(r"\s*\(got .*\)\s*$")
_ROOTS = frozenset(
    {"", "input", "root", "__root__", "body", "value", "output", "json", "answer", "arguments"}
)


def parse_field_errors(text: str) -> list[FieldError]:
    """Read validation errors an agent sent back, in any of the common shapes.

    Understands bullet lines (`- days: Input should be ... (got 30)`), pydantic's own
    rendering (a location line, then the indented message) and JSON lists of
    `{"loc": ..., "msg": ...}`. Text that does not talk about errors at all gives [].

    Args:
        text: The feedback message.

    Returns:
        The errors; a path of () means the answer as a whole.
    """
    if not text or not _FEEDBACK_HINT.search(text):
        return []
    errors = _json_errors(text)
    if errors:
        return errors
    for pattern in (_BULLET_ERROR, _PYDANTIC_LOC):
        for match in pattern.finditer(text):
            message = _GOT.sub("", match.group(2))
            if _ERRORISH.search(message):
                errors.append(FieldError(_parse_path(match.group(1)), message))
        if errors:
            return errors
    return errors


def _json_errors(text: str) -> list[FieldError]:
    if '"msg"' not in text:
        return []
    decoder = json.JSONDecoder()
    for start in (i for i, ch in enumerate(text) if ch == "["):
        try:
            data, _ = decoder.raw_decode(text, start)
        except ValueError:
            continue
        if (
            isinstance(data, list)
            and data
            and all(isinstance(e, Mapping) and "msg" in e for e in data)
        ):
            out = []
            for entry in data:
                loc = entry.get("loc", ())
                path = (
                    _parse_path(loc)
                    if isinstance(loc, str)
                    else tuple(p if isinstance(p, int) else str(p) for p in loc)
                    if isinstance(loc, list | tuple)
                    else ()
                )
                out.append(FieldError(_strip_root(path), str(entry["msg"])))
            return out
    return []


def _parse_path(loc: str) -> tuple[str | int, ...]:
    parts: list[str | int] = []
    for piece in re.findall(r"[^.\[\]]+", loc):
        parts.append(int(piece) if piece.isdigit() else piece)
    return _strip_root(tuple(parts))


def _strip_root(path: tuple[str | int, ...]) -> tuple[str | int, ...]:
    if path and isinstance(path[0], str) and path[0] in _ROOTS:
        return path[1:]
    return path


# --------------------------------------------------------------------------------------------
# Tool error texts
# --------------------------------------------------------------------------------------------

_ERROR_START = re.compile(r"(?i)^\s*(?:error|exception|traceback|failed|invalid)\b")
# What a tool says when it refuses an argument; looked for in the text's first sentence only,
# so a document that mentions "invalid" further down is not taken for an error.
_FAILURE_PHRASE = re.compile(
    r"(?i)\b(?:unknown|not found|no such|invalid|unrecogni[sz]ed|unsupported|not supported|"
    r"does not exist|doesn't exist|did you mean|is not (?:a )?valid|not allowed|refused|"
    r"could not|couldn't|cannot|can't|unable to)\b"
    r"|^\s*no \w+(?: \w+)? (?:for|named|called|matching|with) [\"'`‘“]"
)
_FIRST_SENTENCE_CHARS = 120
_ERROR_KEYS = frozenset({"error", "detail", "message", "code", "hint", "suggestions"})
_QUOTED_VALUE = re.compile(
    r"\"([^\"\n]{1,80})\"|“([^”\n]{1,80})”|‘([^’\n]{1,80})’|`([^`\n]{1,80})`"
    r"|(?<![\w'])'([^'\n]{1,80}?)'(?![\w'])"
)
# Where a text starts listing what would work: "did you mean X?", "known cities: A, B".
_OFFER = re.compile(
    r"(?i)\b(?:did you mean|try(?: one of)?|such as|one of|e\.g\.|for example|instead use|use|"
    r"(?:known|available|valid|supported|allowed|possible) [\w ]{1,30}?(?: are| is)?|"
    r"options(?: are)?|choices(?: are)?)\s*:?\s+(.+?)(?:[.?!;](?=\s|$)|\n|$)"
    r"|:\s*(.+?)(?:[.?!;](?=\s|$)|\n|$)"
)
_LIST_SPLIT = re.compile(r"\s*,\s*(?:or\s+|and\s+)?|\s+or\s+|\s+and\s+")
_MAX_OFFERED_WORDS = 5
_QUOTES = frozenset("\"'`‘’“”")


def _unquote(item: str) -> str:
    value = item.strip()
    for _ in range(3):
        value = value.rstrip(".…").strip().strip("\"'`‘’“”()[]{}<>").strip()
    return value


def reports_failure(content: str, data: object = None) -> bool:
    """Whether a tool result reports that the call failed rather than giving a result.

    Args:
        content: The result as text.
        data: The result parsed (JSON, `key: value` lines), if already known.
    """
    if _ERROR_START.match(content):
        return True
    if isinstance(data, Mapping):
        keys = {str(k).lower(): v for k, v in data.items()}
        return bool(keys.get("error")) and set(keys) <= _ERROR_KEYS
    if data is not None and not isinstance(data, str):
        return False
    head = content.lstrip()[:_FIRST_SENTENCE_CHARS]
    return _FAILURE_PHRASE.search(head) is not None


def offered_values(text: str) -> list[str]:
    """Values a failure text names: quoted ones, and items of the lists it offers.

    "Unknown city 'Atlantis'; known cities: Paris, Tokyo" gives Atlantis, Paris, Tokyo; the
    caller tells the value that failed from the ones offered instead.
    """
    found: list[str] = []
    for match in _QUOTED_VALUE.finditer(text):
        found.append(next(g for g in match.groups() if g is not None))
    for match in _OFFER.finditer(text):
        bare_colon = match.group(1) is None
        items = [_unquote(item) for item in _LIST_SPLIT.split(match.group(1) or match.group(2))]
        items = [i for i in items if i and len(i.split()) <= _MAX_OFFERED_WORDS]
        # After a bare colon only a real list counts ("Error: unknown zone" is no offer).
        if len(items) >= 2 or not bare_colon:
            found += [i for i in items if not _QUOTES & set(i)]
    return list(dict.fromkeys(v.strip() for v in found if v.strip()))


_ANSWER_FENCE = re.compile(r"```[\w-]*\s*\n(.*?)```", re.DOTALL)


def about_parameters(errors: Sequence[FieldError], parameters: Mapping[str, Any]) -> bool:
    """Whether errors talk about these parameters (so they are not just a tool's own output)."""
    properties = parameters.get("properties") if isinstance(parameters, Mapping) else None
    names = set(properties) if isinstance(properties, Mapping) else set()
    return all(not e.path or e.path[0] in names or "extra" in e.message.lower() for e in errors)


def show_path(path: Sequence[str | int]) -> str:
    """A field's path as written in prose: `items[0].name`; "the answer" for the root."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "the answer"


def extract_json(text: str) -> Any:
    """The JSON value an answer holds: the whole text, a fenced block, or the first object."""
    stripped = text.strip()
    fence = _ANSWER_FENCE.search(stripped)
    if fence:
        stripped = fence.group(1).strip()
    try:
        return json.loads(stripped)
    except ValueError:
        start = min((i for i in (stripped.find("{"), stripped.find("[")) if i >= 0), default=-1)
        if start >= 0:
            try:
                return json.JSONDecoder().raw_decode(stripped, start)[0]
            except ValueError:
                pass
    return None
