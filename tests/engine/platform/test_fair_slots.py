"""Fair slots: owners take turns, and a restricted (slow) owner never takes the last slot."""

from __future__ import annotations

import asyncio

import pytest

from engine.platform.fair import FairSlots

pytestmark = pytest.mark.anyio


async def _hold(slots: FairSlots, owner: str, log: list[str], gate: asyncio.Event) -> None:
    async with slots.slot(owner):
        log.append(owner)
        await gate.wait()


async def test_owners_take_turns_whatever_the_order_they_queued_in() -> None:
    slots, log, gate = FairSlots(1), [], asyncio.Event()
    first = asyncio.create_task(_hold(slots, "x", log, gate))
    await asyncio.sleep(0)
    queued = [asyncio.create_task(_hold(slots, o, log, gate)) for o in "aaab"]
    await asyncio.sleep(0)
    assert slots.waiting("a") == 3 and slots.waiting("b") == 1
    gate.set()
    await asyncio.gather(first, *queued)
    assert log == ["x", "a", "b", "a", "a"]  # b's one waits for one of a's, not all three


async def test_a_restricted_owner_leaves_the_last_slot_free() -> None:
    slots, log, gate = FairSlots(2), [], asyncio.Event()

    async def slow(n: int) -> None:
        async with slots.slot("slow", restricted=True):
            log.append(f"slow{n}")
            await gate.wait()

    hogs = [asyncio.create_task(slow(n)) for n in range(2)]
    await asyncio.sleep(0)
    assert log == ["slow0"] and slots.waiting("slow") == 1
    async with slots.slot("quick"):
        log.append("quick")
    gate.set()
    await asyncio.gather(*hogs)
    assert log == ["slow0", "quick", "slow1"]


async def test_a_cancelled_waiter_gives_up_its_place() -> None:
    slots, log, gate = FairSlots(1), [], asyncio.Event()
    holder = asyncio.create_task(_hold(slots, "x", log, gate))
    await asyncio.sleep(0)
    waiting = asyncio.create_task(_hold(slots, "y", log, gate))
    await asyncio.sleep(0)
    waiting.cancel()
    await asyncio.sleep(0)
    assert slots.waiting("y") == 0
    gate.set()
    await holder
    async with slots.slot("z"):
        log.append("z")
    assert log == ["x", "z"]
