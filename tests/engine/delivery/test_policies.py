"""Consent, quiet hours, frequency caps, retries, fallback and escalation, as SPEC §4 says,
each leaving a history entry that explains itself."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.engine.delivery.conftest import EMAIL_ONLY, World
from tests.fixtures.rules import DAILY_ENERGY, DAILY_ENERGY_ACKED, publish

pytestmark = pytest.mark.anyio
QUIET_EVENINGS = {"email": [{"start": "21:00", "end": "08:00"}]}


def summaries(world: World, external_id: str, kind: str) -> list[str]:
    return [e["summary"] for e in world.history(external_id) if e["kind"] == kind]


async def test_without_consent_it_falls_back_to_the_next_channel(world: World) -> None:
    world.customer("m1", channels=("sms",))
    world.trigger("m1", channels=["email", "sms"])
    world.cross_threshold("m1")
    await world.dispatch()

    assert world.smtp.handler.received == []
    [sms] = world.twilio.requests
    assert sms.param("To") == "+4915112345678" and "kWh" in (sms.param("Body") or "")
    assert world.twilio.violations == []
    assert any("skipped email: no email consent" in s for s in summaries(world, "m1", "decision"))


async def test_no_channel_with_consent_is_suppressed_with_reason(world: World) -> None:
    world.customer("m1", channels=())
    world.trigger("m1")
    world.cross_threshold("m1")
    await world.dispatch()

    [notification] = world.notifications()
    assert notification.status == "suppressed"
    assert "no channel left" in (notification.reason or "")
    assert world.smtp.handler.received == [] and world.twilio.requests == []


@EMAIL_ONLY
async def test_quiet_hours_defer_to_their_end_then_send(world: World) -> None:
    world.clock.set(datetime(2026, 6, 10, 20, 30, tzinfo=UTC))  # 22:30 in Berlin
    world.customer("m1", quiet_hours=QUIET_EVENINGS)
    world.trigger("m1")
    world.cross_threshold("m1")
    await world.dispatch()

    [notification] = world.notifications()
    assert notification.status == "deferred"
    assert notification.due_at == datetime(2026, 6, 11, 6, 0, tzinfo=UTC)  # 08:00 local
    assert any("quiet hours for email until 08:00" in s for s in summaries(world, "m1", "decision"))
    assert world.smtp.handler.received == []

    world.clock.set(datetime(2026, 6, 11, 6, 0, 1, tzinfo=UTC))
    await world.dispatch()
    assert len(world.smtp.handler.received) == 1


@EMAIL_ONLY
async def test_urgent_rules_break_quiet_hours_only_where_allowed(world: World) -> None:
    urgent = {
        **DAILY_ENERGY,
        "key": "energy.urgent",
        "urgency": "urgent",
        "template_key": "energy.daily_above",
    }
    publish(world.api, world.tenant, urgent)
    world.clock.set(datetime(2026, 6, 10, 20, 30, tzinfo=UTC))
    world.customer("m1", quiet_hours=QUIET_EVENINGS)
    world.customer("m2", quiet_hours=QUIET_EVENINGS)
    world.api.ok("PATCH", "/v1/me/preferences", world.tokens["m2"], json={"urgent_override": True})
    world.trigger("m1", rule="energy.urgent")
    world.trigger("m2", rule="energy.urgent")
    world.cross_threshold("m1")
    world.cross_threshold("m2")
    await world.dispatch()

    assert [r.rcpt_tos for r in world.smtp.handler.received] == [("m2@example.com",)]


@EMAIL_ONLY
async def test_frequency_cap_defers_to_the_next_period(world: World) -> None:
    world.customer("m1")
    world.api.ok(
        "PATCH",
        "/v1/me/preferences",
        world.tokens["m1"],
        json={"frequency_caps": {"email": {"max": 1, "per": "day"}}},
    )
    world.trigger("m1")
    world.trigger("m1", params={"limit_kwh": 6})
    world.cross_threshold("m1", kwh=7)
    await world.dispatch()

    assert len(world.smtp.handler.received) == 1
    deferred = [n for n in world.notifications() if n.status == "deferred"]
    assert len(deferred) == 1
    assert deferred[0].due_at == datetime(2026, 6, 10, 22, 0, tzinfo=UTC)  # local midnight
    assert any("frequency cap reached" in s for s in summaries(world, "m1", "decision"))


@EMAIL_ONLY
async def test_frequency_cap_counts_what_earlier_batches_sent(world: World) -> None:
    world.customer("m1")
    world.customer("free")  # no caps: not held back by m1's
    world.api.ok(
        "PATCH",
        "/v1/me/preferences",
        world.tokens["m1"],
        json={"frequency_caps": {"email": {"max": 1, "per": "day"}}},
    )
    for who in ("m1", "free"):
        world.trigger(who)
        world.trigger(who, params={"limit_kwh": 8})
        world.cross_threshold(who, kwh=6)
    await world.dispatch()
    assert len(world.smtp.handler.received) == 2

    world.clock.advance(timedelta(hours=1))
    for who in ("m1", "free"):
        world.cross_threshold(who, kwh=3)  # the second trigger's limit is crossed now
    await world.dispatch()

    assert sorted(r.rcpt_tos[0] for r in world.smtp.handler.received) == [
        "free@example.com",
        "free@example.com",
        "m1@example.com",
    ]
    [deferred] = [n for n in world.notifications() if n.status == "deferred"]
    assert deferred.customer_id == world.api.ok("GET", "/v1/me", world.tokens["m1"])["id"]


@EMAIL_ONLY
async def test_a_rule_may_suppress_beyond_the_cap_instead(world: World) -> None:
    capped = {
        **DAILY_ENERGY,
        "key": "energy.capped",
        "cap_policy": "suppress",
        "template_key": "energy.daily_above",
    }
    publish(world.api, world.tenant, capped)
    world.customer("m1")
    world.api.ok(
        "PATCH",
        "/v1/me/preferences",
        world.tokens["m1"],
        json={"frequency_caps": {"email": {"max": 1, "per": "day"}}},
    )
    world.trigger("m1", rule="energy.capped")
    world.trigger("m1", rule="energy.capped", params={"limit_kwh": 6})
    world.cross_threshold("m1", kwh=7)
    await world.dispatch()

    assert len(world.smtp.handler.received) == 1
    [suppressed] = [n for n in world.notifications() if n.status == "suppressed"]
    assert "frequency cap reached: at most 1 email per day" in (suppressed.reason or "")


async def test_transient_failures_retry_with_backoff_then_fall_back(world: World) -> None:
    world.customer("m1", channels=("email", "sms"))
    world.trigger("m1", channels=["email", "sms"])
    world.smtp.handler.refuse("m1@example.com", "451 4.3.0 try again later")
    world.cross_threshold("m1")

    for attempt in range(1, 4):
        await world.dispatch()
        [notification] = world.notifications()
        if attempt < 3:
            assert notification.status == "pending" and notification.attempts == attempt
            assert notification.due_at > world.clock.now()
            world.clock.set(notification.due_at + timedelta(seconds=1))
    await world.dispatch()

    [notification] = world.notifications()
    assert notification.status == "sent" and notification.channel == "sms"
    assert len(world.twilio.requests) == 1
    assert any("fallback to sms: email failed" in s for s in summaries(world, "m1", "decision"))


async def test_permanent_failure_falls_back_at_once(world: World) -> None:
    world.customer("m1", channels=("email", "sms"))
    world.trigger("m1", channels=["email", "sms"])
    world.smtp.handler.refuse("m1@example.com", "550 5.1.1 no such mailbox")
    world.cross_threshold("m1")
    await world.dispatch()

    [notification] = world.notifications()
    assert notification.status == "sent" and notification.channel == "sms"
    with world.runtime.services() as services:
        attempts = services.notifications.attempts([notification.id])
    assert [(a.channel, a.status) for a in attempts] == [("email", "failed"), ("sms", "sent")]


async def test_unacknowledged_messages_escalate_to_the_next_channel(world: World) -> None:
    publish(world.api, world.tenant, DAILY_ENERGY_ACKED)
    world.customer("m1", channels=("email", "sms"))
    world.trigger("m1", rule=DAILY_ENERGY_ACKED["key"], channels=["email", "sms"])
    world.cross_threshold("m1")
    await world.dispatch()
    [notification] = world.notifications()
    assert notification.escalate_at == world.clock.now() + timedelta(minutes=30)

    world.clock.advance(timedelta(minutes=29))
    assert world.dispatcher.escalate_due() == 0
    world.clock.advance(timedelta(minutes=2))
    assert world.dispatcher.escalate_due() == 1
    await world.dispatch()

    assert len(world.smtp.handler.received) == 1 and len(world.twilio.requests) == 1
    decisions = summaries(world, "m1", "decision")
    assert any("escalated: no acknowledgement within 30 min" in s for s in decisions), decisions


@EMAIL_ONLY
async def test_smtp_down_for_a_while_delays_but_loses_nothing(world: World) -> None:
    for n in range(5):
        world.customer(f"m{n}")
        world.trigger(f"m{n}")
        world.cross_threshold(f"m{n}")
    world.smtp.stop()
    await world.dispatch()
    assert {n.status for n in world.notifications()} == {"pending"}

    world.smtp.start()
    world.clock.advance(timedelta(minutes=5))
    await world.dispatch()
    assert {n.status for n in world.notifications()} == {"sent"}
    assert sorted(r.rcpt_tos[0] for r in world.smtp.handler.received) == [
        f"m{n}@example.com" for n in range(5)
    ]
