"""A deployment to race against: a tenant with a daily-sum rule, customers subscribed to it,
and what the database holds afterwards (aggregates against readings, notifications)."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import create_engine, text

from engine.processes.demo.rules import DAILY_ENERGY, ELECTRICITY
from tests.fixtures.api import ADMIN_KEY, bearer

BERLIN = ZoneInfo("Europe/Berlin")


def ok(response: httpx.Response, expect: int = 200) -> Any:
    assert response.status_code == expect, (response.status_code, response.text)
    return response.json() if response.content else None


def local_day(days_ago: int) -> datetime:
    """Midnight in Berlin ``days_ago`` days before today, as UTC (a 24-hour day or not)."""
    today = datetime.now(BERLIN).date() - timedelta(days=days_ago)
    return datetime(today.year, today.month, today.day, tzinfo=BERLIN).astimezone(UTC)


def hour_of(day: datetime, hour: int) -> datetime:
    return day + timedelta(hours=hour)


@dataclass
class Deployment:
    feed: dict[str, str]
    ops: dict[str, str]
    customers: list[dict[str, Any]]


def deploy(client: httpx.Client, customers: int, limit_kwh: float) -> Deployment:
    """A tenant publishing the daily-energy rule and ``customers`` subscribed at ``limit_kwh``."""
    admin = bearer(ADMIN_KEY)
    body = {"name": "Race", "default_timezone": "Europe/Berlin", "default_locale": "en"}
    tenant = ok(client.post("/v1/tenants", json=body, headers=admin), 201)
    keys = {
        role: ok(
            client.post(f"/v1/tenants/{tenant['id']}/keys", json={"role": role}, headers=admin),
            201,
        )["key"]
        for role in ("ops", "feed")
    }
    ops, feed = bearer(keys["ops"]), bearer(keys["feed"])
    ok(client.post("/v1/rules", json=DAILY_ENERGY, headers=ops), 201)
    ok(client.post(f"/v1/rules/{DAILY_ENERGY['key']}/publish", headers=ops))
    made = []
    for i in range(customers):
        customer = ok(
            client.post(
                "/v1/customers",
                json={"external_id": f"c{i}", "timezone": "Europe/Berlin", "locale": "en"},
                headers=feed,
            ),
            201,
        )
        token = ok(client.post(f"/v1/customers/{customer['id']}/tokens", headers=feed), 201)
        trigger = {"rule": DAILY_ENERGY["key"], "params": {"limit_kwh": limit_kwh}}
        ok(client.post("/v1/me/triggers", json=trigger, headers=bearer(token["token"])), 201)
        made.append(customer)
    return Deployment(feed, ops, made)


def reading(customer: str, start: datetime, value: float) -> dict[str, Any]:
    return {
        "customer": customer,
        "metric": ELECTRICITY,
        "start": start.isoformat(),
        "duration": 3600,
        "value": value,
        "unit": "kWh",
    }


@dataclass(frozen=True)
class Drift:
    """A day aggregate that disagrees with the readings stored in its window."""

    customer: str
    start: int
    stored: tuple[float, int]
    readings: tuple[float, int]


def aggregate_drift(url: str) -> list[Drift]:
    """Every window aggregate whose sum or count differs from its window's stored readings."""
    engine = create_engine(url)
    with engine.connect() as conn:
        aggregates = conn.execute(
            text('SELECT customer_id, metric, start, "end", sum, count FROM window_aggregates')
        ).all()
        readings = conn.execute(
            text("SELECT customer_id, metric, start, value FROM readings")
        ).all()
    engine.dispose()
    streams: dict[tuple[str, str], list[tuple[int, float]]] = defaultdict(list)
    for customer, metric, start, value in readings:
        streams[(customer, metric)].append((int(start), float(value)))
    drift = []
    for customer, metric, start, end, total, count in aggregates:
        inside = [v for s, v in streams[(customer, metric)] if start <= s < end]
        if not math.isclose(sum(inside), total, abs_tol=1e-9) or len(inside) != count:
            drift.append(Drift(customer, start, (total, count), (sum(inside), len(inside))))
    return drift


def notifications_per_day(url: str) -> dict[tuple[str, int], int]:
    """How many notifications each (customer, local day start in epoch seconds) got."""
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT customer_id, occurrence FROM notifications")).all()
    engine.dispose()
    found: dict[tuple[str, int], int] = defaultdict(int)
    for customer, occurrence in rows:
        start = datetime.fromisoformat(occurrence.replace("Z", "+00:00"))
        found[(customer, int(start.timestamp()))] += 1
    return dict(found)


def day_sums(url: str) -> dict[tuple[str, int], float]:
    """The stored readings summed per customer and Berlin day (its start, epoch seconds)."""
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT customer_id, start, value FROM readings")).all()
    engine.dispose()
    sums: dict[tuple[str, int], float] = defaultdict(float)
    for customer, start, value in rows:
        local = datetime.fromtimestamp(int(start), UTC).astimezone(BERLIN).date()
        midnight = datetime(local.year, local.month, local.day, tzinfo=BERLIN)
        sums[(customer, int(midnight.timestamp()))] += float(value)
    return dict(sums)
