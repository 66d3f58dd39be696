"""SQL for business events."""

from __future__ import annotations

from sqlmodel import Session, col, select

from engine.models import Event


class EventRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def find(self, customer_id: str, type_: str, key: str) -> Event | None:
        query = select(Event).where(
            Event.customer_id == customer_id, Event.type == type_, Event.key == key
        )
        return self.session.exec(query).first()

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
