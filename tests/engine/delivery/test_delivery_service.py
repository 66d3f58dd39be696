"""The delivery service on its own, as a second worker would use it: claims hold a lease until
given back, outcomes are recorded against the claim, and a notification's attempts are counted
from its delivery-attempt rows."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine.channels.base import TransientChannelError
from engine.delivery.claims import Outcome
from engine.delivery.service import DeliveryService
from engine.models import DeliveryAttempt
from tests.engine.delivery.conftest import EMAIL_ONLY, World

pytestmark = pytest.mark.anyio


def notify(world: World, external_id: str, **trigger: object) -> None:
    world.customer(external_id, channels=("email", "sms"))
    world.trigger(external_id, **trigger)
    world.cross_threshold(external_id)


def attempt_rows(world: World) -> list[tuple[str, int, str]]:
    [notification] = world.notifications()
    with world.runtime.services() as services:
        rows: list[DeliveryAttempt] = services.notifications.attempts([notification.id])
    return [(a.channel, a.number, a.status) for a in rows]


@EMAIL_ONLY
async def test_a_claim_is_held_until_given_back_then_another_worker_sends_it(
    world: World,
) -> None:
    notify(world, "m1", channels=["email"])
    first = DeliveryService.on(world.runtime, "worker-a")
    second = DeliveryService.on(world.runtime, "worker-b")

    [job], handled = first.claim(10)
    assert handled == 1 and job.message.to == "m1@example.com" and job.message.attempt == 1
    assert second.claim(10) == ([], 0)  # leased to worker-a

    first.release([job.notification_id])
    [job], _ = second.claim(10)
    started = world.clock.now()
    result = await world.dispatcher.channels["email"].send(job.message)
    assert second.record([Outcome(job, result, started)]) is False

    [notification] = world.notifications()
    assert notification.status == "sent" and notification.lease_owner is None
    assert len(world.smtp.handler.received) == 1
    assert attempt_rows(world) == [("email", 1, "sent")]


@EMAIL_ONLY
async def test_an_expired_lease_is_taken_over_and_the_late_outcome_is_not_recorded(
    world: World,
) -> None:
    notify(world, "m1", channels=["email"])
    slow = DeliveryService.on(world.runtime, "slow")
    [job], _ = slow.claim(10)
    world.clock.advance(timedelta(seconds=world.runtime.settings.lease_seconds + 1))
    assert world.dispatcher.service.claim(10)[1] == 1  # the lease ran out: taken over

    timed_out = TransientChannelError("connection timed out", code=451)
    assert slow.record([Outcome(job, timed_out, world.clock.now())]) is False

    [notification] = world.notifications()
    assert (notification.status, notification.lease_owner) == ("sending", world.dispatcher.owner)
    assert attempt_rows(world) == []


async def test_attempts_are_numbered_per_channel_and_counted_from_their_rows(
    world: World,
) -> None:
    notify(world, "m1", channels=["email", "sms"])
    world.smtp.handler.refuse("m1@example.com", "451 4.3.0 try again later")
    for _ in range(3):  # the world allows three attempts per channel
        await world.dispatch()
        [notification] = world.notifications()
        world.clock.set(max(notification.due_at, world.clock.now()) + timedelta(seconds=1))

    [notification] = world.notifications()
    assert notification.status == "sent" and notification.channel == "sms"
    assert attempt_rows(world) == [
        ("email", 1, "transient_error"),
        ("email", 2, "transient_error"),
        ("email", 3, "transient_error"),
        ("sms", 1, "sent"),
    ]
    assert notification.attempts == 4
    [listed] = world.api.ok("GET", "/v1/notifications", world.tenant.ops)["items"]
    assert listed["attempts"] == 4 == len(listed["delivery_attempts"])
