"""Schedule rules: a due date becomes a reminder ``days_before`` at ``local_time`` in the
customer's zone, moved or cancelled with the event."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar
from zoneinfo import ZoneInfo

from engine.catalog.compiled import CompiledRule
from engine.customers.refs import CustomerRef
from engine.evaluation.active import ActiveTrigger
from engine.evaluation.context import event_condition_context
from engine.evaluation.kinds import Verdict
from engine.evaluation.notices import Notices, occurrence
from engine.models import Event, Notification
from engine.templating.locales import localized
from rules.condition import evaluate
from rules.schedule import reminder_at
from rules.windows import iso_utc


class ScheduleRule:
    name: ClassVar[str] = "schedule"

    def __init__(self, notices: Notices) -> None:
        self.notices = notices

    def decide(
        self,
        trigger: ActiveTrigger,
        rule: CompiledRule,
        event: Event,
        customer: CustomerRef,
        now: datetime,
    ) -> Verdict:
        if event.status != "active" or event.due is None:
            return Verdict(now, False)
        params = trigger.params
        at = reminder_at(event.due, params["days_before"], params["local_time"], customer.timezone)
        if at is None:
            return Verdict(now, False)
        result = evaluate(rule.condition, event_condition_context(trigger, event, customer, now))
        return Verdict(now, bool(result.result), dict(result.values), at)

    def apply(
        self,
        trigger: ActiveTrigger,
        rule: CompiledRule,
        event: Event,
        customer: CustomerRef,
        verdict: Verdict,
    ) -> int:
        """Keep exactly one open reminder per trigger and dated event, at the instant the
        current due date and parameters give; any other open reminder is cancelled."""
        now, at = verdict.now, verdict.at
        wanted = at is not None and verdict.holds
        transition = f"due:{event.due}@{iso_utc(at)}" if wanted and at is not None else ""
        existing = self.notices.notifications.by_occurrence(trigger.id, occurrence(event))
        for notification in existing:
            if notification.transition != transition:
                self.notices.cancel(notification, now, _stale_reason(event, notification, wanted))
        if not transition or at is None or event.due is None:
            return 0
        if event.due < now.astimezone(ZoneInfo(customer.timezone)).date():
            return 0  # the date has passed: a reminder now would be no reminder
        title = localized(dict(rule.definition.title), customer.locale)
        local = at.astimezone(ZoneInfo(customer.timezone)).strftime("%Y-%m-%d %H:%M")
        summary = f"{title}: reminder for {event.due.isoformat()} scheduled at {local}"
        due_at = max(at, now)
        if self.notices.write(trigger, rule, event, transition, due_at, verdict.values, summary):
            return 1
        # Back to a date and time whose reminder was cancelled before: open it again.
        same = [n for n in existing if n.transition == transition]
        return self.notices.reopen(same[0], due_at, summary) if same else 0


def _stale_reason(event: Event, notification: Notification, wanted: bool) -> str:
    if event.status != "active":
        return "the event was cancelled"
    if event.due is None:
        return "the due date was removed"
    if not notification.transition.startswith(f"due:{event.due}@"):
        return "the due date moved"
    return "the reminder time changed" if wanted else "the rule's condition no longer holds"
