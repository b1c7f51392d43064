"""The template sandbox: data only, strict about missing variables, bounded in what it
builds, and exact about where a template is wrong."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.templates import engine
from gateway.templates.errors import MissingVariable, RenderFailed, TemplateInvalid

JAMIE = {
    "contact": {"number": "+447700900123", "name": "Jamie Lee", "first_name": "Jamie"},
    "conversation": {"id": 7, "context": {"order_id": "4839201"}},
    "context": {"order_id": "4839201", "items": ["tea", "cups"]},
}
NOBODY = {"contact": {"number": "+447700900123"}, "conversation": {"context": {}}}


def test_personalisation_renders() -> None:
    text = engine.render(
        'Hi {{ contact.first_name | default("there") }}, order '
        "{{ conversation.context.order_id }} is on its way.",
        JAMIE,
    )
    assert text == "Hi Jamie, order 4839201 is on its way."


def test_default_fills_a_missing_name() -> None:
    text = engine.render('Hi {{ contact.first_name | default("there") }}!', NOBODY)
    assert text == "Hi there!"


@pytest.mark.parametrize(
    ("source", "variable"),
    [
        ("Hi {{ contact.first_name }}", "contact.first_name"),
        ("Order {{ conversation.context.order_id }}", "conversation.context.order_id"),
        ("{{ context.slot.time }}", "context.slot"),
        ("{{ agent.name }}", "agent"),
        ("{% if contact.first_name %}x{% endif %}", "contact.first_name"),
        ("{{ context.items[5] }}", "context.items[5]"),
    ],
)
def test_a_missing_variable_is_an_error_naming_it(source: str, variable: str) -> None:
    variables = {**NOBODY, "context": {"items": ["a"]}}
    with pytest.raises(MissingVariable) as caught:
        engine.render(source, variables)
    assert caught.value.variable == variable
    assert variable in str(caught.value)


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ contact.__class__ }}",
        "{{ contact['__class__'] }}",
        "{{ contact._private }}",
    ],
)
def test_attribute_escapes_are_refused(source: str) -> None:
    with pytest.raises((TemplateInvalid, RenderFailed)):
        engine.render(source, JAMIE)


@pytest.mark.parametrize(
    "source",
    [
        "{{ contact.number.upper }}",  # a method is not data
        "{{ context['__class__'] | default('x') }}",
        "{{ context.items.append }}",
        "{{ 'x' * 100000 }}",
        "{{ 9 ** 9999 }}",
        "{{ '%s' % contact.number }}",
        "{{ context.big | replace('y', context.big) }}",  # grows past the bound
        "{{ context.big | replace('y', context.big) | length }}",
    ],
)
def test_the_sandbox_refuses_at_render(source: str) -> None:
    variables = {**JAMIE, "context": {"items": [], "big": "y" * 100}}
    with pytest.raises((RenderFailed, MissingVariable)):
        engine.render(source, variables)


@pytest.mark.parametrize(
    ("source", "what"),
    [
        ("{{ range(10) }}", "calling"),
        ("{{ lipsum() }}", "calling"),
        ("{{ contact.number.upper() }}", "calling"),
        ("{% set x = 1 %}", "set"),
        ("{% macro m() %}{% endmacro %}", "macro"),
        ("{% include 'x' %}", "include"),
        ("{{ contact.name | center(100000) }}", "filter 'center'"),
        ("{{ contact.name | format(1) }}", "filter 'format'"),
        ("{{ os.system }}", "unknown variable 'os'"),
        (
            "{% for a in context.items %}{% for b in context.items %}{% endfor %}"
            "{% endfor %}",
            "nested",
        ),
        ("{{ contact.number is callable }}", "test 'callable'"),
    ],
)
def test_what_templates_may_not_say_is_refused_when_checked(
    source: str, what: str
) -> None:
    with pytest.raises(TemplateInvalid) as caught:
        engine.check(source)
    assert what in str(caught.value)


def test_syntax_errors_name_line_and_column() -> None:
    source = "Hello {{ contact.first_name }}\nYour order {{ context.order_id }"
    with pytest.raises(TemplateInvalid) as caught:
        engine.check(source)
    # the stray "}" closing the second expression
    assert (caught.value.line, caught.value.column) == (2, 32)
    assert "line 2, column 32" in str(caught.value)


def test_an_unknown_variable_is_located() -> None:
    with pytest.raises(TemplateInvalid) as caught:
        engine.check("Line one\n  and {{ customer.name }}")
    assert (caught.value.line, caught.value.column) == (2, 10)


def test_an_unclosed_block_is_reported() -> None:
    with pytest.raises(TemplateInvalid, match="endif"):
        engine.check("{% if contact.name %}Hi")


def test_conditions_and_a_loop_over_data_work() -> None:
    source = (
        "{% if contact.name is defined %}Hi {{ contact.first_name }}{% else %}Hi"
        "{% endif %}: {% for item in context.items %}{{ item | upper }}"
        "{% if not loop.last %}, {% endif %}{% endfor %}"
    )
    assert engine.render(source, JAMIE) == "Hi Jamie: TEA, CUPS"


def test_output_is_not_html_escaped() -> None:
    variables = {"contact": {"name": "Tom & <Jerry>", "number": "+1"}}
    assert engine.render("{{ contact.name }}", variables) == "Tom & <Jerry>"


def test_output_and_source_are_bounded() -> None:
    with pytest.raises(TemplateInvalid, match="at most"):
        engine.check("x" * (engine.MAX_TEMPLATE_CHARS + 1))
    long = {"context": {"items": ["y" * 1000] * 5}}
    with pytest.raises(RenderFailed, match="over"):
        engine.render("{% for i in context.items %}{{ i }}{% endfor %}", long)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_any_text_is_refused_or_rendered_never_crashes(source: str) -> None:
    try:
        text = engine.render(source, JAMIE)
    except (TemplateInvalid, MissingVariable, RenderFailed):
        return
    assert len(text) <= engine.MAX_RENDER_CHARS
