"""Event and schedule rules: a matching event fires once; a due date becomes a reminder at
``days_before`` and ``local_time`` in the customer's zone, moved or cancelled with the event."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from engine.catalog.compiled import CompiledRule, compiled_version
from engine.customers.repository import CustomerRef
from engine.evaluation.decisions import Decision, DecisionWriter, localized, why
from engine.evaluation.plan import customer_context
from engine.feeds.parsing.currency import minor_exponent
from engine.models import OPEN_STATUSES, Event, HistoryKind, Notification, NotificationStatus
from engine.notifications.repository import NotificationRepository
from engine.platform.clock import Clock
from engine.triggers.repository import ActiveTrigger, TriggerRepository
from rules.condition import evaluate
from rules.context import Context
from rules.context import Event as EventContext
from rules.schedule import reminder_at
from rules.windows import iso_utc


def event_context(event: Event) -> EventContext:
    amount = None
    if event.amount is not None and event.currency:
        amount = event.amount / 10 ** minor_exponent(event.currency)
    return EventContext(
        type=event.type,
        occurred_at=event.occurred_at,
        amount=amount,
        due_date=event.due,
        fields=event.fields,
    )


def occurrence(event: Event) -> str:
    return f"e:{event.type}:{event.key}"


class OccurrenceEvaluator:
    def __init__(
        self,
        triggers: TriggerRepository,
        notifications: NotificationRepository,
        writer: DecisionWriter,
        clock: Clock,
    ) -> None:
        self.triggers = triggers
        self.notifications = notifications
        self.writer = writer
        self.clock = clock

    def on_event(self, event: Event, customer: CustomerRef) -> int:
        """Evaluate the customer's event and schedule triggers for this event; decisions made."""
        made = 0
        for kind in ("event", "schedule"):
            for trigger in self.triggers.active([customer.id], kind, event_types=[event.type]):
                made += self.apply(trigger, event, customer)
        return made

    def apply(self, trigger: ActiveTrigger, event: Event, customer: CustomerRef) -> int:
        rule = compiled_version(trigger.rule_version_id, trigger.version, trigger.definition)
        if rule.definition.kind == "schedule":
            return self._schedule(trigger, rule, event, customer)
        if event.status != "active":
            return 0
        ctx = self._context(trigger, event, customer)
        result = evaluate(rule.condition, ctx)
        if not result.result:
            return 0
        title = localized(dict(rule.definition.title), customer.locale)
        return self._write(
            trigger,
            rule,
            event,
            "fire",
            ctx.now,
            result.values,
            f"{title}: event {event.type} matched",
        )

    def _schedule(
        self, trigger: ActiveTrigger, rule: CompiledRule, event: Event, customer: CustomerRef
    ) -> int:
        """Keep exactly one open reminder per trigger and dated event, at the instant the
        current due date and parameters give; any other open reminder is cancelled."""
        now = self.clock.now()
        ctx = self._context(trigger, event, customer)
        at = self._reminder_at(trigger, event, customer)
        result = evaluate(rule.condition, ctx) if at is not None else None
        wanted = at is not None and result is not None and result.result
        transition = f"due:{event.due}@{iso_utc(at)}" if wanted and at is not None else ""
        existing = self.notifications.by_occurrence(trigger.id, occurrence(event))
        for notification in existing:
            if notification.transition != transition:
                self._cancel(notification, now, _stale_reason(event, notification, wanted))
        if not transition or at is None or result is None or event.due is None:
            return 0
        if event.due < now.astimezone(ZoneInfo(customer.timezone)).date():
            return 0  # the date has passed: a reminder now would be no reminder
        title = localized(dict(rule.definition.title), customer.locale)
        local = at.astimezone(ZoneInfo(customer.timezone)).strftime("%Y-%m-%d %H:%M")
        summary = f"{title}: reminder for {event.due.isoformat()} scheduled at {local}"
        due_at = max(at, now)
        if self._write(trigger, rule, event, transition, due_at, result.values, summary):
            return 1
        # Back to a date and time whose reminder was cancelled before: open it again.
        same = [n for n in existing if n.transition == transition]
        return self._reopen(same[0], due_at, summary) if same else 0

    def _reminder_at(
        self, trigger: ActiveTrigger, event: Event, customer: CustomerRef
    ) -> datetime | None:
        if event.status != "active" or event.due is None:
            return None
        params = trigger.params
        return reminder_at(
            event.due, params["days_before"], params["local_time"], customer.timezone
        )

    def _reopen(self, notification: Notification, due_at: datetime, summary: str) -> int:
        if notification.status != NotificationStatus.cancelled:
            return 0  # already sent (or on its way) for this very date and time
        notification.status, notification.reason = NotificationStatus.pending, None
        notification.due_at, notification.updated_at = due_at, self.clock.now()
        self.notifications.save(notification)
        self.writer.history.record(
            notification.tenant_id,
            notification.customer_id,
            HistoryKind.decision,
            summary,
            {"status": "pending", "reason": None, "why": notification.why},
            notification_id=notification.id,
        )
        self.writer.created.append(notification.id)
        return 1

    def _write(
        self,
        trigger: ActiveTrigger,
        rule: CompiledRule,
        event: Event,
        transition: str,
        due_at: datetime,
        values: dict[str, object],
        summary: str,
    ) -> int:
        decision = Decision(
            trigger=trigger,
            rule=rule,
            occurrence=occurrence(event),
            transition=transition,
            status=NotificationStatus.pending,
            due_at=due_at,
            why=why(trigger, rule, dict(values), event.currency or ""),
            summary=summary,
            extra={"event_key": event.key},
        )
        return 1 if self.writer.write(decision) else 0

    def cancel_open(self, trigger_id: str, reason: str) -> None:
        """Cancel the trigger's notifications that have not gone out yet (it was switched off)."""
        now = self.clock.now()
        for notification in self.notifications.open_for_occurrences([trigger_id], ""):
            self._cancel(notification, now, reason)

    def _cancel(self, notification: Notification, now: datetime, reason: str) -> None:
        if notification.status not in OPEN_STATUSES:
            return
        notification.status, notification.reason = NotificationStatus.cancelled, reason
        notification.updated_at = now
        self.notifications.save(notification)
        self.writer.history.record(
            notification.tenant_id,
            notification.customer_id,
            HistoryKind.decision,
            f"{'reminder' if notification.transition.startswith('due:') else 'notification'} "
            f"cancelled: {reason}",
            {"status": "cancelled", "reason": reason},
            notification_id=notification.id,
        )

    def _context(self, trigger: ActiveTrigger, event: Event, customer: CustomerRef) -> Context:
        return Context(
            params=trigger.params,
            customer=customer_context(customer),
            now=self.clock.now(),
            event=event_context(event),
        )


def _stale_reason(event: Event, notification: Notification, wanted: bool) -> str:
    if event.status != "active":
        return "the event was cancelled"
    if event.due is None:
        return "the due date was removed"
    if not notification.transition.startswith(f"due:{event.due}@"):
        return "the due date moved"
    return "the reminder time changed" if wanted else "the rule's condition no longer holds"
