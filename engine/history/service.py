"""Writing to and reading from a customer's conversation history."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from engine.history.repository import HistoryRepository
from engine.history.schemas import HistoryEntryPublic
from engine.models import HistoryEntry, HistoryKind
from engine.platform.clock import Clock
from engine.platform.ids import new_id
from engine.platform.pagination import Page, decode_cursor, next_cursor


class HistoryService:
    def __init__(self, repo: HistoryRepository, clock: Clock) -> None:
        self._repo = repo
        self.clock = clock
        # Where this unit of work's changes come from (e.g. "web" for the customer's page):
        # written into each entry's data as ``source`` unless the entry names its own.
        self.source: str | None = None

    def record(
        self,
        tenant_id: str,
        customer_id: str,
        kind: HistoryKind,
        summary: str,
        data: dict[str, Any] | None = None,
        *,
        channel: str | None = None,
        notification_id: str | None = None,
        at: datetime | None = None,
    ) -> HistoryEntry:
        entry = HistoryEntry(
            **self.row(
                tenant_id,
                customer_id,
                kind,
                summary,
                data,
                channel=channel,
                notification_id=notification_id,
                at=at,
            )
        )
        self._repo.add(entry)
        return entry

    def row(
        self,
        tenant_id: str,
        customer_id: str,
        kind: HistoryKind,
        summary: str,
        data: dict[str, Any] | None = None,
        *,
        channel: str | None = None,
        notification_id: str | None = None,
        at: datetime | None = None,
    ) -> dict[str, Any]:
        """An entry as column values, for writing many at once (``repo.add_many``)."""
        return {
            "id": new_id("his"),
            "tenant_id": tenant_id,
            "customer_id": customer_id,
            "occurred_at": at or self.clock.now(),
            "kind": kind,
            "channel": channel,
            "notification_id": notification_id,
            "summary": summary[:500],
            "data": self._with_source(data or {}),
        }

    def record_many(self, rows: Sequence[dict[str, Any]]) -> None:
        """Write entries built with `row`, in one statement."""
        self._repo.add_many(rows)

    def all_for(self, customer_id: str) -> list[HistoryEntryPublic]:
        """Every entry of the customer, oldest first (their export)."""
        return [HistoryEntryPublic.model_validate(e) for e in self._repo.all_for(customer_id)]

    def anonymise(self, customer_id: str) -> None:
        """Erasure: summaries and payloads go; kind, channel and time stay, so counts stay true."""
        self._repo.anonymise(customer_id)

    def _with_source(self, data: dict[str, Any]) -> dict[str, Any]:
        if self.source is None or "source" in data:
            return data
        return {**data, "source": self.source}

    def page(
        self,
        customer_id: str,
        cursor: str | None,
        limit: int,
        channel: str | None = None,
        kinds: Sequence[str] = (),
    ) -> Page[HistoryEntryPublic]:
        rows = self._repo.page(
            customer_id, before_id=decode_cursor(cursor), limit=limit, channel=channel, kinds=kinds
        )
        items = [HistoryEntryPublic.model_validate(r) for r in rows]
        return Page(items=items, next_cursor=next_cursor([r.id for r in rows], limit))
