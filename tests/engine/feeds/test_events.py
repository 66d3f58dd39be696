from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from engine.errors import UnsupportedMediaType
from engine.feeds.parsing import EventRow, FeedFormatError, Rejection, parse_events

JSON = "application/json"


def event(**changes: object) -> dict[str, object]:
    raw: dict[str, object] = {"customer": "c-1", "type": "checkup.due", "id": "chk-2026"}
    raw.update(changes)
    return {k: v for k, v in raw.items() if v is not None}


def parse(*events: object, now: datetime) -> tuple[list[EventRow], list[Rejection]]:
    result = parse_events(json.dumps(list(events)).encode(), JSON, now)
    return result.events, result.rejections


def test_schedule_event_with_defaults(now: datetime) -> None:
    (row,), _ = parse(event(due="2026-03-14"), now=now)
    assert row == EventRow(
        customer="c-1",
        type="checkup.due",
        event_id="chk-2026",
        occurred_at=now,
        due=date(2026, 3, 14),
        status="active",
        amount=None,
        currency=None,
        fields={},
    )


def test_bill_with_amount_in_minor_units_and_fields(now: datetime) -> None:
    raw = event(
        type="bill.issued",
        id=981,
        occurred_at="2026-01-01T08:00:00+01:00",
        amount=51.20,
        currency="EUR",
        fields={"period": "2025-12", "lines": [{"label": "base", "net": 12.5}], "paid": False},
    )
    (row,), _ = parse(raw, now=now)
    assert (row.event_id, row.amount, row.currency) == ("981", 5120.0, "EUR")
    assert row.occurred_at == datetime(2026, 1, 1, 7, tzinfo=UTC)
    assert row.fields["lines"] == [{"label": "base", "net": 12.5}]


def test_single_object_and_cancellation(now: datetime) -> None:
    body = json.dumps(event(status="canceled")).encode()
    (row,) = parse_events(body, "application/json; charset=utf-8", now).events
    assert row.status == "cancelled"


@pytest.mark.parametrize(
    ("raw", "field", "reason"),
    [
        (event(customer=None), "customer", "missing field 'customer'"),
        (event(type=None), "type", "missing field 'type'"),
        (event(type="Bill Issued"), "type", None),
        (event(due="2026-03-14T09:00:00Z"), "due", None),
        (event(due="2026-02-30"), "due", "'due' is not a valid date: '2026-02-30'"),
        (event(status="done"), "status", "'status' must be 'active' or 'cancelled', got 'done'"),
        (event(occurred_at="2026-01-05T00:00:00Z"), "occurred_at", None),
        (event(occurred_at="2026-01-01T00:00:00"), "occurred_at", None),
        (event(amount="lots", currency="EUR"), "amount", "not a number: 'lots'"),
        (event(amount="Infinity", currency="EUR"), "amount", "NaN and infinity are not allowed"),
        (event(amount=5), "currency", "'amount' needs a 'currency' (ISO 4217 code such as EUR)"),
        (event(amount=5, currency="EURO"), "currency", "unknown currency 'EURO'"),
        (event(currency="EUR"), "currency", "'currency' given without 'amount'"),
        (event(fields=[1, 2]), "fields", "'fields' must be an object"),
        (event(fields={"a": {"b": [1, "NaN"]}}), None, None),
    ],
)
def test_each_rejection_names_field_and_reason(
    raw: dict[str, object], field: str | None, reason: str | None, now: datetime
) -> None:
    events, rejections = parse(event(), raw, now=now)
    if field is None:
        assert len(events) == 2
        return
    assert len(events) == 1
    (rejection,) = rejections
    assert (rejection.index, rejection.field) == (1, field)
    if reason is not None:
        assert rejection.reason == reason


def test_nan_inside_fields_is_rejected_with_its_path(now: datetime) -> None:
    body = b'[{"customer": "c", "type": "bill.issued", "fields": {"a": {"b": [1, NaN]}}}]'
    (rejection,) = parse_events(body, JSON, now).rejections
    assert rejection.field == "fields.a.b[1]"
    assert "NaN and infinity are not allowed" in rejection.reason


def test_ndjson_events_and_unknown_fields(now: datetime) -> None:
    body = "\n".join([json.dumps(event(colour="red")), "{oops", json.dumps(event(id=None))])
    result = parse_events(body.encode(), "application/x-ndjson", now)
    assert [e.event_id for e in result.events] == ["chk-2026", None]
    assert [r.index for r in result.rejections] == [1]
    assert result.notes == ["ignored unknown fields: colour"]


def test_whole_body_errors(now: datetime) -> None:
    with pytest.raises(FeedFormatError):
        parse_events(b"{nope", JSON, now)
    with pytest.raises(UnsupportedMediaType):
        parse_events(b"a,b", "text/csv", now)


def test_accepted_events_keep_their_body_index(now: datetime) -> None:
    events, rejections = parse(event(type="?"), event(), now=now)
    assert [e.index for e in events] == [1]
    assert [r.index for r in rejections] == [0]
