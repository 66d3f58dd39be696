"""SQL for consents."""

from __future__ import annotations

from sqlalchemy import delete
from sqlmodel import Session, col, select

from engine.models import Consent, Customer, Rule, RuleStatus, RuleVersion


class ConsentRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def for_customer(self, customer_id: str) -> list[Consent]:
        query = select(Consent).where(Consent.customer_id == customer_id)
        return list(self.session.exec(query.order_by(col(Consent.channel), col(Consent.topic))))

    def lock_customer(self, customer_id: str) -> None:
        """Serialise consent changes of one customer: on PostgreSQL the customer's row is
        locked until commit (SQLite's write transactions are serial already)."""
        query = select(Customer.id).where(Customer.id == customer_id).with_for_update()
        self.session.exec(query).first()

    def published_topics(self, tenant_id: str) -> set[str]:
        """The topics of the tenant's published rules (their latest versions)."""
        query = (
            select(RuleVersion.definition)
            .join(Rule, col(Rule.id) == col(RuleVersion.rule_id))
            .where(
                Rule.tenant_id == tenant_id,
                Rule.status == RuleStatus.published,
                col(RuleVersion.version) == col(Rule.latest_version),
            )
        )
        return {str(d["topic"]) for d in self.session.exec(query) if d.get("topic")}

    def add(self, consent: Consent) -> None:
        self.session.add(consent)

    def delete_for_customer(self, customer_id: str) -> None:
        self.session.execute(delete(Consent).where(col(Consent.customer_id) == customer_id))
