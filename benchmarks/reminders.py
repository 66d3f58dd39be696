"""Scheduled reminders at scale (SPEC §7): a million pending reminders wait in the database
while a ``nudge worker`` runs; the few thousand that come due during the run are fired on
time or late by how much (due → first send attempt), and the worker's resident memory is
sampled throughout. Messages go to the outbox channel: this measures the scheduler, not a
mail server."""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import SecretStr
from sqlalchemy import func, insert, select

from benchmarks.common import ADMIN_KEY, emit, fresh_sqlite
from engine.models import DeliveryAttempt, Notification, Trigger
from engine.platform.config import Settings
from engine.processes.runtime import Runtime
from tests.fixtures.workload import load_notifications, notification_row, why

CHUNK = 50_000
LEAD_SECONDS = 5.0  # between the last insert and the first reminder coming due


def reminder_rows(
    tenant_id: str,
    triggers: list[tuple[str, str]],
    due: Iterator[datetime],
    count: int,
    first: int,
    now: datetime,
) -> list[dict[str, object]]:
    """``count`` pending reminders due at the instants ``due`` yields, spread over triggers."""
    context = why(now - timedelta(hours=12), now + timedelta(hours=12))
    return [
        notification_row(
            tenant_id,
            triggers[i % len(triggers)],
            f"reminder:{i}",
            next(due),
            channel="email",
            context=context,
            now=now,
        )
        for i in range(first, first + count)
    ]


def schedule(runtime: Runtime, tenant_id: str, waiting: int, due: int, window: float) -> datetime:
    """``waiting`` reminders due in the next days and ``due`` spread evenly over ``window``
    seconds from shortly after loading; returns when the first of those comes due."""
    rng = random.Random(7)
    now = runtime.clock.now()
    with runtime.services() as services:
        triggers = [
            (t, c) for t, c in services.session.execute(select(Trigger.id, Trigger.customer_id))
        ]
    later = (now + timedelta(days=1, seconds=rng.uniform(0, 30 * 86400)) for _ in iter(int, 1))
    for first in range(0, waiting, CHUNK):
        count = min(CHUNK, waiting - first)
        with runtime.services() as services:
            rows = reminder_rows(tenant_id, triggers, later, count, first, now)
            services.session.execute(insert(Notification), rows)
    start = datetime.now(UTC) + timedelta(seconds=LEAD_SECONDS)
    step = window / max(due - 1, 1)
    soon = (start + timedelta(seconds=i * step) for i in range(due))
    with runtime.services() as services:
        rows = reminder_rows(tenant_id, triggers, soon, due, waiting, now)
        services.session.execute(insert(Notification), rows)
    return start


def rss_mb(pid: int) -> float:
    """Resident memory of a process in MiB (0 once it is gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def fired(runtime: Runtime, since: datetime) -> list[float]:
    """Seconds from due to the first send attempt, for each reminder due from ``since``."""
    first_attempt = (
        select(DeliveryAttempt.notification_id, func.min(DeliveryAttempt.started_at).label("at"))
        .group_by(DeliveryAttempt.notification_id)
        .subquery()
    )
    query = select(Notification.due_at, first_attempt.c.at).join(
        first_attempt, first_attempt.c.notification_id == Notification.id
    )
    with runtime.services() as services:
        rows = services.session.execute(query.where(Notification.due_at >= since)).all()
    return sorted(max(0.0, (at - due).total_seconds()) for due, at in rows)


def percentile(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reminders", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=3000, help="how many come due during the run")
    parser.add_argument("--window", type=float, default=30.0, help="seconds they come due over")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="nudge-bench-") as tmp:
        directory = Path(tmp)
        url = fresh_sqlite(directory)
        settings = Settings(
            _env_file=None,
            database_url=url,
            admin_key=SecretStr(ADMIN_KEY),
            outbox_dir=directory / "outbox",
        )
        tenant_id = load_notifications(settings, 0)
        runtime = Runtime.from_settings(settings)
        began = time.perf_counter()
        start = schedule(runtime, tenant_id, args.reminders - args.due, args.due, args.window)
        loaded = time.perf_counter() - began
        env = {
            **os.environ,
            "NUDGE_DATABASE_URL": url,
            "NUDGE_OUTBOX_DIR": str(directory / "outbox"),
            "NUDGE_LOG_LEVEL": "WARNING",
        }
        worker = subprocess.Popen(
            [sys.executable, "-m", "engine.processes.cli", "worker"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        peak = 0.0
        deadline = time.monotonic() + LEAD_SECONDS + args.window + 60
        try:
            while time.monotonic() < deadline:
                peak = max(peak, rss_mb(worker.pid))
                if datetime.now(UTC) > start + timedelta(seconds=args.window) and (
                    len(fired(runtime, start)) >= args.due
                ):
                    break
                time.sleep(0.5)
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=30)
        late = fired(runtime, start)
        runtime.db.dispose()
    emit(
        "scheduled_reminders",
        reminders=args.reminders,
        due_during_run=args.due,
        fired=len(late),
        load_seconds=round(loaded, 1),
        lateness_p50_ms=round(percentile(late, 0.5) * 1000, 1),
        lateness_p99_ms=round(percentile(late, 0.99) * 1000, 1),
        lateness_max_ms=round(late[-1] * 1000, 1) if late else None,
        worker_peak_rss_mb=round(peak, 1),
        target_lateness_p99_ms=1000,
        target_rss_mb=1024,
    )


if __name__ == "__main__":
    main()
