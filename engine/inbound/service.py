"""What the outside world tells us back: provider status callbacks here, SMS and keypad
answers in ``replies``, signed links in ``links``."""

from __future__ import annotations

import logging
from datetime import datetime
from functools import cached_property

from engine.channels.webhooks import StatusScale, StatusUpdate
from engine.consent.service import ConsentService
from engine.history.service import HistoryService
from engine.inbound.actions import CustomerActions, Via
from engine.inbound.links import Links
from engine.inbound.replies import Replies
from engine.inbound.repository import InboundRepository
from engine.models import DeliveryAttempt, HistoryKind, Notification, NotificationStatus
from engine.platform.clock import Clock
from engine.platform.config import Settings

log = logging.getLogger("nudge.inbound")

ADVANCES = (NotificationStatus.sending, NotificationStatus.sent)
MAX_STATUS = 40  # DeliveryAttempt.provider_status; providers' words are far shorter


class InboundService:
    """Everything that comes back in, in provider-neutral terms."""

    def __init__(
        self,
        repo: InboundRepository,
        consent: ConsentService,
        history: HistoryService,
        settings: Settings,
        clock: Clock,
    ) -> None:
        self._repo = repo
        self.history = history
        self.settings = settings
        self.clock = clock
        self.actions = CustomerActions(repo, consent, history, clock)

    @cached_property
    def replies(self) -> Replies:
        """Inbound SMS and keypad answers."""
        return Replies(self.actions, self._repo, self.settings.twilio_from_number)

    @cached_property
    def links(self) -> Links:
        """One-click unsubscribe and acknowledgement links."""
        return Links(self.actions, self._repo, self.settings)

    def acknowledge(self, notification: Notification, via: Via, at: datetime) -> bool:
        """Record the customer's confirmation and stop escalation; False if it was already in."""
        return self.actions.acknowledge(notification, via, at)

    def provider_status(self, update: StatusUpdate, scale: StatusScale) -> bool:
        """Apply a provider's status callback, ranked on its provider's ``scale``; False if no
        attempt has that provider id. A status longer than any provider's is ignored."""
        if len(update.status) > MAX_STATUS:
            log.warning(
                "status callback with a status no provider has",
                extra={"length": len(update.status)},
            )
            return True
        attempt = self._repo.attempt_by_provider_id(update.provider_id)
        if attempt is None:
            log.warning(
                "status callback for an unknown provider id",
                extra={"provider_id": update.provider_id, "status": update.status},
            )
            return False
        if not scale.advances(attempt.provider_status, update.status):
            return True
        notification = self._repo.notification(attempt.notification_id)
        attempt.provider_status = update.status
        self._repo.save(attempt)
        if notification is not None:
            self._apply_status(notification, attempt, update, scale)
        return True

    def _apply_status(
        self,
        notification: Notification,
        attempt: DeliveryAttempt,
        update: StatusUpdate,
        scale: StatusScale,
    ) -> None:
        now = self.clock.now()
        status, error_code = update.status, update.error_code
        data: dict[str, object] = {"status": status, "provider_id": attempt.provider_id}
        summary = f"{attempt.channel} {status}"
        if error_code:
            data["error_code"] = error_code
            summary += f" (error {error_code})"
        if status in scale.delivered and notification.status in ADVANCES:
            self._set_status(notification, NotificationStatus.delivered, None, now)
        elif status in scale.failed and self._is_latest(attempt):
            self._set_status(notification, NotificationStatus.failed, summary, now)
        self.history.record(
            notification.tenant_id,
            notification.customer_id,
            HistoryKind.status,
            summary,
            data,
            channel=attempt.channel,
            notification_id=notification.id,
            at=now,
        )

    def _is_latest(self, attempt: DeliveryAttempt) -> bool:
        latest = self._repo.latest_attempt(attempt.notification_id, attempt.channel)
        return latest is not None and latest.id == attempt.id

    def _set_status(
        self,
        notification: Notification,
        status: NotificationStatus,
        reason: str | None,
        now: datetime,
    ) -> None:
        notification.status, notification.updated_at = status, now
        if reason is not None:
            notification.reason = reason
        self._repo.save(notification)
