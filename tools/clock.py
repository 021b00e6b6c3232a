"""Clock and calendar tools: the current time in a time zone, and date arithmetic.

`now` reads a clock that `make_clock_tools(now=...)` can replace, so tests (and replays)
see a fixed time; the module-level `now` reads the real clock. `date_diff` and `date_add`
are pure.
"""

from __future__ import annotations

import calendar
import difflib
import functools
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import Field

from agentkit.errors import ToolRetry
from agentkit.tool import Tool, tool

__all__ = ["date_add", "date_diff", "make_clock_tools", "now"]

_EXAMPLE_ZONES = ("UTC", "Europe/London", "America/New_York", "Asia/Tokyo", "Australia/Sydney")


@functools.cache
def _zones_by_lower_name() -> dict[str, str]:
    # Read once: the system's zone list does not change while we run.
    return {name.lower(): name for name in available_timezones()}


def _zone(name: str) -> tzinfo:
    key = name.strip()
    try:
        return ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        pass  # OSError: a directory such as "Europe"; ValueError: "../x", "" and the like
    if key.upper() in ("UTC", "Z", "GMT"):
        return UTC  # works even on a system without a time zone database
    zones = _zones_by_lower_name()
    exact = zones.get(key.lower().replace(" ", "_"))
    if exact is not None:  # "europe/paris", "America/New York"
        return ZoneInfo(exact)
    close = difflib.get_close_matches(key.lower(), zones, n=3, cutoff=0.6)
    suggestion = f" Did you mean {', '.join(zones[c] for c in close)}?" if close else ""
    raise ToolRetry(
        f"unknown time zone {name!r}: use an IANA name such as "
        f"{', '.join(_EXAMPLE_ZONES)}.{suggestion}"
    )


def _make_now(clock: Callable[[], datetime]) -> Tool:
    @tool
    def now(timezone: str = "UTC") -> str:
        """Get the current date and time in a time zone.

        Returns an ISO 8601 timestamp with the UTC offset, e.g.
        "2025-03-14T09:26:53+01:00". Call this whenever the answer depends on today's
        date or the current time; do not guess it.

        Args:
            timezone: An IANA time zone name such as "UTC", "Europe/Paris",
                "America/Los_Angeles" or "Asia/Kolkata".
        """
        zone = _zone(timezone)
        current = clock()
        if current.tzinfo is None:  # a naive clock is taken to be UTC
            current = current.replace(tzinfo=UTC)
        return current.astimezone(zone).isoformat(timespec="seconds")

    return now


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _calendar_span(earlier: date, later: date) -> tuple[int, int, int]:
    """Whole years, months and days from `earlier` to `later`, counted as people do."""
    months = (later.year - earlier.year) * 12 + later.month - earlier.month
    if _add_months(earlier, months) > later:
        months -= 1
    days = (later - _add_months(earlier, months)).days
    return months // 12, months % 12, days


def _add_months(start: date, months: int) -> date:
    index = start.year * 12 + start.month - 1 + months
    year, month = divmod(index, 12)
    if not 1 <= year <= 9999:
        raise OverflowError("date out of range")
    # Jan 31 + 1 month is Feb 28 (or 29): clamp to the last day of the target month.
    day = min(start.day, calendar.monthrange(year, month + 1)[1])
    return date(year, month + 1, day)


@tool
def date_diff(start: date, end: date) -> dict[str, Any]:
    """Count the time between two dates.

    Returns a dict with `days` (negative when `end` is before `start`), `weeks` and
    `remaining_days` (days = 7 * weeks + remaining_days, in absolute value), and `phrase`,
    the span in years, months and days, e.g. "1 year, 2 months and 3 days later".

    Args:
        start: The first date, as YYYY-MM-DD.
        end: The second date, as YYYY-MM-DD.
    """
    days = (end - start).days
    weeks, remaining = divmod(abs(days), 7)
    if days == 0:
        phrase = "the same day"
    else:
        years, months, rest = _calendar_span(min(start, end), max(start, end))
        parts = [
            _plural(n, unit) for n, unit in ((years, "year"), (months, "month"), (rest, "day")) if n
        ]
        spoken = parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"
        phrase = f"{spoken} {'later' if days > 0 else 'earlier'}"
    return {"days": days, "weeks": weeks, "remaining_days": remaining, "phrase": phrase}


@tool
def date_add(
    start: date,
    days: Annotated[int, Field(ge=-3_660_000, le=3_660_000)] = 0,
    weeks: Annotated[int, Field(ge=-523_000, le=523_000)] = 0,
    months: Annotated[int, Field(ge=-120_000, le=120_000)] = 0,
) -> date:
    """Add (or, with negative numbers, subtract) months, weeks and days to a date.

    Months are added first and clamp to the end of the month (2024-01-31 plus one month
    is 2024-02-29), then weeks and days. Returns the new date as YYYY-MM-DD.

    Args:
        start: The date to start from, as YYYY-MM-DD.
        days: Days to add; negative to go back.
        weeks: Weeks to add; negative to go back.
        months: Calendar months to add (12 for a year); negative to go back.
    """
    try:
        return _add_months(start, months) + timedelta(weeks=weeks, days=days)
    except OverflowError as exc:
        raise ToolRetry(
            "the resulting date is outside the supported range (years 1 to 9999)"
        ) from exc


def make_clock_tools(now: Callable[[], datetime] | None = None) -> list[Tool]:
    """The clock tools, `now` reading the given clock: `[now, date_diff, date_add]`.

    Args:
        now: Returns the current time; aware datetimes are converted to the requested
            zone and naive ones are taken as UTC. Defaults to the real clock.

    Returns:
        Fresh tools for an agent's `tools=`.
    """
    return [_make_now(now or _utc_now), date_diff, date_add]


def _utc_now() -> datetime:
    return datetime.now(UTC)


now = _make_now(_utc_now)
"""`now(timezone="UTC")` on the real clock."""
