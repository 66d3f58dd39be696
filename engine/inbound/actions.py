"""What a customer's answer changes: a confirmation, or a channel stopped or restored.

Shared by SMS and keypad replies (``replies``) and signed links (``links``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Final, Literal

from engine.consent.service import ConsentService
from engine.history.service import HistoryService
from engine.inbound.repository import InboundRepository
from engine.models import ALL_TOPICS, HistoryKind, Notification, NotificationStatus
from engine.platform.clock import Clock

Via = Literal["sms", "keypad", "email link"]
VIA: Final[dict[str, tuple[HistoryKind, str]]] = {
    "sms": (HistoryKind.reply, "sms"),
    "keypad": (HistoryKind.keypress, "voice"),
    "email link": (HistoryKind.reply, "email"),
}
SCHEDULE_OCCURRENCE = "e:"
CHAIN_ENDED = "the customer confirmed an earlier reminder"


class CustomerActions:
    """Confirmations and channel consent, each recorded in the customer's history."""

    def __init__(
        self,
        repo: InboundRepository,
        consent: ConsentService,
        history: HistoryService,
        clock: Clock,
    ) -> None:
        self._repo = repo
        self.consent = consent
        self.history = history
        self.clock = clock

    def acknowledge(self, notification: Notification, via: Via, at: datetime) -> bool:
        """Record the customer's confirmation and stop escalation; False if it was already in."""
        if notification.acknowledged_at is not None:
            return False
        notification.acknowledged_at, notification.escalate_at = at, None
        notification.updated_at = at
        self._repo.save(notification)
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
        for other in self._repo.open_in_occurrence(confirmed):
            other.status, other.reason, other.updated_at = (
                NotificationStatus.cancelled,
                CHAIN_ENDED,
                at,
            )
            self._repo.save(other)
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
