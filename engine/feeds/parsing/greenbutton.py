"""Green Button (NAESB ESPI) Atom XML into reading rows for one customer, parsed safely.

The XML is read with defusedxml (no DTDs, entities or external references) and streamed
entry by entry. Each IntervalReading is rejected or accepted by its 0-based position in
the document; its cost, when the ReadingType names a currency, becomes a ``<service>.cost``
row in minor units.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as safe_xml
import msgspec
from defusedxml import DefusedXmlException

from engine.errors import PayloadTooLarge
from engine.feeds.parsing.errors import FeedFormatError
from engine.feeds.parsing.espi import (
    COMMODITY_SERVICES,
    COST_EXPONENT,
    CUMULATIVE,
    FLOW_SUFFIXES,
    QUALITY_NAMES,
    SERVICE_KINDS,
    UOM_NAMES,
    UOM_UNITS,
)
from engine.feeds.parsing.rows import ParseResult, ReadingRow, Rejection
from engine.feeds.parsing.values import RowError, check_not_future, future_limit
from engine.units import from_numeric, minor_exponent, normalise

MAX_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class _Interval:
    """One IntervalReading's raw texts."""

    start: str | None
    duration: str | None
    value: str | None
    cost: str | None
    quality: str | None


@dataclass(slots=True)
class _Entry:
    """An Atom entry reduced to its links and the one ESPI resource it carries."""

    href: str | None = None
    up: str | None = None
    related: list[str] = field(default_factory=list)
    resource: str | None = None
    values: dict[str, str] = field(default_factory=dict)
    intervals: list[_Interval] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Series:
    """What an IntervalBlock's readings mean: metric, unit spelling, scale, cost currency."""

    service: str
    metric: str
    unit: str
    multiplier: int
    currency: str | None


def parse_greenbutton(
    body: bytes, customer: str, now: datetime, *, max_bytes: int = MAX_BYTES, cost: bool = True
) -> ParseResult:
    """All IntervalReadings of the feed as rows of ``customer`` (interval costs too if ``cost``)."""
    if len(body) > max_bytes:
        raise PayloadTooLarge(detail=f"Green Button body over {max_bytes} bytes")
    entries = list(_entries(body))
    result = ParseResult()
    _Builder(customer, now, cost, result).run(entries)
    if not result.rows and not result.rejections:
        result.notes.append("the feed holds no IntervalReading")
    return result


class _Builder:
    """Links the entries (IntervalBlock → MeterReading → ReadingType, UsagePoint) into rows."""

    def __init__(self, customer: str, now: datetime, cost: bool, result: ParseResult) -> None:
        self.customer = customer
        self.limit = future_limit(now)
        self.cost = cost
        self.result = result
        self.index = 0

    def run(self, entries: list[_Entry]) -> None:
        readings = [e for e in entries if e.resource == "MeterReading"]
        points = [e for e in entries if e.resource == "UsagePoint"]
        types = [e for e in entries if e.resource == "ReadingType"]
        if not readings and any(e.intervals for e in entries):
            # Nothing says what the values mean: one reason, not one per IntervalReading.
            raise FeedFormatError(
                "the feed has IntervalBlocks but no MeterReading, so no ReadingType says "
                "what their values are"
            )
        for block in (e for e in entries if e.intervals):
            try:
                reading = _linked(readings, block.up, block.href)
                if reading is None:
                    raise RowError("MeterReading", "no MeterReading links to this IntervalBlock")
                series = _series(reading, points, types)
            except RowError as err:
                self._reject_all(block.intervals, err)
            else:
                self._block(block.intervals, series)

    def _block(self, intervals: list[_Interval], series: _Series) -> None:
        if self.cost and series.currency is None and any(i.cost for i in intervals):
            self._note("interval costs ignored: the ReadingType names no known currency")
        for interval in intervals:
            try:
                self.result.rows.extend(self._rows(interval, series))
            except RowError as err:
                self.result.rejections.append(Rejection(self.index, err.reason, err.field))
            self.index += 1

    def _rows(self, interval: _Interval, series: _Series) -> list[ReadingRow]:
        start = self._start(interval.start)
        duration = _seconds(interval.duration, "timePeriod.duration")
        if duration <= 0:
            raise RowError("timePeriod.duration", f"duration must be positive, got {duration} s")
        value, unit = normalise(_scaled(interval.value, series.multiplier), series.unit)
        quality = _quality(interval.quality)
        usage = ReadingRow(
            self.customer, series.metric, start, duration, value, unit, quality, self.index
        )
        if not (self.cost and series.currency and interval.cost):
            return [usage]
        amount = _cost(interval.cost, series.currency)
        metric = f"{series.service}.cost"
        cost = msgspec.structs.replace(usage, metric=metric, value=amount, unit=series.currency)
        return [usage, cost]

    def _start(self, text: str | None) -> datetime:
        if text is not None and "." in text:
            self._note("fractional start times were truncated to whole seconds")
        seconds = _seconds(text, "timePeriod.start")
        try:
            start = datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            raise RowError("timePeriod.start", f"start out of range: {seconds}") from None
        check_not_future(start, self.limit, "timePeriod.start")
        return start

    def _reject_all(self, intervals: list[_Interval], err: RowError) -> None:
        first = self.index
        for _ in intervals:
            self.result.rejections.append(Rejection(self.index, err.reason, err.field))
            self.index += 1
        self._note(f"IntervalReadings {first}–{self.index - 1} rejected: {err.reason}")

    def _note(self, note: str) -> None:
        if note not in self.result.notes:
            self.result.notes.append(note)


def _series(reading: _Entry, points: list[_Entry], types: list[_Entry]) -> _Series:
    """How to read the MeterReading's intervals; `RowError` says why they cannot be read."""
    rt = _reading_type(reading, types)
    uom = _int(rt.get("uom"))
    if uom is None:
        raise RowError("ReadingType", "the ReadingType has no uom (unit of measure)")
    if uom not in UOM_UNITS:
        name = UOM_NAMES.get(uom, "unknown")
        raise RowError("ReadingType", f"unsupported ReadingType uom {uom} ({name})")
    accumulation = _int(rt.get("accumulationBehaviour"))
    if accumulation in CUMULATIVE:
        reason = f"cumulative register readings ({CUMULATIVE[accumulation]}) are not supported"
        raise RowError("ReadingType", reason)
    point = _linked(points, reading.up, reading.href)
    service = _service(point, rt, UOM_UNITS[uom])
    direction = FLOW_SUFFIXES.get(_int(rt.get("flowDirection")) or 1, "consumption")
    currency = from_numeric(_int(rt.get("currency")) or 0)
    multiplier = _int(rt.get("powerOfTenMultiplier")) or 0
    return _Series(service, f"{service}.{direction}", UOM_UNITS[uom], multiplier, currency)


def _reading_type(reading: _Entry, types: list[_Entry]) -> dict[str, str]:
    found = next((t for t in types if t.href in reading.related), None)
    if found is None and len(types) == 1:
        found = types[0]
    if found is None:
        raise RowError("ReadingType", "the MeterReading links no ReadingType")
    return found.values


def _service(point: _Entry | None, rt: dict[str, str], unit: str) -> str:
    kind = _int(point.values.get("kind")) if point else None
    if kind is not None and kind not in SERVICE_KINDS:
        raise RowError("UsagePoint", f"unsupported ServiceCategory kind {kind}")
    # Without a kind, the commodity or the unit still tells electricity from gas.
    service = (
        SERVICE_KINDS.get(kind if kind is not None else -1)
        or COMMODITY_SERVICES.get(_int(rt.get("commodity")) or 0)
        or {"Wh": "electricity", "therm": "gas"}.get(unit)
    )
    if service is None:
        raise RowError("UsagePoint", "unknown service: the UsagePoint has no ServiceCategory kind")
    return service


def _linked(candidates: list[_Entry], up: str | None, href: str | None) -> _Entry | None:
    """The candidate whose related links name this entry, its collection, or a parent of it."""
    for candidate in candidates:
        if (up and up in candidate.related) or (href and href in candidate.related):
            return candidate
    for candidate in candidates:
        if href and any(href.startswith(f"{related}/") for related in candidate.related):
            return candidate
    return candidates[0] if len(candidates) == 1 else None


def _entries(body: bytes) -> Iterator[_Entry]:
    """Atom entries in document order; elements are dropped as soon as they are read."""
    try:
        events = safe_xml.iterparse(io.BytesIO(body), events=("end",), forbid_dtd=True)
        root: Element | None = None
        for _, element in events:
            root = element
            if _local(element.tag) == "entry":
                yield _entry(element)
                element.clear()
    except ParseError as err:
        line, column = err.position
        raise FeedFormatError(f"malformed XML: {err}", line, column) from None
    except DefusedXmlException as err:
        raise FeedFormatError(f"forbidden XML construct: {type(err).__name__}") from None
    if root is None or _local(root.tag) not in ("feed", "entry"):
        raise FeedFormatError("not a Green Button (Atom) feed")


def _entry(element: Element) -> _Entry:
    entry = _Entry()
    for child in element:
        name = _local(child.tag)
        if name == "link":
            _add_link(entry, child.get("rel"), child.get("href"))
        elif name == "content":
            for resource in child:
                _add_resource(entry, resource)
    return entry


def _add_link(entry: _Entry, rel: str | None, href: str | None) -> None:
    if href is None:
        return
    href = href.strip().rstrip("/")
    if rel == "self":
        entry.href = href
    elif rel == "up":
        entry.up = href
    elif rel == "related":
        entry.related.append(href)


def _add_resource(entry: _Entry, resource: Element) -> None:
    name = _local(resource.tag)
    entry.resource = entry.resource or name
    if name == "IntervalBlock":
        entry.intervals.extend(_interval(r) for r in resource if _local(r.tag) == "IntervalReading")
    elif name == "UsagePoint":
        entry.values["kind"] = _text(resource, "ServiceCategory", "kind") or ""
    else:
        entry.values.update((_local(c.tag), (c.text or "").strip()) for c in resource)


def _interval(reading: Element) -> _Interval:
    texts: dict[str, str | None] = {}
    for child in reading:
        name = _local(child.tag)
        if name in ("timePeriod", "ReadingQuality"):
            texts.update((f"{name}.{_local(c.tag)}", _strip(c.text)) for c in child)
        else:
            texts[name] = _strip(child.text)
    get = texts.get
    return _Interval(
        get("timePeriod.start"),
        get("timePeriod.duration"),
        get("value"),
        get("cost"),
        get("ReadingQuality.quality"),
    )


def _strip(text: str | None) -> str | None:
    return text.strip() or None if text else None


def _text(element: Element, *path: str) -> str | None:
    """Text of the first descendant along ``path`` of local names, stripped; None if absent."""
    for name in path:
        found = next((c for c in element if _local(c.tag) == name), None)
        if found is None:
            return None
        element = found
    return _strip(element.text)


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text else None
    except ValueError:
        return None


def _seconds(text: str | None, where: str) -> int:
    if text is None:
        raise RowError(where, f"missing {where}")
    try:
        seconds = float(text)
    except ValueError:
        raise RowError(where, f"{where} is not a number: {text!r}") from None
    if not math.isfinite(seconds):
        raise RowError(where, f"{where} is not finite")
    return math.floor(seconds)


def _scaled(text: str | None, multiplier: int) -> float:
    if text is None:
        raise RowError("value", "missing value")
    try:
        raw = int(text)
    except ValueError:
        raise RowError("value", f"value is not an integer: {text!r}") from None
    return float(raw * 10**multiplier) if multiplier >= 0 else raw / 10**-multiplier


def _cost(text: str, currency: str) -> float:
    try:
        raw = int(text)
    except ValueError:
        raise RowError("cost", f"cost is not an integer: {text!r}") from None
    shift = minor_exponent(currency) + COST_EXPONENT
    return float(raw * 10**shift) if shift >= 0 else raw / 10**-shift


def _quality(text: str | None) -> str | None:
    code = _int(text)
    if code is None:
        return text
    return QUALITY_NAMES.get(code, str(code))
