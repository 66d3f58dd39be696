"""On SQLite, who is asking is read apart from the request's work, holding no write lock: a
feed batch parses its body with the lock free for others. A PATCH, PUT or DELETE begun while
another writer of the process holds the lock waits its turn at the writer gate and runs once,
instead of reading on a snapshot that writer's commit makes stale and being run again."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import text

import api.routers.feeds
from engine.customers.service import CustomerService
from engine.platform.db import bulk_writes, unit_of_work
from tests.api.conftest import FrozenApi
from tests.engine.evaluation.test_evaluation_outside_write_lock import _can_write
from tests.fixtures.workload import unknown_customer_readings

WAIT = 10.0  # seconds: a bound on every wait below, far above what each takes


@pytest.fixture
def on_sqlite(frozen: FrozenApi) -> FrozenApi:
    if not frozen.runtime.settings.database_url.startswith("sqlite"):
        pytest.skip("SQLite's one write lock: PostgreSQL locks rows")
    return frozen


def test_a_feed_batch_parses_its_body_under_no_write_lock(
    on_sqlite: FrozenApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = on_sqlite.api.tenant()
    real = api.routers.feeds.parse_readings
    writable: list[bool] = []

    def watched(*args: Any, **kwargs: Any) -> Any:
        writable.append(_can_write(on_sqlite.runtime, tenant.id))
        return real(*args, **kwargs)

    monkeypatch.setattr(api.routers.feeds, "parse_readings", watched)
    rows = unknown_customer_readings(300)  # a bulk batch: over 16 KiB

    answer = on_sqlite.api.ok("POST", "/v1/feeds/readings", tenant.feed, json=rows)

    assert writable == [True]  # key and tenant checked, yet the lock free while parsing
    assert answer["rejected"] == 300


def test_a_patch_behind_another_writer_waits_in_line_and_runs_once(
    on_sqlite: FrozenApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = on_sqlite.api.tenant()
    customer = on_sqlite.api.customer(tenant, name="Ada")
    path = f"/v1/customers/{customer['id']}"
    runs: list[int] = []
    real = CustomerService.update

    def counted(self: CustomerService, *args: Any, **kwargs: Any) -> Any:
        runs.append(1)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(CustomerService, "update", counted)
    holding, release = threading.Event(), threading.Event()

    def feed_writes() -> None:  # a feed's write transaction, in this process, then committed
        with bulk_writes(), unit_of_work(on_sqlite.runtime.db) as session:
            session.execute(
                text("UPDATE tenants SET name = name WHERE id = :id"), {"id": tenant.id}
            )
            holding.set()
            release.wait(WAIT)

    answers: list[int] = []
    patch = threading.Thread(
        target=lambda: answers.append(
            on_sqlite.api.client.patch(
                path, headers=tenant.ops, json={"name": "Ada Lovelace"}
            ).status_code
        )
    )
    feed = threading.Thread(target=feed_writes)
    feed.start()
    try:
        assert holding.wait(WAIT)
        patch.start()
        patch.join(0.5)
        waited = patch.is_alive() and not runs  # in line, nothing of it run yet
    finally:
        release.set()
        feed.join(WAIT)
        if patch.is_alive() or patch.ident is not None:
            patch.join(WAIT)

    assert waited
    assert answers == [200]
    assert runs == [1]  # not refused and run again
    assert on_sqlite.api.ok("GET", path, tenant.ops)["name"] == "Ada Lovelace"
