"""The simulated server's model table: ids, aliases, what each model accepts, and its prices.

Plain frozen data, no behaviour besides looking names up, so that a capability-profile module
on the client side can mirror it field by field. Figures follow the xAI reference (section 8);
where the reference has a gap (a cached price marked "?", an image price) the value is an
assumption named in the entry's comment.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

__all__ = [
    "MODELS",
    "ModelKind",
    "Reasoning",
    "SimModel",
    "index_models",
]

ModelKind = Literal["chat", "image", "embedding"]
Reasoning = Literal["none", "hidden", "visible"]

_PENALTIES = frozenset({"presence_penalty", "frequency_penalty"})
_REASONING_REJECTS = _PENALTIES | {"stop"}


def _fingerprint(model_id: str) -> str:
    # Stable per model, like xAI's, which changes only when the deployment does.
    return "fp_" + hashlib.sha256(model_id.encode()).hexdigest()[:10]


@dataclass(frozen=True, slots=True)
class SimModel:
    """One model the simulated server offers.

    Attributes:
        id: The canonical id, the one responses name in `"model"`.
        kind: "chat" (chat and legacy completions), "image" (generation) or "embedding".
        created: Unix time shown by `GET /v1/models`.
        aliases: Other names that resolve to this model.
        context_window: Most prompt tokens (0 when not applicable).
        input_modalities: "text", and "image" for models that read images.
        reasoning: "none"; "hidden" (reasoning tokens billed, text never shown); "visible"
            (`reasoning_content` is sent).
        reasoning_efforts: Values accepted for `reasoning_effort`; empty means the parameter
            itself is rejected with 400.
        rejected_params: Request fields this model answers 400 to, even when set to 0.
        input_price: US dollars per million prompt tokens.
        cached_input_price: US dollars per million cached prompt tokens.
        output_price: US dollars per million completion and reasoning tokens.
        long_context_threshold: Prompt size above which every price doubles (grok-4.3).
        image_price: US dollars per generated image (image models).
        effort_names: `reasoning_effort` values under which responses name another id
            (grok-3-mini with "high" answers as "grok-3-mini-high").
        retired: On xAI's 2026-05-15 retirement list; still served here.
        fingerprint: `system_fingerprint` of this model's responses.
    """

    id: str
    kind: ModelKind
    created: int
    aliases: tuple[str, ...] = ()
    context_window: int = 0
    input_modalities: tuple[str, ...] = ("text",)
    reasoning: Reasoning = "none"
    reasoning_efforts: tuple[str, ...] = ()
    rejected_params: frozenset[str] = frozenset()
    input_price: float = 0.0
    cached_input_price: float = 0.0
    output_price: float = 0.0
    long_context_threshold: int | None = None
    image_price: float = 0.0
    effort_names: tuple[tuple[str, str], ...] = ()
    retired: bool = False
    fingerprint: str = field(default="")

    def __post_init__(self) -> None:
        if not self.fingerprint:
            object.__setattr__(self, "fingerprint", _fingerprint(self.id))

    @property
    def reads_images(self) -> bool:
        """Whether chat messages may carry `image_url` parts for this model."""
        return "image" in self.input_modalities

    @property
    def structured_output_with_tools(self) -> bool:
        """Whether a `json_schema` response format may come with `tools` (Grok 4 family)."""
        return self.kind == "chat" and self.id.startswith("grok-4")

    def response_name(self, effort: str | None) -> str:
        """The id a response names, given the request's `reasoning_effort`."""
        for value, name in self.effort_names:
            if value == effort:
                return name
        return self.id


_TEXT_IMAGE = ("text", "image")

MODELS: tuple[SimModel, ...] = (
    SimModel(
        "grok-4.6",
        "chat",
        1785542400,
        context_window=500_000,
        input_modalities=_TEXT_IMAGE,
        reasoning="hidden",
        reasoning_efforts=("low", "medium", "high", "xhigh"),
        rejected_params=_PENALTIES,
        # The cached price is "?" in the reference: assumed equal to grok-4.5's.
        input_price=2.00,
        cached_input_price=0.50,
        output_price=6.00,
    ),
    SimModel(
        "grok-4.5",
        "chat",
        1782864000,
        aliases=("grok-4.5-latest",),
        context_window=500_000,
        input_modalities=_TEXT_IMAGE,
        reasoning="hidden",
        reasoning_efforts=("low", "medium", "high"),
        rejected_params=_PENALTIES,
        input_price=2.00,
        cached_input_price=0.50,
        output_price=6.00,
    ),
    SimModel(
        "grok-4.3",
        "chat",
        1776038400,
        aliases=("grok-4.3-latest",),
        context_window=1_000_000,
        input_modalities=_TEXT_IMAGE,
        reasoning="hidden",
        reasoning_efforts=("none", "low", "medium", "high", "xhigh"),
        rejected_params=_PENALTIES,
        input_price=1.25,
        cached_input_price=0.20,
        output_price=2.50,
        long_context_threshold=200_000,
    ),
    SimModel(
        "grok-4.20-0309-reasoning",
        "chat",
        1773014400,
        aliases=(
            "grok-4.20",
            "grok-4.20-reasoning",
            "grok-4.20-reasoning-latest",
            "grok-4.20-beta-0309-reasoning",
        ),
        context_window=1_000_000,
        input_modalities=_TEXT_IMAGE,
        reasoning="hidden",
        rejected_params=_PENALTIES | {"reasoning_effort"},
        input_price=1.25,
        cached_input_price=0.20,
        output_price=2.50,
    ),
    SimModel(
        "grok-4.20-0309-non-reasoning",
        "chat",
        1773014400,
        aliases=("grok-4.20-non-reasoning", "grok-4.20-beta-0309-non-reasoning"),
        context_window=1_000_000,
        input_modalities=_TEXT_IMAGE,
        rejected_params=_PENALTIES | {"reasoning_effort"},
        input_price=1.25,
        cached_input_price=0.20,
        output_price=2.50,
    ),
    SimModel(
        "grok-4-0709",
        "chat",
        1752019200,
        aliases=("grok-4", "grok-4-latest"),
        context_window=256_000,
        input_modalities=_TEXT_IMAGE,
        reasoning="hidden",
        rejected_params=_REASONING_REJECTS | {"reasoning_effort"},
        input_price=3.00,
        cached_input_price=0.75,
        output_price=15.00,
        retired=True,
    ),
    SimModel(
        # The cached price is "?" in the reference; 0.05 is what the 2026 recordings bill.
        "grok-4-fast-reasoning",
        "chat",
        1758240000,
        aliases=("grok-4-fast",),
        context_window=2_000_000,
        input_modalities=_TEXT_IMAGE,
        reasoning="hidden",
        rejected_params=_REASONING_REJECTS | {"reasoning_effort"},
        input_price=0.20,
        cached_input_price=0.05,
        output_price=0.50,
        retired=True,
        fingerprint="fp_3d7ed3b779",
    ),
    SimModel(
        "grok-4-fast-non-reasoning",
        "chat",
        1758240000,
        context_window=2_000_000,
        input_modalities=_TEXT_IMAGE,
        rejected_params=_PENALTIES | {"reasoning_effort"},
        input_price=0.20,
        cached_input_price=0.05,
        output_price=0.50,
        retired=True,
    ),
    SimModel(
        "grok-4-1-fast-reasoning",
        "chat",
        1763683200,
        aliases=("grok-4-1-fast",),
        context_window=2_000_000,
        input_modalities=_TEXT_IMAGE,
        reasoning="hidden",
        rejected_params=_REASONING_REJECTS | {"reasoning_effort"},
        input_price=0.20,
        cached_input_price=0.05,
        output_price=0.50,
        retired=True,
    ),
    SimModel(
        "grok-4-1-fast-non-reasoning",
        "chat",
        1763683200,
        context_window=2_000_000,
        input_modalities=_TEXT_IMAGE,
        rejected_params=_PENALTIES | {"reasoning_effort"},
        input_price=0.20,
        cached_input_price=0.05,
        output_price=0.50,
        retired=True,
    ),
    SimModel(
        "grok-code-fast-1",
        "chat",
        1756166400,
        context_window=256_000,
        reasoning="visible",
        rejected_params=_REASONING_REJECTS | {"reasoning_effort"},
        input_price=0.20,
        cached_input_price=0.02,
        output_price=1.50,
        retired=True,
        fingerprint="fp_99052e9f23",
    ),
    SimModel(
        "grok-3",
        "chat",
        1743724800,
        aliases=("grok-3-latest", "grok-3-beta", "grok-3-fast"),
        context_window=131_072,
        rejected_params=frozenset({"presence_penalty", "reasoning_effort"}),
        input_price=3.00,
        cached_input_price=0.75,
        output_price=15.00,
        retired=True,
    ),
    SimModel(
        "grok-3-mini",
        "chat",
        1743724800,
        aliases=("grok-3-mini-latest", "grok-3-mini-beta", "grok-3-mini-fast"),
        context_window=131_072,
        reasoning="visible",
        reasoning_efforts=("low", "high"),
        rejected_params=_REASONING_REJECTS,
        input_price=0.30,
        cached_input_price=0.075,
        output_price=0.50,
        effort_names=(("high", "grok-3-mini-high"),),
        fingerprint="fp_25ea88a038",
    ),
    SimModel(
        # No cached price: cached tokens bill at the input price.
        "grok-2-vision-1212",
        "chat",
        1733961600,
        aliases=("grok-2-vision", "grok-2-vision-latest"),
        context_window=32_768,
        input_modalities=_TEXT_IMAGE,
        rejected_params=frozenset({"reasoning_effort"}),
        input_price=2.00,
        cached_input_price=2.00,
        output_price=10.00,
        fingerprint="fp_08923a0247",
    ),
    SimModel(
        # Per-image prices are not in the reference: assumed.
        "grok-imagine-image",
        "image",
        1756684800,
        aliases=("grok-2-image-1212", "grok-2-image", "grok-2-image-latest"),
        image_price=0.02,
    ),
    SimModel(
        "grok-imagine-image-quality",
        "image",
        1772323200,
        aliases=("grok-imagine-image-pro",),
        image_price=0.07,
    ),
    SimModel("v1", "embedding", 1735689600),
)
"""Every model the simulated server knows, current and retired, in `GET /v1/models` order."""


def index_models(models: Iterable[SimModel]) -> Mapping[str, SimModel]:
    """Map every id and alias to its model.

    Raises:
        ValueError: When two models claim the same name.
    """
    index: dict[str, SimModel] = {}
    for model in models:
        for name in (model.id, *model.aliases):
            if name in index:
                raise ValueError(f"model name {name!r} is claimed twice")
            index[name] = model
    return MappingProxyType(index)
