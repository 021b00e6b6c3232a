"""Properties over generated signatures, arguments and streams.

- Schemas: for random signatures (1-5 parameters of random supported types, nested ones
  included, with or without defaults), every dialect is a valid Draft 2020-12 schema and
  accepts the JSON-mode dump of every call the tool's pydantic model accepts; strict mode
  also accepts it with nulls for what was left out, and the tool accepts that form back.
- Arguments: arbitrary JSON, text and bytes give a call with exactly the tool's parameters
  or a `ToolArgumentsError` whose message can be sent to a model; nothing else escapes.
- SSE: `data:` payloads of arbitrary text survive any line endings and any chunking exactly.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import datetime
import enum
import functools
import inspect
import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal, NotRequired, Optional

import jsonschema
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, Field, TypeAdapter, create_model
from typing_extensions import TypedDict  # pydantic needs this one before Python 3.12

from agentkit._sse import SSEDecoder
from agentkit.context import RunContext
from agentkit.errors import ToolArgumentsError, ToolDefinitionError
from agentkit.tool import Tool

# --------------------------------------------------------------------------------------------
# Types, and the JSON values pydantic accepts for each
# --------------------------------------------------------------------------------------------


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Node(BaseModel):
    """A tree: recursive, so its definition must survive every dialect."""

    value: int
    children: list[Node] = []


class Cat(BaseModel):
    kind: Literal["cat"]
    lives: int


class Dog(BaseModel):
    kind: Literal["dog"]
    good: bool = True


Pet = Annotated[Cat | Dog, Field(discriminator="kind")]


def _keep(value: Any, draw: Callable[..., Any]) -> Any:
    return value


@dataclasses.dataclass(frozen=True)
class Kind:
    """A parameter type and how to make values for it.

    Attributes:
        annotation: The type as written in a signature.
        values: JSON values (already decoded) that pydantic accepts for it.
        strict_ok: Whether OpenAI strict mode can express it (free-form dicts cannot).
        nullable: Whether `null` is itself a value of the type.
        strict_form: The JSON-mode dump -> what a strict-mode model sends: every key of every
            object present, optional ones possibly `null`. Takes a hypothesis `draw`.
    """

    annotation: Any
    values: st.SearchStrategy[Any]
    strict_ok: bool = True
    nullable: bool = False
    strict_form: Callable[[Any, Callable[..., Any]], Any] = _keep


_finite = st.floats(allow_nan=False, allow_infinity=False)
_offsets = st.sampled_from(
    [None, datetime.UTC, datetime.timezone(datetime.timedelta(hours=5, minutes=30)),
     datetime.timezone(datetime.timedelta(hours=-8))]
)  # fmt: skip

SCALARS: list[Kind] = [
    Kind(str, st.text(max_size=8)),
    Kind(int, st.integers()),
    Kind(float, _finite | st.integers(-(10**6), 10**6)),
    Kind(bool, st.booleans()),
    Kind(Literal["a", "b"], st.sampled_from(["a", "b"])),
    Kind(Literal[1, 2, 3], st.sampled_from([1, 2, 3])),
    Kind(Literal["only"], st.just("only")),
    Kind(Literal["x", 5, None], st.sampled_from(["x", 5, None]), nullable=True),
    Kind(Color, st.sampled_from(["red", "blue"])),
    Kind(Level, st.sampled_from([1, 2])),
    Kind(datetime.date, st.dates().map(datetime.date.isoformat)),
    Kind(
        datetime.datetime,
        st.builds(lambda d, tz: d.replace(tzinfo=tz).isoformat(), st.datetimes(), _offsets),
    ),
    Kind(uuid.UUID, st.uuids().map(str)),
    Kind(Path, st.text(max_size=8)),
    Kind(Annotated[int, Field(ge=-5, le=5)], st.integers(-5, 5)),
    Kind(Annotated[int, Field(gt=0, multiple_of=3)], st.integers(1, 10**6).map(lambda n: 3 * n)),
    Kind(
        Annotated[float, Field(gt=-273.15, lt=1000)],
        st.floats(-273.15, 1000, exclude_min=True, exclude_max=True),
    ),
    Kind(Annotated[str, Field(min_length=2, max_length=5)], st.text(min_size=2, max_size=5)),
    Kind(
        Annotated[str, Field(pattern=r"^[A-Z]{1,4}-[0-9]{1,3}$")],
        st.from_regex(r"[A-Z]{1,4}-[0-9]{1,3}", fullmatch=True),
    ),
    Kind(Annotated[str, Field(description="Some text.")], st.text(max_size=8)),
    Kind(Node, st.recursive(
        st.builds(lambda v: {"value": v}, st.integers()),
        lambda inner: st.builds(lambda v, c: {"value": v, "children": c}, st.integers(),
                                st.lists(inner, max_size=2)),
        max_leaves=4,
    )),
    Kind(Pet, st.one_of(
        st.builds(lambda n: {"kind": "cat", "lives": n}, st.integers(0, 9)),
        st.fixed_dictionaries({"kind": st.just("dog")}, optional={"good": st.booleans()}),
    )),
]
# Set members: hashable, and equal as JSON exactly when equal in Python.
HASHABLE: list[Kind] = [k for k in SCALARS[:14] if k.annotation not in (float, bool, Path)]

# Field names for nested objects: some are JSON Schema keywords, to confuse a careless rewrite.
_FIELD_NAMES = ["name", "value", "title", "type", "items", "default", "required", "n"]
# TypedDict keys need not be identifiers.
_KEY_NAMES = [*_FIELD_NAMES, "$ref", "anyOf", "properties", "", "with space", "ünï"]


def _each(kinds: list[Kind]) -> Callable[[Any, Callable[..., Any]], Any]:
    def form(value: Any, draw: Callable[..., Any]) -> Any:
        return [k.strict_form(v, draw) for k, v in zip(kinds, value, strict=True)]

    return form


def _python_value(annotation: Any, value: Any) -> Any:
    """A Python default from a JSON value, as pydantic would read it."""
    return TypeAdapter(annotation).validate_json(json.dumps(value))


def _defaults(kind: Kind) -> st.SearchStrategy[Any]:
    # pydantic takes any dict in a schema with a "$ref" key for a reference, defaults too
    # (KeyError: ''); see test_a_default_holding_a_ref_key_is_no_crash.
    return kind.values.filter(lambda v: '"$ref"' not in json.dumps(v)).map(
        functools.partial(_python_value, kind.annotation)
    )


@st.composite
def _object_kind(draw: st.DrawFn, inner: st.SearchStrategy[Kind]) -> Kind:
    """A nested pydantic model, dataclass or TypedDict of 1-3 fields, some optional."""
    flavour = draw(st.sampled_from(["model", "dataclass", "typeddict"]))
    names = _KEY_NAMES if flavour == "typeddict" else _FIELD_NAMES
    keys = draw(st.lists(st.sampled_from(names), min_size=1, max_size=3, unique=True))
    fields = [(key, draw(inner), draw(st.booleans())) for key in keys]  # (name, kind, optional)
    # Every nested class is called "Item": two in one signature must not share a definition.
    if flavour == "model":
        definitions: dict[str, Any] = {}
        for key, kind, optional in fields:
            default = draw(_defaults(kind)) if optional else ...
            definitions[key] = (kind.annotation, default)
        annotation: Any = create_model("Item", **definitions)
    elif flavour == "dataclass":
        specs: list[Any] = []
        for key, kind, optional in fields:
            if optional:
                default = draw(_defaults(kind))
                factory = functools.partial(copy.deepcopy, default)  # dataclasses refuse mutable defaults
                specs.append((key, kind.annotation, dataclasses.field(default_factory=factory)))
            else:
                specs.append((key, kind.annotation))
        annotation = dataclasses.make_dataclass("Item", specs, kw_only=True)
    else:
        annotation = TypedDict(  # type: ignore[operator]
            "Item",
            {key: NotRequired[kind.annotation] if optional else kind.annotation
             for key, kind, optional in fields},
        )  # fmt: skip
    required = {key: kind.values for key, kind, optional in fields if not optional}
    optional_values = {key: kind.values for key, kind, optional in fields if optional}
    by_key = {key: (kind, optional) for key, kind, optional in fields}

    def form(value: Any, draw: Callable[..., Any]) -> Any:
        out = {}
        for key, (kind, optional) in by_key.items():
            if key not in value or (optional and draw(st.booleans())):
                out[key] = None  # strict mode's "left out"
            else:
                out[key] = kind.strict_form(value[key], draw)
        return out

    return Kind(
        annotation,
        st.fixed_dictionaries(required, optional=optional_values),
        strict_ok=all(kind.strict_ok for kind, _ in by_key.values()),
        strict_form=form,
    )


def _extend(inner: st.SearchStrategy[Kind]) -> st.SearchStrategy[Kind]:
    def optional(kind: Kind, spelled: str) -> Kind:
        annotation = kind.annotation | None if spelled == "|" else Optional[kind.annotation]  # noqa: UP045
        return Kind(
            annotation, st.none() | kind.values, kind.strict_ok, nullable=True,
            strict_form=lambda v, draw: None if v is None else kind.strict_form(v, draw),
        )  # fmt: skip

    def list_of(kind: Kind) -> Kind:
        return Kind(
            list[kind.annotation], st.lists(kind.values, max_size=3), kind.strict_ok,
            strict_form=lambda v, draw: [kind.strict_form(x, draw) for x in v],
        )  # fmt: skip

    def pair(first: Kind, second: Kind) -> Kind:
        return Kind(
            tuple[first.annotation, second.annotation],
            st.tuples(first.values, second.values).map(list),
            first.strict_ok and second.strict_ok, strict_form=_each([first, second]),
        )  # fmt: skip

    def tuple_of(kind: Kind) -> Kind:
        return Kind(
            tuple[kind.annotation, ...], st.lists(kind.values, max_size=3), kind.strict_ok,
            strict_form=lambda v, draw: [kind.strict_form(x, draw) for x in v],
        )  # fmt: skip

    def set_of(kind: Kind) -> Kind:
        return Kind(set[kind.annotation], st.lists(kind.values, max_size=3))

    def dict_of(kind: Kind) -> Kind:
        values = st.dictionaries(st.text(max_size=4), kind.values, max_size=3)
        return Kind(dict[str, kind.annotation], values, strict_ok=False)

    def described(kind: Kind) -> Kind:
        return dataclasses.replace(
            kind, annotation=Annotated[kind.annotation, Field(description="Described.")]
        )

    return st.one_of(
        st.builds(optional, inner, st.sampled_from(["|", "Optional"])),
        st.builds(list_of, inner),
        st.builds(pair, inner, inner),
        st.builds(tuple_of, inner),
        st.builds(set_of, st.sampled_from(HASHABLE)),
        st.builds(dict_of, inner),
        st.builds(described, inner),
        _object_kind(inner),
        st.builds(
            lambda kind: Kind(
                Annotated[list[kind.annotation], Field(min_length=1, max_length=3)],
                st.lists(kind.values, min_size=1, max_size=3), kind.strict_ok,
                strict_form=lambda v, draw: [kind.strict_form(x, draw) for x in v],
            ),
            inner,
        ),
    )


KINDS: st.SearchStrategy[Kind] = st.recursive(st.sampled_from(SCALARS), _extend, max_leaves=4)


# --------------------------------------------------------------------------------------------
# Signatures, built without exec: a **kwargs function given a __signature__ and annotations
# --------------------------------------------------------------------------------------------

# Some names clash with pydantic (`json`, `schema`, `dict`, `copy`, `_private`, `model_id`) and
# get an alias; `arg0` is the name such an alias field would take first.
_PARAM_NAMES = ["city", "days", "query", "json", "schema", "dict", "copy", "_private",
                "model_id", "arg0", "title", "items"]  # fmt: skip


@dataclasses.dataclass(frozen=True)
class Param:
    name: str
    kind: Kind
    default: Any  # inspect.Parameter.empty for a required parameter

    @property
    def required(self) -> bool:
        return self.default is inspect.Parameter.empty


@st.composite
def _signatures(draw: st.DrawFn) -> list[Param]:
    names = draw(st.lists(st.sampled_from(_PARAM_NAMES), min_size=1, max_size=5, unique=True))
    params = []
    for name in names:
        kind = draw(KINDS)
        default: Any = inspect.Parameter.empty
        if draw(st.booleans()):
            default = None if kind.nullable else draw(_defaults(kind))
        params.append(Param(name, kind, default))
    return params


def make_function(params: list[Param]) -> Callable[..., Any]:
    """A function with exactly these keyword-only parameters, as `function_schema` reads it."""

    def generated(**kwargs: Any) -> dict[str, Any]:
        return kwargs

    generated.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter(p.name, inspect.Parameter.KEYWORD_ONLY, default=p.default,
                           annotation=p.kind.annotation) for p in params]
    )  # fmt: skip
    generated.__annotations__ = {p.name: p.kind.annotation for p in params}
    return generated


def _validator(schema: dict[str, Any]) -> jsonschema.Draft202012Validator:
    jsonschema.Draft202012Validator.check_schema(schema)
    # Formats are checked where jsonschema can (date, uuid); date-time and path are not.
    checker = jsonschema.Draft202012Validator.FORMAT_CHECKER
    return jsonschema.Draft202012Validator(schema, format_checker=checker)


_schema_settings = settings(
    max_examples=80, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)  # fmt: skip


def test_generated_functions_read_like_written_ones() -> None:
    params = [Param("city", Kind(str, st.text()), inspect.Parameter.empty),
              Param("days", Kind(int, st.integers()), 3)]  # fmt: skip
    schema = Tool(make_function(params)).parameters
    assert schema == {
        "type": "object",
        "properties": {"city": {"type": "string"}, "days": {"default": 3, "type": "integer"}},
        "required": ["city"],
        "additionalProperties": False,
    }


@_schema_settings
@given(st.data())
def test_every_dialect_accepts_every_call_the_tool_accepts(data: st.DataObject) -> None:
    params = data.draw(_signatures(), label="signature")
    tool = Tool(make_function(params))
    validators = {target: _validator(tool.definition(target)["function"]["parameters"])
                  for target in ("openai", "grok")}  # fmt: skip
    strict_ok = all(p.kind.strict_ok for p in params)
    if strict_ok:
        validators["strict"] = _validator(tool.definition("strict")["function"]["parameters"])
    else:
        with pytest.raises(ToolDefinitionError, match="free-form keys"):
            tool.definition("strict")

    sent = {p.name: data.draw(p.kind.values, label=p.name)
            for p in params if p.required or data.draw(st.booleans())}  # fmt: skip
    args = tool.validate_arguments(json.dumps(sent))  # the values are valid by construction
    assert list(args) == [p.name for p in params]
    dumped = {p.name: TypeAdapter(p.kind.annotation).dump_python(args[p.name], mode="json")
              for p in params}  # fmt: skip

    for target in ("openai", "grok"):
        validators[target].validate({name: dumped[name] for name in sent})  # as sent
        validators[target].validate(dumped)  # with every default filled in

    if strict_ok:
        draw = functools.partial(data.draw, label="strict nulls")
        strict = {p.name: p.kind.strict_form(dumped[p.name], draw) if p.name in sent else None
                  for p in params}  # fmt: skip
        validators["strict"].validate(strict)
        # ...and a strict-mode model's nulls mean "use the default" to the tool.
        again = tool.validate_arguments(json.dumps(strict))
        for p in params:
            if p.name not in sent and not p.kind.nullable:
                assert again[p.name] == args[p.name]


@pytest.mark.parametrize("raw", ['{"ratio": "inf"}', '{"ratio": Infinity}', '{"ratio": NaN}',
                                 '{"ratio": 1e400}', '{"ratio": "-infinity"}'])  # fmt: skip
def test_non_finite_floats_are_rejected_like_the_schema_says(raw: str) -> None:
    def scale(ratio: float) -> float:
        return ratio

    with pytest.raises(ToolArgumentsError, match="ratio"):
        Tool(scale).validate_arguments(raw)


def test_a_default_holding_a_ref_key_is_no_crash() -> None:
    weird = TypedDict("Weird", {"name": str, "$ref": str})  # type: ignore[operator]
    params = [Param("pick", Kind(weird, st.nothing()), {"name": "a", "$ref": "b"})]
    with contextlib.suppress(ToolDefinitionError):  # refusing it clearly is fine too
        Tool(make_function(params))


# --------------------------------------------------------------------------------------------
# Arbitrary input to validate_arguments
# --------------------------------------------------------------------------------------------


class Owner(BaseModel):
    name: str = Field(max_length=20)
    since: datetime.date | None = None


def search(query: str, limit: Annotated[int, Field(ge=1, le=50)] = 10,
           tags: frozenset[str] = frozenset(), unit: Literal["c", "f"] = "c") -> None: ...  # fmt: skip
def adopt(pet: Pet, owners: list[Owner], color: Color = Color.RED) -> None: ...
def query(json: str, schema: str = "public", _private: int = 0,
          tree: Node | None = None) -> None: ...  # fmt: skip
def schedule(ctx: RunContext[None], at: datetime.datetime, ident: uuid.UUID,
             path: Path, pair: tuple[int, str] | None = None) -> None: ...  # fmt: skip
def ping() -> None: ...


TOOLS = [Tool(f) for f in (search, adopt, query, schedule, ping)]
_PARAMETERS = {t.name: [n for n in inspect.signature(t.function).parameters if n != "ctx"]
               for t in TOOLS}  # fmt: skip

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.text(max_size=5) | st.sampled_from(["name", "kind", "value"]), inner,
                      max_size=3),
    max_leaves=10,
)  # fmt: skip
# Nearly right values, so that whole valid calls turn up too, not only rejections.
_plausible = st.one_of(
    _json, st.sampled_from(["cat", "dog", "red", "c", "2025-01-02", "2025-01-02T03:04:05Z",
                            "12345678-1234-5678-1234-567812345678", "/tmp/x"]),
    st.fixed_dictionaries({"kind": st.sampled_from(["cat", "dog"])},
                          optional={"lives": st.integers(0, 9), "good": st.booleans()}),
    st.lists(st.fixed_dictionaries({"name": st.text(max_size=25)}), max_size=2),
    st.fixed_dictionaries({"value": st.integers()}, optional={"children": st.just([])}),
)  # fmt: skip
# Whole valid calls of each tool (each one junk to the others), so acceptance is exercised too.
_calls = st.one_of(
    st.fixed_dictionaries({"query": st.text()}, optional={
        "limit": st.integers(1, 50), "tags": st.lists(st.text(max_size=3)),
        "unit": st.sampled_from(["c", "f"])}),
    st.fixed_dictionaries({"pet": _plausible, "owners": st.lists(
        st.fixed_dictionaries({"name": st.text(max_size=20)}, optional={"since": st.none()}),
        max_size=2)}, optional={"color": st.sampled_from(["red", "blue"])}),
    st.fixed_dictionaries({"json": st.text()}, optional={
        "schema": st.text(), "_private": st.integers(), "tree": st.none() | _plausible}),
    st.fixed_dictionaries({"at": st.just("2025-01-02T03:04:05Z"), "ident": st.uuids().map(str),
                           "path": st.text()}, optional={"pair": st.just([1, "a"])}),
    st.just({}),
)  # fmt: skip
_arguments = _calls | st.dictionaries(
    st.sampled_from(sorted({n for names in _PARAMETERS.values() for n in names}))
    | st.sampled_from(["ctx", "arg0", "extra"]),
    _plausible,
    max_size=5,
)


def _with_bad_bytes(text: str, splices: list[tuple[int, bytes]]) -> bytes:
    raw = bytearray(text.encode())
    for position, junk in splices:
        raw[position % (len(raw) + 1) : position % (len(raw) + 1)] = junk
    return bytes(raw)


_raw_inputs = st.one_of(
    _arguments,  # a decoded mapping
    _arguments.map(json.dumps),
    _arguments.map(lambda a: json.dumps(a, ensure_ascii=False).encode()),
    _json,
    _json.map(json.dumps),
    st.builds(_with_bad_bytes, _arguments.map(json.dumps),
              st.lists(st.tuples(st.integers(0, 200),
                                 st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x00"])),
                       min_size=1, max_size=3)),
    st.text(),
    st.binary(),
    st.builds(lambda a: json.dumps(a).replace('"', '"\ud800', 1), _arguments),  # lone surrogate
)  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_raw_inputs)
def test_any_input_is_a_call_or_a_tool_arguments_error(raw: Any) -> None:
    for tool in TOOLS:
        try:
            args = tool.validate_arguments(raw)
        except ToolArgumentsError as exc:
            error = exc
        else:
            assert list(args) == _PARAMETERS[tool.name]  # never ctx, never an extra key
            event(f"{tool.name}: accepted")
            continue
        assert error.tool_name == tool.name and error.errors
        message = str(error)
        assert message.startswith(f"Invalid arguments for tool {tool.name!r}; fix them")
        message.encode("utf-8")  # it goes back to the model in the next request
        event(f"{tool.name}: rejected")


def _nested(depth: int) -> Any:
    value: Any = None
    for _ in range(depth):
        value = {"value": 1, "children": [value]}
    return value


def test_deeply_nested_json_text_is_an_arguments_error() -> None:
    # The JSON parser's own depth limit: the agent's path (arguments arrive as text) is safe.
    for tool in TOOLS:
        with pytest.raises(ToolArgumentsError, match="recursion limit exceeded"):
            tool.validate_arguments('{"json": ' + "[" * 5000 + "]" * 5000 + "}")


@pytest.mark.parametrize("where", ["tree", "json"])
def test_deeply_nested_mapping_is_an_arguments_error(where: str) -> None:
    query_tool = TOOLS[2]
    with pytest.raises(ToolArgumentsError):
        query_tool.validate_arguments({"json": "x", where: _nested(1000)})


# --------------------------------------------------------------------------------------------
# SSE: exact round trip of data payloads
# --------------------------------------------------------------------------------------------

_no_newlines = st.characters(blacklist_categories=["Cs"], blacklist_characters="\r\n")
_payload = st.lists(st.text(_no_newlines, max_size=6), min_size=1, max_size=3).map("\n".join)


@st.composite
def _events_on_the_wire(draw: st.DrawFn) -> tuple[list[str], bytes, list[int]]:
    payloads = draw(st.lists(_payload, max_size=5))
    endings = st.sampled_from(["\n", "\r\n", "\r"])
    wire = []
    for payload in payloads:
        if draw(st.booleans()):
            wire.append(": comment" + draw(endings))
        for line in payload.split("\n"):
            wire.append("data: " + line + draw(endings))
        # The blank line that dispatches: after a lone CR, an LF would only finish a CRLF.
        blank = draw(endings)
        if wire[-1].endswith("\r") and blank.startswith("\n"):
            blank = "\r"
        wire.append(blank)
    body = "".join(wire).encode()
    cuts = sorted(draw(st.lists(st.integers(0, len(body)), max_size=6)))
    return payloads, body, cuts


@settings(max_examples=200, deadline=None)
@given(_events_on_the_wire())
def test_data_payloads_round_trip_exactly(case: tuple[list[str], bytes, list[int]]) -> None:
    payloads, body, cuts = case
    decoder = SSEDecoder()
    events = []
    for start, end in zip([0, *cuts], [*cuts, len(body)], strict=True):
        events.extend(decoder.feed(body[start:end]))  # cuts fall inside characters too
    events.extend(decoder.flush())
    assert [e.data for e in events] == payloads
    assert all(e.event == "message" for e in events)

