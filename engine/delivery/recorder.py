"""Record what happened to a notification: deferrals, fallbacks, attempts, sends, failures.
Every decision that changes where or when a message goes is a history entry that says why."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from engine.channels.base import ChannelError, OutboundMessage, SendResult, TransientChannelError
from engine.delivery.planner import Defer, Stop
from engine.delivery.policies import backoff
from engine.delivery.repository import DeliveryRepository
from engine.history.service import HistoryService
from engine.models import DeliveryAttempt, HistoryKind, Notification, NotificationStatus
from engine.platform.ids import new_id
from engine.platform.metrics import notifications as notification_metric
from engine.platform.metrics import send_latency

_PREVIEW = 120
log = logging.getLogger("nudge.dispatch")


def _mask(address: str) -> str:
    if "@" in address:
        name, _, domain = address.partition("@")
        return f"{name[:2]}…@{domain}"
    return f"…{address[-4:]}"


@dataclass(frozen=True)
class Sent:
    """A send the provider accepted, with what recording it needs (no row loaded)."""

    message: OutboundMessage
    result: SendResult
    started: datetime
    index: int
    created_at: datetime
    escalation: timedelta | None  # only when a later channel could take over


def _headline(message: OutboundMessage) -> str:
    preview = message.subject or message.text[:_PREVIEW]
    return f"{message.channel} sent to {_mask(message.to)}: {preview}"


def _message_data(message: OutboundMessage, result: SendResult) -> dict[str, object]:
    """The message as rendered, for the conversation history."""
    data: dict[str, object] = {
        "to": message.to,
        "subject": message.subject,
        "text": message.text,
        "provider_id": result.provider_id,
    }
    if message.html:
        data["html"] = message.html
    return data


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

    def sent_many(self, sent: Sequence[Sent], now: datetime, owner: str) -> None:
        """Record a group of successful sends in three statements."""
        updates, attempts, history = [], [], []
        for item in sent:
            m, r = item.message, item.result
            escalate_at = now + item.escalation if item.escalation is not None else None
            updates.append(
                {
                    "n_id": m.notification_id,
                    "sent_at": now,
                    "n_channel": m.channel,
                    "n_index": item.index,
                    "n_escalate": escalate_at,
                }
            )
            attempts.append(
                {
                    "id": new_id("att"),
                    "tenant_id": m.tenant_id,
                    "notification_id": m.notification_id,
                    "channel": m.channel,
                    "number": m.attempt,
                    "status": "sent",
                    "provider_id": r.provider_id,
                    "provider_status": r.status or None,
                    "response": r.response[:1000],
                    "started_at": item.started,
                    "finished_at": now,
                }
            )
            history.append(
                self.history.row(
                    m.tenant_id,
                    m.customer_id,
                    HistoryKind.message,
                    _headline(m),
                    _message_data(m, r),
                    channel=m.channel,
                    notification_id=m.notification_id,
                )
            )
            notification_metric.labels("sent", m.channel).inc()
            send_latency.labels(m.channel).observe((now - item.created_at).total_seconds())
        recorded = self.repo.mark_sent(updates, owner)
        if recorded != len(updates):
            log.warning(
                "some leases were lost before recording",
                extra={"sent": len(updates), "recorded": recorded},
            )
        self.repo.add_attempts(attempts)
        self.history.record_many(history)

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
        # The message carries its number among the attempts stored for this channel.
        attempts = message.attempt
        if status == "transient_error" and attempts < self.max_attempts:
            n.status, n.due_at = NotificationStatus.pending, now + backoff(attempts)
            n.reason = f"retrying {message.channel}: {error.reason}"
            self._release(n, now)
            self._entry(
                n,
                HistoryKind.status,
                f"{message.channel} attempt {attempts} failed "
                f"({error.reason}); retry at {n.due_at.isoformat(timespec='seconds')}",
                {"status": status, "reason": error.reason},
                message.channel,
            )
            return
        self.next_channel(n, f"{message.channel} failed: {error.reason}", now, order)

    def next_channel(
        self,
        n: Notification,
        reason: str,
        now: datetime,
        order: Sequence[str],
        *,
        keep_lease: bool = False,
    ) -> None:
        """Move on to the next channel in ``order``, due now. With ``keep_lease`` the caller
        goes on preparing it under its claim; otherwise it is released for the next claim
        (never both: a released notification prepared anyway would go out twice)."""
        n.channel_index += 1
        if n.channel_index >= len(order):
            self.stop(n, Stop(NotificationStatus.failed, f"{reason}; no channel left"), now)
            return
        n.due_at, n.reason = now, reason
        if keep_lease:
            n.updated_at = now
            self.repo.save(n)
        else:
            n.status = NotificationStatus.pending
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
