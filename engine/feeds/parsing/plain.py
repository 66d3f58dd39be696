"""The common JSON batch in one pass: an array of objects that each hold exactly ``customer``,
``metric``, ``start`` (a string), ``duration`` (an integer), ``value`` (a number) and
``unit``, decoded and type-checked by msgspec into structs, then checked as
`ReadingParser` checks its plain rows.

It only ever accepts a whole batch: if the body or any element is anything else (another
shape, a bad value, JSON that msgspec refuses), the answer is None and the general path
(`readings.parse_json_objects`) reads the body, so what is accepted, rejected and said about
it is the general path's in every case.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from engine.feeds.parsing.rows import ParseResult, ReadingParser, ReadingRow
from engine.feeds.parsing.values import MAX_DURATION_S, MAX_TEXT, RowError
from engine.platform.validation import MAX_MAGNITUDE
from engine.units import CONVERSIONS


class PlainReading(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    """One reading as feeds send it most of the time (plain values only: never part of a
    reference cycle, so the garbage collector need not track it)."""

    customer: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_TEXT)]
    metric: str
    start: str
    duration: Annotated[int, msgspec.Meta(gt=0, le=MAX_DURATION_S)]
    value: float  # a JSON integer is taken as float; a literal beyond a double is refused
    unit: str


_BATCH = msgspec.json.Decoder(list[PlainReading])


def decode_plain(body: bytes) -> list[PlainReading] | None:
    """The body's readings if it is a JSON array of plain readings; None otherwise."""
    try:
        return _BATCH.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None


def parse_plain(body: bytes, now: datetime) -> ParseResult | None:
    """Every element of the batch as a row, or None if any element needs the general path."""
    items = decode_plain(body)
    return None if items is None else plain_rows(items, ReadingParser(now))


def plain_rows(items: list[PlainReading], parser: ReadingParser) -> ParseResult | None:
    """The rows of decoded plain readings, in order; None at the first one that the general
    path may reject or read otherwise."""
    starts: dict[str, datetime] = {}
    metrics: set[str] = set()
    rows: list[ReadingRow] = []
    append = rows.append
    try:
        for index, item in enumerate(items):
            customer, metric, stamp, unit = item.customer, item.metric, item.start, item.unit
            if customer[0].isspace() or customer[-1].isspace():
                return None  # the general path strips it
            start = starts.get(stamp)
            if start is None:
                start = starts[stamp] = parser.start(stamp)
            if metric not in metrics:
                metrics.add(parser.metric(metric))
            conversion = CONVERSIONS.get(unit)
            if conversion is None:
                return None
            canonical, num, den = conversion
            value = item.value if num == den else item.value * num / den
            if not -MAX_MAGNITUDE <= value <= MAX_MAGNITUDE:
                return None
            row = ReadingRow(customer, metric, start, item.duration, value, canonical, None, index)
            append(row)
    except RowError:
        return None
    return ParseResult(rows)
