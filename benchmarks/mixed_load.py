"""Mixed load (issue 11): 32 concurrent clients against one ``nudge serve`` on SQLite. Feed
clients post batches of 1,000 readings back to back; customer clients (``/v1/me…``) and ops
clients (rules, notifications, customers, templates) send small requests, a few of them
writes. Reports the small requests' latency under that load, next to the same requests on
an idle server, and every error."""

from __future__ import annotations

import argparse
import random
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from benchmarks.common import ADMIN_KEY, emit, fresh_sqlite, server
from benchmarks.delivery import percentile
from benchmarks.ingest import populate

METRIC = "electricity.consumption"
BATCH = 1000
Call = tuple[str, str, dict[str, Any] | None]  # method, path, JSON body


@dataclass
class Recorded:
    reads: list[float] = field(default_factory=list)
    writes: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    feeds: list[float] = field(default_factory=list)
    readings: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def small(self, method: str, seconds: float) -> None:
        with self.lock:
            (self.reads if method == "GET" else self.writes).append(seconds)


def customer_calls(trigger_rule: str) -> list[Call]:
    return [
        ("GET", "/v1/me", None),
        ("GET", "/v1/me/triggers", None),
        ("GET", "/v1/me/rules", None),
        ("GET", "/v1/me/history", None),
        ("GET", "/v1/me/preferences", None),
        ("GET", "/v1/me/consents", None),
        ("PATCH", "/v1/me/preferences", {"urgent_override": random.choice([True, False])}),
    ]


def ops_calls(customer_id: str) -> list[Call]:
    return [
        ("GET", "/v1/rules", None),
        ("GET", "/v1/notifications?limit=20", None),
        ("GET", "/v1/customers?limit=20", None),
        ("GET", f"/v1/customers/{customer_id}", None),
        ("GET", f"/v1/customers/{customer_id}/history", None),
        ("GET", "/v1/templates", None),
        ("PATCH", f"/v1/customers/{customer_id}", {"attributes": {"tariff": "flex"}}),
    ]


def small_client(
    base: str,
    headers: dict[str, str],
    calls: Callable[[], list[Call]],
    until: float,
    measure_from: float,
    think: float,
    out: Recorded,
) -> None:
    with httpx.Client(base_url=base, timeout=60, headers=headers) as client:
        while time.monotonic() < until:
            for method, path, body in calls():
                started = time.monotonic()
                try:
                    response = client.request(method, path, json=body)
                    failed = f"{method} {path}: {response.status_code}" * (
                        response.status_code >= 400
                    )
                except httpx.HTTPError as exc:
                    failed = f"{method} {path}: {type(exc).__name__}"
                elapsed = time.monotonic() - started
                if started >= measure_from:
                    out.small(method, elapsed)
                    if failed:
                        with out.lock:
                            out.errors.append(failed)
                time.sleep(random.uniform(0, 2 * think))
                if time.monotonic() >= until:
                    return


def feed_bodies(customers: int, client: int, count: int) -> list[bytes]:
    """``count`` bodies of BATCH readings, each of a new hour: client ``client`` takes its own
    hours, so no two bodies carry the same readings."""
    first = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=40)
    bodies = []
    for k in range(count):
        hour = first + timedelta(hours=client * count + k)
        rows = [
            {
                "customer": f"m{(k * BATCH + i) % customers}",
                "metric": METRIC,
                "start": hour.isoformat(),
                "duration": 3600,
                "value": 0.5 + (i % 7) * 0.25,
                "unit": "kWh",
            }
            for i in range(BATCH)
        ]
        bodies.append(httpx.Request("POST", "/", json=rows).read())
    return bodies


def feed_client(
    base: str, key: str, bodies: list[bytes], until: float, measure_from: float, out: Recorded
) -> None:
    headers = {"Authorization": f"Bearer {key}", "content-type": "application/json"}
    with httpx.Client(base_url=base, timeout=120, headers=headers) as client:
        for body in bodies:
            if time.monotonic() >= until:
                return
            started = time.monotonic()
            try:
                response = client.post("/v1/feeds/readings", content=body)
                failed = f"feed: {response.status_code}" * (response.status_code >= 400)
                accepted = int(response.json().get("accepted", 0)) if not failed else 0
            except (httpx.HTTPError, ValueError) as exc:
                failed, accepted = f"feed: {type(exc).__name__}", 0
            with out.lock:
                out.readings += accepted
                if started >= measure_from:
                    out.feeds.append(time.monotonic() - started)
                if failed:
                    out.errors.append(failed)


def _ok(response: httpx.Response) -> Any:
    if response.status_code >= 300:
        raise RuntimeError(f"{response.request.url}: {response.status_code} {response.text[:300]}")
    return response.json()


def credentials(
    base: str, tenant_id: str, feed_key: str, customers: int, tokens: int
) -> tuple[dict[str, str], list[dict[str, str]], list[str]]:
    """An ops key's headers, ``tokens`` customers' token headers, and their ids."""
    with httpx.Client(base_url=base, timeout=60) as client:
        admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
        ops_key = _ok(
            client.post(f"/v1/tenants/{tenant_id}/keys", headers=admin, json={"role": "ops"})
        )
        feed = {"Authorization": f"Bearer {feed_key}"}
        ids = [f"cus_{i:026d}" for i in random.sample(range(customers), tokens)]
        token_headers = [
            {
                "Authorization": "Bearer "
                + _ok(client.post(f"/v1/customers/{cid}/tokens", headers=feed))["token"]
            }
            for cid in ids
        ]
    return {"Authorization": f"Bearer {ops_key['key']}"}, token_headers, ids


def idle_latencies(base: str, ops: dict[str, str], me: dict[str, str], cid: str) -> list[float]:
    out = Recorded()
    calls = [c for c in ops_calls(cid) if c[0] == "GET"]
    mine = [c for c in customer_calls("") if c[0] == "GET"]
    for headers, group in ((ops, calls), (me, mine)):
        with httpx.Client(base_url=base, timeout=60, headers=headers) as client:
            for _ in range(5):
                for method, path, body in group:
                    started = time.monotonic()
                    _ok(client.request(method, path, json=body))
                    out.small(method, time.monotonic() - started)
    return out.reads


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def ms(values: list[float], q: float) -> float:
    return round(percentile(values, q) * 1000, 1) if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--feed-clients", type=int, default=8)
    parser.add_argument("--customers", type=int, default=5000)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--think-ms", type=float, default=50.0, help="mean pause of a small client")
    args = parser.parse_args()
    small = args.clients - args.feed_clients
    with tempfile.TemporaryDirectory(prefix="nudge-bench-") as tmp:
        url = fresh_sqlite(Path(tmp), "mixed.db")
        tenant_id, feed_key = populate(url, args.customers)
        env = {"NUDGE_OUTBOX_DIR": str(Path(tmp) / "outbox")}
        with server(url, command="serve", extra_env=env) as base:
            ops, tokens, ids = credentials(base, tenant_id, feed_key, args.customers, small)
            idle = idle_latencies(base, ops, tokens[0], ids[0])
            per_client = int(args.seconds * 4) + 8  # more than a client can send in time
            bodies = [feed_bodies(args.customers, c, per_client) for c in range(args.feed_clients)]
            out = Recorded()
            measure_from = time.monotonic() + args.warmup
            until = measure_from + args.seconds
            think = args.think_ms / 1000
            threads = [
                threading.Thread(
                    target=feed_client, args=(base, feed_key, bodies[c], until, measure_from, out)
                )
                for c in range(args.feed_clients)
            ]
            for n in range(small):
                headers, calls = (
                    (tokens[n], lambda: customer_calls(""))
                    if n % 2 == 0
                    else (ops, lambda n=n: ops_calls(ids[n]))
                )
                threads.append(
                    threading.Thread(
                        target=small_client,
                        args=(base, headers, calls, until, measure_from, think, out),
                    )
                )
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=args.seconds + args.warmup + 180)
            load = loadavg()
    both = out.reads + out.writes
    emit(
        "mixed_load",
        clients=args.clients,
        feed_clients=args.feed_clients,
        seconds=args.seconds,
        think_ms=args.think_ms,
        mixed_idle_p50_ms=ms(idle, 0.5),
        mixed_small_requests=len(both),
        mixed_small_p50_ms=ms(both, 0.5),
        mixed_small_p99_ms=ms(both, 0.99),
        mixed_small_max_ms=ms(both, 1.0),
        target_mixed_small_p99_ms=250,
        mixed_read_p99_ms=ms(out.reads, 0.99),
        mixed_write_p99_ms=ms(out.writes, 0.99),
        mixed_feed_batches=len(out.feeds),
        mixed_feed_p50_ms=ms(out.feeds, 0.5),
        mixed_readings_per_s=round(out.readings / (args.seconds + args.warmup)),
        mixed_errors=len(out.errors),
        mixed_error_examples=sorted(set(out.errors))[:5],
        loadavg=load,
    )


if __name__ == "__main__":
    main()
