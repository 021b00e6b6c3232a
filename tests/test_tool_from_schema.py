"""`Tool.from_schema`: a tool described by a JSON Schema (an MCP server's, an OpenAPI
operation's) with a function taking the arguments as one dict. Its arguments are checked
against the whole schema; its definitions are made valid for each target like any tool's; the
options mean what they mean for `@tool`, in an agent run too."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import anyio
import pytest

from agentkit import Agent, GrokClient, Tool, Toolset
from agentkit.errors import ToolArgumentsError, ToolDefinitionError
from agentkit.sim import SimCore, SimReply, SimToolCall, SimTransport, scripted

pytestmark = pytest.mark.anyio

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "title": "get_forecast arguments",
    "properties": {
        "city": {"type": "string", "title": "City", "minLength": 2, "description": "The city."},
        "days": {"type": "integer", "minimum": 1, "maximum": 7, "default": 1},
        "unit": {"enum": ["c", "f"]},
        "when": {"oneOf": [{"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"},
                           {"const": "tomorrow"}]},
    },
    "required": ["city"],
    "additionalProperties": False,
}


def forecast_tool(**options: Any) -> tuple[Tool, list[dict[str, Any]]]:
    calls: list[dict[str, Any]] = []

    async def get_forecast(arguments: dict[str, Any]) -> dict[str, Any]:
        calls.append(arguments)
        return {"city": arguments["city"], "days": arguments.get("days", 1)}

    return Tool.from_schema("get_forecast", "The forecast for a city.", SCHEMA, get_forecast,
                            **options), calls


async def test_valid_arguments_reach_the_function_as_one_dict() -> None:
    forecast, calls = forecast_tool()
    assert await forecast.invoke('{"city": "Paris", "days": 3}') == {"city": "Paris", "days": 3}
    assert await forecast.invoke({"city": "Oslo", "when": "tomorrow"}) == {"city": "Oslo", "days": 1}
    assert calls == [{"city": "Paris", "days": 3}, {"city": "Oslo", "when": "tomorrow"}]
    assert forecast.is_async and not forecast.takes_context
    assert "get_forecast" in repr(forecast)


async def test_every_part_of_the_schema_is_enforced_with_one_line_per_bad_field() -> None:
    forecast, calls = forecast_tool()
    with pytest.raises(ToolArgumentsError) as caught:
        await forecast.invoke('{"days": 30, "unit": "k", "wind": true}')
    assert str(caught.value).splitlines() == [
        "Invalid arguments for tool 'get_forecast'; fix them and call it again:",
        "- city: Field required",
        "- arguments: Additional properties are not allowed ('wind' was unexpected)",
        "- days: 30 is greater than the maximum of 7",
        "- unit: 'k' is not one of ['c', 'f']",
    ]
    assert [e["loc"] for e in caught.value.errors] == ["city", "", "days", "unit"]
    assert caught.value.tool_name == "get_forecast"
    # What the Grok dialect leaves out (string lengths) is still checked.
    with pytest.raises(ToolArgumentsError, match=r"- city: 'P' is too short"):
        forecast.validate_arguments({"city": "P"})
    for bad, line in (("[1]", "- arguments: Input should be an object (got [1])"),
                      ("{nope", "- arguments: Invalid JSON")):
        with pytest.raises(ToolArgumentsError, match=r"(?m)^" + re.escape(line)):
            forecast.validate_arguments(bad)
    assert calls == []


async def test_definitions_are_made_valid_for_each_target() -> None:
    forecast, _ = forecast_tool()
    grok = forecast.definition("grok")["function"]
    assert grok["name"] == "get_forecast" and grok["description"] == "The forecast for a city."
    assert grok["parameters"] == {
        "type": "object",
        "properties": {
            "city": {"type": "string", "description": "The city."},
            "days": {"type": "integer", "minimum": 1, "maximum": 7, "default": 1},
            "unit": {"enum": ["c", "f"]},
            "when": {"anyOf": [{"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"},
                               {"enum": ["tomorrow"]}]},
        },
        "required": ["city"],
        "additionalProperties": False,
    }
    assert forecast.parameters == forecast.definition("openai")["function"]["parameters"]
    strict = forecast.definition("strict")["function"]
    assert strict["strict"] is True and strict["parameters"]["required"] == [
        "city", "days", "unit", "when"]


async def test_strict_mode_nulls_mean_the_default() -> None:
    forecast, calls = forecast_tool(strict=True)
    await forecast.invoke('{"city": "Paris", "days": null, "unit": null, "when": null}')
    assert calls == [{"city": "Paris"}]
    with pytest.raises(ToolArgumentsError, match="city: None is not of type 'string'"):
        forecast.validate_arguments('{"city": null}')


def test_a_sync_function_and_a_direct_call() -> None:
    tool = Tool.from_schema("shout", "Shout.", {"type": "object", "properties": {
        "text": {"type": "string"}}}, lambda arguments: arguments["text"].upper())
    assert not tool.is_async
    assert tool(text="hi") == "HI"
    assert anyio.run(tool.invoke, {"text": "hey"}) == "HEY"


@pytest.mark.parametrize(("name", "schema", "message"), [
    ("bad name", {"type": "object"}, "'bad name' is not a valid tool name"),
    ("x", {"type": "array"}, "must have \"type\": \"object\" at its root"),
    ("x", {"properties": {}}, "must have \"type\": \"object\" at its root"),
    ("x", {"type": "object", "properties": {"a": {"type": "integr"}}},
     "the parameters are not a valid JSON Schema"),
    ("x", {"type": "object", "properties": {"a": {"minimum": "one"}}},
     "the parameters are not a valid JSON Schema"),
])
def test_an_unusable_name_or_schema_is_a_definition_error(
    name: str, schema: dict[str, Any], message: str,
) -> None:
    with pytest.raises(ToolDefinitionError, match=message):
        Tool.from_schema(name, "", schema, lambda arguments: None)


def test_the_options_are_checked_as_for_any_tool() -> None:
    with pytest.raises(ToolDefinitionError, match="timeout must be > 0"):
        forecast_tool(timeout=0)
    with pytest.raises(ToolDefinitionError, match="deferred tool's result comes from the caller"):
        forecast_tool(deferred=True, requires_approval=True)
    with pytest.raises(ToolDefinitionError, match="cannot be sent with schema target 'strict'"):
        Tool.from_schema("free", "", {"type": "object", "additionalProperties": {
            "type": "string"}}, lambda arguments: None, strict=True)
    with pytest.raises(ToolDefinitionError, match="call must be a function"):
        Tool.from_schema("x", "", {"type": "object"}, "not callable")  # type: ignore[arg-type]
    tool, _ = forecast_tool(requires_approval=True, retries=2, max_result_chars=5)
    assert tool.interrupts and tool.retries == 2 and tool.serialize("abcdefgh").startswith("abcde\n")


def test_a_prefixed_toolset_renames_it_and_keeps_the_checks() -> None:
    forecast, _ = forecast_tool()
    [renamed] = Toolset([forecast], prefix="remote")
    assert renamed.name == "remote_get_forecast"
    with pytest.raises(ToolArgumentsError, match="tool 'get_forecast'"):
        renamed.validate_arguments({})


async def test_an_agent_runs_a_schema_tool_and_pauses_for_one_that_needs_approval() -> None:
    forecast, calls = forecast_tool()
    refund = Tool.from_schema("refund", "Refund an order.", {
        "type": "object", "properties": {"order": {"type": "integer"}}, "required": ["order"],
    }, lambda arguments: f"refunded {arguments['order']}", requires_approval=True)

    def policy(request: Mapping[str, Any]) -> SimReply:
        results = [m["content"] for m in request["messages"] if m["role"] == "tool"]
        if results:
            return SimReply(content=json.dumps(results))
        return SimReply(tool_calls=(
            SimToolCall("get_forecast", '{"city": "Paris", "days": 99}'),
            SimToolCall("refund", '{"order": 7}'),
        ))

    grok = GrokClient("k", base_url="http://sim.test/v1", retry_policy=None, max_retries=0,
                      transport=SimTransport(SimCore(scripted(policy))))
    async with grok:
        agent = Agent("grok-4", client=grok, tools=[forecast, refund])
        paused = await agent.run("Paris, and refund order 7")
        [waiting] = paused.interruptions
        assert (waiting.tool_name, waiting.kind, waiting.values) == ("refund", "approval",
                                                                      {"order": 7})
        state = paused.state
        state.approve(waiting.call_id)
        result = await agent.run(state=state)
    error, refunded = json.loads(result.output)
    assert error.startswith("Error: Invalid arguments for tool 'get_forecast'")
    assert "- days: 99 is greater than the maximum of 7" in error
    assert refunded == "refunded 7"
    assert calls == []
