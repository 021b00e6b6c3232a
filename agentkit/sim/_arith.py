"""Arithmetic: finding expressions in prose ("(3 + 4) * 12", "square root of 84") and
evaluating them safely, without `eval`.

Pure and stdlib only.
"""

from __future__ import annotations

import ast
import math
import operator
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

__all__ = ["find_expressions", "safe_eval"]

# Operators spelled as words, rewritten before looking for an arithmetic expression.
_OPERATOR_WORDS = (
    (re.compile(r"\bto the power of\b", re.I), "^"),
    (re.compile(r"\bmultiplied by\b", re.I), "*"),
    (re.compile(r"\bdivided by\b", re.I), "/"),
    (re.compile(r"\b(?:plus)\b", re.I), "+"),
    (re.compile(r"\b(?:minus)\b", re.I), "-"),
    (re.compile(r"\b(?:times)\b", re.I), "*"),
    (re.compile(r"(?<=\d)\s*[x×]\s*(?=\d)"), " * "),
    (re.compile(r"\s*\bsquared\b", re.I), "^2"),
    (re.compile(r"\bsquare root of\s*(\d+(?:\.\d+)?)", re.I), r"sqrt(\1)"),
    (re.compile(r"\b(sqrt|log|ln|exp|abs|sin|cos|tan) of\s*(\d+(?:\.\d+)?)", re.I), r"\1(\2)"),
)
_N = r"(-?\d+(?:\.\d+)?)"
# Operations said as verbs or nouns ("add 12.5 and 7.25", "15% of 240"): operands are put
# in the order arithmetic writes them ("subtract 3 from 10" is 10 - 3).
_PHRASES = (
    (re.compile(rf"{_N}\s*(?:%|percent)\s+of\s+{_N}", re.I), r"\1 / 100 * \2"),
    (re.compile(rf"\badd\s+{_N}\s+(?:and|to|plus)\s+{_N}", re.I), r"\1 + \2"),
    (re.compile(rf"\b(?:the\s+)?sum\s+of\s+{_N}\s+and\s+{_N}", re.I), r"\1 + \2"),
    (re.compile(rf"\bsubtract\s+{_N}\s+from\s+{_N}", re.I), r"\2 - \1"),
    (re.compile(rf"\bmultiply\s+{_N}\s+(?:by|and|with)\s+{_N}", re.I), r"\1 * \2"),
    (re.compile(rf"\b(?:the\s+)?product\s+of\s+{_N}\s+and\s+{_N}", re.I), r"\1 * \2"),
    (re.compile(rf"\bdivide\s+{_N}\s+(?:by|into)\s+{_N}", re.I), r"\1 / \2"),
    (re.compile(rf"\b(?:the\s+)?difference\s+between\s+{_N}\s+and\s+{_N}", re.I),
     r"\1 - \2"),
)
_AVERAGE = re.compile(
    rf"\b(?:the\s+)?(?:average|mean)\s+of\s+({_N}(?:\s*,\s*{_N})*\s*,?\s*and\s+{_N})", re.I
)
# "..., then divide the result by 7": the step works on the expression before it.
_CHAIN = re.compile(
    rf"\b(divide|multiply|add|subtract|raise)\s+(?:the\s+result|the\s+answer|it|that|this)"
    rf"(?:\s+(?:by|to|from|with|into))?(?:\s+the\s+power\s+of)?\s+{_N}"
    r"|\b(?:take\s+)?the\s+square\s+root\s+of\s+(?:the\s+result|the\s+answer|it|that)",
    re.I,
)
_CHAIN_OPERATORS = {"divide": "/", "multiply": "*", "add": "+", "subtract": "-", "raise": "^"}
_OPERATOR_HINT = re.compile(
    r"(?i)power|multipl|divided|plus|minus|times|squared|square root|\d\s*[x×]\s*\d|"
    r"\b(?:sqrt|log|ln|exp|abs|sin|cos|tan) of\b|%|percent|\badd\b|\bsum\b|subtract|"
    r"product|divide|difference|average|\bmean\b"
)
_FUNCTIONS = r"sqrt|sin|cos|tan|log|log10|ln|exp|abs|floor|ceil|round|pi"
_EXPRESSION = re.compile(
    r"(?:(?<![A-Za-z])(?:" + _FUNCTIONS + r")(?![A-Za-z])|\d+(?:\.\d+)?|\*\*|[-+*/^%÷()]|[ \t])+"
)
_HAS_OPERATOR = re.compile(
    r"\d\s*(?:\*\*|[-+*/^%÷])\s*[\d(]|(?<![A-Za-z])(?:" + _FUNCTIONS + r")\s*\("
)


def _balance(expression: str) -> str:
    """Drop parentheses that the surrounding prose, not the expression, opened or closed."""
    expression = expression.strip()
    while expression.count("(") > expression.count(")"):
        cut = expression.find("(")
        expression = (expression[:cut] + expression[cut + 1 :]).strip()
    while expression.count(")") > expression.count("("):
        cut = expression.rfind(")")
        expression = (expression[:cut] + expression[cut + 1 :]).strip()
    return expression


def find_expressions(text: str, blanks: Iterable[str] = ()) -> list[str]:
    """Arithmetic expressions in `text`, in the order it gives them, without repeats.

    Operators spelled as words are rewritten first ("6 times 7" -> "6 * 7", "the square root
    of 84" -> "sqrt(84)").

    Args:
        text: The prose.
        blanks: Parts of the text whose digits are no arithmetic (dates, times, URLs...).
    """
    if not any(ch.isdigit() for ch in text):
        return []
    if _OPERATOR_HINT.search(text):
        for phrase, written in _PHRASES:
            text = phrase.sub(written, text)
        text = _AVERAGE.sub(_average, text)
        for pattern, replacement in _OPERATOR_WORDS:
            text = pattern.sub(replacement, text)
        text = _chain(text)
    if not _HAS_OPERATOR.search(text):
        return []
    for blank in blanks:
        text = text.replace(blank, " " * len(blank))
    found = []
    for match in _EXPRESSION.finditer(text):
        candidate = _balance(match.group().strip())
        if _HAS_OPERATOR.search(candidate) and any(ch.isdigit() for ch in candidate):
            found.append(candidate)
    return list(dict.fromkeys(found))


def _average(match: re.Match[str]) -> str:
    numbers = re.findall(r"-?\d+(?:\.\d+)?", match.group(1))
    return f"({' + '.join(numbers)}) / {len(numbers)}"


def _chain(text: str) -> str:
    """Write a step on "the result" as arithmetic on the expression just before it."""
    for _ in range(4):
        match = _CHAIN.search(text)
        if match is None:
            break
        before = [_balance(m.group().strip()) for m in _EXPRESSION.finditer(text[: match.start()])]
        previous = next((e for e in reversed(before) if _HAS_OPERATOR.search(e)), None)
        if previous is None:
            break
        if match.group(1) is None:
            step = f"sqrt({previous})"
        else:
            step = f"({previous}) {_CHAIN_OPERATORS[match.group(1).lower()]} {match.group(2)}"
        text = text[: match.start()] + step + text[match.end() :]
    return text


_BINARY: Mapping[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY: Mapping[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.UAdd: operator.pos,
    ast.USub: operator.neg,
}
_CALLS: Mapping[str, Callable[..., Any]] = {
    "sqrt": math.sqrt, "sin": math.sin, "cos": math.cos, "tan": math.tan, "log": math.log,
    "log10": math.log10, "ln": math.log, "exp": math.exp, "abs": abs, "floor": math.floor,
    "ceil": math.ceil, "round": round,
}  # fmt: skip
_CONSTANTS: Mapping[str, float] = {"pi": math.pi, "e": math.e}
# Larger powers are how "2 ** 2 ** 100" would hang a server.
_MAX_EXPONENT = 1000
_MAX_MAGNITUDE = 1e300


def safe_eval(expression: str) -> int | float | None:
    """Evaluate arithmetic (`+ - * / // % ^ **`, parentheses, sqrt/log/... and pi) without eval.

    `^` means power, as people write it. Anything else (names, attributes, huge powers,
    division by zero) gives None.
    """
    source = expression.replace("^", "**").replace("÷", "/").replace("×", "*")
    try:
        tree = ast.parse(source.strip(), mode="eval")
        value = _eval(tree.body)
    except (SyntaxError, ValueError, TypeError, ZeroDivisionError, OverflowError, RecursionError):
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and (math.isnan(value) or abs(value) > _MAX_MAGNITUDE):
        return None
    return value


def _eval(node: ast.expr) -> Any:
    if (
        isinstance(node, ast.Constant)
        and isinstance(node.value, int | float)
        and not isinstance(node.value, bool)
    ):
        return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _eval(node.left), _eval(node.right)
        if isinstance(node.op, ast.Pow) and (abs(right) > _MAX_EXPONENT or abs(left) > 1e100):
            raise ValueError("power too large")
        return _BINARY[type(node.op)](left, right)
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_eval(node.operand))
    if isinstance(node, ast.Name) and node.id in _CONSTANTS:
        return _CONSTANTS[node.id]
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in _CALLS
        and not node.keywords
        and 1 <= len(node.args) <= 2
    ):
        return _CALLS[node.func.id](*(_eval(arg) for arg in node.args))
    raise ValueError("not arithmetic")
