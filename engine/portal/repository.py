"""SQL for the customer's page: finding customers by a contact address, and their sign-ins."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from engine.models import (
    OPEN_STATUSES,
    ContactKind,
    ContactPoint,
    Customer,
    Event,
    HistoryEntry,
    HistoryKind,
    Notification,
)

SIGN_IN = "signed in"


class PortalRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def customers_at(self, kind: ContactKind, address: str) -> list[Customer]:
        """Every customer (of any tenant) with this contact address, erased ones left out;
        email addresses match whatever their case."""
        stored = col(ContactPoint.address)
        same = (
            func.lower(stored) == address.lower()
            if kind == ContactKind.email
            else stored == address
        )
        query = (
            select(Customer)
            .join(ContactPoint, col(ContactPoint.customer_id) == col(Customer.id))
            .where(ContactPoint.kind == kind, same)
            .where(col(Customer.erased_at).is_(None))
            .order_by(col(Customer.id))
        )
        return list(self.session.exec(query))

    def message_recipient(self, notification_id: str) -> tuple[str, str, datetime] | None:
        """(tenant, customer, decided at) of one notification."""
        query = select(
            col(Notification.tenant_id), col(Notification.customer_id), col(Notification.created_at)
        ).where(Notification.id == notification_id)
        row = self.session.exec(query).first()
        return (row[0], row[1], row[2]) if row is not None else None

    def sign_in_links_since(self, customer_id: str, since: datetime) -> set[int]:
        """The issue times of the one-time links that opened a session since ``since``."""
        query = select(HistoryEntry).where(
            HistoryEntry.customer_id == customer_id,
            HistoryEntry.kind == HistoryKind.profile,
            col(HistoryEntry.occurred_at) >= since,
        )
        return {
            int(e.data["link_issued_at"])
            for e in self.session.exec(query)
            if e.data.get("event") == SIGN_IN and e.data.get("once")
        }

    def next_due(self, trigger_ids: list[str]) -> dict[str, datetime]:
        """When each trigger's next planned message is due (reminders not yet sent)."""
        if not trigger_ids:
            return {}
        query = (
            select(Notification.trigger_id, func.min(Notification.due_at))
            .where(col(Notification.trigger_id).in_(trigger_ids))
            .where(col(Notification.status).in_([s.value for s in OPEN_STATUSES]))
            .group_by(col(Notification.trigger_id))
        )
        return {trigger_id: due for trigger_id, due in self.session.exec(query) if due}

    def notification(self, customer_id: str, notification_id: str) -> Notification | None:
        row = self.session.get(Notification, notification_id)
        return row if row is not None and row.customer_id == customer_id else None

    def events_since(self, customer_id: str, type_: str, since: datetime) -> list[Event]:
        """The customer's events of one type that occurred since ``since``, oldest first."""
        query = select(Event).where(
            Event.customer_id == customer_id,
            Event.type == type_,
            col(Event.occurred_at) >= since,
        )
        return list(self.session.exec(query.order_by(col(Event.occurred_at))))
