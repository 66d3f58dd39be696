"""A database with delivery history moves to counting attempts from their rows and back: the
migration keeps every notification and attempt, and the count shown stays the same."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from alembic import command
from engine.platform.db import make_engine
from engine.platform.migrations import alembic_config, upgrade
from tests.engine.delivery.conftest import World

pytestmark = pytest.mark.anyio
BEFORE = "d7a2e4c6f8b0"  # the last revision with the stored counter


def stored_counters(url: str) -> dict[str, tuple[str, int]]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT id, status, attempts FROM notifications"))
            return {n_id: (status, attempts) for n_id, status, attempts in rows}
    finally:
        engine.dispose()


async def test_notifications_with_attempts_survive_the_migration_both_ways(world: World) -> None:
    world.customer("m1", channels=("email", "sms"))
    world.customer("m2", channels=("email", "sms"))
    for external_id in ("m1", "m2"):
        world.trigger(external_id, channels=["email", "sms"])
    world.smtp.handler.refuse("m1@example.com", "451 4.3.0 try again later")
    for external_id in ("m1", "m2"):
        world.cross_threshold(external_id)
    await world.dispatch()
    retrying = next(n for n in world.notifications() if n.status == "pending")
    world.clock.set(retrying.due_at + timedelta(seconds=1))
    await world.dispatch()  # m1: a second transient failure; m2 was sent at once
    before = {n.id: (n.status, n.attempts) for n in world.notifications()}
    assert sorted(before.values()) == [("pending", 2), ("sent", 1)]
    url = world.runtime.settings.database_url
    world.runtime.db.dispose()

    try:
        command.downgrade(alembic_config(url), BEFORE)
        # The counter held the attempts on the current channel; a sent one had it reset.
        assert stored_counters(url) == {
            n_id: (status, 2 if status == "pending" else 0) for n_id, (status, _) in before.items()
        }
    finally:
        upgrade(url)

    assert {n.id: (n.status, n.attempts) for n in world.notifications()} == before
