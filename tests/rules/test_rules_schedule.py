"""Schedule reminders: local send times across DST, and occurrence keys."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from rules.errors import ParameterError
from rules.schedule import occurrence_key, parse_local_time, reminder_at

LA = "America/Los_Angeles"


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("due", "days", "local", "zone", "expected"),
    [
        (date(2011, 3, 20), 7, "09:00", LA, utc(2011, 3, 13, 16)),  # PDT, DST day
        (date(2011, 3, 19), 7, "09:00", LA, utc(2011, 3, 12, 17)),  # PST, day before
        (date(2011, 11, 13), 7, "09:00", LA, utc(2011, 11, 6, 17)),  # back to PST
        (date(2011, 4, 10), 14, "08:30", "Europe/Berlin", utc(2011, 3, 27, 6, 30)),
        (date(2011, 3, 27), 0, "08:30", "Europe/Berlin", utc(2011, 3, 27, 6, 30)),
    ],
)
def test_reminder_is_at_the_local_time_days_before(
    due: date, days: int, local: str, zone: str, expected: datetime
) -> None:
    assert reminder_at(due, days, local, zone) == expected


def test_nonexistent_local_time_moves_forward_by_the_gap() -> None:
    # 02:30 did not exist in Los Angeles on 2011-03-13; 03:30 PDT is 10:30 UTC.
    assert reminder_at(date(2011, 3, 14), 1, "02:30", LA) == utc(2011, 3, 13, 10, 30)


def test_ambiguous_local_time_takes_the_first_occurrence() -> None:
    # 01:30 happened twice on 2011-11-06; the first (PDT) is 08:30 UTC.
    assert reminder_at(date(2011, 11, 7), 1, time(1, 30), LA) == utc(2011, 11, 6, 8, 30)


def test_whole_days_only() -> None:
    with pytest.raises(ParameterError) as info:
        reminder_at(date(2026, 1, 10), 1.5, "09:00", LA)
    assert info.value.errors[0][0] == "days_before"
    assert reminder_at(date(2026, 1, 10), 2.0, "09:00", "UTC") == utc(2026, 1, 8, 9)


@pytest.mark.parametrize("text", ["9:00", "24:00", "09:60", "0900", ""])
def test_local_time_must_be_hh_mm(text: str) -> None:
    with pytest.raises(ParameterError):
        parse_local_time(text)


def test_occurrence_key_identifies_the_due_date_and_offset() -> None:
    assert occurrence_key(date(2027, 3, 3), 14.0) == "s:2027-03-03-14d"
    assert occurrence_key(date(2027, 3, 3), 14) != occurrence_key(date(2027, 3, 4), 14)
