"""Deliveries as operations staff follow them: filtered lists, one notification with its
attempts and history, counts by status and channel, and cancelling what has not gone out."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from engine.console.repository import DeliveryFilter as DeliveryFilter  # what routes filter by
from engine.console.repository import DeliveryRepository
from engine.errors import Conflict, NotFound
from engine.history.service import HistoryService
from engine.models import (
    OPEN_STATUSES,
    DeliveryAttempt,
    HistoryEntry,
    HistoryKind,
    Notification,
    NotificationStatus,
)
from engine.platform.clock import Clock

PAGE = 50


@dataclass(frozen=True)
class Followed:
    notification: Notification
    attempts: list[DeliveryAttempt]
    history: list[HistoryEntry]

    @property
    def cancellable(self) -> bool:
        return self.notification.status in OPEN_STATUSES

    def of_kind(self, *kinds: str) -> list[HistoryEntry]:
        return [e for e in self.history if str(e.kind) in kinds]


@dataclass(frozen=True)
class Counts:
    since: datetime
    rows: list[tuple[str, str, int]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(n for _, _, n in self.rows)


class ConsoleDeliveries:
    def __init__(self, repo: DeliveryRepository, history: HistoryService, clock: Clock) -> None:
        self._repo = repo
        self.history = history
        self.clock = clock

    def page(
        self, tenant_id: str, where: DeliveryFilter, before_id: str | None
    ) -> tuple[list[Notification], str | None]:
        rows = self._repo.notifications(tenant_id, where, before_id, PAGE + 1)
        more = rows[PAGE - 1].id if len(rows) > PAGE else None
        return rows[:PAGE], more

    def follow(self, tenant_id: str, notification_id: str) -> Followed:
        row = self._repo.get(tenant_id, notification_id)
        if row is None:
            raise NotFound(f"notification {notification_id!r} not found")
        return Followed(row, self._repo.attempts(row.id), self._repo.history(tenant_id, row.id))

    def counts(self, tenant_id: str) -> Counts:
        since = self.clock.now() - timedelta(days=1)
        rows = sorted(self._repo.counts(tenant_id, since))
        return Counts(since, rows)

    def cancel(self, tenant_id: str, notification_id: str, who: str) -> Notification:
        """A pending or deferred notification will not go out; the history says who did it."""
        row = self._repo.get(tenant_id, notification_id, for_update=True)
        if row is None:
            raise NotFound(f"notification {notification_id!r} not found")
        if row.status not in OPEN_STATUSES:
            raise Conflict(
                f"the notification is {row.status}; only pending or deferred ones cancel"
            )
        reason = f"cancelled by {who}"
        row.status, row.reason, row.updated_at = (
            NotificationStatus.cancelled,
            reason,
            self.clock.now(),
        )
        self._repo.save(row)
        self.history.record(
            row.tenant_id,
            row.customer_id,
            HistoryKind.decision,
            f"notification cancelled: {reason}",
            {"status": "cancelled", "reason": reason, "by": who},
            notification_id=row.id,
        )
        return row
