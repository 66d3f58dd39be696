"""SQL for business events."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from engine.models import Event


class EventRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def find(
        self, customer_id: str, type_: str, key: str, *, for_update: bool = False
    ) -> Event | None:
        """The stored event; ``for_update`` holds its row until the transaction ends (on
        PostgreSQL), so a concurrent correction of the same event waits for this one."""
        query = select(Event).where(
            Event.customer_id == customer_id, Event.type == type_, Event.key == key
        )
        if for_update:
            query = query.with_for_update().execution_options(populate_existing=True)
        return self.session.exec(query).first()

    def insert(self, event: Event) -> bool:
        """Store a new event; False if the same event was stored (and committed) meanwhile."""
        try:
            with self.session.begin_nested():
                self.session.add(event)
        except IntegrityError:
            return False
        return True

    def active_of_type(self, customer_id: str, type_: str) -> list[Event]:
        query = select(Event).where(
            Event.customer_id == customer_id, Event.type == type_, Event.status == "active"
        )
        return list(self.session.exec(query.order_by(col(Event.id))))

    def for_customer(self, customer_id: str) -> list[Event]:
        query = select(Event).where(Event.customer_id == customer_id)
        return list(self.session.exec(query.order_by(col(Event.id))))

    def save(self, event: Event) -> None:
        self.session.add(event)
        self.session.flush()

    def delete_for_customer(self, customer_id: str) -> None:
        for event in self.for_customer(customer_id):
            self.session.delete(event)
