"""Rendering: strict variables, errors that name the part and line, the sandbox, escaping."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from engine.errors import InvalidInput
from engine.templating import (
    TemplateInvalid,
    TemplateRenderFailed,
    TemplateUnsafe,
    render,
    sample_context,
)
from engine.templating.environment import CACHE
from engine.templating.errors import TemplateOverBudget
from engine.templating.render import MAX_PART_CHARS

NOW = dt.datetime(2027, 2, 17, 16, 30, tzinfo=dt.UTC)
CONTEXT = sample_context("energy.daily_above", "de-DE", "Europe/Berlin", NOW)
ESCAPES = [
    "{{ ''.__class__.__mro__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__ }}",
    "{{ joiner.__init__.__globals__.os }}",
    "{{ namespace.__init__.__globals__ }}",
    "{{ now.__class__.__init__ }}",
    "{{ params['__class__'] }}",
    "{{ window|attr('__class__') }}",
    "{{ self.__init__.__globals__ }}",
    "{{ 'x'.format.__globals__ }}",
    "{{ '{0.__class__}'.format(1) }}",
    "{% include '/etc/passwd' %}",
    "{% import 'os' as os %}",
    "{% extends '../engine/platform/config.py' %}",
    "{{ params.update({'a': 1}) }}",
    "{{ 'a' * 1000000 }}",
    "{{ 9 ** 999999 }}",
    "{{ '%999999999d' % 1 }}",
    "{{ 'x'.center(999999999) }}",
    "{{ _nudge_formatter._cached(_nudge_formatter.number, '__class__', [], {}) }}",
    "{{ _nudge_formatter.__class__ }}",
    "{{ _nudge_formatter._formatted }}",
]


def render_text(source: str, context: dict[str, Any] = CONTEXT) -> str:
    return render({"text": source}, context, "de-DE", "Europe/Berlin").text


def test_renders_every_part() -> None:
    parts = {
        "subject": "Hallo {{ customer.name }}",
        "text": "T {{ window.sum|kwh }}",
        "html": "<b>H</b>",
    }
    message = render(parts, CONTEXT, "de-DE", "Europe/Berlin")
    assert (message.subject, message.text, message.html) == (
        "Hallo Anna Weber",
        "T 13,4 kWh",
        "<b>H</b>",
    )


def test_sms_and_voice_have_no_subject_or_html() -> None:
    message = render({"text": "Hi"}, CONTEXT, "en", "UTC")
    assert (message.subject, message.html) == (None, None)


def test_undefined_variable_is_an_error_naming_part_and_line() -> None:
    with pytest.raises(TemplateRenderFailed) as caught:
        render_text("Hallo\n{{ customer.name }}\n{{ tariff }}")
    [error] = caught.value.errors
    assert error.loc == ("body", "parts", "text")
    assert error.msg == "text, line 3: 'tariff' is undefined"


def test_missing_attribute_is_an_error_too() -> None:
    with pytest.raises(TemplateRenderFailed, match="has no attribute 'limit_eur'"):
        render_text("{{ params.limit_eur }}")


def test_syntax_error_reports_part_and_line() -> None:
    parts = {"subject": "fine", "text": "ok", "html": "<p>\n{% if window %}\n{{ window.sum }</p>"}
    with pytest.raises(TemplateInvalid) as caught:
        render(parts, CONTEXT, "de-DE", "Europe/Berlin")
    [error] = caught.value.errors
    assert error.loc == ("body", "parts", "html")
    assert error.msg.startswith("html, line 3: ")
    assert isinstance(caught.value, InvalidInput) and caught.value.status == 422


@pytest.mark.parametrize("source", ESCAPES)
def test_sandbox_escapes_fail_clearly_without_leaking_internals(source: str) -> None:
    with pytest.raises(TemplateUnsafe) as caught:
        render_text(source)
    [error] = caught.value.errors
    assert (error.loc, error.type) == (("body", "parts", "text"), "template_unsafe")
    assert caught.value.detail.startswith("text, line 1: ")
    for leak in ("<class", "<function", "<module", "object at 0x", "Undefined"):
        assert leak not in caught.value.detail


def test_the_first_refused_attribute_is_the_one_reported() -> None:
    with pytest.raises(TemplateUnsafe, match="'__class__' of 'datetime' object is unsafe"):
        render_text("{{ now.__class__.__init__.__globals__ }}")


def test_the_formatter_offers_templates_nothing_but_formatting() -> None:
    with pytest.raises(TemplateRenderFailed, match="has no attribute 'format'"):
        render_text("{{ _nudge_formatter.format('__getattribute__', '__class__', [], {}) }}")


def test_globals_that_can_reach_python_are_gone() -> None:
    with pytest.raises(TemplateRenderFailed, match="'lipsum' is undefined"):
        render_text("{{ lipsum.__globals__ }}")


def test_html_part_is_autoescaped_text_and_subject_are_not() -> None:
    context = {**CONTEXT, "customer": {**CONTEXT["customer"], "name": "<script>alert(1)</script>"}}
    parts = {k: "Hi {{ customer.name }}" for k in ("subject", "text", "html")}
    message = render(parts, context, "en", "UTC")
    assert message.html == "Hi &lt;script&gt;alert(1)&lt;/script&gt;"
    assert message.text == message.subject == "Hi <script>alert(1)</script>"


def test_subject_is_one_line_so_it_cannot_inject_headers() -> None:
    context = {**CONTEXT, "params": {"x": "a\r\nBcc: evil@example.com"}}
    message = render({"subject": "S {{ params.x }}", "text": "t"}, context, "en", "UTC")
    assert message.subject == "S a Bcc: evil@example.com"


def test_whitespace_is_trimmed_around_blocks_and_blank_runs() -> None:
    source = "\n  Hallo,\n{% if window %}\n    {{ window.sum|kwh }}   \n{% endif %}\n\n\n\nEnde\n\n"
    assert render_text(source) == "Hallo,\n    13,4 kWh\n\nEnde"


def test_none_renders_as_nothing() -> None:
    assert render_text("[{{ event }}]") == "[]"


def test_output_is_bounded() -> None:
    with pytest.raises(TemplateOverBudget, match=f"longer than {MAX_PART_CHARS}"):
        render_text("{% for i in range(20000) %}{{ customer.name }}{% endfor %}")


def test_runtime_errors_are_domain_errors() -> None:
    with pytest.raises(TemplateRenderFailed, match="text, line 1: .*division by zero"):
        render_text("{{ window.sum / 0 }}")


def test_a_text_part_is_required() -> None:
    with pytest.raises(TemplateInvalid) as caught:
        render({"subject": "s"}, CONTEXT, "en", "UTC")
    assert caught.value.errors[0].loc == ("body", "parts", "text")


def test_unknown_part_is_rejected() -> None:
    with pytest.raises(TemplateInvalid, match="unknown part 'body'"):
        render({"text": "t", "body": "b"}, CONTEXT, "en", "UTC")


def test_templates_are_compiled_once_per_source() -> None:
    source = "cached {{ customer.name }} 7f3a"
    first = CACHE.get(source, html=False)
    assert CACHE.get(source, html=False) is first
    assert CACHE.get(source, html=True) is not first
