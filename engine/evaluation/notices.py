"""Notifications that event and schedule rules make, move, reopen and cancel, each with its
entry in the customer's history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from engine.catalog.compiled import CompiledRule
from engine.evaluation.active import ActiveTrigger
from engine.evaluation.decisions import Decision, DecisionWriter, why
from engine.evaluation.ports import NotificationStore
from engine.models import OPEN_STATUSES, Event, HistoryKind, Notification, NotificationStatus
from engine.platform.clock import Clock


def occurrence(event: Event) -> str:
    return f"e:{event.type}:{event.key}"


class Notices:
    def __init__(
        self, notifications: NotificationStore, writer: DecisionWriter, clock: Clock
    ) -> None:
        self.notifications = notifications
        self.writer = writer
        self.clock = clock

    def write(
        self,
        trigger: ActiveTrigger,
        rule: CompiledRule,
        event: Event,
        transition: str,
        due_at: datetime,
        values: dict[str, Any],
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

    def reopen(self, notification: Notification, due_at: datetime, summary: str) -> int:
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

    def cancel(self, notification: Notification, now: datetime, reason: str) -> None:
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

    def cancel_open(self, trigger_id: str, reason: str) -> None:
        """Cancel the trigger's notifications that have not gone out yet."""
        now = self.clock.now()
        for notification in self.notifications.open_for_occurrences([trigger_id], ""):
            self.cancel(notification, now, reason)
