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
