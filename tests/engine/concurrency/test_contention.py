"""A request that PostgreSQL aborts for a deadlock is run again from the start; past the
retry budget the client gets 503 with Retry-After and nothing of its batch is stored."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.engine import make_url

from api.app import create_app
from engine.errors import Busy
from engine.platform.config import Settings
from engine.processes.runtime import Runtime
from engine.tenants.schemas import TenantCreate
from tests.engine.concurrency.support import (
    aggregate_drift,
    deploy,
    hour_of,
    local_day,
    ok,
    reading,
)
from tests.fixtures.api import ADMIN_KEY

pytestmark = pytest.mark.postgres


def _client(url: str, tmp_path: Path, attempts: int) -> Iterator[TestClient]:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=url,
        admin_key=SecretStr(ADMIN_KEY),
        secret_key=SecretStr("test-secret-key"),
        outbox_dir=tmp_path / "outbox",
        db_retry_attempts=attempts,
    )
    runtime = Runtime.from_settings(settings)
    with TestClient(create_app(runtime)) as client:
        yield client
    runtime.db.dispose()


@pytest.fixture(params=[4, 1], ids=["retried", "budget-1"])
def client(request: pytest.FixtureRequest, pg_url: str, tmp_path: Path) -> Iterator[TestClient]:
    request.node.attempts = request.param
    yield from _client(pg_url, tmp_path, request.param)


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _lock_row(conn: psycopg.Connection[Any], customer: str, start: int, how: str) -> None:
    sql = (
        "SELECT 1 FROM window_aggregates WHERE customer_id = %s AND start = %s FOR UPDATE"
        if how == "select"
        else "UPDATE window_aggregates SET count = count WHERE customer_id = %s AND start = %s"
    )
    conn.execute(sql, (customer, start))


def _wait_for_lock_wait(conn: psycopg.Connection[Any], deadline: float = 30) -> None:
    """Until another backend waits for a row lock (the request holds the first window)."""
    until = time.monotonic() + deadline
    while time.monotonic() < until:
        waiting = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND pid <> pg_backend_pid()"
        ).fetchone()
        if waiting and waiting[0]:
            return
        time.sleep(0.02)
    raise AssertionError("the request never waited for the locked window")


def test_a_deadlocked_batch_is_retried_or_refused_whole(
    request: pytest.FixtureRequest, client: TestClient, pg_url: str
) -> None:
    attempts = request.node.attempts
    http = client
    deployment = deploy(http, 1, limit_kwh=100)
    ref, customer = deployment.customers[0]["external_id"], deployment.customers[0]["id"]
    first, second = local_day(3), local_day(2)
    rows = [reading(ref, hour_of(first, 0), 1.0), reading(ref, hour_of(second, 0), 1.0)]
    ok(http.post("/v1/feeds/readings", json=rows, headers=deployment.feed))
    later = [reading(ref, hour_of(first, 1), 2.0), reading(ref, hour_of(second, 1), 2.0)]

    answer: dict[str, httpx.Response] = {}
    with psycopg.connect(_dsn(pg_url)) as other, psycopg.connect(_dsn(pg_url)) as watcher:
        watcher.autocommit = True
        other.execute("SET deadlock_timeout = '30s'")  # the request is always the victim
        _lock_row(other, customer, int(second.timestamp()), "select")
        sender = threading.Thread(
            target=lambda: answer.setdefault(
                "r", http.post("/v1/feeds/readings", json=later, headers=deployment.feed)
            )
        )
        sender.start()
        _wait_for_lock_wait(watcher)
        # Now each waits for the other: PostgreSQL aborts the request's transaction.
        _lock_row(other, customer, int(first.timestamp()), "update")
        other.rollback()
        sender.join(timeout=60)
    response = answer["r"]

    stored = _readings(pg_url, customer)
    if attempts > 1:
        assert ok(response)["accepted"] == 2
        assert sorted(stored) == [1.0, 1.0, 2.0, 2.0]
    else:
        assert response.status_code == 503, response.text
        assert response.headers["retry-after"] == "1"
        problem = response.json()
        assert problem["type"].endswith("/busy") and problem["retry_after"] == 1
        assert sorted(stored) == [1.0, 1.0]  # the batch is wholly rolled back
        again = http.post("/v1/feeds/readings", json=later, headers=deployment.feed)
        assert ok(again)["accepted"] == 2
    assert aggregate_drift(pg_url) == []


def _readings(url: str, customer: str) -> list[float]:
    with psycopg.connect(_dsn(url)) as conn:
        rows = conn.execute(
            "SELECT value FROM readings WHERE customer_id = %s", (customer,)
        ).fetchall()
    return [float(v) for (v,) in rows]


def _tenants(runtime: Runtime, count: int) -> list[str]:
    def create(services: Any) -> list[str]:
        made = [services.tenants.create_tenant(TenantCreate(name=f"T{i}")) for i in range(count)]
        return [t.id for t in made]

    return runtime.run(create)


@pytest.mark.parametrize("attempts", [4, 1])
def test_job_runners_get_the_same_retry(pg_url: str, tmp_path: Path, attempts: int) -> None:
    """Two units of work lock two rows in opposite orders: PostgreSQL aborts one. With a
    retry budget it runs again and both finish; without one the loser raises `Busy`."""
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, database_url=pg_url, db_retry_attempts=attempts
    )
    runtime = Runtime.from_settings(settings)
    first, second = _tenants(runtime, 2)
    barrier = threading.Barrier(2)
    runs: list[str] = []

    def locker(order: tuple[str, str]) -> Any:
        def work(services: Any) -> str:
            runs.append(order[0])
            lock = "SELECT id FROM tenants WHERE id = :id FOR UPDATE"
            services.session.execute(text(lock), {"id": order[0]})
            if runs.count(order[0]) == 1:
                barrier.wait(timeout=30)
            services.session.execute(text(lock), {"id": order[1]})
            return order[0]

        return lambda: runtime.run(work)

    outcomes: list[object] = []

    def attempt(call: Any) -> None:
        try:
            outcomes.append(call())
        except Busy as exc:
            outcomes.append(exc)

    threads = [
        threading.Thread(target=attempt, args=(locker(order),))
        for order in ((first, second), (second, first))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    runtime.db.dispose()
    if attempts > 1:
        assert sorted(map(str, outcomes)) == sorted([first, second])
        assert len(runs) == 3  # the deadlock's victim ran twice
    else:
        busy = [o for o in outcomes if isinstance(o, Busy)]
        assert len(busy) == 1 and len(outcomes) == 2
        assert busy[0].status == 503 and busy[0].retry_after == 1
