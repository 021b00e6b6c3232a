"""Model discovery and prices: the typed catalog routes, `PriceCatalog`, `cost_of`, and the
client's cached catalog; through the real client against the simulator unless a test needs a
server that answers something the simulator never would."""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from decimal import Decimal
from typing import Any

import anyio
import httpx2
import pytest

from agentkit import Cost, GrokClient, LanguageModel, PriceCatalog, cost_of
from agentkit._retry import RetryPolicy
from agentkit.errors import (
    BadRequestError,
    ConfigurationError,
    InternalServerError,
    NotFoundError,
)
from agentkit.pricing import CatalogCache, server_cost
from agentkit.sim import SimCore
from agentkit.sim._catalog import language_model_json
from agentkit.sim.models import MODELS
from agentkit.types import TICKS_PER_USD, ImageGenerationModel, LanguageModelList, Usage

USER = [{"role": "user", "content": "What is the capital of France?"}]


async def _no_sleep(seconds: float) -> None:
    return None


Handler = Callable[[httpx2.Request], Coroutine[None, None, httpx2.Response]]


def mock_client(handler: Handler, *, retries: int = 0) -> GrokClient:
    return GrokClient("key", base_url="http://grok.test/v1",
                      transport=httpx2.MockTransport(handler),
                      retry_policy=RetryPolicy(max_retries=retries, sleep=_no_sleep))


def catalog_body(*models: Any) -> httpx2.Response:
    return httpx2.Response(200, json={"models": list(models)})


GROK_3_MINI = {"id": "grok-3-mini", "aliases": ["grok-3-mini-latest"],
               "prompt_text_token_price": 3000, "cached_prompt_text_token_price": 750,
               "prompt_image_token_price": 3000, "completion_text_token_price": 5000}


# -- the routes, typed -------------------------------------------------------------------------


@pytest.mark.anyio
async def test_language_models_are_typed_with_exact_prices_and_windows() -> None:
    async with GrokClient.simulated() as client:
        models = {m.id: m for m in await client.models.language_models()}
    expected = {m.id for m in MODELS if m.kind == "chat"}
    assert set(models) == expected
    grok_4 = models["grok-4-0709"]
    assert grok_4.aliases == ["grok-4", "grok-4-latest"]
    assert (grok_4.prompt_text_token_price, grok_4.cached_prompt_text_token_price,
            grok_4.completion_text_token_price) == (30000, 7500, 150000)
    assert grok_4.input_usd_per_token == Decimal("0.000003")
    assert grok_4.cached_input_usd_per_token == Decimal("0.00000075")
    assert grok_4.output_usd_per_token == Decimal("0.000015")
    assert grok_4.context_window == 256_000
    assert grok_4.input_modalities == ["text", "image"] and grok_4.output_modalities == ["text"]
    assert grok_4.owned_by == "xai" and grok_4.object == "model"
    assert grok_4.fingerprint is not None and grok_4.fingerprint.startswith("fp_")
    # A fractional cent price per million is still exact: $0.075 per million.
    mini = models["grok-3-mini"]
    assert mini.cached_prompt_text_token_price == 750
    assert mini.cached_input_usd_per_token == Decimal("0.000000075")
    assert mini.cached_input_usd_per_token * 1_000_000 == Decimal("0.075")
    assert models["grok-4.3"].context_window == 1_000_000
    assert models["grok-4-1-fast-reasoning"].context_window == 2_000_000


@pytest.mark.anyio
async def test_one_model_by_id_or_alias_and_the_other_kinds() -> None:
    async with GrokClient.simulated() as client:
        by_alias = await client.models.language_model("grok-4")
        assert by_alias.id == "grok-4-0709"
        assert (await client.models.language_model("grok-3-mini-fast")).id == "grok-3-mini"
        images = await client.models.image_models()
        assert [m.id for m in images] == ["grok-imagine-image", "grok-imagine-image-quality"]
        assert all(isinstance(m, ImageGenerationModel) for m in images)
        assert images[0].max_prompt_length == 1024 and images[0].image_price == 200_000_000
        pro = await client.models.image_model("grok-imagine-image-pro")
        assert pro.id == "grok-imagine-image-quality" and pro.output_modalities == ["image"]
        embeddings = await client.models.embedding_models()
        assert [m.id for m in embeddings] == ["v1"]
        assert (await client.models.embedding_model("v1")).output_modalities == ["embedding"]
        # The models route of old keeps working beside them.
        assert "grok-4.3" in [m.id for m in (await client.models.list()).data]
        assert (await client.models.retrieve("grok-4")).id == "grok-4-0709"


@pytest.mark.anyio
async def test_unknown_models_are_not_found_errors_naming_the_model() -> None:
    async with GrokClient.simulated() as client:
        with pytest.raises(NotFoundError, match=r"grok-9 does not exist") as caught:
            await client.models.language_model("grok-9")
        assert caught.value.status_code == 404
        # An image model is not a language model, nor a chat model an image model.
        with pytest.raises(NotFoundError):
            await client.models.language_model("grok-imagine-image")
        with pytest.raises(NotFoundError):
            await client.models.image_model("grok-4")
        with pytest.raises(NotFoundError):
            await client.models.embedding_model("grok-4")
        # An id is one path segment: it cannot reach another route.
        with pytest.raises(NotFoundError):
            await client.models.language_model("../models")
        with pytest.raises(ConfigurationError, match="model id"):
            await client.models.language_model("  ")


@pytest.mark.anyio
async def test_the_simulated_prices_are_the_ones_it_bills() -> None:
    async with GrokClient.simulated() as client:
        catalog = await client.price_catalog()
        for model in ("grok-4", "grok-3-mini", "grok-4.3", "grok-code-fast-1", "grok-2-vision"):
            completion = await client.chat.completions.create(model=model, messages=USER)
            usage = completion.usage
            assert usage is not None and usage.cost_in_usd_ticks is not None
            computed = catalog.cost(model, usage)
            assert computed is not None and computed.source == "prices"
            assert computed.usd == Decimal(usage.cost_in_usd_ticks) / TICKS_PER_USD, model


def test_the_simulated_catalog_derives_from_the_model_table() -> None:
    for model in MODELS:
        if model.kind != "chat":
            continue
        entry = LanguageModel.model_validate(language_model_json(model))
        assert entry.input_usd_per_token == Decimal(str(model.input_price)) / 1_000_000
        assert entry.output_usd_per_token == Decimal(str(model.output_price)) / 1_000_000
        assert entry.cached_input_usd_per_token == (
            Decimal(str(model.cached_input_price)) / 1_000_000)
        assert entry.aliases == list(model.aliases)


def test_the_simulator_answers_catalog_routes_in_xais_shapes() -> None:
    core = SimCore()
    listing = core.handle("GET", "/v1/language-models", {}, b"")
    assert listing.status == 200 and set(listing.json()) == {"models"}
    missing = core.handle("GET", "/v1/image-generation-models/grok-9", {}, b"")
    assert missing.status == 404
    assert missing.json()["code"] == "Some requested entity was not found"
    wrong_method = core.handle("POST", "/v1/language-models", {}, b"{}")
    assert wrong_method.status == 405


# -- tolerant parsing --------------------------------------------------------------------------


@pytest.mark.anyio
async def test_unexpected_catalog_fields_read_as_unknown_never_a_crash() -> None:
    async def handler(request: httpx2.Request) -> httpx2.Response:
        return catalog_body(
            {"id": "grok-x", "aliases": ["grok-x-latest", 7, None], "created": "soon",
             "prompt_text_token_price": "20000", "cached_prompt_text_token_price": 12.5,
             "completion_text_token_price": 60000.0, "input_modalities": "text",
             "max_context": 123, "tier": {"name": "beta"}},
            "not a model",
            {"aliases": ["no id"]},
            {"id": ""},
        )

    async with mock_client(handler) as client:
        models = await client.models.language_models()
    assert [m.id for m in models] == ["grok-x"]
    model = models[0]
    assert model.aliases == ["grok-x-latest"]
    assert model.created is None
    assert model.prompt_text_token_price == 20000
    assert model.cached_prompt_text_token_price is None  # not a whole number: unknown
    assert model.completion_text_token_price == 60000
    assert model.input_modalities == ["text"]
    assert model.model_extra == {"max_context": 123, "tier": {"name": "beta"}}
    assert model.context_window is None  # no profile knows grok-x
    # Unknown cached price: cached tokens bill at the full price, never for free.
    usage = Usage(prompt_tokens=10, completion_tokens=1, total_tokens=11,
                  prompt_tokens_details={"cached_tokens": 4})
    cost = PriceCatalog(models).cost("grok-x", usage)
    assert cost is not None and cost.usd == Decimal(10 * 20000 + 60000) / TICKS_PER_USD


def test_a_catalog_without_models_is_an_error_not_an_empty_list() -> None:
    with pytest.raises(ValueError, match="models"):
        LanguageModelList.model_validate({"error": "nope"})
    assert LanguageModelList.model_validate({"models": "nope"}).models == []


@pytest.mark.anyio
async def test_an_error_object_in_a_200_answer_is_reported_as_what_it_says() -> None:
    async def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, json={"error": {"message": "catalog offline", "code": 400}})

    async with mock_client(handler) as client:
        with pytest.raises(BadRequestError, match="catalog offline"):
            await client.models.language_models()


# -- PriceCatalog and cost_of --------------------------------------------------------------------


def test_reference_example_cost_is_reproduced_to_the_tick() -> None:
    # The xAI reference's grok-3-mini response: 244 of 291 prompt tokens cached, 189 reasoning
    # tokens outside completion_tokens, and the server's 1399000 ticks.
    usage = Usage.model_validate({
        "prompt_tokens": 291, "completion_tokens": 26, "total_tokens": 506,
        "prompt_tokens_details": {"text_tokens": 291, "image_tokens": 0, "cached_tokens": 244},
        "completion_tokens_details": {"reasoning_tokens": 189},
        "cost_in_usd_ticks": 1399000,
    })
    catalog = PriceCatalog([LanguageModel.model_validate(GROK_3_MINI)])
    computed = catalog.cost("grok-3-mini", usage)
    # 47 x 3000 + 244 x 750 + (26 + 189) x 5000 = 1,399,000 ticks.
    assert computed == Cost(Decimal("0.0001399"), "prices", "grok-3-mini")
    assert server_cost(usage) == Cost(Decimal("0.0001399"), "server")
    assert computed.usd == Decimal(usage.cost_in_usd_ticks or 0) / TICKS_PER_USD


def test_reasoning_counts_once_whether_inside_or_outside_completion_tokens() -> None:
    catalog = PriceCatalog([LanguageModel.model_validate(GROK_3_MINI)])
    xai = Usage.model_validate({"prompt_tokens": 100, "completion_tokens": 10, "total_tokens": 160,
                                "completion_tokens_details": {"reasoning_tokens": 50}})
    openai = Usage.model_validate({"prompt_tokens": 100, "completion_tokens": 60,
                                   "total_tokens": 160,
                                   "completion_tokens_details": {"reasoning_tokens": 50}})
    expected = Decimal(100 * 3000 + 60 * 5000) / TICKS_PER_USD
    assert catalog.cost("grok-3-mini", xai) == catalog.cost("grok-3-mini", openai)
    cost = catalog.cost("grok-3-mini", xai)
    assert cost is not None and cost.usd == expected == Decimal("0.00006")


def test_image_tokens_bill_at_the_image_price() -> None:
    model = LanguageModel(id="vision", prompt_text_token_price=10, prompt_image_token_price=1000,
                          completion_text_token_price=100, cached_prompt_text_token_price=1)
    usage = Usage.model_validate({
        "prompt_tokens": 300, "completion_tokens": 5, "total_tokens": 305,
        "prompt_tokens_details": {"text_tokens": 44, "image_tokens": 256, "cached_tokens": 4},
    })
    cost = PriceCatalog([model]).cost("vision", usage)
    assert cost is not None
    assert cost.usd == Decimal(40 * 10 + 4 * 1 + 256 * 1000 + 5 * 100) / TICKS_PER_USD


def test_aliases_case_and_router_prefixes_resolve_and_ids_win_over_aliases() -> None:
    catalog = PriceCatalog([
        LanguageModel(id="grok-4-0709", aliases=["grok-4", "grok-4-latest"],
                      prompt_text_token_price=30000, completion_text_token_price=150000),
        # Claims another model's id as an alias: the id keeps its own model.
        LanguageModel(id="grok-4-fast", aliases=["grok-4-0709", "grok-4"],
                      prompt_text_token_price=2000, completion_text_token_price=5000),
    ])
    for name in ("grok-4-0709", "grok-4", "GROK-4-Latest", " grok-4 ", "x-ai/grok-4",
                 "xai/grok-4-latest"):
        found = catalog.get(name)
        assert found is not None and found.id == "grok-4-0709", name
    assert catalog.get("grok-4-fast") is not None
    assert "grok-4" in catalog and "grok-9" not in catalog and 42 not in catalog
    assert len(catalog) == 2 and [m.id for m in catalog] == ["grok-4-0709", "grok-4-fast"]
    assert set(catalog.names) == {"grok-4-0709", "grok-4", "grok-4-latest", "grok-4-fast"}
    usage = Usage(prompt_tokens=1_000_000, completion_tokens=1_000_000, total_tokens=2_000_000)
    cost = catalog.cost("grok-4-latest", usage)
    assert cost == Cost(Decimal(18), "prices", "grok-4-0709")
    assert catalog.get("grok-9") is None and catalog.cost("grok-9", usage) is None


def test_a_model_without_listed_prices_has_no_computed_cost() -> None:
    catalog = PriceCatalog([LanguageModel(id="free?", prompt_text_token_price=100)])
    assert catalog.cost("free?", Usage(prompt_tokens=1, total_tokens=1)) is None


def test_cost_of_prefers_what_the_server_reported() -> None:
    catalog = PriceCatalog([LanguageModel.model_validate(GROK_3_MINI)])
    reported = Usage(prompt_tokens=100, completion_tokens=10, total_tokens=110,
                     cost_in_usd_ticks=123_456_789)
    assert cost_of(reported, "grok-3-mini", catalog) == Cost(Decimal("0.0123456789"), "server")
    silent = Usage(prompt_tokens=100, completion_tokens=10, total_tokens=110)
    assert cost_of(silent, "grok-3-mini", catalog) == Cost(
        Decimal(100 * 3000 + 10 * 5000) / TICKS_PER_USD, "prices", "grok-3-mini")
    assert cost_of(silent, "grok-3-mini", None) is None
    assert cost_of(silent, "unknown", catalog) is None
    assert cost_of(None, "grok-3-mini", catalog) is None
    # OpenRouter reports dollars as a float in `cost`: read as written, not as a binary float.
    routed = Usage.model_validate({"prompt_tokens": 1, "total_tokens": 1, "cost": 0.1})
    assert cost_of(routed, "x-ai/grok-3-mini", catalog) == Cost(Decimal("0.1"), "server")
    odd = Usage.model_validate({"prompt_tokens": 1, "total_tokens": 1, "cost": float("nan")})
    assert server_cost(odd) is None


# -- the client's catalog, fetched once -----------------------------------------------------------


@pytest.mark.anyio
async def test_concurrent_callers_share_one_fetch_and_later_ones_reuse_it() -> None:
    requests: list[str] = []
    release = anyio.Event()

    async def handler(request: httpx2.Request) -> httpx2.Response:
        requests.append(request.url.path)
        await release.wait()
        return catalog_body(GROK_3_MINI)

    results: list[PriceCatalog] = []
    async with mock_client(handler) as client:

        async def ask() -> None:
            results.append(await client.price_catalog())

        async with anyio.create_task_group() as group:
            for _ in range(5):
                group.start_soon(ask)
            await anyio.wait_all_tasks_blocked()
            release.set()
        assert requests == ["/v1/language-models"]
        assert len(results) == 5 and all(r is results[0] for r in results)
        assert await client.price_catalog() is results[0]
        assert requests == ["/v1/language-models"]
        fresh = await client.price_catalog(refresh=True)
        assert fresh is not results[0] and len(requests) == 2
        assert "grok-3-mini-latest" in fresh


@pytest.mark.anyio
async def test_a_failed_fetch_is_not_kept() -> None:
    answers = [httpx2.Response(500, json={"code": "Internal error", "error": "down"}),
               catalog_body(GROK_3_MINI)]

    async def handler(request: httpx2.Request) -> httpx2.Response:
        return answers.pop(0) if len(answers) > 1 else answers[0]

    async with mock_client(handler) as client:
        with pytest.raises(InternalServerError, match="down"):
            await client.price_catalog()
        catalog = await client.price_catalog()
        assert catalog.get("grok-3-mini") is not None


@pytest.mark.anyio
async def test_a_caller_waiting_on_a_fetch_that_fails_fetches_again() -> None:
    calls = 0
    first_started = anyio.Event()
    fail_now = anyio.Event()

    async def fetch() -> list[LanguageModel]:
        nonlocal calls
        calls += 1
        if calls == 1:
            first_started.set()
            await fail_now.wait()
            raise InternalServerError("down", status_code=503)
        return [LanguageModel.model_validate(GROK_3_MINI)]

    cache = CatalogCache()
    outcomes: list[str] = []

    async def ask() -> None:
        try:
            await cache.get(fetch)
            outcomes.append("catalog")
        except InternalServerError:
            outcomes.append("error")

    async with anyio.create_task_group() as group:
        group.start_soon(ask)
        await first_started.wait()
        group.start_soon(ask)
        await anyio.wait_all_tasks_blocked()
        fail_now.set()
    assert sorted(outcomes) == ["catalog", "error"] and calls == 2
    assert cache.catalog is not None and len(cache.catalog) == 1


@pytest.mark.anyio
async def test_price_catalog_on_the_simulator_resolves_aliases() -> None:
    async with GrokClient.simulated() as client:
        catalog = await client.price_catalog()
    found = catalog.get("grok-4.20")
    assert found is not None and found.id == "grok-4.20-0309-reasoning"
    assert repr(catalog) == f"PriceCatalog({len(catalog)} models)"
    assert json.loads(found.model_dump_json())["prompt_text_token_price"] == 12500
