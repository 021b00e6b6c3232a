"""What each model accepts: reasoning, sampling parameters, structured output, strict tools.

Pure data and one lookup, seeded with the Grok facts of the xAI reference (sections 4.4 and
4.5). The agent reads a profile to choose an output mode and to leave out parameters a model
is known to reject; what a server rejects anyway is learned at run time (see `agent.py`), so a
profile that is out of date costs one request, never a failed run.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._schema import Target

__all__ = ["DEFAULT_PROFILE", "GROK_PROFILES", "ModelProfile", "profile_for"]

_PENALTIES = frozenset({"presence_penalty", "frequency_penalty"})
_REASONING_REJECTS = _PENALTIES | {"stop", "reasoning_effort"}


@dataclass(frozen=True, slots=True)
class ModelProfile:
    """What one model (or family) accepts.

    Attributes:
        family: A label for the family the profile describes (for messages and logs).
        reasoning: Whether the model reasons before answering.
        reasoning_efforts: Values accepted for `reasoning_effort`; empty when the parameter
            itself is rejected (or unknown, for `DEFAULT_PROFILE`).
        visible_reasoning: Whether chat completions carry `reasoning_content`.
        rejected_params: Request fields the model answers 400 to, even when set to 0.
        json_schema: Whether `response_format` `json_schema` is known to work.
        structured_output_with_tools: Whether `json_schema` works together with `tools`
            (Grok 4 family only).
        strict_tools: Whether `strict: true` on a function is accepted (never on Grok).
        schema_target: The schema dialect tools and output schemas are sent in.
        context_window: Most prompt tokens, where known (the reference's section 8).
    """

    family: str
    reasoning: bool = False
    reasoning_efforts: frozenset[str] = frozenset()
    visible_reasoning: bool = False
    rejected_params: frozenset[str] = frozenset()
    json_schema: bool = True
    structured_output_with_tools: bool = False
    strict_tools: bool = False
    schema_target: Target = "grok"
    context_window: int | None = None

    def accepts(self, param: str) -> bool:
        """Whether a request for this model may carry `param`."""
        return param not in self.rejected_params


DEFAULT_PROFILE = ModelProfile(
    family="unknown", json_schema=False, schema_target="openai"
)
"""For models the table does not know (other providers): nothing assumed, standard schemas.
Structured output then goes through a final-answer tool, which every tool-calling model takes."""

_GROK = ModelProfile(family="grok", rejected_params=frozenset({"reasoning_effort"}))
_GROK_4 = ModelProfile(
    family="grok-4", reasoning=True, rejected_params=_REASONING_REJECTS,
    structured_output_with_tools=True, context_window=256_000,
)
_GROK_4_FAST = ModelProfile(
    family="grok-4-fast", reasoning=True, rejected_params=_REASONING_REJECTS,
    structured_output_with_tools=True, context_window=2_000_000,
)

GROK_PROFILES: tuple[tuple[str, ModelProfile], ...] = (
    # Most specific prefix first: the first match wins.
    ("grok-3-mini", ModelProfile(
        family="grok-3-mini", reasoning=True, reasoning_efforts=frozenset({"low", "high"}),
        visible_reasoning=True, rejected_params=_PENALTIES | {"stop"}, context_window=131_072,
    )),
    ("grok-3", ModelProfile(
        family="grok-3", rejected_params=frozenset({"presence_penalty", "reasoning_effort"}),
        context_window=131_072,
    )),
    ("grok-2-vision", ModelProfile(family="grok-2-vision",
                                   rejected_params=frozenset({"reasoning_effort"}),
                                   context_window=32_768)),
    ("grok-2", _GROK),
    ("grok-code-fast", ModelProfile(
        family="grok-code-fast", reasoning=True, visible_reasoning=True,
        rejected_params=_REASONING_REJECTS, context_window=256_000,
    )),
    # The newer pages give 1,000,000 (an older one 2,000,000): the smaller is the safe one.
    ("grok-4.20-0309-non-reasoning", ModelProfile(
        family="grok-4.20-non-reasoning", rejected_params=_PENALTIES | {"reasoning_effort"},
        structured_output_with_tools=True, context_window=1_000_000,
    )),
    ("grok-4.20-non-reasoning", ModelProfile(
        family="grok-4.20-non-reasoning", rejected_params=_PENALTIES | {"reasoning_effort"},
        structured_output_with_tools=True, context_window=1_000_000,
    )),
    ("grok-4.20", ModelProfile(
        family="grok-4.20-reasoning", reasoning=True,
        rejected_params=_PENALTIES | {"reasoning_effort"}, structured_output_with_tools=True,
        context_window=1_000_000,
    )),
    ("grok-4.3", ModelProfile(
        family="grok-4.3", reasoning=True,
        reasoning_efforts=frozenset({"none", "low", "medium", "high", "xhigh"}),
        rejected_params=_PENALTIES, structured_output_with_tools=True, context_window=1_000_000,
    )),
    ("grok-4.5", ModelProfile(
        family="grok-4.5", reasoning=True, reasoning_efforts=frozenset({"low", "medium", "high"}),
        rejected_params=_PENALTIES, structured_output_with_tools=True, context_window=500_000,
    )),
    ("grok-4.6", ModelProfile(
        family="grok-4.6", reasoning=True,
        reasoning_efforts=frozenset({"low", "medium", "high", "xhigh"}),
        rejected_params=_PENALTIES, structured_output_with_tools=True, context_window=500_000,
    )),
    ("grok-4-fast-non-reasoning", ModelProfile(
        family="grok-4-fast-non-reasoning", rejected_params=_PENALTIES | {"reasoning_effort"},
        structured_output_with_tools=True, context_window=2_000_000,
    )),
    ("grok-4-1-fast-non-reasoning", ModelProfile(
        family="grok-4-fast-non-reasoning", rejected_params=_PENALTIES | {"reasoning_effort"},
        structured_output_with_tools=True, context_window=2_000_000,
    )),
    ("grok-4-fast", _GROK_4_FAST),
    ("grok-4-1-fast", _GROK_4_FAST),
    # A later grok-4.x the table does not name yet: assume it is like the newest ones.
    ("grok-4.", ModelProfile(
        family="grok-4.x", reasoning=True, reasoning_efforts=frozenset({"low", "medium", "high"}),
        rejected_params=_PENALTIES, structured_output_with_tools=True,
    )),
    # grok-4, grok-4-0709: always reasoning.
    ("grok-4", _GROK_4),
    ("grok", _GROK),
)  # fmt: skip
"""Model-name prefix -> profile, most specific first."""

# How routers spell xAI's models: OpenRouter `x-ai/grok-4`, LiteLLM `xai/grok-4`.
_PROVIDER_PREFIXES = ("x-ai/", "xai/")


def profile_for(model: str) -> ModelProfile:
    """The profile of `model` (a Grok id, alias or routed name), or `DEFAULT_PROFILE`.

    Args:
        model: The model name as passed to the agent, e.g. `"grok-4"` or `"x-ai/grok-3-mini"`.

    Returns:
        The first profile whose prefix the (lower-cased, provider-stripped) name starts with.
    """
    name = model.strip().lower()
    for prefix in _PROVIDER_PREFIXES:
        if name.startswith(prefix):
            name = name[len(prefix) :]
            break
    for prefix, profile in GROK_PROFILES:
        if name.startswith(prefix):
            return profile
    return DEFAULT_PROFILE
