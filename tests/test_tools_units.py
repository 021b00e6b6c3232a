"""`convert_units`: exact factors, affine temperatures, loose spellings and clear refusals."""

from __future__ import annotations

import math

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


# -- numeric edge cases: every one a ToolRetry that says what to pass instead -------------


@pytest.mark.parametrize(
    ("value", "source", "target"),
    [
        (1e308, "mi", "mm"),
        (1.7e308, "km", "m"),
        (-1e308, "ft", "in"),
        (1e308, "gal", "tsp"),
        (1e308, "long ton", "mg"),
        (1.79e308, "kn", "km/h"),
        (10**308, "km", "nm"),  # an int: exact until the final float()
    ],
)
def test_refuses_results_beyond_the_float_range(value: float, source: str, target: str) -> None:
    with pytest.raises(ToolRetry, match="larger than a float can hold") as info:
        convert_units(value, source, target)
    assert "convert to a larger unit" in info.value.message


@pytest.mark.parametrize(
    ("value", "source", "target"),
    [
        (1e-320, "mm", "mi"),  # a subnormal input
        (5e-324, "nm", "km"),  # the smallest float there is
        (1e-310, "m", "km"),  # a subnormal result
        (2.3e-308, "g", "long ton"),  # a normal input, a result below the normal range
    ],
)
def test_refuses_results_below_the_float_range(value: float, source: str, target: str) -> None:
    with pytest.raises(ToolRetry, match="smaller than a float can hold precisely") as info:
        convert_units(value, source, target)
    assert "convert to a smaller unit" in info.value.message


def test_subnormal_inputs_with_normal_results_convert() -> None:
    assert convert_units(1e-310, "km", "nm")["result"] == pytest.approx(1e-298, rel=1e-12)
    assert convert_units(5e-320, "long ton", "µg")["result"] == pytest.approx(5.08e-308, rel=1e-3)
    # The same unit both sides is still a subnormal result: refused, not returned imprecise.
    with pytest.raises(ToolRetry, match="smaller than a float"):
        convert_units(5e-324, "mi", "mi")


@pytest.mark.parametrize(
    "value",
    [10**400, -(10**400), 10**309, 2**1024, 10**5000],
    ids=["1e400", "-1e400", "1e309", "2^1024", "1e5000"],  # str() of 10**5000 would raise
)
def test_refuses_integers_beyond_the_float_range(value: int) -> None:
    with pytest.raises(ToolRetry, match=r"value is too large: the limit is about 1\.8e"):
        convert_units(value, "m", "km")


def test_large_integers_within_the_float_range_stay_exact() -> None:
    assert convert_units(10**300, "m", "km")["result"] == 1e297
    assert convert_units(2**1023, "kg", "kg")["result"] == float(2**1023)


@pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan"), -float("nan")])
def test_refuses_non_finite_values(value: float) -> None:
    with pytest.raises(ToolRetry, match="value must be a finite number"):
        convert_units(value, "m", "km")


@pytest.mark.parametrize("value", [True, "10", None, 1j, [1]])
def test_refuses_values_that_are_not_numbers(value: object) -> None:
    with pytest.raises(ToolRetry, match="value must be a number such as 10"):
        convert_units(value, "m", "km")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("source", "target", "text"),
    [
        ("°C", "°F", "0 °C = 32 °F"),
        ("m", "km", "0 m = 0 km"),
        ("K", "°C", "0 K = -273.15 °C"),
        ("mph", "km/h", "0 mph = 0 km/h"),
    ],
)
def test_negative_zero_is_zero(source: str, target: str, text: str) -> None:
    result = convert_units(-0.0, source, target)
    assert result["text"] == text
    if result["result"] == 0:
        assert math.copysign(1, result["result"]) == 1  # 0.0, not -0.0


@pytest.mark.parametrize(
    ("value", "source"),
    [(-273.16, "C"), (-460, "F"), (-1e-9, "K"), (-1e308, "°C"), (-459.6700001, "F")],
)
def test_refuses_every_temperature_below_absolute_zero(value: float, source: str) -> None:
    with pytest.raises(ToolRetry, match=r"below absolute zero .*pass a temperature at or above"):
        convert_units(value, source, "K")


@pytest.mark.parametrize(
    ("value", "source", "target", "expected"),
    [
        (-273.15, "°C", "K", 0.0),  # not 2.3e-14 K: the float -273.15 means absolute zero
        (-459.67, "°F", "K", 0.0),  # not "below absolute zero"
        (-459.67, "°F", "°C", -273.15),
        (0, "K", "°F", -459.67),
    ],
)
def test_absolute_zero_itself_converts(
    value: float, source: str, target: str, expected: float
) -> None:
    assert convert_units(value, source, target)["result"] == expected


@pytest.mark.parametrize(
    "value",
    ["1e308", "-1e308", "1.7976931348623157e308", "5e-324", "1e-320"],
)
def test_extreme_values_never_raise_raw_errors(value: str) -> None:
    # Across every pair of units of a kind: a number or a ToolRetry, never OverflowError.
    units = {
        "length": ["nm", "mi", "nmi"], "mass": ["µg", "long ton"], "volume": ["tsp", "m3"],
        "speed": ["m/s", "kn"], "temperature": ["K", "°C", "°F"],
    }  # fmt: skip
    for names in units.values():
        for source in names:
            for target in names:
                try:
                    result = convert_units(float(value), source, target)
                except ToolRetry:
                    continue
                assert math.isfinite(result["result"])


@pytest.mark.anyio
async def test_the_schema_refuses_what_json_cannot_hold() -> None:
    from agentkit.errors import ToolArgumentsError

    for raw in ("1e400", "NaN", "-Infinity", "1" + "0" * 400):
        with pytest.raises(ToolArgumentsError, match="finite number"):
            await convert_units.invoke(f'{{"value": {raw}, "from_unit": "m", "to_unit": "km"}}')
    with pytest.raises(ToolRetry, match="larger than a float can hold"):
        await convert_units.invoke('{"value": 1e308, "from_unit": "mi", "to_unit": "nm"}')
