"""Store business events by the business's key: a repeat with changes is a correction."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from engine.customers.refs import CustomerRef
from engine.feeds.parsing import EventRow
from engine.feeds.stores import FeedStores
from engine.models import Event
from engine.platform.ids import new_id

Outcome = Literal["accepted", "duplicate", "corrected"]


def event_key(row: EventRow) -> str:
    """The business's id, else the type for dated items (one due date per type), else the time."""
    if row.event_id:
        return row.event_id
    return row.type if row.due is not None else row.occurred_at.isoformat()


def content(row: EventRow) -> dict[str, Any]:
    return {
        "status": row.status,
        "due": row.due,
        "amount": row.amount,
        "currency": row.currency,
        "fields": row.fields,
        "occurred_at": row.occurred_at,
    }


def as_stored(customer: CustomerRef, row: EventRow, now: datetime) -> Event:
    """The event as storing ``row`` leaves it (whether new, repeated or corrected)."""
    return Event(
        id=new_id("evt"),
        tenant_id=customer.tenant_id,
        customer_id=customer.id,
        type=row.type,
        key=event_key(row),
        received_at=now,
        updated_at=now,
        **content(row),
    )


def active_of_type(feeds: FeedStores, customer_id: str, type_: str) -> list[Event]:
    """The customer's active events of one type, oldest first."""
    return feeds.events.active_of_type(customer_id, type_)


def store_event(
    feeds: FeedStores, customer: CustomerRef, row: EventRow, now: datetime
) -> tuple[Event, Outcome]:
    events, key = feeds.events, event_key(row)
    event = events.find(customer.id, row.type, key, for_update=True)
    if event is None:
        event = as_stored(customer, row, now)
        if events.insert(event):
            return event, "accepted"
        # Another batch stored the same event first: this row repeats or corrects it.
        event = events.find(customer.id, row.type, key, for_update=True)
        assert event is not None
    stored = {name: getattr(event, name) for name in content(row)}
    if stored == content(row):
        return event, "duplicate"
    for name, value in content(row).items():
        setattr(event, name, value)
    event.updated_at = now
    events.save(event)
    return event, "corrected"
