"""Ingest without HTTP, for working on the ingest step itself: the same database, customers,
triggers and batches as ``benchmarks.ingest``, each batch parsed and ingested in this process
through the feed service, one unit of work per batch as a request has.

Reported per reading: CPU time over all batches, over the first hour's batches (the ones that
load customers and triggers into the ingest cache) and over the later ones; wall time; the
garbage collector's time; and the median time a batch holds the write transaction (from its
first write to its commit), the time other writers wait behind it on SQLite. CPU time moves
less than wall time on a shared machine, but still with the load: compare two versions by
alternating runs.

    python -m benchmarks.ingest_inprocess --scenario quiet --customers 100000 --hours 3
"""

from __future__ import annotations

import argparse
import gc
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from statistics import median
from typing import Any

import httpx

from benchmarks.common import emit, fresh_sqlite
from benchmarks.ingest import SCENARIOS, populate, readings
from engine.feeds.parsing import parse_readings
from engine.ingest.readings import FeedService
from engine.platform.clock import SystemClock
from engine.platform.config import Settings
from engine.processes.runtime import Runtime
from engine.processes.tuning import tune_garbage_collector


class _Collections:
    """Time spent in garbage collections while installed."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.count = 0
        self._began = 0.0

    def __call__(self, phase: str, _info: dict[str, Any]) -> None:
        if phase == "start":
            self._began = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._began
            self.count += 1


def _timing_writes(began: list[float]) -> Callable[[], None]:
    """Note when each batch starts its write transaction (the feed service's write step);
    returns what undoes it."""
    original = FeedService._write

    def timed(self: FeedService, *args: Any, **kwargs: Any) -> Any:
        began.append(time.perf_counter())
        return original(self, *args, **kwargs)

    FeedService._write = timed  # type: ignore[method-assign]
    return lambda: setattr(FeedService, "_write", original)


def run(scenario: str, customers: int, hours: int, batch: int) -> None:
    with tempfile.TemporaryDirectory(prefix="nudge-bench-") as tmp:
        url = fresh_sqlite(Path(tmp))
        tenant, _ = populate(url, customers, scenario)
        rows = readings(customers, hours, shuffled=scenario == "shuffled")
        bodies = [
            httpx.Request("POST", "/", json=rows[i : i + batch]).read()
            for i in range(0, len(rows), batch)
        ]
        del rows
        settings = Settings(database_url=url)
        runtime = Runtime.from_settings(settings, SystemClock())
        tune_garbage_collector(settings)  # as the server does at start
        collections, writes = _Collections(), list[float]()
        gc.callbacks.append(collections)
        undo = _timing_writes(writes)
        cpu: list[float] = []
        held: list[float] = []
        accepted = notified = 0
        began = time.perf_counter()
        try:
            for body in bodies:
                start = time.process_time()
                with runtime.services() as services:
                    parsed = parse_readings(body, "application/json", runtime.clock.now())
                    answer = services.feeds.ingest(tenant, parsed)
                held.append(time.perf_counter() - writes[-1])
                cpu.append(time.process_time() - start)
                accepted += answer.accepted
                notified += answer.notifications
        finally:
            elapsed = time.perf_counter() - began
            undo()
            gc.callbacks.remove(collections)
            runtime.db.dispose()
    n = len(bodies) * batch
    first = -(-customers // batch)  # the first hour's batches
    micro = 1e6
    emit(
        "ingest_inprocess",
        scenario=scenario,
        customers=customers,
        readings=n,
        accepted=accepted,
        notifications=notified,
        readings_per_s=round(n / elapsed),
        cpu_us_per_reading=round(sum(cpu) / n * micro, 2),
        cpu_us_first_hour=round(sum(cpu[:first]) / max(1, first * batch) * micro, 2),
        cpu_us_later=round(sum(cpu[first:]) / max(1, n - first * batch) * micro, 2),
        wall_us_per_reading=round(elapsed / n * micro, 2),
        gc_seconds=round(collections.seconds, 3),
        gc_collections=collections.count,
        write_hold_ms_median=round(median(held) * 1e3, 1),
        loadavg=Path("/proc/loadavg").read_text().split()[:3],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--hours", type=int, default=3)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--scenario", choices=SCENARIOS, default="quiet")
    args = parser.parse_args()
    run(args.scenario, args.customers, args.hours, args.batch)


if __name__ == "__main__":
    main()
