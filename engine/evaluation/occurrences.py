"""Event-driven rule kinds, by name, behind one door: which triggers an event wakes, what
each decides (on a snapshot) and what that decision writes (in the write transaction)."""

from __future__ import annotations

from datetime import datetime

from engine.catalog.compiled import compiled_version
from engine.customers.refs import CustomerRef
from engine.evaluation.active import ActiveTrigger
from engine.evaluation.context import event_context as event_context
from engine.evaluation.events import EventRule
from engine.evaluation.kinds import EventKind, Verdict
from engine.evaluation.notices import Notices
from engine.evaluation.notices import occurrence as occurrence
from engine.evaluation.ports import NotificationStore
from engine.evaluation.schedule import ScheduleRule
from engine.evaluation.stores import EvaluationStores
from engine.models import Event

EVENT_KINDS: dict[str, type[EventKind]] = {kind.name: kind for kind in (EventRule, ScheduleRule)}


class OccurrenceEvaluator:
    def __init__(self, notices: Notices) -> None:
        self.notices = notices
        self.kinds = {name: kind(notices) for name, kind in EVENT_KINDS.items()}

    @property
    def notifications(self) -> NotificationStore:
        return self.notices.notifications

    def triggers_for(
        self, stores: EvaluationStores, customer_id: str, event_type: str
    ) -> list[ActiveTrigger]:
        """The customer's active triggers of every event-driven kind watching this type."""
        return [
            trigger
            for kind in self.kinds
            for trigger in stores.triggers.active([customer_id], kind, event_types=[event_type])
        ]

    def decide(
        self, trigger: ActiveTrigger, event: Event, customer: CustomerRef, now: datetime
    ) -> Verdict:
        rule = compiled_version(trigger.rule_version_id, trigger.version, trigger.definition)
        return self.kinds[rule.definition.kind].decide(trigger, rule, event, customer, now)

    def apply(
        self,
        trigger: ActiveTrigger,
        event: Event,
        customer: CustomerRef,
        verdict: Verdict | None = None,
    ) -> int:
        """Write what ``verdict`` decided (decided now, if not given); decisions made."""
        rule = compiled_version(trigger.rule_version_id, trigger.version, trigger.definition)
        kind = self.kinds[rule.definition.kind]
        if verdict is None:
            verdict = kind.decide(trigger, rule, event, customer, self.notices.clock.now())
        return kind.apply(trigger, rule, event, customer, verdict)

    def cancel_open(self, trigger_id: str, reason: str) -> None:
        """Cancel the trigger's notifications that have not gone out yet (it was switched off)."""
        self.notices.cancel_open(trigger_id, reason)
