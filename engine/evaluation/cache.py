"""What ingest looks up for every batch (customers by reference, their threshold triggers),
kept in memory per tenant while the tenant's configuration epoch stays the same.

Every change that could make an entry wrong (a changed or erased customer, any trigger
change, a rule's status) bumps the tenant's epoch in the same transaction, from one flush hook;
each batch reads the epoch once and drops the tenant's entries when it moved, in any process.
"""

from __future__ import annotations

import threading
from collections.abc import (
    Callable,
    Collection,
    Iterable,
    Iterator,
    Mapping,
    MutableMapping,
    Sequence,
)
from dataclasses import dataclass, field
from typing import NamedTuple, TypeVar

from sqlalchemy import event, update
from sqlalchemy.orm import Session, UOWTransaction
from sqlmodel import col

from engine.customers.refs import CustomerRef
from engine.evaluation.aggregation import Stream, watched_streams
from engine.evaluation.known import KnownTotals
from engine.evaluation.plan import Plan
from engine.models import Customer, Rule, Tenant, Trigger

MAX_ENTRIES = 2_000_000


@dataclass
class TenantEntries:
    epoch: int
    refs: dict[str, CustomerRef] = field(default_factory=dict)
    # Each customer's threshold plans: most have one, kept as the plan itself rather than in a
    # list of its own (one object less per customer for the garbage collector to walk).
    plans: dict[str, Plan | list[Plan]] = field(default_factory=dict)
    # Window totals as this process last stored them: a batch takes them as they are instead
    # of reading them (it checks them when it writes). None once they proved stale, as when
    # other processes write the same windows.
    totals: KnownTotals | None = field(default_factory=KnownTotals)
    # (trigger, window start) where the trigger fired, committed, and re-arms only in the
    # next window: nothing more can be decided there (a state never leaves "fired" then).
    fired: set[tuple[str, int]] = field(default_factory=set)

    @property
    def size(self) -> int:
        return len(self.refs) + len(self.plans) + len(self.totals or ()) + len(self.fired)


class IngestCache:
    def __init__(self, max_entries: int = MAX_ENTRIES, fast_path: bool = True) -> None:
        self.max_entries = max_entries
        # Whether threshold windows of recognised conditions are decided in bulk from the
        # cached plans' bounds, running the condition only where it holds (off: every
        # window runs its condition; the decisions are the same).
        self.fast_path = fast_path
        # Whether windows a trigger has fired in (and re-arms only in the next) are left alone
        # by later batches (off: their state is stepped each time; the decisions are the same).
        self.skip_fired = True
        # Whether a batch that fits `warm_batch` is keyed and evaluated from what is kept here
        # in one pass (off: the general path; the decisions are the same).
        self.warm_path = True
        self._tenants: dict[str, TenantEntries] = {}
        self._lock = threading.Lock()
        # (tenant, metric) → its unit; fixed once set, so never stale.
        self.metric_units: dict[tuple[str, str], str] = {}

    def entries(self, tenant_id: str, epoch: int) -> TenantEntries:
        with self._lock:
            found = self._tenants.get(tenant_id)
            if found is None or found.epoch != epoch or found.size > self.max_entries:
                found = self._tenants[tenant_id] = TenantEntries(epoch)
            return found


K = TypeVar("K")
V = TypeVar("V")


def read_through(
    known: Mapping[K, V],
    keys: Iterable[K],
    load: Callable[[list[K]], Mapping[K, V]],
    keep: MutableMapping[K, V] | None = None,
) -> dict[K, V]:
    """The values of ``keys`` found in ``known``, loading only the others in one call (and
    remembering what was loaded in ``keep``)."""
    found: dict[K, V] = {}
    missing: list[K] = []
    for key in keys:
        value = known.get(key)
        if value is None:
            missing.append(key)
        else:
            found[key] = value
    if missing:
        loaded = load(missing)
        if keep is not None:
            keep.update(loaded)
        found.update(loaded)
    return found


def refs_through(
    entries: TenantEntries,
    refs: Iterable[str],
    load: Callable[[list[str]], dict[str, CustomerRef]],
) -> dict[str, CustomerRef]:
    """Customer references resolved from memory, loading only those not seen yet."""
    return read_through(entries.refs, refs, load, keep=entries.refs)


def plans_through(
    entries: TenantEntries,
    customer_ids: Iterable[str],
    load: Callable[[list[str]], list[Plan]],
) -> list[Plan]:
    """Plans of these customers' active threshold triggers, loading only customers not seen yet."""
    wanted = dict.fromkeys(customer_ids)
    known = entries.plans
    found: list[Plan] = []
    missing: list[str] = []
    for customer in wanted:
        plans = known.get(customer)
        if plans is None:
            missing.append(customer)
        elif missing:
            continue  # all of them are listed below, in order
        elif isinstance(plans, list):
            found.extend(plans)
        else:
            found.append(plans)
    if not missing:
        return found
    known.update(_by_customer(missing, load(missing)))
    found = []
    for customer in wanted:
        plans = known[customer]
        if isinstance(plans, list):
            found.extend(plans)
        else:
            found.append(plans)
    return found


class Cached(NamedTuple):
    """A batch's customers and threshold plans, all found in memory (`cached_batch`)."""

    by_ref: dict[str, CustomerRef]
    by_id: dict[str, CustomerRef]
    plans: list[Plan]  # of the metrics asked for
    fed: dict[tuple[str, str], list[Stream]]  # `watched_streams` of ``plans``
    # Whether every one of these customers has a plan on every metric asked for: then each
    # reading of theirs on those metrics feeds a plan, and none needs to be looked up in ``fed``.
    feeds_all: bool = False


def cached_batch(
    entries: TenantEntries, refs: Iterable[str], metrics: Collection[str]
) -> Cached | None:
    """The customers these references name and the plans of their threshold triggers on these
    metrics, in one pass over the references, when all of them are in memory; None as soon as
    one is not (then `refs_through` and `plans_through` load what is missing). What a
    tenant's later batches look up, without a dict and a list for each step."""
    known_refs, known_plans = entries.refs, entries.plans
    by_ref: dict[str, CustomerRef] = {}
    by_id: dict[str, CustomerRef] = {}
    plans: list[Plan] = []
    fed: dict[tuple[str, str], list[Stream]] = {}
    append = plans.append
    for ref in refs:
        customer = known_refs.get(ref)
        if customer is None:
            return None
        customer_id = customer.id
        own = known_plans.get(customer_id)
        if own is None:
            return None
        by_ref[ref] = by_id[customer_id] = customer
        if not isinstance(own, list):  # one plan, as most customers have: its stream alone
            stream = own.stream
            if stream[1] in metrics:
                append(own)
                fed[(customer_id, stream[1])] = [stream]
            continue
        for plan in own:
            stream = plan.stream
            if stream[1] in metrics:
                append(plan)
                pair = (stream[0], stream[1])
                streams = fed.get(pair)
                if streams is None:
                    fed[pair] = [stream]
                elif stream not in streams:
                    streams.append(stream)
    return Cached(by_ref, by_id, plans, fed, len(fed) == len(by_id) * len(metrics))


class CachedStreams(Mapping[tuple[str, str], Sequence[Stream]]):
    """`watched_streams` of a tenant's cached plans (``plans``), worked out for a (customer,
    metric) pair only when asked for: what a batch evaluated from them (`warm_batch`) feeds."""

    def __init__(self, plans: Mapping[str, Plan | list[Plan]]) -> None:
        self._plans = plans

    def __getitem__(self, pair: tuple[str, str]) -> Sequence[Stream]:
        own = self._plans.get(pair[0])
        if own is None:
            raise KeyError(pair)
        plans = own if isinstance(own, list) else [own]
        streams = watched_streams(p.stream for p in plans if p.stream[1] == pair[1])
        if not streams:
            raise KeyError(pair)
        return streams[pair]

    def __iter__(self) -> Iterator[tuple[str, str]]:
        for own in list(self._plans.values()):
            plans = own if isinstance(own, list) else [own]
            yield from dict.fromkeys((p.stream[0], p.stream[1]) for p in plans)

    def __len__(self) -> int:
        return sum(1 for _ in self)


def _by_customer(customers: list[str], plans: list[Plan]) -> dict[str, Plan | list[Plan]]:
    """Each customer's plans: a single plan as itself, several (or none) in a list."""
    grouped: dict[str, Plan | list[Plan]] = {}
    for plan in plans:
        customer = plan.trigger.customer_id
        before = grouped.get(customer)
        if before is None:
            grouped[customer] = plan
        elif isinstance(before, list):
            before.append(plan)
        else:
            grouped[customer] = [before, plan]
    return {c: grouped.get(c) or [] for c in customers}


def _changed_tenants(session: Session) -> set[str]:
    changed = [*session.dirty, *session.deleted]
    tenants = {o.tenant_id for o in changed if isinstance(o, Customer | Trigger | Rule)}
    tenants |= {o.tenant_id for o in session.new if isinstance(o, Trigger)}
    return tenants


@event.listens_for(Session, "before_flush")
def _bump_epochs(session: Session, _flush: UOWTransaction, _instances: object) -> None:
    for tenant_id in sorted(_changed_tenants(session)):
        session.execute(
            update(Tenant)
            .where(col(Tenant.id) == tenant_id)
            .values(config_epoch=col(Tenant.config_epoch) + 1)
        )
