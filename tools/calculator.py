"""`calculate`: arithmetic and math functions, evaluated by walking a whitelisted AST.

Nothing here reaches `eval`, `exec` or `compile`: the expression is parsed with `ast.parse`
and every node is checked against a whitelist before it is evaluated by hand. Operations
that could pin a CPU or exhaust memory (`9**9**9`, `factorial(100000)`, products of huge
integers) are refused *before* they run, with a `ToolRetry` that tells the model why.
"""

from __future__ import annotations

import ast
import math
import operator
import sys
from collections.abc import Callable, Sequence
from typing import Any

from agentkit.errors import ToolRetry
from agentkit.tool import tool

__all__ = ["calculate"]

MAX_EXPRESSION_CHARS = 1000
"""Longer expressions are refused; no sensible calculation needs more."""

MAX_DEPTH = 200
"""Deepest AST allowed; it also bounds the evaluator's recursion."""

MAX_EXPONENT = 10_000
"""Largest integer exponent for an integer base other than 0, 1 and -1."""

MAX_DIGITS = 4000
"""Largest integer result, in decimal digits (below Python's 4300-digit `str()` limit)."""

MAX_FACTORIAL = 1000
"""Largest argument of `factorial` (1000! has 2568 digits)."""

_MAX_BITS = math.ceil(MAX_DIGITS * math.log2(10))

Number = int | float


def _factorial(x: Number) -> int:
    if isinstance(x, float):
        if not x.is_integer():
            raise ToolRetry(f"factorial() needs a whole number, not {x}")
        x = int(x)
    if x < 0:
        raise ToolRetry(f"factorial() needs a number >= 0, not {x}")
    if x > MAX_FACTORIAL:
        raise ToolRetry(
            f"factorial({_short(x)}) is refused: the argument may be at most {MAX_FACTORIAL}; "
            "for large n use an approximation such as Stirling's formula"
        )
    return math.factorial(x)


def _round(x: Number, ndigits: Number | None = None) -> Number:
    if ndigits is None:
        return round(x)
    if isinstance(ndigits, float):
        if not ndigits.is_integer():
            raise ToolRetry(f"round()'s second argument must be a whole number, not {ndigits}")
        ndigits = int(ndigits)
    # round(5, -10**9) would build 10**(10**9) internally; no real use needs more than this.
    if abs(ndigits) > 100:
        raise ToolRetry("round()'s second argument must be between -100 and 100")
    return round(x, ndigits)


def _log(x: Number, base: Number | None = None) -> float:
    return math.log(x) if base is None else math.log(x, base)


def _min(*args: Number) -> Number:
    if not args:
        raise ToolRetry("min() needs at least one argument")
    return min(args)


def _max(*args: Number) -> Number:
    if not args:
        raise ToolRetry("max() needs at least one argument")
    return max(args)


# name -> (function, smallest and largest number of arguments; None for any number)
_FUNCTIONS: dict[str, tuple[Callable[..., Number], int, int | None]] = {
    "sqrt": (math.sqrt, 1, 1),
    "sin": (math.sin, 1, 1),
    "cos": (math.cos, 1, 1),
    "tan": (math.tan, 1, 1),
    "asin": (math.asin, 1, 1),
    "acos": (math.acos, 1, 1),
    "atan": (math.atan, 1, 1),
    "log": (_log, 1, 2),
    "log2": (math.log2, 1, 1),
    "log10": (math.log10, 1, 1),
    "exp": (math.exp, 1, 1),
    "abs": (abs, 1, 1),
    "round": (_round, 1, 2),
    "floor": (math.floor, 1, 1),
    "ceil": (math.ceil, 1, 1),
    "factorial": (_factorial, 1, 1),
    "degrees": (math.degrees, 1, 1),
    "radians": (math.radians, 1, 1),
    "min": (_min, 1, None),
    "max": (_max, 1, None),
}

_CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e, "tau": math.tau}

_OPERATORS: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}  # fmt: skip

_BINARY: dict[type[ast.operator], str] = {
    ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/",
    ast.FloorDiv: "//", ast.Mod: "%", ast.Pow: "**",
}  # fmt: skip

# What the model most likely meant by a construct we refuse, to put in the message.
_REFUSED_NODES: dict[type[ast.AST], str] = {
    ast.Attribute: "attribute access (write sqrt(x), not math.sqrt(x))",
    ast.Lambda: "lambda functions",
    ast.ListComp: "comprehensions",
    ast.SetComp: "comprehensions",
    ast.DictComp: "comprehensions",
    ast.GeneratorExp: "generator expressions",
    ast.Subscript: "indexing",
    ast.Compare: "comparisons",
    ast.BoolOp: "and/or",
    ast.IfExp: "conditional expressions",
    ast.NamedExpr: "assignment",
    ast.JoinedStr: "strings",
    ast.List: "lists (pass several arguments instead: max(1, 2, 3))",
    ast.Tuple: "tuples",
}


def _allowed_names() -> str:
    return ", ".join([*sorted(_FUNCTIONS), *sorted(_CONSTANTS)])


def _parse(expression: str) -> ast.expr:
    if len(expression) > MAX_EXPRESSION_CHARS:
        raise ToolRetry(
            f"the expression has {len(expression)} characters; the limit is "
            f"{MAX_EXPRESSION_CHARS}, so split the calculation into steps"
        )
    if not expression.strip():
        raise ToolRetry("the expression is empty; pass something like '2 * (3 + 4)'")
    # `^` means power to people; Python reads it as XOR with the wrong precedence, so
    # rewrite it before parsing. No string literals are allowed, so a plain replace is safe.
    source = expression.replace("^", "**")
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as exc:
        raise ToolRetry(f"cannot parse the expression: {exc.msg}") from exc
    except (RecursionError, MemoryError) as exc:  # pathological nesting inside the parser
        raise ToolRetry("the expression is nested too deeply; simplify it") from exc
    _check_depth(tree.body)
    return tree.body


def _check_depth(root: ast.AST) -> None:
    # Iterative, so a deep tree cannot exhaust the stack before the limit is noticed.
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ToolRetry(
                f"the expression is nested more than {MAX_DEPTH} levels deep; simplify it"
            )
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))


def _evaluate(node: ast.expr) -> Number:
    if isinstance(node, ast.Constant):
        value = node.value
        # bool is an int subclass; complex literals (1j) have no place in a calculator.
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ToolRetry(f"only numbers are allowed, not {value!r}")
        return value
    if isinstance(node, ast.Name):
        if node.id in _CONSTANTS:
            return _CONSTANTS[node.id]
        hint = " (it is a function: call it)" if node.id in _FUNCTIONS else ""
        raise ToolRetry(f"unknown name {node.id!r}{hint}; allowed names: {_allowed_names()}")
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.UAdd | ast.USub):
        operand = _evaluate(node.operand)
        return -operand if isinstance(node.op, ast.USub) else +operand
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        return _binary(type(node.op), _evaluate(node.left), _evaluate(node.right))
    if isinstance(node, ast.Call):
        return _call(node)
    if isinstance(node, ast.BinOp | ast.UnaryOp):
        operator = type(node.op).__name__
        raise ToolRetry(
            f"the operator {operator} is not allowed; use + - * / // % ^ (or **) and parentheses"
        )
    what = _REFUSED_NODES.get(type(node), type(node).__name__)
    raise ToolRetry(
        f"{what} is not allowed; use numbers, + - * / // % ^ (or **), parentheses and "
        f"these names: {_allowed_names()}"
    )


def _call(node: ast.Call) -> Number:
    if not isinstance(node.func, ast.Name):
        what = _REFUSED_NODES.get(type(node.func), "calling the result of an expression")
        raise ToolRetry(f"{what} is not allowed; call the functions by name, e.g. sqrt(2)")
    name = node.func.id
    if name not in _FUNCTIONS:
        raise ToolRetry(f"unknown function {name!r}; allowed names: {_allowed_names()}")
    if node.keywords or any(isinstance(arg, ast.Starred) for arg in node.args):
        raise ToolRetry(f"{name}() takes plain positional arguments only")
    function, least, most = _FUNCTIONS[name]
    if not least <= len(node.args) <= (most if most is not None else len(node.args)):
        expected = str(least) if least == most else f"{least} to {most}"
        if most is None:
            expected = f"at least {least}"
        raise ToolRetry(f"{name}() takes {expected} argument(s), not {len(node.args)}")
    args = [_evaluate(arg) for arg in node.args]
    return _apply(f"{name}({', '.join(_short(arg) for arg in args)})", function, args)


def _binary(op: type[ast.operator], left: Number, right: Number) -> Number:
    if isinstance(left, int) and isinstance(right, int):
        if op is ast.Pow:
            _check_int_power(left, right)
        if op is ast.Mult and left.bit_length() + right.bit_length() > _MAX_BITS + 1:
            raise ToolRetry(
                f"the product would have more than {MAX_DIGITS} digits; the limit is "
                f"{MAX_DIGITS}, so use logarithms (log10(a) + log10(b)) to estimate it"
            )
    return _apply(f"{_short(left)} {_BINARY[op]} {_short(right)}", _OPERATORS[op], (left, right))


def _apply(label: str, function: Callable[..., Any], args: Sequence[Number]) -> Number:
    """Run one operation or function: the single place where arithmetic happens.

    Every argument is checked first (finite, within the digit limit), so nothing reaches a
    math function that could not have been typed; every error Python or `math` raises comes
    back as a ToolRetry that names the operation; and the result is checked the same way,
    so no inf, nan, complex or giant number flows into the next step.

    Args:
        label: The operation as the model should read it, e.g. "10.0 ** 400" or "exp(1000)".
        function: What computes it.
        args: Its evaluated arguments.
    """
    for arg in args:
        _checked(arg, f"the argument {_short(arg)} of {label}")
    try:
        result = function(*args)
    except ZeroDivisionError as exc:
        raise ToolRetry(f"division by zero in {label}; the divisor must not be 0") from exc
    except OverflowError as exc:  # float overflow, or an integer too big to become a float
        raise ToolRetry(
            f"{label} is too large to represent: floats reach about {sys.float_info.max:.3g}; "
            "use smaller numbers, or logarithms to work with the magnitude"
        ) from exc
    except ValueError as exc:  # domain errors: sqrt(-1), log(0), acos(2)
        raise ToolRetry(
            f"math error in {label}: {exc}; check the argument is in the function's domain "
            "(sqrt needs x >= 0, log needs x > 0, asin and acos need -1 <= x <= 1)"
        ) from exc
    except TypeError as exc:
        raise ToolRetry(f"cannot evaluate {label}: {exc}") from exc
    if isinstance(result, complex):  # (-8) ** 0.5
        raise ToolRetry(
            f"{label} is not a real number (a negative number raised to a fractional "
            "power); this calculator works with real numbers only"
        )
    return _checked(result, f"the result of {label}")


def _check_int_power(base: int, exponent: int) -> None:
    if abs(base) <= 1 or exponent <= 0:
        return  # 0, 1 and -1 stay small, and negative exponents give floats
    if exponent > MAX_EXPONENT:
        raise ToolRetry(
            f"{_short(base)} ** {_short(exponent)} is refused: integer exponents may be at "
            f"most {MAX_EXPONENT}; use logarithms (e.g. {_short(exponent)} * "
            f"log10({_short(base)})) to estimate it"
        )
    digits = exponent * math.log10(abs(base))
    if digits > MAX_DIGITS:
        raise ToolRetry(
            f"{_short(base)} ** {exponent} would have about {digits:.0f} digits; the limit is "
            f"{MAX_DIGITS}. Use logarithms to estimate it"
        )


def _checked(value: Number, what: str = "the result") -> Number:
    if isinstance(value, int) and value.bit_length() > _MAX_BITS:
        raise ToolRetry(
            f"{what} would have more than {MAX_DIGITS} digits; the limit is {MAX_DIGITS}, "
            "so use logarithms to estimate it"
        )
    if isinstance(value, float) and not math.isfinite(value):
        raise ToolRetry(
            f"{what} is not a finite number: floats reach about {sys.float_info.max:.3g}; "
            "use smaller numbers, or logarithms to work with the magnitude"
        )
    return value


def _short(value: Number) -> str:
    """`value` for a message: a 3000-digit integer would drown the point being made."""
    if isinstance(value, int) and value.bit_length() > 100:
        # From the bit length: str() of a number past Python's digit limit would raise.
        return f"<an integer of about {math.ceil(value.bit_length() * math.log10(2))} digits>"
    return repr(value)


@tool
def calculate(expression: str) -> float | int:
    """Evaluate a math expression exactly as a calculator would, and return the number.

    Use this for any arithmetic instead of computing in your head. Supports numbers,
    `+ - * / // %`, powers written `^` or `**`, parentheses, the constants pi, e and tau,
    and the functions sqrt, sin, cos, tan, asin, acos, atan (radians), log(x) (natural),
    log(x, base), log2, log10, exp, abs, round(x[, digits]), floor, ceil, factorial,
    degrees, radians, min(a, b, ...) and max(a, b, ...). Integers are exact; results with
    more than 4000 digits, integer exponents above 10000 and factorials above 1000! are
    refused. Example: `sqrt(2) * 3^2 / (1 + log(10, 2))`.

    Args:
        expression: The expression, e.g. "2 * (3 + 4)^2" or "round(100 * 1.07^10, 2)".
    """
    tree = _parse(expression)
    try:
        result = _checked(_evaluate(tree))
    except RecursionError as exc:
        raise ToolRetry("the expression is nested too deeply; simplify it") from exc
    # -0.0 is a float artefact (0.0 * -1); reported as 0.0 so the model does not write "-0".
    return 0.0 if result == 0 and isinstance(result, float) else result
