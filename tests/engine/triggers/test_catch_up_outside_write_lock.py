"""A schedule trigger reminds of the due dates already known when it is created or changed,
and its condition runs with no write transaction held: another connection can write (on
SQLite, take the one write lock; on PostgreSQL, lock the tenant's row) while it runs, and an
event stored meanwhile is what the reminder follows."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

import engine.evaluation.schedule
from engine.feeds.parsing import parse_events
from engine.feeds.schemas import BatchResult
from engine.processes.runtime import Runtime
from tests.api.conftest import FrozenApi
from tests.engine.evaluation.test_evaluation_outside_write_lock import _can_write
from tests.fixtures.rules import CHECKUP_REMINDER, notifications, post_events, publish, subscribe

JOIN_S = 10.0
WINTER_REMINDER = datetime(2026, 3, 22, 8, tzinfo=UTC)  # 09:00 CET, 14 days before 5 April
SUMMER_REMINDER = datetime(2026, 4, 6, 7, tzinfo=UTC)  # 09:00 CEST, 14 days before 20 April


@pytest.fixture
def observed(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Callable[[], None]]]:
    """Hooks run inside every schedule condition evaluation, just before the real one."""
    hooks: list[Callable[[], None]] = []
    real = engine.evaluation.schedule.evaluate

    def evaluate(*args: Any) -> Any:
        for hook in hooks:
            hook()
        return real(*args)

    monkeypatch.setattr(engine.evaluation.schedule, "evaluate", evaluate)
    yield hooks


def _due(customer: str, date: str) -> dict[str, Any]:
    return {"customer": customer, "type": "checkup.due", "id": "chk-1", "due": date}


def _ingest_events(runtime: Runtime, tenant_id: str, rows: list[dict[str, Any]]) -> BatchResult:
    parsed = parse_events(json.dumps(rows).encode(), "application/json", runtime.clock.now())
    with runtime.services() as services:
        return services.events.ingest(tenant_id, parsed)


def _pending(frozen: FrozenApi, tenant: Any, customer_id: str) -> list[datetime]:
    found = notifications(frozen.api, tenant, customer_id)
    return [datetime.fromisoformat(n["due_at"]) for n in found if n["status"] == "pending"]


def test_creating_a_schedule_trigger_runs_no_condition_under_a_write_lock(
    frozen: FrozenApi, observed: list[Callable[[], None]]
) -> None:
    api = frozen.api
    tenant = api.tenant()
    publish(api, tenant, CHECKUP_REMINDER)
    customer = api.customer(tenant, timezone="Europe/Berlin")
    post_events(api, tenant, [_due(customer["external_id"], "2026-04-05")])
    writable: list[bool] = []
    observed.append(lambda: writable.append(_can_write(frozen.runtime, tenant.id)))

    token = api.token(tenant, customer["id"])
    body = {"rule": CHECKUP_REMINDER["key"], "params": {"days_before": 14}}
    api.ok("POST", "/v1/me/triggers", token, 201, json=body)
    assert writable == [True]
    assert _pending(frozen, tenant, customer["id"]) == [WINTER_REMINDER]


def test_changing_a_schedule_trigger_runs_no_condition_under_a_write_lock(
    frozen: FrozenApi, observed: list[Callable[[], None]]
) -> None:
    api = frozen.api
    sub = subscribe(api, CHECKUP_REMINDER, {"days_before": 14, "local_time": "09:00"})
    post_events(api, sub.tenant, [_due(sub.ref, "2026-04-05")])
    writable: list[bool] = []
    observed.append(lambda: writable.append(_can_write(frozen.runtime, sub.tenant.id)))

    change = {"params": {"days_before": 3, "local_time": "18:30"}}
    api.ok("PATCH", f"/v1/me/triggers/{sub.trigger['id']}", sub.token, json=change)
    assert writable == [True]
    assert _pending(frozen, sub.tenant, sub.id) == [datetime(2026, 4, 2, 16, 30, tzinfo=UTC)]


def test_a_date_moved_while_the_trigger_is_created_is_the_one_reminded(
    frozen: FrozenApi, observed: list[Callable[[], None]]
) -> None:
    """The reminder for 5 April is being decided when a batch moves the date to 20 April; the
    batch is stored meanwhile (the new trigger does not exist yet, so it reminds of nothing).
    The trigger's write then finds the event changed and decides again: one reminder, for
    20 April, and none for the old date."""
    api, runtime = frozen.api, frozen.runtime
    tenant = api.tenant()
    publish(api, tenant, CHECKUP_REMINDER)
    customer = api.customer(tenant, timezone="Europe/Berlin")
    post_events(api, tenant, [_due(customer["external_id"], "2026-04-05")])
    moved: list[BatchResult] = []

    def move() -> None:
        rows = [_due(customer["external_id"], "2026-04-20")]
        moved.append(_ingest_events(runtime, tenant.id, rows))

    def during_decision() -> None:
        if moved or threading.current_thread().name == "mover":
            return
        mover = threading.Thread(target=move, name="mover")
        mover.start()
        mover.join(JOIN_S)
        assert not mover.is_alive(), "the event batch waited for the trigger's condition"

    observed.append(during_decision)
    token = api.token(tenant, customer["id"])
    body = {"rule": CHECKUP_REMINDER["key"], "params": {"days_before": 14}}
    api.ok("POST", "/v1/me/triggers", token, 201, json=body)
    assert [(b.corrected, b.notifications) for b in moved] == [(1, 0)]
    assert _pending(frozen, tenant, customer["id"]) == [SUMMER_REMINDER]
    assert len(notifications(api, tenant, customer["id"])) == 1
