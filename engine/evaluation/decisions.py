"""Write a decision: a notification row (unique per trigger, occurrence and transition) plus
a history entry that says why. Runs in the transaction that stored the data causing it."""

from __future__ import annotations

from collections.abc import Callable
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
        trigger, rule, now = decision.trigger, decision.rule.definition, self.clock.now()
        notification_id = new_id("ntf")
        inserted = self._repo.insert_unique(
            {
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
        )
        if not inserted:
            return None
        self.history.record(
            trigger.tenant_id,
            trigger.customer_id,
            HistoryKind.decision,
            decision.summary,
            {
                "status": decision.status.value,
                "reason": decision.reason,
                "why": decision.why,
                **decision.extra,
            },
            notification_id=notification_id,
        )
        if decision.status is NotificationStatus.pending:
            self.created.append(notification_id)
            self.on_created()
        return notification_id


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
