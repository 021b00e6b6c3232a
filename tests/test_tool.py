"""`@tool`, `Tool`, `Toolset` and `serialize_result`."""

from __future__ import annotations

import dataclasses
import datetime
import inspect
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Annotated, Any, Literal

import anyio
import anyio.to_thread
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, Field, ValidationError

from agentkit.context import RunContext
from agentkit.errors import (
    ModelRetry,
    ToolArgumentsError,
    ToolDefinitionError,
    ToolRetry,
    ToolTimeoutError,
    UserError,
)
from agentkit.tool import Tool, Toolset, serialize_result, tool

# --------------------------------------------------------------------------------------------
# Tools used across the tests
# --------------------------------------------------------------------------------------------


@tool
async def get_forecast(
    city: str, days: Annotated[int, Field(ge=1, le=14)] = 3, unit: Literal["c", "f"] = "c"
) -> list[dict[str, Any]]:
    """Forecast for a city.

    Args:
        city: City name, e.g. "Paris".
        days: How many days ahead.
        unit: Temperature unit.
    """
    return [{"city": city, "day": day, "unit": unit} for day in range(days)]


@tool
def add(a: int, b: int = 1) -> int:
    """Add two numbers."""
    return a + b


@tool
def ping() -> str:
    return "pong"


class Address(BaseModel):
    street: str
    number: int


@tool
def mail(addresses: list[Address]) -> int:
    return len(addresses)


@dataclasses.dataclass
class Deps:
    user: str


@tool
async def whoami(ctx: RunContext[Deps], greeting: str = "hi") -> str:
    return f"{greeting} {ctx.deps.user} ({ctx.tool_name})"


@tool
def bare_context(ctx: RunContext) -> int:  # type: ignore[type-arg]
    return int(ctx.retry)


class WeatherService:
    """A class whose methods are tools."""

    def __init__(self, unit: str):
        self.unit = unit

    @tool
    def current(self, city: str) -> str:
        """Current weather.

        Args:
            city: City name.
        """
        return f"{city}: 20 {self.unit} in {threading.current_thread().name}"

    @tool(name="forecast_async", timeout=1)
    async def forecast(self, ctx: RunContext[Deps], city: str) -> str:
        return f"{city} for {ctx.deps.user} in {self.unit}"

    shared = add  # a plain tool stored on a class does not bind


# --------------------------------------------------------------------------------------------
# The Tool object
# --------------------------------------------------------------------------------------------

FORECAST_PARAMETERS = {
    "additionalProperties": False,
    "properties": {
        "city": {"description": 'City name, e.g. "Paris".', "type": "string"},
        "days": {
            "default": 3,
            "description": "How many days ahead.",
            "maximum": 14,
            "minimum": 1,
            "type": "integer",
        },
        "unit": {
            "default": "c",
            "description": "Temperature unit.",
            "enum": ["c", "f"],
            "type": "string",
        },
    },
    "required": ["city"],
    "type": "object",
}


def test_decorated_function_describes_itself() -> None:
    assert isinstance(get_forecast, Tool)
    assert get_forecast.name == "get_forecast"
    assert get_forecast.description == "Forecast for a city."
    assert get_forecast.parameters == FORECAST_PARAMETERS
    assert get_forecast.definition() == {
        "type": "function",
        "function": {
            "name": "get_forecast",
            "description": "Forecast for a city.",
            "parameters": FORECAST_PARAMETERS,
        },
    }
    assert get_forecast.definition("openai") == get_forecast.definition("grok")
    strict = get_forecast.definition("strict")["function"]
    assert strict["strict"] is True
    assert strict["parameters"]["required"] == ["city", "days", "unit"]


def test_defaults_of_the_options() -> None:
    assert (get_forecast.timeout, get_forecast.retries, get_forecast.strict) == (None, None, None)
    assert get_forecast.max_result_chars is None
    assert get_forecast.takes_context is False
    assert get_forecast.is_async is True
    assert add.is_async is False
    assert get_forecast.function.__name__ == "get_forecast"
    assert get_forecast.__name__ == "get_forecast"
    assert get_forecast.__doc__ is not None
    assert get_forecast.__doc__.startswith("Forecast for a city.")
    assert inspect.signature(get_forecast) == inspect.signature(get_forecast.function)
    assert repr(add) == "Tool('add', function=tests.test_tool.add())"


def test_options_live_on_the_tool() -> None:
    @tool(
        name="sum-it",
        description="Sums.",
        timeout=2,
        strict=True,
        retries=0,
        max_result_chars=10,
    )
    def summed(a: int) -> int:
        return a

    assert summed.name == "sum-it"
    assert summed.description == "Sums."
    assert summed.timeout == 2.0
    assert isinstance(summed.timeout, float)
    assert (summed.strict, summed.retries, summed.max_result_chars) == (True, 0, 10)
    # Grok rejects `strict` on functions: only the strict target carries it.
    assert "strict" not in summed.definition("grok")["function"]
    assert "strict" not in summed.definition("openai")["function"]
    assert summed.definition("strict")["function"]["strict"] is True


def test_tool_called_as_a_function() -> None:
    def double(x: int) -> int:
        return 2 * x

    doubled = tool(double, name="twice")
    assert doubled.name == "twice"
    assert doubled(4) == 8


@pytest.mark.anyio
async def test_a_tool_is_still_the_function() -> None:
    assert add(2, b=3) == 5
    coroutine = get_forecast("Paris", days=1)
    assert inspect.iscoroutine(coroutine)
    assert await coroutine == [{"city": "Paris", "day": 0, "unit": "c"}]


def test_parameters_and_definitions_are_copies() -> None:
    get_forecast.parameters["properties"].clear()
    get_forecast.definition("grok")["function"]["parameters"]["properties"].clear()
    assert get_forecast.parameters == FORECAST_PARAMETERS
    assert get_forecast.definition("grok")["function"]["parameters"] == FORECAST_PARAMETERS


# --------------------------------------------------------------------------------------------
# Definition errors
# --------------------------------------------------------------------------------------------


class Opaque:
    """No schema for this."""


def _with_args(*items: str) -> None: ...
def _with_kwargs(city: str, **extra: str) -> None: ...
def _positional_only(city: str, /) -> None: ...
def _unannotated(city, days: int) -> None: ...  # type: ignore[no-untyped-def]
def _opaque(thing: Opaque) -> None: ...
def _two_contexts(a: RunContext[Deps], b: RunContext[Deps]) -> None: ...
def _generator() -> Iterator[int]:
    yield 1


def _unresolvable(city: str) -> None: ...


_unresolvable.__annotations__ = {"city": "NoSuchType", "return": "None"}


@pytest.mark.parametrize(
    ("function", "options", "message"),
    [
        (
            _with_args,
            {},
            "cannot make a tool from _with_args(): parameter '*items' takes any number of "
            "positional values, which a model cannot send; use a list, e.g. `items: list[str]`",
        ),
        (
            _with_kwargs,
            {},
            "cannot make a tool from _with_kwargs(): parameter '**extra' takes arbitrary "
            "keywords, which have no schema; name each parameter, or take a dict, e.g. "
            "`extra: dict[str, str]`",
        ),
        (
            _positional_only,
            {},
            "cannot make a tool from _positional_only(): parameter 'city' is positional-only, "
            "but a model passes arguments by name; remove the '/' from the signature",
        ),
        (
            _unannotated,
            {},
            "cannot make a tool from _unannotated(): parameter 'city' has no type annotation; "
            "annotate it (e.g. `city: str`) so its schema can be built",
        ),
        (
            _opaque,
            {},
            "cannot make a tool from _opaque(): no JSON Schema for parameter 'thing'",
        ),
        (
            _two_contexts,
            {},
            "cannot make a tool from _two_contexts(): parameters 'a' and 'b' both take the "
            "RunContext; keep one",
        ),
        (
            _generator,
            {},
            "cannot make a tool from _generator(): it is a generator; a tool must return its "
            "result, so collect the items into a list and return that",
        ),
        (
            _unresolvable,
            {},
            "cannot make a tool from _unresolvable(): its annotations cannot be resolved "
            "(name 'NoSuchType' is not defined); define or import the types at module level",
        ),
        (
            lambda city: city,
            {},
            "'<lambda>' is not a valid tool name; use 1 to 64 letters, digits, '_' or '-', "
            "e.g. @tool(name='get_weather')",
        ),
        (_opaque, {"name": "has space"}, "'has space' is not a valid tool name"),
        (_opaque, {"name": "x" * 65}, f"{'x' * 65!r} is not a valid tool name"),
        (_opaque, {"name": ""}, "'' is not a valid tool name"),
        (add.function, {"timeout": 0}, "tool add: timeout must be > 0 seconds, not 0"),
        (add.function, {"retries": -1}, "tool add: retries must be >= 0, not -1"),
        (
            add.function,
            {"max_result_chars": -5},
            "tool add: max_result_chars must be >= 0, not -5",
        ),
    ],
)
def test_definition_errors_say_what_and_what_to_do(
    function: Any, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ToolDefinitionError) as info:
        tool(function, **options)
    assert message in str(info.value)


def test_opaque_type_error_lists_what_works() -> None:
    with pytest.raises(ToolDefinitionError, match="use JSON-friendly types: str, int"):
        tool(_opaque)


def test_a_tool_cannot_be_wrapped_twice() -> None:
    with pytest.raises(ToolDefinitionError, match="'add' is already a tool; apply @tool once"):
        tool(add)


def test_strict_tool_with_free_form_dict_fails_at_decoration() -> None:
    def tally(counts: dict[str, int]) -> int:
        return sum(counts.values())

    with pytest.raises(ToolDefinitionError) as info:
        tool(tally, strict=True)
    assert str(info.value) == (
        "tool 'tally' cannot be sent with schema target 'strict': OpenAI strict mode cannot "
        "express the object at #/properties/counts: it allows free-form keys (a dict, or a "
        "model with extra='allow'); use a model with fixed fields"
    )
    relaxed = tool(tally)  # fine until someone asks for the strict dialect
    assert relaxed.definition("grok")["function"]["name"] == "tally"
    with pytest.raises(ToolDefinitionError, match="target 'strict'"):
        relaxed.definition("strict")


# --------------------------------------------------------------------------------------------
# Validating arguments
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        '{"city": "Paris", "days": 5}',
        b'{"city": "Paris", "days": 5}',
        bytearray(b'{"city": "Paris", "days": 5}'),
        {"city": "Paris", "days": 5},
        '  {"city": "Paris", "days": 5, "unit": "c"}\n',
    ],
)
def test_valid_arguments(raw: Any) -> None:
    assert get_forecast.validate_arguments(raw) == {"city": "Paris", "days": 5, "unit": "c"}


@pytest.mark.parametrize("raw", ["", "null", "  ", b"", b"null", " null "])
def test_empty_and_null_mean_no_arguments(raw: Any) -> None:
    assert ping.validate_arguments(raw) == {}
    assert add.validate_arguments('{"a": 1}') == {"a": 1, "b": 1}
    with pytest.raises(ToolArgumentsError, match="- a: Field required"):
        add.validate_arguments(raw)


def test_every_bad_field_is_listed() -> None:
    with pytest.raises(ToolArgumentsError) as info:
        get_forecast.validate_arguments('{"days": 30, "unit": "k", "location": "Paris"}')
    error = info.value
    assert error.tool_name == "get_forecast"
    assert str(error) == (
        "Invalid arguments for tool 'get_forecast'; fix them and call it again:\n"
        "- city: Field required\n"
        "- days: Input should be less than or equal to 14 (got 30)\n"
        "- unit: Input should be 'c' or 'f' (got \"k\")\n"
        '- location: Extra inputs are not permitted (got "Paris")'
    )
    given_args = {"days": 30, "unit": "k", "location": "Paris"}
    assert error.errors == [
        {"loc": "city", "msg": "Field required", "input": given_args},
        {"loc": "days", "msg": "Input should be less than or equal to 14", "input": 30},
        {"loc": "unit", "msg": "Input should be 'c' or 'f'", "input": "k"},
        {"loc": "location", "msg": "Extra inputs are not permitted", "input": "Paris"},
    ]
    assert isinstance(error.__cause__, ValidationError)


@pytest.mark.parametrize(
    ("raw", "line"),
    [
        ('{"city": ', "- arguments: Invalid JSON: EOF while parsing a value at line 1 column 9"),
        ("[1, 2]", "- arguments: Input should be an object (got [1,2])"),
        ('"Paris"', '- arguments: Input should be an object (got "Paris")'),
        ("42", "- arguments: Input should be an object (got 42)"),
        ('{"city": 5}', "- city: Input should be a valid string (got 5)"),
        ('{"city": null}', "- city: Input should be a valid string (got null)"),
        ('{"city": "x", "days": "soon"}', "- days: Input should be a valid integer"),
        (b"\xff\xfe{", "- arguments: Invalid JSON"),
        ('"\ud800"', "- arguments: Input should be a valid string, unable to parse raw data"),
        (42, "- arguments: Input should be a valid dictionary"),
        ([("city", "x")], "- arguments: Input should be a valid dictionary"),
    ],
)
def test_bad_arguments(raw: Any, line: str) -> None:
    with pytest.raises(ToolArgumentsError) as info:
        get_forecast.validate_arguments(raw)
    message = str(info.value)
    assert message.startswith("Invalid arguments for tool 'get_forecast'; fix them")
    assert line in message.splitlines()[1]


def test_nested_errors_name_the_path() -> None:
    with pytest.raises(ToolArgumentsError) as info:
        mail.validate_arguments('{"addresses": [{"street": "Main"}, {"street": 1, "number": 2}]}')
    assert str(info.value).splitlines()[1:] == [
        "- addresses[0].number: Field required",
        "- addresses[1].street: Input should be a valid string (got 1)",
    ]
    assert [e["loc"] for e in info.value.errors] == ["addresses[0].number", "addresses[1].street"]


def test_long_inputs_are_cut_in_the_message() -> None:
    with pytest.raises(ToolArgumentsError) as info:
        add.validate_arguments({"a": "x" * 500})
    line = str(info.value).splitlines()[1]
    assert line.endswith('(got "' + "x" * 76 + "...)")
    assert info.value.errors[0]["input"] == "x" * 500


def test_no_parameter_tool_rejects_arguments() -> None:
    with pytest.raises(ToolArgumentsError, match="- x: Extra inputs are not permitted"):
        ping.validate_arguments('{"x": 1}')


def test_parameter_names_pydantic_reserves_round_trip() -> None:
    @tool
    def query(json: str, schema: str = "public", _limit: int = 5) -> str:
        return f"{schema}:{json}:{_limit}"

    assert query.validate_arguments('{"json": "{}", "_limit": 2}') == {
        "json": "{}",
        "schema": "public",
        "_limit": 2,
    }
    with pytest.raises(ToolArgumentsError, match="- _limit: Input should be a valid integer"):
        query.validate_arguments('{"json": "{}", "_limit": "x"}')


def test_rejected_nulls_fall_back_to_defaults() -> None:
    assert get_forecast.validate_arguments('{"city": "Paris", "days": null, "unit": null}') == {
        "city": "Paris",
        "days": 3,
        "unit": "c",
    }
    assert get_forecast.validate_arguments({"city": "Rome", "days": None}) == {
        "city": "Rome",
        "days": 3,
        "unit": "c",
    }
    # A null for a required field still reports the original error, not "Field required".
    with pytest.raises(ToolArgumentsError, match="city: Input should be a valid string"):
        get_forecast.validate_arguments('{"city": null, "days": null}')


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(["city", "days", "unit", "x", ""]) | st.text(), inner)
    ),
    max_leaves=12,
)
_junk_settings = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _accepted_or_rejected_cleanly(raw: Any) -> None:
    for subject in (get_forecast, mail, ping):
        try:
            subject.validate_arguments(raw)
            continue
        except ToolArgumentsError as exc:
            error = exc
        assert error.tool_name == subject.name
        assert error.errors
        assert str(error).startswith(f"Invalid arguments for tool {subject.name!r}")


@_junk_settings
@given(st.text())
def test_junk_text_only_raises_tool_arguments_error(raw: str) -> None:
    _accepted_or_rejected_cleanly(raw)


@_junk_settings
@given(st.binary())
def test_junk_bytes_only_raise_tool_arguments_error(raw: bytes) -> None:
    _accepted_or_rejected_cleanly(raw)


@_junk_settings
@given(_json_values)
def test_junk_json_only_raises_tool_arguments_error(value: Any) -> None:
    import json

    _accepted_or_rejected_cleanly(json.dumps(value))
    _accepted_or_rejected_cleanly(value)


# --------------------------------------------------------------------------------------------
# Invoking
# --------------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_invoke_returns_the_raw_value() -> None:
    assert await get_forecast.invoke('{"city": "Oslo", "days": 2, "unit": "f"}') == [
        {"city": "Oslo", "day": 0, "unit": "f"},
        {"city": "Oslo", "day": 1, "unit": "f"},
    ]
    assert await add.invoke('{"a": 40, "b": 2}') == 42


@pytest.mark.anyio
async def test_invoke_validates_first() -> None:
    with pytest.raises(
        ToolArgumentsError, match="days: Input should be greater than or equal to 1"
    ):
        await get_forecast.invoke('{"city": "Oslo", "days": 0}')


@pytest.mark.anyio
async def test_sync_tools_run_in_a_worker_thread() -> None:
    started = threading.Event()
    release = threading.Event()

    @tool
    def blocking() -> str:
        started.set()
        # Only the event loop sets `release`: if this ran on the loop, it would wait in vain.
        if not release.wait(5):
            raise AssertionError("the event loop was blocked by a sync tool")
        return threading.current_thread().name

    results: list[str] = []

    async def call() -> None:
        results.append(await blocking.invoke("{}"))

    async with anyio.create_task_group() as group:
        group.start_soon(call)
        assert await anyio.to_thread.run_sync(started.wait, 5)
        release.set()
    assert results
    assert results[0] != threading.current_thread().name


@pytest.mark.anyio
async def test_async_timeout() -> None:
    @tool(timeout=0.05)
    async def slow() -> None:
        await anyio.sleep(10)

    begin = time.monotonic()
    with pytest.raises(ToolTimeoutError) as info:
        await slow.invoke("{}")
    assert time.monotonic() - begin < 2
    assert str(info.value) == "tool 'slow' did not finish within 0.05 s"
    assert info.value.tool_name == "slow"


@pytest.mark.anyio
async def test_sync_timeout_frees_the_caller() -> None:
    release = threading.Event()

    @tool(timeout=0.05)
    def stuck() -> None:
        release.wait(5)

    begin = time.monotonic()
    try:
        with pytest.raises(ToolTimeoutError, match=r"tool 'stuck' did not finish within 0\.05 s"):
            await stuck.invoke("{}")
        assert time.monotonic() - begin < 2
    finally:
        release.set()  # let the abandoned worker thread finish


@pytest.mark.anyio
async def test_the_tools_own_timeout_error_is_not_ours() -> None:
    @tool(timeout=5)
    async def upstream() -> None:
        raise TimeoutError("upstream API timed out")

    with pytest.raises(TimeoutError, match="upstream API timed out") as info:
        await upstream.invoke("{}")
    assert not isinstance(info.value, ToolTimeoutError)


@pytest.mark.anyio
@pytest.mark.parametrize(
    "error",
    [ToolRetry("try a real city"), ModelRetry("again"), ValueError("boom"), KeyError("k")],
)
@pytest.mark.parametrize("is_async", [True, False])
async def test_exceptions_propagate_unchanged(error: Exception, is_async: bool) -> None:
    if is_async:

        async def failing_async() -> None:
            raise error

        failing = tool(failing_async, name="failing")
    else:

        def failing_sync() -> None:
            raise error

        failing = tool(failing_sync, name="failing")
    with pytest.raises(type(error)) as info:
        await failing.invoke("{}")
    assert info.value is error


@pytest.mark.anyio
async def test_run_context_is_injected() -> None:
    assert whoami.takes_context is True
    assert whoami.parameters["properties"] == {"greeting": {"default": "hi", "type": "string"}}
    ctx = RunContext(deps=Deps(user="ada"), tool_name="whoami")
    assert await whoami.invoke('{"greeting": "hello"}', ctx) == "hello ada (whoami)"
    assert whoami.validate_arguments("{}") == {"greeting": "hi"}
    assert await bare_context.invoke("", RunContext(deps=None, retry=2)) == 2


@pytest.mark.anyio
async def test_optional_and_annotated_contexts_are_still_the_context() -> None:
    @tool
    async def optional(ctx: RunContext[Deps] | None, city: str) -> str:
        assert ctx is not None
        return f"{city} for {ctx.deps.user}"

    @tool
    def annotated(ctx: Annotated[RunContext[Deps], "injected"], city: str) -> str:
        return f"{city} for {ctx.deps.user}"

    for subject in (optional, annotated):
        assert subject.takes_context
        assert list(subject.parameters["properties"]) == ["city"]
        assert (
            await subject.invoke('{"city": "Rome"}', RunContext(deps=Deps("bo"))) == "Rome for bo"
        )


@pytest.mark.anyio
async def test_missing_context_is_a_user_error() -> None:
    with pytest.raises(
        UserError, match=r"tool 'whoami' takes a RunContext; pass ctx= to invoke\(\)"
    ):
        await whoami.invoke("{}")


@pytest.mark.anyio
async def test_context_cannot_be_sent_by_the_model() -> None:
    with pytest.raises(ToolArgumentsError, match="ctx: Extra inputs are not permitted"):
        await whoami.invoke('{"ctx": {"deps": 1}}', RunContext(deps=Deps("x")))


@pytest.mark.anyio
async def test_a_sync_wrapper_returning_a_coroutine_is_awaited() -> None:
    async def inner(x: int) -> int:
        return x + 1

    def wrapper(x: int) -> Any:
        return inner(x)

    assert await tool(wrapper).invoke('{"x": 1}') == 2


# --------------------------------------------------------------------------------------------
# Methods
# --------------------------------------------------------------------------------------------


def test_method_tools_bind_like_methods() -> None:
    service = WeatherService("C")
    bound = service.current
    assert isinstance(bound, Tool)
    assert bound is not WeatherService.current
    assert bound.name == "current"
    assert bound.description == "Current weather."
    assert bound.parameters == {
        "additionalProperties": False,
        "properties": {"city": {"description": "City name.", "type": "string"}},
        "required": ["city"],
        "type": "object",
    }
    assert WeatherService.current.parameters == bound.parameters
    assert bound("Rome").startswith("Rome: 20 C")
    assert WeatherService.current(service, "Rome").startswith("Rome: 20 C")
    assert service.shared is add  # not a method: no binding


@pytest.mark.anyio
async def test_bound_method_tools_invoke_with_their_instance() -> None:
    service = WeatherService("F")
    result = await service.current.invoke('{"city": "Lima"}')
    assert result.startswith("Lima: 20 F in ")
    assert result != f"Lima: 20 F in {threading.current_thread().name}"  # ran in a worker thread
    ctx = RunContext(deps=Deps(user="ada"))
    assert await service.forecast.invoke({"city": "Lima"}, ctx) == "Lima for ada in F"
    assert service.forecast.name == "forecast_async"
    assert service.forecast.timeout == 1.0


@pytest.mark.anyio
async def test_unbound_method_tool_cannot_be_invoked() -> None:
    with pytest.raises(UserError) as info:
        await WeatherService.current.invoke('{"city": "Lima"}')
    assert str(info.value) == (
        "tool 'current' is a method; use it through an instance (`obj.current`), "
        "not through the class"
    )


def test_bound_methods_in_a_toolset() -> None:
    service = WeatherService("C")
    toolset = Toolset([service.current, service.forecast])
    assert toolset.names == ["current", "forecast_async"]


# --------------------------------------------------------------------------------------------
# Serialising results
# --------------------------------------------------------------------------------------------


class Reading(BaseModel):
    city: str
    when: datetime.date


@dataclasses.dataclass
class Wind:
    speed: float
    at: datetime.datetime


class Shouting:
    def __str__(self) -> str:
        return "LOUD"


READING_ID = uuid.UUID("12345678-1234-5678-1234-567812345678")


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("plain text", "plain text"),
        ("", ""),
        (None, "null"),
        (True, "true"),
        (False, "false"),
        (3, "3"),
        (2.5, "2.5"),
        (b"caf\xc3\xa9 \xff", "café \ufffd"),
        (bytearray(b"ok"), "ok"),
        (
            Reading(city="Paris", when=datetime.date(2025, 1, 2)),
            '{"city":"Paris","when":"2025-01-02"}',
        ),
        (
            Wind(speed=3.5, at=datetime.datetime(2025, 1, 2, 3, 4, 5)),
            '{"speed":3.5,"at":"2025-01-02T03:04:05"}',
        ),
        (
            {"id": READING_ID, "n": [1, 2]},
            '{"id":"12345678-1234-5678-1234-567812345678","n":[1,2]}',
        ),
        (
            [Reading(city="Rome", when=datetime.date(2025, 3, 4))],
            '[{"city":"Rome","when":"2025-03-04"}]',
        ),
        ((1, "a"), '[1,"a"]'),
        ({"only"}, '["only"]'),
        ({"thing": Shouting()}, '{"thing":"LOUD"}'),
        (Shouting(), "LOUD"),
        ("bad \ud800 text", "bad ? text"),
        ({"bad": "\udcff"}, "{'bad': '\\udcff'}"),
    ],
)
def test_serialize_result(value: Any, text: str) -> None:
    out = serialize_result(value)
    assert out == text
    out.encode("utf-8")  # always valid UTF-8


def test_truncation() -> None:
    assert serialize_result("x" * 20, max_chars=5) == "xxxxx\n[truncated: 15 more characters]"
    assert serialize_result("x" * 5, max_chars=5) == "xxxxx"
    assert serialize_result("abc", max_chars=0) == "\n[truncated: 3 more characters]"
    assert (
        serialize_result(list(range(10)), max_chars=6) == "[0,1,2\n[truncated: 15 more characters]"
    )


def test_tool_serialize_uses_its_own_limit() -> None:
    @tool(max_result_chars=4)
    def long_text() -> str:
        return "abcdefgh"

    assert long_text.serialize("abcdefgh") == "abcd\n[truncated: 4 more characters]"
    assert add.serialize("abcdefgh") == "abcdefgh"


# --------------------------------------------------------------------------------------------
# Toolsets
# --------------------------------------------------------------------------------------------


def plain_helper(text: str) -> str:
    """Echo the text."""
    return text


def test_toolset_basics() -> None:
    toolset = Toolset([get_forecast, add, plain_helper])
    assert len(toolset) == 3
    assert toolset.names == ["get_forecast", "add", "plain_helper"]
    assert [t.name for t in toolset] == toolset.names
    assert toolset.get("add") is add
    assert toolset.get("nope") is None
    assert "add" in toolset
    assert "nope" not in toolset
    helper = toolset.get("plain_helper")
    assert isinstance(helper, Tool)
    assert helper.description == "Echo the text."
    assert toolset.definitions("strict") == [t.definition("strict") for t in toolset]
    assert toolset.definitions()[0] == get_forecast.definition("grok")
    assert repr(toolset) == "Toolset(['get_forecast', 'add', 'plain_helper'])"


@pytest.mark.anyio
async def test_prefix_renames_copies() -> None:
    toolset = Toolset([get_forecast, add], prefix="weather")
    assert toolset.names == ["weather_get_forecast", "weather_add"]
    renamed = toolset.get("weather_add")
    assert renamed is not None
    assert renamed.definition()["function"]["name"] == "weather_add"
    assert await renamed.invoke('{"a": 1}') == 2
    assert add.name == "add"


def test_include_and_exclude() -> None:
    assert Toolset([get_forecast, add, ping], include=["add", "ping"]).names == ["add", "ping"]
    assert Toolset([get_forecast, add, ping], exclude=["add"]).names == ["get_forecast", "ping"]
    assert Toolset([get_forecast, add], include="add").names == ["add"]
    with pytest.raises(ToolDefinitionError) as info:
        Toolset([get_forecast, add], include=["adds"])
    assert str(info.value) == (
        "Toolset(include=...) names tools that are not in the set: adds; "
        "the tools are: add, get_forecast"
    )
    with pytest.raises(ToolDefinitionError, match=r"Toolset\(exclude=...\) names tools"):
        Toolset([add], exclude=["ping"])


def test_toolsets_nest() -> None:
    inner = Toolset([add, ping], prefix="math")
    outer = Toolset([inner, get_forecast], prefix="all", exclude=["math_ping"])
    assert outer.names == ["all_math_add", "all_get_forecast"]
    assert len(Toolset([inner, inner])) == 2  # the very same tools twice are one


def test_duplicate_names_name_both_functions() -> None:
    def other_forecast(city: str) -> str:
        return city

    with pytest.raises(ToolDefinitionError) as info:
        Toolset([get_forecast, tool(other_forecast, name="get_forecast")])
    assert str(info.value) == (
        "two tools are named 'get_forecast': tests.test_tool.get_forecast() and "
        "tests.test_tool.test_duplicate_names_name_both_functions.<locals>.other_forecast(); "
        "rename one with @tool(name=...) or put them in toolsets with different prefixes"
    )


def test_toolset_construction_errors() -> None:
    with pytest.raises(
        ToolDefinitionError, match="Toolset takes tools, toolsets and functions, not 42"
    ):
        Toolset([42])  # type: ignore[list-item]
    with pytest.raises(ToolDefinitionError, match="is not a valid tool name") as info:
        Toolset([add], prefix="p" * 62)
    assert "so shorten the prefix" in str(info.value)
