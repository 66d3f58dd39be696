"""Store a batch of readings: key them, check each metric keeps its unit, insert what is new,
count repeats, apply corrections. Reads for the snapshot a batch is evaluated on, writes in
the transaction that stores it."""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from engine.customers.refs import CustomerRef
from engine.feeds.parsing import ReadingRow as ParsedRow
from engine.feeds.parsing import Rejection
from engine.feeds.records import ReadingKey, ReadingRow
from engine.feeds.schemas import BatchResult
from engine.feeds.stores import FeedStores

KnownUnits = MutableMapping[tuple[str, str], str]  # (tenant, metric) → its one unit


@dataclass
class Keyed:
    """A batch's rows by reading key (the last row of a key wins), and what was refused."""

    rows: dict[ReadingKey, ReadingRow] = field(default_factory=dict)
    rejections: list[Rejection] = field(default_factory=list)
    duplicate: int = 0  # repeats within the batch
    corrected: int = 0


@dataclass
class Stored:
    """What storing a batch did: rows inserted (new), rows that replaced another value."""

    new: list[ReadingRow]
    corrected: list[ReadingRow]
    duplicate: int


def metric_units(
    feeds: FeedStores, known: KnownUnits, tenant_id: str, rows: Sequence[ParsedRow]
) -> tuple[dict[str, str], dict[str, str]]:
    """Each metric's one unit (set by its first reading ever), and the metrics this batch
    would give their unit first. Units read back from the database are kept in ``known``;
    one a batch claims is not, until it has committed (a later batch reads it then)."""
    units = {row.metric: row.unit for row in reversed(rows)}  # the first row's unit wins
    missing = {m: u for m, u in units.items() if (tenant_id, m) not in known}
    first: dict[str, str] = {}
    if missing:
        stored = feeds.readings.metric_units(tenant_id, missing)
        known.update({(tenant_id, m): u for m, u in stored.items()})
        first = {m: u for m, u in missing.items() if m not in stored}
    return {m: known.get((tenant_id, m), u) for m, u in units.items()}, first


def claim_units(feeds: FeedStores, tenant_id: str, first: Mapping[str, str]) -> bool:
    """Give these metrics their unit; False if a concurrent batch gave one another unit."""
    if not first:
        return True
    readings = feeds.readings
    readings.claim_metric_units(tenant_id, first)
    return readings.metric_units(tenant_id, first) == dict(first)


def keyed(
    tenant_id: str,
    rows: Sequence[ParsedRow],
    customers: Mapping[str, CustomerRef],
    units: Mapping[str, str],
    received: int,
    batch: str,
) -> Keyed:
    """Rows keyed by (customer, metric, start, duration); unknown customers and units
    other than the metric's are refused by row."""
    out = Keyed()
    stamps: dict[datetime, int] = {}  # a batch's readings share a few start times
    keep = out.rows.setdefault  # one lookup for a key not seen yet in the batch
    for row in rows:
        customer = customers.get(row.customer)
        if customer is None:
            reason = f"unknown customer {row.customer!r}"
            out.rejections.append(Rejection(row.index, reason, "customer"))
            continue
        if units[row.metric] != row.unit:
            reason = f"{row.metric} is measured in {units[row.metric]}, not {row.unit}"
            out.rejections.append(Rejection(row.index, reason, "unit"))
            continue
        start = stamps.get(row.start)
        if start is None:
            start = stamps[row.start] = int(row.start.timestamp())
        key = (customer.id, row.metric, start, row.duration_s)
        kept = (*key, tenant_id, row.value, row.unit, row.quality, received, batch)
        earlier = keep(key, kept)
        if earlier is not kept:
            if earlier[5] == row.value:
                out.duplicate += 1
            else:
                out.corrected += 1
            out.rows[key] = kept
    return out


def classify(feeds: FeedStores, rows: Sequence[ReadingRow]) -> Stored:
    """What `store` would do with ``rows``, read without writing."""
    stored = feeds.readings.stored([r[:4] for r in rows]) if rows else {}
    new, corrected, duplicate = [], [], 0
    for row in rows:
        found = stored.get(row[:4])
        if found is None:
            new.append(row)
        elif found[0] == row[5]:
            duplicate += 1
        else:
            corrected.append(row)
    return Stored(new, corrected, duplicate)


def store(feeds: FeedStores, rows: Sequence[ReadingRow], batch: str) -> Stored:
    """Insert what is new; classify the rest as duplicates or corrections, and correct."""
    readings = feeds.readings
    inserted = readings.insert_new(rows)
    if inserted == len(rows):
        return Stored(list(rows), [], 0)
    stored = readings.stored([r[:4] for r in rows])
    new, corrected, duplicate = [], [], 0
    for row in rows:
        value, stored_batch = stored[row[:4]]
        if stored_batch == batch:
            new.append(row)
        elif value == row[5]:
            duplicate += 1
        else:
            corrected.append(row)
    readings.correct(corrected)
    return Stored(new, corrected, duplicate)


def count(result: BatchResult, keyed_rows: Keyed, stored: Stored) -> None:
    result.accepted += len(stored.new)
    result.duplicate += keyed_rows.duplicate + stored.duplicate
    result.corrected += keyed_rows.corrected + len(stored.corrected)
