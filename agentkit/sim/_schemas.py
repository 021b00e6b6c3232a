"""JSON Schema nodes and the scalars that fit them. Pure and stdlib only.

Resolving `$ref`s and nullable unions to one concrete node, reading a node's type, fitting
numbers to bounds, reading numbers and booleans out of loose values, and writing a string
that a `pattern` accepts.
"""

from __future__ import annotations

import importlib
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "fit_number",
    "generate_from_pattern",
    "is_number",
    "matches_pattern",
    "resolve",
    "schema_type",
    "show_number",
    "to_bool",
    "to_number",
]

_NUMERIC_TEXT = re.compile(r"\s*[-+]?\$?\s*(\d[\d,]*(?:\.\d+)?|\.\d+)\s*[^\d\s]{0,12}\s*")


def resolve(schema: Any, root: Mapping[str, Any]) -> tuple[Mapping[str, Any], bool]:
    """Follow `$ref`s and pick the first non-null branch of `anyOf`/`oneOf`/type lists.

    Args:
        schema: A schema node.
        root: The document `$ref`s point into.

    Returns:
        The concrete node (siblings such as `description` and `default` kept) and whether
        null is allowed too.
    """
    nullable = False
    node: Any = schema
    for _ in range(32):
        if not isinstance(node, Mapping):
            return {}, nullable
        if node.get("nullable") is True:
            nullable = True
        ref = node.get("$ref")
        if isinstance(ref, str):
            target = _pointer(root, ref)
            node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
            continue
        for key in ("anyOf", "oneOf"):
            branches = node.get(key)
            if isinstance(branches, list) and branches:
                concrete = [b for b in branches if not _is_null(b)]
                nullable = nullable or len(concrete) < len(branches)
                pick = concrete[0] if concrete else {"type": "null"}
                rest = {k: v for k, v in node.items() if k != key}
                node = {**rest, **pick} if isinstance(pick, Mapping) else rest
                break
        else:
            all_of = node.get("allOf")
            if isinstance(all_of, list) and all_of:
                merged: dict[str, Any] = {k: v for k, v in node.items() if k != "allOf"}
                for part in all_of:
                    part_node, _ = resolve(part, root)
                    for key, value in part_node.items():
                        if key in ("properties",) and isinstance(value, Mapping):
                            merged["properties"] = {**merged.get("properties", {}), **value}
                        elif key == "required" and isinstance(value, list):
                            merged["required"] = [*merged.get("required", []), *value]
                        else:
                            merged.setdefault(key, value)
                node = merged
                continue
            kind = node.get("type")
            if isinstance(kind, list):
                concrete_types = [t for t in kind if t != "null"]
                nullable = nullable or len(concrete_types) < len(kind)
                node = {**node, "type": concrete_types[0] if concrete_types else "null"}
            return node, nullable
    return {}, nullable


def _is_null(branch: Any) -> bool:
    return isinstance(branch, Mapping) and branch.get("type") == "null"


def _pointer(root: Mapping[str, Any], ref: str) -> Mapping[str, Any]:
    if not ref.startswith("#"):
        return {}
    node: Any = root
    for part in ref[1:].split("/"):
        if not part:
            continue
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        else:
            return {}
    return node if isinstance(node, Mapping) else {}


def schema_type(node: Mapping[str, Any]) -> str:
    """The JSON type a resolved node asks for; "any" when it does not say."""
    kind = node.get("type")
    if isinstance(kind, str):
        return kind
    if "properties" in node:
        return "object"
    if "items" in node:
        return "array"
    values = node.get("enum")
    if isinstance(values, list) and values:
        first = values[0]
        if isinstance(first, bool):
            return "boolean"
        if isinstance(first, int):
            return "integer"
        if isinstance(first, float):
            return "number"
        return "string"
    return "any"


def matches_pattern(pattern: str, text: str) -> bool:
    """Whether `text` matches a JSON Schema `pattern` (searched, not anchored, as the spec says)."""
    try:
        return re.search(pattern, text) is not None
    except re.error:
        return True  # a pattern Python cannot read cannot be checked, so it cannot be fixed


def show_number(value: int | float) -> str:
    """A number as text, without a trailing ".0" on whole floats."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def to_number(value: Any) -> int | float | None:
    """A number from a number or a numeric string ("21.5", "1,200", "21 C"); None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        match = _NUMERIC_TEXT.fullmatch(value)
        if match is None:
            return None
        raw = match.group(1).replace(",", "")
        negative = value.strip().startswith("-")
        number = float(raw) if "." in raw else int(raw)
        return -number if negative else number
    return None


def to_bool(value: Any) -> bool | None:
    """A boolean from a bool, 0/1, or a yes/no word; None otherwise."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in ("true", "yes", "y", "1", "on", "enabled"):
            return True
        if word in ("false", "no", "n", "0", "off", "disabled"):
            return False
    return None


def fit_number(value: float, node: Mapping[str, Any], *, integer: bool) -> int | float:
    """Clamp `value` to the node's bounds and `multipleOf`; integers are rounded."""
    low, high = _bound(node, "minimum"), _bound(node, "maximum")
    xlow, xhigh = _bound(node, "exclusiveMinimum"), _bound(node, "exclusiveMaximum")
    # Draft 4 spells exclusive bounds as booleans next to minimum/maximum.
    if node.get("exclusiveMinimum") is True:
        xlow, low = low, None
    if node.get("exclusiveMaximum") is True:
        xhigh, high = high, None
    number = float(round(value)) if integer else float(value)
    step = 1.0
    lower = low if low is not None else xlow
    upper = high if high is not None else xhigh
    if not integer and lower is not None and upper is not None and upper > lower:
        step = min(1.0, (upper - lower) / 2)
    if low is not None and number < low:
        number = float(math.ceil(low)) if integer else low
    if xlow is not None and number <= xlow:
        number = float(math.floor(xlow) + 1) if integer else xlow + step
    if high is not None and number > high:
        number = float(math.floor(high)) if integer else high
    if xhigh is not None and number >= xhigh:
        number = float(math.ceil(xhigh) - 1) if integer else xhigh - step
    multiple = _bound(node, "multipleOf")
    if multiple is not None and multiple > 0:
        number = round(number / multiple) * multiple
        if (low is not None and number < low) or (xlow is not None and number <= xlow):
            number += multiple
        if (high is not None and number > high) or (xhigh is not None and number >= xhigh):
            number -= multiple
    if integer:
        return round(number)
    return int(number) if number.is_integer() and isinstance(value, int) else number


def _bound(node: Mapping[str, Any], key: str) -> float | None:
    value = node.get(key)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def is_number(value: Any) -> bool:
    """Whether `value` is an int or float (a bool is not)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


# --------------------------------------------------------------------------------------------
# Strings from patterns
# --------------------------------------------------------------------------------------------


def generate_from_pattern(pattern: str) -> str | None:
    """The shortest simple string `pattern` matches (`^[A-Z]{3}$` -> "AAA"), or None.

    Handles literals, classes, repeats, groups and alternation; gives up (None) on
    backreferences and on anything the result then fails to match.
    """
    try:
        # The stdlib's regex parser is private, but it is the only parser of Python's own
        # regex syntax; any change in it only makes this return None.
        parser: Any = importlib.import_module("re._parser")
        parsed = parser.parse(pattern)
        out: list[str] = []
        _emit(list(parsed), out)
    except Exception:
        return None
    text = "".join(out)
    return text if matches_pattern(pattern, text) else None


def _emit(items: Sequence[Any], out: list[str]) -> None:
    for op, arg in items:
        name = str(op)
        if name == "LITERAL":
            out.append(chr(arg))
        elif name == "NOT_LITERAL":
            out.append("a" if chr(arg) != "a" else "b")
        elif name == "ANY":
            out.append("a")
        elif name == "IN":
            out.append(_class_char(arg))
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            low, _, sub = arg
            for _ in range(low):
                _emit(list(sub), out)
        elif name == "SUBPATTERN":
            _emit(list(arg[-1]), out)
        elif name == "ATOMIC_GROUP":
            _emit(list(arg), out)
        elif name == "BRANCH":
            _emit(list(arg[1][0]), out)
        elif name in ("AT", "ASSERT", "ASSERT_NOT"):
            continue
        else:
            raise ValueError(f"cannot generate {name}")


_CATEGORY_CHARS = {
    "CATEGORY_DIGIT": "0", "CATEGORY_NOT_DIGIT": "a", "CATEGORY_WORD": "a",
    "CATEGORY_NOT_WORD": "-", "CATEGORY_SPACE": " ", "CATEGORY_NOT_SPACE": "a",
}  # fmt: skip


def _class_char(items: Sequence[Any]) -> str:
    negate = bool(items) and str(items[0][0]) == "NEGATE"
    if not negate:
        op, arg = items[0]
        name = str(op)
        if name == "LITERAL":
            return chr(arg)
        if name == "RANGE":
            return chr(arg[0])
        if name == "CATEGORY":
            return _CATEGORY_CHARS.get(str(arg), "a")
        raise ValueError(f"cannot generate from {name}")
    for candidate in "aA0_- x":
        if not any(_class_has(op, arg, candidate) for op, arg in items[1:]):
            return candidate
    raise ValueError("no character outside the class")


def _class_has(op: Any, arg: Any, char: str) -> bool:
    name = str(op)
    if name == "LITERAL":
        return chr(arg) == char
    if name == "RANGE":
        return bool(arg[0] <= ord(char) <= arg[1])
    if name == "CATEGORY":
        return (
            re.fullmatch(
                {
                    "CATEGORY_DIGIT": r"\d",
                    "CATEGORY_NOT_DIGIT": r"\D",
                    "CATEGORY_WORD": r"\w",
                    "CATEGORY_NOT_WORD": r"\W",
                    "CATEGORY_SPACE": r"\s",
                    "CATEGORY_NOT_SPACE": r"\S",
                }.get(str(arg), "."),
                char,
            )
            is not None
        )
    return False
