"""Property: however readings arrive (split into batches, shuffled, repeated), a daily
threshold fires exactly once for each local day whose final total is above the limit, and
for no other day, across a 23-hour DST day in Los Angeles."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.conftest import FrozenApi
from tests.fixtures.api import TenantHandle
from tests.fixtures.rules import (
    DAILY_ENERGY,
    ELECTRICITY,
    notifications,
    post_readings,
    publish,
    subscribe,
)

LA = ZoneInfo("America/Los_Angeles")
FIRST = datetime(2026, 3, 7, tzinfo=LA).astimezone(UTC)  # 7 March; the 8th has 23 hours
HOURS = 24 + 23 + 24


@dataclass(frozen=True)
class Delivery:
    values: dict[int, float]  # hour offset from FIRST -> kWh
    batches: list[list[int]]  # hour offsets, in the order they are sent (repeats included)
    limit: float


@st.composite
def deliveries(draw: st.DrawFn) -> Delivery:
    # Quarter kWh values and a limit between quarters: sums are exact and never tie.
    quarters = st.none() | st.integers(min_value=0, max_value=12)
    drawn = draw(st.lists(quarters, min_size=HOURS, max_size=HOURS))
    values = {hour: q / 4 for hour, q in enumerate(drawn) if q is not None}
    sent = draw(st.permutations(sorted(values)))
    repeats = draw(st.lists(st.sampled_from(sent), max_size=20)) if sent else []
    order = draw(st.permutations([*sent, *repeats]))
    cuts = sorted(draw(st.sets(st.integers(0, len(order)), max_size=5)))
    bounds = [0, *cuts, len(order)]
    batches = [list(order[a:b]) for a, b in zip(bounds, bounds[1:], strict=False) if b > a]
    limit = draw(st.integers(min_value=40, max_value=140)) / 4 + 0.125
    return Delivery(values, batches, limit)


def local_day(hour: int) -> date:
    return (FIRST + timedelta(hours=hour)).astimezone(LA).date()


def reading(customer: str, hour: int, value: float) -> dict[str, Any]:
    start = FIRST + timedelta(hours=hour)
    return {
        "customer": customer,
        "metric": ELECTRICITY,
        "start": start.isoformat(),
        "duration": 3600,
        "value": value,
        "unit": "kWh",
    }


@pytest.fixture
def tenant(frozen: FrozenApi) -> TenantHandle:
    """One tenant for all examples of a test: each example subscribes a new customer."""
    handle = frozen.api.tenant()
    publish(frozen.api, handle, DAILY_ENERGY)
    return handle


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(delivery=deliveries())
def test_each_day_over_the_limit_fires_exactly_once(
    frozen: FrozenApi, tenant: TenantHandle, delivery: Delivery
) -> None:
    api = frozen.api
    frozen.clock.set(datetime(2026, 3, 12, tzinfo=UTC))
    sub = subscribe(
        api, params={"limit_kwh": delivery.limit}, tenant=tenant, timezone="America/Los_Angeles"
    )
    for batch in delivery.batches:
        rows = [reading(sub.ref, hour, delivery.values[hour]) for hour in batch]
        post_readings(api, tenant, rows)

    totals: dict[date, float] = defaultdict(float)
    for hour, value in delivery.values.items():
        totals[local_day(hour)] += value
    expected = sorted(day for day, total in totals.items() if total > delivery.limit)
    fired = [
        datetime.fromisoformat(n["why"]["values"]["window"]["start"]).astimezone(LA).date()
        for n in notifications(api, tenant, sub.id)
    ]
    assert sorted(fired) == expected
