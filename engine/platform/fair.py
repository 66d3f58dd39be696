"""Fair slots: at most ``size`` holders at once, the waiters served by turns of their owner
(a tenant, an API key), so that one owner's many waiters never keep another's one waiting."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass


@dataclass
class _Waiter:
    owner: str
    reserved: bool  # may not take the last free slot
    granted: asyncio.Future[None]


class FairSlots:
    """Slots handed out by turns of owner. A waiter marked ``restricted`` (a slow owner)
    never takes the last free slot when there are several: it stays free for the others.
    Used from one event loop."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._free = size
        self._waiting: dict[str, deque[_Waiter]] = {}
        self._turns: deque[str] = deque()  # owners with waiters, in turn order

    def waiting(self, owner: str) -> int:
        """How many of ``owner``'s are waiting for a slot."""
        return len(self._waiting.get(owner, ()))

    @asynccontextmanager
    async def slot(self, owner: str, restricted: bool = False) -> AsyncIterator[None]:
        """Hold a slot for ``owner`` once it is its turn."""
        await self._acquire(owner, restricted)
        try:
            yield
        finally:
            self._free += 1
            self._grant()

    async def _acquire(self, owner: str, restricted: bool) -> None:
        waiter = _Waiter(owner, restricted, asyncio.get_running_loop().create_future())
        if owner not in self._waiting:
            self._waiting[owner] = deque()
            self._turns.append(owner)
        self._waiting[owner].append(waiter)
        self._grant()
        try:
            await waiter.granted
        except asyncio.CancelledError:
            if waiter.granted.done() and not waiter.granted.cancelled():
                self._free += 1  # granted as it was cancelled: pass the slot on
                self._grant()
            else:
                self._forget(waiter)
            raise

    def _grant(self) -> None:
        passed = 0  # owners in a row that could not be served
        while self._free and self._turns and passed < len(self._turns):
            owner = self._turns[0]
            queue = self._waiting[owner]
            if queue[0].reserved and self._free == 1 and self.size > 1:
                self._turns.rotate(-1)
                passed += 1
                continue
            waiter = queue.popleft()
            if queue:
                self._turns.rotate(-1)
            else:
                self._turns.popleft()
                del self._waiting[owner]
            self._free -= 1
            passed = 0
            waiter.granted.set_result(None)

    def _forget(self, waiter: _Waiter) -> None:
        queue = self._waiting.get(waiter.owner)
        if queue is not None and waiter in queue:
            queue.remove(waiter)
            if not queue:
                del self._waiting[waiter.owner]
                self._turns.remove(waiter.owner)
