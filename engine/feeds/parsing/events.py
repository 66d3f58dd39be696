"""Business events (``bill.issued``, ``checkup.due``) from a JSON object, array or NDJSON.

Amounts follow the money convention of `units`: sent in major units with an ISO 4217
``currency``, kept in minor units. ``id`` is the business's own key for the event: a later
event with the same customer, type and id moves or cancels it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Literal, TypeAlias

from engine.errors import UnsupportedMediaType
from engine.feeds.parsing.body import load_json, media_type, split_ndjson
from engine.feeds.parsing.errors import FeedFormatError
from engine.feeds.parsing.readings import JSON_TYPES, NDJSON_TYPES
from engine.feeds.parsing.rows import Rejection
from engine.feeds.parsing.values import (
    RowError,
    as_name,
    as_number,
    as_text,
    as_timestamp,
    check_magnitude,
    check_not_future,
    check_not_past,
    future_limit,
    require,
)
from engine.platform.validation import (
    EARLIEST,
    MAX_JSON_LIST,
    MAX_JSON_STRING,
    json_size_problem,
)
from engine.units import is_currency, to_minor_units

JsonValue: TypeAlias = str | int | float | bool | None | list["JsonValue"] | dict[str, "JsonValue"]
Status = Literal["active", "cancelled"]

EVENT_FIELDS = frozenset(
    {"customer", "type", "id", "occurred_at", "due", "status", "amount", "currency", "fields"}
)
MAX_FIELDS = 100
LATEST_DUE = date(2199, 12, 31)  # far enough for any contract; reminders stay computable
MAX_DEPTH = 5
_STATUSES: dict[str, Status] = {
    "active": "active",
    "cancelled": "cancelled",
    "canceled": "cancelled",
}


@dataclass(frozen=True, slots=True)
class EventRow:
    """One validated event; ``amount`` in minor units of ``currency``.

    ``index`` is the event's position in the body, as in `Rejection`; it takes no part in equality.
    """

    customer: str
    type: str
    event_id: str | None
    occurred_at: datetime
    due: date | None
    status: Status
    amount: float | None
    currency: str | None
    fields: dict[str, JsonValue]
    index: int = field(default=0, compare=False)


@dataclass(slots=True)
class EventParseResult:
    """The accepted events, the rejected ones, and remarks about the body as a whole."""

    events: list[EventRow] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def parse_events(body: bytes, content_type: str, now: datetime) -> EventParseResult:
    """A JSON object or array of events, or NDJSON, by media type."""
    media, _ = media_type(content_type)
    if media in JSON_TYPES:
        data = load_json(body)
        if not isinstance(data, list | dict):
            raise FeedFormatError("expected a JSON array of event objects, or one event object")
        return parse_event_objects(enumerate(data if isinstance(data, list) else [data]), now)
    if media in NDJSON_TYPES:
        items, rejections = split_ndjson(body)
        result = parse_event_objects(items, now)
        result.rejections = sorted(result.rejections + rejections, key=lambda r: r.index)
        return result
    raise UnsupportedMediaType(
        detail=f"events must be application/json or application/x-ndjson, not {media or 'nothing'}"
    )


def parse_event_objects(items: Iterable[tuple[int, object]], now: datetime) -> EventParseResult:
    """Validate decoded event objects, keeping each one's index."""
    limit, at = future_limit(now), now.astimezone(UTC)
    result = EventParseResult()
    ignored: set[str] = set()
    for index, raw in items:
        if not isinstance(raw, dict):
            result.rejections.append(Rejection(index, "an event must be an object"))
            continue
        ignored.update(raw.keys() - EVENT_FIELDS)
        try:
            result.events.append(_event(raw, at, limit, index))
        except RowError as err:
            result.rejections.append(Rejection(index, err.reason, err.field))
    if ignored:
        result.notes.append(f"ignored unknown fields: {', '.join(sorted(ignored))}")
    return result


def _event(raw: Mapping[str, object], now: datetime, limit: datetime, index: int) -> EventRow:
    customer = as_text(require(raw, "customer"), "customer")
    kind = as_name(require(raw, "type"), "type")
    event_id = _optional(raw, "id")
    occurred_at = _optional(raw, "occurred_at")
    moment = now if occurred_at is None else as_timestamp(occurred_at, "occurred_at")
    check_not_future(moment, limit, "occurred_at")
    check_not_past(moment, "occurred_at")
    amount, currency = _money(raw.get("amount"), raw.get("currency"))
    return EventRow(
        customer=customer,
        type=kind,
        event_id=None if event_id is None else as_text(event_id, "id"),
        occurred_at=moment,
        due=_due(_optional(raw, "due")),
        status=_status(_optional(raw, "status")),
        amount=amount,
        currency=currency,
        fields=_fields(raw.get("fields")),
        index=index,
    )


def _optional(raw: Mapping[str, object], name: str) -> object:
    value = raw.get(name)
    return None if value == "" else value


def _due(raw: object) -> date | None:
    if raw is None:
        return None
    if not isinstance(raw, str) or len(raw.strip()) != 10:
        raise RowError("due", f"'due' must be a date YYYY-MM-DD, got {raw!r}")
    try:
        due = date.fromisoformat(raw.strip())
    except ValueError:
        raise RowError("due", f"'due' is not a valid date: {raw!r}") from None
    if not EARLIEST.date() <= due <= LATEST_DUE:
        raise RowError(
            "due", f"'due' {due.isoformat()} is outside {EARLIEST.date()} to {LATEST_DUE}"
        )
    return due


def _status(raw: object) -> Status:
    if raw is None:
        return "active"
    status = _STATUSES.get(raw) if isinstance(raw, str) else None
    if status is None:
        raise RowError("status", f"'status' must be 'active' or 'cancelled', got {raw!r}")
    return status


def _money(amount: object, currency: object) -> tuple[float | None, str | None]:
    if amount is None or amount == "":
        if currency not in (None, ""):
            raise RowError("currency", "'currency' given without 'amount'")
        return None, None
    value = as_number(amount, "amount")
    if currency is None or currency == "":
        raise RowError("currency", "'amount' needs a 'currency' (ISO 4217 code such as EUR)")
    if not isinstance(currency, str) or not is_currency(currency):
        raise RowError("currency", f"unknown currency {currency!r}")
    return check_magnitude(to_minor_units(value, currency), currency, "amount"), currency


def _fields(raw: object) -> dict[str, JsonValue]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise RowError("fields", "'fields' must be an object")
    if len(raw) > MAX_FIELDS:
        raise RowError("fields", f"'fields' has more than {MAX_FIELDS} entries")
    _check_json(raw, "fields", 0)
    if problem := json_size_problem(raw):
        raise RowError("fields", f"'fields' {problem}")
    return raw


def _check_json(value: object, path: str, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise RowError(path, f"'{path}' is nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, float) and not math.isfinite(value):
        raise RowError(path, f"'{path}': NaN and infinity are not allowed")
    if isinstance(value, str) and len(value) > MAX_JSON_STRING:
        raise RowError(path, f"'{path}' is longer than {MAX_JSON_STRING} characters")
    if isinstance(value, list | dict) and len(value) > MAX_JSON_LIST:
        raise RowError(path, f"'{path}' holds more than {MAX_JSON_LIST} items")
    if isinstance(value, dict):
        for key, item in value.items():
            _check_json(item, f"{path}.{key}", depth + 1)
    elif isinstance(value, list):
        for position, item in enumerate(value):
            _check_json(item, f"{path}[{position}]", depth + 1)
