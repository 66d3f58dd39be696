"""SQL for consents."""

from __future__ import annotations

from sqlalchemy import delete
from sqlmodel import Session, col, select

from engine.models import Consent


class ConsentRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def for_customer(self, customer_id: str) -> list[Consent]:
        query = select(Consent).where(Consent.customer_id == customer_id)
        return list(self.session.exec(query.order_by(col(Consent.channel), col(Consent.topic))))

    def find(self, customer_id: str, channel: str, topic: str) -> Consent | None:
        query = select(Consent).where(
            Consent.customer_id == customer_id, Consent.channel == channel, Consent.topic == topic
        )
        return self.session.exec(query).first()

    def add(self, consent: Consent) -> None:
        self.session.add(consent)

    def delete_for_customer(self, customer_id: str) -> None:
        self.session.execute(delete(Consent).where(col(Consent.customer_id) == customer_id))
