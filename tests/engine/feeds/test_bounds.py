"""The bounds values from outside must keep, at their exact edges, with the messages that
name them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from engine.feeds.parsing.rows import parse_objects
from engine.feeds.parsing.values import (
    MAX_DURATION_S,
    RowError,
    as_duration,
    check_magnitude,
    check_not_past,
)
from engine.platform.validation import EARLIEST, MAX_MAGNITUDE

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def _row(**fields: object) -> dict[str, object]:
    return {
        "customer": "c-1",
        "metric": "electricity.consumption",
        "start": "2026-01-01T00:00:00Z",
        "duration": 3600,
        "value": 1.0,
        "unit": "kWh",
        **fields,
    }


def _reasons(*rows: dict[str, object]) -> list[tuple[int, str | None, str]]:
    result = parse_objects(enumerate(rows), NOW)
    return [(r.index, r.field, r.reason) for r in result.rejections]


def test_magnitude_is_inclusive_at_its_bound_and_names_it() -> None:
    assert check_magnitude(MAX_MAGNITUDE, "kWh") == MAX_MAGNITUDE
    assert check_magnitude(-MAX_MAGNITUDE, "kWh") == -MAX_MAGNITUDE
    for value in (MAX_MAGNITUDE * 1.000001, -MAX_MAGNITUDE * 1.000001, float("nan")):
        with pytest.raises(RowError) as caught:
            check_magnitude(value, "kWh", "amount")
        assert caught.value.field == "amount"
        assert caught.value.reason == f"{value!r} kWh is beyond the accepted ±1e+12 kWh"


def test_the_earliest_instant_is_accepted_and_a_second_before_it_is_not() -> None:
    check_not_past(EARLIEST, "start")
    with pytest.raises(RowError) as caught:
        check_not_past(EARLIEST - timedelta(seconds=1), "occurred_at")
    assert caught.value.field == "occurred_at"
    assert caught.value.reason == (
        "'occurred_at' 1969-12-31T23:59:59+00:00 is before 1970-01-01T00:00:00+00:00"
    )


def test_durations_up_to_366_days() -> None:
    assert as_duration(MAX_DURATION_S) == MAX_DURATION_S
    with pytest.raises(RowError) as caught:
        as_duration(MAX_DURATION_S + 1)
    assert caught.value.reason == "duration is at most 31622400 s (366 days), got 31622401"


def test_rows_at_and_beyond_each_bound_on_both_paths() -> None:
    year = datetime(2025, 1, 1, tzinfo=UTC)
    at_max_end = (year + timedelta(seconds=MAX_DURATION_S)).isoformat()
    past_max_end = (year + timedelta(seconds=MAX_DURATION_S + 1)).isoformat()
    rows = [
        _row(),  # primes the plain-row shortcut
        _row(duration=MAX_DURATION_S),
        _row(duration=MAX_DURATION_S + 1),
        _row(value=1e9, unit="MWh"),  # exactly 1e12 kWh
        _row(value=1.0000001e9, unit="MWh"),
        _row(start=year.isoformat(), duration=None, end=at_max_end),
        _row(start=year.isoformat(), duration=None, end=past_max_end),
        _row(start="1970-01-01T00:00:00Z"),
        _row(start="1969-12-31T23:59:59Z"),
    ]
    assert _reasons(*rows) == [
        (2, "duration", "duration is at most 31622400 s (366 days), got 31622401"),
        (4, "value", "1000000100000.0 kWh is beyond the accepted ±1e+12 kWh"),
        (6, "end", "'end' is more than 31622400 s (366 days) after 'start'"),
        (8, "start", "'start' 1969-12-31T23:59:59+00:00 is before 1970-01-01T00:00:00+00:00"),
    ]
