"""Locale-aware filters: Babel formatting in the customer's locale and timezone."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from engine.errors import InvalidInput
from engine.templating import TemplateRenderFailed, formatting, render
from engine.templating.formatting import Formatter, zone

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
DE = Formatter.for_customer("de-DE", BERLIN)
EN = Formatter.for_customer("en-US", NEW_YORK)
# 23:30 UTC on 3 March is already 4 March in Berlin, still 3 March in New York.
LATE = dt.datetime(2027, 3, 3, 23, 30, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("formatter", "call", "expected"),
    [
        (DE, lambda f: f.number(12.5), "12,5"),
        (EN, lambda f: f.number(12.5), "12.5"),
        (DE, lambda f: f.number(1234567.5), "1.234.567,5"),
        (EN, lambda f: f.number(1234567.5), "1,234,567.5"),
        (DE, lambda f: f.number(17.9333, 1), "17,9"),
        (DE, lambda f: f.number(14.0), "14"),
        (DE, lambda f: f.kwh(12.5), "12,5 kWh"),
        (EN, lambda f: f.kwh(12.04), "12 kWh"),
        (DE, lambda f: f.unit(Decimal("3.25"), "m³"), "3,25 m³"),
        (DE, lambda f: f.currency(51.2, "EUR"), "51,20 €"),
        (EN, lambda f: f.currency(51.2, "EUR"), "€51.20"),
        (EN, lambda f: f.currency(Decimal("1234.5"), "USD"), "$1,234.50"),
        (DE, lambda f: f.percent(0.25), "25 %"),
        (EN, lambda f: f.percent(0.125, 1), "12.5%"),
        (DE, lambda f: f.date(dt.date(2027, 3, 3)), "3. März 2027"),
        (EN, lambda f: f.date(dt.date(2027, 3, 3)), "March 3, 2027"),
        (DE, lambda f: f.date("2027-03-03", "short"), "03.03.27"),
        (DE, lambda f: f.date(dt.date(2027, 1, 5), "LLLL yyyy"), "Januar 2027"),
        (DE, lambda f: f.date(LATE), "4. März 2027"),
        (EN, lambda f: f.date(LATE), "March 3, 2027"),
        (DE, lambda f: f.time(LATE), "00:30"),
        (EN, lambda f: f.time(LATE), "6:30 PM"),
        (DE, lambda f: f.datetime(LATE), "4. März 2027, 00:30"),
        (EN, lambda f: f.datetime(LATE), "March 3, 2027, 6:30 PM"),
        (DE, lambda f: f.datetime("2027-03-03T23:30:00+00:00", "short"), "04.03.27, 00:30"),
    ],
)
def test_formats_for_the_locale(
    formatter: Formatter, call: Callable[[Formatter], str], expected: str
) -> None:
    assert call(formatter) == expected


def test_local_time_follows_daylight_saving() -> None:
    before, after = (dt.datetime(2027, 3, 28, h, 30, tzinfo=dt.UTC) for h in (0, 1))
    assert (DE.time(before), DE.time(after)) == ("01:30", "03:30")


def test_output_has_no_no_break_spaces_that_would_force_ucs2_sms() -> None:
    outputs = [DE.currency(51.2, "EUR"), DE.percent(0.5), EN.time(LATE), DE.kwh(1.5)]
    assert not any(ch in text for text in outputs for ch in "\u00a0\u202f")


def test_unknown_region_formats_like_its_language() -> None:
    assert Formatter.for_customer("de-XX", BERLIN).number(12.5) == "12,5"


def test_austrian_german_uses_the_austrian_currency_pattern() -> None:
    assert Formatter.for_customer("de-AT", BERLIN).currency(51.2, "EUR") == "€ 51,20"


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda: DE.date(dt.datetime(2027, 3, 3, 12, 0)), ValueError),
        (lambda: DE.number("12"), TypeError),  # type: ignore[arg-type]
        (lambda: DE.number(True), TypeError),
        (lambda: DE.number(1.5, 11), ValueError),
        (lambda: DE.time(dt.date(2027, 3, 3)), TypeError),  # type: ignore[arg-type]
    ],
)
def test_rejects_values_it_cannot_format_honestly(
    call: Callable[[], str], error: type[Exception]
) -> None:
    with pytest.raises(error):
        call()


def test_filters_take_the_locale_and_zone_of_each_render() -> None:
    parts = {"text": "{{ 12.5|number }} {{ now|date }} {{ now|time }}"}
    context = {"now": LATE}
    assert render(parts, context, "de-DE", "Europe/Berlin").text == "12,5 4. März 2027 00:30"
    assert render(parts, context, "en-US", "America/New_York").text == "12.5 March 3, 2027 6:30 PM"
    assert render(parts, context, "de-AT", "Asia/Tokyo").text == "12,5 4. März 2027 08:30"


def test_a_render_formats_each_distinct_value_once(monkeypatch: pytest.MonkeyPatch) -> None:
    formatted: list[object] = []
    to_decimal = formatting._decimal  # every number goes through it once per formatting

    def counting(value: float) -> Decimal:
        formatted.append(value)
        return to_decimal(value)

    monkeypatch.setattr(formatting, "_decimal", counting)
    parts = {
        "subject": "{{ x|number }}",
        "text": "{{ x|number }} {{ y|number }} {{ x|number(0) }}",
        "html": "{{ x|number }} {{ y|number }}",
    }
    assert render(parts, {"x": 1.5, "y": 2.5}, "en", "UTC").text == "1.5 2.5 2"
    assert formatted == [1.5, 2.5, 1.5]


def test_equal_values_that_format_differently_are_formatted_each() -> None:
    fall_back = dt.datetime(2027, 10, 31, 2, 30, tzinfo=BERLIN)  # twice that night
    values = {"zero": 0.0, "minus": -0.0, "first": fall_back, "second": fall_back.replace(fold=1)}
    parts = {"text": "{{ zero|number }} {{ minus|number }} {{ first|time }} {{ second|time }}"}
    assert render(parts, values, "en", "UTC").text == "0 -0 12:30 AM 1:30 AM"


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("{{ 1|number }} {{ true|number }}", "expected a number, got bool"),
        ("{{ 1|number }} {{ [1]|number }}", "expected a number, got list"),
        ("{{ 1|number }} {{ missing|number }}", "expected a number, got StrictUndefined"),
    ],
)
def test_formatting_each_value_once_keeps_every_filter_error(source: str, message: str) -> None:
    with pytest.raises(TemplateRenderFailed, match=message):
        render({"text": source}, {}, "en", "UTC")


def test_unknown_timezone_is_invalid_input() -> None:
    with pytest.raises(InvalidInput) as caught:
        zone("Mars/Olympus_Mons")
    assert caught.value.errors[0].loc == ("timezone",)


@pytest.mark.parametrize(
    ("locale", "value", "unit", "decimals", "expected"),
    [
        ("de-DE", 1, "kWh", 1, "1 Kilowattstunde"),
        ("de-DE", 2, "kWh", 1, "2 Kilowattstunden"),
        ("de-DE", 0.96, "kWh", 1, "1 Kilowattstunde"),  # shown as 1, so singular
        ("de-DE", 1.25, "kWh", 1, "1,2 Kilowattstunden"),
        ("de-DE", 1234.5, "kWh", 1, "1.234,5 Kilowattstunden"),
        ("de-DE", 1, "day", 0, "1 Tag"),
        ("de-DE", 14, "day", 0, "14 Tage"),
        ("en-US", 1, "day", 0, "1 day"),
        ("pl-PL", 2, "kWh", 1, "2 kilowatogodziny"),  # Polish "few"
        ("pl-PL", 5, "kWh", 1, "5 kilowatogodzin"),  # Polish "many"
        ("de-DE", 3, "parsec", 0, "3 parsec"),  # no CLDR name: as given
    ],
)
def test_units_spelled_out_take_the_languages_plural_form(
    locale: str, value: float, unit: str, decimals: int, expected: str
) -> None:
    formatter = Formatter.for_customer(locale, BERLIN)
    assert formatter.unit(value, unit, decimals, "long") == expected


def test_an_unknown_unit_length_fails_the_render_with_its_reason() -> None:
    with pytest.raises(TemplateRenderFailed, match="length must be one of short, long, narrow"):
        render({"text": '{{ 2|kwh(1, "longest") }}'}, {}, "de-DE", "Europe/Berlin")
