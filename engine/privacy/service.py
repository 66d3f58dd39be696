"""Export everything nudge holds about a customer; erase it, keeping an anonymous tombstone."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engine.consent.schemas import ConsentPublic, cell_public
from engine.consent.service import ConsentService
from engine.customers.service import CustomerService
from engine.history.service import HistoryService
from engine.models import Customer, HistoryKind
from engine.platform.clock import Clock
from engine.preferences.service import PreferencesService

Section = Callable[[Customer], Any]


class PrivacyService:
    """Export and erasure, through each domain's own service. Other domains add their own data
    through ``sections`` (export) and ``erasers`` (erasure)."""

    def __init__(
        self,
        customers: CustomerService,
        preferences: PreferencesService,
        history: HistoryService,
        consents: ConsentService,
        clock: Clock,
        sections: dict[str, Section] | None = None,
        erasers: list[Callable[[Customer], None]] | None = None,
    ) -> None:
        self.customers = customers
        self.preferences = preferences
        self.history = history
        self.consents = consents
        self.clock = clock
        self.sections = sections or {}
        self.erasers = erasers or []

    def export(self, customer: Customer) -> dict[str, Any]:
        consents = self.consents.list(customer.id)
        grid = self.consents.grid(customer.tenant_id, customer.id)
        entries = self.history.all_for(customer.id)
        data: dict[str, Any] = {
            "customer": self.customers.public(customer).model_dump(mode="json"),
            "consents": [ConsentPublic.model_validate(c).model_dump(mode="json") for c in consents],
            "consent_grid": [cell_public(c).model_dump(mode="json") for c in grid],
            "preferences": self.preferences.get(customer.id).model_dump(mode="json"),
            "history": [e.model_dump(mode="json") for e in entries],
        }
        for name, section in self.sections.items():
            data[name] = section(customer)
        data["exported_at"] = self.clock.now().isoformat()
        return data

    def erase(self, customer: Customer, by: str) -> None:
        """Remove personal data; keep the row and the shape of the history as a tombstone."""
        for eraser in self.erasers:
            eraser(customer)
        self.customers.forget_contact_points(customer.id)
        self.consents.forget(customer.id)
        self.preferences.forget(customer.id)
        self.history.anonymise(customer.id)
        self.customers.mark_erased(customer)
        self.history.record(
            customer.tenant_id,
            customer.id,
            HistoryKind.erasure,
            f"personal data erased at the request of {by}",
            {"by": by},
        )
