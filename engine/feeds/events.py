"""Ingest business events: store them by the business's key (a repeat with changes is a
correction), then evaluate the event and schedule rules that watch their type."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from engine.customers.repository import CustomerRef, CustomerRepository
from engine.evaluation.decisions import DecisionWriter
from engine.evaluation.occurrences import OccurrenceEvaluator
from engine.feeds.events_repository import EventRepository
from engine.feeds.parsing import EventParseResult, EventRow, Rejection
from engine.feeds.schemas import BatchResult, RejectedRow
from engine.models import Event
from engine.platform.clock import Clock
from engine.platform.ids import new_id
from engine.tenants.repository import TenantRepository


def event_key(row: EventRow) -> str:
    """The business's id, else the type for dated items (one due date per type), else the time."""
    if row.event_id:
        return row.event_id
    return row.type if row.due is not None else row.occurred_at.isoformat()


def _content(row: EventRow) -> dict[str, Any]:
    return {
        "status": row.status,
        "due": row.due,
        "amount": row.amount,
        "currency": row.currency,
        "fields": row.fields,
        "occurred_at": row.occurred_at,
    }


class EventFeedService:
    def __init__(
        self,
        customers: CustomerRepository,
        tenants: TenantRepository,
        events: EventRepository,
        evaluator: OccurrenceEvaluator,
        writer: DecisionWriter,
        clock: Clock,
    ) -> None:
        self.customers = customers
        self.tenants = tenants
        self.events = events
        self.evaluator = evaluator
        self.writer = writer
        self.clock = clock

    def ingest(self, tenant_id: str, parsed: EventParseResult) -> BatchResult:
        result = BatchResult(batch=new_id("bat"), notes=list(parsed.notes))
        rejections = list(parsed.rejections)
        # Held: a schedule trigger created meanwhile either sees these events when it
        # catches up, or is among the triggers they are evaluated for.
        self.tenants.epoch(tenant_id, hold=True)
        found = self.customers.by_refs(tenant_id, sorted({e.customer for e in parsed.events}))
        # Key order (stable, so the last of one event's rows still wins): events locked in the
        # same order by every batch never wait on each other in a cycle.
        ordered = sorted(parsed.events, key=lambda e: (e.customer, e.type, event_key(e)))
        for row in ordered:
            customer = found.get(row.customer)
            if customer is None:
                rejections.append(
                    Rejection(row.index, f"unknown customer {row.customer!r}", "customer")
                )
                continue
            event, outcome = self._store(customer, row)
            setattr(result, outcome, getattr(result, outcome) + 1)
            if outcome != "duplicate":
                result.evaluated += 1
                self.evaluator.on_event(event, customer)
        result.notifications = len(self.writer.created)
        result.rejected = len(rejections)
        result.rejections = [
            RejectedRow(index=r.index, reason=r.reason, field=r.field)
            for r in sorted(rejections, key=lambda r: r.index)
        ]
        return result

    def _store(self, customer: CustomerRef, row: EventRow) -> tuple[Event, str]:
        now, key = self.clock.now(), event_key(row)
        event = self.events.find(customer.id, row.type, key, for_update=True)
        if event is None:
            event = _new_event(customer, row, key, now)
            if self.events.insert(event):
                return event, "accepted"
            # Another batch stored the same event first: this row repeats or corrects it.
            event = self.events.find(customer.id, row.type, key, for_update=True)
            assert event is not None
        stored = {
            "status": event.status,
            "due": event.due,
            "amount": event.amount,
            "currency": event.currency,
            "fields": event.fields,
            "occurred_at": event.occurred_at,
        }
        if stored == _content(row):
            return event, "duplicate"
        for name, value in _content(row).items():
            setattr(event, name, value)
        event.updated_at = now
        self.events.save(event)
        return event, "corrected"


def _new_event(customer: CustomerRef, row: EventRow, key: str, now: datetime) -> Event:
    return Event(
        id=new_id("evt"),
        tenant_id=customer.tenant_id,
        customer_id=customer.id,
        type=row.type,
        key=key,
        received_at=now,
        updated_at=now,
        **_content(row),
    )
