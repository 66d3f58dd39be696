"""With render workers, each tenant's messages are prepared in a lane of its own: a tenant
whose templates are slow keeps only its own messages waiting, never another tenant's, and is
claimed one notification at a time while its last ones are still being prepared."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import pytest

from engine.delivery.repository import DeliveryRepository
from engine.templating.pool import WORKERS
from tests.engine.delivery.conftest import EMAIL_ONLY, World
from tests.engine.delivery.test_fair_claims import recipients, two_tenants
from tests.fixtures.rules import DAILY_ENERGY

pytestmark = pytest.mark.anyio

IDLE = 30.0
# About 0.1 s a message here (the budget is 0.2 s): rendered in a loop, not a lookup.
SLOW_TEXT = "{% for i in range(1000) %}{% for j in range(700) %}{% endfor %}{% endfor %}Hallo"


def slow_template(world: World) -> None:
    parts = {"subject": "Alert", "text": SLOW_TEXT, "html": "<p>Alert</p>"}
    body = {"key": DAILY_ENERGY["key"], "channel": "email", "locale": "en", "parts": parts}
    world.api.ok("POST", "/v1/templates", world.tenant.ops, 201, json=body)


async def until(condition: object, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "not within the time allowed"
        await asyncio.sleep(0.005)


@EMAIL_ONLY
async def test_a_slow_tenants_renders_never_keep_another_tenants_message_waiting(
    world: World,
) -> None:
    slow_template(world)  # tenant A's (the world's); tenant B keeps the default template
    a_ids, _ = two_tenants(world)  # A's 30 due first, B's one a minute ago
    await asyncio.to_thread(WORKERS.ensure, 2)
    loop = asyncio.create_task(world.dispatcher.run(IDLE))
    try:
        await until(lambda: "b1@example.com" in recipients(world))
        assert recipients(world).count("a1@example.com") == 0  # A's first is still rendering
        await until(lambda: recipients(world).count("a1@example.com") >= 2)
    finally:
        await world.dispatcher.stop()
        await loop
    assert world.dispatcher.service.render_cost[world.tenant.id] > 0.02  # A counts as slow


@EMAIL_ONLY
async def test_a_claim_skips_busy_tenants_and_takes_one_of_a_slow_tenants(world: World) -> None:
    a_ids, b_id = two_tenants(world)
    now = world.clock.now()
    lease = now + timedelta(minutes=2)
    with world.runtime.services() as services:
        repo = DeliveryRepository(services.session)
        assert [n.id for n in repo.claim("w", now, lease, 10, skip_tenants=[world.tenant.id])] == [
            b_id
        ]
    with world.runtime.services() as services:
        repo = DeliveryRepository(services.session)
        claimed = repo.claim("w", now, lease, 10, one_of=[world.tenant.id])
    assert sorted(n.id for n in claimed) == sorted([a_ids[0]])  # B's is leased already
    with world.runtime.services() as services:
        rest = DeliveryRepository(services.session).claim("w", now, lease, 50)
    assert sorted(n.id for n in rest) == sorted(a_ids[1:])
