"""Fix an answer that came back with validation errors. Pure and stdlib only.

An agent tells the model what was wrong ("- rating: Input should be less than or equal to 5");
a careful model keeps what was fine and fixes what the errors name. `repair` does that: it
first makes the previous answer fit the schema (keeping every part that already fits), then
applies one fix per error, read from the error's words (bounds, lengths, allowed literals,
missing or extra fields, types, formats, what custom validators commonly say). Fresh values
come from the same `Filler` that built the answer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from ._evidence import Evidence
from ._feedback import FieldError
from ._fill import Filler
from ._schemas import generate_from_pattern, is_number, resolve, schema_type

__all__ = ["repair"]

_BOUND = re.compile(
    r"(less than or equal to|greater than or equal to|less than|greater than|at most|at least|"
    r"no more than|no less than|not more than|not less than|maximum(?: of)?|minimum(?: of)?|"
    r"<=|>=|<|>)\s*(-?\d+(?:\.\d+)?)"
)
_LENGTHY = re.compile(r"character|item|element|length|entr|value|long|short|char")
_LITERAL = re.compile(r"'([^']*)'|\"([^\"]*)\"")
_PATTERN_IN_MESSAGE = re.compile(r"pattern\s+['\"](.+)['\"]")
_EXTRA = re.compile(r"extra|additional propert|unexpected (?:keyword|argument|field)")
_CHOICE = re.compile(r"should be|one of|permitted|expected|must be|allowed")


class _Marker:
    """A sentinel: a field that is absent, or a field to delete."""


_MISSING = _Marker()
_DELETE = _Marker()


def repair(filler: Filler, previous: Any, errors: Sequence[FieldError]) -> Any:
    """Fix `previous` (an answer that failed validation) where `errors` say it is wrong.

    Args:
        filler: A filler for the answer's schema (its root) and the conversation.
        previous: The answer as parsed JSON; None when it was not JSON.
        errors: What the validation said, field by field.

    Returns:
        The fixed answer. An error about the whole answer (not JSON, not an object)
        rebuilds it from scratch.
    """
    if any(not e.path for e in errors):
        return filler.fill()
    value = conform(filler, previous, filler.root, "", depth=0)
    for error in errors:
        value = _fix(filler, value, error)
    return value


def conform(filler: Filler, value: Any, schema: Any, name: str, *, depth: int) -> Any:
    """Make `value` fit `schema`, keeping every part of it that already fits."""
    node, nullable = resolve(schema, filler.root)
    if value is None and nullable:
        return None
    kind = schema_type(node)
    if kind == "object" and isinstance(value, Mapping) and "enum" not in node:
        properties = node.get("properties") or {}
        extra = node.get("additionalProperties", True)
        out: dict[str, Any] = {}
        for key, item in value.items():
            if key in properties:
                out[key] = conform(filler, item, properties[key], key, depth=depth + 1)
            elif extra is not False:
                out[key] = item
        for key in node.get("required") or ():
            if key not in out and key in properties:
                out[key] = filler.value(properties[key], key, required=True, depth=depth + 1)[0]
        return out
    if kind == "array" and isinstance(value, list):
        items = [conform(filler, v, node.get("items", {}), name, depth=depth + 1) for v in value]
        item_node, _ = resolve(node.get("items", {}), filler.root)
        return filler.size_list(items, node, item_node, depth)
    ok, converted = filler.coerce(value, node, depth)
    if ok and kind not in ("object", "array"):
        return converted
    return filler.value(node, name, required=True, depth=depth)[0]


def _fix(filler: Filler, value: Any, error: FieldError) -> Any:
    *parents, last = error.path
    container = value
    for part in parents:
        if isinstance(container, Mapping) and part in container:
            container = container[part]
            continue
        if isinstance(container, list) and isinstance(part, int) and part < len(container):
            container = container[part]
            continue
        return value
    schema = _schema_at(filler.root, error.path)
    if isinstance(container, dict) and isinstance(last, str):
        fixed = _fixed(filler, container.get(last, _MISSING), schema, last, error.message)
        if fixed is _DELETE:
            container.pop(last, None)
        else:
            container[last] = fixed
    elif isinstance(container, list) and isinstance(last, int) and last < len(container):
        fixed = _fixed(filler, container[last], schema, "", error.message)
        if fixed is _DELETE:
            del container[last]
        else:
            container[last] = fixed
    return value


def _schema_at(root: Mapping[str, Any], path: Sequence[str | int]) -> Mapping[str, Any]:
    node: Any = root
    for part in path:
        resolved, _ = resolve(node, root)
        if isinstance(part, int) or schema_type(resolved) == "array":
            items = resolved.get("items", {})
            node = items[0] if isinstance(items, list) and items else items
            if isinstance(part, int):
                continue
            resolved, _ = resolve(node, root)
        properties = resolved.get("properties") or {}
        extra = resolved.get("additionalProperties")
        node = properties.get(part, extra if isinstance(extra, Mapping) else {})
    return node if isinstance(node, Mapping) else {}


def _fixed(filler: Filler, current: Any, schema: Mapping[str, Any], name: str, message: str) -> Any:
    """The value a field should have instead of `current`, by what the error says."""
    low = message.lower()
    node, nullable = resolve(schema, filler.root)
    kind = schema_type(node)
    if _EXTRA.search(low) and re.search(r"not (?:permitted|allowed)|forbidden|unexpected", low):
        return _DELETE
    bound = _BOUND.search(low)
    if bound is not None and current is not _MISSING:
        lengthy = _LENGTHY.search(low) is not None
        adjusted = _apply_bound(current, bound.group(1), float(bound.group(2)), lengthy, kind)
        if adjusted is not _MISSING:
            return adjusted
    literals = [a or b for a, b in _LITERAL.findall(message)]
    if literals and _CHOICE.search(low):
        literal = _choose_literal(literals, current, filler.ev)
        ok, value = filler.coerce(literal, node, 1) if kind != "any" else (True, literal)
        return value if ok else _typed_literal(literal)
    fresh = filler.value(node, name, required=True, depth=1)[0]
    pattern = _PATTERN_IN_MESSAGE.search(message)
    if pattern is not None:
        return (
            filler.pattern_candidate(pattern.group(1))
            or generate_from_pattern(pattern.group(1))
            or fresh
        )
    if current is _MISSING or "required" in low or "missing" in low:
        return fresh
    custom = _custom_fix(current, message)
    if custom is not _MISSING:
        return custom
    if "valid" in low or "type" in low or "parse" in low:
        ok, value = filler.coerce(current, node, 1)
        if ok:
            return value
    if nullable and "none" in low:
        return None
    return fresh


def _apply_bound(current: Any, relation: str, limit: float, lengthy: bool, kind: str) -> Any:
    at_most = relation.startswith(("less", "at most", "no more", "not more", "maximum", "<"))
    strict = relation in ("less than", "greater than", "<", ">")
    if lengthy and isinstance(current, str | list):
        size = int(limit) - (1 if strict and at_most else 0) + (1 if strict and not at_most else 0)
        if at_most:
            return current[:size]
        if isinstance(current, str):
            return current + "x" * max(0, size - len(current))
        last = current[-1] if current else ""
        return current + [last] * max(0, size - len(current))
    if kind in ("integer", "number") or is_number(current):
        integer = kind == "integer" or isinstance(current, int)
        delta = (1 if integer else 1e-6) if strict else 0
        target = limit - delta if at_most else limit + delta
        return int(target) if integer else target
    return _MISSING


def _choose_literal(literals: Sequence[str], current: Any, ev: Evidence) -> str:
    """The allowed literal closest to what was given, else one the message mentions."""
    text = str(current).lower() if current is not _MISSING else ""
    for literal in literals:
        if literal.lower() == text:
            return literal
    for literal in literals:
        if text and (literal.lower() in text or text in literal.lower()):
            return literal
    mentioned = ev.enum_values(literals)
    return str(mentioned[0]) if mentioned else literals[0]


def _typed_literal(literal: str) -> Any:
    try:
        return json.loads(literal)
    except ValueError:
        return literal


def _custom_fix(current: Any, message: str) -> Any:
    """Fixes for what custom validators commonly say ("must be positive", "uppercase")."""
    low = message.lower()
    if is_number(current):
        if "non-negative" in low or "not be negative" in low or "nonnegative" in low:
            return abs(current)
        if "positive" in low:
            return abs(current) if current else 1
        if "negative" in low:
            return -abs(current) if current else -1
        if re.search(r"\beven\b", low) and int(current) % 2:
            return int(current) + 1
        if re.search(r"\bodd\b", low) and not int(current) % 2:
            return int(current) + 1
    if isinstance(current, str):
        literal = _LITERAL.search(message)
        quoted = (literal.group(1) or literal.group(2)) if literal else None
        if re.search(r"upper ?case|capital", low):
            return current.upper()
        if re.search(r"lower ?case", low):
            return current.lower()
        if re.search(r"empty|blank", low) and not current.strip():
            return _MISSING
        if quoted is not None and re.search(r"(?:start|begin)s? with", low):
            return current if current.startswith(quoted) else quoted + current
        if quoted is not None and re.search(r"ends? with", low):
            return current if current.endswith(quoted) else current + quoted
        if quoted is not None and re.search(r"contains?", low):
            return current if quoted in current else f"{current} {quoted}".strip()
        if re.search(r"strip|whitespace", low):
            return current.strip()
    if isinstance(current, list) and re.search(r"unique|duplicate", low):
        unique: list[Any] = []
        for item in current:
            if item not in unique:
                unique.append(item)
        return unique
    return _MISSING
