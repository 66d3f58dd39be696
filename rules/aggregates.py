"""Window statistics from metered readings, and the baseline over earlier windows.

A reading belongs to the window that contains its start. ``sum`` and ``count`` are cumulative
(they grow as a window fills); ``avg``, ``min``, ``max`` and ``last`` are not. ``avg`` is the
plain mean of reading values; aggregates of an empty window read as 0 with ``count`` 0.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, NamedTuple

from rules.windows import Window

AggregateName = Literal["sum", "avg", "min", "max", "last", "count"]
AGGREGATES: tuple[AggregateName, ...] = ("sum", "avg", "min", "max", "last", "count")
CUMULATIVE: frozenset[AggregateName] = frozenset({"sum", "count"})


class Reading(NamedTuple):
    """One metered value over ``[start, start + duration)``, keyed by (start, duration)."""

    start: datetime
    duration: timedelta
    value: float

    @property
    def end(self) -> datetime:
        return self.start + self.duration


# Built on every evaluation; frozen dataclasses would add about a microsecond each.
@dataclass(slots=True)
class WindowStats:
    """A window's aggregates as seen at an instant (``elapsed``, ``projected`` depend on it)."""

    window: Window
    sum: float
    avg: float
    min: float
    max: float
    last: float
    count: int
    elapsed: float
    projected: float

    @property
    def start(self) -> datetime:
        return self.window.start

    @property
    def end(self) -> datetime:
        return self.window.end

    def value(self, aggregate: AggregateName) -> float:
        """The named aggregate as a float."""
        return float(getattr(self, aggregate))

    @classmethod
    def empty(cls, window: Window, now: datetime) -> WindowStats:
        return cls(window, 0.0, 0.0, 0.0, 0.0, 0.0, 0, window.elapsed(now), 0.0)


@dataclass(frozen=True, slots=True)
class Baseline:
    """Mean of each aggregate over the earlier windows that had readings (``windows`` of them)."""

    sum: float = 0.0
    avg: float = 0.0
    min: float = 0.0
    max: float = 0.0
    last: float = 0.0
    count: float = 0.0
    windows: int = 0


class Accumulator:
    """Running totals of one window's readings; feed each distinct reading once."""

    __slots__ = ("total", "count", "minimum", "maximum", "last", "covered_until")

    def __init__(self) -> None:
        self.total = 0.0
        self.count = 0
        self.minimum = 0.0
        self.maximum = 0.0
        self.last: Reading | None = None
        self.covered_until: datetime | None = None

    def add(self, reading: Reading) -> None:
        value = reading.value
        first = self.count == 0
        self.total += value
        self.count += 1
        self.minimum = value if first else min(self.minimum, value)
        self.maximum = value if first else max(self.maximum, value)
        if self.last is None or _later(reading, self.last):
            self.last = reading
        end = reading.end
        if self.covered_until is None or end > self.covered_until:
            self.covered_until = end

    def stats(self, window: Window, now: datetime) -> WindowStats:
        return stats_from_totals(
            window,
            now,
            total=self.total,
            count=self.count,
            minimum=self.minimum,
            maximum=self.maximum,
            last=self.last.value if self.last else 0.0,
            covered_until=self.covered_until,
        )


def aggregate(readings: Iterable[Reading], window: Window, now: datetime) -> WindowStats:
    """Statistics of the distinct readings that start inside ``window``, as seen at ``now``."""
    acc = Accumulator()
    for reading in readings:
        if window.contains(reading.start):
            acc.add(reading)
    return acc.stats(window, now)


def stats_from_totals(
    window: Window,
    now: datetime,
    *,
    total: float,
    count: int,
    minimum: float,
    maximum: float,
    last: float,
    covered_until: datetime | None,
) -> WindowStats:
    """WindowStats from stored running totals (``covered_until``: latest reading end seen)."""
    if count == 0:
        return WindowStats.empty(window, now)
    covered = None if covered_until is None else window.elapsed(covered_until)
    return stats_at(window, window.elapsed(now), covered, total, count, minimum, maximum, last)


def stats_at(
    window: Window,
    elapsed: float,
    covered: float | None,
    total: float,
    count: int,
    minimum: float,
    maximum: float,
    last: float,
) -> WindowStats:
    """WindowStats of a window with readings (``count`` > 0), given its elapsed fractions at
    the evaluation instant (``elapsed``) and at the latest reading end (``covered``)."""
    return WindowStats(
        window,
        total,
        total / count,
        minimum,
        maximum,
        last,
        count,
        elapsed,
        # A window that has ended projects to what it holds, however little the readings cover.
        total if elapsed >= 1 else _projected(window, total, covered),
    )


def baseline_of(history: Iterable[WindowStats]) -> Baseline:
    """Mean of each aggregate over the windows in ``history`` that had at least one reading."""
    filled = [stats for stats in history if stats.count > 0]
    if not filled:
        return Baseline()
    n = len(filled)
    return Baseline(
        sum=sum(s.sum for s in filled) / n,
        avg=sum(s.avg for s in filled) / n,
        min=sum(s.min for s in filled) / n,
        max=sum(s.max for s in filled) / n,
        last=sum(s.last for s in filled) / n,
        count=sum(s.count for s in filled) / n,
        windows=n,
    )


def _projected(window: Window, total: float, covered: float | None) -> float:
    """Total extrapolated to the whole window from the part the readings cover so far."""
    if window.kind == "none" or covered is None:
        return total
    return total / covered if covered > 0 else total


def _later(candidate: Reading, current: Reading) -> bool:
    return (candidate.start, candidate.end) > (current.start, current.end)
