"""What a claimed batch holds while delivery prepares it: the notifications waiting to be
rendered, by tenant; drafts waiting for their render; jobs ready to send and what sending
them produced; the batch's own view of frequency caps."""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from engine.channels.base import ChannelError, OutboundMessage, SendResult
from engine.delivery.composer import Composer, MessageDraft
from engine.delivery.planner import Recipient, SentCount, SentLog
from engine.errors import NudgeError
from engine.models import Notification, Tenant
from engine.templating.pool import Rendered

RuleKey = tuple[str, str, int]


@dataclass(frozen=True)
class Job:
    """A claimed notification ready to go out on one channel."""

    notification_id: str
    message: OutboundMessage
    order: tuple[str, ...]
    index: int
    created_at: datetime
    escalation: timedelta | None


@dataclass(frozen=True)
class Outcome:
    """What sending a job produced."""

    job: Job
    result: SendResult | ChannelError
    started: datetime


@dataclass(frozen=True)
class Batch:
    """A claimed batch with everything preparing it needs, loaded in the claim's transaction."""

    claimed: list[Notification]
    recipients: dict[str, Recipient]
    rules: dict[RuleKey, dict[str, Any]]
    tenants: dict[str, Tenant]
    composer: Composer
    sent: SentLog
    attempts: Mapping[tuple[str, str], int]  # attempts made so far, by (notification, channel)

    def rule(self, n: Notification) -> dict[str, Any]:
        return self.rules.get((n.tenant_id, n.rule_key, n.rule_version), {})


@dataclass
class Claimed:
    """A claimed batch being prepared: what is still waiting to be rendered, how many were
    handled, and how long each tenant's renders took so far."""

    batch: Batch
    caps: Caps
    now: datetime
    waiting: deque[Notification]
    handled: int = 0
    released: list[str] = field(default_factory=list)
    settled: list[str] = field(default_factory=list)  # handled without a message to send
    spent: dict[str, float] = field(default_factory=dict)

    def tenants(self) -> list[str]:
        """The tenants with notifications waiting, in claim order."""
        return list(dict.fromkeys(n.tenant_id for n in list(self.waiting)))

    def has(self, tenant_id: str) -> bool:
        """Whether any of ``tenant_id``'s is waiting (safe beside the thread that takes them:
        the queue is copied at once)."""
        return any(n.tenant_id == tenant_id for n in list(self.waiting))

    def next(self, tenant_id: str | None = None) -> Notification | None:
        """The next waiting notification (of ``tenant_id``, if given), out of the queue."""
        if tenant_id is None:
            return self.waiting.popleft() if self.waiting else None
        mine = self.take(tenant_id, 1)
        return mine[0] if mine else None

    def take(self, tenant_id: str, count: int) -> list[Notification]:
        """Up to ``count`` of ``tenant_id``'s waiting notifications, out of the queue."""
        mine = [n for n in self.waiting if n.tenant_id == tenant_id][:count]
        for n in mine:
            self.waiting.remove(n)
        return mine


@dataclass(frozen=True)
class Pending:
    """A planned notification whose message waits to be rendered: its draft, or the error
    that kept it from having one (no template)."""

    n: Notification
    draft: MessageDraft | None
    error: NudgeError | None = None

    def unrendered(self) -> Rendered | None:
        """The outcome already known without rendering (the draft failed), else None."""
        return Rendered(None, self.error, 0.0) if self.draft is None else None


class Again:
    """The message could not be rendered and the notification moves on to its next channel:
    plan and render it again."""


AGAIN = Again()


class Caps:
    """Frequency caps within one batch: what was sent before it plus what it plans."""

    def __init__(self, sent: SentLog) -> None:
        self.sent = sent
        self.planned = Counter[tuple[str, str]]()

    def counter(self, customer_id: str) -> SentCount:
        def count(channel: str, since: datetime) -> int:
            return (
                self.sent.count(customer_id, channel, since) + self.planned[(customer_id, channel)]
            )

        return count
