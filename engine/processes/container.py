"""Builds the services for one unit of work (one session), wired together once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import cached_property

from sqlmodel import Session

from engine.auth.service import Authenticator
from engine.catalog.backtest import BacktestService
from engine.catalog.repository import RuleRepository
from engine.catalog.service import CatalogService
from engine.consent.repository import ConsentRepository
from engine.consent.service import ConsentService
from engine.customers.repository import CustomerRepository
from engine.customers.service import CustomerService
from engine.delivery.wakeups import announce_due
from engine.evaluation.decisions import DecisionWriter
from engine.evaluation.occurrences import OccurrenceEvaluator
from engine.evaluation.threshold import ThresholdEvaluator
from engine.feeds.cache import IngestCache
from engine.feeds.events import EventFeedService
from engine.feeds.events_repository import EventRepository
from engine.feeds.repository import ReadingRepository
from engine.feeds.service import FeedService
from engine.history.repository import HistoryRepository
from engine.history.service import HistoryService
from engine.idempotency.repository import IdempotencyRepository
from engine.idempotency.service import IdempotencyService
from engine.inbound.repository import InboundRepository
from engine.inbound.service import InboundService
from engine.message_templates.repository import TemplateRepository
from engine.message_templates.service import TemplateService
from engine.models import Customer
from engine.notifications.repository import NotificationRepository
from engine.platform.clock import Clock
from engine.platform.config import Settings
from engine.platform.db import after_commit
from engine.preferences.repository import PreferencesRepository
from engine.preferences.service import PreferencesService
from engine.privacy.service import PrivacyService
from engine.tenants.repository import TenantRepository
from engine.tenants.service import TenantService
from engine.triggers.repository import TriggerRepository
from engine.triggers.service import TriggerService


class Services:
    def __init__(
        self,
        session: Session,
        settings: Settings,
        clock: Clock,
        cache: IngestCache,
        wake: Callable[[], None] = lambda: None,
    ) -> None:
        self.session = session
        self.settings = settings
        self.clock = clock
        self.cache = cache
        self._wake = wake
        self._wake_queued = False

    def _wake_after_commit(self) -> None:
        """New due work: wake the dispatchers, in this process and (on PostgreSQL) in others,
        once this unit of work has committed."""
        if not self._wake_queued:
            self._wake_queued = True
            after_commit(self.session, self._wake)
            announce_due(self.session)

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
            CustomerRepository(self.session),
            self.consent,
            self.history,
            self.clock,
            on_moved=lambda customer: self.triggers.customer_moved(customer),
        )

    @cached_property
    def privacy(self) -> PrivacyService:
        return PrivacyService(
            self.customers,
            self.preferences,
            self.history,
            self.consent,
            self.clock,
            sections={"triggers": self.triggers.export_for},
            erasers=[self.triggers.erase_for, self._forget_answers],
        )

    def _forget_answers(self, customer: Customer) -> None:
        ttl = timedelta(hours=self.settings.idempotency_ttl_hours)
        repo = IdempotencyRepository(self.session)
        IdempotencyService(repo, self.clock, ttl).forget_customer(customer.id)

    @cached_property
    def catalog(self) -> CatalogService:
        return CatalogService(
            RuleRepository(self.session),
            self.clock,
            on_retire=lambda rule: self.triggers.rule_retired(rule),
        )

    @cached_property
    def readings(self) -> ReadingRepository:
        return ReadingRepository(self.session)

    @cached_property
    def trigger_repo(self) -> TriggerRepository:
        return TriggerRepository(self.session)

    @cached_property
    def notification_repo(self) -> NotificationRepository:
        return NotificationRepository(self.session)

    @cached_property
    def triggers(self) -> TriggerService:
        return TriggerService(
            self.trigger_repo,
            self.catalog,
            self.readings,
            self.history,
            self.clock,
            self.occurrences,
            self.event_repo,
        )

    @cached_property
    def decisions(self) -> DecisionWriter:
        return DecisionWriter(
            self.notification_repo, self.history, self.clock, self._wake_after_commit
        )

    @cached_property
    def threshold(self) -> ThresholdEvaluator:
        return ThresholdEvaluator(self.readings, self.trigger_repo, self.decisions, self.clock)

    @cached_property
    def feeds(self) -> FeedService:
        return FeedService(
            CustomerRepository(self.session),
            TenantRepository(self.session),
            self.readings,
            self.threshold,
            self.decisions,
            self.cache,
            self.clock,
        )

    @cached_property
    def event_repo(self) -> EventRepository:
        return EventRepository(self.session)

    @cached_property
    def occurrences(self) -> OccurrenceEvaluator:
        return OccurrenceEvaluator(
            self.trigger_repo, self.notification_repo, self.decisions, self.clock
        )

    @cached_property
    def events(self) -> EventFeedService:
        return EventFeedService(
            CustomerRepository(self.session),
            TenantRepository(self.session),
            self.event_repo,
            self.occurrences,
            self.decisions,
            self.clock,
        )

    @cached_property
    def backtest(self) -> BacktestService:
        return BacktestService(self.catalog, self.customers, self.readings)

    @cached_property
    def templates(self) -> TemplateService:
        return TemplateService(TemplateRepository(self.session), self.clock)

    @cached_property
    def inbound(self) -> InboundService:
        return InboundService(
            InboundRepository(self.session), self.consent, self.history, self.settings, self.clock
        )
