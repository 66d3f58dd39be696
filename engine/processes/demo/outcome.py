"""What happened to one demo customer: notifications by status, the reasons for those that
did not go out now, and a few of the messages as they were sent."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from engine.models import HistoryKind, Notification, NotificationStatus, Tenant
from engine.processes.container import Services
from engine.processes.demo.cast import DemoCustomer

MAX_EXAMPLES = 3
STATUS_NAMES = {NotificationStatus.pending: "scheduled"}


@dataclass(frozen=True)
class Example:
    """A sent message: its rule, channel, subject or first line, and the outbox file."""

    rule: str
    channel: str
    headline: str
    file: str


@dataclass
class CustomerOutcome:
    customer: DemoCustomer
    customer_id: str
    statuses: Counter[str] = field(default_factory=Counter)
    sent_by_channel: Counter[str] = field(default_factory=Counter)
    reasons: Counter[tuple[str, str]] = field(default_factory=Counter)
    examples: list[Example] = field(default_factory=list)
    next_due: datetime | None = None

    @property
    def total(self) -> int:
        return sum(self.statuses.values())


def outcome_of(services: Services, customer: DemoCustomer, customer_id: str) -> CustomerOutcome:
    notifications = services.notifications.for_customer(customer_id)
    outcome = CustomerOutcome(customer, customer_id)
    for n in notifications:
        n.status = NotificationStatus(n.status)
        status = STATUS_NAMES.get(n.status, n.status.value)
        outcome.statuses[status] += 1
        if n.status in (NotificationStatus.sent, NotificationStatus.delivered):
            outcome.sent_by_channel[n.channel or "?"] += 1
        reason = _reason(n, customer.timezone)
        if reason is not None:
            outcome.reasons[(status, reason)] += 1
        if n.status in (NotificationStatus.pending, NotificationStatus.deferred):
            due = outcome.next_due
            outcome.next_due = n.due_at if due is None else min(due, n.due_at)
    outcome.examples = _examples(services, customer_id, notifications)
    return outcome


def _reason(n: Notification, timezone: str) -> str | None:
    if n.status is NotificationStatus.pending:
        local = n.due_at.astimezone(ZoneInfo(timezone))
        return f"{n.rule_key}: reminder due {local:%Y-%m-%d %H:%M} local time"
    if n.reason is None:
        return None
    return f"{n.rule_key}: {n.reason}"


def _examples(
    services: Services, customer_id: str, notifications: list[Notification]
) -> list[Example]:
    """The first message of each rule, oldest rule first."""
    rules = {n.id: n.rule_key for n in notifications}
    page = services.history.page(customer_id, None, 500, kinds=[HistoryKind.message])
    first: dict[str, Example] = {}
    for entry in reversed(page.items):
        rule = rules.get(entry.notification_id or "")
        if rule is None or rule in first or entry.channel is None:
            continue
        data = entry.data
        headline = str(data.get("subject") or "") or _first_line(str(data.get("text", "")))
        first[rule] = Example(rule, entry.channel, headline, str(data.get("provider_id", "")))
    return list(first.values())[:MAX_EXAMPLES]


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def template_summary(services: Services, tenant: Tenant) -> list[str]:
    """One line per template key and source: its channels and locales."""
    grouped: dict[tuple[str, str], tuple[set[str], set[str]]] = {}
    for t in services.templates.all(tenant):
        channels, locales = grouped.setdefault((t.key, t.source), (set(), set()))
        channels.add(t.channel)
        locales.add(t.locale)
    return [
        f"{key}: {', '.join(sorted(channels))} in {', '.join(sorted(locales))} ({source})"
        for (key, source), (channels, locales) in sorted(grouped.items())
    ]
