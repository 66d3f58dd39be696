"""How each service is built for one unit of work (one session).

A service gets exactly the repositories and collaborators it uses, and nothing hands out a
repository: every repository below is private to the wiring. Job runners and commands receive
`Services` (`Runtime.run`, `Runtime.services`); a request receives single services
(`api.deps`); no service receives `Services`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property, partial

from sqlmodel import Session

from engine.auth.service import Authenticator
from engine.catalog.backtest import BacktestService
from engine.catalog.repository import RuleRepository
from engine.catalog.service import CatalogService
from engine.consent.repository import ConsentRepository
from engine.consent.service import ConsentService
from engine.console.backtests import ConsoleBacktests
from engine.console.deliveries import ConsoleDeliveries
from engine.console.impact import ImpactService
from engine.console.repository import ConsoleRepository, DeliveryRepository, ImpactRepository
from engine.console.rules import ConsoleRules
from engine.console.templates import ConsoleTemplates
from engine.customers.repository import CustomerRepository
from engine.customers.service import CustomerService
from engine.delivery.wakeups import announce_due
from engine.evaluation.aggregates_repository import AggregateRepository
from engine.evaluation.cache import IngestCache
from engine.evaluation.decisions import DecisionWriter
from engine.evaluation.notices import Notices
from engine.evaluation.occurrences import OccurrenceEvaluator
from engine.evaluation.ports import AggregateStore
from engine.evaluation.repository import EvaluationRepository
from engine.evaluation.status import TriggerWindows
from engine.evaluation.stores import EvaluationStores
from engine.evaluation.threshold import ThresholdEvaluator
from engine.feeds.erasure import FeedErasure
from engine.feeds.events_repository import EventRepository
from engine.feeds.repository import ReadingRepository
from engine.feeds.stored import StoredReadings
from engine.feeds.stores import FeedStores
from engine.history.repository import HistoryRepository
from engine.history.service import HistoryService
from engine.idempotency.repository import IdempotencyRepository
from engine.idempotency.service import IdempotencyService
from engine.inbound.repository import InboundRepository
from engine.inbound.service import InboundService
from engine.ingest.catchup import ScheduleCatchUp
from engine.ingest.events import EventFeedService
from engine.ingest.phases import Phases
from engine.ingest.readings import FeedService
from engine.ingest.stores import Stores
from engine.message_templates.repository import TemplateRepository
from engine.message_templates.service import TemplateService
from engine.models import Customer
from engine.notifications.repository import NotificationRepository
from engine.notifications.service import NotificationService
from engine.platform.clock import Clock
from engine.platform.config import Settings
from engine.platform.db import after_commit, reads_apart
from engine.portal.access import PortalAccess
from engine.portal.preview import PreviewService
from engine.portal.repository import PortalRepository
from engine.portal.views import PortalViews
from engine.preferences.repository import PreferencesRepository
from engine.preferences.service import PreferencesService
from engine.privacy.service import PrivacyService
from engine.tenants.repository import TenantRepository
from engine.tenants.service import TenantService
from engine.triggers.repository import TriggerRepository
from engine.triggers.service import TriggerService


def wake_once(session: Session, wake: Callable[[], None]) -> Callable[[], None]:
    """New due work: wake the dispatchers, in this process and (on PostgreSQL) in others, once
    this unit of work has committed; asked many times, it queues the wake-up once."""
    queued = False

    def queue() -> None:
        nonlocal queued
        if not queued:
            queued = True
            after_commit(session, wake)
            announce_due(session)

    return queue


def stored_answers(session: Session, clock: Clock, ttl: timedelta) -> IdempotencyService:
    """The answers kept for ``Idempotency-Key`` replays, over one unit of work."""
    return IdempotencyService(IdempotencyRepository(session), clock, ttl)


@dataclass(frozen=True)
class Ingest:
    """Rules, triggers, evaluation and ingest, wired together."""

    catalog: CatalogService
    triggers: TriggerService
    feeds: FeedService
    events: EventFeedService
    readings: StoredReadings  # read by back-tests and previews
    erasure: FeedErasure


def ingest_stores(session: Session) -> Stores:
    """The stores a batch (or a schedule trigger's catch-up) reads and writes, over one
    session: the unit of work's own, or a read snapshot beside it."""
    readings = ReadingRepository(session)
    windows = AggregateStore(AggregateRepository(session), readings)
    return Stores(
        customers=CustomerRepository(session),
        tenants=TenantRepository(session),
        feeds=FeedStores(readings, EventRepository(session)),
        evaluation=EvaluationStores(EvaluationRepository(session), windows),
        notifications=NotificationRepository(session),
    )


def build_ingest(
    session: Session,
    history: HistoryService,
    clock: Clock,
    cache: IngestCache,
    wake: Callable[[], None],
) -> Ingest:
    """The one place that decides how rules, triggers, evaluation and ingest are built."""
    phases = Phases(session, ingest_stores)
    stores = phases.write
    catalog = CatalogService(RuleRepository(session), clock)
    decisions = DecisionWriter(stores.notifications, history, clock, wake)
    occurrences = OccurrenceEvaluator(Notices(stores.notifications, decisions, clock))
    triggers = TriggerService(
        TriggerRepository(session),
        catalog,
        history,
        clock,
        occurrences,
        TriggerWindows(stores.evaluation.triggers, stores.evaluation.windows),
        ScheduleCatchUp(session, ingest_stores, occurrences, clock),
    )
    catalog.on_retire = triggers.rule_retired
    threshold = ThresholdEvaluator(decisions, clock)
    feeds = FeedService(phases, threshold, decisions, cache, clock)
    events = EventFeedService(phases, occurrences, decisions, clock)
    readings = stores.feeds.readings
    erasure = FeedErasure(readings, stores.feeds.events)
    return Ingest(catalog, triggers, feeds, events, StoredReadings(readings), erasure)


class Services:
    """One unit of work's services, each built once, on first use."""

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
        self._cache = cache
        self._wake = wake_once(session, wake)

    @cached_property
    def _ingest(self) -> Ingest:
        return build_ingest(self.session, self.history, self.clock, self._cache, self._wake)

    @cached_property
    def tenants(self) -> TenantService:
        return TenantService(TenantRepository(self.session), self.clock)

    @cached_property
    def auth(self) -> Authenticator:
        return Authenticator(
            self.tenants,
            self.settings,
            self.clock,
            customers=lambda tenant_id, customer_id: self.customers.find(tenant_id, customer_id),
            reads_apart=partial(reads_apart, self.session),
        )

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
            on_moved=self.triggers.customer_moved,
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
            erasers=[
                self.triggers.erase_for,
                self._ingest.erasure.erase_for,
                lambda customer: self.notifications.erase_for(customer.id, self.clock.now()),
                self._forget_answers(),
            ],
        )

    def _forget_answers(self) -> Callable[[Customer], None]:
        ttl = timedelta(hours=self.settings.idempotency_ttl_hours)
        answers = stored_answers(self.session, self.clock, ttl)
        return lambda customer: answers.forget_customer(customer.id)

    @cached_property
    def catalog(self) -> CatalogService:
        return self._ingest.catalog

    @cached_property
    def triggers(self) -> TriggerService:
        return self._ingest.triggers

    @cached_property
    def feeds(self) -> FeedService:
        return self._ingest.feeds

    @cached_property
    def events(self) -> EventFeedService:
        return self._ingest.events

    @cached_property
    def backtest(self) -> BacktestService:
        return BacktestService(self.catalog, self.customers, self._ingest.readings)

    @cached_property
    def templates(self) -> TemplateService:
        return TemplateService(TemplateRepository(self.session), self.clock)

    @cached_property
    def inbound(self) -> InboundService:
        return InboundService(
            InboundRepository(self.session), self.consent, self.history, self.settings, self.clock
        )

    @cached_property
    def notifications(self) -> NotificationService:
        return NotificationService(NotificationRepository(self.session), self.preferences)

    # The customer's pages.
    @cached_property
    def portal_access(self) -> PortalAccess:
        return PortalAccess(
            PortalRepository(self.session),
            self.customers,
            self.tenants,
            self.consent,
            self.history,
            self.settings,
            self.clock,
        )

    @cached_property
    def portal_views(self) -> PortalViews:
        return PortalViews(self.triggers, self.catalog, PortalRepository(self.session))

    @cached_property
    def preview(self) -> PreviewService:
        return PreviewService(self._ingest.readings, PortalRepository(self.session), self.clock)

    # The operations console.
    @cached_property
    def console_rules(self) -> ConsoleRules:
        repo = ConsoleRepository(self.session)
        return ConsoleRules(self.catalog, repo, self.history, self.clock)

    @cached_property
    def console_templates(self) -> ConsoleTemplates:
        return ConsoleTemplates(self.templates, self.catalog)

    @cached_property
    def console_backtests(self) -> ConsoleBacktests:
        return ConsoleBacktests(self.catalog, self.customers, self._ingest.readings)

    @cached_property
    def console_deliveries(self) -> ConsoleDeliveries:
        return ConsoleDeliveries(DeliveryRepository(self.session), self.history, self.clock)

    @cached_property
    def impact(self) -> ImpactService:
        return ImpactService(ImpactRepository(self.session))
