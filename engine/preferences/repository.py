"""SQL for preferences."""

from __future__ import annotations

from sqlalchemy import delete
from sqlmodel import Session, col, select

from engine.models import Customer, Preferences


class PreferencesRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, customer_id: str) -> Preferences | None:
        return self.session.get(Preferences, customer_id)

    def lock_customer(self, customer_id: str) -> None:
        """Serialise preference changes of one customer: on PostgreSQL the customer's row is
        locked until commit (SQLite's write transactions are serial already)."""
        query = select(Customer.id).where(Customer.id == customer_id).with_for_update()
        self.session.exec(query).first()

    def save(self, row: Preferences) -> None:
        self.session.add(row)

    def delete_for_customer(self, customer_id: str) -> None:
        self.session.execute(delete(Preferences).where(col(Preferences.customer_id) == customer_id))
