"""Dispatch with several workers on PostgreSQL (SPEC §7): the same emails sent by one
``nudge worker`` process, then by two sharing the work through ``FOR UPDATE SKIP LOCKED``;
the throughput of each and how many messages the mail server got twice. Then the scaled-out
layout's latency: a reading POSTed to ``nudge api`` until the email from a separate
``nudge worker`` reaches the mail server. PostgreSQL runs as a throwaway cluster on a free
loopback port, the mail server (aiosmtpd) in its own process or thread."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection
from pathlib import Path

import httpx
from pydantic import SecretStr
from sqlalchemy import func, select

from benchmarks.common import ADMIN_KEY, emit, server
from benchmarks.delivery import (
    FROM,
    child,
    latency_customers,
    one_latency,
    percentile,
    smtp_env,
    unsent,
)
from engine.models import DeliveryAttempt, Notification
from engine.platform.config import Settings
from engine.processes.runtime import Runtime
from tests.fixtures.database import postgres_database, postgres_template
from tests.fixtures.postgres import find_bin_dir, running_cluster
from tests.fixtures.smtp_server import SmtpServer
from tests.fixtures.workload import load_notifications


def _serve_smtp(pipe: Connection) -> None:
    with SmtpServer() as smtp:
        pipe.send(smtp.url)
        pipe.recv()
        ids = [item.parsed()["Message-ID"] for item in smtp.handler.received]
        pipe.send((len(ids), sum(n - 1 for n in Counter(ids).values())))


@contextmanager
def workers(count: int, env: dict[str, str]) -> Iterator[None]:
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "engine.processes.cli", "worker"],
            env={**os.environ, **env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(count)
    ]
    try:
        yield
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(timeout=60)


def cpu_times() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine so far (Linux)."""
    fields = [int(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def sending_seconds(runtime: Runtime) -> float:
    """From the first send attempt to the last message recorded as sent (process start-up
    and shut-down are not counted)."""
    with runtime.services() as services:
        first = services.session.execute(select(func.min(DeliveryAttempt.started_at))).scalar()
        last = services.session.execute(select(func.max(Notification.sent_at))).scalar()
    assert first is not None and last is not None
    return (last - first).total_seconds()


def run(database_url: str, emails: int, processes: int) -> tuple[float, int, int, float]:
    """Emails per second with ``processes`` workers; messages received, duplicates, and how
    busy the machine's cores were meanwhile (0–1)."""
    with child(_serve_smtp) as (smtp_url, pipe):
        settings = Settings(
            _env_file=None,
            database_url=database_url,
            smtp_url=SecretStr(smtp_url),
            smtp_from=FROM,
            admin_key=SecretStr(ADMIN_KEY),
            public_base_url="https://nudge.example",
        )
        load_notifications(settings, emails, "email")
        runtime = Runtime.from_settings(settings)
        env = {
            **smtp_env(smtp_url),
            "NUDGE_DATABASE_URL": database_url,
            "NUDGE_LOG_LEVEL": "WARNING",
        }
        deadline = time.monotonic() + 300
        busy_before, total_before = cpu_times()
        with workers(processes, env):
            while unsent(runtime) and time.monotonic() < deadline:
                time.sleep(0.2)
        busy_after, total_after = cpu_times()
        seconds = sending_seconds(runtime)
        runtime.db.dispose()
        pipe.send("stop")
        received, duplicates = pipe.recv()
    busy = (busy_after - busy_before) / max(total_after - total_before, 1)
    return emails / seconds, received, duplicates, busy


def scale_out_latencies(database_url: str, samples: int) -> list[float]:
    """Seconds from POSTing a reading that crosses a threshold to ``nudge api`` until the
    mail server accepts the email a separate ``nudge worker`` sends."""
    with SmtpServer() as smtp:
        env = smtp_env(smtp.url)
        with (
            server(database_url, command="api", extra_env=env) as base,
            workers(1, {**env, "NUDGE_DATABASE_URL": database_url, "NUDGE_LOG_LEVEL": "WARNING"}),
            httpx.Client(base_url=base, timeout=30) as client,
        ):
            feed = latency_customers(client, samples)
            return [one_latency(client, smtp, feed, n) for n in range(samples)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--emails", type=int, default=4000)
    parser.add_argument("--latency-samples", type=int, default=100)
    args = parser.parse_args()
    bin_dir = find_bin_dir()
    if bin_dir is None:
        emit("postgres_workers", skipped="PostgreSQL server binaries (initdb, pg_ctl) not found")
        return
    with running_cluster(bin_dir) as cluster:
        postgres_template(cluster)
        results = {}
        for processes in (1, 2):
            for url in postgres_database(cluster):
                results[processes] = run(url, args.emails, processes)
        for url in postgres_database(cluster):
            samples = scale_out_latencies(url, args.latency_samples)
    (one, received_one, duplicates_one, busy_one), (two, received_two, duplicates_two, busy_two) = (
        results[1],
        results[2],
    )
    emit(
        "postgres_workers",
        emails=args.emails,
        one_worker_emails_per_s=round(one),
        two_workers_emails_per_s=round(two),
        speedup=round(two / one, 2),
        received=[received_one, received_two],
        duplicates=duplicates_one + duplicates_two,
        cores=os.cpu_count(),
        cpu_busy=[round(busy_one, 2), round(busy_two, 2)],
        target_speedup=1.7,
        target_duplicates=0,
    )
    emit(
        "postgres_api_to_worker_latency",
        samples=len(samples),
        latency_p50_ms=round(percentile(samples, 0.5) * 1000, 1),
        latency_p99_ms=round(percentile(samples, 0.99) * 1000, 1),
        sweep_interval_s=Settings(_env_file=None).sweep_interval_seconds,
    )


if __name__ == "__main__":
    main()
