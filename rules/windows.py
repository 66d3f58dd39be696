"""Calendar windows (hour, day, ISO week, month) in a customer's IANA zone, DST-correct.

Windows are half-open ``[start, end)`` intervals of aware UTC datetimes that tile time: a local
day is 23, 24 or 25 hours long, and a day whose local midnight does not exist starts at the
first instant that does. ``none`` is a single window covering all of time.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo

WindowKind = Literal["none", "hour", "day", "week", "month"]
WINDOW_KINDS: tuple[WindowKind, ...] = ("none", "hour", "day", "week", "month")

FOREVER_START = datetime.min.replace(tzinfo=UTC)
FOREVER_END = datetime.max.replace(tzinfo=UTC)
_HOUR = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Window:
    """One calendar period: ``[start, end)`` in UTC, computed in ``zone``."""

    kind: WindowKind
    start: datetime
    end: datetime
    zone: ZoneInfo

    @property
    def key(self) -> str:
        """Stable identifier of the window, used in transition ids and state keys."""
        return "all" if self.kind == "none" else iso_utc(self.start)

    @property
    def duration(self) -> timedelta:
        return self.end - self.start

    def contains(self, instant: datetime) -> bool:
        return self.start <= instant < self.end

    def elapsed(self, instant: datetime) -> float:
        """Fraction of the window that has passed at ``instant``, clipped to 0..1 (0 for none)."""
        if self.kind == "none":
            return 0.0
        fraction = (instant - self.start) / (self.end - self.start)
        return 0.0 if fraction < 0 else 1.0 if fraction > 1 else fraction

    def next(self) -> Window:
        _require_bounded(self)
        return window_for(self.kind, self.end, self.zone)

    def previous(self) -> Window:
        _require_bounded(self)
        return window_for(self.kind, self.start - timedelta(microseconds=1), self.zone)


def window_for(kind: WindowKind, instant: datetime, tz: ZoneInfo | str) -> Window:
    """The window of ``kind`` that contains ``instant`` in the zone ``tz``."""
    zone = zone_of(tz)
    at = as_utc(instant)
    if kind == "none":
        return Window("none", FOREVER_START, FOREVER_END, zone)
    if kind == "hour":
        start, end = _hour_bounds(at, zone)
        return Window(kind, start, end, zone)
    first = _period_first_day(kind, at.astimezone(zone).date())
    following = _advance(kind, first)
    start, end = _local_start(first, zone), _local_start(following, zone)
    # A fall-back across midnight repeats wall dates after the next period has begun.
    while at >= end:
        following = _advance(kind, following)
        start, end = end, _local_start(following, zone)
    return Window(kind, start, end, zone)


def zone_of(tz: tzinfo | str) -> ZoneInfo:
    """A ZoneInfo from a zone or its IANA name (raises ZoneInfoNotFoundError if unknown)."""
    if isinstance(tz, ZoneInfo):
        return tz
    if isinstance(tz, str):
        return ZoneInfo(tz)
    raise TypeError(f"expected a ZoneInfo or an IANA name, got {tz!r}")


def as_utc(instant: datetime) -> datetime:
    """``instant`` converted to UTC; naive datetimes are refused rather than guessed."""
    if instant.tzinfo is None:
        raise ValueError("naive datetime: windows need timezone-aware instants")
    return instant.astimezone(UTC)


def iso_utc(instant: datetime) -> str:
    """ISO 8601 in UTC with a ``Z`` suffix, e.g. ``2026-03-01T08:00:00Z``."""
    if instant.tzinfo is UTC:
        return _iso_of_utc(instant)
    return as_utc(instant).isoformat().replace("+00:00", "Z")


@lru_cache(maxsize=4096)  # a batch's decisions name the same few instants (now, window bounds)
def _iso_of_utc(instant: datetime) -> str:
    # Keyed by UTC instants only: two local times a DST change makes ambiguous are equal as
    # keys (same zone, same wall time) but not as instants.
    return instant.isoformat().replace("+00:00", "Z")


def first_instant_at(wall: datetime, zone: ZoneInfo) -> datetime:
    """The first UTC instant whose local wall time in ``zone`` is at or after ``wall``."""
    early = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if _wall(early, zone) == wall:
        return early  # exists; fold=0 is the first occurrence of an ambiguous time
    late = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    # In a gap the transition lies between the two readings of the wall time.
    return _bisect(min(early, late), max(early, late), lambda t: _wall(t, zone) >= wall)


def _require_bounded(window: Window) -> None:
    if window.kind == "none":
        raise ValueError("the 'none' window covers all time: it has no neighbours")


def _wall(instant: datetime, zone: ZoneInfo) -> datetime:
    return instant.astimezone(zone).replace(tzinfo=None)


def _offset(instant: datetime, zone: ZoneInfo) -> timedelta | None:
    return instant.astimezone(zone).utcoffset()


def _hour_bounds(at: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    local = at.astimezone(zone)
    offset = local.utcoffset()
    into = timedelta(minutes=local.minute, seconds=local.second, microseconds=local.microsecond)
    start, end = at - into, at - into + _HOUR
    # Cut at offset changes so hours still tile when a transition falls inside one.
    if _offset(start, zone) != offset:
        start = _bisect(start, at, lambda t: _offset(t, zone) == offset)
    if _offset(end, zone) != offset:
        end = _bisect(at, end, lambda t: _offset(t, zone) != offset)
    return start, end


def _bisect(low: datetime, high: datetime, reached: Callable[[datetime], bool]) -> datetime:
    """First whole second in ``(low, high]`` where ``reached`` holds (zones change on seconds)."""
    lo, hi = math.floor(low.timestamp()), math.ceil(high.timestamp())
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if reached(datetime.fromtimestamp(mid, UTC)):
            hi = mid
        else:
            lo = mid
    return max(low, datetime.fromtimestamp(hi, UTC))


def _period_first_day(kind: WindowKind, day: date) -> date:
    if kind == "week":
        return day - timedelta(days=day.weekday())
    if kind == "month":
        return day.replace(day=1)
    return day


def _advance(kind: WindowKind, first: date) -> date:
    if kind == "day":
        return first + timedelta(days=1)
    if kind == "week":
        return first + timedelta(days=7)
    if first.month == 12:
        return date(first.year + 1, 1, 1)
    return date(first.year, first.month + 1, 1)


def _local_start(day: date, zone: ZoneInfo) -> datetime:
    return first_instant_at(datetime(day.year, day.month, day.day), zone)
