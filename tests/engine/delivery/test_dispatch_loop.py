"""The long-running dispatch loop: it claims again as soon as sends make room, sleeps when
nothing is due until woken, and stops cleanly."""

from __future__ import annotations

import asyncio
import time

import pytest

from engine.delivery.wakeups import announce_due, announces, listen_for_due
from tests.engine.delivery.conftest import World

pytestmark = pytest.mark.anyio

IDLE = 30.0  # far longer than the test may take: only a wake-up gets the loop going


async def received(world: World, count: int, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while len(world.smtp.handler.received) < count:
        assert time.monotonic() < deadline, f"{len(world.smtp.handler.received)} of {count} sent"
        await asyncio.sleep(0.01)


def notify(world: World, external_id: str) -> None:
    world.customer(external_id)
    world.trigger(external_id)
    world.cross_threshold(external_id)


async def test_finished_sends_make_room_for_the_next_batch(world: World) -> None:
    for n in range(5):
        notify(world, f"b{n}")
    world.dispatcher.batch_size = 2
    loop = asyncio.create_task(world.dispatcher.run(IDLE))

    await received(world, 5)
    await world.dispatcher.stop()
    await loop
    assert all(n.status == "sent" for n in world.notifications())


async def test_an_idle_loop_sends_what_became_due_when_woken(world: World) -> None:
    loop = asyncio.create_task(world.dispatcher.run(IDLE))
    await asyncio.sleep(0.1)  # nothing due: the loop sleeps
    notify(world, "w1")
    world.dispatcher.wake()

    await received(world, 1)
    await world.dispatcher.stop()
    await loop


async def test_on_postgresql_work_decided_in_another_process_wakes_the_loop(
    world: World, db_url: str
) -> None:
    if not announces(db_url):
        pytest.skip("processes wake each other through PostgreSQL's LISTEN/NOTIFY")
    woken = asyncio.Event()

    def wake() -> None:
        woken.set()
        world.dispatcher.wake()

    loop = asyncio.create_task(world.dispatcher.run(IDLE))
    listener = asyncio.create_task(listen_for_due(db_url, wake))
    await asyncio.wait_for(woken.wait(), 5)  # listening (it wakes once on connecting)
    woken.clear()
    # Through the API's own unit of work: nothing in this process calls wake() for it.
    notify(world, "p1")

    await received(world, 1, seconds=5)
    assert woken.is_set()
    listener.cancel()
    await world.dispatcher.stop()
    await loop


async def test_nothing_is_announced_for_a_transaction_that_rolls_back(
    world: World, db_url: str
) -> None:
    if not announces(db_url):
        pytest.skip("processes wake each other through PostgreSQL's LISTEN/NOTIFY")
    woken = asyncio.Event()
    listener = asyncio.create_task(listen_for_due(db_url, woken.set))
    await asyncio.wait_for(woken.wait(), 5)
    woken.clear()
    with pytest.raises(RuntimeError), world.runtime.services() as services:
        announce_due(services.session)
        raise RuntimeError("rolled back")
    await asyncio.sleep(0.5)
    assert not woken.is_set()

    with world.runtime.services() as services:
        announce_due(services.session)
    await asyncio.wait_for(woken.wait(), 5)
    listener.cancel()
