"""Pure feed parsing: bodies in, validated and normalised rows plus per-row rejections out."""

from __future__ import annotations

from engine.feeds.parsing.detect import FeedFormat, detect_format
from engine.feeds.parsing.errors import FeedFormatError
from engine.feeds.parsing.events import EventParseResult, EventRow, parse_events
from engine.feeds.parsing.greenbutton import parse_greenbutton
from engine.feeds.parsing.readings import parse_csv, parse_json, parse_ndjson, parse_readings
from engine.feeds.parsing.rows import ParseResult, ReadingRow, Rejection
from engine.feeds.parsing.uci import parse_uci
from engine.units import UnitError, normalise

__all__ = [
    "EventParseResult",
    "EventRow",
    "FeedFormat",
    "FeedFormatError",
    "ParseResult",
    "ReadingRow",
    "Rejection",
    "UnitError",
    "detect_format",
    "normalise",
    "parse_csv",
    "parse_events",
    "parse_greenbutton",
    "parse_json",
    "parse_ndjson",
    "parse_readings",
    "parse_uci",
]
