"""What a request cost: the server's own figure when it gave one, else the price list's.

`PriceCatalog` is pure: built from the `LanguageModel`s of `GET /v1/language-models`, it
resolves ids and aliases and prices a `Usage` exactly, in `Decimal` dollars. `CatalogCache`
is the one piece with I/O in it: it holds a client's catalog, fetched once however many
callers ask at the same time (`GrokClient.price_catalog()` uses it).

How xAI bills a request, and so how `PriceCatalog.cost` counts:
- prompt tokens served from the cache at the cached price (at the full price when the model
  lists none), the other prompt text tokens at the full price, image tokens at the image
  price where one is listed;
- reasoning tokens at the completion price, counted once whether the server reports them
  outside `completion_tokens` (xAI) or inside (OpenAI);
- prices are per token in 10^-10 dollars (USD cents per 100 million tokens), the same unit
  as `cost_in_usd_ticks`, so the sum is an exact integer before it becomes dollars.

The price list cannot know tiered prices (grok-4.3 doubles past 200,000 prompt tokens) or
server-side tool fees: the server's `cost_in_usd_ticks` does, which is why `cost_of` prefers
it.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal

import anyio

from .errors import APIError, APIStatusError
from .types.usage import TICKS_PER_USD, Usage

if TYPE_CHECKING:
    from .types.models import LanguageModel

__all__ = [
    "CatalogCache",
    "Cost",
    "CostSource",
    "PriceCatalog",
    "Pricer",
    "cost_of",
    "server_cost",
]

CostSource = Literal["server", "prices"]
"""Where a cost came from: the server's report, or the price list times the tokens."""

_log = logging.getLogger("agentkit.pricing")

# How routers spell xAI's models: OpenRouter `x-ai/grok-4`, LiteLLM `xai/grok-4`.
_PROVIDER_PREFIXES = ("x-ai/", "xai/")


@dataclass(frozen=True, slots=True)
class Cost:
    """The cost of one response.

    Attributes:
        usd: US dollars, exact.
        source: "server" when the response reported it (`cost_in_usd_ticks`, or an
            OpenRouter-style `cost`), "prices" when computed from the price catalog.
        model: The catalog id the price came from ("prices" only; None for "server").
    """

    usd: Decimal
    source: CostSource
    model: str | None = None


def server_cost(usage: Usage) -> Cost | None:
    """The cost the server reported in `usage`, or None when it reported none."""
    if usage.cost_in_usd_ticks is not None:
        return Cost(Decimal(usage.cost_in_usd_ticks) / TICKS_PER_USD, "server")
    reported = (usage.model_extra or {}).get("cost")
    if (isinstance(reported, int | float) and not isinstance(reported, bool)
            and math.isfinite(reported)):
        # str() first: the float as the server wrote it, not its binary expansion.
        return Cost(Decimal(str(reported)), "server")
    return None


class PriceCatalog:
    """The prices of a set of language models, by id and alias.

    Args:
        models: The models, as `client.models.language_models()` returns them. When two
            claim the same name, an id wins over an alias, then the first one listed.
    """

    def __init__(self, models: Iterable[LanguageModel]) -> None:
        self._models = tuple(models)
        names: dict[str, LanguageModel] = {}
        for model in self._models:
            names.setdefault(model.id, model)
        for model in self._models:
            for alias in model.aliases:
                names.setdefault(alias, model)
        folded: dict[str, LanguageModel] = {}
        for name, model in names.items():
            folded.setdefault(name.lower(), model)
        self._names: Mapping[str, LanguageModel] = MappingProxyType(names)
        self._folded: Mapping[str, LanguageModel] = MappingProxyType(folded)

    def __repr__(self) -> str:
        return f"PriceCatalog({len(self._models)} models)"

    def __len__(self) -> int:
        return len(self._models)

    def __iter__(self) -> Iterator[LanguageModel]:
        return iter(self._models)

    def __contains__(self, model: object) -> bool:
        return isinstance(model, str) and self.get(model) is not None

    @property
    def names(self) -> Mapping[str, LanguageModel]:
        """Every id and alias, mapped to its model."""
        return self._names

    def get(self, model: str) -> LanguageModel | None:
        """The model `model` names: an id or alias, in any case, with or without a router's
        `x-ai/` prefix; None when the catalog does not list it."""
        name = model.strip()
        found = self._names.get(name) or self._folded.get(name.lower())
        if found is None:
            for prefix in _PROVIDER_PREFIXES:
                if name.lower().startswith(prefix):
                    return self.get(name[len(prefix):])
        return found

    def cost(self, model: str, usage: Usage) -> Cost | None:
        """What `usage` costs at `model`'s listed prices (source "prices").

        None when the catalog does not list the model or lists no input or output price
        for it. The server's own figure is ignored here; `cost_of` prefers it.
        """
        entry = self.get(model)
        if entry is None:
            return None
        input_price = entry.prompt_text_token_price
        output_price = entry.completion_text_token_price
        if input_price is None or output_price is None:
            return None
        cached_price = entry.cached_prompt_text_token_price
        image_price = entry.prompt_image_token_price
        prompt = max(usage.prompt_tokens, 0)
        cached = min(max(usage.cached_tokens, 0), prompt)
        details = usage.prompt_tokens_details
        image = 0
        if image_price is not None and details is not None and details.image_tokens:
            # Images are never cached: xAI's `text_tokens` holds the cached ones.
            image = min(max(details.image_tokens, 0), prompt - cached)
        ticks = (
            (prompt - cached - image) * input_price
            + cached * (input_price if cached_price is None else cached_price)
            + image * (image_price or 0)
            + max(usage.output_tokens, 0) * output_price
        )
        return Cost(Decimal(ticks) / TICKS_PER_USD, "prices", entry.id)


def cost_of(usage: Usage | None, model: str, catalog: PriceCatalog | None) -> Cost | None:
    """The cost of one response: the server's figure when it gave one, else the catalog's.

    Args:
        usage: The response's usage; None (a response without one) costs None.
        model: The model the request named (an id or alias the catalog resolves).
        catalog: The price catalog, or None to use the server's figure only.

    Returns:
        A `Cost` saying its source, or None when neither the server nor the catalog can say.
    """
    if usage is None:
        return None
    reported = server_cost(usage)
    if reported is not None:
        return reported
    return catalog.cost(model, usage) if catalog is not None else None


class CatalogCache:
    """One client's price catalog, fetched on first use and kept.

    Callers that ask while the first fetch is under way wait for it and share its result;
    a fetch that fails is not kept, so the next caller tries again.
    """

    def __init__(self) -> None:
        self._catalog: PriceCatalog | None = None
        self._lock: anyio.Lock | None = None

    @property
    def catalog(self) -> PriceCatalog | None:
        """The catalog fetched so far, if any (no I/O)."""
        return self._catalog

    async def get(
        self,
        fetch: Callable[[], Awaitable[Iterable[LanguageModel]]],
        *,
        refresh: bool = False,
    ) -> PriceCatalog:
        """The catalog, calling `fetch` only when none is kept (or `refresh` asks for a new one).

        Raises:
            Whatever `fetch` raises; nothing is kept then.
        """
        held = self._catalog
        if held is not None and not refresh:
            return held
        if self._lock is None:
            # Made on first use, inside the event loop that will wait on it.
            self._lock = anyio.Lock()
        async with self._lock:
            current = self._catalog
            # Fetched by another caller while this one waited: theirs is as fresh as ours.
            if current is not None and (not refresh or current is not held):
                return current
            catalog = PriceCatalog(await fetch())
            self._catalog = catalog
            return catalog


# What a server without the catalog route answers (others mean "not now", not "never").
_NO_ROUTE = frozenset({400, 401, 403, 404, 405, 410, 501})


class Pricer:
    """Prices the responses a server did not price, from a client's catalog: what the agent
    loop asks after each response without `cost_in_usd_ticks`.

    A server without the catalog route (most OpenAI-compatible servers) answers the first
    fetch with an error; the pricer then stops asking for its life, so a run pays for that at
    most once. Other failures (the network) are tried again at the next response.

    Args:
        catalog: Fetches (and caches) the catalog, as `GrokClient.price_catalog` does.
    """

    def __init__(self, catalog: Callable[[], Awaitable[PriceCatalog]]) -> None:
        self._catalog = catalog
        self._unavailable = False

    async def __call__(self, model: str, usage: Usage) -> Cost | None:
        """The cost of `usage` at `model`'s prices, or None when they cannot be known."""
        if self._unavailable:
            return None
        try:
            catalog = await self._catalog()
        except APIStatusError as error:
            if error.status_code in _NO_ROUTE:
                _log.info("no price catalog (%s): costs the server does not report stay "
                          "unknown", error.message)
                self._unavailable = True
            return None  # a 429 or 5xx: asked again at the next response
        except APIError:
            return None
        return catalog.cost(model, usage)
