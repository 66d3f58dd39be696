"""SQL for customers and contact points."""

from __future__ import annotations

from sqlalchemy import delete
from sqlmodel import Session, col, select

from engine.models import ContactKind, ContactPoint, Customer


class CustomerRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, customer: Customer) -> None:
        self.session.add(customer)
        self.session.flush()

    def get(self, tenant_id: str, customer_id: str) -> Customer | None:
        row = self.session.get(Customer, customer_id)
        if row is None or row.tenant_id != tenant_id or row.erased_at is not None:
            return None
        return row

    def by_external_id(self, tenant_id: str, external_id: str) -> Customer | None:
        query = select(Customer).where(
            Customer.tenant_id == tenant_id,
            Customer.external_id == external_id,
            col(Customer.erased_at).is_(None),
        )
        return self.session.exec(query).first()

    def page(self, tenant_id: str, after_id: str | None, limit: int) -> list[Customer]:
        query = select(Customer).where(
            Customer.tenant_id == tenant_id, col(Customer.erased_at).is_(None)
        )
        if after_id is not None:
            query = query.where(Customer.id > after_id)
        return list(self.session.exec(query.order_by(col(Customer.id)).limit(limit)))

    def contact_points(self, customer_id: str) -> dict[ContactKind, ContactPoint]:
        query = select(ContactPoint).where(ContactPoint.customer_id == customer_id)
        return {cp.kind: cp for cp in self.session.exec(query)}

    def contact_points_for(self, customer_ids: list[str]) -> dict[str, dict[ContactKind, str]]:
        query = select(ContactPoint).where(col(ContactPoint.customer_id).in_(customer_ids))
        found: dict[str, dict[ContactKind, str]] = {}
        for cp in self.session.exec(query):
            found.setdefault(cp.customer_id, {})[cp.kind] = cp.address
        return found

    def add_contact_point(self, point: ContactPoint) -> None:
        self.session.add(point)

    def remove_contact_point(self, point: ContactPoint) -> None:
        self.session.delete(point)
        self.session.flush()

    def remove_all_contact_points(self, customer_id: str) -> None:
        self.session.execute(
            delete(ContactPoint).where(col(ContactPoint.customer_id) == customer_id)
        )

    def by_refs(self, tenant_id: str, refs: list[str]) -> dict[str, Customer]:
        """Live customers of a tenant found by external id or, failing that, by nudge id."""
        found: dict[str, Customer] = {}
        for i in range(0, len(refs), 400):
            chunk = refs[i:i + 400]
            query = select(Customer).where(
                Customer.tenant_id == tenant_id,
                col(Customer.erased_at).is_(None),
                col(Customer.external_id).in_(chunk) | col(Customer.id).in_(chunk),
            )
            for row in self.session.exec(query):
                if row.external_id in chunk:
                    found[row.external_id] = row
                found.setdefault(row.id, row)
        return found
