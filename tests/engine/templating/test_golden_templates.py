"""Every default template, rendered with a fixed context, matches its golden file.

Regenerate with ``NUDGE_UPDATE_GOLDEN=1 pytest tests/engine/templating``, then read the diff.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from engine.templating import (
    RenderedMessage,
    TemplateId,
    load_default_templates,
    render,
    sample_context,
    validate,
)

# 17:30 in Berlin, 11:30 in New York; the sample check-up is due 14 days later, 3 March 2027.
NOW = dt.datetime(2027, 2, 17, 16, 30, tzinfo=dt.UTC)
CUSTOMER_LOCALE = {"de": "de-DE", "en": "en-US"}
ZONES = ("Europe/Berlin", "America/New_York")
GOLDEN = Path(__file__).parent / "golden"
TEMPLATES = load_default_templates()
CASES = [(tid, zone) for tid in sorted(TEMPLATES) for zone in ZONES]


def golden_path(tid: TemplateId, zone: str) -> Path:
    key, channel, locale = tid
    return GOLDEN / key / f"{channel}.{locale}.{zone.replace('/', '_')}.txt"


def as_golden(message: RenderedMessage) -> str:
    parts = {"subject": message.subject, "text": message.text, "html": message.html}
    return "".join(f"--- {name} ---\n{body}\n" for name, body in parts.items() if body is not None)


def render_default(tid: TemplateId, zone: str, now: dt.datetime = NOW) -> RenderedMessage:
    key, _, locale = tid
    customer_locale = CUSTOMER_LOCALE[locale]
    context = sample_context(key, customer_locale, zone, now)
    return render(TEMPLATES[tid], context, customer_locale, zone)


def test_the_three_demo_rules_ship_in_german_and_english_for_every_channel() -> None:
    keys = ("energy.daily_above", "checkup.reminder", "bill.monthly_above")
    expected = {
        (k, c, loc) for k in keys for c in ("email", "sms", "voice") for loc in ("de", "en")
    }
    assert set(TEMPLATES) == expected
    assert all(
        set(TEMPLATES[t]) == {"subject", "text", "html"} for t in expected if t[1] == "email"
    )


@pytest.mark.parametrize(
    ("tid", "zone"), CASES, ids=lambda v: "-".join(v) if isinstance(v, tuple) else v
)
def test_default_template_matches_golden(tid: TemplateId, zone: str) -> None:
    actual = as_golden(render_default(tid, zone))
    path = golden_path(tid, zone)
    if os.environ.get("NUDGE_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
    assert path.exists(), f"no golden file {path}; run with NUDGE_UPDATE_GOLDEN=1"
    assert actual == path.read_text(encoding="utf-8")


def test_no_golden_file_is_left_without_a_template() -> None:
    expected = {golden_path(tid, zone) for tid, zone in CASES}
    assert set(GOLDEN.rglob("*.txt")) == expected


@pytest.mark.parametrize("tid", sorted(TEMPLATES), ids="-".join)
def test_default_templates_validate_without_warnings(tid: TemplateId) -> None:
    key, channel, locale = tid
    report = validate(TEMPLATES[tid], channel, rule_key=key, locale=CUSTOMER_LOCALE[locale])
    assert report.warnings == ()


@pytest.mark.parametrize(
    ("tid", "expected"),
    [
        (("energy.daily_above", "email", "de"), ["heute beträgt 13,4 kWh", "Limit von 12 kWh"]),
        (("energy.daily_above", "sms", "de"), ["13,4 kWh", "Hochrechnung für den Tag: 18,4 kWh"]),
        (("checkup.reminder", "email", "de"), ["am 3. März 2027 fällig", "in 14 Tagen"]),
        (("checkup.reminder", "sms", "en"), ["on March 3, 2027", "Reply OK to confirm"]),
        (("bill.monthly_above", "email", "de"), ["etwa 51,20 €", "Limit von 50,00 €", "Februar"]),
        (("bill.monthly_above", "email", "en"), ["about €51.20", "limit of €50.00"]),
    ],
)
def test_values_are_formatted_for_the_customers_locale(
    tid: TemplateId, expected: list[str]
) -> None:
    message = render_default(tid, "Europe/Berlin")
    for snippet in expected:
        assert snippet in (message.subject or "") + message.text


@pytest.mark.parametrize("tid", [t for t in sorted(TEMPLATES) if t[1] == "email"], ids="-".join)
def test_emails_say_why_and_how_to_unsubscribe(tid: TemplateId) -> None:
    message = render_default(tid, "Europe/Berlin")
    why = "Warum Sie diese Nachricht erhalten" if tid[2] == "de" else "Why you got this"
    title = sample_context(tid[0], tid[2], "UTC", NOW)["rule"]["title"]
    for body in (message.text, message.html or ""):
        assert why in body
        assert title in body
        assert "https://nudge.example/u/sample-token" in body


def test_energy_alert_sent_next_day_names_the_day_and_drops_the_projection() -> None:
    tid = ("energy.daily_above", "sms", "de")
    key, _, locale = tid
    context = sample_context(key, "de-DE", "Europe/Berlin", NOW)
    context["now"] = NOW + dt.timedelta(days=1)
    text = render(TEMPLATES[tid], context, "de-DE", "Europe/Berlin").text
    assert "Ihr Stromverbrauch am 17. Februar 2027: 13,4 kWh" in text
    assert "heute" not in text and "Hochrechnung" not in text


def test_the_timezone_decides_the_window_and_so_the_projection() -> None:
    tid = ("energy.daily_above", "sms", "en")
    berlin, new_york = (render_default(tid, zone).text for zone in ZONES)
    assert "Projected for the day: 18.4 kWh" in berlin
    assert "Projected for the day: 28 kWh" in new_york
