"""A run's cost: the server's `cost_in_usd_ticks` when it reports one, otherwise the model's
listed prices (`/v1/language-models`, fetched once per client) times the tokens, and
`usage.cost_source` says which."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx2
import pytest

from agentkit import Agent, GrokClient, tool
from agentkit.sim import SimTransport
from agentkit.types.usage import TICKS_PER_USD, Usage

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("both_apis")]


@tool
def get_forecast(city: str) -> str:
    """Get the weather forecast for a city.

    Args:
        city: The city.
    """
    return f"{city}: rain, 14C"


class Unpriced(SimTransport):
    """The simulator with the server's cost taken out of every answer (as a proxy or an
    older server might), counting the requests of each path."""

    def __init__(self, *, catalog: bool = True, busy_once: bool = False) -> None:
        super().__init__()
        self.catalog = catalog
        self.busy_once = busy_once
        self.paths: list[str] = []
        self.usages: list[dict[str, Any]] = []

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        self.paths.append(request.url.path)
        if self.busy_once and request.url.path == "/v1/language-models":
            self.busy_once = False
            return httpx2.Response(503, json={"code": "unavailable", "error": "busy"})
        if not self.catalog and request.url.path == "/v1/language-models":
            return httpx2.Response(404, json={"code": "Some requested entity was not found",
                                              "error": "No handler found on route."})
        response = await super().handle_async_request(request)
        if request.url.path not in ("/v1/chat/completions", "/v1/responses"):
            return response
        body = json.loads(await response.aread())
        usage = body.get("usage") or {}
        self.usages.append(dict(usage))
        usage.pop("cost_in_usd_ticks", None)
        return httpx2.Response(response.status_code, json=body)


async def test_the_servers_cost_is_used_when_it_reports_one() -> None:
    async with GrokClient.simulated() as client:
        result = await Agent("grok-4.3", tools=[get_forecast], client=client).run(
            "What is the weather in Paris?")
    assert result.usage.cost_source == "server"
    assert result.usage.cost_usd and result.usage.cost_usd > 0


async def test_without_the_servers_cost_the_listed_prices_are_used_and_fetched_once() -> None:
    wire = Unpriced()
    async with GrokClient.simulated(transport=wire) as client:
        agent = Agent("grok-4.3", tools=[get_forecast], client=client)
        first = await agent.run("What is the weather in Paris?")
        second = await agent.run("What is the weather in Rome?")
        catalog = await client.price_catalog()
    assert wire.paths.count("/v1/language-models") == 1  # one fetch for the client's life
    assert first.usage.cost_source == second.usage.cost_source == "prices"
    # The same figure the catalog gives for each response's tokens, added up.
    expected = Decimal(0)
    for raw in wire.usages[:2]:
        chat = _as_chat_usage(raw)
        cost = catalog.cost("grok-4.3", chat)
        assert cost is not None
        expected += cost.usd
    assert first.usage.cost_usd == pytest.approx(float(expected), rel=1e-12)
    # And what the server would have said: the simulator prices by the same list.
    server = sum(raw["cost_in_usd_ticks"] for raw in wire.usages[:2]) / TICKS_PER_USD
    assert first.usage.cost_usd == pytest.approx(server, rel=1e-9)


async def test_a_server_without_a_price_list_is_asked_once_and_the_cost_stays_unknown() -> None:
    wire = Unpriced(catalog=False)
    async with GrokClient.simulated(transport=wire) as client:
        agent = Agent("grok-4.3", tools=[get_forecast], client=client)
        first = await agent.run("What is the weather in Paris?")
        second = await agent.run("What is the weather in Rome?")
    assert wire.paths.count("/v1/language-models") == 1
    assert first.usage.cost_usd is None and first.usage.cost_source is None
    assert second.usage.cost_usd is None
    assert second.output  # the run itself is not troubled


async def test_a_catalog_that_fails_for_a_moment_is_asked_again() -> None:
    wire = Unpriced(busy_once=True)
    async with GrokClient.simulated(transport=wire, max_retries=0) as client:
        agent = Agent("grok-4.3", tools=[get_forecast], client=client)
        result = await agent.run("What is the weather in Paris?")
    # The first response found the catalog busy; the second was priced from it.
    assert wire.paths.count("/v1/language-models") == 2
    assert result.usage.cost_source == "prices"
    assert result.usage.cost_usd and result.usage.cost_usd > 0


def _as_chat_usage(raw: dict[str, Any]) -> Usage:
    """A usage as the loop counts it, from either API's wire shape."""
    if "input_tokens" not in raw:
        return Usage.model_validate(raw)
    reasoning = (raw.get("output_tokens_details") or {}).get("reasoning_tokens") or 0
    return Usage(
        prompt_tokens=raw["input_tokens"],
        completion_tokens=raw["output_tokens"] - reasoning,
        total_tokens=raw["total_tokens"],
        prompt_tokens_details={"cached_tokens": (raw.get("input_tokens_details") or {})
                               .get("cached_tokens") or 0},  # type: ignore[arg-type]
        completion_tokens_details={"reasoning_tokens": reasoning},  # type: ignore[arg-type]
    )
