"""Registering, finding, changing and erasing customers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engine.consent.resolution import BUSINESS
from engine.consent.service import ConsentService
from engine.customers.repository import CustomerRepository
from engine.customers.schemas import CustomerCreate, CustomerPublic, CustomerUpdate
from engine.errors import Conflict, NotFound
from engine.history.service import HistoryService
from engine.models import ContactKind, ContactPoint, Customer, HistoryKind, Tenant
from engine.platform.clock import Clock
from engine.platform.ids import new_id
from engine.platform.pagination import Page, decode_cursor, next_cursor

_PROFILE_FIELDS = ("external_id", "name", "locale", "timezone", "attributes")


class CustomerService:
    def __init__(
        self,
        repo: CustomerRepository,
        consent: ConsentService,
        history: HistoryService,
        clock: Clock,
        on_moved: Callable[[Customer], None] = lambda customer: None,
    ) -> None:
        self._repo = repo
        self.consent = consent
        self.history = history
        self.clock = clock
        self.on_moved = on_moved  # the customer's zone changed: their windows move too

    def create(self, tenant: Tenant, data: CustomerCreate) -> Customer:
        if data.external_id and self._repo.by_external_id(tenant.id, data.external_id):
            raise Conflict(f"a customer with external_id {data.external_id!r} exists")
        now = self.clock.now()
        customer = Customer(
            id=new_id("cus"),
            tenant_id=tenant.id,
            external_id=data.external_id,
            name=data.name,
            locale=data.locale or tenant.default_locale,
            timezone=data.timezone or tenant.default_timezone,
            attributes=data.attributes,
            created_at=now,
            updated_at=now,
        )
        self._repo.add(customer)
        self._set_contact(customer, ContactKind.email, data.email)
        self._set_contact(customer, ContactKind.phone, data.phone)
        changes = [(c.channel.value, c.topic, c.granted) for c in data.consents]
        self.consent.set_many(tenant.id, customer.id, changes, "business", BUSINESS)
        return customer

    def get(self, tenant_id: str, customer_id: str) -> Customer:
        customer = self._repo.get(tenant_id, customer_id)
        if customer is None:
            raise NotFound(f"customer {customer_id} not found")
        return customer

    def find(self, tenant_id: str, customer_id: str) -> Customer | None:
        """The customer, or None (for callers that answer a missing customer their own way)."""
        return self._repo.get(tenant_id, customer_id)

    def find_by_external_id(self, tenant_id: str, external_id: str) -> Customer | None:
        return self._repo.by_external_id(tenant_id, external_id)

    def by_external_id(self, tenant_id: str, external_id: str) -> Customer:
        customer = self._repo.by_external_id(tenant_id, external_id)
        if customer is None:
            raise NotFound(f"no customer with external_id {external_id!r}")
        return customer

    def page(self, tenant_id: str, cursor: str | None, limit: int) -> Page[CustomerPublic]:
        rows = self._repo.page(tenant_id, decode_cursor(cursor), limit)
        contacts = self._repo.contact_points_for([r.id for r in rows])
        items = [self._public(r, contacts.get(r.id, {})) for r in rows]
        return Page(items=items, next_cursor=next_cursor([r.id for r in rows], limit))

    def update(self, customer: Customer, change: CustomerUpdate, by: str) -> Customer:
        """Apply the fields present in ``change``; records what changed in the history."""
        fields = change.model_dump(exclude_unset=True)
        if fields.get("external_id") and fields["external_id"] != customer.external_id:
            other = self._repo.by_external_id(customer.tenant_id, fields["external_id"])
            if other is not None:
                raise Conflict(f"a customer with external_id {fields['external_id']!r} exists")
        changed = [
            name
            for name in _PROFILE_FIELDS
            if name in fields
            and fields[name] is not None
            and getattr(customer, name) != fields[name]
        ]
        for name in changed:
            setattr(customer, name, fields[name])
        for kind in (ContactKind.email, ContactKind.phone):
            if kind.value in fields and self._set_contact(customer, kind, fields[kind.value]):
                changed.append(kind.value)
        if changed:
            customer.updated_at = self.clock.now()
            self._repo.add(customer)
            if "timezone" in changed:
                self.on_moved(customer)
            self.history.record(
                customer.tenant_id,
                customer.id,
                HistoryKind.profile,
                f"profile changed by {by}: " + ", ".join(changed),
                {"changed": changed, "by": by},
            )
        return customer

    def public(self, customer: Customer) -> CustomerPublic:
        return self._public(
            customer, {k: cp.address for k, cp in self._repo.contact_points(customer.id).items()}
        )

    def contact_addresses(self, customer_id: str) -> dict[ContactKind, str]:
        return {k: cp.address for k, cp in self._repo.contact_points(customer_id).items()}

    def contact_points(self, customer_id: str) -> dict[ContactKind, ContactPoint]:
        return self._repo.contact_points(customer_id)

    def forget_contact_points(self, customer_id: str) -> None:
        """Erasure: every email address and phone number of the customer is removed."""
        self._repo.remove_all_contact_points(customer_id)

    def mark_erased(self, customer: Customer) -> None:
        """Erasure: the row stays as an anonymous tombstone (no external id, name or attributes)."""
        now = self.clock.now()
        customer.external_id = None
        customer.name = None
        customer.attributes = {}
        customer.erased_at = now
        customer.updated_at = now
        self._repo.add(customer)

    def _set_contact(self, customer: Customer, kind: ContactKind, address: str | None) -> bool:
        """Create, change or (for ``None``) remove one contact point; True if anything changed."""
        existing = self._repo.contact_points(customer.id).get(kind)
        if existing is not None and existing.address == address:
            return False
        if existing is not None:
            self._repo.remove_contact_point(existing)
        if address is not None:
            self._repo.add_contact_point(
                ContactPoint(
                    id=new_id("ctp"),
                    tenant_id=customer.tenant_id,
                    customer_id=customer.id,
                    kind=kind,
                    address=address,
                    created_at=self.clock.now(),
                )
            )
        return existing is not None or address is not None

    @staticmethod
    def _public(customer: Customer, contacts: dict[ContactKind, Any]) -> CustomerPublic:
        return CustomerPublic(
            id=customer.id,
            external_id=customer.external_id,
            name=customer.name,
            locale=customer.locale,
            timezone=customer.timezone,
            email=contacts.get(ContactKind.email),
            phone=contacts.get(ContactKind.phone),
            attributes=customer.attributes,
            created_at=customer.created_at,
            updated_at=customer.updated_at,
        )
