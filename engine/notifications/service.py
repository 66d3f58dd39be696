"""What operations staff (and the demo's report) read about decisions and their deliveries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from engine.models import DeliveryAttempt, Notification, NotificationStatus
from engine.notifications.repository import NotificationRepository
from engine.notifications.schemas import NotificationPublic
from engine.platform.pagination import Page, decode_cursor, next_cursor
from engine.preferences.service import PreferencesService


class NotificationService:
    def __init__(self, repo: NotificationRepository, preferences: PreferencesService) -> None:
        self._repo = repo
        self.preferences = preferences

    def erase_for(self, customer_id: str, now: datetime) -> None:
        """Erasure: what has not gone out is cancelled, and decisions keep no values."""
        self._repo.erase_for_customer(customer_id, now, "the customer's data was erased")

    def page(
        self,
        tenant_id: str,
        cursor: str | None,
        limit: int,
        status: NotificationStatus | None = None,
        customer_id: str | None = None,
    ) -> Page[NotificationPublic]:
        """Notifications, oldest first, each with its delivery attempts and effective order."""
        rows = self._repo.page(
            tenant_id,
            after_id=decode_cursor(cursor),
            limit=limit,
            status=status,
            customer_id=customer_id,
        )
        attempts = self._repo.attempts([r.id for r in rows])
        defaults = {
            customer: self.preferences.get(customer).channel_order
            for customer in {r.customer_id for r in rows if not r.channel_order}
        }
        items = [
            NotificationPublic.of(
                row,
                [a for a in attempts if a.notification_id == row.id],
                defaults.get(row.customer_id, ()),
            )
            for row in rows
        ]
        return Page(items=items, next_cursor=next_cursor([r.id for r in rows], limit))

    def for_customer(self, customer_id: str) -> list[Notification]:
        return self._repo.for_customer(customer_id)

    def attempts(self, notification_ids: Sequence[str]) -> list[DeliveryAttempt]:
        """The delivery attempts of these notifications, oldest first."""
        return self._repo.attempts(notification_ids)
