"""Window aggregates stay exact, and triggers decide as with one batch at a time, when two
``nudge api`` processes take readings, duplicates and corrections for the same windows at the
same instant (PostgreSQL, READ COMMITTED, as deployed)."""

from __future__ import annotations

import random
from typing import Any

import pytest

from tests.engine.concurrency.conftest import Cluster2, call
from tests.engine.concurrency.support import (
    aggregate_drift,
    day_sums,
    deploy,
    hour_of,
    local_day,
    notifications_per_day,
    ok,
    reading,
)

pytestmark = pytest.mark.postgres

TRIALS = 40


def test_two_corrections_of_one_day_at_once_both_count(two_apis: Cluster2) -> None:
    """24 × 0.5 kWh, then two correction-only batches for two different hours of that day,
    one per process, released together: the day sum counts both corrections, and the limit
    that only both together exceed notifies exactly once."""
    deployment = deploy(two_apis.first, TRIALS, limit_kwh=20)
    day = local_day(2)
    for customer in deployment.customers:
        rows = [reading(customer["external_id"], hour_of(day, h), 0.5) for h in range(24)]
        ok(two_apis.first.post("/v1/feeds/readings", json=rows, headers=deployment.feed))
    for trial, customer in enumerate(deployment.customers):
        a, b = random.Random(trial).sample(range(24), 2)
        ref = customer["external_id"]
        answers = two_apis.at_once(
            [
                (0, call("POST", "/v1/feeds/readings", deployment.feed,
                         json=[reading(ref, hour_of(day, a), 5.5)])),
                (1, call("POST", "/v1/feeds/readings", deployment.feed,
                         json=[reading(ref, hour_of(day, b), 5.5)])),
            ]
        )
        assert [ok(r)["corrected"] for r in answers] == [1, 1], trial
    url = two_apis.database_url
    assert aggregate_drift(url) == []
    sums = day_sums(url)
    assert sorted(set(sums.values())) == [22.0]
    assert notifications_per_day(url) == {key: 1 for key in sums}
