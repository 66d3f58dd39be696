"""Write a decision: a notification row (unique per trigger, occurrence and transition) plus
a history entry that says why. Runs in the transaction that stored the data causing it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.catalog.compiled import CompiledRule
from engine.evaluation.active import ActiveTrigger
from engine.evaluation.ports import NotificationStore
from engine.history.service import HistoryService
from engine.models import HistoryKind, NotificationStatus
from engine.platform.clock import Clock
from engine.platform.ids import new_id


@dataclass(frozen=True)
class Decision:
    trigger: ActiveTrigger
    rule: CompiledRule
    occurrence: str
    transition: str
    status: NotificationStatus
    due_at: datetime
    why: dict[str, Any]
    summary: str
    reason: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class DecisionWriter:
    def __init__(
        self,
        repo: NotificationStore,
        history: HistoryService,
        clock: Clock,
        on_created: Callable[[], None] = lambda: None,
    ) -> None:
        self._repo = repo
        self.history = history
        self.clock = clock
        self.on_created = on_created
        self.created: list[str] = []

    def write(self, decision: Decision) -> str | None:
        """The new notification's id, or None if this transition was already decided."""
        notification_id = new_id("ntf")
        if not self._repo.insert_unique(self._row(decision, notification_id)):
            return None
        trigger = decision.trigger
        summary, data = self._entry(decision)
        self.history.record(
            trigger.tenant_id,
            trigger.customer_id,
            HistoryKind.decision,
            summary,
            data,
            notification_id=notification_id,
        )
        self._created(decision, notification_id)
        return notification_id

    def write_many(self, decisions: Sequence[Decision]) -> list[str | None]:
        """`write` for each decision in order, in a few statements: each one's new
        notification id, or None where its transition was already decided (before, or by an
        earlier decision of ``decisions``)."""
        if not decisions:
            return []
        rows = [self._row(decision, new_id("ntf")) for decision in decisions]
        inserted = self._repo.insert_unique_many(rows)
        ids: list[str | None] = [r["id"] if r["id"] in inserted else None for r in rows]
        entries = []
        for decision, notification_id in zip(decisions, ids, strict=True):
            if notification_id is None:
                continue
            trigger = decision.trigger
            summary, data = self._entry(decision)
            entries.append(
                self.history.row(
                    trigger.tenant_id,
                    trigger.customer_id,
                    HistoryKind.decision,
                    summary,
                    data,
                    notification_id=notification_id,
                )
            )
            self._created(decision, notification_id)
        self.history.record_many(entries)
        return ids

    def _row(self, decision: Decision, notification_id: str) -> dict[str, Any]:
        """The notification's column values."""
        trigger, rule, now = decision.trigger, decision.rule.definition, self.clock.now()
        return {
            "id": notification_id,
            "tenant_id": trigger.tenant_id,
            "customer_id": trigger.customer_id,
            "trigger_id": trigger.id,
            "rule_key": rule.key,
            "rule_version": decision.rule.version,
            "topic": rule.topic,
            "urgency": rule.urgency,
            "occurrence": decision.occurrence,
            "transition": decision.transition,
            "status": decision.status,
            "reason": decision.reason,
            "due_at": decision.due_at,
            "why": decision.why,
            "channel_order": trigger.channels or [],
            "requires_ack": rule.requires_ack,
            "created_at": now,
            "updated_at": now,
        }

    @staticmethod
    def _entry(decision: Decision) -> tuple[str, dict[str, Any]]:
        """The history entry's summary and data."""
        return decision.summary, {
            "status": decision.status.value,
            "reason": decision.reason,
            "why": decision.why,
            **decision.extra,
        }

    def _created(self, decision: Decision, notification_id: str) -> None:
        if decision.status is NotificationStatus.pending:
            self.created.append(notification_id)
            self.on_created()


def why(
    trigger: ActiveTrigger, rule: CompiledRule, values: dict[str, Any], unit: str = ""
) -> dict[str, Any]:
    """The stored answer to "why did I get this?": rule, version, parameters and values."""
    return {
        "unit": unit,
        "rule": rule.definition.key,
        "version": rule.version,
        "condition": rule.definition.condition,
        "params": trigger.params,
        "values": values,
    }
