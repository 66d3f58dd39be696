"""Decided notifications written many at a time through the driver are stored exactly as the
one-by-one insert (SQLAlchemy's column types) stores them: the same text in every column on
both databases (JSON text, datetime storage format, booleans, defaults), and the same values
read back through the ORM."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import Session, col

from engine.models import Notification, NotificationStatus, Trigger
from engine.notifications.repository import NotificationRepository
from engine.processes.runtime import Runtime
from tests.fixtures.api import Api
from tests.fixtures.rules import DAILY_ENERGY, publish
from tests.fixtures.workload import notification_row

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
COLUMNS = [c.name for c in Notification.__table__.c]  # type: ignore[attr-defined]


@pytest.fixture
def trigger(runtime: Runtime, api: Api) -> Iterator[tuple[str, str, str]]:
    """(tenant, customer, trigger) of a customer with one trigger."""
    tenant = api.tenant()
    publish(api, tenant, DAILY_ENERGY)
    customer = api.customer(tenant, external_id="c0")
    body = {"rule": DAILY_ENERGY["key"], "params": {"limit_kwh": 5}}
    api.ok("POST", "/v1/me/triggers", api.token(tenant, customer["id"]), 201, json=body)
    with Session(runtime.db) as session:
        query = select(col(Trigger.id)).where(col(Trigger.tenant_id) == tenant.id)
        found = session.execute(query).one()
    yield tenant.id, customer["id"], found[0]


def rows(tenant_id: str, customer_id: str, trigger_id: str) -> list[dict[str, Any]]:
    """Column values as the decision writer builds them, with odd values in every type."""
    east = timezone(timedelta(hours=5, minutes=30))
    times = [
        NOW,
        NOW.replace(microsecond=123456),
        datetime(2026, 10, 25, 1, 59, 59, 999999, tzinfo=east),
    ]
    whys: list[dict[str, Any]] = [
        {},
        {"unit": "kWh", "values": {"window": {"sum": 6.5, "count": 6}}, "limit": 1e-7},
        {"text": 'Größe ≥ 5 "quoted" \\ \n', "list": [1, 2.0, None, True], "big": 10**20},
    ]
    out = []
    for n, (at, why) in enumerate(zip(times, whys, strict=True)):
        occurrence = f"day:2026-03-0{n + 1}"
        row = notification_row(
            tenant_id,
            (trigger_id, customer_id),
            occurrence,
            at,
            channel="email",
            context=why,
            now=at,
        )
        out.append(
            {
                **row,
                "status": NotificationStatus.suppressed if n else NotificationStatus.pending,
                "reason": "late: 7.0 h" if n else None,
                "channel_order": ["email", "sms"][:n],
                "requires_ack": bool(n % 2),
                "created_at": at - timedelta(seconds=n),
            }
        )
    return out


def as_stored(session: Session, ids: list[str]) -> list[tuple[Any, ...]]:
    """Every column as the database's own text, in id order."""
    texts = ", ".join(f"CAST({c} AS TEXT)" for c in COLUMNS)
    result = session.connection().exec_driver_sql(f"SELECT {texts} FROM notifications ORDER BY id")
    return [tuple(r) for r in result if r[0] in ids]


def as_read(session: Session, ids: list[str]) -> list[dict[str, Any]]:
    session.expire_all()
    found = [session.get_one(Notification, i) for i in sorted(ids)]
    return [{c: getattr(n, c) for c in COLUMNS} for n in found]


def test_stored_as_one_by_one(runtime: Runtime, trigger: tuple[str, str, str]) -> None:
    values = rows(*trigger)
    ids = [r["id"] for r in values]
    with Session(runtime.db) as session:
        repo = NotificationRepository(session)
        assert all(repo.insert_unique(r) for r in values)
        one_text, one_read = as_stored(session, ids), as_read(session, ids)
        session.rollback()
    with Session(runtime.db) as session:
        assert NotificationRepository(session).insert_unique_many(values) == set(ids)
        session.commit()
    with Session(runtime.db) as session:
        many_text, many_read = as_stored(session, ids), as_read(session, ids)
    assert len(one_text) == 3
    assert many_text == one_text
    assert many_read == one_read
    assert many_read[2]["due_at"] == values[2]["due_at"]
    assert many_read[2]["why"] == values[2]["why"]
    assert [r["channel_index"] for r in many_read] == [0, 0, 0]
