"""Signature and docstring -> JSON Schema, and the schema dialects each provider accepts.

Pure: no I/O. The schema is built by pydantic's public API (`create_model`,
`model_json_schema`); the pydantic model is kept too, because arguments are always validated
against it, never against a transformed schema. What a target drops (Grok has no string
lengths, for instance) is therefore still enforced. Docstrings are read by `_docstring`;
`Docstring` and `parse_docstring` are re-exported here.

Targets:

- `openai`: the standard schema as pydantic writes it, without titles.
- `grok`: xAI's subset: `$ref`s inlined (recursive ones stay, with the `$defs` they need),
  no `allOf`, `oneOf` spelled `anyOf`, `const` spelled `enum`, no string lengths, array
  sizes, `minContains`/`maxContains` or `uniqueItems`.
- `strict`: OpenAI strict mode: every property required, optional ones nullable,
  `additionalProperties: false` on every object, no defaults or unsupported keywords.
"""

from __future__ import annotations

import copy
import inspect
import json
import re
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PydanticUserError, TypeAdapter, create_model
from pydantic.fields import FieldInfo

from ._docstring import Docstring, parse_docstring
from .context import RunContext
from .errors import ToolDefinitionError

__all__ = [
    "TOOL_NAME_PATTERN",
    "Docstring",
    "FunctionSchema",
    "Target",
    "clean_schema",
    "function_schema",
    "parse_docstring",
    "to_grok",
    "to_openai",
    "to_strict",
    "to_target",
]

Target = Literal["grok", "openai", "strict"]
"""The schema dialects: xAI's subset, standard JSON Schema, OpenAI strict mode."""

TOOL_NAME_PATTERN = re.compile(r"[a-zA-Z0-9_-]{1,64}")
"""What OpenAI-compatible APIs accept as a function name (matched in full)."""


# --------------------------------------------------------------------------------------------
# Signatures
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FunctionSchema:
    """A function seen as a tool: its name, description, argument model and JSON Schema.

    Attributes:
        name: The tool name.
        description: The explicit description, or the docstring without its sections.
        parameters: The JSON Schema of the arguments (the `openai` dialect). Treat as read-only.
        model: The pydantic model the arguments are validated with (every constraint kept).
        fields: `(model field, parameter)` pairs; they differ when a parameter name clashes
            with pydantic (`json`, `schema`, `_private`...), and the field then has an alias.
        context_param: The parameter that receives the `RunContext`, if any.
        receiver: The name of the `self` parameter of a method defined in a class, if any.
    """

    name: str
    description: str
    parameters: dict[str, Any]
    model: type[BaseModel]
    fields: tuple[tuple[str, str], ...]
    context_param: str | None = None
    receiver: str | None = None


def function_schema(
    function: Callable[..., Any], *, name: str | None = None, description: str | None = None
) -> FunctionSchema:
    """Read a function's signature, type hints and docstring into a `FunctionSchema`.

    Args:
        function: A plain or async function, a method defined in a class (its `self` is
            left out), or a callable object.
        name: The tool name; defaults to the function's `__name__`.
        description: The tool description; defaults to the docstring's text.

    Returns:
        The schema and the model that validates the arguments.

    Raises:
        ToolDefinitionError: The name is invalid, or a parameter is variadic,
            positional-only, unannotated, or of a type pydantic cannot describe.
    """
    label = f"{getattr(function, '__qualname__', None) or type(function).__qualname__}()"
    tool_name = name if name is not None else getattr(function, "__name__", "")
    if not TOOL_NAME_PATTERN.fullmatch(tool_name):
        raise ToolDefinitionError(
            f"cannot make a tool from {label}: {tool_name!r} is not a valid tool name; "
            "use 1 to 64 letters, digits, '_' or '-', e.g. @tool(name='get_weather')"
        )
    if inspect.isgeneratorfunction(function) or inspect.isasyncgenfunction(function):
        raise ToolDefinitionError(
            f"cannot make a tool from {label}: it is a generator; a tool must return its "
            "result, so collect the items into a list and return that"
        )
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError) as exc:
        raise ToolDefinitionError(
            f"cannot make a tool from {label}: its signature cannot be read ({exc}); "
            "wrap it in a plain function with annotated parameters"
        ) from exc
    hints_owner = function if inspect.isroutine(function) else type(function).__call__
    try:
        hints = typing.get_type_hints(hints_owner, include_extras=True)
    except Exception as exc:  # NameError, TypeError...: any unresolvable annotation
        raise ToolDefinitionError(
            f"cannot make a tool from {label}: its annotations cannot be resolved ({exc}); "
            "define or import the types at module level"
        ) from exc

    docstring = parse_docstring(inspect.getdoc(function))
    parameters = list(signature.parameters.values())
    receiver = None
    if parameters and parameters[0].name == "self" and _defined_in_class(function):
        receiver = parameters[0].name
        parameters = parameters[1:]

    taken = {p.name for p in parameters}
    definitions: dict[str, Any] = {}
    pairs: list[tuple[str, str]] = []
    context_param: str | None = None
    for param in parameters:
        _check_parameter(label, param, hints)
        annotation = hints[param.name]
        if _is_run_context(annotation):
            if context_param is not None:
                raise ToolDefinitionError(
                    f"cannot make a tool from {label}: parameters {context_param!r} and "
                    f"{param.name!r} both take the RunContext; keep one"
                )
            context_param = param.name
            continue
        field_name = param.name
        if _clashes_with_pydantic(param.name):
            field_name = _fresh_name(taken)
            taken.add(field_name)
            annotation = Annotated[annotation, Field(alias=param.name)]
        doc = docstring.params.get(param.name)
        if doc and not _has_description(annotation, param.default):
            annotation = Annotated[annotation, Field(description=doc)]
        default = ... if param.default is inspect.Parameter.empty else param.default
        definitions[field_name] = (annotation, default)
        pairs.append((field_name, param.name))

    # extra="forbid": an argument the model invents is a mistake it should hear about
    # ("location: Extra inputs are not permitted" next to "city: Field required").
    # allow_inf_nan=False: JSON Schema's "number" has no inf or nan, so neither may a call.
    config = ConfigDict(extra="forbid", protected_namespaces=(), allow_inf_nan=False)
    try:
        model = create_model(f"{tool_name}_arguments", __config__=config, **definitions)
        schema = clean_schema(model.model_json_schema())
    except (PydanticUserError, TypeError, ValueError, KeyError) as exc:
        # KeyError: pydantic reads a default holding a "$ref" key as a reference.
        culprit = _first_bad_parameter(parameters, hints)
        where = f"parameter {culprit!r}" if culprit else "its parameters"
        raise ToolDefinitionError(
            f"cannot make a tool from {label}: no JSON Schema for {where} "
            f"({str(exc).splitlines()[0]}); "
            "use JSON-friendly types: str, int, float, bool, lists, dicts, Literal, Enum, "
            "pydantic models, dataclasses or TypedDicts"
        ) from exc
    return FunctionSchema(
        name=tool_name,
        description=description if description is not None else docstring.description,
        parameters=schema,
        model=model,
        fields=tuple(pairs),
        context_param=context_param,
        receiver=receiver,
    )


def _check_parameter(label: str, param: inspect.Parameter, hints: Mapping[str, Any]) -> None:
    if param.kind is inspect.Parameter.VAR_POSITIONAL:
        raise ToolDefinitionError(
            f"cannot make a tool from {label}: parameter '*{param.name}' takes any number of "
            f"positional values, which a model cannot send; use a list, e.g. "
            f"`{param.name}: list[str]`"
        )
    if param.kind is inspect.Parameter.VAR_KEYWORD:
        raise ToolDefinitionError(
            f"cannot make a tool from {label}: parameter '**{param.name}' takes arbitrary "
            f"keywords, which have no schema; name each parameter, or take a dict, e.g. "
            f"`{param.name}: dict[str, str]`"
        )
    if param.kind is inspect.Parameter.POSITIONAL_ONLY:
        raise ToolDefinitionError(
            f"cannot make a tool from {label}: parameter {param.name!r} is positional-only, "
            "but a model passes arguments by name; remove the '/' from the signature"
        )
    if param.name not in hints:
        raise ToolDefinitionError(
            f"cannot make a tool from {label}: parameter {param.name!r} has no type "
            f"annotation; annotate it (e.g. `{param.name}: str`) so its schema can be built"
        )


def _defined_in_class(function: Callable[..., Any]) -> bool:
    # A function written in a class body has the class as the last qualname part before it.
    parts = getattr(function, "__qualname__", "").split(".")
    return inspect.isfunction(function) and len(parts) >= 2 and parts[-2] != "<locals>"


def _is_run_context(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if annotation is RunContext or origin is RunContext:
        return True
    # `RunContext[D] | None` and `Annotated[RunContext[D], ...]` are still the context: left
    # in, pydantic would describe the dataclass and the model would be asked to send it.
    if origin is Annotated:
        return _is_run_context(typing.get_args(annotation)[0])
    if origin is typing.Union or origin is types.UnionType:
        return any(_is_run_context(arg) for arg in typing.get_args(annotation))
    return False


def _clashes_with_pydantic(name: str) -> bool:
    # Underscored names would become private attributes, and the others shadow BaseModel.
    return name.startswith(("_", "model_")) or hasattr(BaseModel, name)


def _fresh_name(taken: set[str]) -> str:
    index = 0
    while f"arg{index}" in taken:
        index += 1
    return f"arg{index}"


def _has_description(annotation: Any, default: Any) -> bool:
    if isinstance(default, FieldInfo) and default.description:
        return True
    if typing.get_origin(annotation) is Annotated:
        return any(
            isinstance(meta, FieldInfo) and meta.description
            for meta in typing.get_args(annotation)[1:]
        )
    return False


def _first_bad_parameter(parameters: list[inspect.Parameter], hints: Mapping[str, Any]) -> str:
    for param in parameters:
        try:
            TypeAdapter(hints[param.name]).json_schema()
        except Exception:  # only looking for the culprit; the caller reports the real error
            return param.name
    return ""


# --------------------------------------------------------------------------------------------
# Dialects
# --------------------------------------------------------------------------------------------

_SCHEMA_MAPS = frozenset(
    {"properties", "$defs", "definitions", "patternProperties", "dependentSchemas"}
)
_SCHEMA_LISTS = frozenset({"anyOf", "oneOf", "allOf", "prefixItems"})
_SCHEMA_VALUES = frozenset(
    {"items", "additionalProperties", "not", "contains", "propertyNames", "if", "then", "else",
     "additionalItems", "unevaluatedItems", "unevaluatedProperties"}
)  # fmt: skip

_GROK_REJECTED = frozenset(
    {"minLength", "maxLength", "minItems", "maxItems", "minContains", "maxContains",
     "uniqueItems", "discriminator"}
)  # fmt: skip
_STRICT_KEYWORDS = frozenset(
    {"type", "properties", "required", "additionalProperties", "items", "enum", "const", "anyOf",
     "$ref", "$defs", "description", "pattern", "format", "minimum", "maximum",
     "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "minItems", "maxItems"}
)  # fmt: skip
_STRICT_FORMATS = frozenset(
    {"date-time", "time", "date", "duration", "email", "hostname", "ipv4", "ipv6", "uuid"}
)
_DEFS_PREFIX = "#/$defs/"

_NodeFn = Callable[[dict[str, Any], str], dict[str, Any]]


def clean_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    """Copy a pydantic JSON Schema without its `title`s, which only cost the model tokens."""
    return _rewrite(schema, _drop_title)


def to_openai(schema: Mapping[str, Any]) -> dict[str, Any]:
    """The standard dialect: a deep copy of the schema."""
    return copy.deepcopy(dict(schema))


def to_grok(schema: Mapping[str, Any]) -> dict[str, Any]:
    """Rewrite a schema into xAI's subset (see the module docstring).

    Raises:
        ValueError: The root is an `anyOf`, which Grok rejects; wrap the union in an object.
    """
    result = _rewrite(_inline_refs(schema), _grok_node)
    if "anyOf" in result:
        raise ValueError("Grok rejects an anyOf at the root of a schema; wrap it in an object")
    return result


def to_strict(schema: Mapping[str, Any]) -> dict[str, Any]:
    """Rewrite a schema for OpenAI strict mode (see the module docstring).

    Raises:
        ValueError: Strict mode cannot say it: a root that is not an object, or an object with
            free-form keys (`dict[str, X]`, a model with `extra="allow"`).
    """
    result = _rewrite(schema, _strict_node)
    if result.get("type") != "object":
        raise ValueError("OpenAI strict mode needs an object at the root of the schema")
    defs = result.get("$defs", {})

    # Strict mode refuses keywords next to a `$ref`, so a described reference is inlined.
    def inline_described_ref(node: dict[str, Any], path: str) -> dict[str, Any]:
        ref = node.get("$ref")
        if len(node) > 1 and isinstance(ref, str) and ref.removeprefix(_DEFS_PREFIX) in defs:
            siblings = {k: v for k, v in node.items() if k != "$ref"}
            return {**copy.deepcopy(defs[ref.removeprefix(_DEFS_PREFIX)]), **siblings}
        return node

    return _rewrite(result, inline_described_ref)


def to_target(schema: Mapping[str, Any], target: Target) -> dict[str, Any]:
    """Rewrite `schema` for `target`: `"grok"`, `"openai"` or `"strict"`.

    Raises:
        ValueError: An unknown target, or a schema the target cannot express.
    """
    if target == "grok":
        return to_grok(schema)
    if target == "openai":
        return to_openai(schema)
    if target == "strict":
        return to_strict(schema)
    raise ValueError(f"unknown schema target {target!r}; use 'grok', 'openai' or 'strict'")


def _map_children(
    node: Mapping[str, Any], fn: Callable[[Any, str], Any], path: str
) -> dict[str, Any]:
    """Copy `node`, passing each subschema (and its JSON-pointer path) through `fn`."""
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _SCHEMA_MAPS and isinstance(value, Mapping):
            out[key] = {k: fn(v, f"{path}/{key}/{k}") for k, v in value.items()}
        elif key in _SCHEMA_LISTS and isinstance(value, list):
            out[key] = [fn(v, f"{path}/{key}/{i}") for i, v in enumerate(value)]
        elif key in _SCHEMA_VALUES:
            out[key] = fn(value, f"{path}/{key}")
        else:
            out[key] = copy.deepcopy(value)
    return out


def _rewrite(schema: Mapping[str, Any], fn: _NodeFn) -> dict[str, Any]:
    result: dict[str, Any] = _walk(schema, fn, "#")
    return result


def _walk(node: Any, fn: _NodeFn, path: str) -> Any:
    """Rebuild a schema bottom-up, passing every schema object through `fn`."""
    if not isinstance(node, Mapping):  # `true` / `false` schemas
        return node
    return fn(_map_children(node, lambda child, where: _walk(child, fn, where), path), path)


def _inline_refs(schema: Mapping[str, Any]) -> dict[str, Any]:
    """Replace each `$ref` by its definition, keeping only the `$defs` recursion needs."""
    defs: Mapping[str, Any] = schema.get("$defs", {})
    needed: set[str] = set()

    def resolve(node: Any, stack: frozenset[str]) -> Any:
        if not isinstance(node, Mapping):
            return node
        ref = node.get("$ref")
        children = _map_children(node, lambda child, _: resolve(child, stack), "")
        if not isinstance(ref, str) or not ref.startswith(_DEFS_PREFIX):
            return children
        name = ref.removeprefix(_DEFS_PREFIX)
        if name in stack or name not in defs:
            needed.add(name)
            return children
        siblings = {k: v for k, v in children.items() if k != "$ref"}
        return {**resolve(defs[name], stack | {name}), **siblings}

    body: dict[str, Any] = resolve({k: v for k, v in schema.items() if k != "$defs"}, frozenset())
    kept: dict[str, Any] = {}
    while pending := [n for n in needed if n not in kept and n in defs]:
        for name in pending:
            kept[name] = resolve(defs[name], frozenset({name}))
    if kept:
        body["$defs"] = kept
    return body


def _drop_title(node: dict[str, Any], path: str) -> dict[str, Any]:
    node.pop("title", None)
    return node


def _merge_all_of(node: dict[str, Any]) -> dict[str, Any]:
    parts = node.pop("allOf", None)
    if not isinstance(parts, list):
        return node
    merged: dict[str, Any] = {}
    for part in [*parts, node]:
        if not isinstance(part, Mapping):
            continue
        for key, value in part.items():
            if key == "properties" and isinstance(merged.get(key), dict):
                merged[key] = {**merged[key], **value}
            elif key == "required" and isinstance(merged.get(key), list):
                merged[key] = [*merged[key], *(r for r in value if r not in merged[key])]
            else:
                merged[key] = value
    return merged


def _prefix_items_to_items(node: dict[str, Any]) -> None:
    # Tuples: neither dialect has prefixItems, so allow any of the element types.
    prefix = node.pop("prefixItems", None)
    if not isinstance(prefix, list):
        return
    variants = [*prefix, *([node["items"]] if isinstance(node.get("items"), Mapping) else [])]
    unique = list({json.dumps(v, sort_keys=True): v for v in variants}.values())
    if unique:
        node["items"] = unique[0] if len(unique) == 1 else {"anyOf": unique}


def _grok_node(node: dict[str, Any], path: str) -> dict[str, Any]:
    node = _merge_all_of(node)
    if "oneOf" in node and "anyOf" not in node:
        node["anyOf"] = node.pop("oneOf")
    if "const" in node and "enum" not in node:
        node["enum"] = [node.pop("const")]
    _prefix_items_to_items(node)
    for key in _GROK_REJECTED.intersection(node):
        del node[key]
    any_of = node.get("anyOf")
    if isinstance(any_of, list) and len(any_of) == 1 and isinstance(any_of[0], Mapping):
        rest = {k: v for k, v in node.items() if k != "anyOf"}
        node = {**any_of[0], **rest}
    return node


def _strict_node(node: dict[str, Any], path: str) -> dict[str, Any]:
    node = _merge_all_of(node)
    if "oneOf" in node and "anyOf" not in node:
        node["anyOf"] = node.pop("oneOf")
    _prefix_items_to_items(node)
    if node.get("format") not in _STRICT_FORMATS:
        node.pop("format", None)
    node = {k: v for k, v in node.items() if k in _STRICT_KEYWORDS}
    if node.get("type") != "object" and "properties" not in node:
        return node
    if node.get("additionalProperties") not in (None, False):
        raise ValueError(
            f"OpenAI strict mode cannot express the object at {path}: it allows free-form keys "
            "(a dict, or a model with extra='allow'); use a model with fixed fields"
        )
    properties: dict[str, Any] = node.get("properties", {})
    required = set(node.get("required", []))
    node["properties"] = {
        name: prop if name in required else _nullable(prop) for name, prop in properties.items()
    }
    node["required"] = list(properties)
    node["additionalProperties"] = False
    return node


def _nullable(schema: Any) -> Any:
    if not isinstance(schema, dict) or _accepts_null(schema):
        return schema
    inner = dict(schema)
    description = inner.pop("description", None)
    if set(inner) == {"anyOf"}:
        wrapped: dict[str, Any] = {"anyOf": [*inner["anyOf"], {"type": "null"}]}
    else:
        wrapped = {"anyOf": [inner, {"type": "null"}]}
    if description is not None:
        wrapped["description"] = description
    return wrapped


def _accepts_null(schema: Mapping[str, Any]) -> bool:
    kind = schema.get("type")
    if kind == "null" or (isinstance(kind, list) and "null" in kind):
        return True
    if None in schema.get("enum", ()):
        return True
    return any(isinstance(s, Mapping) and _accepts_null(s) for s in schema.get("anyOf", ()))
