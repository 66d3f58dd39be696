"""SQL for notifications and delivery attempts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import undefer
from sqlmodel import Session, col, select

from engine.models import OPEN_STATUSES, DeliveryAttempt, Notification, NotificationStatus
from engine.platform.driver_sql import DriverStatements

_TABLE = Notification.__table__  # type: ignore[attr-defined]


class _NotificationRows(DriverStatements):
    def insert_unique(self, rows: Sequence[dict[str, Any]]) -> set[str]:
        """The rows through the driver, several to a statement (`_insert_dicts`); the ids of
        those inserted."""
        tail = "ON CONFLICT (trigger_id, occurrence, transition) DO NOTHING RETURNING id"
        return {row[0] for row in self._insert_dicts(_TABLE, rows, tail)}


class NotificationRepository:
    def __init__(self, session: Session) -> None:
        self.session = session
        self._insert = sqlite_insert if session.get_bind().dialect.name == "sqlite" else pg_insert
        self._rows = _NotificationRows(session)

    def insert_unique(self, values: dict[str, Any]) -> bool:
        """Insert unless (trigger, occurrence, transition) exists; True if inserted."""
        statement = (
            self._insert(Notification)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["trigger_id", "occurrence", "transition"])
            .returning(col(Notification.id))
        )
        return self.session.execute(statement).first() is not None

    def insert_unique_many(self, rows: Sequence[dict[str, Any]]) -> set[str]:
        """Insert each row unless its (trigger, occurrence, transition) exists already or an
        earlier row of ``rows`` has it; the ids inserted. The same rows as `insert_unique` one
        by one in this order, in a few statements through the driver (a batch where many
        windows cross decides many; rows must all name the same columns)."""
        if not rows:
            return set()
        return self._rows.insert_unique(rows)

    def get(self, notification_id: str) -> Notification | None:
        return self.session.get(Notification, notification_id)

    def by_occurrence(self, trigger_id: str, occurrence: str) -> list[Notification]:
        query = select(Notification).where(
            Notification.trigger_id == trigger_id, Notification.occurrence == occurrence
        )
        return list(self.session.exec(query))

    def open_for_occurrences(
        self, trigger_ids: Sequence[str], occurrence_prefix: str
    ) -> list[Notification]:
        """Pending or deferred notifications of these triggers whose occurrence starts so."""
        query = select(Notification).where(
            col(Notification.trigger_id).in_(trigger_ids),
            col(Notification.occurrence).startswith(occurrence_prefix),
            col(Notification.status).in_(OPEN_STATUSES),
        )
        return list(self.session.exec(query))

    def page(
        self,
        tenant_id: str,
        *,
        after_id: str | None,
        limit: int,
        status: NotificationStatus | None = None,
        customer_id: str | None = None,
    ) -> list[Notification]:
        query = select(Notification).where(Notification.tenant_id == tenant_id)
        if status is not None:
            query = query.where(Notification.status == status)
        if customer_id is not None:
            query = query.where(Notification.customer_id == customer_id)
        if after_id is not None:
            query = query.where(Notification.id > after_id)
        query = query.options(undefer(Notification.attempts))  # counted in the same query
        return list(self.session.exec(query.order_by(col(Notification.id)).limit(limit)))

    def for_customer(self, customer_id: str) -> list[Notification]:
        query = select(Notification).where(Notification.customer_id == customer_id)
        return list(self.session.exec(query.order_by(col(Notification.id))))

    def attempts(self, notification_ids: Sequence[str]) -> list[DeliveryAttempt]:
        query = select(DeliveryAttempt).where(
            col(DeliveryAttempt.notification_id).in_(notification_ids)
        )
        return list(self.session.exec(query.order_by(col(DeliveryAttempt.id))))

    def save(self, row: Notification | DeliveryAttempt) -> None:
        self.session.add(row)

    def erase_for_customer(self, customer_id: str, now: datetime, reason: str) -> None:
        """Cancel what has not gone out and drop the stored values (the customer's data)."""
        self.session.execute(
            update(Notification)
            .where(
                col(Notification.customer_id) == customer_id,
                col(Notification.status).in_(OPEN_STATUSES),
            )
            .values(status=NotificationStatus.cancelled, reason=reason, updated_at=now)
        )
        self.session.execute(
            update(Notification)
            .where(col(Notification.customer_id) == customer_id)
            .values(why={}, updated_at=now)
        )
