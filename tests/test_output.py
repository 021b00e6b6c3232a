"""Output specs: schemas per mode and dialect, lenient parsing, partial validation."""

from __future__ import annotations

import dataclasses
from typing import Literal

import pytest
from pydantic import BaseModel, Field

from agentkit.errors import UserError
from agentkit.output import OutputInvalid, OutputSpec, next_mode, resolve_mode
from agentkit.profiles import DEFAULT_PROFILE, profile_for


class Forecast(BaseModel):
    """A forecast."""

    city: str = Field(max_length=10)
    high_c: float


class Tag(BaseModel):
    kind: Literal["tag"] = "tag"
    label: str


@dataclasses.dataclass
class Point:
    x: int
    y: int


def test_text_output_has_no_schema_to_send() -> None:
    spec: OutputSpec[str] = OutputSpec(str)
    assert spec.is_text
    assert resolve_mode("native", is_text=True, profile=DEFAULT_PROFILE, has_tools=False) == "text"


def test_model_schema_in_each_dialect() -> None:
    spec: OutputSpec[Forecast] = OutputSpec(Forecast)
    assert not spec.wrapped
    grok = spec.response_format("grok")
    assert grok["type"] == "json_schema"
    assert grok["json_schema"]["name"] == "Forecast"
    assert grok["json_schema"]["strict"] is True
    assert "maxLength" not in str(grok)  # Grok has no string lengths
    strict = spec.response_format("openai")["json_schema"]
    assert strict["strict"] is True
    assert strict["schema"]["additionalProperties"] is False
    tool = spec.tool_definition("grok")
    assert tool["function"]["name"] == "final_result"
    assert tool["function"]["parameters"]["required"] == ["city", "high_c"]
    assert "title" not in str(spec.schema)
    # Cached: asking twice returns the same object, no per-run schema building.
    assert spec.json_schema("grok") is spec.json_schema("grok")


def test_free_form_dicts_fall_back_from_openai_strict() -> None:
    spec: OutputSpec[dict[str, int]] = OutputSpec(dict[str, int])
    assert not spec.wrapped  # an object already
    assert spec.response_format("openai")["json_schema"]["strict"] is False


def test_non_object_roots_are_wrapped() -> None:
    for output_type in (list[Forecast], int, Forecast | Tag, Literal["a", "b"]):
        spec: OutputSpec[object] = OutputSpec(output_type)
        assert spec.wrapped
        schema = spec.json_schema("grok")
        assert schema["type"] == "object"
        assert schema["required"] == ["result"]
        assert "anyOf" not in schema  # not at the root


def test_parse_wrapped_and_bare_values() -> None:
    spec: OutputSpec[list[int]] = OutputSpec(list[int])
    assert spec.parse('{"result": [1, 2]}') == [1, 2]
    assert spec.parse("[1, 2]") == [1, 2]  # the bare value is accepted too
    union: OutputSpec[Forecast | Tag] = OutputSpec(Forecast | Tag)
    assert union.parse('{"result": {"label": "x"}}') == Tag(label="x")


def test_parse_tolerates_fences_and_prose() -> None:
    spec: OutputSpec[Point] = OutputSpec(Point)
    assert spec.parse('```json\n{"x": 1, "y": 2}\n```') == Point(1, 2)
    assert spec.parse('Sure! Here it is: {"x": 1, "y": 2} Hope that helps.') == Point(1, 2)
    assert spec.parse('```\n{"x": 3, "y": 4}\n```') == Point(3, 4)


def test_invalid_answers_give_actionable_feedback() -> None:
    spec: OutputSpec[Forecast] = OutputSpec(Forecast)
    with pytest.raises(OutputInvalid) as info:
        spec.parse('{"city": "Much too long a name", "high_c": "hot"}')
    assert "city" in info.value.feedback and "high_c" in info.value.feedback
    assert {e["loc"] for e in info.value.errors} == {"city", "high_c"}
    with pytest.raises(OutputInvalid, match="not valid JSON") as info:
        spec.parse("I don't know")
    assert info.value.raw_text == "I don't know"
    with pytest.raises(OutputInvalid, match="final_result"):
        spec.parse('{"city": 1}', from_tool=True)


def test_partial_parsing() -> None:
    spec: OutputSpec[Forecast] = OutputSpec(Forecast)
    assert spec.parse_partial("") == (None, None)
    assert spec.parse_partial('{"city": "Par') == ({"city": "Par"}, None)
    _, value = spec.parse_partial('{"city": "Paris", "high_c": 12')
    assert value == Forecast(city="Paris", high_c=12)
    listed: OutputSpec[list[Point]] = OutputSpec(list[Point])
    _, points = listed.parse_partial('{"result": [{"x": 1, "y": 2}, {"x": 3')
    assert points == [Point(1, 2)]  # finished items only
    fenced: OutputSpec[Point] = OutputSpec(Point)
    assert fenced.parse_partial('```json\n{"x": 1') == ({"x": 1}, None)


def test_prompt_carries_the_schema() -> None:
    prompt = OutputSpec(Forecast).prompt()
    assert '"high_c"' in prompt and "JSON" in prompt


def test_types_without_a_schema_are_a_user_error() -> None:
    class Opaque:
        pass

    with pytest.raises(UserError, match="output_type"):
        OutputSpec(Opaque)


def test_mode_resolution_follows_the_profile() -> None:
    grok4, grok3 = profile_for("grok-4"), profile_for("grok-3")
    assert resolve_mode("auto", is_text=False, profile=grok4, has_tools=True) == "native"
    assert resolve_mode("auto", is_text=False, profile=grok3, has_tools=False) == "native"
    assert resolve_mode("auto", is_text=False, profile=grok3, has_tools=True) == "tool"
    assert resolve_mode("auto", is_text=False, profile=DEFAULT_PROFILE, has_tools=False) == "tool"
    assert resolve_mode("prompted", is_text=False, profile=grok4, has_tools=True) == "prompted"
    assert [next_mode("native"), next_mode("tool"), next_mode("prompted")] == ["tool", "prompted", None]
