"""What a batch reads and writes through, over one session.

Ingest composes feeds (readings and events as stored) and evaluation (trigger states, window
aggregates, decisions): it hands each its own stores, as the one value that domain defines,
and names no repository. Of other domains it needs only what the interfaces below name; the
wiring (`engine.processes.container.ingest_stores`) builds every store, so ingest constructs
none."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from sqlmodel import Session

from engine.customers.refs import CustomerRef
from engine.evaluation.ports import NotificationStore
from engine.evaluation.stores import EvaluationStores
from engine.feeds.stores import FeedStores
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
    feeds: FeedStores
    evaluation: EvaluationStores
    notifications: NotificationStore


StoresOver = Callable[[Session], Stores]
