"""Ingest readings: resolve customers, store new rows, apply corrections, evaluate triggers.

Everything happens in the caller's transaction, so the readings and the decisions they cause
commit together (or not at all).
"""

from __future__ import annotations

from collections.abc import Sequence

from engine.customers.repository import CustomerRepository
from engine.evaluation.decisions import DecisionWriter
from engine.evaluation.threshold import ThresholdEvaluator
from engine.feeds.cache import IngestCache, refs_through
from engine.feeds.parsing import ParseResult, Rejection
from engine.feeds.parsing import ReadingRow as ParsedRow
from engine.feeds.repository import ReadingKey, ReadingRepository, ReadingRow
from engine.feeds.schemas import BatchResult, RejectedRow
from engine.platform.clock import Clock
from engine.platform.ids import new_id
from engine.platform.metrics import readings_ingested
from engine.tenants.repository import TenantRepository


class FeedService:
    def __init__(
        self,
        customers: CustomerRepository,
        tenants: TenantRepository,
        readings: ReadingRepository,
        evaluator: ThresholdEvaluator,
        writer: DecisionWriter,
        cache: IngestCache,
        clock: Clock,
    ) -> None:
        self.customers = customers
        self.tenants = tenants
        self.cache = cache
        self.readings = readings
        self.evaluator = evaluator
        self.writer = writer
        self.clock = clock

    def ingest(self, tenant_id: str, parsed: ParseResult) -> BatchResult:
        batch = new_id("bat")
        result = BatchResult(batch=batch, notes=list(parsed.notes))
        rejections = list(parsed.rejections)
        # Held: a trigger created meanwhile either sees this batch's readings when it builds
        # its aggregates, or is among the triggers this batch maintains them for.
        entries = self.cache.entries(tenant_id, self.tenants.epoch(tenant_id, hold=True))
        found = refs_through(
            entries,
            {row.customer for row in parsed.rows},
            lambda missing: self.customers.by_refs(tenant_id, missing),
        )
        by_id = {c.id: c for c in found.values()}
        received = int(self.clock.now().timestamp())
        units = self._metric_units(tenant_id, parsed.rows)
        rows: dict[ReadingKey, ReadingRow] = {}
        for row in parsed.rows:
            customer = found.get(row.customer)
            if customer is None:
                rejections.append(
                    Rejection(
                        row.index,
                        f"unknown customer {row.customer!r}",
                        "customer",
                    )
                )
                continue
            if units[row.metric] != row.unit:
                reason = f"{row.metric} is measured in {units[row.metric]}, not {row.unit}"
                rejections.append(Rejection(row.index, reason, "unit"))
                continue
            key = (customer.id, row.metric, int(row.start.timestamp()), row.duration_s)
            if key in rows and rows[key][5] == row.value:
                result.duplicate += 1
            elif key in rows:
                result.corrected += 1
            rows[key] = (*key, tenant_id, row.value, row.unit, row.quality, received, batch)
        new, corrected = self._store(list(rows.values()), batch, result)
        result.evaluated = self.evaluator.apply(by_id, new, corrected, entries)
        result.notifications = len(self.writer.created)
        result.rejected = len(rejections)
        result.rejections = [
            RejectedRow(index=r.index, reason=r.reason, field=r.field)
            for r in sorted(rejections, key=lambda r: r.index)
        ]
        for outcome in ("accepted", "duplicate", "corrected", "rejected"):
            readings_ingested.labels(outcome).inc(getattr(result, outcome))
        return result

    def _metric_units(self, tenant_id: str, rows: Sequence[ParsedRow]) -> dict[str, str]:
        """Each metric's one unit, set by its first reading ever. Units read back from the
        database are kept in memory; one claimed by this batch is not, until it has
        committed (a later batch reads it then)."""
        known = self.cache.metric_units
        units = {row.metric: row.unit for row in reversed(rows)}  # the first row's unit wins
        missing = {m: u for m, u in units.items() if (tenant_id, m) not in known}
        if missing:
            stored = self.readings.metric_units(tenant_id, missing)
            known.update({(tenant_id, m): u for m, u in stored.items()})
            new = {m: u for m, u in missing.items() if m not in stored}
            if new:
                self.readings.claim_metric_units(tenant_id, new)
                units.update(self.readings.metric_units(tenant_id, new))
        return {m: known.get((tenant_id, m), u) for m, u in units.items()}

    def _store(
        self, rows: Sequence[ReadingRow], batch: str, result: BatchResult
    ) -> tuple[list[ReadingRow], list[ReadingRow]]:
        """Insert what is new; classify the rest as duplicates or corrections."""
        inserted = self.readings.insert_new(rows)
        if inserted == len(rows):
            result.accepted += inserted
            return list(rows), []
        stored = self.readings.stored([(r[0], r[1], r[2], r[3]) for r in rows])
        new, corrected = [], []
        for row in rows:
            value, stored_batch = stored[(row[0], row[1], row[2], row[3])]
            if stored_batch == batch:
                new.append(row)
            elif value == row[5]:
                result.duplicate += 1
            else:
                corrected.append(row)
        self.readings.correct(corrected)
        result.accepted += len(new)
        result.corrected += len(corrected)
        return new, corrected
