"""Record what happened to a notification: deferrals, fallbacks, attempts, sends, failures.
Every decision that changes where or when a message goes is a history entry that says why."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from engine.channels.base import ChannelError, OutboundMessage, SendResult, TransientChannelError
from engine.delivery.planner import Defer, Stop
from engine.delivery.policies import backoff
from engine.delivery.repository import DeliveryRepository
from engine.history.service import HistoryService
from engine.ids import new_id
from engine.metrics import notifications as notification_metric
from engine.metrics import send_latency
from engine.models import DeliveryAttempt, HistoryKind, Notification, NotificationStatus

_PREVIEW = 120


def _mask(address: str) -> str:
    if "@" in address:
        name, _, domain = address.partition("@")
        return f"{name[:2]}…@{domain}"
    return f"…{address[-4:]}"


class Recorder:
    def __init__(
        self, repo: DeliveryRepository, history: HistoryService, max_attempts: int
    ) -> None:
        self.repo = repo
        self.history = history
        self.max_attempts = max_attempts

    def _entry(
        self,
        n: Notification,
        kind: HistoryKind,
        summary: str,
        data: dict[str, object],
        channel: str | None = None,
    ) -> None:
        self.history.record(
            n.tenant_id, n.customer_id, kind, summary, data, channel=channel, notification_id=n.id
        )

    def fallbacks(self, n: Notification, skipped: Sequence[tuple[str, str]]) -> None:
        for channel, reason in skipped:
            self._entry(
                n,
                HistoryKind.decision,
                f"skipped {channel}: {reason}",
                {"fallback_from": channel, "reason": reason},
                channel,
            )

    def defer(self, n: Notification, plan: Defer, now: datetime) -> None:
        self.fallbacks(n, plan.skipped)
        n.status, n.due_at, n.reason = NotificationStatus.deferred, plan.until, plan.reason
        n.channel_index, n.channel = plan.index, plan.channel
        self._release(n, now)
        self._entry(
            n,
            HistoryKind.decision,
            f"deferred: {plan.reason}",
            {"status": "deferred", "until": plan.until.isoformat(), "reason": plan.reason},
            plan.channel,
        )

    def stop(self, n: Notification, plan: Stop, now: datetime) -> None:
        self.fallbacks(n, plan.skipped)
        n.status, n.reason = plan.status, plan.reason
        self._release(n, now)
        notification_metric.labels(plan.status.value, n.channel or "none").inc()
        self._entry(
            n,
            HistoryKind.decision,
            f"{plan.status.value}: {plan.reason}",
            {"status": plan.status.value, "reason": plan.reason},
            n.channel,
        )

    def sent(
        self,
        n: Notification,
        message: OutboundMessage,
        result: SendResult,
        started: datetime,
        now: datetime,
        order: Sequence[str],
        escalation: timedelta | None,
    ) -> None:
        self._attempt(
            n, message, "sent", started, now, result.provider_id, result.status, result.response
        )
        n.status, n.sent_at, n.reason, n.attempts = NotificationStatus.sent, now, None, 0
        if escalation is not None and n.channel_index + 1 < len(order):
            n.escalate_at = now + escalation
        self._release(n, now)
        notification_metric.labels("sent", message.channel).inc()
        send_latency.labels(message.channel).observe((now - n.created_at).total_seconds())
        data: dict[str, object] = {
            "to": message.to,
            "subject": message.subject,
            "text": message.text,
            "provider_id": result.provider_id,
        }
        if message.html:
            data["html"] = message.html
        headline = message.subject or message.text[:_PREVIEW]
        self._entry(
            n,
            HistoryKind.message,
            f"{message.channel} sent to {_mask(message.to)}: {headline}",
            data,
            message.channel,
        )

    def failed(
        self,
        n: Notification,
        message: OutboundMessage,
        error: ChannelError,
        started: datetime,
        now: datetime,
        order: Sequence[str],
    ) -> None:
        """Retry a transient failure with backoff; otherwise fall back to the next channel."""
        status = "transient_error" if isinstance(error, TransientChannelError) else "failed"
        self._attempt(
            n,
            message,
            status,
            started,
            now,
            None,
            str(error.code or ""),
            error.response or error.reason,
        )
        n.attempts += 1
        if status == "transient_error" and n.attempts < self.max_attempts:
            n.status, n.due_at = NotificationStatus.pending, now + backoff(n.attempts)
            n.reason = f"retrying {message.channel}: {error.reason}"
            self._release(n, now)
            self._entry(
                n,
                HistoryKind.status,
                f"{message.channel} attempt {n.attempts} failed "
                f"({error.reason}); retry at {n.due_at.isoformat(timespec='seconds')}",
                {"status": status, "reason": error.reason},
                message.channel,
            )
            return
        self.next_channel(n, f"{message.channel} failed: {error.reason}", now, order)

    def next_channel(
        self, n: Notification, reason: str, now: datetime, order: Sequence[str]
    ) -> None:
        n.attempts, n.channel_index = 0, n.channel_index + 1
        if n.channel_index >= len(order):
            self.stop(n, Stop(NotificationStatus.failed, f"{reason}; no channel left"), now)
            return
        n.status, n.due_at, n.reason = NotificationStatus.pending, now, reason
        self._release(n, now)
        self._entry(
            n,
            HistoryKind.decision,
            f"fallback to {order[n.channel_index]}: {reason}",
            {"fallback_to": order[n.channel_index], "reason": reason},
            order[n.channel_index],
        )

    def escalate(
        self, n: Notification, now: datetime, order: Sequence[str], delay: timedelta
    ) -> None:
        n.escalate_at = None
        minutes = f"{delay.total_seconds() / 60:g}"
        self.next_channel(n, f"escalated: no acknowledgement within {minutes} min", now, order)

    def _attempt(
        self,
        n: Notification,
        message: OutboundMessage,
        status: str,
        started: datetime,
        now: datetime,
        provider_id: str | None,
        provider_status: str | None,
        response: str,
    ) -> None:
        self.repo.save(
            DeliveryAttempt(
                id=new_id("att"),
                tenant_id=n.tenant_id,
                notification_id=n.id,
                channel=message.channel,
                number=message.attempt,
                status=status,
                provider_id=provider_id,
                provider_status=provider_status or None,
                response=response[:1000],
                started_at=started,
                finished_at=now,
            )
        )

    def _release(self, n: Notification, now: datetime) -> None:
        n.lease_owner, n.lease_expires_at, n.updated_at = None, None, now
        self.repo.save(n)
