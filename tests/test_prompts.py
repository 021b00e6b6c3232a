"""Instructions templates: Jinja2 in a sandbox, undefined names fail loudly."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from agentkit.context import RunContext
from agentkit.errors import UserError
from agentkit.prompts import PromptTemplate, template_variables

NOW = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def _variables(deps: object = None) -> dict[str, object]:
    return template_variables(RunContext(deps=deps, model="grok-4"), now=NOW)


def test_static_text_is_not_a_template() -> None:
    template = PromptTemplate("Plain text, with {braces} and 100% fine.")
    assert template.is_static
    assert template.render({}) == "Plain text, with {braces} and 100% fine."


def test_variables() -> None:
    template = PromptTemplate(
        "{{ today }} {{ now.hour }} {{ model }} {{ deps.name }} {{ ctx.model }}\n"
    )
    assert not template.is_static
    rendered = template.render(_variables({"name": "Ann"}))
    assert rendered == "2026-03-01 9 grok-4 Ann grok-4\n"


def test_undefined_variable_is_named() -> None:
    template = PromptTemplate("Hello {{ user }}", name="system.j2")
    with pytest.raises(UserError, match="'user' is undefined") as info:
        template.render(_variables())
    assert "system.j2" in str(info.value)
    with pytest.raises(UserError, match="name"):
        PromptTemplate("{{ deps.name }}").render(_variables({}))


def test_sandbox() -> None:
    template = PromptTemplate("{{ deps.__class__.__subclasses__() }}")
    with pytest.raises(UserError):
        template.render(_variables(1))


def test_syntax_error_at_compile_time() -> None:
    with pytest.raises(UserError, match="line 2"):
        PromptTemplate("ok\n{% for %}")


def test_control_flow() -> None:
    template = PromptTemplate("{% for t in deps %}- {{ t }}\n{% endfor %}")
    assert template.render(_variables(["a", "b"])) == "- a\n- b\n"
