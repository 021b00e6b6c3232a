"""Token and cost accounting, with xAI's semantics kept explicit."""

from __future__ import annotations

from ._base import WireModel

__all__ = ["TICKS_PER_USD", "CompletionTokensDetails", "PromptTokensDetails", "Usage"]

TICKS_PER_USD = 10_000_000_000
"""xAI reports `cost_in_usd_ticks`; 10^10 ticks make one US dollar."""


class PromptTokensDetails(WireModel):
    """How the prompt tokens split; on xAI `text_tokens` includes the cached ones."""

    cached_tokens: int | None = None
    text_tokens: int | None = None
    image_tokens: int | None = None
    audio_tokens: int | None = None


class CompletionTokensDetails(WireModel):
    """How the completion tokens split."""

    reasoning_tokens: int | None = None
    audio_tokens: int | None = None
    accepted_prediction_tokens: int | None = None
    rejected_prediction_tokens: int | None = None


class Usage(WireModel):
    """Token usage of one response.

    xAI counts reasoning tokens *outside* `completion_tokens` (its `total_tokens` is prompt +
    completion + reasoning), while OpenAI counts them inside. `output_tokens` gives the
    billable output either way.
    """

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    prompt_tokens_details: PromptTokensDetails | None = None
    completion_tokens_details: CompletionTokensDetails | None = None
    num_sources_used: int | None = None
    cost_in_usd_ticks: int | None = None
    """xAI's cost of the request, in ticks: 10^10 ticks make one US dollar."""

    @property
    def reasoning_tokens(self) -> int:
        """Reasoning tokens, 0 when the server reported none."""
        details = self.completion_tokens_details
        return (details.reasoning_tokens or 0) if details else 0

    @property
    def cached_tokens(self) -> int:
        """Prompt tokens served from the cache, 0 when the server reported none."""
        details = self.prompt_tokens_details
        return (details.cached_tokens or 0) if details else 0

    @property
    def reasoning_outside_completion(self) -> bool:
        """True when reasoning tokens are not part of `completion_tokens` (xAI's way)."""
        reasoning = self.reasoning_tokens
        return reasoning > 0 and self.total_tokens >= (
            self.prompt_tokens + self.completion_tokens + reasoning
        )

    @property
    def output_tokens(self) -> int:
        """Everything generated: visible completion plus reasoning, counted once."""
        if self.reasoning_outside_completion:
            return self.completion_tokens + self.reasoning_tokens
        return self.completion_tokens

    @property
    def cost_usd(self) -> float | None:
        """The cost in US dollars when the server reported it (xAI ticks or OpenRouter `cost`)."""
        if self.cost_in_usd_ticks is not None:
            return self.cost_in_usd_ticks / TICKS_PER_USD
        extra = self.model_extra or {}
        cost = extra.get("cost")
        return float(cost) if isinstance(cost, int | float) else None
