"""Ingest business events: decide for the event and schedule triggers that watch their type
on a read snapshot, then store the events and apply the decisions in the write transaction.

A decision depends only on the event as stored (which is the row's content, whether it is
new, repeated or corrected), the trigger and the customer: the tenant's configuration epoch
being unchanged is all the write transaction has to check."""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.customers.refs import CustomerRef
from engine.evaluation.active import ActiveTrigger
from engine.evaluation.decisions import DecisionWriter
from engine.evaluation.kinds import Verdict
from engine.evaluation.occurrences import OccurrenceEvaluator
from engine.feeds.events import as_stored, event_key, store_event
from engine.feeds.parsing import EventParseResult, EventRow, Rejection
from engine.feeds.schemas import BatchResult
from engine.ingest.phases import ATTEMPTS, Phases
from engine.ingest.result import finished
from engine.ingest.stores import Stores
from engine.platform.clock import Clock
from engine.platform.ids import new_id


@dataclass
class EventDraft:
    epoch: int
    rejections: list[Rejection]
    rows: list[tuple[EventRow, CustomerRef, list[tuple[ActiveTrigger, Verdict]]]] = field(
        default_factory=list
    )


class EventFeedService:
    def __init__(
        self,
        phases: Phases,
        occurrences: OccurrenceEvaluator,
        writer: DecisionWriter,
        clock: Clock,
    ) -> None:
        self.phases = phases
        self.occurrences = occurrences
        self.writer = writer
        self.clock = clock

    def ingest(self, tenant_id: str, parsed: EventParseResult) -> BatchResult:
        batch = new_id("bat")
        for attempt in range(ATTEMPTS):
            with self.phases.snapshot() as reads:
                draft = self._draft(reads, tenant_id, parsed)
            result = self._write(tenant_id, draft, BatchResult(batch=batch, notes=parsed.notes))
            if result is not None:
                return result
            self.phases.again(attempt)
        raise AssertionError("unreachable: the last attempt raises Busy")

    def _draft(self, reads: Stores, tenant_id: str, parsed: EventParseResult) -> EventDraft:
        draft = EventDraft(reads.tenants.epoch(tenant_id), list(parsed.rejections))
        found = reads.customers.by_refs(tenant_id, sorted({e.customer for e in parsed.events}))
        now = self.clock.now()
        watching: dict[tuple[str, str], list[ActiveTrigger]] = {}
        # Key order (stable, so the last of one event's rows still wins): events locked in the
        # same order by every batch never wait on each other in a cycle.
        for row in sorted(parsed.events, key=lambda e: (e.customer, e.type, event_key(e))):
            customer = found.get(row.customer)
            if customer is None:
                reason = f"unknown customer {row.customer!r}"
                draft.rejections.append(Rejection(row.index, reason, "customer"))
                continue
            wakes = (customer.id, row.type)
            if wakes not in watching:
                watching[wakes] = self.occurrences.triggers_for(reads.evaluation, *wakes)
            event = as_stored(customer, row, now)
            verdicts = [
                (t, self.occurrences.decide(t, event, customer, now)) for t in watching[wakes]
            ]
            draft.rows.append((row, customer, verdicts))
        return draft

    def _write(self, tenant_id: str, draft: EventDraft, result: BatchResult) -> BatchResult | None:
        writes = self.phases.write
        # Held: a schedule trigger created meanwhile either sees these events when it
        # catches up, or is among the triggers they were decided for.
        if writes.tenants.epoch(tenant_id, hold=True) != draft.epoch:
            return None
        now = self.clock.now()
        for row, customer, verdicts in draft.rows:
            event, outcome = store_event(writes.feeds, customer, row, now)
            setattr(result, outcome, getattr(result, outcome) + 1)
            if outcome != "duplicate":
                result.evaluated += 1
                for trigger, verdict in verdicts:
                    self.occurrences.apply(trigger, event, customer, verdict)
        return finished(result, draft.rejections, len(self.writer.created))
