"""The UCI "individual household electric power consumption" layout into kWh readings.

``Date;Time;Global_active_power;...`` with ``dd/mm/yyyy``, ``HH:MM:SS`` local times and the
minute's average power in kW, ``?`` for missing. Rejection indexes count data lines from 0
(file line = index + 2).
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from engine.feeds.parsing.body import decode_text
from engine.feeds.parsing.errors import FeedFormatError
from engine.feeds.parsing.rows import ParseResult, ReadingRow, Rejection
from engine.feeds.parsing.values import RowError, as_number, check_not_future, future_limit
from engine.units import KWH

UCI_HEADER = ("Date", "Time", "Global_active_power")
METRIC = "electricity.consumption"
MINUTE = 60


def parse_uci(body: bytes, customer: str, zone: ZoneInfo, now: datetime) -> ParseResult:
    """One ``electricity.consumption`` row a minute; local times read in ``zone``."""
    text = decode_text(body)
    lines = text.split("\n")
    header = lines[0].rstrip("\r").split(";")
    if tuple(header[:3]) != UCI_HEADER:
        raise FeedFormatError("not the UCI layout: the header must start 'Date;Time;", line=1)
    data = lines[1:-1] if text.endswith("\n") else lines[1:]
    rows = _UciRows(customer, zone, now, len(header))
    result = ParseResult()
    for index, line in enumerate(data):
        if not line.strip():
            continue
        try:
            result.rows.append(rows.parse(line.rstrip("\r"), index, last=index == len(data) - 1))
        except RowError as err:
            result.rejections.append(Rejection(index, err.reason, err.field))
    return result


class _UciRows:
    """Turns lines into rows, remembering the previous start to place repeated DST hours."""

    def __init__(self, customer: str, zone: ZoneInfo, now: datetime, width: int) -> None:
        self.customer = customer
        self.zone = zone
        self.limit = future_limit(now)
        self.width = width
        self.previous: datetime | None = None

    def parse(self, line: str, index: int, last: bool) -> ReadingRow:
        cells = line.split(";")
        if len(cells) < self.width:
            if last:
                raise RowError(None, "truncated line")
            raise RowError(None, f"expected {self.width} fields, got {len(cells)}")
        power = cells[2].strip()
        if power == "?":
            raise RowError("Global_active_power", "missing value '?'")
        kwh = as_number(power, "Global_active_power") / MINUTE
        start = self._start(cells[0].strip(), cells[1].strip())
        return ReadingRow(self.customer, METRIC, start, MINUTE, kwh, KWH, None, index)

    def _start(self, day: str, clock: str) -> datetime:
        local = _local_time(day, clock)
        start = local.replace(tzinfo=self.zone).astimezone(UTC)
        if self.previous is not None and start <= self.previous:
            # The repeated hour when clocks go back: its second pass is fold=1.
            later = local.replace(tzinfo=self.zone, fold=1).astimezone(UTC)
            start = later if later > self.previous else start
        if start.astimezone(self.zone).replace(tzinfo=None) != local:
            raise RowError("Time", f"{day} {clock} does not exist in {self.zone.key} (DST gap)")
        check_not_future(start, self.limit, "Date")
        self.previous = start
        return start


def _local_time(day: str, clock: str) -> datetime:
    try:
        d, m, y = (int(part) for part in day.split("/"))
    except ValueError:
        raise RowError("Date", f"expected dd/mm/yyyy, got {day!r}") from None
    try:
        hh, mm, ss = (int(part) for part in clock.split(":"))
    except ValueError:
        raise RowError("Time", f"expected HH:MM:SS, got {clock!r}") from None
    try:
        return datetime(y, m, d, hh, mm, ss)
    except ValueError as err:
        raise RowError("Date", f"not a valid date and time: {day} {clock} ({err})") from None
