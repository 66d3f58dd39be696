"""Quiet hours, cap periods and retry backoff as the customer meets them: after midnight, on
both nights the clocks change in both hemispheres, on weekdays only, and retries that wait
longer each time within their jitter."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from engine.delivery.policies import backoff, cap_period, quiet_until

BERLIN, SYDNEY = "Europe/Berlin", "Australia/Sydney"
EVENINGS = [{"start": "21:00", "end": "08:00"}]
WEEKNIGHTS = [{"start": "21:00", "end": "08:00", "days": [0, 1, 2, 3, 4]}]  # Mon–Fri nights


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- quiet hours that started the evening before -------------------------------------------


@pytest.mark.parametrize(
    ("now", "until"),
    [
        (utc(2026, 6, 10, 19, 0), utc(2026, 6, 11, 6, 0)),  # 21:00 local: the first quiet minute
        (utc(2026, 6, 10, 21, 59), utc(2026, 6, 11, 6, 0)),  # 23:59
        (utc(2026, 6, 10, 22, 0), utc(2026, 6, 11, 6, 0)),  # 00:00, the next local day
        (utc(2026, 6, 11, 0, 0), utc(2026, 6, 11, 6, 0)),  # 02:00 after midnight
        (utc(2026, 6, 11, 5, 59), utc(2026, 6, 11, 6, 0)),  # 07:59
    ],
)
def test_inside_evening_quiet_hours_waits_until_eight(now: datetime, until: datetime) -> None:
    assert quiet_until(now, BERLIN, EVENINGS) == until


@pytest.mark.parametrize(
    "now",
    [
        utc(2026, 6, 11, 6, 0),  # 08:00 local: quiet is over
        utc(2026, 6, 11, 10, 0),  # noon
        utc(2026, 6, 10, 18, 59),  # 20:59
    ],
)
def test_outside_quiet_hours_sends_now(now: datetime) -> None:
    assert quiet_until(now, BERLIN, EVENINGS) is None


def test_a_daytime_period_that_does_not_wrap() -> None:
    lunch = [{"start": "12:00", "end": "13:30"}]
    assert quiet_until(utc(2026, 6, 10, 10, 15), BERLIN, lunch) == utc(2026, 6, 10, 11, 30)
    assert quiet_until(utc(2026, 6, 10, 11, 30), BERLIN, lunch) is None
    assert quiet_until(utc(2026, 6, 10, 9, 59), BERLIN, lunch) is None
    assert quiet_until(utc(2026, 6, 10, 0, 0), BERLIN, lunch) is None  # 02:00 is not lunch


# --- the nights the clocks change ------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "now", "until"),
    [
        # Berlin springs forward on 29 March 2026 (02:00 CET -> 03:00 CEST): 08:00 is 06:00 UTC
        (BERLIN, utc(2026, 3, 28, 20, 0), utc(2026, 3, 29, 6, 0)),  # 21:00 CET
        (BERLIN, utc(2026, 3, 29, 0, 30), utc(2026, 3, 29, 6, 0)),  # 01:30 CET
        (BERLIN, utc(2026, 3, 29, 1, 0), utc(2026, 3, 29, 6, 0)),  # 03:00 CEST, just after
        (BERLIN, utc(2026, 3, 29, 5, 59), utc(2026, 3, 29, 6, 0)),  # 07:59 CEST
        # Berlin falls back on 25 October 2026 (03:00 CEST -> 02:00 CET): 08:00 is 07:00 UTC
        (BERLIN, utc(2026, 10, 24, 19, 0), utc(2026, 10, 25, 7, 0)),  # 21:00 CEST
        (BERLIN, utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 7, 0)),  # 02:30 CEST
        (BERLIN, utc(2026, 10, 25, 1, 30), utc(2026, 10, 25, 7, 0)),  # 02:30 CET, again
        (BERLIN, utc(2026, 10, 25, 6, 59), utc(2026, 10, 25, 7, 0)),  # 07:59 CET
        # Sydney falls back on 5 April 2026 (03:00 AEDT -> 02:00 AEST): 08:00 is 22:00 UTC
        (SYDNEY, utc(2026, 4, 4, 10, 0), utc(2026, 4, 4, 22, 0)),  # 21:00 AEDT
        (SYDNEY, utc(2026, 4, 4, 15, 30), utc(2026, 4, 4, 22, 0)),  # 02:30 AEDT
        (SYDNEY, utc(2026, 4, 4, 16, 30), utc(2026, 4, 4, 22, 0)),  # 02:30 AEST, again
        # Sydney springs forward on 4 October 2026 (02:00 AEST -> 03:00 AEDT): 08:00 is 21:00
        (SYDNEY, utc(2026, 10, 3, 11, 0), utc(2026, 10, 3, 21, 0)),  # 21:00 AEST
        (SYDNEY, utc(2026, 10, 3, 15, 30), utc(2026, 10, 3, 21, 0)),  # 01:30 AEST
        (SYDNEY, utc(2026, 10, 3, 16, 0), utc(2026, 10, 3, 21, 0)),  # 03:00 AEDT
    ],
)
def test_quiet_hours_end_at_eight_local_on_the_nights_the_clocks_change(
    zone: str, now: datetime, until: datetime
) -> None:
    assert quiet_until(now, zone, EVENINGS) == until


@pytest.mark.parametrize(
    ("zone", "day_before_change", "first_quiet_utc"),
    [
        (BERLIN, utc(2026, 3, 28, 19, 59), utc(2026, 3, 28, 20, 0)),  # 21:00 CET
        (BERLIN, utc(2026, 10, 24, 18, 59), utc(2026, 10, 24, 19, 0)),  # 21:00 CEST
        (SYDNEY, utc(2026, 4, 4, 9, 59), utc(2026, 4, 4, 10, 0)),  # 21:00 AEDT
        (SYDNEY, utc(2026, 10, 3, 10, 59), utc(2026, 10, 3, 11, 0)),  # 21:00 AEST
    ],
)
def test_quiet_hours_start_at_nine_local_on_those_evenings(
    zone: str, day_before_change: datetime, first_quiet_utc: datetime
) -> None:
    assert quiet_until(day_before_change, zone, EVENINGS) is None
    assert quiet_until(first_quiet_utc, zone, EVENINGS) is not None


def test_a_quiet_time_the_clocks_skip_is_reached_when_they_jump() -> None:
    # 02:30 does not exist in Berlin on 29 March 2026: the clock jumps from 02:00 to 03:00.
    night = [{"start": "23:00", "end": "02:30"}]
    assert quiet_until(utc(2026, 3, 28, 23, 30), BERLIN, night) == utc(2026, 3, 29, 1, 0)
    # A period from 02:30 has begun at 03:10 CEST: the customer's clock is past 02:30.
    early = [{"start": "02:30", "end": "06:00"}]
    assert quiet_until(utc(2026, 3, 29, 1, 10), BERLIN, early) == utc(2026, 3, 29, 4, 0)
    assert quiet_until(utc(2026, 3, 29, 0, 59), BERLIN, early) is None  # 01:59 CET


def test_the_customers_date_decides_which_periods_have_begun_not_the_servers() -> None:
    # 00:30 on 11 June in Auckland is still 10 June in UTC; 02:00 in Honolulu is 12:00 UTC.
    after_midnight = [{"start": "00:00", "end": "06:00"}]
    assert quiet_until(utc(2026, 6, 10, 12, 30), "Pacific/Auckland", after_midnight) == utc(
        2026, 6, 10, 18, 0
    )
    assert quiet_until(utc(2026, 6, 11, 12, 0), "Pacific/Honolulu", EVENINGS) == utc(
        2026, 6, 11, 18, 0
    )


# --- weekdays only ------------------------------------------------------------------------
# June 2026: Friday 12th, Saturday 13th, Sunday 14th, Monday 15th. Berlin is UTC+2.


@pytest.mark.parametrize(
    ("now", "until", "when"),
    [
        (utc(2026, 6, 12, 21, 0), utc(2026, 6, 13, 6, 0), "Friday 23:00"),
        (utc(2026, 6, 13, 0, 0), utc(2026, 6, 13, 6, 0), "Saturday 02:00, Friday's night"),
        (utc(2026, 6, 13, 21, 0), None, "Saturday 23:00, no quiet on Saturday nights"),
        (utc(2026, 6, 14, 21, 0), None, "Sunday 23:00"),
        (utc(2026, 6, 15, 0, 0), None, "Monday 02:00, Sunday's night is not quiet"),
        (utc(2026, 6, 15, 19, 0), utc(2026, 6, 16, 6, 0), "Monday 21:00"),
        (utc(2026, 6, 16, 2, 0), utc(2026, 6, 16, 6, 0), "Tuesday 04:00, Monday's night"),
    ],
)
def test_weeknight_quiet_hours(now: datetime, until: datetime | None, when: str) -> None:
    assert quiet_until(now, BERLIN, WEEKNIGHTS) == until, when


def test_weekend_days_off_and_weeknights_together() -> None:
    periods: list[dict[str, Any]] = [
        *WEEKNIGHTS,
        {"start": "00:00", "end": "23:59", "days": [5, 6]},  # all of Saturday and Sunday
    ]
    # Friday 22:00 -> Saturday 08:00 (Friday's night), then Saturday's own period follows on:
    # quiet runs to Saturday 23:59, then one free minute.
    assert quiet_until(utc(2026, 6, 12, 20, 0), BERLIN, periods) == utc(2026, 6, 13, 21, 59)
    assert quiet_until(utc(2026, 6, 13, 21, 59), BERLIN, periods) is None


def test_periods_that_follow_on_are_one_quiet_stretch() -> None:
    periods = [{"start": "21:00", "end": "23:00"}, {"start": "23:00", "end": "07:00"}]
    assert quiet_until(utc(2026, 6, 10, 19, 30), BERLIN, periods) == utc(2026, 6, 11, 5, 0)


def test_overlapping_periods_wait_for_the_later_end() -> None:
    periods = [{"start": "22:00", "end": "06:00"}, {"start": "05:00", "end": "09:00"}]
    assert quiet_until(utc(2026, 6, 11, 1, 0), BERLIN, periods) == utc(2026, 6, 11, 7, 0)
    assert quiet_until(utc(2026, 6, 11, 3, 30), BERLIN, periods) == utc(2026, 6, 11, 7, 0)


def test_no_periods_means_never_quiet() -> None:
    assert quiet_until(utc(2026, 6, 11, 1, 0), BERLIN, []) is None


# --- frequency-cap periods -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("per", "now", "start", "end"),
    [
        ("hour", utc(2026, 6, 10, 10, 42), utc(2026, 6, 10, 10, 0), utc(2026, 6, 10, 11, 0)),
        ("day", utc(2026, 6, 10, 10, 42), utc(2026, 6, 9, 22, 0), utc(2026, 6, 10, 22, 0)),
        # ISO week: Monday 8 June 00:00 to Monday 15 June 00:00, Berlin time
        ("week", utc(2026, 6, 10, 10, 42), utc(2026, 6, 7, 22, 0), utc(2026, 6, 14, 22, 0)),
        # the spring-forward day has 23 hours, its week 167
        ("day", utc(2026, 3, 29, 12, 0), utc(2026, 3, 28, 23, 0), utc(2026, 3, 29, 22, 0)),
        ("week", utc(2026, 3, 29, 12, 0), utc(2026, 3, 22, 23, 0), utc(2026, 3, 29, 22, 0)),
    ],
)
def test_cap_periods_are_local_calendar_periods(
    per: str, now: datetime, start: datetime, end: datetime
) -> None:
    assert cap_period(now, BERLIN, per) == (start, end)


def test_an_unknown_cap_period_is_refused() -> None:
    with pytest.raises(KeyError):
        cap_period(utc(2026, 6, 10, 10, 0), BERLIN, "month")


# --- retry backoff --------------------------------------------------------------------------


class Lowest(random.Random):
    def uniform(self, a: float, b: float) -> float:
        return a


class Highest(random.Random):
    def uniform(self, a: float, b: float) -> float:
        return b


@pytest.mark.parametrize(
    ("attempt", "ceiling_s"),
    [(0, 30), (1, 30), (2, 60), (3, 120), (4, 240), (7, 1920), (8, 3600), (20, 3600)],
)
def test_backoff_doubles_up_to_an_hour_and_jitters_down_to_half(
    attempt: int, ceiling_s: float
) -> None:
    assert backoff(attempt, Highest()) == timedelta(seconds=ceiling_s)
    assert backoff(attempt, Lowest()) == timedelta(seconds=ceiling_s / 2)


def test_backoff_jitter_spreads_retries_within_its_bounds() -> None:
    rng = random.Random(7)
    for attempt in range(1, 10):
        ceiling = min(3600.0, 30.0 * 2 ** (attempt - 1))
        waits = {backoff(attempt, rng).total_seconds() for _ in range(50)}
        assert all(ceiling / 2 <= w <= ceiling for w in waits), (attempt, waits)
        assert len(waits) > 40  # jitter, not a constant


def test_backoff_without_a_given_rng_still_jitters_within_bounds() -> None:
    waits = {backoff(3).total_seconds() for _ in range(50)}
    assert all(60 <= w <= 120 for w in waits)
    assert len(waits) > 40
