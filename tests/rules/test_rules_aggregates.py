"""Window statistics from readings, projection over a partly covered window, and baselines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from rules.aggregates import Reading, WindowStats, aggregate, baseline_of, stats_from_totals
from rules.windows import window_for

LA = "America/Los_Angeles"
DAY = window_for("day", datetime(2026, 6, 10, 12, tzinfo=UTC), "Europe/Berlin")
HOUR = timedelta(hours=1)


def hourly(*values: float, start: datetime = DAY.start) -> list[Reading]:
    return [Reading(start + i * HOUR, HOUR, v) for i, v in enumerate(values)]


def test_aggregates_of_a_window() -> None:
    stats = aggregate(hourly(2.0, 5.0, 1.0, 4.0), DAY, DAY.start + 12 * HOUR)
    assert (stats.sum, stats.count, stats.min, stats.max, stats.last) == (12.0, 4, 1.0, 5.0, 4.0)
    assert stats.avg == 3.0
    assert stats.elapsed == 0.5
    assert (stats.start, stats.end) == (DAY.start, DAY.end)


def test_projected_extrapolates_the_covered_part_of_the_window() -> None:
    # Six hours of a 24-hour day carry 3 kWh: the day is heading for 12 kWh.
    stats = aggregate(hourly(0.5, 0.5, 0.5, 0.5, 0.5, 0.5), DAY, DAY.start + 20 * HOUR)
    assert stats.projected == pytest.approx(12.0)


def test_projection_uses_the_local_day_length_on_dst_days() -> None:
    short_day = window_for("day", datetime(2011, 3, 13, 12, tzinfo=UTC), LA)  # 23 hours
    readings = [Reading(short_day.start, timedelta(hours=11.5), 5.0)]
    during = short_day.start + timedelta(hours=12)
    assert aggregate(readings, short_day, during).projected == pytest.approx(10.0)


def test_a_window_that_has_ended_projects_to_its_total() -> None:
    # The readings cover 5 of 24 hours, but the day is over: it ended at 12.5, not 60.
    stats = aggregate(hourly(2.5, 2.5, 2.5, 2.5, 2.5), DAY, DAY.end + HOUR)
    assert (stats.sum, stats.elapsed, stats.projected) == (12.5, 1.0, 12.5)


def test_last_is_the_latest_reading_whatever_the_arrival_order() -> None:
    readings = hourly(1.0, 2.0, 3.0)
    assert aggregate(reversed(readings), DAY, DAY.end).last == 3.0


def test_readings_outside_the_window_are_ignored() -> None:
    readings = hourly(1.0, start=DAY.start - HOUR) + hourly(2.0) + hourly(4.0, start=DAY.end)
    stats = aggregate(readings, DAY, DAY.end)
    assert (stats.sum, stats.count) == (2.0, 1)


def test_empty_window_reads_as_zero() -> None:
    stats = aggregate([], DAY, DAY.start)
    assert stats == WindowStats.empty(DAY, DAY.start)
    assert (stats.sum, stats.max, stats.count, stats.projected) == (0.0, 0.0, 0, 0.0)


def test_stats_from_stored_totals_match_the_readings() -> None:
    readings = hourly(2.0, 5.0, 1.0)
    now = DAY.start + 5 * HOUR
    from_totals = stats_from_totals(
        DAY,
        now,
        total=8.0,
        count=3,
        minimum=1.0,
        maximum=5.0,
        last=1.0,
        covered_until=readings[-1].end,
    )
    assert from_totals == aggregate(readings, DAY, now)


def test_baseline_is_the_mean_of_windows_that_had_readings() -> None:
    day = DAY
    history = [
        aggregate(hourly(10.0, start=day.previous().start), day.previous(), day.start),
        aggregate(
            hourly(4.0, 2.0, start=day.previous().previous().start),
            day.previous().previous(),
            day.start,
        ),
        aggregate([], day.previous().previous().previous(), day.start),
    ]
    baseline = baseline_of(history)
    assert baseline.windows == 2
    assert baseline.sum == 8.0
    assert baseline.count == 1.5
    assert baseline.max == 7.0


def test_baseline_without_history_is_zero() -> None:
    assert baseline_of([]).windows == 0
    assert baseline_of([]).sum == 0.0
