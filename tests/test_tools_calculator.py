"""`calculate`: correct arithmetic, and refusals that say why, before any work is done."""

from __future__ import annotations

import math
import time

import anyio
import pytest

from agentkit.errors import ToolRetry
from agentkit.tools.calculator import calculate


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("2 + 3 * 4", 14),
        ("(2 + 3) * 4", 20),
        ("2^10", 1024),
        ("2**10", 1024),
        ("-2^2", -4),  # power binds tighter than unary minus, as in math
        ("2^3^2", 512),  # and is right-associative
        ("2^3 + 1", 9),  # `^` is power with power's precedence, not XOR's
        ("10 / 4", 2.5),
        ("7 // 2", 3),
        ("7 % 3", 1),
        ("sqrt(16)", 4.0),
        ("abs(-3)", 3),
        ("floor(2.7) + ceil(2.1)", 5),
        ("round(3.14159, 2)", 3.14),
        ("round(2.5)", 2),
        ("factorial(5)", 120),
        ("factorial(5.0)", 120),
        ("min(4, 2, 8)", 2),
        ("max(4, 2, 8)", 8),
        ("log10(1000)", 3.0),
        ("log(8, 2)", 3.0),
        ("log(e)", 1.0),
        ("exp(0)", 1.0),
        ("sin(pi / 2)", 1.0),
        ("cos(0)", 1.0),
        ("tan(0)", 0.0),
        ("degrees(pi)", 180.0),
        ("2**-2", 0.25),
        ("1e3 + 1", 1001.0),
        ("2**10000 // 2**9999", 2),  # big but allowed integers stay exact
    ],
)
def test_computes(expression: str, expected: float) -> None:
    result = calculate(expression)
    assert result == pytest.approx(expected, rel=1e-12)
    assert type(result) is type(expected)


def test_integers_are_exact() -> None:
    assert calculate("factorial(25)") == math.factorial(25)
    assert calculate("2^100") == 2**100


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("9**9**9", "integer exponents may be at most 10000"),
        ("9^9^9", "integer exponents may be at most 10000"),
        ("2**100000", "integer exponents may be at most 10000"),
        ("10**5000", "digits"),
        ("(10**3000)**2", "digits"),
        ("10**3000 * 10**3000", "digits"),
        ("factorial(100000)", "at most 1000"),
        ("factorial(1001)", "at most 1000"),
        ("factorial(-1)", ">= 0"),
        ("factorial(2.5)", "whole number"),
        ("round(5, 1000000000)", "between -100 and 100"),
    ],
)
def test_refuses_bombs_quickly(expression: str, message: str) -> None:
    started = time.perf_counter()
    with pytest.raises(ToolRetry, match=r"refused|may be|limit|must|needs") as info:
        calculate(expression)
    assert message in info.value.message
    assert time.perf_counter() - started < 1.0  # refused before it was computed


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("__import__('os')", "unknown function '__import__'"),
        ("__import__('os').system('id')", "attribute access"),
        ("__builtins__", "unknown name '__builtins__'"),
        ("math.sqrt(4)", "attribute access"),
        ("(1).__class__", "attribute access"),
        ("(lambda: 1)()", "lambda functions is not allowed"),
        ("lambda: 1", "lambda functions is not allowed"),
        ("[x for x in range(9)]", "comprehensions"),
        ("sum(x for x in range(9))", "unknown function 'sum'"),
        ("max([1, 2])", "lists"),
        ("'a' * 3", "only numbers"),
        ("True + 1", "only numbers"),
        ("1j * 2", "only numbers"),
        ("1 < 2", "comparisons"),
        ("sqrt", "it is a function: call it"),
        ("sqrt(x=4)", "plain positional arguments"),
        ("sqrt(1, 2)", "takes 1 argument"),
        ("max()", "at least 1"),
        ("1 << 100", "operator LShift is not allowed"),
        ("~1", "operator Invert is not allowed"),
        ("2 ^ 3 | 1", "operator BitOr is not allowed"),
        ("x = 1", "cannot parse"),
        ("2 +", "cannot parse"),
        ("", "empty"),
    ],
)
def test_refuses_what_is_not_arithmetic(expression: str, message: str) -> None:
    with pytest.raises(ToolRetry) as info:
        calculate(expression)
    assert message in info.value.message


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("1 / 0", "division by zero"),
        ("5 // 0", "division by zero"),
        ("5 % 0", "division by zero"),
        ("0 ** -1", "division by zero"),
        ("sqrt(-1)", "math error"),
        ("log(0)", "math error"),
        ("exp(1000)", "too large"),
        ("10.0 ** 400", "too large"),
        ("(-8) ** 0.5", "not a real number"),
        ("1e999", "not a finite number"),
    ],
)
def test_math_errors_become_retries(expression: str, message: str) -> None:
    with pytest.raises(ToolRetry) as info:
        calculate(expression)
    assert message in info.value.message


def test_refuses_long_and_deep_expressions() -> None:
    with pytest.raises(ToolRetry, match="1001 characters; the limit is 1000"):
        calculate("1" * 1001)
    with pytest.raises(ToolRetry, match="nested"):
        calculate("(" * 300 + "1" + ")" * 300)
    with pytest.raises(ToolRetry, match="nested more than 200 levels"):
        calculate("+".join(["1"] * 450))
    assert calculate("+".join(["1"] * 150)) == 150


@pytest.mark.anyio
async def test_runs_as_a_tool() -> None:
    with anyio.fail_after(5):
        assert await calculate.invoke({"expression": "2^8 - 1"}) == 255
    assert calculate.name == "calculate"
    schema = calculate.definition()["function"]
    assert "expression" in schema["parameters"]["properties"]
    assert "sqrt" in schema["description"]


# -- numeric edge cases: every arithmetic error is a ToolRetry, checked in one place -------


@pytest.mark.parametrize(
    "expression",
    [
        "1e308 * 10",
        "-1e308 * 10",
        "1e308 + 1e308",
        "1e308 ** 2",
        "2.0 ** 2000",
        "1.0000001 ** 1e10",
        "10.0 ** 10 ** 10",
        "1.5 ** 10 ** 400",
        "exp(710)",
        "exp(10 ** 400)",
        "degrees(1e308)",
        "1 / 1e-320",
        "5e-324 ** -1",
        "10 ** 400 / 3",
        "factorial(1000) * 1.0",
        "sqrt(10 ** 4000)",
        "10 ** 4000 - 1e308",
        "floor(1e308 * 10)",
    ],
)
def test_float_overflow_is_a_retry(expression: str) -> None:
    started = time.perf_counter()
    with pytest.raises(ToolRetry) as info:
        calculate(expression)
    message = info.value.message
    assert "too large to represent" in message or "not a finite number" in message
    assert "1.8e+308" in message and "logarithms" in message  # what to do instead
    assert len(message) < 400  # no 4000-digit number pasted into it
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize(
    "expression",
    [
        "1e999",
        "-1e999",
        "atan(1e999)",
        "min(1e999, 1)",
        "ceil(1e999)",
        "1e999 - 1e999",
        "0 * 1e999",
    ],
)
def test_non_finite_inputs_are_refused_where_they_are_used(expression: str) -> None:
    # atan(inf) would be a tidy pi/2 and min(inf, 1) a 1: the input is refused all the same.
    with pytest.raises(ToolRetry, match="not a finite number"):
        calculate(expression)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("1e-320 / 1e-320", 1.0),
        ("1e-320 * 1e10", 1e-310),
        ("5e-324 * 1", 5e-324),
        ("2 ** -1074", 5e-324),
        ("2 ** -100000", 0.0),  # underflows to 0, as any float calculator does
        ("1e-320 + 1e-320", 2e-320),
    ],
)
def test_subnormals_compute(expression: str, expected: float) -> None:
    assert calculate(expression) == pytest.approx(expected, rel=1e-3, abs=0)


@pytest.mark.parametrize(
    "expression", ["-0.0", "0.0 * -1", "sqrt(-0.0)", "-0.0 + -0.0", "-0.0 * 5", "round(-0.4, 0)"]
)
def test_negative_zero_is_reported_as_zero(expression: str) -> None:
    result = calculate(expression)
    assert result == 0 and math.copysign(1, result) == 1


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("9 ** (9 ** 9)", "integer exponents may be at most 10000"),
        ("2 ** (2 ** 64)", "integer exponents may be at most 10000"),
        ("(-2) ** 100000", "integer exponents may be at most 10000"),
        ("10 ** 10 ** 10", "integer exponents may be at most 10000"),
        ("(2 ** 10000) ** 2", "digits"),
        ("factorial(1000) * factorial(1000)", "digits"),
        ("factorial(1e308)", "at most 1000"),
        ("(-1e308) ** 0.5", "not a real number"),
        ("log(-0.0)", "math error"),
        ("acos(2)", "math error"),
        ("log(8, 1)", "division by zero"),
        ("(-0.0) ** -1", "division by zero"),
        ("5 % 0.0", "division by zero"),
    ],
)
def test_edge_cases_are_retries_with_short_messages(expression: str, message: str) -> None:
    started = time.perf_counter()
    with pytest.raises(ToolRetry) as info:
        calculate(expression)
    assert message in info.value.message
    assert len(info.value.message) < 400  # huge operands are described, not printed
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("(-1) ** (10 ** 9)", 1),  # stays small, so it is allowed
        ("0 ** (10 ** 9)", 0),
        ("log(10 ** 4000)", 4000 * math.log(10)),
        ("log(factorial(1000))", math.lgamma(1001)),
        ("tan(1e308)", math.tan(1e308)),
    ],
)
def test_big_but_harmless_inputs_compute(expression: str, expected: float) -> None:
    assert calculate(expression) == pytest.approx(expected, rel=1e-12)
