"""Instructions as Jinja2 templates, rendered per run in a sandbox. No I/O.

A template sees `deps`, `ctx` (the `RunContext`), `model`, `now` (an aware datetime) and
`today` (ISO date). Undefined names fail loudly (`StrictUndefined`) rather than rendering as
empty text, and templates run in Jinja's `SandboxedEnvironment`, so a template that came from
a file cannot reach into Python's internals. Text without template syntax is never handed to
Jinja (and Jinja is not even imported for it).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .errors import UserError

if TYPE_CHECKING:
    import jinja2

    from .context import RunContext

__all__ = ["PromptTemplate", "template_variables"]

_MARKERS = ("{{", "{%", "{#")


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

    Raises:
        UserError: The template has a syntax error.
    """

    __slots__ = ("_template", "name", "source")

    def __init__(self, source: str, *, name: str = "instructions") -> None:
        self.source = source
        self.name = name
        self._template: jinja2.Template | None = None
        if any(marker in source for marker in _MARKERS):
            self._template = _compile(source, name)

    @property
    def is_static(self) -> bool:
        """Whether the text has no template syntax and renders as itself."""
        return self._template is None

    def render(self, variables: Mapping[str, Any]) -> str:
        """Render with `variables`.

        Raises:
            UserError: The template uses a name that is not defined, or does something the
                sandbox forbids; the message names the variable.
        """
        if self._template is None:
            return self.source
        import jinja2

        try:
            return self._template.render(variables)
        except jinja2.UndefinedError as exc:
            raise UserError(
                f"the {self.name} template uses an undefined variable: {exc.message}; "
                f"a template can use {', '.join(sorted(variables))}, and attributes of deps "
                "(pass deps=... to run())"
            ) from exc
        except jinja2.exceptions.SecurityError as exc:
            raise UserError(f"the {self.name} template did something unsafe: {exc}") from exc

    def __repr__(self) -> str:
        return f"PromptTemplate(name={self.name!r}, static={self.is_static})"


def _compile(source: str, name: str) -> jinja2.Template:
    # Imported here: Jinja costs ~40 ms to import, and static instructions never need it.
    import jinja2
    import jinja2.sandbox

    environment = jinja2.sandbox.SandboxedEnvironment(
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # instructions are plain text for a model, not HTML
        keep_trailing_newline=True,
    )
    try:
        return environment.from_string(source)
    except jinja2.TemplateSyntaxError as exc:
        raise UserError(
            f"the {name} template has a syntax error on line {exc.lineno}: {exc.message}"
        ) from exc
