"""Abusive instructions templates: each is refused quickly, by name, and changes nothing.

A template may be built from data a user supplied, so every class of abuse below must fail
with a `UserError` that names the template and the limit, in well under the 5 s asserted
here (the bound is loose so a slow CI box never flakes; a regression would take minutes),
and must leave `deps` exactly as it was.
"""

from __future__ import annotations

import copy
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from agentkit.context import RunContext
from agentkit.errors import ConfigurationError, UserError
from agentkit.prompts import (
    MAX_OUTPUT_CHARS,
    MAX_RANGE,
    MAX_SECONDS,
    PromptTemplate,
    template_variables,
)

NOW = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
BOUND = 5.0  # seconds: loose, so it never flakes, and far below "minutes"
FAST = 0.2  # max_seconds for the tests that run into the deadline, to keep the suite quick


def _deps() -> dict[str, Any]:
    return {
        "name": "Ann",
        "tags": ["a", "b"],
        "items": [1, 2],
        "seen": {1, 2},
        "nested": {"k": ["v"]},
    }


def _variables(deps: object = None) -> dict[str, Any]:
    return template_variables(RunContext(deps=deps, model="grok-4"), now=NOW)


def _refused(source: str, match: str, deps: object = None, **limits: Any) -> UserError:
    """Render `source`; assert it fails fast with a UserError naming the template."""
    template = PromptTemplate(source, name="abuse.j2", **limits)
    started = time.perf_counter()
    with pytest.raises(UserError, match=match) as info:
        template.render(_variables(deps))
    assert time.perf_counter() - started < BOUND
    assert "the abuse.j2 template" in str(info.value)
    return info.value


# -- string and list repetition ------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        '{{ "a" * 10**9 }}',
        '{{ "ab" * 1000000000 }}',
        '{{ 10**9 * "a" }}',
        '{{ "x" * 10**20 }}',
        "{{ [0] * 10**8 }}",
        "{{ (1, 2) * 10**8 }}",
        '{{ ("a" ~ "b") * 10**7 }}',
        "{{ deps.name * 10**9 }}",
    ],
)
def test_repetition_is_bounded(source: str) -> None:
    error = _refused(source, r"with `\*`, [\d,]+ long; the limit is max_chars=1,000,000", _deps())
    assert "PromptTemplate(..., max_chars=...)" in str(error)


@pytest.mark.parametrize(
    "step",
    ["ns.s ~ ns.s", "ns.s + ns.s", "[ns.s, ns.s]"],
    ids=["concat", "plus", "nested-lists"],
)
def test_doubling_in_a_loop_is_bounded(step: str) -> None:
    # Sixty doublings of a short string is an exabyte; each step is small, so the limit must
    # apply to what is built (`+`, `~`) or printed (a list holding itself twice, 60 deep).
    source = (
        '{% set ns = namespace(s="ab") %}{% for i in range(60) %}'
        f"{{% set ns.s = {step} %}}{{% endfor %}}{{{{ ns.s }}}}"
    )
    _refused(source, "the limit is max_chars=1,000,000")


@pytest.mark.parametrize(
    "printer",
    ["{{ ns.x }}", "{{ ns.x|string }}", "{{ ns.x|tojson }}", "{{ ns.x|pprint }}",
     '{{ "%s" % (ns.x,) }}', '{{ "{}".format(ns.x) }}', '{{ "{0!r}".format(ns.x) }}',
     '{{ ns.x ~ "" }}', "{{ [ns.x]|join }}", '{{ "%s"|format(ns.x) }}'],
)  # fmt: skip
def test_printing_a_structure_that_repeats_itself_is_sized_first(printer: str) -> None:
    # ns.x is 2**40 copies of "aaaaaaaa" by reference: tiny in memory, 8 TB as text.
    source = (
        '{% set ns = namespace(x="aaaaaaaa") %}{% for i in range(40) %}'
        "{% set ns.x = [ns.x, ns.x] %}{% endfor %}" + printer
    )
    _refused(source, "the limit is max_chars=1,000,000")


def test_joining_many_references_to_a_big_string_is_bounded() -> None:
    big = '{% set b = "x" * 1000000 %}'
    _refused(big + "{{ ([b] * 1000000)|join }}", "with |join")
    _refused(big + '{{ ([b] * 1000000)|join("") }}', "with |join")
    _refused(big + '{{ "".join([b] * 1000000) }}', r"with join\(\)")
    _refused(big + '{{ ",".join(range(10000)|map("string")) * 1000 }}', r"`\*`")


# -- powers and big integers ----------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        "{{ 9 ** (9 ** 9) }}",
        "{{ 2 ** 100000 }}",
        "{{ 10 ** 4300 }}",
        "{{ 3 ** 14000 }}",
        "{{ (-7) ** (10**18) }}",  # Jinja's ** is left-associative: brackets needed
        "{{ (10 ** 4000) * (10 ** 4000) }}",
        "{% set ns = namespace(x=3) %}{% for i in range(40) %}{% set ns.x = ns.x * ns.x %}"
        "{% endfor %}{{ ns.x }}",
        "{% set ns = namespace(x=1) %}{% for i in range(2) %}{% for j in range(10000) %}"
        "{% set ns.x = ns.x + ns.x %}{% endfor %}{% endfor %}{{ ns.x }}",
    ],
)
def test_integer_growth_is_bounded(source: str) -> None:
    _refused(source, "the limit is 4,300 digits: use smaller numbers")


@pytest.mark.parametrize(
    ("source", "match"),
    [
        ("{{ 2.0 ** 100000 }}", "failed on arithmetic: .*OverflowError"),
        ("{{ 1.5 ** 10**400 }}", "failed on arithmetic: .*OverflowError"),
        ("{{ 1 / 0 }}", "failed on arithmetic: division by zero"),
        ("{{ 5 // 0 }}", "failed on arithmetic: .*division"),
        ("{{ 10**400 / 3 }}", "failed on arithmetic: .*OverflowError"),
    ],
)
def test_float_errors_are_user_errors(source: str, match: str) -> None:
    _refused(source, match)


def test_harmless_powers_still_work() -> None:
    assert PromptTemplate("{{ 2 ** 10 }} {{ (-1) ** 10**100 }}").render({}) == "1024 1"
    assert PromptTemplate("{{ 9 ** 9 ** 9 }}").render({}) == str((9**9) ** 9)  # left-assoc
    assert len(PromptTemplate("{{ 10 ** 4299 }}").render({})) == 4300
    assert PromptTemplate("{{ 2 ** -1000000000 }}").render({}) == "0.0"


# -- range() and loops ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        "{% for i in range(10**6) %}{% for j in range(10**6) %}{% endfor %}{% endfor %}",
        "{% for i in range(10**20) %}{% endfor %}",
        "{{ range(0, 10**9, 2)|list|length }}",
        "{{ range(10001)|length }}",
    ],
)
def test_range_is_bounded(source: str) -> None:
    error = _refused(source, r"called range\(\) for .* items; the limit is max_range=10,000")
    assert "PromptTemplate(..., max_range=...)" in str(error)


def test_range_up_to_the_limit_works_and_the_limit_is_configurable() -> None:
    assert PromptTemplate("{{ range(10000)|length }}").render({}) == str(MAX_RANGE)
    assert PromptTemplate("{{ range(20000)|length }}", max_range=20000).render({}) == "20000"
    with pytest.raises(UserError, match="max_range=5"):
        PromptTemplate("{{ range(6)|list }}", max_range=5).render({})


@pytest.mark.parametrize(
    "source",
    [
        "{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}",
        '{% set s = "x" * 100000 %}{% for a in s %}{% for b in s %}{% endfor %}{% endfor %}',
        "{% for i in range(10000) %}{% for j in range(10000) %}{{ loop.index if false }}"
        "{% endfor %}{% endfor %}",
        "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}"
        "{{ f(40) }}",
        "{% for i in range(10000) recursive %}{{ loop(range(10000)) if loop.depth < 3 }}"
        "{% endfor %}",
        "{{ (range(1000)|list * 100)|batch(1)|list|sum(start=[])|length }}",
        '{% macro m() %}{% for i in range(10000) %}{{ "x" * 1000000 }}{% endfor %}'
        "{% endmacro %}{{ m()|length }}",
    ],
    ids=["ranges", "strings", "loop-var", "macro", "recursive-loop", "sum-lists", "macro-big"],
)
def test_long_running_templates_hit_the_deadline(source: str) -> None:
    started = time.perf_counter()
    error = _refused(
        source, r"ran for more than 0.2 s; the limit is max_seconds=0.2", max_seconds=FAST
    )
    assert "PromptTemplate(..., max_seconds=...)" in str(error)
    assert time.perf_counter() - started < 2.0  # stopped at the deadline, not much after


def test_the_default_deadline_is_one_second() -> None:
    assert MAX_SECONDS == 1.0
    started = time.perf_counter()
    _refused(
        "{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}",
        "ran for more than 1 s",
    )
    assert 0.9 < time.perf_counter() - started < BOUND


def test_endless_recursion_is_a_user_error() -> None:
    _refused("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", "recursed too deeply")
    _refused("{% block b %}{{ self.b() }}{% endblock %}", "recursed too deeply")


# -- the size of the output, and of captured blocks -----------------------------------------


@pytest.mark.parametrize(
    ("source", "match"),
    [
        ('{% for i in range(10000) %}{{ "x" * 1000 }}{% endfor %}', "rendered more than"),
        ('{% set b = "x" * 1000000 %}{% for i in range(10000) %}{{ b }}{% endfor %}', "rendered"),
        ('{{ "x" * 1000000 ~ "x" }}', "more than 1,000,000 characters"),
        ('{% set x %}{% for i in range(100) %}{{ "x" * 100000 }}{% endfor %}{% endset %}{{ x|length }}',
         "captured block"),
        ('{% filter upper %}{% for i in range(100) %}{{ "x" * 100000 }}{% endfor %}{% endfilter %}',
         "captured block"),
        ('{% macro m() %}{% for i in range(100) %}{{ "y" * 100000 }}{% endfor %}{% endmacro %}{{ m()|length }}',
         "captured block"),
    ],
)  # fmt: skip
def test_output_and_captured_text_are_bounded(source: str, match: str) -> None:
    _refused(source, match)


def test_the_output_limit_is_exact_and_configurable() -> None:
    assert MAX_OUTPUT_CHARS == 1_000_000
    assert len(PromptTemplate('{{ "x" * 1000000 }}').render({})) == 1_000_000
    assert PromptTemplate('{{ "x" * 10 }}', max_chars=10).render({}) == "x" * 10
    with pytest.raises(UserError, match="max_chars=10"):
        PromptTemplate('{{ "x" * 11 }}', max_chars=10).render({})
    with pytest.raises(UserError, match="rendered more than 10 characters"):
        PromptTemplate("{% for i in range(11) %}x{% endfor %}", max_chars=10).render({})


# -- filters and methods whose output an argument makes huge --------------------------------


@pytest.mark.parametrize(
    "source",
    [
        '{{ "a"|center(1000000000) }}',
        '{{ "a".center(1000000000) }}',
        '{{ "a".ljust(10**9) }}',
        '{{ "a".rjust(10**9) }}',
        '{{ "1".zfill(10**9) }}',
        '{{ "{:>1000000000}".format(1) }}',
        '{{ "{:>{w}}".format(1, w=10**9) }}',
        '{{ "{x:.1000000000f}".format_map({"x": 1.5}) }}',
        '{{ "%1000000000d" % 1 }}',
        '{{ "%(a).1000000000f" % {"a": 1.5} }}',
        '{{ "%1000000000d"|format(1) }}',
        '{{ "x\n"|indent(10**9) }}',
        '{{ ("x\n" * 1000)|indent("y" * 10000) }}',
        '{% set s = "x" * 100000 %}{{ s|replace("", s) }}',
        '{% set s = "x" * 100000 %}{{ s.replace("", s) }}',
        '{{ "\t".expandtabs(10**9) }}',
        '{{ (1).to_bytes(10**9, "big") }}',
        "{{ [1]|batch(10**9, 0)|list }}",
        "{{ [1]|slice(10**9)|list|length }}",
        '{{ ("a " * 100000)|wordwrap(1, wrapstring="x" * 100) }}',
        "{{ lipsum(100000) }}",
        '{{ "ab".translate({97: "x" * 1000000}) }}',
        "{{ now.strftime('%c' * 100000) }}",
    ],
)
def test_amplifying_filters_and_methods_are_bounded(source: str) -> None:
    _refused(source, r"1,000,000")


@pytest.mark.parametrize(
    ("source", "match"),
    [
        ('{{ "%*d" % (10**9, 1) }}', "a `\\*` width"),
        ("{{ deps|tojson(10**9) }}", "indents JSON by 1,000,000,000 characters"),
        ('{{ deps|tojson("x" * 100) }}', "at most 32"),
    ],
)
def test_format_stars_and_huge_json_indents_are_refused(source: str, match: str) -> None:
    _refused(source, match, _deps())


def test_compiling_never_runs_the_work() -> None:
    # Jinja folds constant expressions at compile time, where no render limit applies; the
    # bounded filters and operators are never folded, so construction stays instant.
    started = time.perf_counter()
    for source in ['{{ "a"|center(1000000000) }}', '{{ "a" * 10**9 }}', "{{ 9 ** (9 ** 9) }}",
                   '{{ ("x" * 100000)|replace("", "y" * 100000) }}']:  # fmt: skip
        PromptTemplate(source)
    assert time.perf_counter() - started < BOUND


# -- deps (and ctx) cannot be changed -------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        '{{ deps.update({"x": 1}) }}',
        '{{ deps.pop("name") }}',
        '{{ deps.setdefault("y", 2) }}',
        "{{ deps.clear() }}",
        "{{ deps.popitem() }}",
        '{{ deps["tags"].append(1) }}',
        '{{ deps["tags"].extend([1]) }}',
        '{{ deps["tags"].insert(0, 1) }}',
        '{{ deps["tags"].remove("a") }}',
        '{{ deps["tags"].pop() }}',
        '{{ deps["tags"].sort() }}',
        '{{ deps["tags"].reverse() }}',
        "{{ deps.items.append(1) }}",
        '{{ deps["items"].append(1) }}',
        '{{ deps["seen"].add(3) }}',
        '{{ deps["seen"].discard(1) }}',
        '{{ deps["nested"]["k"].append("w") }}',
        '{{ deps["nested"].update(k=2) }}',
        '{{ (deps|attr("update"))({"x": 1}) }}',
        '{{ deps.__setitem__("x", 1) }}',
        '{% set deps.name = "Bob" %}',
        '{{ deps.tags|map("append")|list }}',
    ],
)
def test_dict_deps_cannot_be_mutated(source: str) -> None:
    deps = _deps()
    before = copy.deepcopy(deps)
    _refused(source, "unsafe|undefined|cannot assign|No filter", deps)
    assert deps == before


@dataclass
class Profile:
    name: str = "Ann"
    items: list[str] = field(default_factory=lambda: ["x"])
    scores: dict[str, int] = field(default_factory=lambda: {"a": 1})


@pytest.mark.parametrize(
    "source",
    [
        '{{ deps.items.append("y") }}',
        "{{ deps.items.clear() }}",
        '{{ deps.scores.update({"b": 2}) }}',
        '{{ deps.scores.pop("a") }}',
        '{% set deps.name = "Bob" %}',
        '{{ deps.__setattr__("name", "Bob") }}',
    ],
)
def test_object_deps_cannot_be_mutated(source: str) -> None:
    deps = Profile()
    before = copy.deepcopy(deps)
    _refused(source, "unsafe|cannot assign", deps)
    assert deps == before


@pytest.mark.parametrize(
    "source",
    [
        "{{ ctx.usage.merge(ctx.usage) }}",
        "{{ ctx.usage.add_response(none) }}",
        "{{ ctx.messages.append({}) }}",
        "{{ ctx.sub_results.clear() }}",
    ],
)
def test_the_run_context_cannot_be_mutated(source: str) -> None:
    ctx = RunContext(deps=_deps(), model="grok-4")
    ctx.usage.requests = 3
    before = (copy.deepcopy(ctx.usage), list(ctx.messages), dict(ctx.sub_results))
    template = PromptTemplate(source, name="abuse.j2")
    with pytest.raises(UserError, match="unsafe"):
        template.render(template_variables(ctx, now=NOW))
    assert (ctx.usage, ctx.messages, ctx.sub_results) == before


# -- what a template may still do ------------------------------------------------------------


def test_ordinary_templates_render_as_plain_jinja_would() -> None:
    import jinja2
    import jinja2.sandbox

    plain = jinja2.sandbox.ImmutableSandboxedEnvironment(
        undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=True
    )
    deps = Profile()
    sources = [
        "{% for t in deps.items %}{{ loop.index }}/{{ loop.length }} {{ t }}{% else %}-{% endfor %}",
        "{% macro row(a, b=2) %}<{{ a }}|{{ b }}>{% endmacro %}{{ row(1) }}{{ row('x', b=3) }}",
        "{% macro w() %}[{{ caller() }}]{% endmacro %}{% call w() %}in {{ deps.name }}{% endcall %}",
        "{{ deps.items|join(', ') }} {{ deps.scores|dictsort }} {{ deps.scores|tojson(2) }}",
        "{{ '%s is %05.1f'|format('x', 2.25) }} {{ '%(a)s%%' % {'a': 5} }} {{ '{:>4}'.format(7) }}",
        "{{ 'a\nb'|indent(2, first=True) }} {{ 'the quick brown fox'|wordwrap(5) }}",
        "{{ 'abc'|replace('b', 'BB') }} {{ 'x'|center(5) }}| {{ 'ab' * 3 }} {{ [1] + [2] }}",
        "{{ deps.name ~ '-' ~ 3 ~ deps.items }} {{ 2 ** 10 }} {{ 7 // 2 }} {{ 7 % 3 }}",
        "{% set x %}cap {{ deps.name }}{% endset %}{{ x|upper }}{% filter lower %}AB{% endfilter %}",
        "{{ range(3)|list }} {{ range(5)|sum }} {{ [[1], [2]]|sum(start=[]) }} {{ deps }}",
        "{% set ns = namespace(t=0) %}{% for i in range(4) %}{% set ns.t = ns.t + i %}"
        "{% endfor %}{{ ns.t }} {{ today }} {{ now.strftime('%Y') }} {{ model }}",
    ]
    for source in sources:
        variables = _variables(deps)
        expected = plain.from_string(source).render(variables)
        assert PromptTemplate(source).render(variables) == expected, source


def test_concurrent_renders_have_their_own_budget() -> None:
    # The deadline lives in each render's variables, so one slow render cannot make another
    # (of the same template, in another thread) fail.
    template = PromptTemplate(
        "{% for i in range(deps) %}{% for j in range(deps) %}{% endfor %}{% endfor %}ok",
        max_seconds=0.5,  # room for the fast renders to wait for the GIL on a busy machine
    )
    results: dict[str, str] = {}

    def render(label: str, size: int) -> None:
        try:
            results[label] = template.render(_variables(size))
        except UserError as error:
            results[label] = str(error)

    threads = [threading.Thread(target=render, args=("slow", 10000))]
    threads += [threading.Thread(target=render, args=(f"fast{i}", 10)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(BOUND)
    assert "ran for more than" in results["slow"]
    assert all(results[f"fast{i}"] == "ok" for i in range(4))


@pytest.mark.parametrize(
    "limits",
    [{"max_chars": 0}, {"max_seconds": -1}, {"max_range": True}, {"max_chars": "10"}],
)
def test_limits_must_be_positive_numbers(limits: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError, match="must be a positive number"):
        PromptTemplate("{{ x }}", **limits)


def test_an_agent_takes_a_template_with_its_own_limits() -> None:
    from agentkit import Agent, PromptTemplate
    from agentkit.testing import ScriptedModel

    source = "{% for i in range(deps.n) %}x{% endfor %}"
    model = ScriptedModel(["done", "done"])
    roomy = Agent("grok-4", instructions=PromptTemplate(source, max_range=20_000), client=model)
    assert roomy.run_sync("go", deps={"n": 15_000}).output == "done"
    assert model.requests[0]["messages"][0]["content"] == "x" * 15_000

    strict = Agent("grok-4", instructions=PromptTemplate(source, max_range=10), client=model)
    with pytest.raises(UserError, match=r"max_range=10\b"):
        strict.run_sync("go", deps={"n": 11})
