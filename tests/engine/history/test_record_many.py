"""History entries written many to a statement (a batch's decisions, a dispatcher's sends)
read back exactly as entries written one at a time through the ORM, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, col, select

from engine.history.repository import HistoryRepository
from engine.history.service import HistoryService
from engine.models import HistoryEntry, HistoryKind
from engine.platform.clock import FrozenClock
from engine.processes.runtime import Runtime
from tests.fixtures.api import Api

AT = datetime(2026, 3, 2, 9, 30, 0, 123456, tzinfo=UTC)
DATA: list[dict[str, Any]] = [
    {
        "status": "pending",
        "reason": None,
        "why": {
            "unit": "kWh",
            "params": {"limit_kwh": 0.1, "note": "Grüße aus Zürich ✓"},
            "values": {"window": {"sum": 12.345678901234567, "count": 3, "min": -0.0}},
            "flags": [True, False, None, 1e-05, 1e20],
        },
    },
    {"status": "suppressed", "reason": "late: 27.0 h", "why": {}},
    {},
]


def _entries(session: Session, customer_id: str) -> list[tuple[Any, ...]]:
    query = select(HistoryEntry).where(HistoryEntry.customer_id == customer_id)
    return [
        (e.kind, e.channel, e.notification_id, e.summary, e.data, e.occurred_at)
        for e in session.exec(query.order_by(col(HistoryEntry.id)))
    ]


def test_entries_written_together_read_back_as_entries_written_one_by_one(
    runtime: Runtime, api: Api
) -> None:
    tenant = api.tenant()
    one, many = (api.customer(tenant, external_id=f"h{n}")["id"] for n in range(2))
    with Session(runtime.db) as session:
        history = HistoryService(HistoryRepository(session), FrozenClock(AT))
        for n, data in enumerate(DATA):
            history.record(
                tenant.id, one, HistoryKind.decision, f"entry {n} ✓", data,
                channel="email" if n else None, notification_id=f"ntf_{n}", at=AT,
            )  # fmt: skip
        history.record_many(
            [
                history.row(
                    tenant.id,
                    many,
                    HistoryKind.decision,
                    f"entry {n} ✓",
                    data,
                    channel="email" if n else None,
                    notification_id=f"ntf_{n}",
                    at=AT,
                )  # fmt: skip
                for n, data in enumerate(DATA)
            ]
        )
        session.commit()
    with Session(runtime.db) as session:
        written_alone, written_together = _entries(session, one), _entries(session, many)
    assert written_together == written_alone
    assert [e[4] for e in written_together] == DATA
    assert all(e[5] == AT for e in written_together)
