"""Guardrails: checks that stop a run whose input or output is not acceptable.

An input guardrail sees the run's prompt and runs *beside* the first model request, so a
passing check costs no latency; when one trips, the request is cancelled and the run raises
`InputGuardrailTripped` before any tool runs. An output guardrail sees the validated final
output; when one trips, the run raises `OutputGuardrailTripped` instead of returning it. Both
errors carry the run's state and conversation, like every error that ends a run.

A guardrail is a function `(ctx, value)` or `(value)`, sync or async, that returns a
`GuardrailResult`, a bool (True trips it) or None (passes); or an `Agent` whose
`output_type` is `GuardrailResult` or `bool`, which is run on the value (its usage adds to
the run's).
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pydantic

from .errors import ConfigurationError

if TYPE_CHECKING:
    from .context import RunContext

__all__ = [
    "GuardrailResult",
    "InputGuardrail",
    "OutputGuardrail",
    "as_guardrails",
    "prompt_text",
]


class GuardrailResult(pydantic.BaseModel):
    """What a guardrail concluded; also the `output_type` of an agent that is a guardrail.

    Attributes:
        tripped: Whether the value must stop the run.
        reason: Why, in a sentence (it goes into the error's message).
        info: Anything else worth keeping (scores, categories); on the error as `result.info`.
    """

    model_config = pydantic.ConfigDict(defer_build=True)  # the schema is built on first use

    tripped: bool
    reason: str = ""
    info: Any = None


class _Guardrail:
    kind = "guardrail"

    def __init__(self, check: Any, *, name: str | None = None) -> None:
        self.check = check
        self.is_agent = _is_agent(check)
        if self.is_agent:
            output = getattr(check, "output_type", None)
            if output is not bool and output is not GuardrailResult:
                raise ConfigurationError(
                    f"an agent used as a {self.kind} needs output_type=GuardrailResult or bool, "
                    f"not {getattr(output, '__name__', output)!r}"
                )
            self.name = name or getattr(check, "name", None) or "agent"
            self.takes_context = False
        elif callable(check):
            self.name = name or getattr(check, "__name__", None) or type(check).__name__
            try:
                parameters = [
                    p for p in inspect.signature(check).parameters.values()
                    if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
                ]
            except (TypeError, ValueError):
                parameters = []
            self.takes_context = len(parameters) >= 2
        else:
            raise ConfigurationError(
                f"a {self.kind} is a function (ctx, value) -> GuardrailResult | bool | None, or "
                f"an Agent; got {type(check).__name__}"
            )

    async def run(self, ctx: RunContext[Any], value: Any) -> GuardrailResult:
        """Check `value`; the result says whether it trips."""
        if self.is_agent:
            text = value if isinstance(value, str) else _as_text(value)
            result = await self.check.run(text, deps=ctx.deps)
            ctx.usage.merge(result.usage)
            verdict: Any = result.output
        else:
            verdict = self.check(ctx, value) if self.takes_context else self.check(value)
            if inspect.isawaitable(verdict):
                verdict = await verdict
        if verdict is None or verdict is False:
            return GuardrailResult(tripped=False)
        if verdict is True:
            return GuardrailResult(tripped=True)
        if isinstance(verdict, GuardrailResult):
            return verdict
        raise ConfigurationError(
            f"{self.kind} {self.name!r} returned {type(verdict).__name__}; return a "
            "GuardrailResult, a bool (True trips it) or None"
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


class InputGuardrail(_Guardrail):
    """A check on the run's prompt (its text, for a prompt with images), beside the first
    request.

    Args:
        check: `(ctx, prompt) -> GuardrailResult | bool | None` (sync or async), or an Agent.
        name: For messages; default the function's (or agent's) name.
    """

    kind = "input guardrail"


class OutputGuardrail(_Guardrail):
    """A check on the validated final output, before the run returns it.

    Args:
        check: `(ctx, output) -> GuardrailResult | bool | None` (sync or async), or an Agent
            (given the output as text, or as JSON for a structured one).
        name: For messages; default the function's (or agent's) name.
    """

    kind = "output guardrail"


def as_guardrails(
    items: Sequence[Any], cls: type[InputGuardrail] | type[OutputGuardrail]
) -> tuple[Any, ...]:
    """`items` as guardrails of `cls`: functions and agents are wrapped, guardrails kept."""
    if isinstance(items, str | bytes) or not isinstance(items, Sequence):
        raise ConfigurationError(f"{cls.kind}s must be a list, not {type(items).__name__}")
    wrapped: list[Any] = []
    for item in items:
        if isinstance(item, _Guardrail):
            if not isinstance(item, cls):
                raise ConfigurationError(f"{item!r} is not an {cls.kind}")
            wrapped.append(item)
        else:
            wrapped.append(cls(item))
    return tuple(wrapped)


def prompt_text(messages: Sequence[Mapping[str, Any]]) -> str:
    """The text of the last user message: what an input guardrail checks."""
    for message in reversed(messages):
        if message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            return content
        if isinstance(content, list):
            return "\n".join(
                str(part.get("text", "")) for part in content
                if isinstance(part, Mapping) and part.get("type") == "text"
            )
        return ""
    return ""


def _is_agent(value: Any) -> bool:
    return callable(getattr(value, "run", None)) and hasattr(value, "output_type")


def _as_text(value: Any) -> str:
    if isinstance(value, pydantic.BaseModel):
        return value.model_dump_json()
    try:
        return json.dumps(pydantic.TypeAdapter(type(value)).dump_python(value, mode="json"))
    except (pydantic.PydanticSchemaGenerationError, TypeError, ValueError):
        return str(value)

