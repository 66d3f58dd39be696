"""Save-time validation: parts, syntax, variables, the sandbox, samples and SMS budget."""

from __future__ import annotations

import pytest

from engine.templating import TemplateInvalid, TemplateUnsafe, validate
from engine.templating.context import CONTEXT_VARIABLES


def test_reports_variables_sample_and_sms_segments() -> None:
    parts = {"text": "{{ window.sum|kwh }} > {{ params.limit_kwh|kwh }}. STOP zum Abmelden"}
    report = validate(parts, "sms", rule_key="energy.daily_above", locale="de-DE")
    assert report.variables == {"window", "params"}
    assert report.sample is not None and report.sample.text.startswith("13,4 kWh > 12 kWh")
    assert report.sms is not None and (report.sms.encoding, report.sms.segments) == ("GSM-7", 1)
    assert report.warnings == ()


def test_every_context_variable_is_allowed_by_default() -> None:
    source = " ".join(f"{{{{ {name} is defined }}}}" for name in sorted(CONTEXT_VARIABLES))
    assert validate({"text": source}, "voice").variables == CONTEXT_VARIABLES


def test_unknown_variables_are_rejected_with_the_part() -> None:
    parts = {"subject": "{{ tariff }}", "text": "{{ customer.name }} {{ secret }}"}
    with pytest.raises(TemplateInvalid) as caught:
        validate(parts, "email")
    locs_msgs = [(e.loc[-1], e.msg.split(" (")[0]) for e in caught.value.errors]
    assert locs_msgs == [
        ("subject", "subject: unknown variable 'tariff'"),
        ("text", "text: unknown variable 'secret'"),
    ]


def test_allowed_variables_can_be_narrowed() -> None:
    with pytest.raises(TemplateInvalid, match="unknown variable 'window'"):
        validate({"text": "{{ window.sum }}"}, "sms", allowed_variables={"params", "customer"})


def test_locally_set_and_loop_variables_are_not_unknown() -> None:
    source = "{% set total = window.sum %}{% for k in params %}{{ k }}{% endfor %}{{ total }}"
    assert validate({"text": source}, "sms").variables == {"window", "params"}


def test_syntax_errors_in_several_parts_are_all_reported() -> None:
    parts = {"subject": "{{ oops", "text": "ok", "html": "a\n{% endif %}"}
    with pytest.raises(TemplateInvalid) as caught:
        validate(parts, "email")
    assert [(e.loc, e.msg.split(":")[0]) for e in caught.value.errors] == [
        (("body", "parts", "subject"), "subject, line 1"),
        (("body", "parts", "html"), "html, line 2"),
    ]


@pytest.mark.parametrize(
    ("parts", "channel", "message"),
    [
        ({"text": "t"}, "fax", "unknown channel 'fax'"),
        ({"text": "t"}, "email", "email templates need a 'subject' part"),
        ({"text": "t", "html": "<p>"}, "sms", "sms templates have no 'html' part"),
        ({"subject": "s"}, "voice", "voice templates need a 'text' part"),
    ],
)
def test_parts_must_fit_the_channel(parts: dict[str, str], channel: str, message: str) -> None:
    with pytest.raises(TemplateInvalid, match=message):
        validate(parts, channel)


def test_email_html_part_is_optional() -> None:
    assert validate({"subject": "s", "text": "t"}, "email").sample is not None


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ params['__class__'] }}",
        "{% include 'footer.j2' %}",
        "{% if false %}{{ now.__class__ }}{% endif %}",
    ],
)
def test_sandbox_escapes_are_rejected_before_anything_runs(source: str) -> None:
    with pytest.raises(TemplateUnsafe) as caught:
        validate({"text": source}, "sms")
    assert caught.value.errors[0].loc == ("body", "parts", "text")


def test_a_sample_that_does_not_fit_a_new_rule_only_warns() -> None:
    report = validate({"text": "{{ params.tank_litres }}"}, "sms", rule_key="tank.low")
    assert report.sample is None
    [warning] = report.warnings
    assert warning.type == "sample_render" and "tank_litres" in warning.msg


def test_unsafe_operations_found_only_by_rendering_still_fail() -> None:
    with pytest.raises(TemplateUnsafe):
        validate({"text": "{{ customer.name * 100000 }}"}, "sms")


def test_sms_above_the_segment_limit_warns() -> None:
    source = "{{ customer.name }} " + "x" * 480
    report = validate({"text": source}, "sms", max_sms_segments=3)
    assert report.sms is not None and report.sms.segments == 4
    assert [w.type for w in report.warnings] == ["sms_segments"]
    assert validate({"text": source}, "sms", max_sms_segments=4).warnings == ()


def test_sms_outside_gsm7_warns_and_names_the_characters() -> None:
    report = validate({"text": "Hallo „{{ customer.name }}“ 😀"}, "sms", locale="de")
    assert report.sms is not None and report.sms.encoding == "UCS-2"
    [warning] = report.warnings
    assert warning.type == "sms_encoding" and "„“😀" in warning.msg


def test_explicit_sample_context_is_used() -> None:
    sample = {"customer": {"name": "Zoë"}}
    report = validate({"text": "Hi {{ customer.name }}"}, "voice", sample=sample)
    assert report.sample is not None and report.sample.text == "Hi Zoë"
