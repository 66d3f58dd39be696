"""Conditions are evaluated with no write transaction held: while a batch's conditions run,
another connection can write (on SQLite, take the one write lock; on PostgreSQL, lock the
rows the batch will write), another batch for the same window can be stored meanwhile, and
the decisions still come out exactly as if the batches had run one after the other."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from sqlalchemy.engine import make_url

import engine.evaluation.events
import engine.evaluation.threshold
from engine.feeds.parsing import parse_readings
from engine.feeds.schemas import BatchResult
from engine.processes.runtime import Runtime
from tests.api.conftest import FrozenApi
from tests.fixtures.rules import (
    BILL_EVENT,
    berlin,
    hourly,
    notifications,
    post_readings,
    subscribe,
)

JOIN_S = 10.0


def _can_write(runtime: Runtime, tenant_id: str) -> bool:
    """Whether another connection takes, at once, the lock a writing batch would hold."""
    url = make_url(runtime.settings.database_url)
    if url.drivername.startswith("sqlite"):
        db = sqlite3.connect(str(url.database), timeout=0, isolation_level=None)
        try:
            db.execute("BEGIN IMMEDIATE")
            db.execute("ROLLBACK")
            return True
        except sqlite3.OperationalError:
            return False
        finally:
            db.close()
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn) as db:
        try:
            db.execute("SELECT 1 FROM tenants WHERE id = %s FOR UPDATE NOWAIT", (tenant_id,))
            return True
        except psycopg.errors.LockNotAvailable:
            return False


@pytest.fixture
def observed(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Callable[[], None]]]:
    """Hooks run inside every condition evaluation of the threshold and event kinds (a
    threshold trigger's state step included), and inside the threshold windows' bulk
    decision, just before the real one."""
    hooks: list[Callable[[], None]] = []

    def watching(real: Callable[..., Any]) -> Callable[..., Any]:
        def evaluate(*args: Any) -> Any:
            for hook in hooks:
                hook()
            return real(*args)

        return evaluate

    for module in (engine.evaluation.threshold, engine.evaluation.events):
        monkeypatch.setattr(module, "evaluate", watching(module.evaluate))
    threshold = engine.evaluation.threshold
    monkeypatch.setattr(threshold, "decide_recognised", watching(threshold.decide_recognised))
    monkeypatch.setattr(threshold, "assess", watching(threshold.assess))
    yield hooks


def _ingest(runtime: Runtime, tenant_id: str, rows: list[dict[str, Any]]) -> BatchResult:
    parsed = parse_readings(json.dumps(rows).encode(), "application/json", runtime.clock.now())
    with runtime.services() as services:
        return services.feeds.ingest(tenant_id, parsed)


def test_no_threshold_condition_runs_while_the_batch_holds_a_write_lock(
    frozen: FrozenApi, observed: list[Callable[[], None]]
) -> None:
    api = frozen.api
    sub = subscribe(api, params={"limit_kwh": 5})
    writable: list[bool] = []
    observed.append(lambda: writable.append(_can_write(frozen.runtime, sub.tenant.id)))
    answer = post_readings(api, sub.tenant, hourly(sub.ref, berlin(0), [3.0, 2.5]))
    assert (answer["accepted"], answer["notifications"]) == (2, 1)
    assert writable == [True, True]  # the bulk decision, then the state step where it holds


def test_no_event_condition_runs_while_the_batch_holds_a_write_lock(
    frozen: FrozenApi, observed: list[Callable[[], None]]
) -> None:
    api = frozen.api
    sub = subscribe(api, BILL_EVENT, {"limit": 50})
    writable: list[bool] = []
    observed.append(lambda: writable.append(_can_write(frozen.runtime, sub.tenant.id)))
    event = {
        "customer": sub.ref,
        "type": "bill.issued",
        "id": "b1",
        "amount": 80,
        "currency": "EUR",
    }
    answer = api.ok("POST", "/v1/feeds/events", sub.tenant.feed, json=[event])
    assert (answer["accepted"], answer["notifications"]) == (1, 1)
    assert writable == [True]


def test_a_batch_stored_while_another_is_evaluated_is_counted_by_it(
    frozen: FrozenApi, observed: list[Callable[[], None]]
) -> None:
    """Limit 5 kWh. Batch A (3 kWh) is being evaluated when batch B (2.5 kWh, same day)
    arrives; B is stored in full meanwhile (nothing holds the write lock) and, evaluated
    without A, does not fire. A then finds the day's total moved from what it evaluated and
    evaluates again: 5.5 kWh, one notification, nothing lost and nothing twice."""
    api, runtime = frozen.api, frozen.runtime
    sub = subscribe(api, params={"limit_kwh": 5})
    tenant = sub.tenant.id
    answers: dict[str, BatchResult] = {}

    def send_b() -> None:
        answers["b"] = _ingest(runtime, tenant, hourly(sub.ref, berlin(2), [2.5]))

    def during_a() -> None:
        if "b" in answers or threading.current_thread().name == "batch-b":
            return
        sender = threading.Thread(target=send_b, name="batch-b")
        sender.start()
        sender.join(JOIN_S)
        assert not sender.is_alive(), "batch B waited for batch A's evaluation"

    observed.append(during_a)
    answers["a"] = _ingest(runtime, tenant, hourly(sub.ref, berlin(1), [3.0]))
    assert (answers["b"].accepted, answers["b"].notifications) == (1, 0)
    assert (answers["a"].accepted, answers["a"].notifications) == (1, 1)
    found = notifications(api, sub.tenant, sub.customer["id"])
    assert [n["why"]["values"]["window"]["sum"] for n in found] == [5.5]


def test_concurrent_batches_over_the_same_day_notify_once(frozen: FrozenApi) -> None:
    """Four batches at once, each with the same ten hours of today for the same customers (in
    opposite orders, every other batch correcting the values): every customer gets exactly
    one notification for the day, and every reading is stored once."""
    api, runtime = frozen.api, frozen.runtime
    first = subscribe(api, params={"limit_kwh": 10})
    subs = [first] + [
        subscribe(api, params={"limit_kwh": 10}, tenant=first.tenant) for _ in range(2)
    ]
    batches: list[list[dict[str, Any]]] = []
    for n in range(4):
        value = 1.25 if n % 2 else 1.5
        rows = [row for sub in subs for row in hourly(sub.ref, berlin(0), [value] * 10)]
        batches.append(rows[::-1] if n % 2 else rows)
    errors: list[BaseException] = []
    results: list[BatchResult] = []

    def send(rows: list[dict[str, Any]]) -> None:
        try:
            results.append(_ingest(runtime, first.tenant.id, rows))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(rows,)) for rows in batches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors and len(results) == 4
    assert sum(r.accepted for r in results) == len(subs) * 10
    assert sum(r.accepted + r.duplicate + r.corrected for r in results) == 4 * len(subs) * 10
    for sub in subs:
        found = notifications(api, first.tenant, sub.customer["id"])
        assert [n["why"]["values"]["window"]["start"] for n in found] == ["2026-03-01T23:00:00Z"]
