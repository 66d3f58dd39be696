"""SQL for customers and contact points."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from engine.customers.refs import CustomerRef
from engine.errors import Conflict
from engine.models import ContactKind, ContactPoint, Customer
from engine.models.types import decoded
from engine.platform.driver_sql import DriverStatements, in_lists


class _CustomerRows(DriverStatements):
    def by(self, column: str, tenant_id: str, refs: list[str]) -> list[tuple[Any, ...]]:
        """(ref, id, timezone, locale, attributes) of the tenant's live customers whose
        ``column`` is among ``refs``, the attributes as JSON text on both databases (see
        `decoded`: most customers' are empty, which needs no decoding)."""
        if not self.sqlite:
            return self._query(_BY_ARRAY.format(column=column), [list(set(refs)), tenant_id])
        rows = []
        for chunk in in_lists(refs):
            sql = (
                f"SELECT {column}, id, timezone, locale, attributes FROM customers "
                "WHERE tenant_id = ? AND erased_at IS NULL "
                f"AND {column} IN ({', '.join(['?'] * len(chunk))})"
            )
            rows.extend(self._query(sql, [tenant_id, *chunk]))
        return rows


# PostgreSQL: all the names in one array parameter, one statement, instead of lists of 900
# parameters, each of which the planner answered with a scan of the whole table.
_BY_ARRAY = (
    "SELECT c.{column}, c.id, c.timezone, c.locale, c.attributes::text "
    "FROM unnest(%s::text[]) AS wanted(ref) JOIN customers c ON c.{column} = wanted.ref "
    "WHERE c.tenant_id = %s AND c.erased_at IS NULL"
)


class CustomerRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, customer: Customer) -> None:
        """Insert or update; a clash on (tenant, external_id) becomes a Conflict."""
        try:
            with self.session.begin_nested():
                self.session.add(customer)
        except IntegrityError:
            raise Conflict(f"a customer with external_id {customer.external_id!r} exists") from None

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

    def by_refs(self, tenant_id: str, refs: list[str]) -> dict[str, CustomerRef]:
        """Live customers of a tenant found by external id or, failing that, by nudge id.

        Through the driver, not ORM objects or Core results: this runs on every ingested
        batch, and a tenant's first batches look up one customer per reading."""
        rows = _CustomerRows(self.session)
        found: dict[str, CustomerRef] = {}
        missing = refs
        for column in ("external_id", "id"):
            for ref, id_, zone, locale, attributes in rows.by(column, tenant_id, missing):
                values = {} if attributes == "{}" else decoded(attributes)
                found[ref] = CustomerRef(id_, tenant_id, zone, locale, values)
            missing = [ref for ref in refs if ref not in found] if len(found) < len(refs) else []
        return found
