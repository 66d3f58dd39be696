"""A schedule trigger, when created or changed, reminds of the due dates its customer already
has. Its condition runs on a read snapshot with no write transaction held; the write
transaction then applies what it decided only if the trigger, the customer and their events
are still what the condition saw, and otherwise the whole change is tried again.

On PostgreSQL, writing the trigger updates its tenant's configuration epoch, which locks the
tenant's row: an event batch either committed before (and is read again here) or waits for
this transaction and then decides for the new trigger (`engine.ingest.events`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from engine.customers.refs import CustomerRef
from engine.errors import NotFound
from engine.evaluation.active import ActiveTrigger
from engine.evaluation.kinds import Verdict
from engine.evaluation.occurrences import OccurrenceEvaluator
from engine.feeds.events import active_of_type
from engine.ingest.phases import try_again
from engine.ingest.stores import StoresOver
from engine.models import Event
from engine.platform.clock import Clock
from engine.platform.db import end_reads, read_snapshot


@dataclass(frozen=True)
class Reminders:
    """What a schedule trigger's condition decided for the customer's active events."""

    trigger: ActiveTrigger
    customer: CustomerRef
    seen: list[tuple[Any, ...]]
    verdicts: list[Verdict]


def _seen(event: Event) -> tuple[Any, ...]:
    """Everything of an event a condition or a reminder depends on."""
    return (
        event.id,
        event.status,
        event.due,
        event.amount,
        event.currency,
        event.fields,
        event.occurred_at,
        event.updated_at,
    )


class ScheduleCatchUp:
    def __init__(
        self,
        session: Session,
        stores_over: StoresOver,
        occurrences: OccurrenceEvaluator,
        clock: Clock,
    ) -> None:
        self.session = session
        self.stores_over = stores_over
        self.write = stores_over(session)
        self.occurrences = occurrences
        self.clock = clock

    def decide(self, trigger: ActiveTrigger, event_type: str) -> Reminders:
        """Run the condition for each active event of ``event_type`` on a snapshot. The unit of
        work's transaction is ended first: up to here it has only read."""
        end_reads(self.session)
        bind = self.session.get_bind()
        assert isinstance(bind, Engine), "a unit of work is bound to an engine"
        with read_snapshot(bind) as session:
            reads = self.stores_over(session)
            customer = reads.customers.get(trigger.tenant_id, trigger.customer_id)
            if customer is None:
                raise NotFound(f"customer {trigger.customer_id} not found")
            ref = CustomerRef.of(customer)
            events = active_of_type(reads.feeds, ref.id, event_type)
            now = self.clock.now()
            verdicts = [self.occurrences.decide(trigger, e, ref, now) for e in events]
        return Reminders(trigger, ref, [_seen(e) for e in events], verdicts)

    def apply(self, trigger: ActiveTrigger, event_type: str, decided: Reminders) -> bool:
        """Write the reminders decided, in the write transaction, after the trigger itself was
        written; False (nothing applied) when what they were decided on has changed."""
        if trigger != decided.trigger:
            return False
        customer = self.write.customers.get(trigger.tenant_id, trigger.customer_id)
        if customer is None or CustomerRef.of(customer) != decided.customer:
            return False
        events = active_of_type(self.write.feeds, trigger.customer_id, event_type)
        if [_seen(e) for e in events] != decided.seen:
            return False
        for event, verdict in zip(events, decided.verdicts, strict=True):
            self.occurrences.apply(trigger, event, decided.customer, verdict)
        return True

    def again(self, attempt: int) -> None:
        """Drop what this attempt wrote and wait a moment; past the last attempt, refuse (503)."""
        try_again(
            self.session,
            attempt,
            "the customer's events kept changing while the trigger was being saved; "
            "nothing was changed",
        )
