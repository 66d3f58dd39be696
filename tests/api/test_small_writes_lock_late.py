"""On SQLite a small write takes the write lock at its first write, not its first read: its
authentication, checks and reads run on a snapshot while other writers go on. One whose
snapshot went stale meanwhile (another writer committed) is refused before anything is
stored and runs again as an ordinary writer: stored once, recorded once."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from engine.customers.service import CustomerService
from tests.api.conftest import FrozenApi
from tests.engine.evaluation.test_evaluation_outside_write_lock import _can_write


@pytest.fixture
def on_sqlite(frozen: FrozenApi) -> FrozenApi:
    if not frozen.runtime.settings.database_url.startswith("sqlite"):
        pytest.skip("SQLite's one write lock: PostgreSQL locks rows")
    return frozen


def _watch_updates(monkeypatch: pytest.MonkeyPatch, hook: Any) -> None:
    real = CustomerService.update

    def watched(self: CustomerService, *args: Any, **kwargs: Any) -> Any:
        hook()
        return real(self, *args, **kwargs)

    monkeypatch.setattr(CustomerService, "update", watched)


def _customer(frozen: FrozenApi) -> tuple[str, dict[str, str], str]:
    """A tenant's id, its ops key, and the path of one of its customers."""
    tenant = frozen.api.tenant()
    customer = frozen.api.customer(tenant, name="Ada", email="ada@example.com")
    return tenant.id, tenant.ops, f"/v1/customers/{customer['id']}"


def test_a_small_write_reads_and_checks_without_the_write_lock(
    on_sqlite: FrozenApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant_id, ops, path = _customer(on_sqlite)
    writable: list[bool] = []
    _watch_updates(monkeypatch, lambda: writable.append(_can_write(on_sqlite.runtime, tenant_id)))

    on_sqlite.api.ok("PATCH", path, ops, json={"name": "Ada Lovelace"})

    assert writable == [True]  # key checked, customer loaded, yet nobody else kept waiting
    assert on_sqlite.api.ok("GET", path, ops)["name"] == "Ada Lovelace"


def test_a_small_write_whose_snapshot_went_stale_runs_again_and_is_stored_once(
    on_sqlite: FrozenApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant_id, ops, path = _customer(on_sqlite)
    database = str(make_url(on_sqlite.runtime.settings.database_url).database)
    calls: list[int] = []

    def another_writer_commits() -> None:
        calls.append(1)
        if len(calls) == 1:
            db = sqlite3.connect(database, timeout=5, isolation_level=None)
            db.execute("UPDATE tenants SET name = name || ' (renamed)' WHERE id = ?", (tenant_id,))
            db.close()

    _watch_updates(monkeypatch, another_writer_commits)
    on_sqlite.api.ok("PATCH", path, ops, json={"name": "Ada Lovelace"})

    assert len(calls) == 2  # refused at its first write, then run again
    assert on_sqlite.api.ok("GET", path, ops)["name"] == "Ada Lovelace"
    history = on_sqlite.api.ok("GET", f"{path}/history", ops)["items"]
    assert [e["summary"] for e in history if e["kind"] == "profile"] == [
        "profile changed by business: name"
    ]
