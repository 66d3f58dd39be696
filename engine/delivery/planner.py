"""Decide, for one due notification, which channel it goes out on now, or why not.

Walks the channel order from the notification's current position: a channel without a
contact point or consent is skipped (a fallback, recorded); the first usable channel is
checked against quiet hours (defer to their end unless an urgent rule may break them) and
frequency caps (defer to the next period).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from engine.consent.resolution import ConsentEntry, is_granted
from engine.delivery.policies import cap_period, quiet_until
from engine.models import ChannelKind, Customer, Notification, NotificationStatus
from engine.preferences.schemas import PreferencesPublic

ADDRESS_KIND = {"email": "email", "sms": "phone", "voice": "phone"}


@dataclass(frozen=True)
class Recipient:
    customer: Customer
    contacts: Mapping[str, str]
    consents: Sequence[ConsentEntry]
    preferences: PreferencesPublic

    def consented(self, channel: str, topic: str) -> bool:
        return is_granted(self.consents, channel, topic)


@dataclass(frozen=True)
class Send:
    channel: str
    index: int
    to: str
    skipped: Sequence[tuple[str, str]] = ()


@dataclass(frozen=True)
class Defer:
    until: datetime
    reason: str
    channel: str
    index: int
    skipped: Sequence[tuple[str, str]] = ()


@dataclass(frozen=True)
class Stop:
    status: NotificationStatus
    reason: str
    skipped: Sequence[tuple[str, str]] = field(default_factory=tuple)


Plan = Send | Defer | Stop
SentCount = Callable[[str, datetime], int]


def earliest_cap_start(recipient: Recipient, now: datetime) -> datetime | None:
    """Where the longest of the recipient's frequency-cap periods began (None: no caps)."""
    caps = recipient.preferences.frequency_caps.values()
    starts = [cap_period(now, recipient.customer.timezone, cap.per)[0] for cap in caps]
    return min(starts, default=None)


class SentLog:
    """When messages left for each (customer, channel), as far back as their caps look: read
    once per dispatch batch instead of one count per message."""

    def __init__(self, sent: Iterable[tuple[str, str, datetime]] = ()) -> None:
        self._times: dict[tuple[str, str], list[datetime]] = defaultdict(list)
        for customer_id, channel, at in sent:
            self._times[(customer_id, channel)].append(at)

    def count(self, customer_id: str, channel: str, since: datetime) -> int:
        return sum(1 for at in self._times.get((customer_id, channel), ()) if at >= since)


def channel_order(notification: Notification, recipient: Recipient) -> list[str]:
    return list(notification.channel_order) or [str(c) for c in recipient.preferences.channel_order]


def _skip_reason(channel: str, topic: str, recipient: Recipient) -> str | None:
    kind = ADDRESS_KIND.get(channel, channel)
    if not recipient.contacts.get(kind):
        return f"no {'phone number' if kind == 'phone' else 'email address'} on file"
    if not recipient.consented(channel, topic):
        return f"no {channel} consent for topic {topic}"
    return None


def _quiet(
    channel: str, notification: Notification, recipient: Recipient, now: datetime
) -> datetime | None:
    prefs = recipient.preferences
    if notification.urgency == "urgent" and prefs.urgent_override:
        return None
    kind = ChannelKind(channel)
    periods: list[dict[str, Any]] = [p.model_dump() for p in prefs.quiet_hours.get(kind, [])]
    return quiet_until(now, recipient.customer.timezone, periods) if periods else None


def _capped(
    channel: str, recipient: Recipient, now: datetime, sent: SentCount
) -> tuple[datetime, str] | None:
    cap = recipient.preferences.frequency_caps.get(ChannelKind(channel))
    if cap is None:
        return None
    start, end = cap_period(now, recipient.customer.timezone, cap.per)
    if sent(channel, start) < cap.max:
        return None
    return end, f"frequency cap reached: at most {cap.max} {channel} per {cap.per}"


def plan(
    notification: Notification,
    recipient: Recipient,
    now: datetime,
    sent: SentCount,
    cap_policy: str = "defer",
) -> Plan:
    """Where and when this notification goes next."""
    if recipient.customer.erased_at is not None:
        return Stop(NotificationStatus.cancelled, "the customer's data was erased")
    if notification.acknowledged_at is not None:
        return Stop(NotificationStatus.sent, "acknowledged by the customer; nothing more to send")
    order, skipped = channel_order(notification, recipient), []
    paused = recipient.preferences.paused_until
    if paused is not None and now < paused and notification.channel_index < len(order):
        channel, index = order[notification.channel_index], notification.channel_index
        return Defer(paused, f"paused by the customer until {paused.isoformat()}", channel, index)
    for index in range(notification.channel_index, len(order)):
        channel = order[index]
        reason = _skip_reason(channel, notification.topic, recipient)
        if reason is not None:
            skipped.append((channel, reason))
            continue
        until = _quiet(channel, notification, recipient, now)
        if until is not None:
            local = until.astimezone(ZoneInfo(recipient.customer.timezone)).strftime("%H:%M")
            return Defer(until, f"quiet hours for {channel} until {local}", channel, index, skipped)
        capped = _capped(channel, recipient, now, sent)
        if capped is not None and cap_policy == "suppress":
            return Stop(NotificationStatus.suppressed, capped[1], skipped)
        if capped is not None:
            return Defer(capped[0], capped[1], channel, index, skipped)
        return Send(channel, index, recipient.contacts[ADDRESS_KIND.get(channel, channel)], skipped)
    return Stop(
        NotificationStatus.suppressed, "no channel left with a contact point and consent", skipped
    )
