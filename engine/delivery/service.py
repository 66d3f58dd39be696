"""Delivery's synchronous work: claim due notifications under a lease and prepare their
messages, record what sending them produced, escalate unacknowledged ones, release and renew
leases. Each call is its own unit of work; sending is the dispatcher's."""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from engine.channels.base import ChannelError, SendResult
from engine.delivery.claims import (
    AGAIN,
    Again,
    Batch,
    Caps,
    Claimed,
    Job,
    Outcome,
    Pending,
    RuleKey,
)
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
from engine.delivery.units import DeliveryPlatform, DeliveryUnit, DeliveryUnits
from engine.errors import NudgeError
from engine.models import Notification, NotificationStatus
from engine.platform.clock import Clock
from engine.platform.config import Settings
from engine.preferences.service import public_preferences
from engine.templating.pool import Rendered, RenderRequest, render_here

log = logging.getLogger("nudge.dispatch")
# Render time one tenant may spend in one claimed batch before its remaining notifications go
# back for the next round: past it after one render near the template budget.
TENANT_RENDER_SHARE_SECONDS = 0.1


class DeliveryService:
    """Delivery's database work for one worker (``owner``), built once with its units of work;
    every method is synchronous and runs its own transactions."""

    def __init__(self, units: DeliveryUnits, settings: Settings, clock: Clock, owner: str) -> None:
        self.units = units
        self.settings = settings
        self.clock = clock
        self.owner = owner
        self.lease = timedelta(seconds=settings.lease_seconds)
        self.tenant_render_share = TENANT_RENDER_SHARE_SECONDS
        self.render_cost: dict[str, float] = {}  # recent seconds to render one, by tenant

    @classmethod
    def on(cls, platform: DeliveryPlatform, owner: str) -> DeliveryService:
        """The service over a running process's database, claiming as ``owner``."""
        return cls(DeliveryUnits(platform.services), platform.settings, platform.clock, owner)

    def claim(self, limit: int) -> tuple[list[Job], int]:
        """Claim up to ``limit`` due notifications and prepare them all: the jobs to send and
        how many notifications were handled."""
        claimed = self.claim_batch(limit)
        jobs: list[Job] = []
        while claimed is not None and claimed.waiting:
            jobs.extend(self.prepare(claimed, chunk_seconds=float("inf")))
        return jobs, claimed.handled if claimed is not None else 0

    def claim_batch(
        self, limit: int, busy: Sequence[str] = (), slow: float | None = None
    ) -> Claimed | None:
        """Claim up to ``limit`` due notifications, fairly across tenants (none of the
        ``busy`` tenants', and with ``slow`` seconds given, one only of each tenant whose
        messages recently took longer than that to render), and look up what preparing them
        needs, in one short transaction; None when nothing is due."""
        now = self.clock.now()
        one_of = (
            [t for t, cost in self.render_cost.items() if cost > slow] if slow is not None else []
        )
        batch = self._claim(now, limit, busy, one_of)
        if not batch.claimed:
            return None
        return Claimed(batch, Caps(batch.sent), now, deque(self._cheap_first(batch.claimed)))

    def _cheap_first(self, claimed: list[Notification]) -> list[Notification]:
        """The claim's order (each tenant's turn by rank), but within a turn the tenants whose
        messages recently rendered fastest go first: a slow tenant's render never delays a
        fast one's message of the same turn."""
        turn: dict[str, int] = {}
        ranked = []
        for n in claimed:
            turn[n.tenant_id] = turn.get(n.tenant_id, 0) + 1
            ranked.append((turn[n.tenant_id], self.render_cost.get(n.tenant_id, 0.0)))
        order = sorted(range(len(claimed)), key=lambda i: ranked[i])
        return [claimed[i] for i in order]

    def prepare(
        self, claimed: Claimed, chunk_seconds: float, tenant_id: str | None = None
    ) -> list[Job]:
        """Plan and render the next claimed notifications (only ``tenant_id``'s, if given)
        here until ``chunk_seconds`` of rendering is spent (at least one), with no transaction
        open; then write their deferrals, stops and fallbacks in one transaction. A tenant
        whose renders in this batch took more than its share (``dispatch_tenant_render_share``)
        has its remaining notifications given back, due again at once and unchanged, so its
        slow templates cannot hold the others'."""
        share = self.tenant_render_share
        jobs: list[Job] = []
        released: list[str] = []
        started = time.perf_counter()
        batch = claimed.batch
        with self.units() as unit:  # nothing below queries: it only adds rows, until commit
            recorder = self._recorder(unit)
            while not jobs or time.perf_counter() - started < chunk_seconds:
                n = claimed.next(tenant_id)
                if n is None:
                    break
                if claimed.spent.get(n.tenant_id, 0.0) > share:
                    released.append(n.id)
                    continue
                began = time.perf_counter()
                unit.repo.save(n)
                job = self._prepare(n, batch, claimed.caps, recorder, unit.repo, claimed.now)
                self._spent(claimed, n.tenant_id, time.perf_counter() - began)
                claimed.handled += 1
                if job is not None:
                    jobs.append(job)
                else:
                    claimed.settled.append(n.id)
            if released:
                unit.repo.release(released, self.owner, self.clock.now())
        claimed.released.extend(released)
        if released:
            log.info(
                "tenant render share spent: notifications given back",
                extra={"released": len(released)},
            )
        return jobs

    def draft(self, claimed: Claimed, tenant_id: str, count: int) -> list[Pending]:
        """Plan up to ``count`` of ``tenant_id``'s waiting notifications in one transaction
        (deferrals, stops and skipped channels written), leaving their rendering to the
        caller (`finish` takes the outcomes). A tenant whose renders in this batch took more
        than its share has its remaining notifications given back instead."""
        if claimed.spent.get(tenant_id, 0.0) > self.tenant_render_share:
            released = [n.id for n in claimed.take(tenant_id, len(claimed.waiting))]
            self.release(released)
            claimed.released.extend(released)
            return []
        pending: list[Pending] = []
        with self.units() as unit:
            recorder = self._recorder(unit)
            for n in claimed.take(tenant_id, count):
                unit.repo.save(n)
                drafted = self._draft_one(n, claimed.batch, claimed.caps, recorder, claimed.now)
                if drafted is None:
                    claimed.handled += 1
                    claimed.settled.append(n.id)
                else:
                    pending.append(drafted)
        return pending

    def finish(self, claimed: Claimed, rendered: Sequence[tuple[Pending, Rendered]]) -> list[Job]:
        """Take the render outcomes of drafted notifications in one transaction: the jobs to
        send; one whose message failed moves on to its next channel (waiting again, drafted
        anew) or, with none left, fails."""
        jobs: list[Job] = []
        with self.units() as unit:
            recorder = self._recorder(unit)
            for pending, outcome in rendered:
                n = pending.n
                self._spent(claimed, n.tenant_id, outcome.seconds)
                unit.repo.save(n)
                done = self._finish_one(
                    pending, outcome, claimed.batch, claimed.caps, recorder, unit.repo, claimed.now
                )
                if isinstance(done, Again):
                    claimed.waiting.appendleft(n)
                    continue
                claimed.handled += 1
                if done is None:
                    claimed.settled.append(n.id)
                else:
                    jobs.append(done)
        return jobs

    def _spent(self, claimed: Claimed, tenant_id: str, seconds: float) -> None:
        claimed.spent[tenant_id] = claimed.spent.get(tenant_id, 0.0) + seconds
        # The slowest recent render counts, forgotten a fifth at a time: a tenant whose
        # templates are slow only now and then is not taken for a quick one.
        self.render_cost[tenant_id] = max(seconds, self.render_cost.get(tenant_id, 0.0) * 0.8)

    def record(self, outcomes: Sequence[Outcome]) -> bool:
        """Record a group of outcomes in one transaction; whether a failed one is due again
        at once (its next channel)."""
        now = self.clock.now()
        failed = [item for item in outcomes if isinstance(item.result, ChannelError)]
        sent = [
            Sent(
                o.job.message, o.result, o.started, o.job.index, o.job.created_at, o.job.escalation
            )
            for o in outcomes
            if isinstance(o.result, SendResult)
        ]
        due_again = False
        with self.units() as unit:
            recorder = self._recorder(unit)
            recorder.sent_many(sent, now, self.owner)
            rows = unit.repo.by_ids([o.job.notification_id for o in failed]) if failed else {}
            for item in failed:
                n, job = rows.get(item.job.notification_id), item.job
                if n is None or n.lease_owner != self.owner:
                    log.warning(
                        "lease lost before recording", extra={"notification": job.notification_id}
                    )
                    continue
                assert isinstance(item.result, ChannelError)
                recorder.failed(n, job.message, item.result, item.started, now, job.order)
                due_again |= n.status == NotificationStatus.pending and n.due_at <= now
        return due_again

    def escalate_due(self, limit: int) -> int:
        """Move up to ``limit`` unacknowledged notifications past their escalation delay to
        their next channel; how many moved."""
        now = self.clock.now()
        with self.units() as unit:
            due = unit.repo.due_escalations(now, limit)
            rules = unit.repo.rule_definitions(list({_rule_key(n) for n in due}))
            recorder = self._recorder(unit)
            recipients = _recipients(unit.repo, due)
            for n in due:
                order = channel_order(n, recipients[n.customer_id])
                delay = _escalation(rules.get(_rule_key(n), {}), n) or timedelta(0)
                recorder.escalate(n, now, order, delay)
        return len(due)

    def next_due(self) -> datetime | None:
        with self.units() as unit:
            return unit.repo.next_due()

    def release(self, ids: Sequence[str]) -> None:
        """Give claimed notifications back: due again at once, for any worker."""
        now = self.clock.now()
        with self.units() as unit:
            unit.repo.release(sorted(ids), self.owner, now)

    def renew(self, ids: Sequence[str]) -> None:
        """Extend the leases held on these notifications."""
        until = self.clock.now() + self.lease
        with self.units() as unit:
            unit.repo.renew(sorted(ids), self.owner, until)

    def _claim(
        self, now: datetime, limit: int, busy: Sequence[str] = (), one_of: Sequence[str] = ()
    ) -> Batch:
        with self.units() as unit:
            repo = unit.repo
            lease = now + self.lease
            claimed = repo.claim(self.owner, now, lease, limit, busy, one_of) if limit > 0 else []
            recipients = _recipients(repo, claimed)
            rules = repo.rule_definitions(list({_rule_key(n) for n in claimed}))
            tenants = repo.tenants(list({n.tenant_id for n in claimed}))
            composer = Composer(self.settings, unit.templates.resolve)
            composer.prefetch(
                Composer.template_key(
                    n, channel, recipients[n.customer_id].customer, tenants[n.tenant_id], rule
                )
                for n in claimed
                for rule in [rules.get(_rule_key(n), {})]
                for channel in channel_order(n, recipients[n.customer_id])[n.channel_index :]
            )
            sent = _sent_log(repo, recipients, now)
            attempts = repo.attempt_counts([n.id for n in claimed]) if claimed else {}
        return Batch(claimed, recipients, rules, tenants, composer, sent, attempts)

    def _prepare(
        self,
        n: Notification,
        batch: Batch,
        caps: Caps,
        recorder: Recorder,
        repo: DeliveryRepository,
        now: datetime,
    ) -> Job | None:
        """Plan and render ``n`` here: a job, or None once it is deferred, stopped or failed."""
        while True:
            pending = self._draft_one(n, batch, caps, recorder, now)
            if pending is None:
                return None
            outcome = pending.unrendered() or render_here(_request(pending))
            done = self._finish_one(pending, outcome, batch, caps, recorder, repo, now)
            if not isinstance(done, Again):
                return done

    def _draft_one(
        self, n: Notification, batch: Batch, caps: Caps, recorder: Recorder, now: datetime
    ) -> Pending | None:
        """Plan ``n``: its message's draft on the channel it goes out on (counted against the
        customer's caps), or None once it is deferred or stopped (recorded)."""
        recipient, tenant, rule = (
            batch.recipients[n.customer_id],
            batch.tenants[n.tenant_id],
            batch.rule(n),
        )
        sent = caps.counter(n.customer_id)
        decided = plan(n, recipient, now, sent, str(rule.get("cap_policy", "defer")))
        if isinstance(decided, Defer):
            recorder.defer(n, decided, now)
            return None
        if isinstance(decided, Stop):
            recorder.stop(n, decided, now)
            return None
        recorder.fallbacks(n, decided.skipped)
        n.channel_index, n.channel = decided.index, decided.channel
        attempt = batch.attempts.get((n.id, decided.channel), 0) + 1
        try:
            draft = batch.composer.draft(
                n, decided.channel, decided.to, recipient.customer, tenant, rule, now, attempt
            )
        except NudgeError as exc:
            return Pending(n, None, exc)
        caps.planned[(n.customer_id, decided.channel)] += 1
        return Pending(n, draft)

    def _finish_one(
        self,
        pending: Pending,
        outcome: Rendered,
        batch: Batch,
        caps: Caps,
        recorder: Recorder,
        repo: DeliveryRepository,
        now: datetime,
    ) -> Job | None | Again:
        """The job of a rendered message; a failed render moves ``n`` to its next channel
        (`AGAIN`) or, with none left, fails it (None)."""
        n, recipient, rule = (
            pending.n,
            batch.recipients[pending.n.customer_id],
            batch.rule(pending.n),
        )
        if pending.draft is None or outcome.message is None:
            if pending.draft is not None:
                caps.planned[(n.customer_id, n.channel or "")] -= 1
            detail = outcome.error.detail if outcome.error is not None else "no message"
            reason = f"{n.channel} message could not be rendered: {detail}"
            recorder.next_channel(n, reason, now, channel_order(n, recipient), keep_lease=True)
            return AGAIN if n.status == NotificationStatus.sending else None
        message = pending.draft.message(outcome.message)
        repo.save(n)
        channels = tuple(channel_order(n, recipient))
        escalation = _escalation(rule, n) if n.channel_index + 1 < len(channels) else None
        return Job(n.id, message, channels, n.channel_index, n.created_at, escalation)

    def _recorder(self, unit: DeliveryUnit) -> Recorder:
        return Recorder(unit.repo, unit.history, self.settings.max_send_attempts)


def _request(pending: Pending) -> RenderRequest:
    assert pending.draft is not None
    return pending.draft.request


def _rule_key(n: Notification) -> RuleKey:
    return (n.tenant_id, n.rule_key, n.rule_version)


def _escalation(rule: Mapping[str, Any], n: Notification) -> timedelta | None:
    if not n.requires_ack:
        return None
    return timedelta(minutes=float(rule.get("escalation_delay_minutes", 60)))


def _recipients(
    repo: DeliveryRepository, notifications: list[Notification]
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


def _sent_log(
    repo: DeliveryRepository, recipients: Mapping[str, Recipient], now: datetime
) -> SentLog:
    """What was sent to the batch's customers who set frequency caps, in one query."""
    starts = {cid: earliest_cap_start(r, now) for cid, r in recipients.items()}
    capped = {cid: start for cid, start in starts.items() if start is not None}
    if not capped:
        return SentLog()
    return SentLog(repo.sent_times(sorted(capped), min(capped.values())))
