"""SQL for idempotency records."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from engine.models import IdempotencyRecord


class IdempotencyRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, scope: str, key: str) -> IdempotencyRecord | None:
        return self.session.get(IdempotencyRecord, (scope, key))

    def claim(self, record: IdempotencyRecord) -> bool:
        """Insert a pending record; False if one with this scope and key exists already."""
        try:
            with self.session.begin_nested():
                self.session.add(record)
        except IntegrityError:
            return False
        return True

    def save(self, record: IdempotencyRecord) -> None:
        self.session.add(record)

    def remove(self, scope: str, key: str) -> None:
        self.session.execute(
            delete(IdempotencyRecord).where(
                col(IdempotencyRecord.scope) == scope, col(IdempotencyRecord.key) == key
            )
        )

    def remove_older_than(self, cutoff: datetime) -> None:
        self.session.execute(
            delete(IdempotencyRecord).where(col(IdempotencyRecord.created_at) < cutoff)
        )

    def remove_for_customer(self, customer_id: str) -> None:
        self.session.execute(
            delete(IdempotencyRecord).where(col(IdempotencyRecord.customer_id) == customer_id)
        )
