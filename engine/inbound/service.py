"""Acknowledgements and provider status callbacks: what the outside world tells us back."""

from __future__ import annotations

import logging
from datetime import datetime
from functools import cached_property
from typing import Final, Literal

from engine.consent.service import ConsentService
from engine.history.service import HistoryService
from engine.inbound.links import Links
from engine.inbound.replies import Replies
from engine.inbound.repository import InboundRepository
from engine.models import (
    ALL_TOPICS,
    DeliveryAttempt,
    HistoryKind,
    Notification,
    NotificationStatus,
)
from engine.platform.clock import Clock
from engine.platform.config import Settings

log = logging.getLogger("nudge.inbound")

Via = Literal["sms", "keypad", "email link"]
VIA: Final[dict[str, tuple[HistoryKind, str]]] = {
    "sms": (HistoryKind.reply, "sms"),
    "keypad": (HistoryKind.keypress, "voice"),
    "email link": (HistoryKind.reply, "email"),
}
SCHEDULE_OCCURRENCE = "e:"
CHAIN_ENDED = "the customer confirmed an earlier reminder"

# How far a provider status has come; a callback never moves an attempt backwards.
STATUS_RANK: Final[dict[str, int]] = {
    "accepted": 0, "scheduled": 0, "queued": 0, "initiated": 1, "sending": 1, "sent": 2,
    "ringing": 2, "in-progress": 3, "answered": 3, "delivered": 5, "completed": 5, "failed": 5,
    "undelivered": 5, "busy": 5, "no-answer": 5, "canceled": 5, "read": 6,
}  # fmt: skip
FINAL_RANK = 5
FAILED = frozenset({"failed", "undelivered"})
DELIVERED = "delivered"
ADVANCES = (NotificationStatus.sending, NotificationStatus.sent)


class InboundService:
    """Everything that comes back in; SMS and keypad answers in ``replies``, links in ``links``."""

    def __init__(
        self,
        repo: InboundRepository,
        consent: ConsentService,
        history: HistoryService,
        settings: Settings,
        clock: Clock,
    ) -> None:
        self.repo = repo
        self.consent = consent
        self.history = history
        self.settings = settings
        self.clock = clock

    @cached_property
    def replies(self) -> Replies:
        """Inbound SMS and keypad answers."""
        return Replies(self, self.repo, self.settings.twilio_from_number)

    @cached_property
    def links(self) -> Links:
        """One-click unsubscribe and acknowledgement links."""
        return Links(self, self.repo, self.settings)

    def acknowledge(self, notification: Notification, via: Via, at: datetime) -> bool:
        """Record the customer's confirmation and stop escalation; False if it was already in."""
        if notification.acknowledged_at is not None:
            return False
        notification.acknowledged_at, notification.escalate_at = at, None
        notification.updated_at = at
        self.repo.save(notification)
        kind, channel = VIA[via]
        self.history.record(
            notification.tenant_id,
            notification.customer_id,
            kind,
            f"acknowledged by {via}",
            {"acknowledged": True, "via": via},
            channel=channel,
            notification_id=notification.id,
            at=at,
        )
        if notification.occurrence.startswith(SCHEDULE_OCCURRENCE):
            self._end_chain(notification, at)
        return True

    def _end_chain(self, confirmed: Notification, at: datetime) -> None:
        """A confirmed reminder makes the still-open reminders of its occurrence moot."""
        for other in self.repo.open_in_occurrence(confirmed):
            other.status, other.reason, other.updated_at = (
                NotificationStatus.cancelled,
                CHAIN_ENDED,
                at,
            )
            self.repo.save(other)
            self.history.record(
                other.tenant_id,
                other.customer_id,
                HistoryKind.decision,
                f"reminder cancelled: {CHAIN_ENDED}",
                {"status": "cancelled", "reason": CHAIN_ENDED, "confirmed": confirmed.id},
                notification_id=other.id,
                at=at,
            )

    def revoke_channel(self, tenant_id: str, customer_id: str, channel: str, source: str) -> bool:
        """Revoke ``channel`` for all topics, including topics granted one by one; False if
        it was revoked already."""
        rows = [r for r in self.consent.list(customer_id) if r.channel == channel]
        granted = [r.topic for r in rows if r.granted and r.topic != ALL_TOPICS]
        revoked_for_all = any(r.topic == ALL_TOPICS and not r.granted for r in rows)
        for topic in [*granted, ALL_TOPICS]:
            self.consent.set(tenant_id, customer_id, channel, topic, False, source)
        return bool(granted) or not revoked_for_all

    def restore_channel(self, tenant_id: str, customer_id: str, channel: str, source: str) -> None:
        """Grant ``channel`` for all topics, and topics that ``source`` revoked one by one."""
        for row in self.consent.list(customer_id):
            if row.channel == channel and not row.granted and row.source == source:
                self.consent.set(tenant_id, customer_id, channel, row.topic, True, source)
        self.consent.set(tenant_id, customer_id, channel, ALL_TOPICS, True, source)

    def provider_status(self, provider_id: str, status: str, error_code: str | None) -> bool:
        """Apply a provider's status callback; False if no attempt has that provider id."""
        attempt = self.repo.attempt_by_provider_id(provider_id)
        if attempt is None:
            log.warning(
                "status callback for an unknown provider id",
                extra={"provider_id": provider_id, "status": status},
            )
            return False
        status = status.strip().lower()
        if not _advances(attempt.provider_status, status):
            return True
        notification = self.repo.notification(attempt.notification_id)
        attempt.provider_status = status
        self.repo.save(attempt)
        if notification is not None:
            self._apply_status(notification, attempt, status, error_code)
        return True

    def _apply_status(
        self,
        notification: Notification,
        attempt: DeliveryAttempt,
        status: str,
        error_code: str | None,
    ) -> None:
        now = self.clock.now()
        data: dict[str, object] = {"status": status, "provider_id": attempt.provider_id}
        summary = f"{attempt.channel} {status}"
        if error_code:
            data["error_code"] = error_code
            summary += f" (error {error_code})"
        if status == DELIVERED and notification.status in ADVANCES:
            self._set_status(notification, NotificationStatus.delivered, None, now)
        elif status in FAILED and self._is_latest(attempt):
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
        latest = self.repo.latest_attempt(attempt.notification_id, attempt.channel)
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
        self.repo.save(notification)


def _advances(current: str | None, new: str) -> bool:
    """Whether ``new`` moves an attempt forward (repeats and late arrivals do not)."""
    if current is None:
        return True
    if new == current:
        return False
    before = STATUS_RANK.get(current, 0)
    if new not in STATUS_RANK:
        return before < FINAL_RANK
    return STATUS_RANK[new] > before
