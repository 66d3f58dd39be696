"""SQL for history entries."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from engine.models import HistoryEntry
from engine.platform.driver_sql import DriverStatements

_TABLE = HistoryEntry.__table__  # type: ignore[attr-defined]


class _HistoryRows(DriverStatements):
    def insert(self, rows: Sequence[dict[str, Any]]) -> None:
        self._insert_dicts(_TABLE, rows)


class HistoryRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, entry: HistoryEntry) -> None:
        self.session.add(entry)

    def add_many(self, rows: Sequence[dict[str, Any]]) -> None:
        """Entries as column values (all naming the same columns), several to a statement
        through the driver: a batch where many windows cross records thousands."""
        _HistoryRows(self.session).insert(rows)

    def page(
        self,
        customer_id: str,
        *,
        before_id: str | None,
        limit: int,
        channel: str | None = None,
        kinds: Sequence[str] = (),
    ) -> list[HistoryEntry]:
        """Newest first, strictly older than ``before_id``."""
        query = select(HistoryEntry).where(HistoryEntry.customer_id == customer_id)
        if before_id is not None:
            query = query.where(HistoryEntry.id < before_id)
        if channel is not None:
            query = query.where(HistoryEntry.channel == channel)
        if kinds:
            query = query.where(col(HistoryEntry.kind).in_(kinds))
        query = query.order_by(col(HistoryEntry.id).desc()).limit(limit)
        return list(self.session.exec(query))

    def all_for(self, customer_id: str) -> list[HistoryEntry]:
        query = select(HistoryEntry).where(HistoryEntry.customer_id == customer_id)
        return list(self.session.exec(query.order_by(col(HistoryEntry.id))))

    def anonymise(self, customer_id: str) -> int:
        """Drop summaries and payloads but keep kind, channel and time, so counts stay true."""
        result = self.session.execute(
            update(HistoryEntry)
            .where(col(HistoryEntry.customer_id) == customer_id)
            .values(summary="(erased)", data={})
        )
        return int(getattr(result, "rowcount", 0) or 0)
