"""Pure delivery policies: quiet hours, frequency-cap periods, retry backoff.

Quiet periods are local times in the customer's zone (``21:00``–``08:00`` wraps midnight);
``days`` name the weekdays (0 = Monday) on which a period starts. DST-correct, read from the
customer's wall clock: a period starts (or ends) the first moment the clock shows its local
time or later, so a time the clocks skip is reached when they jump past it (02:30 on a night
that goes from 02:00 to 03:00 is reached at 03:00) and a repeated one the first time.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from rules.windows import first_instant_at, window_for

ALL_DAYS = (0, 1, 2, 3, 4, 5, 6)
BACKOFF_BASE_S = 30.0
BACKOFF_CAP_S = 3600.0
# Periods repeat weekly: quiet for longer than a week on end means quiet for good.
_LONGEST_QUIET = timedelta(days=8)


def _hhmm(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def _spans(period: Mapping[str, Any], day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    start, end = _hhmm(period["start"]), _hhmm(period["end"])
    end_day = day + timedelta(days=1) if end <= start else day
    return (
        first_instant_at(datetime.combine(day, start), zone),
        first_instant_at(datetime.combine(end_day, end), zone),
    )


def _quiet_end(
    now: datetime, zone: ZoneInfo, periods: Sequence[Mapping[str, Any]]
) -> datetime | None:
    today = now.astimezone(zone).date()
    for period in periods:
        days = period.get("days") or ALL_DAYS
        for day in (today - timedelta(days=1), today):
            if day.weekday() not in days:
                continue
            start, end = _spans(period, day, zone)
            if start <= now < end:
                return end
    return None


def quiet_until(
    now: datetime, timezone: str, periods: Sequence[Mapping[str, Any]]
) -> datetime | None:
    """When ``now`` is inside a quiet period, the instant the quiet ends (following periods
    that start before or exactly as one ends); None when sending is allowed now. Quiet for
    more than a week on end: an instant that far on, itself still quiet."""
    zone, end = ZoneInfo(timezone), None
    at = now
    while at - now <= _LONGEST_QUIET:
        following = _quiet_end(at, zone, periods)
        if following is None:
            return end
        end = at = following
    return end


def cap_period(now: datetime, timezone: str, per: str) -> tuple[datetime, datetime]:
    """The calendar period (hour, day, ISO week) of a frequency cap, in the customer's zone."""
    kind = {"hour": "hour", "day": "day", "week": "week"}[per]
    window = window_for(kind, now, timezone)  # type: ignore[arg-type]
    return window.start, window.end


def backoff(attempt: int, rng: random.Random | None = None) -> timedelta:
    """Exponential backoff with jitter: 30 s, 60 s, 120 s … capped at an hour, times 0.5–1."""
    ceiling = min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** max(0, attempt - 1))
    return timedelta(seconds=ceiling * (rng or random).uniform(0.5, 1.0))
