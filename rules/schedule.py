"""Reminder instants for schedule rules: ``days_before`` a due date at a local time, DST-correct.

A local time that does not exist (spring forward) moves forward by the length of the gap
(02:30 → 03:30); an ambiguous one (fall back) takes its first occurrence.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from rules.errors import ParameterError
from rules.windows import zone_of

_HHMM = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")


def parse_local_time(text: str) -> time:
    """``HH:MM`` as a time of day (ParameterError for anything else)."""
    match = _HHMM.fullmatch(text)
    if match is None:
        raise ParameterError([("local_time", "must be a local time as HH:MM")])
    return time(int(match[1]), int(match[2]))


def local_to_utc(wall: datetime, tz: ZoneInfo | str) -> datetime:
    """A naive local wall time in ``tz`` as UTC: gaps move forward, ambiguity takes the first."""
    # PEP 495: fold=0 reads a gap time with the offset before the transition (forward by the
    # gap) and an ambiguous time as its first occurrence.
    return wall.replace(tzinfo=zone_of(tz), fold=0).astimezone(UTC)


def reminder_at(
    due: date, days_before: float, local_time: str | time, tz: ZoneInfo | str
) -> datetime:
    """UTC instant of the reminder ``days_before`` whole days before ``due`` at ``local_time``."""
    days = _whole_days(days_before)
    at = parse_local_time(local_time) if isinstance(local_time, str) else local_time
    day = due - timedelta(days=days)
    return local_to_utc(datetime.combine(day, at), tz)


def occurrence_key(due: date, days_before: float) -> str:
    """Unique key of one reminder of one due date, e.g. ``s:2027-03-03-14d``."""
    return f"s:{due.isoformat()}-{_whole_days(days_before)}d"


def _whole_days(days_before: float) -> int:
    if days_before < 0 or not float(days_before).is_integer():
        raise ParameterError([("days_before", "must be a whole number of days, 0 or more")])
    return int(days_before)
