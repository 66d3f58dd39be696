"""Readings from CSV: a header row naming the fields, ``end`` accepted instead of ``duration``."""

from __future__ import annotations

import contextlib
import csv
import io
from collections.abc import Iterable
from datetime import datetime

from engine.feeds.parsing.body import decode_text
from engine.feeds.parsing.errors import FeedFormatError
from engine.feeds.parsing.rows import (
    KNOWN_FIELDS,
    ParseResult,
    Rejection,
    merge_rejections,
    parse_objects,
)
from engine.platform.csv_dialect import dialect_of

REQUIRED_COLUMNS = ("customer", "metric", "start", "value", "unit")


def parse_csv(body: bytes, now: datetime, charset: str = "utf-8") -> ParseResult:
    """CSV with a header row naming the reading fields; ``end`` may replace ``duration``."""
    text = decode_text(body, charset)
    reader = csv.reader(io.StringIO(text), dialect_of(text))
    try:
        header = _header(next(reader, None))
        items, rejections = _records(reader, header)
    except csv.Error as err:
        raise FeedFormatError(f"malformed CSV: {err}", line=reader.line_num) from None
    result = merge_rejections(parse_objects(items, now), rejections)
    extra = sorted(set(header) - KNOWN_FIELDS - {""})
    if extra:
        result.notes.append(f"ignored columns: {', '.join(extra)}")
    return result


def _header(first: list[str] | None) -> list[str]:
    if not first:
        raise FeedFormatError("CSV needs a header row", line=1)
    header = [name.strip().lower() for name in first]
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if "duration" not in header and "end" not in header:
        missing.append("duration (or end)")
    if missing:
        raise FeedFormatError(f"CSV header lacks column(s): {', '.join(missing)}", line=1)
    return header


def _records(
    reader: Iterable[list[str]], header: list[str]
) -> tuple[list[tuple[int, object]], list[Rejection]]:
    items: list[tuple[int, object]] = []
    rejections: list[Rejection] = []
    width = len(header)
    index = -1
    for cells in reader:
        if not cells or cells == [""]:
            continue
        index += 1
        if len(cells) > width and any(c.strip() for c in cells[width:]):
            rejections.append(Rejection(index, f"row has {len(cells)} cells, header {width}"))
        else:
            items.append((index, _record(cells, header)))
    return items, rejections


def _record(cells: list[str], header: list[str]) -> dict[str, object]:
    record: dict[str, object] = {}
    for name, cell in zip(header, cells, strict=False):
        text = cell.strip()
        if text and name in KNOWN_FIELDS:
            record[name] = text
    _type_numbers(record)
    return record


def _type_numbers(record: dict[str, object]) -> None:
    # Plain numbers become numbers so the row takes the validator's fast path; anything
    # else stays text and gets the full check (and its rejection reason).
    duration, value = record.get("duration"), record.get("value")
    if isinstance(duration, str) and duration.isascii() and duration.isdigit():
        record["duration"] = int(duration)
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            record["value"] = float(value)
