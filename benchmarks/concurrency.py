"""Scale-out ingest on PostgreSQL (SPEC §6, §7): readings per second through one and through
two ``nudge api`` processes over one database, every customer with a daily-threshold trigger
(no window reaches its limit); then the same through two processes with every fifth
customer's limit below any reading (``readings_per_s_pg2_crossing``), each process sent
alternate hours so that both work on the same windows at once, and the decisions counted
from the database: one notification (and one decision in the history) per crossing
customer's day, ``duplicate_decisions`` beyond that, ``missing_decisions`` short of it;
then the corrections race: a day of 24 × 0.5 kWh, two corrections of different hours sent to
the two processes at the same instant, and how many day totals lost one of them
(``lost_updates``) and how many notifications that cost or added. PostgreSQL runs as a
throwaway cluster on a free loopback port."""

from __future__ import annotations

import argparse
import math
import os
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import create_engine, text

from benchmarks.common import emit, server
from benchmarks.ingest import populate
from tests.fixtures.database import postgres_database, postgres_template
from tests.fixtures.postgres import find_bin_dir, running_cluster

METRIC = "electricity.consumption"
BERLIN = ZoneInfo("Europe/Berlin")
SHARED = {"NUDGE_SECRET_KEY": "bench-secret", "NUDGE_PUBLIC_BASE_URL": "http://127.0.0.1:1"}


def day_start(days_ago: int) -> datetime:
    local = datetime.now(BERLIN).date() - timedelta(days=days_ago)
    return datetime(local.year, local.month, local.day, tzinfo=BERLIN).astimezone(UTC)


def reading(customer: int, start: datetime, value: float) -> dict[str, Any]:
    return {
        "customer": f"m{customer}",
        "metric": METRIC,
        "start": start.isoformat(),
        "duration": 3600,
        "value": value,
        "unit": "kWh",
    }


def bodies(customers: int, hours: int, batch: int) -> list[bytes]:
    """Hourly readings of every customer over the last ``hours`` hours of a past day, as
    JSON bodies of ``batch`` readings."""
    first = day_start(3) + timedelta(hours=24 - hours)
    rows = [
        reading(c, first + timedelta(hours=h), 0.5 + (c % 7) * 0.25)
        for h in range(hours)
        for c in range(customers)
    ]
    return [
        httpx.Request("POST", "/", json=rows[i : i + batch]).read()
        for i in range(0, len(rows), batch)
    ]


def post_all(
    bases: Sequence[str], key: str, payloads: list[bytes], senders: int, per_hour: int = 1
) -> int:
    """POST every body, ``senders`` at a time per process; readings accepted. Bodies go to
    the processes in turn, ``per_hour`` at a time (one hour's bodies: alternate hours)."""
    headers = {"Authorization": f"Bearer {key}", "content-type": "application/json"}
    queues: list[list[bytes]] = [[] for _ in bases]
    for i, body in enumerate(payloads):
        queues[(i // per_hour) % len(bases)].append(body)

    def send(base: str, mine: list[bytes]) -> int:
        accepted = 0
        with httpx.Client(base_url=base, timeout=300) as client:
            for body in mine:
                response = client.post("/v1/feeds/readings", content=body, headers=headers)
                response.raise_for_status()
                accepted += response.json()["accepted"]
        return accepted

    work = [
        (base, queue[j::senders])
        for base, queue in zip(bases, queues, strict=True)
        for j in range(senders)
    ]
    with ThreadPoolExecutor(max_workers=len(work)) as pool:
        return sum(pool.map(lambda w: send(*w), work))


def ingest_rate(
    cluster: Any,
    processes: int,
    customers: int,
    hours: int,
    batch: int,
    senders: int,
    scenario: str = "quiet",
) -> tuple[float, dict[str, int]]:
    """Readings per second, and the decisions stored (`decisions_audit`)."""
    per_hour = math.ceil(customers / batch) if scenario == "crossing" else 1
    for url in postgres_database(cluster):
        _, key = populate(url, customers, scenario)
        payloads = bodies(customers, hours, batch)
        with ExitStack() as stack:
            bases = [stack.enter_context(server(url, extra_env=SHARED)) for _ in range(processes)]
            began = time.perf_counter()
            accepted = post_all(bases, key, payloads, senders, per_hour)
            elapsed = time.perf_counter() - began
        assert accepted == customers * hours, (accepted, customers * hours)
        expected = len(range(0, customers, 5)) if scenario == "crossing" else 0
        audit = decisions_audit(url, expected)
    return customers * hours / elapsed, audit


def decisions_audit(url: str, expected: int) -> dict[str, int]:
    """Decisions as stored: notifications, and ``duplicate_decisions``: notifications beyond
    one per trigger and window plus decision entries in the history beyond one per
    notification; ``missing_decisions``: windows that should have notified and did not (all
    the benchmark's readings of a customer fall in one local day)."""
    engine = create_engine(url)
    with engine.connect() as conn:
        notifications, windows = conn.execute(
            text("SELECT count(*), count(DISTINCT (trigger_id, occurrence)) FROM notifications")
        ).one()
        entries, noted = conn.execute(
            text(
                "SELECT count(*), count(DISTINCT notification_id) FROM history_entries "
                "WHERE kind = 'decision'"
            )
        ).one()
    engine.dispose()
    return {
        "decisions": notifications,
        "expected_decisions": expected,
        "duplicate_decisions": (notifications - windows) + (entries - noted),
        "missing_decisions": max(expected - windows, 0) + (notifications - noted),
    }


def at_once(
    clients: Sequence[httpx.Client], calls: list[Callable[[httpx.Client], int]]
) -> list[int]:
    barrier = threading.Barrier(len(calls))

    def run(i: int) -> int:
        barrier.wait(timeout=30)
        return calls[i](clients[i % len(clients)])

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, range(len(calls))))


def corrections_race(cluster: Any, trials: int) -> dict[str, int]:
    """``trials`` customers (limit 20 kWh), each with 24 × 0.5 kWh on one day; then for each,
    two corrections to 5.5 kWh of different hours, one per process, at the same instant.
    Both must count (22 kWh), and each day must notify exactly once."""
    day = day_start(2)
    for url in postgres_database(cluster):
        _, key = populate(url, trials)
        headers = {"Authorization": f"Bearer {key}"}
        with ExitStack() as stack:
            bases = [stack.enter_context(server(url, extra_env=SHARED)) for _ in range(2)]
            clients = [stack.enter_context(httpx.Client(base_url=b, timeout=120)) for b in bases]
            rows = [
                reading(c, day + timedelta(hours=h), 0.5) for c in range(trials) for h in range(24)
            ]
            clients[0].post("/v1/feeds/readings", json=rows, headers=headers).raise_for_status()
            errors = 0
            for c in range(trials):
                calls = [
                    _correction(c, day + timedelta(hours=h), headers)
                    for h in (c % 24, (c + 7) % 24)
                ]
                errors += sum(status != 200 for status in at_once(clients, calls))
        lost, missing, extra = _audit(url)
    return {"http_errors": errors, "lost_updates": lost, "missing": missing, "extra": extra}


def _correction(
    customer: int, start: datetime, headers: dict[str, str]
) -> Callable[[httpx.Client], int]:
    body = [reading(customer, start, 5.5)]
    return lambda client: client.post("/v1/feeds/readings", json=body, headers=headers).status_code


def _audit(url: str) -> tuple[int, int, int]:
    """Day aggregates that disagree with their readings; days above 20 kWh without exactly
    one notification (missing) and notifications beyond one per such day (extra)."""
    engine = create_engine(url)
    with engine.connect() as conn:
        aggregates = conn.execute(
            text(
                "SELECT a.customer_id, a.sum, a.count, "
                "(SELECT coalesce(sum(r.value), 0) FROM readings r WHERE r.customer_id = "
                'a.customer_id AND r.start >= a.start AND r.start < a."end"), '
                "(SELECT count(*) FROM readings r WHERE r.customer_id = a.customer_id "
                'AND r.start >= a.start AND r.start < a."end"), '
                "(SELECT count(*) FROM notifications n WHERE n.customer_id = a.customer_id) "
                "FROM window_aggregates a WHERE a.\"window\" = 'day'"
            )
        ).all()
    engine.dispose()
    lost = missing = extra = 0
    for _, total, count, readings_sum, readings_count, notified in aggregates:
        if not math.isclose(total, readings_sum, abs_tol=1e-9) or count != readings_count:
            lost += 1
        expected = 1 if readings_sum > 20 else 0
        missing += max(expected - notified, 0)
        extra += max(notified - expected, 0)
    return lost, missing, extra


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--hours", type=int, default=6)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--senders", type=int, default=2, help="concurrent clients per process")
    parser.add_argument("--trials", type=int, default=200)
    args = parser.parse_args()
    bin_dir = find_bin_dir()
    if bin_dir is None:
        emit("postgres_ingest", skipped="PostgreSQL server binaries (initdb, pg_ctl) not found")
        return
    with running_cluster(bin_dir) as cluster:
        postgres_template(cluster)
        sizes = (args.customers, args.hours, args.batch, args.senders)
        rates = {n: ingest_rate(cluster, n, *sizes) for n in (1, 2)}
        crossing = ingest_rate(cluster, 2, *sizes, scenario="crossing")
        race = corrections_race(cluster, args.trials)
    emit(
        "postgres_ingest",
        customers=args.customers,
        readings=args.customers * args.hours,
        batch=args.batch,
        senders_per_process=args.senders,
        readings_per_s_pg1=round(rates[1][0]),
        readings_per_s_pg2=round(rates[2][0]),
        speedup=round(rates[2][0] / rates[1][0], 2),
        duplicate_decisions_pg2=rates[2][1]["duplicate_decisions"],
        readings_per_s_pg2_crossing=round(crossing[0]),
        **{f"{name}_pg2_crossing": count for name, count in crossing[1].items()},
        cores=os.cpu_count(),
        loadavg=Path("/proc/loadavg").read_text().split()[:3],
    )
    emit("corrections_race", trials=args.trials, **race, target_lost_updates=0)


if __name__ == "__main__":
    main()
