"""Kill a worker mid-dispatch and start another: every message arrives; the only duplicates
are sends in flight at the kill (at most the send concurrency), under the same Message-ID.
A graceful stop (SIGTERM) mid-dispatch produces no duplicate at all."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.models import Notification, NotificationStatus
from engine.platform.config import Settings
from engine.processes.runtime import Runtime
from tests.conftest import make_settings
from tests.fixtures.smtp_server import SmtpServer
from tests.fixtures.workload import load_notifications

MESSAGES = 1000
CONCURRENCY = 8
REPO = Path(__file__).resolve().parents[3]


@contextmanager
def worker(settings: Settings, smtp_url: str, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``nudge worker`` in a subprocess; what it logs goes to ``log`` (a pipe nobody reads
    would stall it once full)."""
    env = {
        **os.environ,
        "NUDGE_DATABASE_URL": settings.database_url,
        "NUDGE_SMTP_URL": smtp_url,
        "NUDGE_LEASE_SECONDS": "3",
        "NUDGE_DISPATCH_CONCURRENCY": str(CONCURRENCY),
        "NUDGE_DISPATCH_BATCH_SIZE": "50",
        "NUDGE_SWEEP_INTERVAL_SECONDS": "0.5",
        "NUDGE_LOG_LEVEL": "WARNING",
        "NUDGE_PUBLIC_BASE_URL": "https://nudge.test",
        "NUDGE_SECRET_KEY": "crash-test",
    }
    with log.open("ab") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "engine.processes.cli", "worker"],
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)


def wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds} s waiting for {what}")
        time.sleep(0.05)


def unsent(settings: Settings) -> int:
    runtime = Runtime.from_settings(settings)
    with runtime.services() as services:
        query = (
            select(func.count())
            .select_from(Notification)
            .where(Notification.status != NotificationStatus.sent)
        )
        count = int(services.session.execute(query).scalar() or 0)
    runtime.db.dispose()
    return count


def message_ids(smtp: SmtpServer) -> Counter[str]:
    return Counter(str(r.parsed()["Message-ID"]) for r in smtp.handler.received)


def expected_ids(settings: Settings) -> set[str]:
    runtime = Runtime.from_settings(settings)
    with runtime.services() as services:
        ids = {
            f"<nudge.{i}@stadtwerke.example>"
            for i in services.session.execute(select(Notification.id)).scalars()
        }
    runtime.db.dispose()
    return ids


@pytest.mark.parametrize("stop", ["SIGKILL", "SIGTERM"])
def test_worker_stopped_mid_dispatch_loses_nothing(
    db_url: str, tmp_path: Path, smtp_server: SmtpServer, stop: str
) -> None:
    settings = make_settings(db_url, tmp_path)
    load_notifications(settings, MESSAGES)
    with worker(settings, smtp_server.url, tmp_path / "worker.log") as first:
        wait_for(lambda: len(smtp_server.handler.received) >= 200, 60, "the first sends")
        first.send_signal(getattr(signal, stop))
        first.wait(timeout=30)
    assert len(smtp_server.handler.received) < MESSAGES, "stopped too late to prove anything"
    with worker(settings, smtp_server.url, tmp_path / "worker.log"):
        wait_for(lambda: unsent(settings) == 0, 120, "every notification to be sent")

    received = message_ids(smtp_server)
    assert set(received) == expected_ids(settings)
    duplicates = sum(count - 1 for count in received.values())
    if stop == "SIGTERM":
        assert duplicates == 0
    else:
        assert duplicates <= CONCURRENCY
