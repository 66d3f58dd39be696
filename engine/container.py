"""Builds the services for one unit of work (one session), wired together once."""

from __future__ import annotations

from functools import cached_property

from sqlmodel import Session

from engine.auth.service import Authenticator
from engine.clock import Clock
from engine.config import Settings
from engine.consent.repository import ConsentRepository
from engine.consent.service import ConsentService
from engine.customers.repository import CustomerRepository
from engine.customers.service import CustomerService
from engine.history.repository import HistoryRepository
from engine.history.service import HistoryService
from engine.preferences.repository import PreferencesRepository
from engine.preferences.service import PreferencesService
from engine.privacy.service import PrivacyService
from engine.tenants.repository import TenantRepository
from engine.tenants.service import TenantService


class Services:
    def __init__(self, session: Session, settings: Settings, clock: Clock) -> None:
        self.session = session
        self.settings = settings
        self.clock = clock

    @cached_property
    def tenants(self) -> TenantService:
        return TenantService(TenantRepository(self.session), self.clock)

    @cached_property
    def auth(self) -> Authenticator:
        return Authenticator(TenantRepository(self.session), self.settings, self.clock)

    @cached_property
    def history(self) -> HistoryService:
        return HistoryService(HistoryRepository(self.session), self.clock)

    @cached_property
    def consent(self) -> ConsentService:
        return ConsentService(ConsentRepository(self.session), self.history, self.clock)

    @cached_property
    def preferences(self) -> PreferencesService:
        return PreferencesService(PreferencesRepository(self.session), self.history, self.clock)

    @cached_property
    def customers(self) -> CustomerService:
        return CustomerService(
            CustomerRepository(self.session), self.consent, self.history, self.clock
        )

    @cached_property
    def privacy(self) -> PrivacyService:
        return PrivacyService(
            self.customers,
            self.preferences,
            self.history,
            ConsentRepository(self.session),
            self.clock,
        )
