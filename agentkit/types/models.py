"""Wire models of xAI's model catalog: `GET /v1/language-models`, `/v1/embedding-models` and
`/v1/image-generation-models`, each with a `/{id}` form.

Prices on the wire are integers in USD cents per 100 million tokens (30000 is $3.00 per
million). A cent is 10^-2 dollars and 10^8 tokens divide it again, so one unit is 10^-10
dollars per token: the same tick `cost_in_usd_ticks` counts in. The `*_usd_per_token`
properties turn them into exact `Decimal` dollars.

The catalog is parsed tolerantly: a field of an unexpected type reads as unknown (None or
empty) instead of failing the whole list, entries that are not models are dropped, and
fields these models do not declare are kept in `model_extra`.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from ._base import WireModel
from .usage import TICKS_PER_USD

__all__ = [
    "EmbeddingModel",
    "EmbeddingModelList",
    "ImageGenerationModel",
    "ImageGenerationModelList",
    "LanguageModel",
    "LanguageModelList",
]


def _whole_number(value: Any) -> int | None:
    """An integer from a JSON number or numeric string; None for anything else.

    A price or a count that cannot be read is unknown, not zero: a zero price would make
    a cost look free.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None


def _strings(value: Any) -> list[str]:
    """The strings of a JSON list (a lone string counts as a list of one)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [item for item in value if isinstance(item, str)]
    return []


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _models(value: Any) -> list[Any]:
    # One malformed entry must not hide every other model: keep the objects with an id.
    if not isinstance(value, list):
        return []
    return [item for item in value
            if isinstance(item, dict) and isinstance(item.get("id"), str) and item["id"]]


_Int = Annotated[int | None, BeforeValidator(_whole_number)]
_Strings = Annotated[list[str], BeforeValidator(_strings)]
_Text = Annotated[str | None, BeforeValidator(_text)]


def _usd_per_token(price: int | None) -> Decimal | None:
    # Cents per 10^8 tokens = 10^-10 dollars per token, the tick: an exact division.
    return None if price is None else Decimal(price) / TICKS_PER_USD


class _CatalogEntry(WireModel):
    """What every kind of model in the catalog says about itself."""

    id: str
    """The canonical model id."""
    fingerprint: _Text = None
    """Fingerprint of the deployment serving the model."""
    created: _Int = None
    """Unix time the model was created."""
    object: _Text = "model"
    owned_by: _Text = None
    version: _Text = None
    input_modalities: _Strings = Field(default_factory=list)
    """What the model reads: "text", "image"..."""
    output_modalities: _Strings = Field(default_factory=list)
    """What it produces: "text", "image", "embedding"..."""
    aliases: _Strings = Field(default_factory=list)
    """Other names a request's `model` may use for it."""

    @property
    def names(self) -> tuple[str, ...]:
        """The id, then every alias."""
        return (self.id, *(alias for alias in self.aliases if alias != self.id))


class LanguageModel(_CatalogEntry):
    """One entry of `GET /v1/language-models`: a chat model with its prices.

    Prices are integers in USD cents per 100 million tokens, None when the server did not
    say (or said something that is not a whole number).
    """

    prompt_text_token_price: _Int = None
    """Price of a prompt text token."""
    cached_prompt_text_token_price: _Int = None
    """Price of a prompt text token served from the prompt cache."""
    prompt_image_token_price: _Int = None
    """Price of a prompt image token."""
    completion_text_token_price: _Int = None
    """Price of a completion token; xAI bills reasoning tokens at this price too."""
    search_price: _Int = None
    """Price of server-side search, in the same unit (UNCONFIRMED: per source used)."""

    @property
    def input_usd_per_token(self) -> Decimal | None:
        """Dollars per prompt text token (30000 on the wire is `Decimal("0.000003")`)."""
        return _usd_per_token(self.prompt_text_token_price)

    @property
    def cached_input_usd_per_token(self) -> Decimal | None:
        """Dollars per cached prompt token; None when the server lists no cached price."""
        return _usd_per_token(self.cached_prompt_text_token_price)

    @property
    def image_input_usd_per_token(self) -> Decimal | None:
        """Dollars per prompt image token."""
        return _usd_per_token(self.prompt_image_token_price)

    @property
    def output_usd_per_token(self) -> Decimal | None:
        """Dollars per completion (and reasoning) token."""
        return _usd_per_token(self.completion_text_token_price)

    @property
    def context_window(self) -> int | None:
        """Most prompt tokens, from agentkit's model profiles (the wire does not carry it);
        None for a model the profiles do not know."""
        # Imported here: `profiles` sits beside `types` on floor 0 and imports modules that
        # import `types`, so a module-level import would be circular.
        from ..profiles import profile_for

        return profile_for(self.id).context_window


class EmbeddingModel(_CatalogEntry):
    """One entry of `GET /v1/embedding-models` (prices as for `LanguageModel`)."""

    prompt_text_token_price: _Int = None
    prompt_image_token_price: _Int = None

    @property
    def input_usd_per_token(self) -> Decimal | None:
        """Dollars per input text token."""
        return _usd_per_token(self.prompt_text_token_price)


class ImageGenerationModel(_CatalogEntry):
    """One entry of `GET /v1/image-generation-models`."""

    image_price: _Int = None
    """Price of one generated image, as the server gives it. UNCONFIRMED unit: the API spec
    says USD cents, while observed values fit 10^-10 dollars (200000000 for $0.02)."""
    max_prompt_length: _Int = None
    """Longest prompt accepted."""


class LanguageModelList(WireModel):
    """`GET /v1/language-models`.

    `models` is required: a 200 answer without it (an error object) is reported as what it
    says, not read as an empty catalog.
    """

    models: Annotated[list[LanguageModel], BeforeValidator(_models)]


class EmbeddingModelList(WireModel):
    """`GET /v1/embedding-models`."""

    models: Annotated[list[EmbeddingModel], BeforeValidator(_models)]


class ImageGenerationModelList(WireModel):
    """`GET /v1/image-generation-models`."""

    models: Annotated[list[ImageGenerationModel], BeforeValidator(_models)]
