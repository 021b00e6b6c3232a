"""`convert_units`: length, mass, volume, temperature and speed.

Factors are exact rational numbers (the international yard and pound, the US gallon), so
1 mi is exactly 1.609344 km and 100 °C exactly 212 °F; only the final result is rounded to
a float. Temperatures are affine (an offset, not just a factor), so they convert through
kelvin with both parts.
"""

from __future__ import annotations

import difflib
import math
import re
import sys
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from agentkit.errors import ToolRetry
from agentkit.tool import tool

__all__ = ["convert_units"]


@dataclass(frozen=True)
class _Unit:
    symbol: str
    dimension: str
    factor: Fraction  # SI base units per unit (m, kg, m³, K, m/s)
    offset: Fraction = Fraction(0)  # added after scaling: kelvin = value * factor + offset


def _q(text: str) -> Fraction:
    return Fraction(text)


_INCH = _q("0.0254")
_FOOT = 12 * _INCH
_POUND = _q("0.45359237")
_US_GALLON = 231 * _INCH**3
_IMPERIAL_GALLON = _q("0.00454609")
_HOUR = 3600

# symbol, dimension, factor, names (singular and plural) and other spellings
_TABLE: list[tuple[str, str, Fraction, tuple[str, ...]]] = [
    # length (metre)
    ("m", "length", _q("1"), ("meter", "meters", "metre", "metres")),
    ("km", "length", _q("1000"), ("kilometer", "kilometers", "kilometre", "kilometres", "kms")),
    ("cm", "length", _q("0.01"), ("centimeter", "centimeters", "centimetre", "centimetres")),
    ("mm", "length", _q("0.001"), ("millimeter", "millimeters", "millimetre", "millimetres")),
    ("µm", "length", _q("1e-6"), ("um", "micrometer", "micrometers", "micrometre",
                                  "micrometres", "micron", "microns")),
    ("nm", "length", _q("1e-9"), ("nanometer", "nanometers", "nanometre", "nanometres")),
    ("in", "length", _INCH, ("inch", "inches", '"')),
    ("ft", "length", _FOOT, ("foot", "feet", "'")),
    ("yd", "length", 3 * _FOOT, ("yard", "yards", "yds")),
    ("mi", "length", 5280 * _FOOT, ("mile", "miles", "statute mile", "statute miles")),
    ("nmi", "length", _q("1852"), ("nautical mile", "nautical miles")),
    # mass (kilogram)
    ("kg", "mass", _q("1"), ("kilogram", "kilograms", "kilo", "kilos", "kgs")),
    ("g", "mass", _q("0.001"), ("gram", "grams", "gramme", "grammes")),
    ("mg", "mass", _q("1e-6"), ("milligram", "milligrams")),
    ("µg", "mass", _q("1e-9"), ("ug", "mcg", "microgram", "micrograms")),
    ("t", "mass", _q("1000"), ("tonne", "tonnes", "metric ton", "metric tons")),
    ("lb", "mass", _POUND, ("lbs", "pound", "pounds")),
    ("oz", "mass", _POUND / 16, ("ounce", "ounces")),
    ("st", "mass", 14 * _POUND, ("stone", "stones")),
    ("short ton", "mass", 2000 * _POUND, ("ton", "tons", "us ton", "us tons", "short tons")),
    ("long ton", "mass", 2240 * _POUND, ("imperial ton", "imperial tons", "long tons")),
    # volume (cubic metre)
    ("m³", "volume", _q("1"), ("m3", "m^3", "cubic meter", "cubic meters", "cubic metre",
                               "cubic metres")),
    ("l", "volume", _q("0.001"), ("liter", "liters", "litre", "litres", "ltr")),
    ("ml", "volume", _q("1e-6"), ("milliliter", "milliliters", "millilitre", "millilitres",
                                  "cc", "cm3", "cm³", "cubic centimeter", "cubic centimeters",
                                  "cubic centimetre", "cubic centimetres")),
    ("cl", "volume", _q("1e-5"), ("centiliter", "centiliters", "centilitre", "centilitres")),
    ("dl", "volume", _q("1e-4"), ("deciliter", "deciliters", "decilitre", "decilitres")),
    ("gal", "volume", _US_GALLON, ("gallon", "gallons", "us gallon", "us gallons", "us gal")),
    ("imp gal", "volume", _IMPERIAL_GALLON, ("imperial gallon", "imperial gallons",
                                             "uk gallon", "uk gallons", "uk gal")),
    ("qt", "volume", _US_GALLON / 4, ("quart", "quarts", "us quart", "us quarts")),
    ("pt", "volume", _US_GALLON / 8, ("pint", "pints", "us pint", "us pints")),
    ("imp pt", "volume", _IMPERIAL_GALLON / 8, ("imperial pint", "imperial pints",
                                                "uk pint", "uk pints")),
    ("cup", "volume", _US_GALLON / 16, ("cups", "us cup", "us cups")),
    ("fl oz", "volume", _US_GALLON / 128, ("floz", "fluid ounce", "fluid ounces",
                                           "us fluid ounce", "us fluid ounces")),
    ("tbsp", "volume", _US_GALLON / 256, ("tablespoon", "tablespoons")),
    ("tsp", "volume", _US_GALLON / 768, ("teaspoon", "teaspoons")),
    ("ft³", "volume", _FOOT**3, ("ft3", "cu ft", "cubic foot", "cubic feet")),
    ("in³", "volume", _INCH**3, ("in3", "cu in", "cubic inch", "cubic inches")),
    # speed (metre per second)
    ("m/s", "speed", _q("1"), ("mps", "meters per second", "metres per second",
                               "meter per second", "metre per second")),
    ("km/h", "speed", Fraction(1000, _HOUR), ("kmh", "kph", "km/hr", "kmph",
                                              "kilometers per hour", "kilometres per hour",
                                              "kilometer per hour", "kilometre per hour")),
    ("mph", "speed", 5280 * _FOOT / _HOUR, ("mi/h", "mi/hr", "miles per hour",
                                            "mile per hour")),
    ("kn", "speed", Fraction(1852, _HOUR), ("kt", "kts", "knot", "knots")),
    ("ft/s", "speed", _FOOT, ("fps", "feet per second", "foot per second")),
]  # fmt: skip

_TEMPERATURES = [
    _Unit("°C", "temperature", Fraction(1), _q("273.15")),
    _Unit("°F", "temperature", Fraction(5, 9), _q("273.15") - Fraction(160, 9)),
    _Unit("K", "temperature", Fraction(1)),
]
_TEMPERATURE_NAMES = {
    "°C": ("c", "degc", "celsius", "centigrade", "degree celsius", "degrees celsius", "deg c",
           "degrees c"),
    "°F": ("f", "degf", "fahrenheit", "degree fahrenheit", "degrees fahrenheit", "deg f",
           "degrees f"),
    "K": ("k", "kelvin", "kelvins", "degree kelvin", "degrees kelvin"),
}  # fmt: skip


def _build_index() -> dict[str, _Unit]:
    index: dict[str, _Unit] = {}
    for symbol, dimension, factor, names in _TABLE:
        unit = _Unit(symbol, dimension, factor)
        for name in (symbol, *names):
            index[_normalize(name)] = unit
    for unit in _TEMPERATURES:
        for name in (unit.symbol, *_TEMPERATURE_NAMES[unit.symbol]):
            index[_normalize(name)] = unit
    return index


def _normalize(name: str) -> str:
    text = name.strip().lower().replace("°", "").replace("º", "")
    text = text.replace("²", "2").replace("³", "3").replace("μ", "µ")  # Greek mu -> micro sign
    text = re.sub(r"\s*/\s*", "/", text)
    text = re.sub(r"[\s_\-]+", " ", text)
    return text.removesuffix(".")  # "lbs.", "in."


_UNITS = _build_index()


def _unit(name: str) -> _Unit:
    unit = _UNITS.get(_normalize(name))
    if unit is not None:
        return unit
    close = difflib.get_close_matches(_normalize(name), _UNITS, n=4, cutoff=0.6)
    hint = f" Did you mean: {', '.join(close)}?" if close else ""
    dimensions = ", ".join(sorted({u.dimension for u in _UNITS.values()}))
    raise ToolRetry(f"unknown unit {name!r}.{hint} Supported kinds: {dimensions}.")


def _format(value: float) -> str:
    return f"{value:.10g}"


@tool
def convert_units(value: float, from_unit: str, to_unit: str) -> dict[str, Any]:
    """Convert a quantity between units of length, mass, volume, temperature or speed.

    Use this rather than recalling conversion factors. Units may be written as symbols,
    names or plurals: m, km, cm, mm, in, ft, yd, mi, nmi; kg, g, mg, t (tonne), lb,
    oz, st, ton (US short ton); l, ml, cl, dl, m3, gal (US), imp gal, qt, pt, cup,
    fl oz, tbsp, tsp; °C, °F, K (or celsius, fahrenheit, kelvin); m/s, km/h, mph, kn,
    ft/s. Returns a dict with `result` (the converted number), the canonical `from_unit`
    and `to_unit`, the `dimension`, and `text`, e.g. "10 km = 6.213711922 mi".

    Args:
        value: The quantity to convert, e.g. 10.
        from_unit: The unit of `value`, e.g. "km", "pounds" or "°F".
        to_unit: The unit to convert to, e.g. "miles", "kg" or "celsius".
    """
    value = _checked_value(value)
    source, target = _unit(from_unit), _unit(to_unit)
    if source.dimension != target.dimension:
        raise ToolRetry(
            f"cannot convert {source.dimension} to {target.dimension}: {from_unit!r} is a "
            f"{source.dimension} unit and {to_unit!r} is a {target.dimension} unit"
        )
    result = _convert(value, source, target)
    return {
        "result": result,
        "from_unit": source.symbol,
        "to_unit": target.symbol,
        "dimension": source.dimension,
        "text": f"{_format(value)} {source.symbol} = {_format(result)} {target.symbol}",
    }


def _checked_value(value: object) -> float | int:
    """`value` if it is a finite number a float can hold (-0.0 becomes 0), else ToolRetry."""
    # bool is an int subclass, but True km is a mistake, not a quantity.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ToolRetry(f"value must be a number such as 10 or 2.5, not {type(value).__name__}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ToolRetry(f"value must be a finite number, not {value}")
    # Compared exactly (int against float never overflows): a bigger int has no float result
    # and no `.10g` text, and the schema's floats cannot reach it either.
    if abs(value) > sys.float_info.max:
        raise ToolRetry(
            f"value is too large: the limit is about {sys.float_info.max:.3g}; pass the "
            "quantity in a larger unit (km rather than mm, say)"
        )
    return value if value != 0 else 0  # "-0 °C" would read as a different temperature


def _convert(value: float | int, source: _Unit, target: _Unit) -> float:
    """The one place the arithmetic happens: exact, then rounded once, with its limits checked.

    Fraction(float) is exact, so the only rounding is the final float(); that is also where a
    huge quantity overflows or a tiny one underflows, so both are refused here.
    """
    base = Fraction(value) * source.factor + source.offset
    if source.dimension == "temperature":
        zero = -source.offset / source.factor  # absolute zero in the source unit, exactly
        # The float -459.67 is a hair below the exact -459.67 °F, and -273.15 a hair above
        # -273.15 °C: either means absolute zero, not "below it" or "2.3e-14 K".
        if value == float(zero):
            base = Fraction(0)
        elif base < 0:
            raise ToolRetry(
                f"{_format(value)} {source.symbol} is below absolute zero "
                f"({_format(float(zero))} {source.symbol}); pass a temperature at or above it"
            )
    exact = (base - target.offset) / target.factor
    try:
        result = float(exact)
    except OverflowError:
        result = math.inf
    if not math.isfinite(result):
        raise ToolRetry(
            f"{_format(value)} {source.symbol} in {target.symbol} is larger than a float can "
            f"hold (about {sys.float_info.max:.3g}); convert to a larger unit than "
            f"{target.symbol}, or a smaller value"
        )
    # Below the smallest normal float a result loses precision (subnormal) or becomes 0.
    if exact != 0 and abs(result) < sys.float_info.min:
        raise ToolRetry(
            f"{_format(value)} {source.symbol} in {target.symbol} is smaller than a float can "
            f"hold precisely (about {sys.float_info.min:.3g}); convert to a smaller unit than "
            f"{target.symbol}, or a larger value"
        )
    return result + 0.0  # never -0.0
