"""Instructions as Jinja2 templates, rendered per run in a bounded sandbox. No I/O.

A template sees `deps`, `ctx` (the `RunContext`), `model`, `now` (an aware datetime) and
`today` (ISO date). Undefined names fail loudly (`StrictUndefined`) rather than rendering as
empty text. Text without template syntax is never handed to Jinja (and Jinja is not even
imported for it).

Instructions are often built from data a user supplied, so a template is treated as
untrusted code:

- It runs in Jinja's `ImmutableSandboxedEnvironment`: no reaching into Python's internals,
  and no changing the caller's objects (`deps.update(...)`, `deps.tags.append(...)` and the
  other mutating methods of dicts, lists, sets and deques are refused, as is calling any
  method of agentkit's own objects, such as `ctx.usage.merge`).
- Its work is bounded. Every step that could take long or build something huge is checked
  *before* it runs: `**` (integers of at most `MAX_INT_DIGITS` digits), `*` and `+` on strings
  and lists, `%` and `str.format` (widths, and what their fields would print), `range()`
  (`max_range` items), the string methods and filters whose output grows with an argument
  (`center`, `replace`, `join`, `indent`...), and the printing of a value, which is sized
  first, so a list that holds one big string a million times is refused rather than printed.
  No string or list may exceed `max_chars`, nor may the rendered text; and every call,
  operator, filter and loop step checks a deadline of `max_seconds`.

A template that passes a limit fails with a `UserError` that names the template, the limit
and how to raise it.
"""

from __future__ import annotations

import inspect
import math
import numbers
import re
import time
import types
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import update_wrapper
from typing import TYPE_CHECKING, Any

from .errors import ConfigurationError, UserError

if TYPE_CHECKING:
    import jinja2
    import jinja2.sandbox

    from .context import RunContext

__all__ = [
    "MAX_INT_DIGITS",
    "MAX_OUTPUT_CHARS",
    "MAX_RANGE",
    "MAX_SECONDS",
    "PromptTemplate",
    "template_variables",
]

MAX_OUTPUT_CHARS = 1_000_000
"""Default `max_chars`: the longest rendered text, and the longest string or list a template
may build on the way (about 250,000 tokens, more than any model's context)."""

MAX_SECONDS = 1.0
"""Default `max_seconds`: how long one render may take. Real instructions take milliseconds."""

MAX_RANGE = 10_000
"""Default `max_range`: the most items one `range()` call may produce."""

MAX_INT_DIGITS = 4300
"""Largest integer `**` and `*` may produce, in decimal digits: Python's own limit for turning
an integer into text, so a larger one could not be printed anyway."""

_MARKERS = ("{{", "{%", "{#")
_MAX_INT_BITS = math.floor(MAX_INT_DIGITS * math.log2(10))  # 2**14284 has 4300 digits
_MAX_JSON_INDENT = 32  # json indentation is repeated on every line at every nesting level

# Names a template cannot write (they are not identifiers), so it can neither call these
# hooks itself nor rebind the budget of its own render.
_BUDGET_KEY = "agentkit render budget"
_LOOP_GUARD = "agentkit loop guard"
_TEXT_GUARD = "agentkit text guard"

_SEQUENCES = (str, bytes, bytearray, list, tuple)
_TEXTS = (str, bytes, bytearray)
_CONTAINERS = (list, tuple, set, frozenset, dict, deque)
_SIZED = _SEQUENCES + _CONTAINERS
_BINOPS = frozenset({"*", "**", "+", "%"})

# Filters that do not turn their input into text, so a huge input costs them nothing more
# than walking it; every other filter has its input sized first, like `{{ value }}`.
_STRUCTURAL_FILTERS = frozenset({
    "abs", "attr", "batch", "count", "d", "default", "dictsort", "first", "float", "groupby",
    "int", "items", "join", "last", "length", "list", "map", "max", "min", "random", "reject",
    "rejectattr", "reverse", "round", "select", "selectattr", "slice", "sort", "sum", "unique",
})  # fmt: skip

# One printf-style conversion: %(key)-08.3f
_PRINTF = re.compile(
    r"%(?:\((?P<key>[^)]*)\))?[#0\- +]*(?P<width>\*|\d+)?(?:\.(?P<precision>\*|\d*))?"
    r"[hlL]?(?P<type>.)",
    re.DOTALL,
)
_DIGITS = re.compile(r"\d+")


def template_variables(ctx: RunContext[Any], *, now: datetime) -> dict[str, Any]:
    """The variables an instructions template may use, for one run.

    Args:
        ctx: The run's context (gives `deps` and `model`).
        now: The time of the run (its date is `today`).

    Returns:
        `{"ctx", "deps", "model", "now", "today"}` as a dict.
    """
    return {
        "ctx": ctx,
        "deps": ctx.deps,
        "model": ctx.model,
        "now": now,
        "today": now.date().isoformat(),
    }


class PromptTemplate:
    """A compiled instructions template.

    Args:
        source: The template text.
        name: Where it came from (a file name, or "instructions"), for error messages.
        max_chars: The longest rendered text, and the longest string or list the template
            may build while rendering.
        max_seconds: How long one render may run.
        max_range: The most items one `range()` call may produce.

    Raises:
        UserError: The template has a syntax error.
        ConfigurationError: A limit is not a positive number.
    """

    __slots__ = ("_limits", "_template", "name", "source")

    def __init__(
        self,
        source: str,
        *,
        name: str = "instructions",
        max_chars: int = MAX_OUTPUT_CHARS,
        max_seconds: float = MAX_SECONDS,
        max_range: int = MAX_RANGE,
    ) -> None:
        for option, value in (
            ("max_chars", max_chars), ("max_seconds", max_seconds), ("max_range", max_range),
        ):  # fmt: skip
            if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
                raise ConfigurationError(f"{option} must be a positive number, not {value!r}")
        self.source = source
        self.name = name
        self._limits = _Limits(name, int(max_chars), float(max_seconds), int(max_range))
        self._template: jinja2.Template | None = None
        if any(marker in source for marker in _MARKERS):
            self._template = _compile(source, self._limits)

    @property
    def is_static(self) -> bool:
        """Whether the text has no template syntax and renders as itself."""
        return self._template is None

    def render(self, variables: Mapping[str, Any]) -> str:
        """Render with `variables`.

        Raises:
            UserError: The template uses a name that is not defined, does something the
                sandbox forbids, fails (a division by zero, say), or passes one of its limits;
                the message says which, and how to fix it.
        """
        if self._template is None:
            return self.source
        import jinja2

        limits = self._limits
        budget = _Budget(limits)
        chunks: list[str] = []
        size = 0
        # generate(), not render(): the text is counted as it comes, and rendering stops
        # at the limit rather than after the whole of it has been built.
        stream = self._template.generate({**variables, _BUDGET_KEY: budget})
        try:
            for chunk in stream:
                size += len(chunk)
                if size > limits.max_chars:
                    raise limits.refuse(
                        f"rendered more than {limits.max_chars:,} characters",
                        "max_chars",
                        "render less (a loop that repeats too much?)",
                    )
                budget.tick()
                chunks.append(chunk)
        except jinja2.UndefinedError as exc:
            raise UserError(
                f"the {self.name} template uses an undefined variable: {exc.message}; "
                f"a template can use {', '.join(sorted(variables))}, and attributes of deps "
                "(pass deps=... to run())"
            ) from exc
        except jinja2.exceptions.SecurityError as exc:
            raise UserError(
                f"the {self.name} template did something unsafe: {exc} Templates may read "
                "deps and ctx but not change them, nor reach Python's internals"
            ) from exc
        except jinja2.TemplateError as exc:
            raise UserError(f"the {self.name} template failed: {exc}") from exc
        except ArithmeticError as exc:
            raise UserError(
                f"the {self.name} template failed on arithmetic: {exc} ({type(exc).__name__})"
            ) from exc
        except RecursionError as exc:
            raise UserError(
                f"the {self.name} template recursed too deeply (a macro or block that calls "
                "itself without end?)"
            ) from exc
        except MemoryError as exc:
            raise UserError(f"the {self.name} template ran out of memory") from exc
        finally:
            if isinstance(stream, Generator):  # it is one; closing runs its cleanup now
                stream.close()
        return "".join(chunks)

    def __repr__(self) -> str:
        return f"PromptTemplate(name={self.name!r}, static={self.is_static})"


@dataclass(frozen=True, slots=True)
class _Limits:
    """One template's limits, and its name for the messages."""

    name: str
    max_chars: int
    max_seconds: float
    max_range: int

    def refuse(self, what: str, option: str | None, fix: str) -> UserError:
        """The error for a limit `what` passed; `option` is the keyword that raises it."""
        if option is None:
            return UserError(f"the {self.name} template {what}: {fix}")
        return UserError(
            f"the {self.name} template {what}; the limit is {option}="
            f"{getattr(self, option):,}: {fix}, or raise it with "
            f"PromptTemplate(..., {option}=...)"
        )

    def check_size(self, value: object, what: str) -> None:
        """Refuse a string or container with more than `max_chars` items."""
        if isinstance(value, _SIZED) and len(value) > self.max_chars:
            raise self.refuse(f"built {what}, {len(value):,} long", "max_chars", "build less")

    def check_text(self, value: object, where: str) -> None:
        """Refuse to turn `value` into text that would be longer than `max_chars`."""
        if _text_size(value, self.max_chars) > self.max_chars:
            raise self.refuse(
                f"would print {_describe(value)} {where}, more than {self.max_chars:,} characters",
                "max_chars",
                "print less",
            )

    def check_grows(self, size: int, what: str) -> None:
        """Refuse an operation whose result would have `size` items."""
        if size > self.max_chars:
            raise self.refuse(f"would build {what}, {size:,} long", "max_chars", "build less")

    def check_int_bits(self, bits: int, what: str) -> None:
        """Refuse an integer result of about `bits` bits."""
        if bits > _MAX_INT_BITS:
            digits = math.floor(bits * math.log10(2)) + 1
            raise self.refuse(
                f"would compute {what}, a number of about {digits:,} digits; the limit is "
                f"{MAX_INT_DIGITS:,} digits",
                None,
                "use smaller numbers",
            )


class _Budget:
    """The clock of one render. It travels in that render's variables, under a name no
    template can write, so concurrent renders of one template never share it."""

    __slots__ = ("_deadline", "_limits")

    def __init__(self, limits: _Limits) -> None:
        self._limits = limits
        self._deadline = time.monotonic() + limits.max_seconds

    def tick(self) -> None:
        """Refuse to go on once the render has run for `max_seconds`."""
        if time.monotonic() > self._deadline:
            raise self._limits.refuse(
                f"ran for more than {self._limits.max_seconds:g} s",
                "max_seconds",
                "make its loops and recursion do less work",
            )


def _tick(context: jinja2.runtime.Context) -> None:
    budget = context.get(_BUDGET_KEY)
    if isinstance(budget, _Budget):  # absent only outside PromptTemplate.render
        budget.tick()


def _text_size(value: object, limit: int) -> int:
    """A lower bound on `len(str(value))`, or `limit + 1` as soon as it exceeds `limit`.

    Containers are walked once each (a list that holds the same list twice is counted twice
    but measured once), so nesting `[x, x]` forty times is sized at once instead of printed
    as a terabyte. The walk stops after `limit` items: each prints at least two characters.
    """
    sizes: dict[int, int] = {}
    items = 0

    def size(item: object) -> int:
        nonlocal items
        if isinstance(item, _TEXTS):
            return len(item)
        if isinstance(item, int):  # bool too; digits >= bits * log10(2), rounded down
            return (max(item.bit_length(), 1) - 1) * 3 // 10 + 1
        if not isinstance(item, _CONTAINERS):
            return 1  # another object's str() is its own business, and at least this long
        known = sizes.get(id(item))
        if known is not None:
            return known
        sizes[id(item)] = 5  # a container inside itself prints as [...]
        total = 2
        children = item.items() if isinstance(item, dict) else item
        for child in children:
            items += 1
            total += size(child) + 2
            if total > limit or 2 * items > limit:
                raise _Oversized
        sizes[id(item)] = total
        return total

    try:
        return size(value)
    except (_Oversized, RecursionError):
        return limit + 1


class _Oversized(Exception):
    """Internal: `_text_size` has seen enough."""


def _rational_bits(value: numbers.Rational) -> int:
    return max(abs(int(value.numerator)).bit_length(), int(value.denominator).bit_length())


def _describe(value: object) -> str:
    """`value` for a message, short: never the text of a huge number or string."""
    if isinstance(value, int) and value.bit_length() > 64:
        return f"<an integer of about {math.floor(value.bit_length() * math.log10(2)):,} digits>"
    if isinstance(value, _TEXTS):
        return f"<a {type(value).__name__} of {len(value):,} characters>"
    if isinstance(value, _SIZED):
        return f"<a {type(value).__name__} of {len(value):,} items>"
    text = repr(value)
    return text if len(text) <= 40 else f"<a {type(value).__name__}>"


def _check_binop(limits: _Limits, operator: str, left: Any, right: Any) -> None:
    """Refuse `left operator right` before it runs if its result would be too big."""
    exact = isinstance(left, numbers.Rational) and isinstance(right, numbers.Rational)
    left_is_int = isinstance(left, int)
    if operator == "**" and exact and isinstance(right, numbers.Integral):
        # An int to a negative power is a float; a Fraction's stays exact and grows.
        exponent = int(right) if left_is_int else abs(int(right))
        largest = max(abs(int(left.numerator)), int(left.denominator))
        if largest > 1 and exponent > 0:
            # log2(largest) >= 1, so a bigger exponent is refused without float arithmetic
            # (a float of 10**400 would overflow).
            bits = (
                exponent if exponent > _MAX_INT_BITS else math.ceil(exponent * math.log2(largest))
            )
            limits.check_int_bits(bits, f"`{_describe(left)} ** {_describe(right)}`")
    elif operator == "*" and exact:
        limits.check_int_bits(
            _rational_bits(left) + _rational_bits(right) - 1,
            f"`{_describe(left)} * {_describe(right)}`",
        )
    elif operator == "*" and isinstance(left, _SEQUENCES) and isinstance(right, int):
        limits.check_grows(len(left) * max(right, 0), f"a {type(left).__name__} with `*`")
    elif operator == "*" and isinstance(right, _SEQUENCES) and left_is_int:
        limits.check_grows(len(right) * max(left, 0), f"a {type(right).__name__} with `*`")
    elif operator == "+" and isinstance(left, _SEQUENCES) and isinstance(right, _SEQUENCES):
        limits.check_grows(len(left) + len(right), f"a {type(left).__name__} with `+`")
    elif operator == "%" and isinstance(left, str):
        limits.check_grows(_printf_size(limits, left, right), "a string with `%`")


def _printf_size(limits: _Limits, template: str, args: Any) -> int:
    """A lower bound on the length of `template % args`: its widths and what it prints."""
    size = len(template)
    positional = iter(args if isinstance(args, tuple) else (args,))
    for match in _PRINTF.finditer(template):
        if match["type"] == "%":
            continue
        if "*" in (match["width"], match["precision"]):
            raise limits.refuse(
                "uses a `*` width or precision in a % format", None, "write the number instead"
            )
        if match["key"] is not None:
            value = args.get(match["key"]) if isinstance(args, Mapping) else None
        else:
            value = next(positional, None)
        size += int(match["width"] or 0) + _text_size(value, limits.max_chars)
        if match["type"] not in "sra":  # the precision of a number is digits it prints
            size += int(match["precision"] or 0)
    return size


def _check_method(
    limits: _Limits, function: object, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[Any, ...]:
    """Refuse a call of a str/bytes/int method whose output an argument makes huge.

    Returns:
        The arguments to call it with (an iterable to join is read once, here).
    """
    if not isinstance(function, types.BuiltinMethodType):
        return args
    owner, name = function.__self__, function.__name__
    if isinstance(owner, int) and name == "to_bytes":
        length = args[0] if args else kwargs.get("length", 1)
        limits.check_grows(int(length), "bytes with to_bytes()")
    if not isinstance(owner, _TEXTS):
        return args
    text: Any = owner  # str, bytes or bytearray: the same methods, each with its own types
    what = f"a {type(owner).__name__} with {name}()"
    if name in ("center", "ljust", "rjust", "zfill") and args and isinstance(args[0], int):
        limits.check_grows(args[0], what)
    elif name == "expandtabs":
        tabsize = args[0] if args else kwargs.get("tabsize", 8)
        if isinstance(tabsize, int):
            tab = "\t" if isinstance(owner, str) else b"\t"
            limits.check_grows(len(owner) + text.count(tab) * tabsize, what)
    elif name == "replace" and len(args) >= 2 and isinstance(args[0], type(owner)):
        old, new = args[0], args[1]
        count = text.count(old)
        if len(args) > 2 and isinstance(args[2], int) and args[2] >= 0:
            count = min(count, args[2])
        limits.check_grows(len(owner) + count * (len(new) - len(old)), what)
    elif name == "join" and args:
        parts = list(args[0])
        joined = len(owner) * max(len(parts) - 1, 0)
        joined += sum(len(part) for part in parts if isinstance(part, _TEXTS))
        limits.check_grows(joined, what)
        return (parts, *args[1:])
    elif name == "translate" and args and isinstance(args[0], Mapping):
        longest = max((len(v) for v in args[0].values() if isinstance(v, str)), default=1)
        limits.check_grows(len(owner) * max(longest, 1), what)
    return args


def _compile(source: str, limits: _Limits) -> jinja2.Template:
    # Imported here: Jinja costs ~40 ms to import, and static instructions never need it.
    import jinja2
    from jinja2 import nodes

    environment = _environment(limits)
    try:
        tree = environment.parse(source)
    except jinja2.TemplateSyntaxError as exc:
        raise UserError(
            f"the {limits.name} template has a syntax error on line {exc.lineno}: {exc.message}"
        ) from exc
    except RecursionError as exc:
        raise UserError(f"the {limits.name} template is nested too deeply to compile") from exc
    # A loop step and a `~` call nothing the sandbox sees, so they get checks of their own:
    # each loop step ticks the clock, and each `~` operand is sized before it is printed.
    loops = list(tree.find_all(nodes.For))
    joins = list(tree.find_all(nodes.Concat))
    for loop in loops:
        loop.iter = nodes.Filter(loop.iter, _LOOP_GUARD, [], [], None, None, lineno=loop.lineno)
    for join in joins:
        join.nodes = [
            nodes.Filter(part, _TEXT_GUARD, [], [], None, None, lineno=join.lineno)
            for part in join.nodes
        ]
    tree.set_environment(environment)
    try:
        return environment.from_string(tree)
    except RecursionError as exc:
        raise UserError(f"the {limits.name} template is nested too deeply to compile") from exc


def _environment(limits: _Limits) -> jinja2.sandbox.ImmutableSandboxedEnvironment:
    """A sandbox of one template's own, bounded by `limits`.

    The class is made here, not at import, so that importing agentkit never imports Jinja.
    """
    import jinja2
    import jinja2.sandbox
    from jinja2.filters import make_attrgetter
    from jinja2.utils import generate_lorem_ipsum, pass_context
    from markupsafe import Markup

    class BoundedFormatter(jinja2.sandbox.SandboxedFormatter):
        """`str.format` that sizes each field before it is printed."""

        def __init__(self, env: jinja2.Environment, **kwargs: Any) -> None:
            super().__init__(env, **kwargs)
            self._size = 0

        def _grow(self, size: int) -> None:
            self._size += size
            limits.check_grows(self._size, "a string with format()")

        def convert_field(self, value: Any, conversion: str | None) -> Any:
            self._grow(_text_size(value, limits.max_chars))
            return super().convert_field(value, conversion)

        def format_field(self, value: Any, format_spec: str) -> Any:
            # A width or precision is at least that many characters (the fill may be a
            # digit, which only makes this count higher than it need be).
            self._grow(max((int(d) for d in _DIGITS.findall(format_spec)), default=0))
            return super().format_field(value, format_spec)

    class BoundedEscapeFormatter(BoundedFormatter, jinja2.sandbox.SandboxedEscapeFormatter):
        """The same, for `Markup.format` (a `|safe` string)."""

    class BoundedEnvironment(jinja2.sandbox.ImmutableSandboxedEnvironment):
        intercepted_binops = _BINOPS

        def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
            # The run's own objects (ctx, ctx.usage) are read-only to a template: none of
            # their methods is meant for one, and some change the run (usage.merge).
            if callable(value) and type(obj).__module__.startswith("agentkit."):
                return False
            return super().is_safe_attribute(obj, attr, value)

        def call_binop(
            self, context: jinja2.runtime.Context, operator: str, left: Any, right: Any
        ) -> Any:
            _tick(context)
            _check_binop(limits, operator, left, right)
            result = super().call_binop(context, operator, left, right)
            limits.check_size(result, f"a {type(result).__name__} with `{operator}`")
            if isinstance(result, int):  # `+` in a loop doubles too; caught before printing
                limits.check_int_bits(result.bit_length(), f"an integer with `{operator}`")
            return result

        def call(
            __self,  # Jinja's own spelling: no keyword argument of a call can clash with it
            __context: jinja2.runtime.Context,
            __obj: Any,
            *args: Any,
            **kwargs: Any,
        ) -> Any:
            _tick(__context)
            args = _check_method(limits, __obj, args, kwargs)
            result = super().call(__context, __obj, *args, **kwargs)
            limits.check_size(result, f"a {type(result).__name__} from a call")
            return result

        def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
            # Jinja's own wrapper, with a formatter that sizes what each field prints.
            if not isinstance(value, types.MethodType | types.BuiltinMethodType):
                return None
            if value.__name__ not in ("format", "format_map"):
                return None
            template = value.__self__
            if not isinstance(template, str):
                return None
            is_format_map = value.__name__ == "format_map"

            def wrapper(*args: Any, **kwargs: Any) -> str:
                if is_format_map:
                    if kwargs or len(args) != 1:
                        raise TypeError("format_map() takes exactly one positional argument")
                    kwargs, args = args[0], ()
                formatter: BoundedFormatter
                if isinstance(template, Markup):
                    formatter = BoundedEscapeFormatter(self, escape=template.escape)
                else:
                    formatter = BoundedFormatter(self)
                return type(template)(formatter.vformat(template, args, kwargs))

            return update_wrapper(wrapper, value)

        def concat(self, parts: Iterable[str]) -> str:
            # Joins what a macro, a `{% set %}` block or a `{% filter %}` block captured,
            # which never passes through the output count.
            parts = list(parts)
            limits.check_grows(sum(len(part) for part in parts), "a captured block of text")
            return "".join(parts)

    @pass_context
    def finalize(context: jinja2.runtime.Context, value: Any) -> Any:
        _tick(context)
        limits.check_text(value, "in {{ }}")
        return value

    environment = BoundedEnvironment(
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # instructions are plain text for a model, not HTML
        keep_trailing_newline=True,
        finalize=finalize,
    )

    def bounded_range(*args: int) -> range:
        items = range(*args)
        try:
            length = f"{len(items):,}" if len(items) > limits.max_range else None
        except OverflowError:  # more than sys.maxsize items
            length = "more than 2**63"
        if length is not None:
            raise limits.refuse(f"called range() for {length} items", "max_range", "loop over less")
        return items

    def bounded_lipsum(n: int = 5, html: bool = True, min: int = 20, max: int = 100) -> str:
        limits.check_grows(n * max * 12, "placeholder text with lipsum()")  # <= 12 chars a word
        return generate_lorem_ipsum(n, html, min, max)

    environment.globals["range"] = bounded_range
    environment.globals["lipsum"] = bounded_lipsum
    for name, function in list(environment.filters.items()):
        environment.filters[name] = _bounded_filter(limits, name, function, make_attrgetter)

    @pass_context
    def loop_guard(context: jinja2.runtime.Context, iterable: Iterable[Any]) -> Iterator[Any]:
        budget = context.get(_BUDGET_KEY)
        for item in iterable:
            if isinstance(budget, _Budget):
                budget.tick()
            yield item

    @pass_context
    def text_guard(context: jinja2.runtime.Context, value: Any) -> Any:
        _tick(context)
        limits.check_text(value, "with `~`")
        return value

    environment.filters[_LOOP_GUARD] = loop_guard
    environment.filters[_TEXT_GUARD] = text_guard
    return environment


def _bounded_filter(
    limits: _Limits,
    name: str,
    function: Callable[..., Any],
    attrgetter: Callable[..., Callable[[Any], Any]],
) -> Callable[..., Any]:
    """`function` (a built-in filter) with the clock, its input and its output checked.

    The wrapper always takes the context: that gives it the render's budget, and also stops
    Jinja from running the filter at compile time on constant arguments, where no limit
    would apply (`"a"|center(10**9)` would otherwise hang in `PromptTemplate(...)` itself).
    """
    from jinja2.utils import pass_context

    passes = getattr(getattr(function, "jinja_pass_arg", None), "name", None)
    signature = inspect.signature(function) if name in _FILTER_CHECKS else None
    # Jinja's async_variant filters (slice, join...) take an eval context in their wrapper
    # that the sync signature they report does not list; bind only what it lists.
    lists_first = signature is not None and next(iter(signature.parameters), "") in (
        "context", "eval_ctx", "environment",
    )  # fmt: skip

    @pass_context
    def bounded(context: jinja2.runtime.Context, value: Any, *args: Any, **kwargs: Any) -> Any:
        _tick(context)
        first: tuple[Any, ...] = ()
        if passes == "context":
            first = (context,)
        elif passes == "eval_context":
            first = (context.eval_ctx,)
        elif passes == "environment":
            first = (context.environment,)
        if name not in _STRUCTURAL_FILTERS:
            limits.check_text(value, f"with |{name}")
        if signature is not None:
            bound = signature.bind(*(first if lists_first else ()), value, *args, **kwargs)
            bound.apply_defaults()
            value = _FILTER_CHECKS[name](limits, bound.arguments, context, attrgetter)
            if value is _SUMMED:
                return _checked_sum(limits, context, bound.arguments, attrgetter)
        result = function(*first, value, *args, **kwargs)
        limits.check_size(result, f"a {type(result).__name__} with |{name}")
        return result

    return update_wrapper(bounded, function, updated=())


_SUMMED = object()  # returned by the `sum` check: compute it step by step instead

_FilterCheck = Callable[[_Limits, Mapping[str, Any], Any, Callable[..., Callable[[Any], Any]]], Any]


def _check_center(limits: _Limits, arguments: Mapping[str, Any], *_: Any) -> Any:
    if isinstance(arguments["width"], int):
        limits.check_grows(arguments["width"], "a string with |center")
    return arguments["value"]


def _check_indent(limits: _Limits, arguments: Mapping[str, Any], *_: Any) -> Any:
    text, width = arguments["s"], arguments["width"]
    if isinstance(text, str):
        step = len(width) if isinstance(width, str) else width if isinstance(width, int) else 0
        limits.check_grows(len(text) + (text.count("\n") + 1) * step, "a string with |indent")
    return text


def _check_format(limits: _Limits, arguments: Mapping[str, Any], *_: Any) -> Any:
    value = arguments["value"]
    args = arguments["kwargs"] or arguments["args"]
    if isinstance(value, str):
        limits.check_grows(_printf_size(limits, value, args), "a string with |format")
    return value


def _check_replace(limits: _Limits, arguments: Mapping[str, Any], *_: Any) -> Any:
    text, old, new, count = (arguments[key] for key in ("s", "old", "new", "count"))
    if isinstance(text, str) and isinstance(old, str) and isinstance(new, str):
        found = text.count(old)
        if isinstance(count, int) and count >= 0:
            found = min(found, count)
        limits.check_grows(len(text) + found * (len(new) - len(old)), "a string with |replace")
    return text


def _check_join(
    limits: _Limits,
    arguments: Mapping[str, Any],
    context: Any,
    attrgetter: Callable[..., Callable[[Any], Any]],
) -> Any:
    items = list(arguments["value"])
    separator, attribute = arguments["d"], arguments["attribute"]
    size = len(str(separator)) * max(len(items) - 1, 0)
    limits.check_grows(size, "a string with |join")
    get = attrgetter(context.environment, attribute) if attribute is not None else None
    for item in items:
        size += _text_size(get(item) if get else item, limits.max_chars)
        limits.check_grows(size, "a string with |join")
    return items


def _check_wordwrap(limits: _Limits, arguments: Mapping[str, Any], context: Any, *_: Any) -> Any:
    text, width, wrapstring = arguments["s"], arguments["width"], arguments["wrapstring"]
    if isinstance(text, str) and isinstance(width, int):
        wrap = context.environment.newline_sequence if wrapstring is None else str(wrapstring)
        lines = len(text) // max(width, 1) + text.count("\n") + 1
        limits.check_grows(len(text) + lines * len(wrap), "a string with |wordwrap")
    return text


def _check_batch(limits: _Limits, arguments: Mapping[str, Any], *_: Any) -> Any:
    if arguments["fill_with"] is not None and isinstance(arguments["linecount"], int):
        limits.check_grows(arguments["linecount"], "a batch with |batch")
    return arguments["value"]


def _check_slice(limits: _Limits, arguments: Mapping[str, Any], *_: Any) -> Any:
    if isinstance(arguments["slices"], int):
        limits.check_grows(arguments["slices"], "slices with |slice")
    return arguments["value"]


def _check_tojson(limits: _Limits, arguments: Mapping[str, Any], *_: Any) -> Any:
    indent = arguments["indent"]
    step = len(indent) if isinstance(indent, str) else indent if isinstance(indent, int) else 0
    if step > _MAX_JSON_INDENT:
        raise limits.refuse(
            f"indents JSON by {step:,} characters",
            None,
            f"use an indent of at most {_MAX_JSON_INDENT}",
        )
    return arguments["value"]


def _check_sum(limits: _Limits, arguments: Mapping[str, Any], *_: Any) -> Any:
    # Numbers sum in linear time; lists and strings are copied at every step, so a long
    # sum of them is quadratic, and is computed step by step against the clock instead.
    if isinstance(arguments["start"], numbers.Number):
        return arguments["iterable"]
    return _SUMMED


def _checked_sum(
    limits: _Limits,
    context: Any,
    arguments: Mapping[str, Any],
    attrgetter: Callable[..., Callable[[Any], Any]],
) -> Any:
    items: Iterable[Any] = arguments["iterable"]
    if arguments["attribute"] is not None:
        items = map(attrgetter(context.environment, arguments["attribute"]), items)
    total = arguments["start"]
    for item in items:
        _tick(context)
        _check_binop(limits, "+", total, item)
        total = total + item
    return total


_FILTER_CHECKS: dict[str, _FilterCheck] = {
    "batch": _check_batch,
    "center": _check_center,
    "format": _check_format,
    "indent": _check_indent,
    "join": _check_join,
    "replace": _check_replace,
    "slice": _check_slice,
    "sum": _check_sum,
    "tojson": _check_tojson,
    "wordwrap": _check_wordwrap,
}
