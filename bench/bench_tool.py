"""How much a tool costs: building its schema, and validating one typical call.

Run: `python bench/bench_tool.py`. Prints medians in microseconds (time.perf_counter_ns).
Validating a typical call should stay under 30 us.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import Field

from agentkit.tool import Tool, serialize_result

ARGUMENTS = '{"city": "Paris", "days": 5, "unit": "f"}'


async def get_forecast(
    city: str, days: Annotated[int, Field(ge=1, le=14)] = 3, unit: Literal["c", "f"] = "c"
) -> list[dict[str, Any]]:
    """Forecast for a city.

    Args:
        city: City name, e.g. "Paris".
        days: How many days ahead.
        unit: Temperature unit.
    """
    return []


def median_us(fn: Callable[[], object], runs: int) -> float:
    """The median wall time of `fn()` over `runs` calls, in microseconds."""
    for _ in range(min(runs, 100)):  # warm caches and the allocator first
        fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter_ns()
        fn()
        samples.append(time.perf_counter_ns() - start)
    return statistics.median(samples) / 1000


def main() -> int:
    """Run the measurements and print one line each."""
    tool = Tool(get_forecast)
    result = [{"day": i, "high": 20.5, "low": 11.0, "sky": "clear"} for i in range(5)]
    rows = [
        ("build Tool (signature -> model -> schema)", median_us(lambda: Tool(get_forecast), 300)),
        ("definition('grok') (cached schema, copied)", median_us(lambda: tool.definition(), 5000)),
        ("definition('strict')", median_us(lambda: tool.definition("strict"), 5000)),
        (
            "validate_arguments (typical call)",
            median_us(lambda: tool.validate_arguments(ARGUMENTS), 20000),
        ),
        ("validate_arguments (bad call, error message)", median_us(_bad_call(tool), 5000)),
        ("serialize_result (5 dicts)", median_us(lambda: serialize_result(result), 20000)),
    ]
    width = max(len(label) for label, _ in rows)
    for label, micros in rows:
        print(f"{label:<{width}}  {micros:9.2f} us")
    return 0


def _bad_call(tool: Tool) -> Callable[[], object]:
    def call() -> object:
        try:
            return tool.validate_arguments('{"days": 30, "unit": "k"}')
        except Exception as exc:  # the cost of building the ToolArgumentsError is the point
            return exc

    return call


if __name__ == "__main__":
    raise SystemExit(main())
