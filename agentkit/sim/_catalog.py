"""The simulated model catalog: `/v1/language-models`, `/v1/embedding-models` and
`/v1/image-generation-models`, each listed whole or one model at a time by id or alias.

Everything is derived from the model table (`models.py`), so the prices served are the ones
the simulator bills in `cost_in_usd_ticks`. xAI's unit is USD cents per 100 million tokens,
10^-10 dollars per token; the table's dollars per million tokens times 10^4 give it exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from ._wire import ApiError, SimResponse, json_response
from .models import ModelKind, SimModel, index_models

__all__ = ["CATALOG_ROUTES", "SimCatalog", "catalog_item"]

CATALOG_ROUTES: Mapping[str, ModelKind] = MappingProxyType({
    "/v1/language-models": "chat",
    "/v1/embedding-models": "embedding",
    "/v1/image-generation-models": "image",
})
"""Each catalog route and the kind of model it lists."""

_VERSION = "1.0.0"
# The docs' sample of an image model's prompt limit.
_MAX_IMAGE_PROMPT = 1024
# Dollars per million tokens to cents per 10^8 tokens (10^-10 dollars per token).
_PER_MILLION_TO_WIRE = Decimal(10_000)
# Dollars to 10^-10 dollars. UNCONFIRMED for image prices: the spec says USD cents, while
# observed values (200000000 for a $0.02 image) fit this unit.
_USD_TO_WIRE = Decimal(10_000_000_000)


def catalog_item(path: str) -> tuple[ModelKind, str] | None:
    """The kind and model name of a `/v1/<kind>-models/{id}` path; None for other paths."""
    for route, kind in CATALOG_ROUTES.items():
        prefix = route + "/"
        if path.startswith(prefix) and len(path) > len(prefix):
            return kind, path[len(prefix):]
    return None


def _wire_price(dollars: float, scale: Decimal) -> int:
    # Through str(): the table's 0.075 is meant as written, not as its binary expansion.
    return int((Decimal(str(dollars)) * scale).to_integral_value())


def _common(model: SimModel) -> dict[str, Any]:
    return {
        "id": model.id,
        "fingerprint": model.fingerprint,
        "created": model.created,
        "object": "model",
        "owned_by": "xai",
        "version": _VERSION,
        "input_modalities": list(model.input_modalities),
        "output_modalities": [{"chat": "text", "image": "image", "embedding": "embedding"}[
            model.kind]],
    }


def language_model_json(model: SimModel) -> dict[str, Any]:
    """One entry of `/v1/language-models`."""
    input_price = _wire_price(model.input_price, _PER_MILLION_TO_WIRE)
    return {
        **_common(model),
        "prompt_text_token_price": input_price,
        "cached_prompt_text_token_price": _wire_price(model.cached_input_price,
                                                      _PER_MILLION_TO_WIRE),
        # Image tokens bill at the text price here, as in `cost_in_usd_ticks`.
        "prompt_image_token_price": input_price if model.reads_images else 0,
        "completion_text_token_price": _wire_price(model.output_price, _PER_MILLION_TO_WIRE),
        # Live Search is gone (410); nothing bills a search.
        "search_price": 0,
        "aliases": list(model.aliases),
    }


def embedding_model_json(model: SimModel) -> dict[str, Any]:
    """One entry of `/v1/embedding-models`."""
    price = _wire_price(model.input_price, _PER_MILLION_TO_WIRE)
    return {**_common(model), "prompt_text_token_price": price, "prompt_image_token_price": 0,
            "aliases": list(model.aliases)}


def image_model_json(model: SimModel) -> dict[str, Any]:
    """One entry of `/v1/image-generation-models`."""
    return {**_common(model), "image_price": _wire_price(model.image_price, _USD_TO_WIRE),
            "max_prompt_length": _MAX_IMAGE_PROMPT, "aliases": list(model.aliases)}


_RENDER: Mapping[ModelKind, Callable[[SimModel], dict[str, Any]]] = MappingProxyType({
    "chat": language_model_json,
    "embedding": embedding_model_json,
    "image": image_model_json,
})


class SimCatalog:
    """The catalog routes over one model table.

    Args:
        models: The table, in listing order.
        unknown: Makes the 404 for a name the table does not hold (the core's, which names
            the team).
    """

    def __init__(self, models: Iterable[SimModel], unknown: Callable[[str], ApiError]) -> None:
        self._models = tuple(models)
        self._index = index_models(self._models)
        self._unknown = unknown

    def lister(self, kind: ModelKind) -> Callable[[object], SimResponse]:
        """A route handler (it reads nothing of the request) for `list_models(kind)`."""
        return lambda _request: self.list_models(kind)

    def list_models(self, kind: ModelKind) -> SimResponse:
        """`GET /v1/<kind>-models`: every model of that kind."""
        render = _RENDER[kind]
        return json_response({"models": [render(m) for m in self._models if m.kind == kind]})

    def get_model(self, kind: ModelKind, name: str) -> SimResponse:
        """`GET /v1/<kind>-models/{name}`: the model by id or alias; 404 for an unknown name
        or a model of another kind (an image model is not a language model)."""
        model = self._index.get(name)
        if model is None or model.kind != kind:
            raise self._unknown(name)
        return json_response(_RENDER[kind](model))
