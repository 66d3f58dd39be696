"""What a business reads back for each bad reading: the row's index, the field and the reason,
exactly; and the readings it sends in unusual but valid shapes, accepted as meant."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from engine.feeds.parsing.rows import Rejection, parse_objects
from engine.feeds.parsing.values import future_limit
from engine.units import normalise

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
GOOD: dict[str, Any] = {
    "customer": "c-1",
    "metric": "electricity.consumption",
    "start": "2025-12-31T23:00:00Z",
    "duration": 3600,
    "value": 1.5,
    "unit": "kWh",
}


def rejection(change: dict[str, Any], drop: tuple[str, ...] = ()) -> Rejection:
    raw = {k: v for k, v in {**GOOD, **change}.items() if k not in drop}
    result = parse_objects([(0, dict(GOOD)), (4, raw)], NOW)
    assert len(result.rows) == 1, result.rows
    [found] = result.rejections
    return found


def accepted(change: dict[str, Any], drop: tuple[str, ...] = ()) -> Any:
    raw = {k: v for k, v in {**GOOD, **change}.items() if k not in drop}
    result = parse_objects([(3, raw)], NOW)
    assert result.rejections == [], result.rejections
    [row] = result.rows
    assert row.index == 3
    return row


@pytest.mark.parametrize(
    ("change", "drop", "field", "reason"),
    [
        ({}, ("customer",), "customer", "missing field 'customer'"),
        ({"customer": ""}, (), "customer", "missing field 'customer'"),
        ({"customer": "   "}, (), "customer", "'customer' must be a non-empty string"),
        ({"customer": 1.5}, (), "customer", "'customer' must be a non-empty string"),
        ({"customer": "x" * 201}, (), "customer", "'customer' is longer than 200 characters"),
        (
            {"metric": "Electricity"},
            (),
            "metric",
            "'metric' must be a dotted lowercase name, got 'Electricity'",
        ),  # noqa: E501
        (
            {"metric": "a" * 65},
            (),
            "metric",
            f"'metric' must be a dotted lowercase name, got {'a' * 65!r}",
        ),  # noqa: E501
        ({"metric": 3}, (), "metric", "'metric' must be a dotted lowercase name, got 3"),
        ({}, ("start",), "start", "missing field 'start'"),
        ({"start": "yesterday"}, (), "start", "not an ISO 8601 timestamp: 'yesterday'"),
        (
            {"start": "2025-12-31T23:00:00"},
            (),
            "start",
            "timestamp '2025-12-31T23:00:00' needs a UTC offset, e.g. 'Z' or '+01:00'",
        ),  # noqa: E501
        (
            {"start": "2026-01-02T12:00:01Z"},
            (),
            "start",
            "'start' 2026-01-02T12:00:01+00:00 is more than a day in the future",
        ),  # noqa: E501
        ({"start": 1e20}, (), "start", "epoch timestamp out of range: 1e+20"),
        ({"start": [1]}, (), "start", "'start' must be an ISO 8601 timestamp or epoch seconds"),
        ({}, ("duration",), "duration", "missing field 'duration' (or 'end')"),
        ({"duration": ""}, (), "duration", "missing field 'duration' (or 'end')"),
        ({"duration": 0}, (), "duration", "duration must be positive, got 0 s"),
        ({"duration": -60}, (), "duration", "duration must be positive, got -60 s"),
        ({"duration": 1.5}, (), "duration", "duration must be whole seconds, got 1.5"),
        ({"duration": "90.5"}, (), "duration", "duration must be whole seconds, got 90.5"),
        ({"duration": "-PT1H"}, (), "duration", "duration must be positive, got '-PT1H'"),
        (
            {"duration": "P1Y"},
            (),
            "duration",
            "years and months vary in length: send seconds or 'end'",
        ),  # noqa: E501
        (
            {"duration": "P1M"},
            (),
            "duration",
            "years and months vary in length: send seconds or 'end'",
        ),  # noqa: E501
        ({"duration": "PT"}, (), "duration", "not a duration: 'PT' (use seconds or e.g. 'PT1H')"),
        ({"duration": "P"}, (), "duration", "not a duration: 'P' (use seconds or e.g. 'PT1H')"),
        (
            {"duration": "P1DT"},
            (),
            "duration",
            "not a duration: 'P1DT' (use seconds or e.g. 'PT1H')",
        ),  # noqa: E501
        (
            {"duration": "PT1Y"},
            (),
            "duration",
            "years and months vary in length: send seconds or 'end'",
        ),  # noqa: E501
        ({"duration": "P1h"}, (), "duration", "not a duration: 'P1h' (use seconds or e.g. 'PT1H')"),  # noqa: E501
        ({"duration": "hour"}, (), "duration", "not a number: 'hour'"),
        ({"duration": True}, (), "duration", "not a number: True"),
        ({"end": "2025-12-31T23:30:00Z"}, ("duration",), "end", None),  # accepted, see below
        ({"end": "2025-12-31T23:00:00Z"}, ("duration",), "end", "'end' must be after 'start'"),
        ({"end": "2025-12-31T22:00:00Z"}, ("duration",), "end", "'end' must be after 'start'"),
        (
            {"end": "2025-12-31T23:00:00.5Z"},
            ("duration",),
            "end",
            "'end' - 'start' must be whole seconds",
        ),  # noqa: E501
        ({"end": "soon"}, ("duration",), "end", "not an ISO 8601 timestamp: 'soon'"),
        ({"end": "2026-01-01T01:00:00Z"}, (), "end", "'end' disagrees with 'start' + 'duration'"),  # noqa: E501
        ({}, ("value",), "value", "missing field 'value'"),
        ({"value": "abc"}, (), "value", "not a number: 'abc'"),
        ({"value": "nan"}, (), "value", "NaN and infinity are not allowed"),
        ({"value": float("inf")}, (), "value", "NaN and infinity are not allowed"),
        ({"value": 10**400}, (), "value", "number out of range"),
        ({"value": False}, (), "value", "not a number: False"),
        ({"value": [1]}, (), "value", "not a number: [1]"),
        ({}, ("unit",), "unit", "missing field 'unit'"),
        ({"unit": 5}, (), "unit", "unknown unit 5"),
        ({"unit": "furlong"}, (), "unit", "unknown unit 'furlong'"),
        ({"unit": "mWh"}, (), "unit", "unknown unit 'mWh'"),
        ({"quality": "   "}, (), "quality", "'quality' must be a non-empty string"),
        ({"quality": ["a"]}, (), "quality", "'quality' must be a non-empty string"),
    ],
)
def test_each_bad_field_is_named_with_its_reason(
    change: dict[str, Any], drop: tuple[str, ...], field: str, reason: str | None
) -> None:
    if reason is None:
        assert accepted(change, drop).duration_s == 1800
        return
    assert rejection(change, drop) == Rejection(4, reason, field)


@pytest.mark.parametrize(
    ("change", "drop", "expected"),
    [
        ({"customer": "  c-1 "}, (), {"customer": "c-1"}),
        ({"customer": 4711}, (), {"customer": "4711"}),
        ({"customer": "x" * 200}, (), {"customer": "x" * 200}),
        ({"start": "1767222000"}, (), {"start": datetime(2025, 12, 31, 23, tzinfo=UTC)}),
        ({"start": 1767222000.0}, (), {"start": datetime(2025, 12, 31, 23, tzinfo=UTC)}),
        (
            {"start": " 2026-01-01T00:00:00+01:00 "},
            (),
            {"start": datetime(2025, 12, 31, 23, tzinfo=UTC)},
        ),  # noqa: E501
        ({"start": "2026-01-02T12:00:00Z"}, (), {"start": datetime(2026, 1, 2, 12, tzinfo=UTC)}),
        ({"duration": "PT1H"}, (), {"duration_s": 3600}),
        ({"duration": " P1W "}, (), {"duration_s": 604800}),
        ({"duration": "P1DT2H3M4S"}, (), {"duration_s": 93784}),
        ({"duration": "PT15M"}, (), {"duration_s": 900}),
        ({"duration": "900"}, (), {"duration_s": 900}),
        ({"duration": 1}, (), {"duration_s": 1}),
        ({"duration": 60.0}, (), {"duration_s": 60}),
        ({"end": "2026-01-01T00:00:00Z"}, (), {"duration_s": 3600}),  # agrees with duration
        ({"end": "2026-01-01T00:00:01Z"}, ("duration",), {"duration_s": 3601}),
        ({"duration": "", "end": "2026-01-01T00:00:00Z"}, (), {"duration_s": 3600}),
        ({"end": ""}, (), {"duration_s": 3600}),
        ({"value": "2.5"}, (), {"value": 2.5}),
        ({"value": 3}, (), {"value": 3.0}),
        ({"value": 2500, "unit": "Wh"}, (), {"value": 2.5, "unit": "kWh"}),
        ({"value": 2, "unit": " k W h "}, (), {"value": 2.0, "unit": "kWh"}),
        ({"value": 1, "unit": "MWH"}, (), {"value": 1000.0, "unit": "kWh"}),
        ({"value": 5, "unit": "THERMS"}, (), {"value": 5.0, "unit": "therm"}),
        ({"value": 500, "unit": "l"}, (), {"value": 0.5, "unit": "m3"}),
        ({"value": 51.2, "unit": "EUR"}, (), {"value": 5120.0, "unit": "EUR"}),
        ({"value": 12, "unit": "JPY"}, (), {"value": 12.0, "unit": "JPY"}),
        ({"quality": ""}, (), {"quality": None}),
        ({"quality": " estimated "}, (), {"quality": "estimated"}),
        ({"quality": 3}, (), {"quality": "3"}),
    ],
)
def test_unusual_but_valid_shapes_are_accepted_as_meant(
    change: dict[str, Any], drop: tuple[str, ...], expected: dict[str, Any]
) -> None:
    row = accepted(change, drop)
    assert {name: getattr(row, name) for name in expected} == expected


def test_the_future_limit_is_a_day_after_now_and_needs_an_aware_now() -> None:
    assert future_limit(NOW) == datetime(2026, 1, 2, 12, 0, tzinfo=UTC)
    with pytest.raises(ValueError, match="timezone-aware"):
        future_limit(datetime(2026, 1, 1))


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        (2500.0, "Wh", (2.5, "kWh")),
        (2.0, "kWh", (2.0, "kWh")),
        (3.0, "GWh", (3_000_000.0, "kWh")),
        (1.0, "ft³", (0.028316846592, "m3")),
        (1.0, "ccf", (2.8316846592, "m3")),
        (7.0, "pcs", (7.0, "count")),
        (19.99, "USD", (1999.0, "USD")),
        (2.0, "kw·h", (2.0, "kWh")),
        (4.0, "cubic_metre", (4.0, "m3")),
    ],
)
def test_units_normalise_exactly(value: float, unit: str, expected: tuple[float, str]) -> None:
    assert normalise(value, unit) == expected
