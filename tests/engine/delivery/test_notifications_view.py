"""What operations staff read about a notification: the attempts made and the channel order
it follows, whether the trigger set one or the customer's default applies."""

from __future__ import annotations

import pytest

from tests.engine.delivery.conftest import EMAIL_ONLY, World

pytestmark = pytest.mark.anyio


def listed(world: World) -> list[dict[str, object]]:
    page = world.api.ok("GET", "/v1/notifications", world.tenant.ops)
    items: list[dict[str, object]] = page["items"]
    return items


@EMAIL_ONLY
async def test_a_sent_notification_counts_its_attempt_and_shows_the_default_order(
    world: World,
) -> None:
    world.customer("m1")
    world.trigger("m1")
    world.cross_threshold("m1", kwh=6.5)
    [pending] = listed(world)
    assert (pending["status"], pending["attempts"]) == ("pending", 0)
    assert pending["channel_order"] == ["email", "sms", "voice"]

    assert await world.dispatch() == 1
    [sent] = listed(world)
    assert sent["status"] == "sent"
    assert sent["attempts"] == 1 == len(sent["delivery_attempts"])  # type: ignore[arg-type]
    assert sent["channel_order"] == ["email", "sms", "voice"]


@EMAIL_ONLY
async def test_the_triggers_own_order_is_shown_as_it_is(world: World) -> None:
    world.customer("m2")
    world.trigger("m2", channels=["email"])
    world.cross_threshold("m2", kwh=6.5)
    [notification] = listed(world)
    assert notification["channel_order"] == ["email"]
