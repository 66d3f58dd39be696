"""What operations staff (and the demo's report) read about decisions and their deliveries."""

from __future__ import annotations

from collections.abc import Sequence

from engine.models import DeliveryAttempt, Notification, NotificationStatus
from engine.notifications.repository import NotificationRepository
from engine.notifications.schemas import NotificationPublic
from engine.platform.pagination import Page, decode_cursor, next_cursor
from engine.preferences.service import PreferencesService


class NotificationService:
    def __init__(self, repo: NotificationRepository, preferences: PreferencesService) -> None:
        self.repo = repo
        self.preferences = preferences

    def page(
        self,
        tenant_id: str,
        cursor: str | None,
        limit: int,
        status: NotificationStatus | None = None,
        customer_id: str | None = None,
    ) -> Page[NotificationPublic]:
        """Notifications, oldest first, each with its delivery attempts and effective order."""
        rows = self.repo.page(
            tenant_id,
            after_id=decode_cursor(cursor),
            limit=limit,
            status=status,
            customer_id=customer_id,
        )
        attempts = self.repo.attempts([r.id for r in rows])
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
        return self.repo.for_customer(customer_id)

    def attempts(self, notification_ids: Sequence[str]) -> list[DeliveryAttempt]:
        """The delivery attempts of these notifications, oldest first."""
        return self.repo.attempts(notification_ids)
