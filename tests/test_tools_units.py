"""`convert_units`: exact factors, affine temperatures, loose spellings and clear refusals."""

from __future__ import annotations

import anyio
import pytest

from agentkit.errors import ToolRetry
from agentkit.tools.units import convert_units


@pytest.mark.parametrize(
    ("value", "source", "target", "expected"),
    [
        (1, "mi", "km", 1.609344),
        (1, "miles", "kilometers", 1.609344),
        (1, "Mile", "metres", 1609.344),
        (1, "ft", "m", 0.3048),
        (12, "inches", "foot", 1.0),
        (1, "yd", "in", 36.0),
        (1, "nautical mile", "m", 1852.0),
        (1, "lb", "kg", 0.45359237),
        (1, "pounds", "oz", 16.0),
        (1, "stone", "lbs", 14.0),
        (1, "kg", "g", 1000.0),
        (1, "ton", "lb", 2000.0),
        (1, "tonne", "kg", 1000.0),
        (1, "gal", "l", 3.785411784),
        (1, "gallons", "litres", 3.785411784),
        (1, "imperial gallon", "L", 4.54609),
        (1, "l", "ml", 1000.0),
        (1, "cup", "fl oz", 8.0),
        (1, "tbsp", "tsp", 3.0),
        (1, "m3", "l", 1000.0),
        (100, "°C", "°F", 212.0),
        (0, "celsius", "kelvin", 273.15),
        (32, "F", "C", 0.0),
        (-40, "C", "F", -40.0),
        (98.6, "fahrenheit", "celsius", 37.0),
        (0, "K", "°C", -273.15),
        (36, "km/h", "m/s", 10.0),
        (60, "mph", "km/h", 96.56064),
        (1, "knot", "km/h", 1.852),
        (10, "m/s", "km/h", 36.0),
    ],
)
def test_converts_exactly(value: float, source: str, target: str, expected: float) -> None:
    result = convert_units(value, source, target)
    assert result["result"] == expected  # exact: the factors are rational


def test_result_shape() -> None:
    assert convert_units(10, "kilometres", "miles") == {
        "result": 6.2137119223733395,  # 10000 / 1609.344, correctly rounded
        "from_unit": "km",
        "to_unit": "mi",
        "dimension": "length",
        "text": "10 km = 6.213711922 mi",
    }
    assert convert_units(100, "kph", "mph")["result"] == pytest.approx(62.137119223733395)


@pytest.mark.parametrize(
    "spelling",
    ["km", "KM", "kilometer", "kilometers", "kilometre", "Kilometres", " km ", "kms"],
)
def test_accepts_names_plurals_and_abbreviations(spelling: str) -> None:
    assert convert_units(1, spelling, "m")["result"] == 1000.0


@pytest.mark.parametrize(
    ("source", "target", "message"),
    [
        ("km", "kg", "cannot convert length to mass"),
        ("l", "°C", "cannot convert volume to temperature"),
        ("mph", "miles", "cannot convert speed to length"),
    ],
)
def test_refuses_conversions_across_dimensions(source: str, target: str, message: str) -> None:
    with pytest.raises(ToolRetry) as info:
        convert_units(1, source, target)
    assert message in info.value.message


def test_unknown_unit_lists_close_matches() -> None:
    with pytest.raises(ToolRetry) as info:
        convert_units(1, "kilometr", "m")
    message = info.value.message
    assert "unknown unit 'kilometr'" in message
    assert "Did you mean" in message and "kilometer" in message
    with pytest.raises(ToolRetry, match=r"unknown unit 'parsec'.*Supported kinds: length"):
        convert_units(1, "parsec", "m")


def test_refuses_temperatures_below_absolute_zero_and_non_finite_values() -> None:
    with pytest.raises(ToolRetry, match="below absolute zero"):
        convert_units(-300, "C", "K")
    with pytest.raises(ToolRetry, match="finite"):
        convert_units(float("nan"), "m", "km")


@pytest.mark.anyio
async def test_runs_as_a_tool() -> None:
    with anyio.fail_after(5):
        result = await convert_units.invoke('{"value": 5, "from_unit": "pounds", "to_unit": "kg"}')
    assert result["result"] == 2.26796185
