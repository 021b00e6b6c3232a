"""Model profiles: the Grok facts of the reference, sections 4.4 and 4.5."""

from __future__ import annotations

import pytest

from agentkit.profiles import DEFAULT_PROFILE, profile_for


@pytest.mark.parametrize(
    ("model", "reasoning", "efforts", "rejected"),
    [
        ("grok-3", False, set(), {"presence_penalty", "reasoning_effort"}),
        ("grok-3-mini", True, {"low", "high"}, {"stop", "presence_penalty", "frequency_penalty"}),
        ("grok-3-mini-fast", True, {"low", "high"}, {"stop", "presence_penalty", "frequency_penalty"}),
        ("grok-4", True, set(), {"stop", "presence_penalty", "frequency_penalty", "reasoning_effort"}),
        ("grok-4-0709", True, set(), {"stop", "presence_penalty", "frequency_penalty", "reasoning_effort"}),
        ("grok-4-1-fast-reasoning", True, set(), {"stop", "presence_penalty", "frequency_penalty", "reasoning_effort"}),
        ("grok-4-fast-non-reasoning", False, set(), {"presence_penalty", "frequency_penalty", "reasoning_effort"}),
        ("grok-4.20-0309-non-reasoning", False, set(), {"presence_penalty", "frequency_penalty", "reasoning_effort"}),
        ("grok-4.20-0309-reasoning", True, set(), {"presence_penalty", "frequency_penalty", "reasoning_effort"}),
        ("grok-code-fast-1", True, set(), {"stop", "presence_penalty", "frequency_penalty", "reasoning_effort"}),
        ("grok-4.3", True, {"none", "low", "medium", "high", "xhigh"}, {"presence_penalty", "frequency_penalty"}),
        ("grok-4.5", True, {"low", "medium", "high"}, {"presence_penalty", "frequency_penalty"}),
        ("grok-4.6", True, {"low", "medium", "high", "xhigh"}, {"presence_penalty", "frequency_penalty"}),
    ],
)
def test_grok_models(model: str, reasoning: bool, efforts: set[str], rejected: set[str]) -> None:
    profile = profile_for(model)
    assert profile.reasoning is reasoning
    assert profile.reasoning_efforts == efforts
    assert profile.rejected_params == rejected
    assert profile.json_schema
    assert not profile.strict_tools  # strict tools: not supported on Grok
    assert profile.schema_target == "grok"


def test_structured_output_with_tools_is_grok_4_family_only() -> None:
    assert profile_for("grok-4").structured_output_with_tools
    assert profile_for("grok-4.20-0309-reasoning").structured_output_with_tools
    assert profile_for("grok-4-1-fast-non-reasoning").structured_output_with_tools
    assert not profile_for("grok-3").structured_output_with_tools
    assert not profile_for("grok-3-mini").structured_output_with_tools
    assert not profile_for("grok-code-fast-1").structured_output_with_tools


def test_visible_reasoning() -> None:
    assert profile_for("grok-3-mini").visible_reasoning
    assert not profile_for("grok-4").visible_reasoning


def test_routed_names_and_unknown_models() -> None:
    assert profile_for("x-ai/grok-3-mini") is profile_for("grok-3-mini")
    assert profile_for("xai/grok-4") is profile_for("grok-4")
    assert profile_for(" GROK-4 ") is profile_for("grok-4")
    assert profile_for("llama3.1") is DEFAULT_PROFILE
    assert DEFAULT_PROFILE.schema_target == "openai"
    assert not DEFAULT_PROFILE.json_schema
    assert DEFAULT_PROFILE.accepts("presence_penalty")
    # A Grok 4.x the table does not name keeps reasoning_effort (it is not dropped).
    assert profile_for("grok-4.9").accepts("reasoning_effort")
    assert not profile_for("grok-4").accepts("reasoning_effort")
