"""The dispatcher: claims due notifications from the database under a lease, sends them with
bounded concurrency and records each outcome in its own transaction as soon as it is known.

Crash safety: a claimed notification is leased; if this process dies its lease runs out and
another worker takes it. Only sends already handed to a provider but not yet recorded can be
repeated, at most ``concurrency`` of them, and they carry the same Message-ID. A graceful stop
finishes in-flight sends and gives back everything else.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlmodel import Session

from engine.channels.base import (
    ChannelError,
    OutboundMessage,
    PermanentChannelError,
    SendResult,
)
from engine.channels.registry import ChannelRegistry
from engine.delivery.composer import Composer
from engine.delivery.planner import (
    Defer,
    Recipient,
    SentLog,
    Stop,
    channel_order,
    earliest_cap_start,
    plan,
)
from engine.delivery.recorder import Recorder, Sent
from engine.delivery.repository import DeliveryRepository
from engine.errors import NudgeError
from engine.history.repository import HistoryRepository
from engine.history.service import HistoryService
from engine.models import Notification, NotificationStatus, Tenant
from engine.preferences.service import public_preferences
from engine.processes.container import Services
from engine.processes.runtime import Runtime

log = logging.getLogger("nudge.dispatch")
T = TypeVar("T")


@dataclass(frozen=True)
class Job:
    """A claimed notification ready to go out on one channel."""

    notification_id: str
    message: OutboundMessage
    order: tuple[str, ...]
    index: int
    created_at: datetime
    escalation: timedelta | None


@dataclass
class Outcome:
    """What a send produced, waiting to be recorded (with the next group commit)."""

    job: Job
    result: SendResult | ChannelError
    started: datetime
    recorded: asyncio.Future[None]


@dataclass(frozen=True)
class _Batch:
    """A claimed batch with everything preparing it needs, loaded in the claim's transaction."""

    claimed: list[Notification]
    recipients: dict[str, Recipient]
    rules: dict[tuple[str, str, int], dict[str, Any]]
    tenants: dict[str, Tenant]
    composer: Composer
    sent: SentLog


class Dispatcher:
    def __init__(
        self, runtime: Runtime, channels: ChannelRegistry, owner: str | None = None
    ) -> None:
        settings = runtime.settings
        self.runtime = runtime
        self.channels = channels
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}"
        self.batch_size = settings.dispatch_batch_size
        self.lease = timedelta(seconds=settings.lease_seconds)
        self.slots = asyncio.Semaphore(settings.dispatch_concurrency)
        self._channel_slots: dict[str, asyncio.Semaphore] = {}
        self.wakeup = asyncio.Event()
        self.stopping = False
        self.claimed: set[str] = set()
        self._planned = Counter[tuple[str, str]]()  # this batch's sends, for frequency caps
        self._sent = SentLog()  # what was sent before this batch, for frequency caps
        self._outcomes: list[Outcome] = []
        self._db = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nudge-dispatch-db")
        self._committing = False
        self._loop: asyncio.AbstractEventLoop | None = None

    async def in_db(self, work: Callable[..., T], *args: Any) -> T:
        """Run database work on this dispatcher's one database thread: claims and records
        never wait on each other's SQLite write lock."""
        return await asyncio.get_running_loop().run_in_executor(self._db, work, *args)

    def wake(self) -> None:
        """Safe from any thread: run a dispatch cycle now."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self.wakeup.set)

    async def run(
        self, idle_timeout: float, on_idle: Callable[[], Awaitable[None]] | None = None
    ) -> None:
        """Dispatch until stopped. The next batch is claimed and rendered while the previous
        one is still sending; when nothing is due, sleep until woken (or ``idle_timeout``)."""
        self._loop = asyncio.get_running_loop()
        sending: set[asyncio.Task[None]] = set()
        while not self.stopping:
            self.wakeup.clear()
            handled = 0
            if len(sending) < self.batch_size:
                try:
                    jobs, handled = await self.in_db(self._claim_and_prepare)
                    self._start(jobs, sending)
                    if handled == 0 and not sending and on_idle is not None:
                        await on_idle()
                except Exception:  # the database may be away for a moment: try again later
                    log.exception("dispatch cycle failed")
            if handled and len(sending) < self.batch_size:
                continue
            # Until a send finishes, wake() or stop() is called, or the timeout: one event,
            # as waiting on the sends themselves would add and remove a callback on every
            # send in flight at each turn of this loop.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(idle_timeout):
                    await self.wakeup.wait()
        if sending:
            await asyncio.gather(*sending)

    def _start(self, jobs: list[Job], sending: set[asyncio.Task[None]]) -> None:
        """A task per job, in ``sending`` until it is done; each finished one wakes ``run``."""

        def finished(task: asyncio.Task[None]) -> None:
            sending.discard(task)
            self.wakeup.set()  # there may be room for the next batch

        for job in jobs:
            task = asyncio.create_task(self._deliver(job))
            sending.add(task)
            task.add_done_callback(finished)

    async def run_once(self) -> int:
        """Claim one batch, send it, record it; the number of notifications handled."""
        jobs, handled = await self.in_db(self._claim_and_prepare)
        await asyncio.gather(*(self._deliver(job) for job in jobs))
        return handled

    async def stop(self) -> None:
        """Stop claiming, let in-flight sends finish, give back what was not started."""
        self.stopping = True
        self.wakeup.set()
        async with _all_slots(self.slots, self.runtime.settings.dispatch_concurrency):
            await self.in_db(self._release_claimed)

    async def renew_leases(self) -> None:
        if self.claimed:
            await self.in_db(self._renew)

    def next_due(self) -> datetime | None:
        with self.runtime.services() as services:
            return DeliveryRepository(services.session).next_due()

    def escalate_due(self) -> int:
        """Move unacknowledged notifications past their escalation delay to the next channel."""
        now = self.runtime.clock.now()
        with self.runtime.services() as services:
            repo = DeliveryRepository(services.session)
            due = repo.due_escalations(now, self.batch_size)
            rules = repo.rule_definitions(
                list({(n.tenant_id, n.rule_key, n.rule_version) for n in due})
            )
            recorder = self._recorder(services, repo)
            recipients = self._recipients(services, repo, due)
            for n in due:
                order = channel_order(n, recipients[n.customer_id])
                rule = rules.get((n.tenant_id, n.rule_key, n.rule_version), {})
                recorder.escalate(n, now, order, self._escalation(rule, n) or timedelta(0))
        if due:
            self.wake()
        return len(due)

    def _claim_and_prepare(self) -> tuple[list[Job], int]:
        """Claim a batch and look up what it needs (one short transaction), render it with
        no transaction open, then record the batch's deferrals, stops and fallbacks (one
        more): a slow template never holds the database."""
        now = self.runtime.clock.now()
        batch = self._claim(now)
        if not batch.claimed:
            return [], 0
        with Session(self.runtime.db, expire_on_commit=False, autoflush=False) as session:
            # Nothing below queries: rows are only added, and written by the commit.
            repo = DeliveryRepository(session)
            history = HistoryService(HistoryRepository(session), self.runtime.clock)
            recorder = Recorder(repo, history, self.runtime.settings.max_send_attempts)
            self._sent, self._planned = batch.sent, Counter[tuple[str, str]]()
            jobs = []
            for n in batch.claimed:
                session.add(n)
                rule = batch.rules.get((n.tenant_id, n.rule_key, n.rule_version), {})
                recipient, tenant = batch.recipients[n.customer_id], batch.tenants[n.tenant_id]
                job = self._prepare(n, recipient, rule, tenant, batch.composer, recorder, repo, now)
                if job is not None:
                    jobs.append(job)
            session.commit()
        self.claimed.update(job.notification_id for job in jobs)
        return jobs, len(batch.claimed)

    def _claim(self, now: datetime) -> _Batch:
        with self.runtime.services() as services:
            repo = DeliveryRepository(services.session)
            claimed = (
                []
                if self.stopping
                else repo.claim(self.owner, now, now + self.lease, self.batch_size)
            )
            recipients = self._recipients(services, repo, claimed)
            rules = repo.rule_definitions(
                list({(n.tenant_id, n.rule_key, n.rule_version) for n in claimed})
            )
            tenants = repo.tenants(list({n.tenant_id for n in claimed}))
            composer = Composer(services.settings, services.templates.resolve)
            composer.prefetch(
                Composer.template_key(
                    n, channel, recipients[n.customer_id].customer, tenants[n.tenant_id], rule
                )
                for n in claimed
                for rule in [rules.get((n.tenant_id, n.rule_key, n.rule_version), {})]
                for channel in channel_order(n, recipients[n.customer_id])[n.channel_index :]
            )
            sent = self._sent_log(repo, recipients, now)
        return _Batch(claimed, recipients, rules, tenants, composer, sent)

    def _prepare(
        self,
        n: Notification,
        recipient: Recipient,
        rule: Mapping[str, Any],
        tenant: Any,
        composer: Composer,
        recorder: Recorder,
        repo: DeliveryRepository,
        now: datetime,
    ) -> Job | None:
        def sent(channel: str, since: datetime) -> int:
            planned = self._planned[(n.customer_id, channel)]
            return self._sent.count(n.customer_id, channel, since) + planned

        while True:
            decided = plan(n, recipient, now, sent, str(rule.get("cap_policy", "defer")))
            if isinstance(decided, Defer):
                recorder.defer(n, decided, now)
                return None
            if isinstance(decided, Stop):
                recorder.stop(n, decided, now)
                return None
            recorder.fallbacks(n, decided.skipped)
            n.channel_index, n.channel = decided.index, decided.channel
            try:
                message = composer.compose(
                    n, decided.channel, decided.to, recipient.customer, tenant, rule, now
                )
            except NudgeError as exc:
                order = channel_order(n, recipient)
                reason = f"{decided.channel} message could not be rendered: {exc.detail}"
                recorder.next_channel(n, reason, now, order, keep_lease=True)
                if n.status != NotificationStatus.sending:
                    return None  # no channel left: recorded as failed
                continue
            repo.save(n)
            self._planned[(n.customer_id, decided.channel)] += 1
            channels = tuple(channel_order(n, recipient))
            escalation = self._escalation(rule, n) if n.channel_index + 1 < len(channels) else None
            return Job(n.id, message, channels, n.channel_index, n.created_at, escalation)

    async def _deliver(self, job: Job) -> None:
        async with self.slots:
            if self.stopping:
                return  # not started: stop() gives its claim back
            started = self.runtime.clock.now()
            result = await self._send(job.message)
            # The slot is held until the outcome is committed: at most `concurrency`
            # sends can be lost track of by a crash.
            await self._commit(
                Outcome(job, result, started, asyncio.get_running_loop().create_future())
            )
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
        self._outcomes.append(outcome)
        if not self._committing:
            self._committing = True
            try:
                while self._outcomes:
                    group, self._outcomes = self._outcomes, []
                    try:
                        await self.in_db(self._record, group)
                    except Exception as exc:
                        for item in group:
                            item.recorded.set_exception(exc)
                        continue
                    for item in group:
                        item.recorded.set_result(None)
            finally:
                self._committing = False
        await outcome.recorded

    def _record(self, group: list[Outcome]) -> None:
        now = self.runtime.clock.now()
        failed = [item for item in group if isinstance(item.result, ChannelError)]
        sent = [
            Sent(
                item.job.message,
                item.result,
                item.started,
                item.job.index,
                item.job.created_at,
                item.job.escalation,
            )
            for item in group
            if isinstance(item.result, SendResult)
        ]
        with self.runtime.services() as services:
            repo = DeliveryRepository(services.session)
            recorder = self._recorder(services, repo)
            recorder.sent_many(sent, now, self.owner)
            rows = repo.by_ids([item.job.notification_id for item in failed]) if failed else {}
            for item in failed:
                n, job = rows.get(item.job.notification_id), item.job
                if n is None or n.lease_owner != self.owner:
                    log.warning(
                        "lease lost before recording", extra={"notification": job.notification_id}
                    )
                    continue
                assert isinstance(item.result, ChannelError)
                recorder.failed(n, job.message, item.result, item.started, now, job.order)
                if n.status == NotificationStatus.pending and n.due_at <= now:
                    self.wake()

    @staticmethod
    def _escalation(rule: Mapping[str, Any], n: Notification) -> timedelta | None:
        if not n.requires_ack:
            return None
        return timedelta(minutes=float(rule.get("escalation_delay_minutes", 60)))

    def _recipients(
        self, services: Services, repo: DeliveryRepository, notifications: list[Notification]
    ) -> dict[str, Recipient]:
        ids = list({n.customer_id for n in notifications})
        customers, contacts = repo.customers(ids), repo.contacts(ids)
        consents, prefs = repo.consents(ids), repo.preferences(ids)
        return {
            cid: Recipient(
                customers[cid],
                contacts.get(cid, {}),
                consents.get(cid, []),
                public_preferences(prefs.get(cid)),
            )
            for cid in ids
        }

    @staticmethod
    def _sent_log(
        repo: DeliveryRepository, recipients: Mapping[str, Recipient], now: datetime
    ) -> SentLog:
        """What was sent to the batch's customers who set frequency caps, in one query."""
        starts = {cid: earliest_cap_start(r, now) for cid, r in recipients.items()}
        capped = {cid: start for cid, start in starts.items() if start is not None}
        if not capped:
            return SentLog()
        return SentLog(repo.sent_times(sorted(capped), min(capped.values())))

    def _recorder(self, services: Services, repo: DeliveryRepository) -> Recorder:
        return Recorder(repo, services.history, self.runtime.settings.max_send_attempts)

    def _release_claimed(self) -> None:
        now = self.runtime.clock.now()
        with self.runtime.services() as services:
            DeliveryRepository(services.session).release(sorted(self.claimed), self.owner, now)
        self.claimed.clear()

    def _renew(self) -> None:
        until = self.runtime.clock.now() + self.lease
        with self.runtime.services() as services:
            DeliveryRepository(services.session).renew(sorted(self.claimed), self.owner, until)


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
