"""Calendar windows in a customer's zone: DST days, weeks, months, and tiling of time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rules.windows import Window, WindowKind, iso_utc, window_for

LA = "America/Los_Angeles"
BERLIN = "Europe/Berlin"
H = timedelta(hours=1)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("zone", "instant", "start", "hours"),
    [
        (LA, utc(2011, 3, 13, 12), utc(2011, 3, 13, 8), 23),
        (LA, utc(2011, 11, 6, 12), utc(2011, 11, 6, 7), 25),
        (LA, utc(2011, 7, 1, 12), utc(2011, 7, 1, 7), 24),
        (BERLIN, utc(2011, 3, 27, 12), utc(2011, 3, 26, 23), 23),
        (BERLIN, utc(2011, 10, 30, 12), utc(2011, 10, 29, 22), 25),
    ],
)
def test_local_days_have_23_24_or_25_hours(
    zone: str, instant: datetime, start: datetime, hours: int
) -> None:
    window = window_for("day", instant, zone)
    assert window.start == start
    assert window.duration == timedelta(hours=hours)


def test_instants_near_local_midnight_fall_in_the_local_day() -> None:
    # 07:30 UTC on 2011-11-06 is 23:30 PDT on the 5th, an hour before that day ends.
    assert window_for("day", utc(2011, 11, 6, 6, 30), LA).start == utc(2011, 11, 5, 7)
    assert window_for("day", utc(2011, 11, 6, 7), LA).start == utc(2011, 11, 6, 7)


def test_iso_week_starts_monday_and_spans_the_dst_change() -> None:
    window = window_for("week", utc(2011, 3, 13, 20), LA)  # a Sunday
    assert window.start == utc(2011, 3, 7, 8)  # Monday 00:00 PST
    assert window.end == utc(2011, 3, 14, 7)  # Monday 00:00 PDT
    assert window.duration == timedelta(days=7) - H


@pytest.mark.parametrize(
    ("zone", "instant", "start", "end"),
    [
        (LA, utc(2011, 3, 20), utc(2011, 3, 1, 8), utc(2011, 4, 1, 7)),
        (BERLIN, utc(2011, 10, 15), utc(2011, 9, 30, 22), utc(2011, 10, 31, 23)),
        (BERLIN, utc(2011, 12, 31, 12), utc(2011, 11, 30, 23), utc(2011, 12, 31, 23)),
        (BERLIN, utc(2012, 2, 29, 23, 30), utc(2012, 2, 29, 23), utc(2012, 3, 31, 22)),
    ],
)
def test_months_follow_the_local_calendar(
    zone: str, instant: datetime, start: datetime, end: datetime
) -> None:
    window = window_for("month", instant, zone)
    assert (window.start, window.end) == (start, end)


def test_repeated_local_hour_is_two_windows() -> None:
    first = window_for("hour", utc(2011, 11, 6, 8, 30), LA)  # 01:30 PDT
    second = window_for("hour", utc(2011, 11, 6, 9, 30), LA)  # 01:30 PST
    assert (first.start, first.end) == (utc(2011, 11, 6, 8), utc(2011, 11, 6, 9))
    assert (second.start, second.end) == (utc(2011, 11, 6, 9), utc(2011, 11, 6, 10))


def test_half_hour_zone_hours_start_on_the_local_hour() -> None:
    window = window_for("hour", utc(2024, 1, 1, 10, 45), "Asia/Kolkata")  # 16:15 IST
    assert (window.start, window.end) == (utc(2024, 1, 1, 10, 30), utc(2024, 1, 1, 11, 30))


def test_day_without_local_midnight_starts_at_the_first_existing_instant() -> None:
    # Sao Paulo sprang from 00:00 to 01:00 on 2018-11-04.
    window = window_for("day", utc(2018, 11, 4, 12), "America/Sao_Paulo")
    assert window.start == utc(2018, 11, 4, 3)
    assert window.start.astimezone(ZoneInfo("America/Sao_Paulo")).hour == 1
    assert window.duration == timedelta(hours=23)


def test_skipped_calendar_day_does_not_leave_a_gap() -> None:
    # Samoa skipped 2011-12-30 entirely: the 29th is followed by the 31st.
    day29 = window_for("day", utc(2011, 12, 29, 20), "Pacific/Apia")
    assert day29.next().start == day29.end
    assert day29.next().start.astimezone(ZoneInfo("Pacific/Apia")).day == 31


def test_previous_and_next_walk_the_calendar() -> None:
    window = window_for("day", utc(2011, 3, 13, 12), LA)
    assert window.previous().end == window.start
    assert window.next().start == window.end
    assert window.next().previous() == window
    assert window.key == "2011-03-13T08:00:00Z"


def test_elapsed_is_a_clipped_fraction_of_the_local_day() -> None:
    window = window_for("day", utc(2011, 3, 13, 12), LA)  # 23 hours long
    assert window.elapsed(window.start + timedelta(hours=11.5)) == pytest.approx(0.5)
    assert window.elapsed(window.start - H) == 0.0
    assert window.elapsed(window.end + H) == 1.0


def test_none_window_covers_all_time_and_has_no_neighbours() -> None:
    window = window_for("none", utc(2026, 1, 1), BERLIN)
    assert window.contains(utc(1970, 1, 1)) and window.contains(utc(2999, 1, 1))
    assert window.key == "all"
    with pytest.raises(ValueError):
        window.next()


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        window_for("day", datetime(2026, 1, 1), BERLIN)


# Offset changes, so that generated instants often straddle one.
TRANSITIONS = [
    (LA, utc(2011, 3, 13, 10)),
    (LA, utc(2011, 11, 6, 9)),
    (BERLIN, utc(2011, 3, 27, 1)),
    (BERLIN, utc(2011, 10, 30, 1)),
    ("America/Sao_Paulo", utc(2018, 11, 4, 3)),
    ("Australia/Lord_Howe", utc(2023, 4, 1, 15)),
    ("Asia/Kolkata", utc(2024, 1, 1)),
    ("Pacific/Apia", utc(2011, 12, 30, 10)),
]
anywhere = st.tuples(
    st.sampled_from([zone for zone, _ in TRANSITIONS]),
    st.datetimes(
        min_value=datetime(2010, 1, 1), max_value=datetime(2024, 12, 31), timezones=st.just(UTC)
    ),
)
near_change = st.builds(
    lambda change, shift: (change[0], change[1] + shift),
    st.sampled_from(TRANSITIONS),
    st.timedeltas(min_value=timedelta(days=-40), max_value=timedelta(days=40)),
)
zoned = st.one_of(anywhere, near_change)
kinds = st.sampled_from(["hour", "day", "week", "month"])


@given(at=zoned, kind=kinds)
def test_every_instant_lies_in_exactly_one_window(
    at: tuple[str, datetime], kind: WindowKind
) -> None:
    zone, instant = at
    window = window_for(kind, instant, zone)
    assert window.contains(instant)
    assert not window.previous().contains(instant)
    assert not window.next().contains(instant)


@given(at=zoned, kind=kinds)
def test_windows_tile_time_without_gaps_or_overlaps(
    at: tuple[str, datetime], kind: WindowKind
) -> None:
    zone, instant = at
    window = window_for(kind, instant, zone)
    for _ in range(30):
        following = window.next()
        assert following.start == window.end > window.start
        assert window_for(kind, following.start, zone) == following
        assert window_for(kind, following.start - timedelta(microseconds=1), zone) == window
        window = following


@given(at=zoned, kind=st.sampled_from(["day", "week", "month"]))
def test_calendar_windows_start_at_local_midnight_or_a_zone_change(
    at: tuple[str, datetime], kind: WindowKind
) -> None:
    window = window_for(kind, at[1], at[0])
    assert _starts_at_local_boundary(window, minute_only=False)


@given(at=zoned)
def test_hours_start_on_the_local_hour_or_a_zone_change(at: tuple[str, datetime]) -> None:
    window = window_for("hour", at[1], at[0])
    assert window.duration <= H
    assert _starts_at_local_boundary(window, minute_only=True)


def _starts_at_local_boundary(window: Window, *, minute_only: bool) -> bool:
    local = window.start.astimezone(window.zone)
    on_boundary = local.minute == 0 and (minute_only or local.hour == 0)
    just_before = (window.start - timedelta(seconds=1)).astimezone(window.zone)
    return on_boundary or just_before.utcoffset() != local.utcoffset()


def test_iso_utc_uses_z_suffix() -> None:
    assert iso_utc(datetime(2026, 3, 1, 9, tzinfo=ZoneInfo(BERLIN))) == "2026-03-01T08:00:00Z"


def test_iso_utc_tells_apart_the_two_instants_of_an_ambiguous_local_time() -> None:
    berlin = ZoneInfo(BERLIN)  # 2026-10-25 02:30 happens twice in Berlin
    first, second = (datetime(2026, 10, 25, 2, 30, fold=f, tzinfo=berlin) for f in (0, 1))
    assert first == second  # equal as keys: same zone, same wall time
    assert (iso_utc(first), iso_utc(second)) == ("2026-10-25T00:30:00Z", "2026-10-25T01:30:00Z")
    assert iso_utc(first.astimezone(UTC)) == "2026-10-25T00:30:00Z"
    assert iso_utc(second.astimezone(UTC)) == "2026-10-25T01:30:00Z"
