"""Signature -> JSON Schema, docstring parsing and the grok / openai / strict dialects."""

from __future__ import annotations

import dataclasses
import datetime
import enum
import uuid
from pathlib import Path
from typing import Annotated, Any, Literal, NotRequired

import jsonschema
import pytest
from pydantic import BaseModel, Field
from typing_extensions import TypedDict  # pydantic needs this one before Python 3.12

from agentkit._schema import (
    Docstring,
    clean_schema,
    function_schema,
    parse_docstring,
    to_grok,
    to_openai,
    to_strict,
    to_target,
)
from agentkit.context import RunContext
from agentkit.errors import ToolArgumentsError
from agentkit.tool import Tool

# --------------------------------------------------------------------------------------------
# Types the signatures use
# --------------------------------------------------------------------------------------------


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Address(BaseModel):
    """A postal address."""

    street: str = Field(max_length=40)
    zip_code: str | None = None


class Node(BaseModel):
    value: int
    children: list[Node] = []


@dataclasses.dataclass
class Point:
    x: float
    y: float = 0.0


class Filters(TypedDict):
    tag: str
    limit: NotRequired[int]


class Cat(BaseModel):
    kind: Literal["cat"]
    lives: int


class Dog(BaseModel):
    kind: Literal["dog"]
    good: bool


# --------------------------------------------------------------------------------------------
# The signatures
# --------------------------------------------------------------------------------------------


def s01(city: str) -> None: ...
def s02(days: int = 3) -> None: ...
def s03(ratio: float, enabled: bool) -> None: ...
def s04() -> None: ...
def s05(note: str | None = None) -> None: ...
def s06(note: str | None) -> None: ...
def s07(key: int | str) -> None: ...
def s08(unit: Literal["c", "f"] = "c") -> None: ...
def s09(mode: Literal["only"]) -> None: ...
def s10(color: Color = Color.RED) -> None: ...
def s11(tags: list[str]) -> None: ...
def s12(pair: tuple[int, str]) -> None: ...
def s13(numbers: tuple[int, ...]) -> None: ...
def s14(labels: set[str]) -> None: ...
def s15(counts: dict[str, int]) -> None: ...
def s16(address: Address) -> None: ...
def s17(address: Address | None = None) -> None: ...
def s18(point: Point) -> None: ...
def s19(filters: Filters) -> None: ...
def s20(days: Annotated[int, Field(ge=1, le=14, description="Days ahead.")] = 3) -> None: ...
def s21(code: Annotated[str, Field(min_length=2, max_length=8, pattern="^[A-Z]+$")]) -> None: ...
def s22(ids: Annotated[list[int], Field(min_length=1, max_length=5)]) -> None: ...
def s23(day: datetime.date, at: datetime.datetime) -> None: ...
def s24(item_id: uuid.UUID) -> None: ...
def s25(path: Path) -> None: ...
def s26(temperature: Annotated[float, Field(gt=-273.15, lt=1000)]) -> None: ...
def s27(tree: Node) -> None: ...
def s28(pet: Annotated[Cat | Dog, Field(discriminator="kind")]) -> None: ...
def s29(json: str, _private: int = 0) -> None: ...
def s30(limit: int = Field(10, description="Most rows.")) -> None: ...
def s31(addresses: list[Address]) -> None: ...
def s32(ctx: RunContext[int], query: str) -> None: ...
def s33(query: str, ctx: RunContext) -> None: ...  # type: ignore[type-arg]


def s34(city: str, days: int = 3) -> None:
    """Forecast for a city.

    Args:
        city: City name,
            e.g. "Paris".
        days (int, optional): How many days ahead.

    Returns:
        The forecast.
    """


def s35(city: str, days: int = 3) -> None:
    """Forecast for a city.

    Parameters
    ----------
    city : str
        City name.
    days : int, optional
        How many days
        ahead.

    Returns
    -------
    list
        The forecast.
    """


def s36(city: str, days: int = 3) -> None:
    """Forecast for a city.

    :param city: City name.
    :type city: str
    :param int days: How many days
        ahead.
    :returns: The forecast.
    :raises ValueError: On a bad city.
    """


def s37(days: Annotated[int, Field(description="From Field.")] = 3) -> None:
    """Explicit descriptions win.

    Args:
        days: From the docstring.
    """


# --------------------------------------------------------------------------------------------
# Expected schemas
# --------------------------------------------------------------------------------------------

SAME = object()  # the variant equals the plain schema


class StrictError:
    """Strict mode cannot express the schema; the message must contain `text`."""

    def __init__(self, text: str):
        self.text = text


def obj(
    properties: dict[str, Any],
    required: list[str] | None = None,
    defs: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An object schema as pydantic writes it for tool arguments."""
    schema: dict[str, Any] = {"additionalProperties": False, "properties": properties}
    if required is not None:
        schema["required"] = required
    schema["type"] = "object"
    if defs is not None:
        schema["$defs"] = defs
    return schema


def null_or(schema: dict[str, Any], description: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"anyOf": [schema, {"type": "null"}]}
    if description is not None:
        out["description"] = description
    return out


STR = {"type": "string"}
INT = {"type": "integer"}
NULL = {"type": "null"}
ADDRESS_PROPS = {
    "street": {"maxLength": 40, "type": "string"},
    "zip_code": {"anyOf": [STR, NULL], "default": None},
}
ADDRESS = {
    "description": "A postal address.",
    "properties": ADDRESS_PROPS,
    "required": ["street"],
    "type": "object",
}
ADDRESS_GROK = {
    **ADDRESS,
    "properties": {**ADDRESS_PROPS, "street": STR},
}
ADDRESS_STRICT = {
    "description": "A postal address.",
    "properties": {"street": STR, "zip_code": {"anyOf": [STR, NULL]}},
    "required": ["street", "zip_code"],
    "type": "object",
    "additionalProperties": False,
}
NODE = {
    "properties": {
        "value": INT,
        "children": {"default": [], "items": {"$ref": "#/$defs/Node"}, "type": "array"},
    },
    "required": ["value"],
    "type": "object",
}
NODE_STRICT = {
    "properties": {
        "value": INT,
        "children": null_or({"items": {"$ref": "#/$defs/Node"}, "type": "array"}),
    },
    "required": ["value", "children"],
    "type": "object",
    "additionalProperties": False,
}
CAT = {
    "properties": {"kind": {"const": "cat", "type": "string"}, "lives": INT},
    "required": ["kind", "lives"],
    "type": "object",
}
DOG = {
    "properties": {"kind": {"const": "dog", "type": "string"}, "good": {"type": "boolean"}},
    "required": ["kind", "good"],
    "type": "object",
}
POINT = {
    "additionalProperties": False,
    "properties": {"x": {"type": "number"}, "y": {"default": 0.0, "type": "number"}},
    "required": ["x"],
    "type": "object",
}
FILTERS = {
    "additionalProperties": False,
    "properties": {"tag": STR, "limit": INT},
    "required": ["tag"],
    "type": "object",
}
FORECAST_PLAIN = obj(
    {
        "city": {"description": "City name.", "type": "string"},
        "days": {"default": 3, "description": "How many days ahead.", "type": "integer"},
    },
    ["city"],
)
FORECAST_STRICT = obj(
    {
        "city": {"description": "City name.", "type": "string"},
        "days": null_or(INT, "How many days ahead."),
    },
    ["city", "days"],
)

CASES = [
    pytest.param(s01, obj({"city": STR}, ["city"]), SAME, SAME, id="str"),
    pytest.param(
        s02, obj({"days": {"default": 3, "type": "integer"}}), SAME,
        obj({"days": null_or(INT)}, ["days"]), id="int-default",
    ),
    pytest.param(
        s03, obj({"ratio": {"type": "number"}, "enabled": {"type": "boolean"}}, ["ratio", "enabled"]),
        SAME, SAME, id="float-bool",
    ),
    pytest.param(s04, obj({}), SAME, obj({}, []), id="no-parameters"),
    pytest.param(
        s05, obj({"note": {"anyOf": [STR, NULL], "default": None}}), SAME,
        obj({"note": {"anyOf": [STR, NULL]}}, ["note"]), id="optional-default-none",
    ),
    pytest.param(s06, obj({"note": {"anyOf": [STR, NULL]}}, ["note"]), SAME, SAME, id="optional-required"),
    pytest.param(s07, obj({"key": {"anyOf": [INT, STR]}}, ["key"]), SAME, SAME, id="union"),
    pytest.param(
        s08, obj({"unit": {"default": "c", "enum": ["c", "f"], "type": "string"}}), SAME,
        obj({"unit": null_or({"enum": ["c", "f"], "type": "string"})}, ["unit"]), id="literal",
    ),
    pytest.param(
        s09, obj({"mode": {"const": "only", "type": "string"}}, ["mode"]),
        obj({"mode": {"type": "string", "enum": ["only"]}}, ["mode"]), SAME, id="literal-one",
    ),
    pytest.param(
        s10,
        obj({"color": {"$ref": "#/$defs/Color", "default": "red"}},
            defs={"Color": {"enum": ["red", "blue"], "type": "string"}}),
        obj({"color": {"enum": ["red", "blue"], "type": "string", "default": "red"}}),
        obj({"color": null_or({"$ref": "#/$defs/Color"})}, ["color"],
            defs={"Color": {"enum": ["red", "blue"], "type": "string"}}),
        id="enum",
    ),
    pytest.param(s11, obj({"tags": {"items": STR, "type": "array"}}, ["tags"]), SAME, SAME, id="list"),
    pytest.param(
        s12,
        obj({"pair": {"maxItems": 2, "minItems": 2, "prefixItems": [INT, STR], "type": "array"}}, ["pair"]),
        obj({"pair": {"type": "array", "items": {"anyOf": [INT, STR]}}}, ["pair"]),
        obj({"pair": {"maxItems": 2, "minItems": 2, "type": "array", "items": {"anyOf": [INT, STR]}}}, ["pair"]),
        id="tuple",
    ),
    pytest.param(s13, obj({"numbers": {"items": INT, "type": "array"}}, ["numbers"]), SAME, SAME, id="tuple-variadic"),
    pytest.param(
        s14, obj({"labels": {"items": STR, "type": "array", "uniqueItems": True}}, ["labels"]),
        obj({"labels": {"items": STR, "type": "array"}}, ["labels"]),
        obj({"labels": {"items": STR, "type": "array"}}, ["labels"]), id="set",
    ),
    pytest.param(
        s15, obj({"counts": {"additionalProperties": INT, "type": "object"}}, ["counts"]), SAME,
        StrictError("cannot express the object at #/properties/counts: it allows free-form keys"),
        id="dict",
    ),
    pytest.param(
        s16, obj({"address": {"$ref": "#/$defs/Address"}}, ["address"], defs={"Address": ADDRESS}),
        obj({"address": ADDRESS_GROK}, ["address"]),
        obj({"address": {"$ref": "#/$defs/Address"}}, ["address"], defs={"Address": ADDRESS_STRICT}),
        id="model",
    ),
    pytest.param(
        s17,
        obj({"address": {"anyOf": [{"$ref": "#/$defs/Address"}, NULL], "default": None}},
            defs={"Address": ADDRESS}),
        obj({"address": {"anyOf": [ADDRESS_GROK, NULL], "default": None}}),
        obj({"address": {"anyOf": [{"$ref": "#/$defs/Address"}, NULL]}}, ["address"],
            defs={"Address": ADDRESS_STRICT}),
        id="optional-model",
    ),
    pytest.param(
        s18, obj({"point": {"$ref": "#/$defs/Point"}}, ["point"], defs={"Point": POINT}),
        obj({"point": POINT}, ["point"]),
        obj({"point": {"$ref": "#/$defs/Point"}}, ["point"], defs={"Point": {
            **POINT, "properties": {"x": {"type": "number"}, "y": null_or({"type": "number"})},
            "required": ["x", "y"],
        }}),
        id="dataclass",
    ),
    pytest.param(
        s19, obj({"filters": {"$ref": "#/$defs/Filters"}}, ["filters"], defs={"Filters": FILTERS}),
        obj({"filters": FILTERS}, ["filters"]),
        obj({"filters": {"$ref": "#/$defs/Filters"}}, ["filters"], defs={"Filters": {
            **FILTERS, "properties": {"tag": STR, "limit": null_or(INT)}, "required": ["tag", "limit"],
        }}),
        id="typeddict",
    ),
    pytest.param(
        s20,
        obj({"days": {"default": 3, "description": "Days ahead.", "maximum": 14, "minimum": 1, "type": "integer"}}),
        SAME,
        obj({"days": null_or({"maximum": 14, "minimum": 1, "type": "integer"}, "Days ahead.")}, ["days"]),
        id="annotated-bounds",
    ),
    pytest.param(
        s21, obj({"code": {"maxLength": 8, "minLength": 2, "pattern": "^[A-Z]+$", "type": "string"}}, ["code"]),
        obj({"code": {"pattern": "^[A-Z]+$", "type": "string"}}, ["code"]),
        obj({"code": {"pattern": "^[A-Z]+$", "type": "string"}}, ["code"]), id="string-lengths",
    ),
    pytest.param(
        s22, obj({"ids": {"items": INT, "maxItems": 5, "minItems": 1, "type": "array"}}, ["ids"]),
        obj({"ids": {"items": INT, "type": "array"}}, ["ids"]), SAME, id="array-sizes",
    ),
    pytest.param(
        s23,
        obj({"day": {"format": "date", "type": "string"}, "at": {"format": "date-time", "type": "string"}},
            ["day", "at"]),
        SAME, SAME, id="date-datetime",
    ),
    pytest.param(s24, obj({"item_id": {"format": "uuid", "type": "string"}}, ["item_id"]), SAME, SAME, id="uuid"),
    pytest.param(
        s25, obj({"path": {"format": "path", "type": "string"}}, ["path"]), SAME,
        obj({"path": STR}, ["path"]), id="path",
    ),
    pytest.param(
        s26,
        obj({"temperature": {"exclusiveMaximum": 1000, "exclusiveMinimum": -273.15, "type": "number"}},
            ["temperature"]),
        SAME, SAME, id="exclusive-bounds",
    ),
    pytest.param(
        s27, obj({"tree": {"$ref": "#/$defs/Node"}}, ["tree"], defs={"Node": NODE}),
        obj({"tree": NODE}, ["tree"], defs={"Node": NODE}),
        obj({"tree": {"$ref": "#/$defs/Node"}}, ["tree"], defs={"Node": NODE_STRICT}),
        id="recursive-model",
    ),
    pytest.param(
        s28,
        obj({"pet": {
            "discriminator": {"mapping": {"cat": "#/$defs/Cat", "dog": "#/$defs/Dog"}, "propertyName": "kind"},
            "oneOf": [{"$ref": "#/$defs/Cat"}, {"$ref": "#/$defs/Dog"}],
        }}, ["pet"], defs={"Cat": CAT, "Dog": DOG}),
        obj({"pet": {"anyOf": [
            {**CAT, "properties": {"kind": {"type": "string", "enum": ["cat"]}, "lives": INT}},
            {**DOG, "properties": {"kind": {"type": "string", "enum": ["dog"]}, "good": {"type": "boolean"}}},
        ]}}, ["pet"]),
        obj({"pet": {"anyOf": [{"$ref": "#/$defs/Cat"}, {"$ref": "#/$defs/Dog"}]}}, ["pet"], defs={
            "Cat": {**CAT, "additionalProperties": False}, "Dog": {**DOG, "additionalProperties": False},
        }),
        id="discriminated-union",
    ),
    pytest.param(
        s29, obj({"json": STR, "_private": {"default": 0, "type": "integer"}}, ["json"]), SAME,
        obj({"json": STR, "_private": null_or(INT)}, ["json", "_private"]), id="names-pydantic-reserves",
    ),
    pytest.param(
        s30, obj({"limit": {"default": 10, "description": "Most rows.", "type": "integer"}}), SAME,
        obj({"limit": null_or(INT, "Most rows.")}, ["limit"]), id="field-as-default",
    ),
    pytest.param(
        s31, obj({"addresses": {"items": {"$ref": "#/$defs/Address"}, "type": "array"}}, ["addresses"],
                 defs={"Address": ADDRESS}),
        obj({"addresses": {"items": ADDRESS_GROK, "type": "array"}}, ["addresses"]),
        obj({"addresses": {"items": {"$ref": "#/$defs/Address"}, "type": "array"}}, ["addresses"],
            defs={"Address": ADDRESS_STRICT}),
        id="list-of-models",
    ),
    pytest.param(s32, obj({"query": STR}, ["query"]), SAME, SAME, id="run-context"),
    pytest.param(s33, obj({"query": STR}, ["query"]), SAME, SAME, id="bare-run-context-last"),
    pytest.param(
        s34,
        obj({
            "city": {"description": 'City name, e.g. "Paris".', "type": "string"},
            "days": {"default": 3, "description": "How many days ahead.", "type": "integer"},
        }, ["city"]),
        SAME,
        obj({
            "city": {"description": 'City name, e.g. "Paris".', "type": "string"},
            "days": null_or(INT, "How many days ahead."),
        }, ["city", "days"]),
        id="google-docstring",
    ),
    pytest.param(s35, FORECAST_PLAIN, SAME, FORECAST_STRICT, id="numpy-docstring"),
    pytest.param(s36, FORECAST_PLAIN, SAME, FORECAST_STRICT, id="rest-docstring"),
    pytest.param(
        s37, obj({"days": {"default": 3, "description": "From Field.", "type": "integer"}}), SAME,
        obj({"days": null_or(INT, "From Field.")}, ["days"]), id="field-description-wins",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("function", "plain", "grok", "strict"), CASES)
def test_exact_schemas(function: Any, plain: dict[str, Any], grok: Any, strict: Any) -> None:
    schema = function_schema(function).parameters
    assert schema == plain
    assert to_openai(schema) == plain
    assert to_grok(schema) == (plain if grok is SAME else grok)
    if isinstance(strict, StrictError):
        with pytest.raises(ValueError, match="OpenAI strict mode") as info:
            to_strict(schema)
        assert strict.text in str(info.value)
    else:
        assert to_strict(schema) == (plain if strict is SAME else strict)


def test_the_table_is_big_enough() -> None:
    assert len(CASES) >= 30


@pytest.mark.parametrize(("function", "plain", "grok", "strict"), CASES)
def test_every_dialect_is_valid_draft_2020_12(
    function: Any, plain: Any, grok: Any, strict: Any
) -> None:
    schema = function_schema(function).parameters
    for target in ("openai", "grok", "strict"):
        if target == "strict" and isinstance(strict, StrictError):
            continue
        jsonschema.Draft202012Validator.check_schema(to_target(schema, target))


@pytest.mark.parametrize(
    ("function", "samples"),
    [
        (s01, [{"city": "Paris"}]),
        (s08, [{"unit": "f"}, {"unit": "c"}]),
        (s10, [{"color": "blue"}]),
        (s12, [{"pair": [1, "a"]}]),
        (s17, [{"address": {"street": "Rue 1", "zip_code": None}}, {"address": None}]),
        (s20, [{"days": 1}, {"days": 14}]),
        (s23, [{"day": "2025-01-02", "at": "2025-01-02T03:04:05Z"}]),
        (s27, [{"tree": {"value": 1, "children": [{"value": 2, "children": []}]}}]),
        (s28, [{"pet": {"kind": "cat", "lives": 9}}, {"pet": {"kind": "dog", "good": True}}]),
        (s29, [{"json": "x", "_private": 2}]),
    ],
)
def test_dialects_accept_what_the_model_accepts(
    function: Any, samples: list[dict[str, Any]]
) -> None:
    tool = Tool(function)
    for sample in samples:
        tool.validate_arguments(sample)  # the pydantic model accepts it...
        for target in ("openai", "grok", "strict"):  # ...and so does every dialect
            jsonschema.validate(sample, tool.definition(target)["function"]["parameters"])


def test_omitted_optionals_are_accepted_by_grok_and_openai() -> None:
    tool = Tool(s20)
    tool.validate_arguments({})
    jsonschema.validate({}, tool.definition("grok")["function"]["parameters"])
    jsonschema.validate({}, tool.definition("openai")["function"]["parameters"])


def test_nulls_that_strict_mode_allows_validate_to_defaults() -> None:
    # Strict mode makes `days` nullable; the tool reads null as "use the default".
    tool = Tool(s20)
    strict = tool.definition("strict")["function"]["parameters"]
    jsonschema.validate({"days": None}, strict)
    assert tool.validate_arguments('{"days": null}') == {"days": 3}
    nested = Tool(s27)
    jsonschema.validate(
        {"tree": {"value": 1, "children": None}},
        nested.definition("strict")["function"]["parameters"],
    )
    assert nested.validate_arguments('{"tree": {"value": 1, "children": null}}')["tree"] == Node(
        value=1
    )


def test_dropped_constraints_are_still_enforced() -> None:
    tool = Tool(s21)
    assert "minLength" not in str(tool.definition("grok"))
    with pytest.raises(ToolArgumentsError, match="code: String should have at most 8 characters"):
        tool.validate_arguments('{"code": "ABCDEFGHIJ"}')


# --------------------------------------------------------------------------------------------
# Descriptions and docstrings
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("function", [s34, s35, s36])
def test_tool_description_is_the_docstring_without_sections(function: Any) -> None:
    assert function_schema(function).description == "Forecast for a city."


def test_explicit_description_wins() -> None:
    assert function_schema(s34, description="Mine.").description == "Mine."


def test_no_docstring() -> None:
    assert parse_docstring(None) == Docstring("")
    assert function_schema(s01).description == ""


def test_google_sections_kept_and_dropped() -> None:
    doc = """Search the index.

    Matches are ranked by score.

    Args:
        query: What to look for.

            A second paragraph about the query.
        *filters: Ignored star.
        **options: Extra options.

    Raises:
        KeyError: When the index is missing.

    Example:
        search("cats")

    Yields:
        Nothing really.
    """
    parsed = parse_docstring(doc)
    assert parsed.description == (
        'Search the index.\n\nMatches are ranked by score.\n\nExample:\n    search("cats")'
    )
    assert parsed.params == {
        "query": "What to look for. A second paragraph about the query.",
        "filters": "Ignored star.",
        "options": "Extra options.",
    }


def test_numpy_multiple_names_and_kept_notes() -> None:
    doc = """Add numbers.

    Parameters
    ----------
    x, y : float
        The operands.
    scale
        A factor.

    Notes
    -----
    Uses floats.

    Raises
    ------
    ValueError
        Never.
    """
    parsed = parse_docstring(doc)
    assert parsed.params == {"x": "The operands.", "y": "The operands.", "scale": "A factor."}
    assert parsed.description == "Add numbers.\n\nNotes\n-----\nUses floats."


def test_rest_with_types_in_the_field() -> None:
    doc = """Store values.

    :param dict[str, int] mapping: The values
        to store.
    :param str name: The name.
    :keyword bool force: Overwrite.
    :rtype: None
    """
    parsed = parse_docstring(doc)
    assert parsed.description == "Store values."
    assert parsed.params == {
        "mapping": "The values to store.",
        "name": "The name.",
        "force": "Overwrite.",
    }


# --------------------------------------------------------------------------------------------
# Transforms on hand-written schemas
# --------------------------------------------------------------------------------------------


def test_titles_are_dropped_but_a_property_called_title_is_kept() -> None:
    raw = {
        "title": "Args",
        "type": "object",
        "properties": {"title": {"title": "Title", "type": "string"}},
    }
    assert clean_schema(raw) == {"type": "object", "properties": {"title": {"type": "string"}}}


def test_grok_flattens_single_all_of_and_merges_several() -> None:
    schema = {
        "type": "object",
        "properties": {
            "a": {"allOf": [{"type": "integer", "minimum": 0}], "description": "A."},
            "b": {
                "allOf": [
                    {"type": "object", "properties": {"x": INT}, "required": ["x"]},
                    {"properties": {"y": STR}, "required": ["y"]},
                ]
            },
        },
    }
    assert to_grok(schema)["properties"] == {
        "a": {"type": "integer", "minimum": 0, "description": "A."},
        "b": {"type": "object", "properties": {"x": INT, "y": STR}, "required": ["x", "y"]},
    }


def test_grok_rejects_a_root_any_of_and_flattens_a_single_one() -> None:
    with pytest.raises(ValueError, match="Grok rejects an anyOf at the root"):
        to_grok({"anyOf": [INT, STR]})
    assert to_grok({"anyOf": [{"type": "object", "properties": {}}]}) == {
        "type": "object",
        "properties": {},
    }


def test_grok_drops_contains_bounds() -> None:
    schema = {"type": "array", "items": INT, "contains": INT, "minContains": 1, "maxContains": 2}
    assert to_grok(schema) == {"type": "array", "items": INT, "contains": INT}


def test_strict_needs_an_object_root() -> None:
    with pytest.raises(ValueError, match="needs an object at the root"):
        to_strict({"type": "array", "items": INT})


def test_strict_inlines_a_described_ref_and_keeps_plain_refs() -> None:
    schema = {
        "$defs": {"Unit": {"enum": ["c", "f"], "type": "string"}},
        "type": "object",
        "properties": {
            "unit": {"$ref": "#/$defs/Unit", "description": "Which unit."},
            "other": {"$ref": "#/$defs/Unit"},
        },
        "required": ["unit", "other"],
    }
    assert to_strict(schema)["properties"] == {
        "unit": {"enum": ["c", "f"], "type": "string", "description": "Which unit."},
        "other": {"$ref": "#/$defs/Unit"},
    }


def test_strict_drops_unknown_formats_and_unsupported_keywords() -> None:
    schema = {
        "type": "object",
        "properties": {
            "u": {"type": "string", "format": "uri", "minLength": 1, "examples": ["x"]},
            "e": {"type": "string", "format": "email"},
        },
        "required": ["u", "e"],
    }
    assert to_strict(schema)["properties"] == {"u": STR, "e": {"type": "string", "format": "email"}}


def test_transforms_do_not_touch_their_input() -> None:
    schema = function_schema(s17).parameters
    before = repr(schema)
    to_grok(schema)
    to_strict(schema)
    to_openai(schema)["properties"]["address"]["default"] = "changed"
    assert repr(schema) == before


def test_unknown_target() -> None:
    with pytest.raises(ValueError, match="unknown schema target 'gemini'"):
        to_target({"type": "object"}, "gemini")  # type: ignore[arg-type]
