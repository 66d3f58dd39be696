"""Writing many decided notifications in a few statements stores exactly the rows that
writing them one by one stores, and the unique key still refuses a second decision of the
same (trigger, occurrence, transition): against one stored before, and within the batch."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlmodel import Session

from engine.models import Notification, NotificationStatus, Trigger
from engine.notifications.repository import NotificationRepository
from engine.platform.ids import new_id
from engine.processes.runtime import Runtime
from tests.fixtures.api import Api
from tests.fixtures.rules import DAILY_ENERGY, publish

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
TRANSITIONS = ("fire", "fire:2", "rearm")
STATUSES = (NotificationStatus.pending, NotificationStatus.suppressed)

# A decision: which trigger, which window (occurrence), which transition, which status.
Item = tuple[int, int, str, Any]
decision = st.tuples(
    st.integers(0, 2), st.integers(0, 3), st.sampled_from(TRANSITIONS), st.sampled_from(STATUSES)
)


@pytest.fixture
def triggers(runtime: Runtime, api: Api) -> Iterator[tuple[str, list[tuple[str, str]]]]:
    """A tenant with three customers, each with a trigger: (tenant id, [(trigger, customer)])."""
    tenant = api.tenant()
    publish(api, tenant, DAILY_ENERGY)
    for n in range(3):
        customer = api.customer(tenant, external_id=f"c{n}")
        body = {"rule": DAILY_ENERGY["key"], "params": {"limit_kwh": 5 + n}}
        api.ok("POST", "/v1/me/triggers", api.token(tenant, customer["id"]), 201, json=body)
    with Session(runtime.db) as session:
        query = select(Trigger.id, Trigger.customer_id).where(Trigger.tenant_id == tenant.id)
        found = sorted((t, c) for t, c in session.execute(query))
    yield tenant.id, found


def row(tenant_id: str, trigger: tuple[str, str], item: Item) -> dict[str, Any]:
    """Column values as the decision writer builds them."""
    _, window, transition, status = item
    start = NOW + timedelta(days=window)
    return {
        "id": new_id("ntf"),
        "tenant_id": tenant_id,
        "customer_id": trigger[1],
        "trigger_id": trigger[0],
        "rule_key": DAILY_ENERGY["key"],
        "rule_version": 1,
        "topic": "energy",
        "urgency": "normal",
        "occurrence": f"day:{start.date().isoformat()}",
        "transition": transition,
        "status": status,
        "reason": "late: 7.0 h" if status is NotificationStatus.suppressed else None,
        "due_at": start + timedelta(hours=window),
        "why": {"unit": "kWh", "values": {"window": {"sum": 6.5 + window, "count": 6}}},
        "channel_order": ["email", "sms"][: 1 + window % 2],
        "requires_ack": bool(window % 2),
        "created_at": NOW,
        "updated_at": NOW,
    }


def stored(session: Session, tenant_id: str) -> list[tuple[Any, ...]]:
    query = select(Notification.__table__).where(  # type: ignore[attr-defined]
        Notification.__table__.c.tenant_id == tenant_id  # type: ignore[attr-defined]
    )
    return sorted(tuple(r) for r in session.execute(query))


def one_by_one(repo: NotificationRepository, rows: list[dict[str, Any]]) -> set[str]:
    return {r["id"] for r in rows if repo.insert_unique(r)}


def many(repo: NotificationRepository, rows: list[dict[str, Any]]) -> set[str]:
    return repo.insert_unique_many(rows)


def outcome(
    runtime: Runtime,
    tenant_id: str,
    before: list[dict[str, Any]],
    rows: list[dict[str, Any]],
    way: Any,
) -> tuple[set[str], list[tuple[Any, ...]]]:
    """What ``way`` inserts after ``before`` was stored, and the table then; rolled back."""
    with Session(runtime.db) as session:
        repo = NotificationRepository(session)
        repo.insert_unique_many(before)
        inserted = way(repo, rows)
        table = stored(session, tenant_id)
        session.rollback()
    return inserted, table


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(earlier=st.lists(decision, max_size=4), batch=st.lists(decision, max_size=30))
def test_same_rows_as_one_by_one(
    runtime: Runtime,
    triggers: tuple[str, list[tuple[str, str]]],
    earlier: list[Item],
    batch: list[Item],
) -> None:
    tenant_id, found = triggers
    before = [row(tenant_id, found[d[0]], d) for d in earlier]
    rows = [row(tenant_id, found[d[0]], d) for d in batch]
    first = outcome(runtime, tenant_id, before, rows, one_by_one)
    second = outcome(runtime, tenant_id, before, rows, many)
    assert second == first
    keys = {(d[0], d[1], d[2]) for d in batch} - {(d[0], d[1], d[2]) for d in earlier}
    assert len(second[0]) == len(keys)


def test_a_second_decision_is_refused(
    runtime: Runtime, triggers: tuple[str, list[tuple[str, str]]]
) -> None:
    tenant_id, found = triggers
    item = (0, 0, "fire", NotificationStatus.pending)
    first, again, twin = (row(tenant_id, found[0], item) for _ in range(3))
    other = row(tenant_id, found[1], (1, 0, "fire", NotificationStatus.pending))
    with Session(runtime.db) as session:
        repo = NotificationRepository(session)
        assert repo.insert_unique_many([first]) == {first["id"]}
        assert repo.insert_unique_many([again, other, twin]) == {other["id"]}
        session.commit()
    with Session(runtime.db) as session:
        ids = {r[0] for r in stored(session, tenant_id)}
    assert ids == {first["id"], other["id"]}


def test_nothing_to_write(runtime: Runtime) -> None:
    with Session(runtime.db) as session:
        assert NotificationRepository(session).insert_unique_many([]) == set()
