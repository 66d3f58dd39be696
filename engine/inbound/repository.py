"""SQL for inbound traffic: finding attempts, customers and notifications it refers to."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from engine.models import (
    OPEN_STATUSES,
    ContactKind,
    ContactPoint,
    Customer,
    DeliveryAttempt,
    Notification,
    NotificationStatus,
    Tenant,
)

CLOSED = (NotificationStatus.cancelled, NotificationStatus.suppressed)


@dataclass(frozen=True, slots=True)
class PhoneOwner:
    """A live customer whose phone contact point is a given number, with their tenant."""

    customer: Customer
    tenant: Tenant


class InboundRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def attempt_by_provider_id(self, provider_id: str) -> DeliveryAttempt | None:
        query = select(DeliveryAttempt).where(DeliveryAttempt.provider_id == provider_id)
        return self.session.exec(query.order_by(col(DeliveryAttempt.id).desc())).first()

    def latest_attempt(self, notification_id: str, channel: str) -> DeliveryAttempt | None:
        query = select(DeliveryAttempt).where(
            DeliveryAttempt.notification_id == notification_id, DeliveryAttempt.channel == channel
        )
        order = (col(DeliveryAttempt.number).desc(), col(DeliveryAttempt.id).desc())
        return self.session.exec(query.order_by(*order)).first()

    def notification(self, notification_id: str) -> Notification | None:
        return self.session.get(Notification, notification_id)

    def customer(self, customer_id: str) -> Customer | None:
        row = self.session.get(Customer, customer_id)
        return None if row is None or row.erased_at is not None else row

    def tenant(self, tenant_id: str) -> Tenant | None:
        return self.session.get(Tenant, tenant_id)

    def phone_owners(self, phone: str) -> list[PhoneOwner]:
        """Live customers (of any tenant) whose phone is ``phone``, oldest first."""
        query = (
            select(Customer, Tenant)
            .join(ContactPoint, col(ContactPoint.customer_id) == col(Customer.id))
            .join(Tenant, col(Tenant.id) == col(Customer.tenant_id))
            .where(
                ContactPoint.kind == ContactKind.phone,
                ContactPoint.address == phone,
                col(Customer.erased_at).is_(None),
            )
            .order_by(col(Customer.id))
        )
        return [PhoneOwner(customer, tenant) for customer, tenant in self.session.exec(query)]

    def awaiting_ack(self, customer_id: str) -> Notification | None:
        """The customer's most recently sent notification that still wants acknowledgement."""
        query = select(Notification).where(
            Notification.customer_id == customer_id,
            col(Notification.requires_ack).is_(True),
            col(Notification.acknowledged_at).is_(None),
            col(Notification.sent_at).is_not(None),
            col(Notification.status).not_in(CLOSED),
        )
        order = (col(Notification.sent_at).desc(), col(Notification.id).desc())
        return self.session.exec(query.order_by(*order)).first()

    def last_attempt_on(
        self, customer_id: str, channel: str
    ) -> tuple[DeliveryAttempt, Notification] | None:
        """The customer's most recent attempt on ``channel`` and its notification."""
        query = (
            select(DeliveryAttempt, Notification)
            .join(Notification, col(DeliveryAttempt.notification_id) == col(Notification.id))
            .where(Notification.customer_id == customer_id, DeliveryAttempt.channel == channel)
            .order_by(col(DeliveryAttempt.started_at).desc(), col(DeliveryAttempt.id).desc())
        )
        row = self.session.exec(query).first()
        return None if row is None else (row[0], row[1])

    def open_in_occurrence(self, notification: Notification) -> list[Notification]:
        """Other pending or deferred notifications of the same trigger and occurrence."""
        query = select(Notification).where(
            Notification.trigger_id == notification.trigger_id,
            Notification.occurrence == notification.occurrence,
            Notification.id != notification.id,
            col(Notification.status).in_(OPEN_STATUSES),
        )
        return list(self.session.exec(query.order_by(col(Notification.id))))

    def save(self, row: Notification | DeliveryAttempt) -> None:
        self.session.add(row)
