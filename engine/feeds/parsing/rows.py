"""Reading rows: the validated, normalised record, rejections, and per-row validation.

Rejection indexes are 0-based positions in the body: array element, NDJSON line, CSV data
row after the header. ``metric`` is always required: a unit does not say what was measured.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import msgspec

from engine.feeds.parsing.values import (
    MAX_DURATION_S,
    MAX_TEXT,
    RowError,
    as_duration,
    as_name,
    as_number,
    as_text,
    as_timestamp,
    check_magnitude,
    check_not_future,
    check_not_past,
    future_limit,
    require,
)
from engine.platform.validation import MAX_MAGNITUDE
from engine.units import CONVERSIONS, UnitError, normalise

FIELDS = ("customer", "metric", "start", "duration", "end", "value", "unit", "quality")
KNOWN_FIELDS = frozenset(FIELDS)
_EXACT_INT = 2**53


class ReadingRow(msgspec.Struct, eq=False, gc=False):
    """One normalised reading; keyed by (customer, metric, start, duration_s).

    ``index`` is the row's position in the body, as in `Rejection`; it takes no part in equality.
    A struct of plain values: a batch makes one per reading, about four times faster than a
    dataclass, and the garbage collector does not track it.
    """

    customer: str
    metric: str
    start: datetime
    duration_s: int
    value: float
    unit: str
    quality: str | None = None
    index: int = 0

    @property
    def end(self) -> datetime:
        return self.start + timedelta(seconds=self.duration_s)

    def _compared(self) -> tuple[object, ...]:
        return (
            self.customer,
            self.metric,
            self.start,
            self.duration_s,
            self.value,
            self.unit,
            self.quality,
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ReadingRow):
            return NotImplemented
        return self._compared() == other._compared()

    def __ne__(self, other: object) -> bool:
        if not isinstance(other, ReadingRow):
            return NotImplemented
        return self._compared() != other._compared()

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value


@dataclass(frozen=True, slots=True)
class Rejection:
    """A row that was not accepted: where it is in the body, why, and which field."""

    index: int
    reason: str
    field: str | None = None


@dataclass(slots=True)
class ParseResult:
    """The accepted rows, the rejected ones, and remarks about the body as a whole."""

    rows: list[ReadingRow] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class ReadingParser:
    """Validates the reading objects of one batch against one `now`."""

    def __init__(self, now: datetime) -> None:
        self._limit = future_limit(now)
        self._starts: dict[str, datetime] = {}
        self._metrics: set[str] = set()
        self.ignored: set[str] = set()

    def parse(self, raw: Mapping[str, object], index: int = 0) -> ReadingRow:
        """The row, or `RowError` for the first problem found."""
        row = self._fast(raw, index) if len(raw) == 6 else None
        return self._full(raw, index) if row is None else row

    def _fast(self, raw: Mapping[str, object], index: int) -> ReadingRow | None:
        """The common plain row, checked against what earlier rows proved; None: not sure."""
        get = raw.get
        customer, metric, stamp = get("customer"), get("metric"), get("start")
        duration, value, unit = get("duration"), get("value"), get("unit")
        if type(value) is int and -_EXACT_INT < value < _EXACT_INT:
            value = float(value)
        if (
            type(customer) is not str
            or not 0 < len(customer) <= MAX_TEXT
            or customer[0].isspace()
            or customer[-1].isspace()
            or type(metric) is not str
            or metric not in self._metrics
            or type(duration) is not int
            or not 0 < duration <= MAX_DURATION_S
            or type(value) is not float
            or value - value != 0.0  # false for NaN and infinities
            or type(stamp) is not str
            or type(unit) is not str
        ):
            return None
        start = self._starts.get(stamp)
        conversion = CONVERSIONS.get(unit)
        if start is None or conversion is None:
            return None
        canonical, num, den = conversion
        if num != den:
            value = value * num / den
        if not -MAX_MAGNITUDE <= value <= MAX_MAGNITUDE:
            return None  # the full path names the reason
        return ReadingRow(customer, metric, start, duration, value, canonical, None, index)

    def _full(self, raw: Mapping[str, object], index: int) -> ReadingRow:
        if not raw.keys() <= KNOWN_FIELDS:
            self.ignored.update(raw.keys() - KNOWN_FIELDS)
        start = self.start(require(raw, "start"))
        value, unit = _value_and_unit(raw)
        return ReadingRow(
            customer=as_text(require(raw, "customer"), "customer"),
            metric=self.metric(require(raw, "metric")),
            start=start,
            duration_s=_duration(raw, start),
            value=value,
            unit=unit,
            quality=_quality(raw.get("quality")),
            index=index,
        )

    def start(self, raw: object) -> datetime:
        """A checked start time (`RowError` if it is not one)."""
        # A batch usually shares a handful of start times: parse each string once.
        start = self._starts.get(raw) if type(raw) is str else None
        if start is None:
            start = as_timestamp(raw, "start")
            check_not_future(start, self._limit, "start")
            check_not_past(start, "start")
            if type(raw) is str:
                self._starts[raw] = start
        return start

    def metric(self, raw: object) -> str:
        """A checked metric name, remembered for the plain rows that follow."""
        metric = as_name(raw, "metric")
        self._metrics.add(metric)
        return metric


def parse_objects(items: Iterable[tuple[int, object]], now: datetime) -> ParseResult:
    """Validate decoded reading objects, keeping each one's index."""
    parser = ReadingParser(now)
    result = ParseResult()
    rows, rejections = result.rows, result.rejections
    for index, raw in items:
        if not isinstance(raw, dict):
            rejections.append(Rejection(index, "a reading must be an object", None))
            continue
        try:
            rows.append(parser.parse(raw, index))
        except RowError as err:
            rejections.append(Rejection(index, err.reason, err.field))
    if parser.ignored:
        result.notes.append(f"ignored unknown fields: {', '.join(sorted(parser.ignored))}")
    return result


def _value_and_unit(raw: Mapping[str, object]) -> tuple[float, str]:
    value = as_number(require(raw, "value"), "value")
    unit = require(raw, "unit")
    if not isinstance(unit, str):
        raise RowError("unit", f"unknown unit {unit!r}")
    try:
        converted, canonical = normalise(value, unit)
    except UnitError as err:
        raise RowError("unit", str(err)) from None
    return check_magnitude(converted, canonical), canonical


def _duration(raw: Mapping[str, object], start: datetime) -> int:
    duration, end = raw.get("duration"), raw.get("end")
    has_end = end is not None and end != ""
    if duration is None or duration == "":
        if not has_end:
            raise RowError("duration", "missing field 'duration' (or 'end')")
        return _seconds_until(end, start)
    seconds = as_duration(duration)
    if has_end and _seconds_until(end, start) != seconds:
        raise RowError("end", "'end' disagrees with 'start' + 'duration'")
    return seconds


def _seconds_until(end: object, start: datetime) -> int:
    seconds = (as_timestamp(end, "end") - start).total_seconds()
    if seconds <= 0:
        raise RowError("end", "'end' must be after 'start'")
    if not seconds.is_integer():
        raise RowError("end", "'end' - 'start' must be whole seconds")
    if seconds > MAX_DURATION_S:
        raise RowError("end", f"'end' is more than {MAX_DURATION_S} s (366 days) after 'start'")
    return int(seconds)


def _quality(raw: object) -> str | None:
    if raw is None or raw == "":
        return None
    return as_text(raw, "quality")


def merge_rejections(result: ParseResult, rejections: list[Rejection]) -> ParseResult:
    """Add rejections found before row validation, keeping them in body order."""
    if rejections:
        result.rejections.extend(rejections)
        result.rejections.sort(key=lambda r: r.index)
    return result
