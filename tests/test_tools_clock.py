"""Clock tools: an injected clock, time zones by IANA name, and calendar arithmetic."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import anyio
import pytest

from agentkit.errors import ToolArgumentsError, ToolRetry
from agentkit.tool import Tool
from agentkit.tools import clock
from agentkit.tools.clock import date_add, date_diff, make_clock_tools

FIXED = datetime(2024, 3, 10, 12, 30, 15, tzinfo=UTC)


def _now_tool(moment: datetime = FIXED) -> Tool:
    tools = {t.name: t for t in make_clock_tools(now=lambda: moment)}
    assert set(tools) == {"now", "date_diff", "date_add"}
    return tools["now"]


def test_now_reads_the_injected_clock_in_the_requested_zone() -> None:
    now = _now_tool()
    assert now() == "2024-03-10T12:30:15+00:00"
    assert now("UTC") == "2024-03-10T12:30:15+00:00"
    assert now("Europe/Paris") == "2024-03-10T13:30:15+01:00"
    assert now("America/New_York") == "2024-03-10T08:30:15-04:00"  # DST began that morning
    assert now("Asia/Kolkata") == "2024-03-10T18:00:15+05:30"


def test_now_accepts_loose_spellings_of_a_zone() -> None:
    now = _now_tool()
    assert now("europe/paris") == "2024-03-10T13:30:15+01:00"
    assert now("America/New York") == "2024-03-10T08:30:15-04:00"


def test_a_naive_clock_is_utc_and_an_aware_one_is_converted() -> None:
    assert _now_tool(datetime(2024, 1, 1, 0, 0))("UTC") == "2024-01-01T00:00:00+00:00"
    tokyo = datetime(2024, 1, 1, 9, 0, tzinfo=timezone(timedelta(hours=9)))
    assert _now_tool(tokyo)("UTC") == "2024-01-01T00:00:00+00:00"


@pytest.mark.parametrize(
    "zone", ["Mars/Olympus_Mons", "Europe", "../../etc/passwd", "", "/etc/localtime"]
)
def test_unknown_zone_is_a_retry_naming_valid_examples(zone: str) -> None:
    with pytest.raises(ToolRetry) as info:
        _now_tool()(zone)
    assert "unknown time zone" in info.value.message
    assert "Europe/London" in info.value.message and "America/New_York" in info.value.message


def test_unknown_zone_suggests_close_names() -> None:
    with pytest.raises(ToolRetry, match=r"Did you mean.*Europe/Paris"):
        _now_tool()("Europe/Pariss")


def test_module_level_now_uses_the_real_clock() -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    stamp = datetime.fromisoformat(clock.now("UTC"))
    assert before - timedelta(seconds=1) <= stamp <= datetime.now(UTC) + timedelta(seconds=1)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (date(2024, 1, 1), date(2024, 1, 1),
         {"days": 0, "weeks": 0, "remaining_days": 0, "phrase": "the same day"}),
        (date(2024, 1, 1), date(2024, 1, 2),
         {"days": 1, "weeks": 0, "remaining_days": 1, "phrase": "1 day later"}),
        (date(2024, 1, 1), date(2024, 3, 1),
         {"days": 60, "weeks": 8, "remaining_days": 4, "phrase": "2 months later"}),
        (date(2023, 1, 15), date(2024, 3, 18),
         {"days": 428, "weeks": 61, "remaining_days": 1,
          "phrase": "1 year, 2 months and 3 days later"}),
        (date(2024, 3, 18), date(2023, 1, 15),
         {"days": -428, "weeks": 61, "remaining_days": 1,
          "phrase": "1 year, 2 months and 3 days earlier"}),
        (date(2024, 1, 31), date(2024, 2, 29),
         {"days": 29, "weeks": 4, "remaining_days": 1, "phrase": "1 month later"}),  # month ends line up
        (date(2020, 2, 29), date(2021, 2, 28),
         {"days": 365, "weeks": 52, "remaining_days": 1, "phrase": "1 year later"}),
    ],
)  # fmt: skip
def test_date_diff(start: date, end: date, expected: dict[str, object]) -> None:
    assert date_diff(start, end) == expected


@pytest.mark.parametrize(
    ("start", "kwargs", "expected"),
    [
        (date(2024, 1, 31), {"months": 1}, date(2024, 2, 29)),  # clamps to the leap day
        (date(2023, 1, 31), {"months": 1}, date(2023, 2, 28)),
        (date(2024, 3, 31), {"months": -1}, date(2024, 2, 29)),
        (date(2024, 5, 31), {"months": 1}, date(2024, 6, 30)),
        (date(2024, 2, 29), {"months": 12}, date(2025, 2, 28)),
        (date(2024, 1, 15), {"months": 25}, date(2026, 2, 15)),
        (date(2024, 12, 30), {"days": 2}, date(2025, 1, 1)),
        (date(2024, 1, 1), {"weeks": 2, "days": -1}, date(2024, 1, 14)),
        (date(2024, 1, 31), {"months": 1, "days": 1}, date(2024, 3, 1)),  # months first
        (date(2024, 1, 1), {}, date(2024, 1, 1)),
    ],
)
def test_date_add(start: date, kwargs: dict[str, int], expected: date) -> None:
    assert date_add(start, **kwargs) == expected


def test_date_add_out_of_range_is_a_retry() -> None:
    with pytest.raises(ToolRetry, match="years 1 to 9999"):
        date_add(date(9999, 12, 1), months=1)
    with pytest.raises(ToolRetry, match="years 1 to 9999"):
        date_add(date(1, 1, 1), days=-1)


@pytest.mark.anyio
async def test_tools_validate_model_arguments() -> None:
    with anyio.fail_after(5):
        assert await date_add.invoke('{"start": "2024-01-31", "months": 1}') == date(2024, 2, 29)
        result = await date_diff.invoke({"start": "2024-01-01", "end": "2024-12-25"})
        assert result["days"] == 359
        with pytest.raises(ToolArgumentsError, match="start"):
            await date_add.invoke({"start": "31/01/2024"})
        assert await _now_tool().invoke({"timezone": "Asia/Tokyo"}) == "2024-03-10T21:30:15+09:00"
    assert date_add.serialize(date(2024, 2, 29)) == "2024-02-29"
