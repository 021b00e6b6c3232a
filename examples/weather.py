"""A weather assistant: a forecast tool over a bundled table, answered as a `Forecast`."""

from __future__ import annotations

import csv
from typing import Annotated, Any

import anyio
from pydantic import BaseModel, Field

from agentkit import Agent, GrokClient, ToolRetry, tool
from agentkit.examples._common import (
    DATA,
    default_client,
    prompt_from_argv,
    usage_line,
)

DEFAULT_PROMPT = "Will it rain in Paris tomorrow?"


class Forecast(BaseModel):
    """The answer: one day's weather in one city."""

    city: str = Field(description="The city, as the forecast names it.")
    day: int = Field(ge=1, le=7, description="Which day: 1 is tomorrow, 2 the day after...")
    summary: str = Field(description="The forecast in a few words, e.g. 'Light rain'.")
    high_c: float = Field(description="The day's highest temperature, in °C.")
    low_c: float = Field(description="The day's lowest temperature, in °C.")
    rain_probability: int = Field(ge=0, le=100, description="Chance of rain, in percent.")


def _load_table() -> dict[str, list[dict[str, Any]]]:
    """The bundled forecasts, by lower-cased city: day 1 (tomorrow) to day 7."""
    table: dict[str, list[dict[str, Any]]] = {}
    with (DATA / "weather.csv").open(newline="", encoding="utf-8") as file:
        for row in csv.DictReader(file):
            table.setdefault(row["city"].lower(), []).append({
                "city": row["city"],
                "day": int(row["day"]),
                "summary": row["summary"],
                "high_c": float(row["high_c"]),
                "low_c": float(row["low_c"]),
                "rain_probability": int(row["rain_probability"]),
            })
    return table


def build_agent(
    *, model: str = "grok-4.3", client: GrokClient | None = None
) -> Agent[None, Forecast]:
    """A weather assistant whose one tool reads the bundled forecast table."""
    table = _load_table()  # read once per agent, not per call, and not at import

    @tool
    def get_forecast(
        city: str, days: Annotated[int, Field(ge=1, le=7)] = 1
    ) -> list[dict[str, Any]]:
        """Weather forecast for a city, from tomorrow through the coming week: each day's
        summary (sunny, cloudy, rain...), high and low temperature and chance of rain.

        Args:
            city: The city name, e.g. "Paris" or "New York".
            days: How many days to return: 1 is tomorrow only, 7 the whole week.
        """
        forecast = table.get(city.strip().lower())
        if forecast is None:
            known = ", ".join(sorted(rows[0]["city"] for rows in table.values()))
            raise ToolRetry(f"no forecast for {city!r}; the cities with forecasts are: {known}")
        return forecast[:days]

    return Agent(
        model,
        client=client or default_client(),
        instructions=(
            "You are a weather assistant. Use get_forecast for every weather question and "
            "answer with the forecast for the day the user asks about (tomorrow by default)."
        ),
        tools=[get_forecast],
        output_type=Forecast,
    )


async def main(prompt: str | None = None) -> None:
    """Ask the weather agent and print its forecast."""
    async with default_client() as client:
        result = await build_agent(client=client).run(prompt or DEFAULT_PROMPT)
    forecast = result.output
    when = "tomorrow" if forecast.day == 1 else f"in {forecast.day} days"
    print(
        f"{forecast.city}, {when}: {forecast.summary}, {forecast.low_c:g} to "
        f"{forecast.high_c:g} °C, {forecast.rain_probability}% chance of rain"
    )
    print(usage_line(result.usage))


if __name__ == "__main__":
    anyio.run(main, prompt_from_argv())
