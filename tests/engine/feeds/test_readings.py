from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from engine.errors import InvalidInput, UnsupportedMediaType
from engine.feeds.parsing import FeedFormatError, ReadingRow, Rejection
from engine.feeds.parsing.readings import parse_json, parse_ndjson, parse_readings

START = "2025-12-31T23:00:00Z"


def reading(**changes: object) -> dict[str, object]:
    row: dict[str, object] = {
        "customer": "c-1",
        "metric": "electricity.consumption",
        "start": START,
        "duration": 3600,
        "value": 1.25,
        "unit": "kWh",
    }
    row.update(changes)
    return {k: v for k, v in row.items() if v is not None}


def body(*rows: object) -> bytes:
    return json.dumps(list(rows)).encode()


def one_rejection(raw: dict[str, object], now: datetime) -> Rejection:
    result = parse_json(body(reading(), raw), now)
    assert len(result.rows) == 1
    assert len(result.rejections) == 1
    assert result.rejections[0].index == 1
    return result.rejections[0]


def test_good_rows_are_normalised(now: datetime) -> None:
    result = parse_json(
        body(
            reading(),
            reading(value=2500, unit="Wh", quality="estimated"),
            reading(start="2025-12-31T23:00:00+01:00", duration="PT15M", value="3"),
            reading(start=1767222000, end="2026-01-01T00:00:00Z", duration=None),
            reading(metric="gas.consumption", value=1, unit="m³", duration="P1D"),
        ),
        now,
    )
    assert result.rejections == []
    first, wh, offset, epoch, gas = result.rows
    assert first == ReadingRow(
        "c-1", "electricity.consumption", datetime(2025, 12, 31, 23, tzinfo=UTC), 3600, 1.25, "kWh"
    )
    assert (wh.value, wh.unit, wh.quality) == (2.5, "kWh", "estimated")
    assert offset.start == datetime(2025, 12, 31, 22, tzinfo=UTC)
    assert (offset.duration_s, offset.value) == (900, 3.0)
    assert (epoch.start, epoch.duration_s) == (datetime(2025, 12, 31, 23, tzinfo=UTC), 3600)
    assert epoch.end == datetime(2026, 1, 1, tzinfo=UTC)
    assert (gas.duration_s, gas.unit) == (86400, "m3")


@pytest.mark.parametrize(
    ("raw", "field", "reason"),
    [
        (reading(customer=None), "customer", "missing field 'customer'"),
        (reading(metric=None), "metric", "missing field 'metric'"),
        (reading(start=None), "start", "missing field 'start'"),
        (reading(value=None), "value", "missing field 'value'"),
        (reading(unit=None), "unit", "missing field 'unit'"),
        (reading(duration=None), "duration", "missing field 'duration' (or 'end')"),
        (reading(value="NaN"), "value", "NaN and infinity are not allowed"),
        (reading(value="-inf"), "value", "NaN and infinity are not allowed"),
        (reading(value="Infinity"), "value", "NaN and infinity are not allowed"),
        (reading(value="abc"), "value", "not a number: 'abc'"),
        (reading(value=True), "value", "not a number: True"),
        (reading(value=[1]), "value", "not a number: [1]"),
        (reading(duration=-3600), "duration", "duration must be positive, got -3600 s"),
        (reading(duration=0), "duration", "duration must be positive, got 0 s"),
        (reading(duration="-PT1H"), "duration", "duration must be positive, got '-PT1H'"),
        (reading(duration=1.5), "duration", "duration must be whole seconds, got 1.5"),
        (
            reading(duration="P1M"),
            "duration",
            "years and months vary in length: send seconds or 'end'",
        ),
        (reading(duration="1h"), "duration", "not a number: '1h'"),
        (reading(unit="xyz"), "unit", "unknown unit 'xyz'"),
        (reading(metric="Electricity Use"), "metric", None),
        (reading(start="2025-12-31T23:00:00"), "start", None),
        (reading(start="yesterday"), "start", "not an ISO 8601 timestamp: 'yesterday'"),
        (reading(start="2026-01-02T12:00:01Z"), "start", None),
        (reading(start=1767268801000), "start", None),
        (reading(end="2025-12-31T22:00:00Z", duration=None), "end", "'end' must be after 'start'"),
        (reading(end="2026-01-01T01:00:00Z"), "end", "'end' disagrees with 'start' + 'duration'"),
    ],
)
def test_each_rejection_names_field_and_reason(
    raw: dict[str, object], field: str, reason: str | None, now: datetime
) -> None:
    rejection = one_rejection(raw, now)
    assert rejection.field == field
    if reason is not None:
        assert rejection.reason == reason


def test_naive_timestamp_asks_for_an_offset(now: datetime) -> None:
    rejection = one_rejection(reading(start="2025-12-31T23:00:00"), now)
    assert "needs a UTC offset" in rejection.reason


def test_far_future_is_rejected_but_a_day_ahead_is_not(now: datetime) -> None:
    limit = now + timedelta(days=1)
    result = parse_json(
        body(reading(start=limit.isoformat()), reading(start=limit.timestamp() + 1)), now
    )
    assert len(result.rows) == 1
    assert result.rejections[0].index == 1
    assert "more than a day in the future" in result.rejections[0].reason


def test_json_nan_literal_is_rejected(now: datetime) -> None:
    raw = b'[{"customer": "c", "metric": "m.x", "start": "%s", "duration": 60, ' % START.encode()
    result = parse_json(raw + b'"value": NaN, "unit": "kWh"}]', now)
    assert result.rows == []
    assert result.rejections == [Rejection(0, "NaN and infinity are not allowed", "value")]


def test_non_object_row_and_unknown_fields(now: datetime) -> None:
    result = parse_json(body(reading(extra=1, tariff="x"), 42), now)
    assert len(result.rows) == 1
    assert result.rejections == [Rejection(1, "a reading must be an object", None)]
    assert result.notes == ["ignored unknown fields: extra, tariff"]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "empty body"),
        (b"not json", "malformed JSON: Expecting value"),
        (b'[{"a": 1},', "malformed JSON: Expecting value"),
        (b'{"customer": "c"}', "expected a JSON array of reading objects"),
        (b"\xff\xfe[]", "body is not valid utf-8 at byte 0"),
    ],
)
def test_whole_body_errors(raw: bytes, message: str, now: datetime) -> None:
    with pytest.raises(FeedFormatError) as info:
        parse_json(raw, now)
    assert info.value.message == message
    assert isinstance(info.value, InvalidInput)


def test_whole_body_error_knows_the_position(now: datetime) -> None:
    with pytest.raises(FeedFormatError) as info:
        parse_json(b'[\n  {"a": 1},\n  {"b": }\n]', now)
    assert (info.value.line, info.value.column) == (3, 9)
    assert info.value.extra == {"line": 3, "column": 9}


def test_ndjson_rejects_only_the_malformed_line(now: datetime) -> None:
    lines = [json.dumps(reading()), "{not json", "", json.dumps(reading(unit="xyz")), "[1] 2"]
    result = parse_ndjson("\n".join(lines).encode(), now)
    assert len(result.rows) == 1
    assert [(r.index, r.field) for r in result.rejections] == [(1, None), (3, "unit"), (4, None)]
    assert result.rejections[0].reason.startswith("malformed JSON line: ")


def test_ndjson_with_no_valid_line_is_a_format_error(now: datetime) -> None:
    with pytest.raises(FeedFormatError) as info:
        parse_ndjson(b"\n<html>\nnope\n", now)
    assert info.value.line == 2


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "application/JSON; charset=utf-8", "application/x-ndjson", "text/csv"],
)
def test_dispatch_by_content_type(content_type: str, now: datetime) -> None:
    if "csv" in content_type:
        raw = f"customer,metric,start,duration,value,unit\nc-1,m.x,{START},60,1,kWh\n".encode()
    elif "ndjson" in content_type:
        raw = json.dumps(reading()).encode()
    else:
        raw = body(reading())
    assert len(parse_readings(raw, content_type, now).rows) == 1


def test_unsupported_content_type(now: datetime) -> None:
    with pytest.raises(UnsupportedMediaType):
        parse_readings(b"<x/>", "application/xml", now)


def test_accepted_rows_keep_their_body_index(now: datetime) -> None:
    result = parse_json(body(reading(unit="xyz"), reading(), reading(value=2)), now)
    assert [r.index for r in result.rows] == [1, 2]
    assert [r.index for r in result.rejections] == [0]
