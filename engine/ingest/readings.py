"""Ingest readings: resolve customers, evaluate the threshold triggers they feed on a read
snapshot, then store readings, aggregates, trigger states and decisions in one write
transaction, which keeps the decisions only if their inputs did not move meanwhile."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from engine.customers.refs import CustomerRef
from engine.evaluation.aggregation import Watched
from engine.evaluation.cache import (
    CachedStreams,
    IngestCache,
    TenantEntries,
    cached_batch,
    refs_through,
)
from engine.evaluation.decisions import DecisionWriter
from engine.evaluation.plan import Plan
from engine.evaluation.threshold import Prepared, ThresholdEvaluator, watched
from engine.evaluation.warm import warm_batch
from engine.feeds import store
from engine.feeds.parsing import ParseResult, Rejection
from engine.feeds.records import ReadingRow
from engine.feeds.schemas import BatchResult
from engine.ingest.collector import collector_held
from engine.ingest.phases import ATTEMPTS, Phases
from engine.ingest.result import finished
from engine.ingest.stores import Stores
from engine.platform.clock import Clock
from engine.platform.db import after_commit
from engine.platform.ids import new_id
from engine.platform.metrics import readings_ingested


@dataclass
class Draft:
    """A batch keyed and evaluated on a snapshot, ready to be written."""

    epoch: int
    entries: TenantEntries
    result: BatchResult
    refused: list[Rejection]  # by the parser
    keyed: store.Keyed
    rows: list[ReadingRow]  # the keyed rows, to be stored
    feeding: int  # readings that feed some trigger
    first_units: dict[str, str]  # metrics this batch gives their unit
    prepared: Prepared


class FeedService:
    def __init__(
        self,
        phases: Phases,
        evaluator: ThresholdEvaluator,
        writer: DecisionWriter,
        cache: IngestCache,
        clock: Clock,
    ) -> None:
        self.phases = phases
        self.evaluator = evaluator
        self.writer = writer
        self.cache = cache
        self.clock = clock

    def ingest(self, tenant_id: str, parsed: ParseResult) -> BatchResult:
        with collector_held():
            return self._ingest(tenant_id, parsed)

    def _ingest(self, tenant_id: str, parsed: ParseResult) -> BatchResult:
        batch, received = new_id("bat"), int(self.clock.now().timestamp())
        exact = False  # first take readings the aggregates do not cover as new
        for attempt in range(ATTEMPTS):
            with self.phases.snapshot() as reads:
                draft = self._draft(reads, tenant_id, parsed, batch, received, exact)
            result = self._write(tenant_id, draft, batch)
            if result is not None:
                return result
            self.phases.again(attempt)
            exact = True
        raise AssertionError("unreachable: the last attempt raises Busy")

    def _draft(
        self,
        reads: Stores,
        tenant_id: str,
        parsed: ParseResult,
        batch: str,
        received: int,
        exact: bool,
    ) -> Draft:
        epoch = reads.tenants.epoch(tenant_id)
        entries = self.cache.entries(tenant_id, epoch)
        units, first = store.metric_units(
            reads.feeds, self.cache.metric_units, tenant_id, parsed.rows
        )
        result = BatchResult(batch=batch, notes=list(parsed.notes))
        drafted = partial(Draft, epoch, entries, result, list(parsed.rejections))
        keyed = None
        if not exact:
            keyed = self._keyed_from_cache(tenant_id, parsed, entries, units, batch, received)
        if keyed is not None:
            rows = list(keyed.rows.values())
            warm = self._warm(reads, entries, rows)
            if warm is not None:
                return drafted(keyed, rows, len(warm.new), first, warm)
        refs = {row.customer for row in parsed.rows}
        cached = cached_batch(entries, refs, units)
        if cached is None:
            found = refs_through(entries, refs, lambda m: reads.customers.by_refs(tenant_id, m))
        else:
            found = cached.by_ref
        if keyed is None:
            keyed = store.keyed(tenant_id, parsed.rows, found, units, received, batch)
            rows = list(keyed.rows.values())
        if cached is None:
            by_id = {c.id: c for c in found.values()}
            plans = self.evaluator.plans(reads.evaluation, by_id, rows, entries)
            # Every customer of the batch and their plans are cached now.
            warm = None if exact else self._warm(reads, entries, rows)
            if warm is not None:
                return drafted(keyed, rows, len(warm.new), first, warm)
            fed: Watched = watched(plans)
        else:
            by_id, plans, fed = cached.by_id, cached.plans, cached.fed
        if cached is not None and cached.feeds_all:
            feeding = rows  # each row is of a listed customer and metric (`keyed`)
        else:
            feeding = [r for r in rows if (r[0], r[1]) in fed]
        prepared = self._prepare(reads, by_id, plans, fed, feeding, entries, exact)
        return drafted(keyed, rows, len(feeding), first, prepared)

    def _keyed_from_cache(
        self,
        tenant_id: str,
        parsed: ParseResult,
        entries: TenantEntries,
        units: dict[str, str],
        batch: str,
        received: int,
    ) -> store.Keyed | None:
        """The batch keyed with the customers cached for the tenant, where they all are and
        the batch may be evaluated warm (`_warm`); None otherwise."""
        rows, refs = parsed.rows, entries.refs
        if not (self.cache.warm_path and self.cache.fast_path and rows):
            return None
        if rows[0].customer not in refs or rows[-1].customer not in refs:
            return None  # a tenant's first batches: not worth keying twice
        keyed = store.keyed(tenant_id, rows, refs, units, received, batch)
        if any(r.field == "customer" for r in keyed.rejections):
            return None  # not cached, or not a customer: the general path finds out which
        return keyed

    def _warm(
        self, reads: Stores, entries: TenantEntries, rows: list[ReadingRow]
    ) -> Prepared | None:
        """The keyed rows evaluated from what this process keeps of the tenant (`warm_batch`),
        or None where they do not fit (then the general path evaluates them)."""
        known = entries.totals
        if known is None or not (self.cache.warm_path and self.cache.fast_path):
            return None
        if not reads.evaluation.windows.aggregates.sqlite:
            return None
        warm = warm_batch(rows, entries.plans, known, self.evaluator.windows)
        if warm is None:
            return None
        fired = entries.fired if self.cache.skip_fired else frozenset()
        fed = CachedStreams(entries.plans)
        return self.evaluator.prepare_warm(reads.evaluation, warm, known, fed, fired)

    def _prepare(
        self,
        reads: Stores,
        customers: dict[str, CustomerRef],
        plans: list[Plan],
        fed: Watched,
        feeding: list[ReadingRow],
        entries: TenantEntries,
        exact: bool,
    ) -> Prepared:
        """Evaluate, taking readings as new where the window totals show they must be, and
        looking up the stored ones otherwise (or when a first guess proved wrong)."""
        evaluator = self.evaluator
        fired = entries.fired if self.cache.skip_fired else frozenset()
        if not exact:
            prepared = evaluator.prepare(
                reads.evaluation,
                customers,
                plans,
                feeding,
                [],
                guessed=True,
                known=entries.totals,
                fast=self.cache.fast_path,
                fired=fired,
                fed=fed,
            )
            if prepared is not None:
                return prepared
        expected = store.classify(reads.feeds, feeding)
        prepared = evaluator.prepare(
            reads.evaluation,
            customers,
            plans,
            expected.new,
            expected.corrected,
            fast=self.cache.fast_path,
            fired=fired,
            fed=fed,
        )
        assert prepared is not None
        return prepared

    def _write(self, tenant_id: str, draft: Draft, batch: str) -> BatchResult | None:
        """Store the batch; None (to be rolled back) if what it was evaluated on moved."""
        writes, prepared = self.phases.write, draft.prepared
        # Held: a trigger created meanwhile either sees this batch's readings when it builds
        # its aggregates, or is among the triggers this batch maintains them for.
        if writes.tenants.epoch(tenant_id, hold=True) != draft.epoch:
            return None
        if not store.claim_units(writes.feeds, tenant_id, draft.first_units):
            return None
        stored = store.store(writes.feeds, draft.rows, batch)
        if stored.duplicate or stored.corrected:
            if not prepared.classified_as(stored.new, stored.corrected):
                return None
        elif prepared.corrected or len(prepared.new) != draft.feeding:
            return None  # every reading was new, unlike what was evaluated
        entries = draft.entries
        if not self.evaluator.commit(writes.evaluation, prepared, entries.totals):
            if prepared.moved == "totals":
                entries.totals = None
            return None
        if prepared.latched:  # known only once committed: a rolled back batch fired nothing
            after_commit(self.phases.session, partial(entries.fired.update, prepared.latched))
        result = draft.result
        store.count(result, draft.keyed, stored)
        result.evaluated = prepared.evaluated
        finished(result, [*draft.refused, *draft.keyed.rejections], len(self.writer.created))
        for outcome in ("accepted", "duplicate", "corrected", "rejected"):
            readings_ingested.labels(outcome).inc(getattr(result, outcome))
        return result
