"""On SQLite, GET requests read from a snapshot: they answer while another connection holds
the write lock (a feed's transaction), where they used to queue behind it. Writes still
queue, and a GET that does write, meeting another writer, runs again as a writer and stores
its change exactly once."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text

from api.app import create_app
from api.middleware import BODY_KEY
from api.retry import RetryOnContentionMiddleware, is_bulk
from engine.platform.db import (
    RetryPolicy,
    deferred_writes,
    is_write_refused,
    make_engine,
    unit_of_work,
)
from engine.processes.demo.rules import DAILY_ENERGY
from engine.processes.runtime import Runtime
from tests.conftest import make_settings
from tests.fixtures.api import Api, bearer
from tests.fixtures.database import sqlite_copy

QUICK = 2.0  # seconds: far below the 30 s a request waits for the write lock


@pytest.fixture
def sqlite_path(sqlite_template: Path, tmp_path: Path) -> Path:
    return Path(sqlite_copy(sqlite_template, tmp_path).removeprefix("sqlite:///"))


@pytest.fixture
def served(sqlite_path: Path, tmp_path: Path) -> Iterator[Api]:
    runtime = Runtime.from_settings(make_settings(f"sqlite:///{sqlite_path}", tmp_path))
    with TestClient(create_app(runtime)) as client:
        yield Api(client)
    runtime.db.dispose()


def hold_write_lock(path: Path) -> sqlite3.Connection:
    """Another connection in the middle of a write transaction, as a long feed would be."""
    holder = sqlite3.connect(path, isolation_level=None, timeout=1)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("UPDATE tenants SET name = name")
    return holder


def test_reads_answer_while_another_connection_holds_the_write_lock(
    served: Api, sqlite_path: Path
) -> None:
    tenant = served.tenant()
    served.ok("POST", "/v1/rules", tenant.ops, 201, json=DAILY_ENERGY)
    customer = served.customer(tenant)
    me = bearer(served.raw_token(tenant, customer["id"]))
    holder = hold_write_lock(sqlite_path)
    try:
        for path, headers in [
            ("/v1/rules", tenant.ops),
            (f"/v1/customers/{customer['id']}", tenant.feed),
            ("/v1/me", me),
            ("/v1/me/triggers", me),
            ("/v1/me/preferences", me),
        ]:
            started = time.monotonic()
            response = served.client.get(path, headers=headers)
            assert response.status_code == 200, (path, response.text)
            assert time.monotonic() - started < QUICK, path
    finally:
        holder.rollback()
        holder.close()


def test_a_write_still_waits_for_the_lock_and_is_stored_once(
    served: Api, sqlite_path: Path
) -> None:
    tenant = served.tenant()
    holder = hold_write_lock(sqlite_path)
    answers: list[int] = []
    writer = threading.Thread(
        target=lambda: answers.append(
            served.client.post(
                "/v1/customers", headers=tenant.feed, json={"external_id": "late"}
            ).status_code
        )
    )
    try:
        writer.start()
        writer.join(timeout=1.0)
        assert writer.is_alive() and not answers  # queued behind the held lock
    finally:
        holder.rollback()
        holder.close()
    writer.join(timeout=30)
    assert answers == [201]
    assert len(served.list_customer_ids(tenant)) == 1


def test_a_deferred_transaction_that_meets_another_writer_is_refused_and_stores_nothing(
    sqlite_path: Path,
) -> None:
    engine = make_engine(f"sqlite:///{sqlite_path}")
    other = sqlite3.connect(sqlite_path, isolation_level=None, timeout=1)
    other.execute("CREATE TABLE visits (who TEXT NOT NULL)")
    try:
        with pytest.raises(Exception) as refused, deferred_writes(), unit_of_work(engine) as s:
            s.execute(text("SELECT count(*) FROM visits")).scalar_one()
            other.execute("INSERT INTO visits VALUES ('other')")  # commits after our snapshot
            s.execute(text("INSERT INTO visits VALUES ('me')"))
        assert is_write_refused(refused.value)
        assert [r[0] for r in other.execute("SELECT who FROM visits")] == ["other"]
    finally:
        other.close()
        engine.dispose()


def _probe_app(path: Path, attempts: list[str]) -> FastAPI:
    """One GET that reads, lets another connection commit, then writes: the first time it
    runs deferred and is refused, the second time it is an ordinary writer."""
    engine = make_engine(f"sqlite:///{path}")
    with unit_of_work(engine) as session:
        session.execute(text("CREATE TABLE visits (who TEXT NOT NULL)"))
    app = FastAPI()

    @app.get("/visit")
    def visit() -> dict[str, int]:
        other = sqlite3.connect(path, isolation_level=None, timeout=1)
        try:
            with unit_of_work(engine) as session:
                before = session.execute(text("SELECT count(*) FROM visits")).scalar_one()
                attempts.append("read")
                if len(attempts) == 1:  # an ordinary writer would make this wait 1 s and fail
                    other.execute("INSERT INTO visits VALUES ('other')")
                session.execute(text("INSERT INTO visits VALUES ('me')"))
        finally:
            other.close()
        return {"before": int(before)}

    app.add_middleware(RetryOnContentionMiddleware, policy=RetryPolicy)
    app.state.engine = engine
    return app


def test_a_get_that_writes_after_another_writer_runs_again_as_a_writer(
    sqlite_path: Path,
) -> None:
    attempts: list[str] = []
    app = _probe_app(sqlite_path, attempts)
    with TestClient(app) as client:
        response = client.get("/visit")
    assert response.status_code == 200
    assert response.json() == {"before": 1}  # the second run saw the other writer's row
    assert attempts == ["read", "read"]
    with sqlite3.connect(sqlite_path) as check:
        rows = sorted(r[0] for r in check.execute("SELECT who FROM visits"))
    assert rows == ["me", "other"]
    app.state.engine.dispose()


def test_only_feed_batches_of_many_rows_are_bulk_writers() -> None:
    row = b'{"customer": "c1", "metric": "electricity.consumption", "start": "2026-03-01T00:00:00Z", "duration": 3600, "value": 1.5, "unit": "kWh"}'  # noqa: E501
    one, thousand = b"[" + row + b"]", b"[" + b", ".join([row] * 1000) + b"]"

    def scope(method: str, path: str, body: bytes) -> dict[str, object]:
        return {"type": "http", "method": method, "path": path, BODY_KEY: body}

    assert is_bulk(scope("POST", "/v1/feeds/readings", thousand))
    assert not is_bulk(scope("POST", "/v1/feeds/readings", one))
    assert not is_bulk(scope("POST", "/v1/customers", thousand))
    assert not is_bulk(scope("GET", "/v1/feeds/readings", thousand))
