"""The planner on plain values: which channel a due notification goes out on now, or why not
(erased customer, already acknowledged, no contact point or consent, quiet hours, caps)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from engine.consent.resolution import ConsentEntry
from engine.delivery import planner
from engine.delivery.planner import (
    Defer,
    Recipient,
    SentLog,
    channel_order,
    earliest_cap_start,
    plan,
)
from engine.models import ChannelKind, Customer, Notification, NotificationStatus
from engine.preferences.schemas import FrequencyCap, PreferencesPublic, QuietPeriod

NOW = datetime(2026, 6, 10, 10, 0, tzinfo=UTC)  # Wednesday, 12:00 in Berlin
EMAIL, PHONE = "anna@example.com", "+4915112345678"


def sends(channel: str, index: int, to: str, skipped: Iterable[Any] = ()) -> planner.Send:
    return planner.Send(channel, index, to, list(skipped))


def stops(status: NotificationStatus, reason: str, skipped: Iterable[Any] = ()) -> planner.Stop:
    """The planner's Stop, with the skipped channels as the planner lists them."""
    return planner.Stop(status, reason, list(skipped))


def never_sent(channel: str, since: datetime) -> int:
    return 0


def recipient(
    *,
    contacts: dict[str, str] | None = None,
    consents: Iterable[tuple[str, str, bool]] = (("email", "*", True), ("sms", "*", True)),
    order: tuple[str, ...] = ("email", "sms", "voice"),
    quiet: dict[str, list[dict[str, Any]]] | None = None,
    caps: dict[str, dict[str, Any]] | None = None,
    override: bool = False,
    paused_until: datetime | None = None,
    erased_at: datetime | None = None,
    zone: str = "Europe/Berlin",
) -> Recipient:
    customer = Customer(
        id="c1",
        tenant_id="t1",
        locale="de-DE",
        timezone=zone,
        created_at=NOW,
        updated_at=NOW,
        erased_at=erased_at,
    )
    preferences = PreferencesPublic(
        channel_order=[ChannelKind(c) for c in order],
        quiet_hours={
            ChannelKind(c): [QuietPeriod.model_validate(p) for p in ps]
            for c, ps in (quiet or {}).items()
        },
        frequency_caps={
            ChannelKind(c): FrequencyCap.model_validate(v) for c, v in (caps or {}).items()
        },
        urgent_override=override,
        paused_until=paused_until,
        updated_at=None,
    )
    entries = [ConsentEntry(c, t, g, i + 1) for i, (c, t, g) in enumerate(consents)]
    found = {"email": EMAIL, "phone": PHONE} if contacts is None else contacts
    return Recipient(customer, found, entries, preferences)


def notification(**fields: Any) -> Notification:
    values: dict[str, Any] = {
        "id": "n1",
        "tenant_id": "t1",
        "customer_id": "c1",
        "trigger_id": "g1",
        "rule_key": "energy.daily_above",
        "rule_version": 1,
        "topic": "energy",
        "urgency": "normal",
        "occurrence": "w:1",
        "transition": "fire",
        "status": NotificationStatus.pending,
        "due_at": NOW,
        "why": {},
        "channel_order": [],
        "created_at": NOW,
        "updated_at": NOW,
        **fields,
    }
    return Notification(**values)


def test_first_channel_with_contact_and_consent_is_used() -> None:
    assert plan(notification(), recipient(), NOW, never_sent) == sends("email", 0, EMAIL)


def test_the_triggers_own_order_comes_before_the_customers_default() -> None:
    n = notification(channel_order=["sms", "email"])
    assert plan(n, recipient(), NOW, never_sent) == sends("sms", 0, PHONE)
    assert channel_order(n, recipient()) == ["sms", "email"]
    assert channel_order(notification(), recipient()) == ["email", "sms", "voice"]


def test_planning_resumes_at_the_current_channel() -> None:
    n = notification(channel_index=1)
    assert plan(n, recipient(), NOW, never_sent) == sends("sms", 1, PHONE)


def test_channels_without_contact_or_consent_are_skipped_with_reasons() -> None:
    who = recipient(contacts={"phone": PHONE}, consents=[("sms", "billing", True)])
    decided = plan(notification(), who, NOW, never_sent)
    assert decided == stops(
        NotificationStatus.suppressed,
        "no channel left with a contact point and consent",
        [
            ("email", "no email address on file"),
            ("sms", "no sms consent for topic energy"),
            ("voice", "no voice consent for topic energy"),
        ],
    )


def test_missing_phone_is_named_as_such() -> None:
    who = recipient(contacts={"email": EMAIL}, order=("sms", "email"))
    decided = plan(notification(), who, NOW, never_sent)
    assert decided == sends("email", 1, EMAIL, [("sms", "no phone number on file")])


def test_consent_for_the_topic_is_enough() -> None:
    who = recipient(consents=[("email", "energy", True)])
    assert plan(notification(), who, NOW, never_sent) == sends("email", 0, EMAIL)
    revoked = recipient(
        consents=[("email", "*", True), ("email", "energy", False), ("sms", "*", True)]
    )
    decided = plan(notification(), revoked, NOW, never_sent)
    assert isinstance(decided, planner.Send) and decided.channel == "sms"


def test_an_erased_customer_gets_nothing() -> None:
    who = recipient(erased_at=NOW - timedelta(minutes=1))
    decided = plan(notification(), who, NOW, never_sent)
    assert isinstance(decided, planner.Stop)
    assert decided.status == NotificationStatus.cancelled
    assert decided.reason == "the customer's data was erased"


def test_an_acknowledged_notification_is_not_sent_again() -> None:
    n = notification(acknowledged_at=NOW - timedelta(minutes=5), channel_index=1)
    decided = plan(n, recipient(), NOW, never_sent)
    assert isinstance(decided, planner.Stop)
    assert decided.status == NotificationStatus.sent
    assert decided.reason == "acknowledged by the customer; nothing more to send"


def test_quiet_hours_defer_with_the_local_end_in_the_reason() -> None:
    night = NOW.replace(hour=21)  # 23:00 in Berlin
    who = recipient(quiet={"email": [{"start": "21:00", "end": "08:00"}]})
    decided = plan(notification(), who, night, never_sent)
    assert decided == Defer(
        datetime(2026, 6, 11, 6, 0, tzinfo=UTC), "quiet hours for email until 08:00", "email", 0, []
    )


def test_quiet_hours_of_another_channel_do_not_hold_this_one() -> None:
    night = NOW.replace(hour=21)
    who = recipient(quiet={"sms": [{"start": "21:00", "end": "08:00"}]})
    assert plan(notification(), who, night, never_sent) == sends("email", 0, EMAIL)


@pytest.mark.parametrize(
    ("urgency", "override", "sends"),
    [("urgent", True, True), ("urgent", False, False), ("normal", True, False)],
)
def test_only_urgent_rules_break_quiet_hours_and_only_where_allowed(
    urgency: str, override: bool, sends: bool
) -> None:
    night = NOW.replace(hour=21)
    who = recipient(quiet={"email": [{"start": "21:00", "end": "08:00"}]}, override=override)
    decided = plan(notification(urgency=urgency), who, night, never_sent)
    assert isinstance(decided, planner.Send) is sends


def test_skipped_channels_travel_with_a_deferral() -> None:
    night = NOW.replace(hour=21)
    who = recipient(contacts={"phone": PHONE}, quiet={"sms": [{"start": "21:00", "end": "08:00"}]})
    decided = plan(notification(), who, night, never_sent)
    assert isinstance(decided, Defer)
    assert (decided.channel, decided.index) == ("sms", 1)
    assert decided.skipped == [("email", "no email address on file")]


@pytest.mark.parametrize(
    ("per", "until"),
    [
        ("hour", datetime(2026, 6, 10, 11, 0, tzinfo=UTC)),
        ("day", datetime(2026, 6, 10, 22, 0, tzinfo=UTC)),
        ("week", datetime(2026, 6, 14, 22, 0, tzinfo=UTC)),
    ],
)
def test_at_the_cap_a_message_waits_for_the_next_period(per: str, until: datetime) -> None:
    who = recipient(caps={"email": {"max": 2, "per": per}})
    sent = SentLog([("c1", "email", NOW)] * 2)
    later = NOW + timedelta(minutes=30)

    def count(channel: str, since: datetime) -> int:
        return sent.count("c1", channel, since)

    reason = f"frequency cap reached: at most 2 email per {per}"
    assert plan(notification(), who, later, count) == Defer(until, reason, "email", 0, [])
    assert plan(notification(), who, later, count, "suppress") == stops(
        NotificationStatus.suppressed, reason
    )
    one_less = SentLog([("c1", "email", NOW)])
    assert plan(notification(), who, later, lambda ch, s: one_less.count("c1", ch, s)) == sends(
        "email", 0, EMAIL
    )


def test_the_cap_counts_only_its_own_period_and_channel() -> None:
    who = recipient(caps={"email": {"max": 1, "per": "hour"}})
    sent = SentLog(
        [
            ("c1", "email", NOW - timedelta(seconds=1)),  # last hour: outside this one
            ("c1", "sms", NOW),  # another channel
            ("c2", "email", NOW),  # another customer
        ]
    )
    assert sent.count("c1", "email", NOW) == 0
    assert sent.count("c1", "email", NOW - timedelta(seconds=1)) == 1
    decided = plan(notification(), who, NOW, lambda ch, since: sent.count("c1", ch, since))
    assert decided == sends("email", 0, EMAIL)


def test_the_longest_cap_says_how_far_back_to_read() -> None:
    assert earliest_cap_start(recipient(), NOW) is None
    who = recipient(caps={"email": {"max": 1, "per": "hour"}, "sms": {"max": 3, "per": "week"}})
    assert earliest_cap_start(who, NOW) == datetime(2026, 6, 7, 22, 0, tzinfo=UTC)


def test_a_pause_holds_everything_until_it_ends() -> None:
    until = NOW + timedelta(days=3)
    who = recipient(paused_until=until)
    decided = plan(notification(channel_index=1), who, NOW, never_sent)
    assert isinstance(decided, Defer) and not decided.skipped
    assert (decided.until, decided.channel, decided.index) == (until, "sms", 1)
    assert decided.reason == "paused by the customer until 2026-06-13T10:00:00+00:00"
    assert plan(notification(), who, until, never_sent) == sends("email", 0, EMAIL)
    assert plan(notification(), recipient(paused_until=NOW), NOW, never_sent) == sends(
        "email", 0, EMAIL
    )


def test_a_pause_does_not_hold_what_has_no_channel_left() -> None:
    who = recipient(paused_until=NOW + timedelta(days=1), order=("email",))
    decided = plan(notification(channel_index=1), who, NOW, never_sent)
    assert decided == stops(
        NotificationStatus.suppressed, "no channel left with a contact point and consent"
    )
