"""New trigger states written in bulk are stored exactly as the ORM stores a state row: the
same text in every column on both databases (JSON text, datetime storage format), and the
same values read back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from sqlmodel import Session, col, select

from engine.evaluation.repository import EvaluationRepository
from engine.models import TriggerState
from engine.processes.runtime import Runtime
from tests.fixtures.api import Api
from tests.fixtures.rules import subscribe

COLUMNS = [c.name for c in TriggerState.__table__.c]  # type: ignore[attr-defined]
DAY = 1_772_406_000


def _rows(trigger_id: str) -> list[dict[str, Any]]:
    east = timezone(timedelta(hours=5, minutes=30))
    states: list[tuple[dict[str, Any], float | None, datetime]] = [
        ({"status": "armed"}, None, datetime(2026, 3, 2, 9, 30, tzinfo=UTC)),
        (
            {"status": "fired", "since": "2026-03-02T10:00:00+00:00", "last_value": 6.5},
            6.5,
            datetime(2026, 3, 2, 10, 0, 0, 123456, tzinfo=UTC),
        ),
        (
            {"status": "fired", "text": 'Größe "≥" \\ \n', "values": [1, 2.0, None, True]},
            1e-7,
            datetime(2026, 10, 25, 1, 59, 59, 999999, tzinfo=east),
        ),
    ]
    return [
        {
            "trigger_id": trigger_id,
            "window_start": DAY + n * 86_400,
            "window_end": DAY + (n + 1) * 86_400,
            "state": state,
            "last_value": last,
            "updated_at": at,
        }
        for n, (state, last, at) in enumerate(states)
    ]


def _stored(session: Session) -> list[tuple[Any, ...]]:
    texts = ", ".join(f"CAST({c} AS TEXT)" for c in COLUMNS)
    query = f"SELECT {texts} FROM trigger_states ORDER BY window_start"
    return [tuple(r) for r in session.connection().exec_driver_sql(query)]


def _read(session: Session) -> list[dict[str, Any]]:
    session.expire_all()
    rows = session.exec(select(TriggerState).order_by(col(TriggerState.window_start)))
    return [{c: getattr(r, c) for c in COLUMNS} for r in rows]


def test_states_inserted_in_bulk_are_stored_as_the_orm_stores_them(
    api: Api, runtime: Runtime
) -> None:
    trigger_id = subscribe(api, params={"limit_kwh": 5}).trigger["id"]
    rows = _rows(trigger_id)
    with Session(runtime.db) as session:
        for row in rows:
            session.add(TriggerState(**row))
        session.flush()
        one_text, one_read = _stored(session), _read(session)
        session.rollback()
    with Session(runtime.db) as session:
        EvaluationRepository(session).insert_states(rows)
        session.commit()
    with Session(runtime.db) as session:
        many_text, many_read = _stored(session), _read(session)
    assert len(one_text) == 3
    assert many_text == one_text
    assert many_read == one_read
    assert [r["state"] for r in many_read] == [r["state"] for r in rows]
    assert many_read[2]["updated_at"] == rows[2]["updated_at"]
