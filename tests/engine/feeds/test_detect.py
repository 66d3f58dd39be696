from __future__ import annotations

import pytest

from engine.feeds.parsing import FeedFormatError, detect_format


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b'[{"customer": "c"}]', "json"),
        (b'\xef\xbb\xbf  [\n  {"customer":', "json"),
        (b'{\n  "customer": "c",\n', "json"),
        (b'{"customer": "c"}\n{"customer": "d"}\n', "ndjson"),
        (b"customer,metric,start,duration,value,unit\n", "csv"),
        (b"customer;metric;start;end;value;unit\n", "csv"),
        (b'<?xml version="1.0"?>\n<feed xmlns="http://www.w3.org/2005/Atom">', "greenbutton"),
        (b"Date;Time;Global_active_power;Global_reactive_power\r\n16/12/2006;", "uci"),
    ],
)
def test_detects_each_format(head: bytes, expected: str) -> None:
    assert detect_format(head) == expected


def test_unknown_content_is_a_format_error() -> None:
    with pytest.raises(FeedFormatError):
        detect_format(b"hello world")
