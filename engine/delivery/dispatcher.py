"""The dispatcher: claims due notifications from the database under a lease, sends them with
bounded concurrency and records each outcome in its own transaction as soon as it is known.

Crash safety: a claimed notification is leased; if this process dies its lease runs out and
another worker takes it. Only sends already handed to a provider but not yet recorded can be
repeated, at most ``concurrency`` of them, and they carry the same Message-ID. A graceful stop
finishes in-flight sends and gives back everything else.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from engine.channels.base import ChannelError, OutboundMessage, PermanentChannelError, SendResult
from engine.channels.registry import ChannelRegistry
from engine.delivery.claims import Claimed, Job, Outcome, Pending
from engine.delivery.service import DeliveryService
from engine.delivery.units import DeliveryPlatform
from engine.templating.pool import Rendered, RenderPool

log = logging.getLogger("nudge.dispatch")
T = TypeVar("T")
# Render time after which the notifications prepared so far are written and start sending.
PREPARE_CHUNK_SECONDS = 0.02
MAX_CHUNK = 50  # messages rendered in one call of a worker process
# A tenant whose recent messages took longer than this to render is slow: it waits for a
# worker other than the last free one.
SLOW_RENDER_SECONDS = 0.02


@dataclass(frozen=True)
class _Recording:
    """An outcome waiting for the next group commit, and who waits for it to be written."""

    outcome: Outcome
    recorded: asyncio.Future[None]


class Dispatcher:
    """Runs the dispatch loop, its concurrency limits and the group commit; the delivery
    service does the database work, on this dispatcher's one database thread."""

    def __init__(
        self, platform: DeliveryPlatform, channels: ChannelRegistry, owner: str | None = None
    ) -> None:
        self.settings = settings = platform.settings
        self.clock = platform.clock
        self.channels = channels
        self.service = DeliveryService.on(
            platform, owner or f"{socket.gethostname()}:{os.getpid()}"
        )
        self.batch_size = settings.dispatch_batch_size
        self.slots = asyncio.Semaphore(settings.dispatch_concurrency)
        self._channel_slots: dict[str, asyncio.Semaphore] = {}
        self.wakeup = asyncio.Event()
        self.stopping = False
        self.claimed: set[str] = set()
        self._queued: list[_Recording] = []
        self._db = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nudge-dispatch-db")
        # Lanes prepare on a thread of their own: a claim or a group commit waiting for the
        # write lock never holds up a message that only needs rendering.
        self._prep = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nudge-dispatch-prep")
        self._committing = False
        self._loop: asyncio.AbstractEventLoop | None = None
        workers = settings.render_workers
        self.renderer = RenderPool(workers) if workers else None
        self._lanes: dict[str, asyncio.Task[None]] = {}  # tenants being prepared, in the pool
        # With lanes, a claim is tried only when something may have become due for a tenant
        # not being prepared (woken, a lane ended, the sweep) or room was wanted and freed:
        # not at every finished send while the only tenant with work is still in its lane.
        self._claim_wanted = True
        self._starved = False

    @property
    def owner(self) -> str:
        """Whose leases this dispatcher's claims hold."""
        return self.service.owner

    async def in_db(self, work: Callable[..., T], *args: Any) -> T:
        """Run database work on this dispatcher's one database thread: claims and records
        never wait on each other's SQLite write lock."""
        return await asyncio.get_running_loop().run_in_executor(self._db, work, *args)

    async def in_prep(self, work: Callable[..., T], *args: Any) -> T:
        """Run a lane's preparing (drafts, renders of quick tenants, their writes) on the
        lanes' one thread."""
        return await asyncio.get_running_loop().run_in_executor(self._prep, work, *args)

    def wake(self) -> None:
        """Safe from any thread: run a dispatch cycle now."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._want_claim)

    def _want_claim(self) -> None:
        self._claim_wanted = True
        self.wakeup.set()

    async def run(
        self, idle_timeout: float, on_idle: Callable[[], Awaitable[None]] | None = None
    ) -> None:
        """Dispatch until stopped. The next batch is claimed and rendered while the previous
        one is still sending, and each message goes out as soon as it is rendered; when
        nothing is due, sleep until woken (or ``idle_timeout``)."""
        self._loop = asyncio.get_running_loop()
        if self.renderer is not None:
            self.renderer.warm()
        sending: set[asyncio.Task[None]] = set()
        while not self.stopping:
            self.wakeup.clear()
            handled = 0
            if len(sending) < self.batch_size:
                try:
                    handled = await self._claim_and_start(sending)
                    if handled == 0 and not sending and not self._lanes and on_idle is not None:
                        await on_idle()
                except Exception:  # the database may be away for a moment: try again later
                    log.exception("dispatch cycle failed")
            if handled and len(sending) < self.batch_size:
                continue
            # Until a send finishes, wake() or stop() is called, or the timeout: one event,
            # as waiting on the sends themselves would add and remove a callback on every
            # send in flight at each turn of this loop.
            try:
                async with asyncio.timeout(idle_timeout):
                    await self.wakeup.wait()
            except TimeoutError:
                self._claim_wanted = True  # the sweep: due times pass without a wake-up
        if self._lanes:
            await asyncio.gather(*self._lanes.values(), return_exceptions=True)
        if sending:
            await asyncio.gather(*sending)

    async def _claim_and_start(self, sending: set[asyncio.Task[None]]) -> int:
        """Claim a batch and prepare it a little at a time, starting each prepared part's sends
        before rendering the next: how many notifications were handled (with render workers,
        how many were claimed: each tenant's part is prepared by its own lane meanwhile)."""
        if self.renderer is not None:
            return await self._claim_into_lanes(sending)
        claimed = await self.in_db(self._claim_batch)
        if claimed is None:
            return 0
        try:
            while claimed.waiting and not self.stopping:
                before = [n.id for n in claimed.waiting]
                jobs = await self.in_db(self.service.prepare, claimed, PREPARE_CHUNK_SECONDS)
                # Deferred, stopped, failed or given back: no longer this worker's to hold.
                done = set(before[: len(before) - len(claimed.waiting)])
                self.claimed.difference_update(done - {job.notification_id for job in jobs})
                self._start(jobs, sending)
        finally:
            self.claimed.difference_update(claimed.released)
        return claimed.handled

    async def _claim_into_lanes(self, sending: set[asyncio.Task[None]]) -> int:
        """Claim for the tenants not being prepared already and start a lane for each: a
        tenant's slow renders keep only its own lane waiting, never the next claim."""
        if not self._claim_wanted:
            return 0
        if len(self.claimed) >= self.batch_size:
            self._starved = True  # claim again once sends make room
            return 0
        self._claim_wanted = self._starved = False
        busy = sorted(self._lanes)
        claimed = await self.in_db(self._claim_batch, self.batch_size, busy)
        if claimed is None:
            return 0
        count = len(claimed.waiting)
        self._claim_wanted = count >= self.batch_size  # a full batch: more may be due
        for tenant in claimed.tenants():
            self._lanes[tenant] = asyncio.create_task(self._lane(claimed, tenant, sending))
        return count

    async def _lane(self, claimed: Claimed, tenant: str, sending: set[asyncio.Task[None]]) -> None:
        """Prepare and start ``tenant``'s claimed notifications, a chunk at a time, until none
        is waiting or its render share is spent. A tenant whose messages render quickly is
        rendered on the lanes' thread; a new or slow one in a worker process."""
        try:
            while not self.stopping and claimed.has(tenant):
                cost = self.service.render_cost.get(tenant)
                if cost is not None and cost <= SLOW_RENDER_SECONDS:
                    prepare = self.service.prepare
                    jobs = await self.in_prep(prepare, claimed, PREPARE_CHUNK_SECONDS, tenant)
                else:
                    jobs = await self._in_worker(claimed, tenant, cost)
                self._start(jobs, sending)
                self._settle(claimed)
        except Exception:  # the database may be away: the leases run out, another claim follows
            log.exception("preparing a tenant's notifications failed", extra={"tenant": tenant})
        finally:
            self._settle(claimed)
            del self._lanes[tenant]
            self._want_claim()  # this tenant's next notifications may be claimed

    async def _in_worker(self, claimed: Claimed, tenant: str, cost: float | None) -> list[Job]:
        """Draft a chunk of ``tenant``'s notifications, render them in a worker process, and
        take the outcomes: the jobs to send."""
        count = max(1, min(MAX_CHUNK, int(PREPARE_CHUNK_SECONDS / cost))) if cost else 1
        pending = await self.in_prep(self.service.draft, claimed, tenant, count)
        if not pending:
            return []
        rendered = await self._render(tenant, pending, (cost or 0.0) > SLOW_RENDER_SECONDS)
        return await self.in_prep(self.service.finish, claimed, rendered)

    async def _render(
        self, tenant: str, pending: list[Pending], slow: bool
    ) -> list[tuple[Pending, Rendered]]:
        assert self.renderer is not None
        requests = [p.draft.request for p in pending if p.draft is not None]
        outcomes = iter(await self.renderer.render(tenant, requests, slow) if requests else [])
        return [(p, p.unrendered() or next(outcomes)) for p in pending]

    def _settle(self, claimed: Claimed) -> None:
        """Stop holding what was given back or handled with nothing to send (the lists grow
        on the lanes' thread: taken item by item)."""
        for done in (claimed.released, claimed.settled):
            while done:
                self.claimed.discard(done.pop())

    def _claim_batch(
        self, limit: int | None = None, busy: list[str] | None = None
    ) -> Claimed | None:
        """On the database thread: a stop that came while this waited claims nothing. In lanes
        (``busy`` given), a tenant slow to render is claimed one notification at a time."""
        limit = self.batch_size if limit is None else limit
        slow = SLOW_RENDER_SECONDS if busy is not None else None
        claimed = None if self.stopping else self.service.claim_batch(limit, busy or [], slow)
        if claimed is not None:
            self.claimed.update(n.id for n in claimed.waiting)
        return claimed

    def _start(self, jobs: list[Job], sending: set[asyncio.Task[None]]) -> None:
        """A task per job, in ``sending`` until it is done; each finished one wakes ``run``."""

        def finished(task: asyncio.Task[None]) -> None:
            sending.discard(task)
            self._claim_wanted |= self._starved
            self.wakeup.set()  # there may be room for the next batch

        for job in jobs:
            task = asyncio.create_task(self._deliver(job))
            sending.add(task)
            task.add_done_callback(finished)

    async def run_once(self) -> int:
        """Claim one batch, send it, record it; the number of notifications handled."""
        jobs, handled = await self.in_db(self._claim)
        await asyncio.gather(*(self._deliver(job) for job in jobs))
        return handled

    async def stop(self) -> None:
        """Stop claiming, let in-flight sends finish, give back what was not started."""
        self.stopping = True
        self.wakeup.set()
        if self._lanes:  # each ends after the chunk it is rendering
            await asyncio.gather(*self._lanes.values(), return_exceptions=True)
        async with _all_slots(self.slots, self.settings.dispatch_concurrency):
            await self.in_db(self._release_claimed)

    async def renew_leases(self) -> None:
        if self.claimed:
            await self.in_db(self.service.renew, sorted(self.claimed))

    def next_due(self) -> datetime | None:
        return self.service.next_due()

    def escalate_due(self) -> int:
        """Move unacknowledged notifications past their escalation delay to the next channel."""
        moved = self.service.escalate_due(self.batch_size)
        if moved:
            self.wake()
        return moved

    def _claim(self) -> tuple[list[Job], int]:
        """On the database thread: a stop that came while this waited claims nothing."""
        jobs, handled = self.service.claim(0 if self.stopping else self.batch_size)
        self.claimed.update(job.notification_id for job in jobs)
        return jobs, handled

    async def _deliver(self, job: Job) -> None:
        async with self.slots:
            if self.stopping:
                return  # not started: stop() gives its claim back
            started = self.clock.now()
            result = await self._send(job.message)
            # The slot is held until the outcome is committed: at most `concurrency`
            # sends can be lost track of by a crash.
            await self._commit(Outcome(job, result, started))
            self.claimed.discard(job.notification_id)

    async def _send(self, message: OutboundMessage) -> SendResult | ChannelError:
        """Send within the channel's own concurrency (an SMTP pool, a provider's limit)."""
        channel = self.channels[message.channel]
        slots = self._channel_slots.get(message.channel)
        if slots is None:
            slots = self._channel_slots[message.channel] = asyncio.Semaphore(channel.concurrency())
        async with slots:
            try:
                return await channel.send(message)
            except ChannelError as exc:
                return exc
            except Exception as exc:  # a channel bug must not lose the notification
                log.exception("channel crashed", extra={"channel": message.channel})
                return PermanentChannelError(f"channel error: {type(exc).__name__}")

    async def _commit(self, outcome: Outcome) -> None:
        """Record outcomes in group commits: whoever arrives first writes everything queued."""
        waiting = _Recording(outcome, asyncio.get_running_loop().create_future())
        self._queued.append(waiting)
        if not self._committing:
            self._committing = True
            try:
                while self._queued:
                    group, self._queued = self._queued, []
                    try:
                        due_again = await self.in_db(
                            self.service.record, [item.outcome for item in group]
                        )
                    except Exception as exc:
                        for item in group:
                            item.recorded.set_exception(exc)
                        continue
                    if due_again:
                        self._want_claim()
                    for item in group:
                        item.recorded.set_result(None)
            finally:
                self._committing = False
        await waiting.recorded

    def _release_claimed(self) -> None:
        self.service.release(sorted(self.claimed))
        self.claimed.clear()


class _all_slots:  # noqa: N801  (used as a context manager)
    """Hold every slot of a semaphore: waits for all in-flight sends to finish."""

    def __init__(self, slots: asyncio.Semaphore, count: int) -> None:
        self.slots = slots
        self.count = count

    async def __aenter__(self) -> None:
        for _ in range(self.count):
            await self.slots.acquire()

    async def __aexit__(self, *exc: object) -> None:
        for _ in range(self.count):
            self.slots.release()
