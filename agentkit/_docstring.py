"""Docstring -> description and parameter descriptions, for Google, NumPy and reST (Sphinx).

Pure: no I/O. `_schema` uses it to describe a tool and its parameters.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

__all__ = ["Docstring", "parse_docstring"]


@dataclass(frozen=True)
class Docstring:
    """What a docstring says about a function.

    Attributes:
        description: The text without the parameter, returns, yields and raises sections.
        params: Parameter name -> description, from whichever style the docstring uses.
    """

    description: str
    params: dict[str, str] = field(default_factory=dict)


_GOOGLE_PARAM_SECTIONS = frozenset(
    {"args", "arguments", "parameters", "params", "keyword args", "keyword arguments",
     "other parameters", "kwargs"}
)  # fmt: skip
_GOOGLE_DROPPED_SECTIONS = _GOOGLE_PARAM_SECTIONS | {
    "returns", "return", "yields", "yield", "raises", "raise", "exceptions", "warns",
}  # fmt: skip
_NUMPY_PARAM_SECTIONS = frozenset({"parameters", "other parameters", "keyword arguments"})
_NUMPY_DROPPED_SECTIONS = _NUMPY_PARAM_SECTIONS | {
    "returns", "yields", "receives", "raises", "warns",
}  # fmt: skip

_GOOGLE_HEADER = re.compile(r"([A-Za-z][A-Za-z ]*):")
_GOOGLE_ENTRY = re.compile(r"\*{0,2}(\w+)\s*(?:\([^)]*\))?\s*:(.*)")
_NUMPY_UNDERLINE = re.compile(r"-{3,}")
_NUMPY_ENTRY = re.compile(r"(\*{0,2}\w+(?:\s*,\s*\*{0,2}\w+)*)\s*(?::.*)?")
_REST_PARAM = re.compile(
    r":(?:param|parameter|arg|argument|key|keyword)\s+(?:[^:]*?\s+)?\*{0,2}(\w+)\s*:(.*)"
)
_REST_OTHER = re.compile(
    r":(?:type|returns?|rtype|raises?|except|exception|yields?|ytype|kwtype|vartype)\b[^:]*:"
)


def parse_docstring(doc: str | None) -> Docstring:
    """Split a Google, NumPy or reST (Sphinx) docstring into description and parameters.

    The styles do not collide, so one pass reads all three. Sections other than parameters,
    returns, yields and raises (Examples, Notes...) stay in the description.

    Args:
        doc: The docstring, raw or already cleaned; None for none.

    Returns:
        The description and the parameter descriptions.
    """
    if not doc:
        return Docstring("")
    lines = inspect.cleandoc(doc).splitlines()
    kept: list[str] = []
    params: dict[str, str] = {}
    i = 0
    while i < len(lines):
        line = lines[i]
        text = line.strip()
        indent = _indent(line)
        if _is_numpy_header(lines, i):
            end = _numpy_section_end(lines, i + 2)
            section = text.lower()
            if section in _NUMPY_PARAM_SECTIONS:
                params.update(_numpy_entries(lines[i + 2 : end], indent))
            if section not in _NUMPY_DROPPED_SECTIONS:
                kept.extend(lines[i:end])
            i = end
            continue
        header = _GOOGLE_HEADER.fullmatch(text)
        if header and header.group(1).lower() in _GOOGLE_DROPPED_SECTIONS:
            end = _block_end(lines, i + 1, indent, through_blank_lines=True)
            if header.group(1).lower() in _GOOGLE_PARAM_SECTIONS:
                params.update(_google_entries(lines[i + 1 : end]))
            i = end
            continue
        rest = _REST_PARAM.match(text)
        if rest or _REST_OTHER.match(text):
            end = _block_end(lines, i + 1, indent, through_blank_lines=False)
            if rest:
                params[rest.group(1)] = _join([rest.group(2), *lines[i + 1 : end]])
            i = end
            continue
        kept.append(line)
        i += 1
    description = re.sub(r"\n{3,}", "\n\n", "\n".join(s.rstrip() for s in kept)).strip()
    return Docstring(description, params)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _join(parts: Iterable[str]) -> str:
    return " ".join(p.strip() for p in parts if p.strip())


def _is_numpy_header(lines: list[str], i: int) -> bool:
    return (
        i + 1 < len(lines)
        and bool(lines[i].strip())
        and _NUMPY_UNDERLINE.fullmatch(lines[i + 1].strip()) is not None
        and _indent(lines[i + 1]) == _indent(lines[i])
    )


def _numpy_section_end(lines: list[str], start: int) -> int:
    end = start
    while end < len(lines) and not _is_numpy_header(lines, end):
        end += 1
    return end


def _block_end(lines: list[str], start: int, indent: int, *, through_blank_lines: bool) -> int:
    """Index after the lines indented deeper than `indent` that follow `start - 1`."""
    end = start
    while end < len(lines):
        if lines[end].strip():
            if _indent(lines[end]) <= indent:
                break
            end += 1
            continue
        if not through_blank_lines:
            break
        # A blank line ends the block unless the block goes on, indented, after it.
        following = next((ln for ln in lines[end:] if ln.strip()), None)
        if following is None or _indent(following) <= indent:
            break
        end += 1
    return end


def _google_entries(body: list[str]) -> dict[str, str]:
    entries: dict[str, list[str]] = {}
    entry_indent: int | None = None
    current: list[str] | None = None
    for line in body:
        if not line.strip():
            continue
        if entry_indent is None:
            entry_indent = _indent(line)
        match = _GOOGLE_ENTRY.fullmatch(line.strip())
        if _indent(line) == entry_indent and match:
            current = entries.setdefault(match.group(1), [])
            current.append(match.group(2))
        elif current is not None:
            current.append(line)
    return {name: _join(parts) for name, parts in entries.items()}


def _numpy_entries(body: list[str], indent: int) -> dict[str, str]:
    entries: dict[str, list[str]] = {}
    current: list[list[str]] = []
    for line in body:
        if not line.strip():
            continue
        match = _NUMPY_ENTRY.fullmatch(line.strip())
        if _indent(line) == indent and match:
            names = [n.strip().lstrip("*") for n in match.group(1).split(",")]
            current = [entries.setdefault(name, []) for name in names]
        else:
            for parts in current:
                parts.append(line)
    return {name: _join(parts) for name, parts in entries.items()}
