"""What a batch reads and writes through, over one session.

Ingest composes feeds (readings and events as stored) and evaluation (trigger states, window
aggregates, decisions): it works with their stores directly. Of other domains it needs only
what the interfaces below name; the wiring (`engine.processes.container.ingest_stores`)
builds every store, so ingest constructs none."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from sqlmodel import Session

from engine.customers.refs import CustomerRef
from engine.evaluation.aggregates_repository import AggregateRepository
from engine.evaluation.ports import AggregateStore, NotificationStore
from engine.evaluation.repository import EvaluationRepository
from engine.feeds.events_repository import EventRepository
from engine.feeds.repository import ReadingRepository
from engine.models import Customer


class CustomerDirectory(Protocol):
    """Customers as a batch names them (by id or external id)."""

    def by_refs(self, tenant_id: str, refs: list[str]) -> dict[str, CustomerRef]: ...

    def get(self, tenant_id: str, customer_id: str) -> Customer | None: ...


class TenantEpochs(Protocol):
    """The tenant's configuration epoch, bumped by every change to its customers, triggers
    and rules; ``hold`` share-locks it until the transaction ends (PostgreSQL)."""

    def epoch(self, tenant_id: str, *, hold: bool = False) -> int: ...


@dataclass(frozen=True)
class Stores:
    customers: CustomerDirectory
    tenants: TenantEpochs
    readings: ReadingRepository
    events: EventRepository
    triggers: EvaluationRepository
    aggregates: AggregateRepository
    notifications: NotificationStore

    @property
    def windows(self) -> AggregateStore:
        """Window aggregates with the stored readings they are rebuilt from."""
        return AggregateStore(self.aggregates, self.readings)


StoresOver = Callable[[Session], Stores]
