"""Tell a feed file's format from its first bytes (for ``nudge import FILE``)."""

from __future__ import annotations

from typing import Literal

from engine.feeds.parsing.errors import FeedFormatError

FeedFormat = Literal["json", "ndjson", "csv", "greenbutton", "uci"]

_UCI_PREFIX = b"Date;Time;Global_active_power"


def detect_format(first_bytes: bytes) -> FeedFormat:
    """``json``, ``ndjson``, ``csv``, ``greenbutton`` or ``uci``; `FeedFormatError` if none fits."""
    head = first_bytes.removeprefix(b"\xef\xbb\xbf").lstrip()
    first_line = head.split(b"\n", 1)[0].strip()
    if head.startswith(b"<"):
        return "greenbutton"
    if head.startswith(b"["):
        return "json"
    if head.startswith(b"{"):
        # One complete object on the first line is NDJSON; a pretty-printed object is JSON.
        return "ndjson" if first_line.endswith(b"}") else "json"
    if first_line.startswith(_UCI_PREFIX):
        return "uci"
    if any(sep in first_line for sep in (b",", b";", b"\t")):
        return "csv"
    raise FeedFormatError("cannot tell the feed format: expected JSON, NDJSON, CSV or XML")
