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
    choose_language,
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
# A customer whose locale has no templates: the tenant's default language speaks to them.
FALLBACK_LOCALE, FALLBACK_ZONE, FALLBACK_TENANT_DEFAULT = "fr-FR", "Europe/Paris", "en"
FALLBACK_CASES = sorted({(key, channel) for key, channel, _ in TEMPLATES})


def golden_path(tid: TemplateId, zone: str) -> Path:
    key, channel, locale = tid
    return GOLDEN / key / f"{channel}.{locale}.{zone.replace('/', '_')}.txt"


def check_golden(actual: str, path: Path) -> None:
    if os.environ.get("NUDGE_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
    assert path.exists(), f"no golden file {path}; run with NUDGE_UPDATE_GOLDEN=1"
    assert actual == path.read_text(encoding="utf-8")


def render_for_customer(
    key: str, channel: str, locale: str, zone: str, tenant_default: str
) -> tuple[str, RenderedMessage]:
    """What the dispatcher sends: one walk of the fallback chain picks the template and the
    locale its values are formatted in."""
    available = [loc for k, c, loc in TEMPLATES if (k, c) == (key, channel)]
    language = choose_language(locale, available, tenant_default)
    context = sample_context(key, language.formatting, zone, NOW)
    parts = TEMPLATES[(key, channel, language.template)]
    return language.template, render(parts, context, language.formatting, zone)


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
    check_golden(as_golden(render_default(tid, zone)), golden_path(tid, zone))


def fallback_golden_path(key: str, channel: str) -> Path:
    zone = FALLBACK_ZONE.replace("/", "_")
    return GOLDEN / key / f"{channel}.{FALLBACK_LOCALE}.{zone}.txt"


@pytest.mark.parametrize(("key", "channel"), FALLBACK_CASES, ids="-".join)
def test_a_locale_without_templates_gets_one_language_throughout(key: str, channel: str) -> None:
    written_in, message = render_for_customer(
        key, channel, FALLBACK_LOCALE, FALLBACK_ZONE, FALLBACK_TENANT_DEFAULT
    )
    assert written_in == "en"
    check_golden(as_golden(message), fallback_golden_path(key, channel))


def test_no_golden_file_is_left_without_a_template() -> None:
    expected = {golden_path(tid, zone) for tid, zone in CASES}
    expected |= {fallback_golden_path(key, channel) for key, channel in FALLBACK_CASES}
    assert set(GOLDEN.rglob("*.txt")) == expected


def test_french_customer_of_an_english_tenant_reads_english_numbers_dates_and_units() -> None:
    _, voice = render_for_customer(
        "energy.daily_above", "voice", "fr-FR", FALLBACK_ZONE, FALLBACK_TENANT_DEFAULT
    )
    _, email = render_for_customer("checkup.reminder", "email", "fr-FR", FALLBACK_ZONE, "en")
    assert "you have used 13.4 kilowatt-hours" in voice.text
    assert "13,4" not in voice.text and "kilowatt-heure" not in voice.text
    assert "Wednesday, March 3, 2027" in email.text
    assert "mars" not in email.text


def test_french_customer_of_a_swiss_tenant_reads_swiss_german_throughout() -> None:
    written_in, sms = render_for_customer(
        "bill.monthly_above", "sms", "fr-FR", FALLBACK_ZONE, "de-CH"
    )
    assert written_in == "de"
    assert "51.20" in sms.text and "CHF" not in sms.text
    assert "51,20" not in sms.text


@pytest.mark.parametrize(
    ("locale", "limit", "expected"),
    [
        ("de-DE", 1.0, "Limit von 1 Kilowattstunde."),
        ("de-DE", 2.0, "Limit von 2 Kilowattstunden."),
        ("de-AT", 1.04, "Limit von 1 Kilowattstunde."),
        ("de-DE", 1.5, "Limit von 1,5 Kilowattstunden."),
        ("en-US", 1.0, "limit of 1 kilowatt hour."),
        ("en-GB", 12.0, "limit of 12 kilowatt-hours."),
    ],
)
def test_spoken_units_follow_the_languages_plural_rules(
    locale: str, limit: float, expected: str
) -> None:
    key, channel = "energy.daily_above", "voice"
    language = choose_language(locale, ["de", "en"], "en")
    context = sample_context(key, language.formatting, "Europe/Berlin", NOW)
    context["params"]["limit_kwh"] = limit
    parts = TEMPLATES[(key, channel, language.template)]
    assert expected in render(parts, context, language.formatting, "Europe/Berlin").text


@pytest.mark.parametrize("locale", ["de-DE", "en-US"])
def test_a_customer_without_a_name_is_greeted_without_a_gap(locale: str) -> None:
    for key, channel, written_in in TEMPLATES:
        if written_in != locale[:2] or channel == "sms":
            continue
        context = sample_context(key, locale, "Europe/Berlin", NOW)
        context["customer"]["name"] = ""
        message = render(TEMPLATES[(key, channel, written_in)], context, locale, "Europe/Berlin")
        for body in (message.text, message.html or ""):
            assert " ," not in body and "Hallo ," not in body, (key, channel)
        assert (
            message.text.startswith(("Hallo,", "Hello,"))
            or "Hallo," in message.text
            or ("Hello," in message.text)
        ), (key, channel)


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
