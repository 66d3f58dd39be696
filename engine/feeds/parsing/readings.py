"""Meter readings from JSON arrays, NDJSON and CSV, dispatched on the media type.

A bad row is rejected with its index and reason; a body that cannot be read at all raises
`FeedFormatError`.
"""

from __future__ import annotations

from datetime import datetime

from engine.errors import UnsupportedMediaType
from engine.feeds.parsing.body import load_json, media_type, split_ndjson
from engine.feeds.parsing.csvrows import parse_csv
from engine.feeds.parsing.errors import FeedFormatError
from engine.feeds.parsing.plain import parse_plain
from engine.feeds.parsing.rows import (
    ParseResult,
    ReadingRow,
    Rejection,
    merge_rejections,
    parse_objects,
)

__all__ = [
    "ParseResult",
    "ReadingRow",
    "Rejection",
    "parse_csv",
    "parse_json",
    "parse_json_objects",
    "parse_ndjson",
    "parse_readings",
]

JSON_TYPES = ("application/json",)
NDJSON_TYPES = ("application/x-ndjson", "application/ndjson", "application/jsonl")
CSV_TYPES = ("text/csv", "application/csv")


def parse_readings(body: bytes, content_type: str, now: datetime) -> ParseResult:
    """Parse a readings body by its media type (JSON array, NDJSON or CSV)."""
    media, params = media_type(content_type)
    if media in JSON_TYPES:
        return parse_json(body, now)
    if media in NDJSON_TYPES:
        return parse_ndjson(body, now)
    if media in CSV_TYPES:
        return parse_csv(body, now, charset=params.get("charset", "utf-8"))
    raise UnsupportedMediaType(
        detail="readings must be application/json, application/x-ndjson or text/csv, "
        f"not {media or 'nothing'}"
    )


def parse_json(body: bytes, now: datetime) -> ParseResult:
    """A JSON array of reading objects: the common plain batch in one pass (`parse_plain`),
    anything else on the general path, which reads every body the same way."""
    plain = parse_plain(body, now)
    return plain if plain is not None else parse_json_objects(body, now)


def parse_json_objects(body: bytes, now: datetime) -> ParseResult:
    """A JSON array of reading objects, decoded whole, then each object validated."""
    data = load_json(body)
    if not isinstance(data, list):
        raise FeedFormatError("expected a JSON array of reading objects")
    return parse_objects(enumerate(data), now)


def parse_ndjson(body: bytes, now: datetime) -> ParseResult:
    """One reading object per line; a malformed line rejects that line only."""
    items, rejections = split_ndjson(body)
    return merge_rejections(parse_objects(items, now), rejections)
