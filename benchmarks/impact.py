"""Impact of a draft before publishing (SPEC §7): 100,000 customers, each with one daily
threshold trigger and 30 days of stored daily aggregates, on SQLite; the draft replayed over
the last 30 days by the same service the console's job runs. ``impact_seconds`` is the
common condition shape (compared in Python); ``impact_cel_seconds`` a condition CEL
evaluates window by window."""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert

from benchmarks.common import emit, fresh_sqlite
from engine.catalog.compiled import CompiledRule, check_definition, compile_checked
from engine.console.impact import ImpactService
from engine.console.repository import ImpactRepository
from engine.models import Customer, Trigger
from engine.platform.config import Settings
from engine.platform.ids import new_id
from engine.processes.demo.rules import DAILY_ENERGY
from engine.processes.runtime import Runtime
from engine.processes.tuning import tune_garbage_collector
from engine.tenants.schemas import TenantCreate

DAYS = 30
CHUNK = 10_000


def _setup(runtime: Runtime, path: Path, customers: int, now: datetime) -> str:
    """A tenant with the daily rule published, its customers and triggers, and their
    aggregates; the tenant's id."""
    with runtime.services() as services:
        tenant = services.tenants.create_tenant(
            TenantCreate(name="Bench", default_timezone="UTC", default_locale="en")
        )
        services.catalog.create(tenant.id, DAILY_ENERGY)
        rule = services.catalog.publish(tenant.id, DAILY_ENERGY["key"])
        version_id = services.catalog.version(rule, 1).id  # type: ignore[union-attr]
        tenant_id = tenant.id
    ids = [new_id("cus") for _ in range(customers)]
    with runtime.services() as services:
        for start in range(0, customers, CHUNK):
            chunk = ids[start : start + CHUNK]
            services.session.execute(
                insert(Customer), [_customer(c, tenant_id, now) for c in chunk]
            )
            services.session.execute(
                insert(Trigger), [_trigger(c, tenant_id, version_id, now) for c in chunk]
            )
    _aggregates(path, ids, now)
    return tenant_id


def _customer(customer_id: str, tenant_id: str, now: datetime) -> dict[str, object]:
    return {
        "id": customer_id,
        "tenant_id": tenant_id,
        "external_id": customer_id,
        "locale": "en",
        "timezone": "UTC",
        "attributes": {},
        "created_at": now,
        "updated_at": now,
    }


def _trigger(customer_id: str, tenant_id: str, version_id: str, now: datetime) -> dict[str, object]:
    return {
        "id": new_id("trg"),
        "tenant_id": tenant_id,
        "customer_id": customer_id,
        "rule_version_id": version_id,
        "rule_key": DAILY_ENERGY["key"],
        "kind": "threshold",
        "metric": DAILY_ENERGY["metric"],
        "params": {"limit_kwh": 12.0},
        "enabled": True,
        "created_at": now,
        "updated_at": now,
    }


def _aggregates(path: Path, ids: list[str], now: datetime) -> None:
    """30 complete UTC days per customer, written straight into the aggregates table."""
    today = int(now.replace(hour=0, minute=0, second=0, microsecond=0).timestamp())
    random.seed(7)
    sql = (
        'INSERT INTO window_aggregates (customer_id, metric, "window", start, "end", sum, count, '
        "min, max, last_start, last_value, covered_until, unit) "
        "VALUES (?, ?, 'day', ?, ?, ?, 24, ?, ?, ?, ?, ?, 'kWh')"
    )
    metric = DAILY_ENERGY["metric"]
    with sqlite3.connect(path) as db:
        for start in range(0, len(ids), CHUNK):
            rows = []
            for customer in ids[start : start + CHUNK]:
                for day in range(1, DAYS + 1):
                    begin = today - day * 86400
                    total = random.uniform(4.0, 16.0)
                    low, high = total / 48, total / 12
                    rows.append(
                        (
                            customer,
                            metric,
                            begin,
                            begin + 86400,
                            total,
                            low,
                            high,
                            begin + 82800,
                            low,
                            begin + 86400,
                        )
                    )
            db.executemany(sql, rows)
        db.commit()


def _draft(condition: str) -> CompiledRule:
    definition = check_definition({**DAILY_ENERGY, "condition": condition})
    condition_ = compile_checked(definition, ("rule",))
    return CompiledRule("draft", 0, definition, condition_)


def _timed(
    runtime: Runtime, tenant_id: str, rule: CompiledRule, now: datetime
) -> tuple[float, float, int, int]:
    started, started_cpu = time.perf_counter(), time.process_time()
    with runtime.services() as services:
        impact = ImpactService(ImpactRepository(services.session)).run(tenant_id, rule, DAYS, now)
    wall, cpu = time.perf_counter() - started, time.process_time() - started_cpu
    return wall, cpu, impact.draft, impact.customers


def run(customers: int) -> None:
    with tempfile.TemporaryDirectory() as directory:
        url = fresh_sqlite(Path(directory))
        settings = Settings(_env_file=None, database_url=url)
        tune_garbage_collector(settings)
        runtime = Runtime.from_settings(settings)
        now = datetime.now(UTC)
        set_up = time.perf_counter()
        tenant_id = _setup(runtime, Path(directory) / "bench.db", customers, now)
        setup_s = time.perf_counter() - set_up
        simple_s, simple_cpu, notifications, reached = _timed(
            runtime, tenant_id, _draft("window.sum > params.limit_kwh"), now
        )
        cel_s, cel_cpu, cel_notifications, _ = _timed(
            runtime, tenant_id, _draft("window.sum > params.limit_kwh * 1.0"), now
        )
        runtime.db.dispose()
    assert notifications == cel_notifications, (notifications, cel_notifications)
    emit(
        "impact",
        customers=customers,
        days=DAYS,
        windows=customers * DAYS,
        notifications=notifications,
        customers_reached=reached,
        impact_seconds=round(simple_s, 2),
        impact_cel_seconds=round(cel_s, 2),
        impact_cpu_seconds=round(simple_cpu, 2),
        impact_cel_cpu_seconds=round(cel_cpu, 2),
        load_average=round(os.getloadavg()[0], 1),
        target_seconds=30,
        setup_seconds=round(setup_s, 1),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=100_000)
    args, _ = parser.parse_known_args()
    run(args.customers)


if __name__ == "__main__":
    main()
