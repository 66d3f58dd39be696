"""Ingest + evaluation through the real HTTP server on SQLite (SPEC §7): 100,000 customers,
each with one daily-threshold trigger, readings POSTed in batches of 5,000. For comparison,
the raw ``sqlite3.executemany`` rate of the same rows into an indexed table.

Scenarios (``--scenario``, each on a fresh database, all by default):
- ``quiet``: no window reaches its customer's limit (``readings_per_s``);
- ``crossing``: every fifth customer's limit is below their first reading, so in every batch
  20% of the windows are over their limit: they fire in the first hour's batches and are
  evaluated in full, as fired, in the later ones (``readings_per_s_crossing``);
- ``baseline``: a condition that reads ``baseline`` (seven earlier days), which no bulk
  decision recognises: every window runs its condition (``readings_per_s_baseline``);
- ``shuffled``: as ``quiet``, but each hour's readings come in random customer order (a feed
  sorted by the business's own meter numbers, say), so that a batch's customers are spread
  over the whole tenant (``readings_per_s_shuffled``).

Each scenario also reports the api process's resident memory once every customer's readings
went through it (all of them cached): ``api_rss_mb`` then, ``api_peak_rss_mb`` at most
(Linux ``VmRSS`` and ``VmHWM``), against ``target_rss_mb``.
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert

from benchmarks.common import emit, fresh_sqlite, server
from engine.catalog.compiled import check_definition
from engine.models import Customer, Role, Trigger
from engine.platform.clock import SystemClock
from engine.platform.config import Settings
from engine.platform.ids import new_id
from engine.processes.runtime import Runtime
from engine.tenants.schemas import KeyCreate, TenantCreate

RULE: dict[str, Any] = {
    "key": "energy.daily_above",
    "title": {"en": "Daily use above limit"},
    "topic": "energy",
    "kind": "threshold",
    "metric": "electricity.consumption",
    "window": "day",
    "aggregate": "sum",
    "condition": "window.sum > params.limit_kwh",
    "parameters": [{"name": "limit_kwh", "type": "double", "min": 0, "max": 1000}],
    "template_key": "energy.daily_above",
}
BASELINE_RULE: dict[str, Any] = {
    **RULE,
    "condition": "window.sum > baseline.sum * 1.5 + params.limit_kwh",
    "baseline_windows": 7,
}
START = datetime(2026, 3, 1, tzinfo=UTC)
SCENARIOS = ("quiet", "crossing", "baseline", "shuffled")
FIGURE = {
    "quiet": "readings_per_s",
    "crossing": "readings_per_s_crossing",
    "baseline": "readings_per_s_baseline",
    "shuffled": "readings_per_s_shuffled",
}
TARGET = {"quiet": 50_000, "crossing": 30_000}  # none set for the others: reported
TARGET_RSS_MB = 1024


def limit_of(scenario: str, customer: int) -> float:
    """Every fifth customer's limit is below any one reading in ``crossing``; else 20 kWh,
    above any day's total of the benchmark's readings."""
    return 0.1 if scenario == "crossing" and customer % 5 == 0 else 20.0


def populate(url: str, customers: int, scenario: str = "quiet") -> tuple[str, str]:
    """Tenant, feed key, published rule, customers and triggers, inserted in bulk."""
    rule = BASELINE_RULE if scenario == "baseline" else RULE
    runtime = Runtime.from_settings(Settings(database_url=url), SystemClock())
    with runtime.services() as services:
        tenant = services.tenants.create_tenant(
            TenantCreate(name="Bench", default_timezone="Europe/Berlin")
        )
        key = services.tenants.create_tenant_key(tenant.id, KeyCreate(role=Role.feed)).key
        check_definition(rule)
        services.catalog.create(tenant.id, rule)
        published = services.catalog.publish(tenant.id, RULE["key"])
        version = services.catalog.compiled(published, published.latest_version)
        now = runtime.clock.now()
        for first in range(0, customers, 10_000):
            ids = range(first, min(first + 10_000, customers))
            rows = [
                {
                    "id": f"cus_{i:026d}",
                    "tenant_id": tenant.id,
                    "external_id": f"m{i}",
                    "locale": "de-DE",
                    "timezone": "Europe/Berlin",
                    "attributes": {},
                    "created_at": now,
                    "updated_at": now,
                }
                for i in ids
            ]
            services.session.execute(insert(Customer), rows)
            services.session.execute(
                insert(Trigger),
                [
                    {
                        "id": new_id("trg"),
                        "tenant_id": tenant.id,
                        "customer_id": r["id"],
                        "rule_version_id": version.version_id,
                        "rule_key": RULE["key"],
                        "kind": "threshold",
                        "metric": "electricity.consumption",
                        "params": {"limit_kwh": limit_of(scenario, i)},
                        "enabled": True,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for i, r in zip(ids, rows, strict=True)
                ],
            )
    runtime.db.dispose()
    return tenant.id, key


def readings(customers: int, hours: int, shuffled: bool = False) -> list[dict[str, object]]:
    """Each customer's reading of each hour, hour by hour: in the order the customers were
    created (the order of their ids), or ``shuffled`` within each hour (the same order on
    every run)."""
    out: list[dict[str, object]] = []
    order = random.Random(7)
    for hour in range(hours):
        at = (START + timedelta(hours=hour)).isoformat()
        hourly = [
            {
                "customer": f"m{i}",
                "metric": "electricity.consumption",
                "start": at,
                "duration": 3600,
                "value": 0.5 + (i % 7) * 0.25,
                "unit": "kWh",
            }
            for i in range(customers)
        ]
        if shuffled:
            order.shuffle(hourly)
        out.extend(hourly)
    return out


def raw_rate(rows: list[dict[str, object]], directory: Path) -> float:
    db = sqlite3.connect(directory / "raw.db")
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(
        "CREATE TABLE r (customer TEXT, metric TEXT, start INTEGER, duration INTEGER, "
        "value REAL, unit TEXT)"
    )
    db.execute("CREATE UNIQUE INDEX ix_r ON r (customer, metric, start, duration)")
    tuples = [
        (
            r["customer"],
            r["metric"],
            int(datetime.fromisoformat(str(r["start"])).timestamp()),
            r["duration"],
            r["value"],
            r["unit"],
        )
        for r in rows
    ]
    began = time.perf_counter()
    with db:
        db.executemany("INSERT INTO r VALUES (?, ?, ?, ?, ?, ?)", tuples)
    elapsed = time.perf_counter() - began
    db.close()
    return len(tuples) / elapsed


def server_memory() -> dict[str, float]:
    """Resident and peak resident memory (MiB) of the ``nudge`` server this process started."""
    for pid in _children():
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        if b"engine.processes.cli" in command:
            fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
            kib = {name: int(fields[name].split()[0]) for name in ("VmRSS", "VmHWM")}
            return {
                "api_rss_mb": round(kib["VmRSS"] / 1024, 1),
                "api_peak_rss_mb": round(kib["VmHWM"] / 1024, 1),
            }
    return {}


def _children() -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        with_children = task / "children"
        if with_children.exists():
            found.extend(int(pid) for pid in with_children.read_text().split())
    return found


def run(scenario: str, customers: int, hours: int, batch: int) -> None:
    with tempfile.TemporaryDirectory(prefix="nudge-bench-") as tmp:
        directory = Path(tmp)
        url = fresh_sqlite(directory)
        _, key = populate(url, customers, scenario)
        rows = readings(customers, hours, shuffled=scenario == "shuffled")
        bodies = [
            httpx.Request("POST", "/", json=rows[i : i + batch]).read()
            for i in range(0, len(rows), batch)
        ]
        notified = 0
        with server(url) as base, httpx.Client(base_url=base, timeout=120) as client:
            headers = {"Authorization": f"Bearer {key}", "content-type": "application/json"}
            began = time.perf_counter()
            accepted = 0
            for body in bodies:
                response = client.post("/v1/feeds/readings", content=body, headers=headers)
                response.raise_for_status()
                answer = response.json()
                accepted += answer["accepted"]
                notified += answer["notifications"]
            elapsed = time.perf_counter() - began
            memory = server_memory()
        assert accepted == len(rows), (accepted, len(rows))
        raw = raw_rate(rows, directory)
    rate = len(rows) / elapsed
    emit(
        "ingest",
        scenario=scenario,
        customers=customers,
        readings=len(rows),
        batch=batch,
        notifications=notified,
        seconds=round(elapsed, 2),
        **{FIGURE[scenario]: round(rate)},
        raw_rows_per_s=round(raw),
        ratio=round(rate / raw, 3),
        target_readings_per_s=TARGET.get(scenario),
        **memory,
        target_rss_mb=TARGET_RSS_MB,
        loadavg=Path("/proc/loadavg").read_text().split()[:3],
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--hours", type=int, default=3)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--scenario", choices=[*SCENARIOS, "all"], default="all")
    args = parser.parse_args()
    chosen = SCENARIOS if args.scenario == "all" else (args.scenario,)
    for scenario in chosen:
        run(scenario, args.customers, args.hours, args.batch)


if __name__ == "__main__":
    main()
