"""Quiet hours, caps, guards and retries exercised in real sends: a reading crosses a
threshold, the dispatcher decides, a real SMTP server receives (or does not)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from engine.delivery.repository import DeliveryRepository
from tests.engine.delivery.conftest import EMAIL_ONLY, World
from tests.fixtures.rules import DAILY_ENERGY_ACKED, publish

pytestmark = pytest.mark.anyio
EVENINGS = [{"start": "21:00", "end": "08:00"}]
WEEKNIGHTS = [{"start": "21:00", "end": "08:00", "days": [0, 1, 2, 3, 4]}]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def decisions(world: World, external_id: str) -> list[str]:
    """The decisions in the customer's history, as the business reads them."""
    [customer] = [
        c
        for c in world.api.ok("GET", "/v1/customers?limit=100", world.tenant.feed)["items"]
        if c["external_id"] == external_id
    ]
    path = f"/v1/customers/{customer['id']}/history?limit=200"
    entries = world.api.ok("GET", path, world.tenant.feed)["items"]
    return [e["summary"] for e in entries if e["kind"] == "decision"]


def received(world: World) -> list[str]:
    return [r.rcpt_tos[0] for r in world.smtp.handler.received]


def set_caps(world: World, external_id: str, caps: dict[str, Any]) -> None:
    world.api.ok(
        "PATCH", "/v1/me/preferences", world.tokens[external_id], json={"frequency_caps": caps}
    )


async def assert_held_until(world: World, until: datetime) -> None:
    """Deferred to exactly ``until``: nothing goes out a second before, the message at it."""
    [notification] = world.notifications()
    assert notification.status == "deferred"
    assert notification.due_at == until
    world.clock.set(until - timedelta(seconds=1))
    await world.dispatch()
    assert received(world) == []
    world.clock.set(until)
    await world.dispatch()
    assert received(world) == ["m1@example.com"]


@EMAIL_ONLY
async def test_a_reading_at_two_in_the_morning_waits_for_eight(world: World) -> None:
    world.clock.set(utc(2026, 6, 11, 0, 0))  # 02:00 in Berlin, inside 21:00–08:00
    world.customer("m1", quiet_hours={"email": EVENINGS})
    world.trigger("m1")
    world.cross_threshold("m1")
    await world.dispatch()

    assert any("quiet hours for email until 08:00" in s for s in decisions(world, "m1"))
    await assert_held_until(world, utc(2026, 6, 11, 6, 0))


@EMAIL_ONLY
@pytest.mark.parametrize(
    ("zone", "now", "eight_local"),
    [
        ("Europe/Berlin", utc(2026, 3, 29, 0, 30), utc(2026, 3, 29, 6, 0)),  # springs forward
        ("Europe/Berlin", utc(2026, 10, 25, 1, 30), utc(2026, 10, 25, 7, 0)),  # falls back
        ("Australia/Sydney", utc(2026, 4, 4, 16, 30), utc(2026, 4, 4, 22, 0)),  # falls back
        ("Australia/Sydney", utc(2026, 10, 3, 15, 30), utc(2026, 10, 3, 21, 0)),  # springs fwd
    ],
    ids=["berlin-march", "berlin-october", "sydney-april", "sydney-october"],
)
async def test_on_the_nights_the_clocks_change_quiet_hours_still_end_at_eight(
    world: World, zone: str, now: datetime, eight_local: datetime
) -> None:
    world.clock.set(now)
    world.customer("m1", timezone=zone, quiet_hours={"email": EVENINGS})
    world.trigger("m1")
    world.cross_threshold("m1")
    await world.dispatch()

    assert any("quiet hours for email until 08:00" in s for s in decisions(world, "m1"))
    await assert_held_until(world, eight_local)


@EMAIL_ONLY
async def test_weeknight_quiet_hours_hold_friday_night_into_saturday(world: World) -> None:
    world.clock.set(utc(2026, 6, 13, 0, 30))  # Saturday 02:30: Friday's night is quiet
    world.customer("m1", quiet_hours={"email": WEEKNIGHTS})
    world.trigger("m1")
    world.cross_threshold("m1")
    await world.dispatch()

    await assert_held_until(world, utc(2026, 6, 13, 6, 0))


@EMAIL_ONLY
@pytest.mark.parametrize(
    "now",
    [utc(2026, 6, 13, 21, 30), utc(2026, 6, 15, 0, 30)],
    ids=["saturday-23:30", "monday-02:30"],
)
async def test_weeknight_quiet_hours_leave_weekend_nights_free(world: World, now: datetime) -> None:
    world.clock.set(now)
    world.customer("m1", quiet_hours={"email": WEEKNIGHTS})
    world.trigger("m1")
    world.cross_threshold("m1")
    await world.dispatch()

    assert received(world) == ["m1@example.com"]


@EMAIL_ONLY
async def test_an_hourly_cap_holds_the_second_message_until_the_next_hour(world: World) -> None:
    world.clock.set(utc(2026, 6, 10, 10, 20))
    world.customer("m1")
    set_caps(world, "m1", {"email": {"max": 1, "per": "hour"}})
    world.trigger("m1")
    world.trigger("m1", params={"limit_kwh": 6})
    world.cross_threshold("m1", kwh=7)
    await world.dispatch()

    assert received(world) == ["m1@example.com"]
    [deferred] = [n for n in world.notifications() if n.status == "deferred"]
    assert deferred.due_at == utc(2026, 6, 10, 11, 0)  # 13:00 in Berlin
    assert any("at most 1 email per hour" in s for s in decisions(world, "m1"))

    world.clock.set(utc(2026, 6, 10, 11, 0))
    await world.dispatch()
    assert received(world) == ["m1@example.com", "m1@example.com"]


@EMAIL_ONLY
async def test_a_weekly_cap_counts_earlier_days_and_holds_until_monday(world: World) -> None:
    world.clock.set(utc(2026, 6, 10, 10, 0))  # Wednesday
    world.customer("m1")
    set_caps(world, "m1", {"email": {"max": 1, "per": "week"}})
    world.trigger("m1")
    world.trigger("m1", params={"limit_kwh": 8})
    world.cross_threshold("m1", kwh=6)  # only the first trigger
    await world.dispatch()
    assert received(world) == ["m1@example.com"]

    world.clock.set(utc(2026, 6, 11, 10, 0))  # Thursday: both triggers, a new day
    world.cross_threshold("m1", kwh=9)
    await world.dispatch()

    assert received(world) == ["m1@example.com"]
    deferred = [n for n in world.notifications() if n.status == "deferred"]
    monday = utc(2026, 6, 14, 22, 0)  # Monday 15 June, 00:00 in Berlin
    assert [n.due_at for n in deferred] == [monday, monday]
    assert any("at most 1 email per week" in s for s in decisions(world, "m1"))

    world.clock.set(monday)
    await world.dispatch()
    assert len(received(world)) == 2  # the new week's one; the other waits a week more


@EMAIL_ONLY
async def test_an_erased_customer_gets_nothing_even_from_a_send_in_flight(world: World) -> None:
    world.customer("m1")
    world.trigger("m1")
    world.cross_threshold("m1")
    now = world.clock.now()
    with world.runtime.services() as services:  # a worker claims it, then dies
        [claimed] = DeliveryRepository(services.session).claim(
            "dead-worker", now, now + timedelta(minutes=1), 10
        )
    world.api.ok("DELETE", "/v1/me", world.tokens["m1"], 204)

    world.clock.advance(timedelta(minutes=2))  # the dead worker's lease runs out
    await world.dispatch()

    assert received(world) == []
    [notification] = world.notifications()
    assert notification.id == claimed.id
    assert notification.status == "cancelled"
    assert notification.reason == "the customer's data was erased"


async def test_an_acknowledged_message_is_not_escalated_after_all(world: World) -> None:
    publish(world.api, world.tenant, DAILY_ENERGY_ACKED)
    world.customer("m1", channels=("email", "sms"))
    world.trigger("m1", rule=DAILY_ENERGY_ACKED["key"], channels=["email", "sms"])
    world.cross_threshold("m1")
    await world.dispatch()
    assert received(world) == ["m1@example.com"]

    world.clock.advance(timedelta(minutes=31))
    assert world.dispatcher.escalate_due() == 1  # the SMS is due now...
    with world.runtime.services() as services:  # ...when the customer confirms the email
        [pending] = [n for n in world.notifications() if n.status == "pending"]
        services.inbound.acknowledge(pending, "email link", world.clock.now())
    await world.dispatch()

    assert world.twilio.requests == []
    [notification] = world.notifications()
    assert notification.status == "sent" and notification.acknowledged_at is not None
    assert any("acknowledged" in s for s in decisions(world, "m1"))


@EMAIL_ONLY
async def test_retries_wait_longer_each_time_within_their_jitter(world: World) -> None:
    world.customer("m1")
    world.trigger("m1")
    world.smtp.handler.refuse("m1@example.com", "451 4.3.0 try again later")
    world.cross_threshold("m1")

    waits = []
    for _ in range(2):  # the world allows three attempts: two waits between them
        await world.dispatch()
        [notification] = world.notifications()
        assert notification.status == "pending"
        waits.append((notification.due_at - world.clock.now()).total_seconds())
        world.clock.set(notification.due_at)

    assert 15 <= waits[0] <= 30, waits  # 30 s, jittered down to half at most
    assert 30 <= waits[1] <= 60, waits  # then 60 s
    await world.dispatch()
    [notification] = world.notifications()
    assert notification.status == "suppressed"  # no third try: no channel left
    assert received(world) == []
