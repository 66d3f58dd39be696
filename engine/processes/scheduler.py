"""APScheduler 3 as the in-process clock: periodic sweeps, lease renewal, escalations and a
wake-up at the next due time. Durable work lives in the tables, never in scheduler jobs."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from engine.delivery.dispatcher import Dispatcher

log = logging.getLogger("nudge.scheduler")
NEXT_DUE = "next-due"


def build_scheduler(dispatcher: Dispatcher) -> AsyncIOScheduler:
    settings = dispatcher.settings
    scheduler = AsyncIOScheduler(
        timezone=UTC, job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 30}
    )
    scheduler.add_job(
        dispatcher.wake, "interval", seconds=settings.sweep_interval_seconds, id="sweep"
    )
    scheduler.add_job(
        dispatcher.renew_leases,
        "interval",
        seconds=max(1.0, settings.lease_seconds / 3),
        id="renew-leases",
    )
    scheduler.add_job(
        _escalate,
        "interval",
        args=[dispatcher],
        seconds=settings.sweep_interval_seconds,
        id="escalations",
    )
    return scheduler


async def _escalate(dispatcher: Dispatcher) -> None:
    await dispatcher.in_db(dispatcher.escalate_due)


async def wake_at_next_due(scheduler: AsyncIOScheduler, dispatcher: Dispatcher) -> None:
    """When idle: a one-off job that wakes the dispatcher when the next item falls due."""
    due = await dispatcher.in_db(dispatcher.next_due)
    if due is None:
        return
    at = max(due, datetime.now(UTC))
    scheduler.add_job(dispatcher.wake, "date", run_date=at, id=NEXT_DUE, replace_existing=True)
