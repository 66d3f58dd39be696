"""Window aggregates stay exact, and triggers decide as with one batch at a time, when two
``nudge api`` processes take readings, duplicates and corrections for the same windows at the
same instant (PostgreSQL, READ COMMITTED, as deployed)."""

from __future__ import annotations

import random
from typing import Any

import pytest

from engine.processes.demo.rules import DAILY_ENERGY
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
from tests.fixtures.api import bearer

pytestmark = pytest.mark.postgres

TRIALS = 40


def test_two_corrections_of_one_day_at_once_both_count(racing: Cluster2) -> None:
    """24 × 0.5 kWh, then two correction-only batches for two different hours of that day,
    one per process (or both to one process), released together: the day sum counts both
    corrections, and the limit that only both together exceed notifies exactly once."""
    deployment = deploy(racing.first, TRIALS, limit_kwh=20)
    day = local_day(2)
    for customer in deployment.customers:
        rows = [reading(customer["external_id"], hour_of(day, h), 0.5) for h in range(24)]
        ok(racing.first.post("/v1/feeds/readings", json=rows, headers=deployment.feed))
    for trial, customer in enumerate(deployment.customers):
        a, b = random.Random(trial).sample(range(24), 2)
        ref = customer["external_id"]
        answers = racing.at_once(
            [
                (
                    0,
                    call(
                        "POST",
                        "/v1/feeds/readings",
                        deployment.feed,
                        json=[reading(ref, hour_of(day, a), 5.5)],
                    ),
                ),
                (
                    1,
                    call(
                        "POST",
                        "/v1/feeds/readings",
                        deployment.feed,
                        json=[reading(ref, hour_of(day, b), 5.5)],
                    ),
                ),
            ]
        )
        assert [ok(r)["corrected"] for r in answers] == [1, 1], trial
    url = racing.database_url
    assert aggregate_drift(url) == []
    sums = day_sums(url)
    assert sorted(set(sums.values())) == [22.0]
    assert notifications_per_day(url) == {key: 1 for key in sums}


def test_the_same_rows_in_opposite_orders_at_once_neither_fails(two_apis: Cluster2) -> None:
    """12,000 readings sent to both processes at the same instant, one in customer order and
    one reversed, three times: both answer 200 (no deadlock reaches a client), the readings
    are stored once and every day aggregate equals its readings."""
    deployment = deploy(two_apis.first, 100, limit_kwh=500)
    refs = [c["external_id"] for c in deployment.customers]
    for trial in range(3):
        days = [local_day(10 + 5 * trial + d) for d in range(5)]
        rows = [reading(r, hour_of(day, h), 0.25) for r in refs for day in days for h in range(24)]
        answers = two_apis.at_once(
            [
                (0, call("POST", "/v1/feeds/readings", deployment.feed, json=rows)),
                (1, call("POST", "/v1/feeds/readings", deployment.feed, json=rows[::-1])),
            ]
        )
        counts = [(ok(a)["accepted"], ok(a)["duplicate"]) for a in answers]
        assert sorted(counts) == [(0, 12_000), (12_000, 0)], trial
    assert aggregate_drift(two_apis.database_url) == []


LIMIT = 14.0
ROUNDS = 8
CUSTOMERS = 12


def _batches(rng: random.Random, rows: list[dict[str, Any]], count: int) -> list[list[Any]]:
    """``rows`` spread over ``count`` batches in random order, a third of them sent twice."""
    sent = rows + [r for r in rows if rng.random() < 1 / 3]
    rng.shuffle(sent)
    return [sent[i::count] for i in range(count)]


def _race(two_apis: Cluster2, feed: dict[str, str], batches: list[list[Any]]) -> None:
    calls = [
        (i % 2, call("POST", "/v1/feeds/readings", feed, json=batch))
        for i, batch in enumerate(batches)
    ]
    for answer in two_apis.at_once(calls):
        assert ok(answer)["rejected"] == 0


def test_a_random_mix_of_readings_duplicates_and_corrections(two_apis: Cluster2) -> None:
    """Rounds of new readings, duplicates and upward corrections for the same days, spread
    over concurrent batches on both processes. Every aggregate equals its readings, and each
    day notifies exactly when its final sum is above the limit: with values that only grow,
    that is what one batch at a time decides, in any order."""
    deployment = deploy(two_apis.first, CUSTOMERS, limit_kwh=LIMIT)
    refs = [c["external_id"] for c in deployment.customers]
    for round_ in range(ROUNDS):
        rng = random.Random(round_)
        days = [local_day(40 + 2 * round_), local_day(41 + 2 * round_)]
        keys = [(r, d, h) for r in refs for d in days for h in range(24)]
        first = {k: rng.choice([0.25, 0.5, 0.75]) for k in keys if rng.random() < 0.7}
        _race(two_apis, deployment.feed, _batches(rng, _rows(first), 6))
        later = {
            k: v + rng.choice([0.25, 1.0, 2.5]) for k, v in first.items() if rng.random() < 0.3
        }
        later |= {k: 0.5 for k in keys if k not in first and rng.random() < 0.5}
        _race(two_apis, deployment.feed, _batches(rng, _rows(later), 6))
    url = two_apis.database_url
    assert aggregate_drift(url) == []
    expected = {key: 1 for key, total in day_sums(url).items() if total > LIMIT}
    assert notifications_per_day(url) == expected
    assert 0 < len(expected) < CUSTOMERS * 2 * ROUNDS  # the limit splits the days


def _rows(values: dict[tuple[str, Any, int], float]) -> list[dict[str, Any]]:
    return [reading(ref, hour_of(day, hour), v) for (ref, day, hour), v in values.items()]


ALL_TIME: dict[str, Any] = {
    **DAILY_ENERGY,
    "key": "energy.total_above",
    "window": "none",
}


def test_a_trigger_created_while_its_readings_arrive_counts_them(two_apis: Cluster2) -> None:
    """A customer subscribes on one process while the other stores readings for them: the
    new trigger's aggregate (built from the stored readings) includes every reading, whichever
    transaction commits first."""
    deployment = deploy(two_apis.first, TRIALS, limit_kwh=500)
    client, ops, feed = two_apis.first, deployment.ops, deployment.feed
    ok(client.post("/v1/rules", json=ALL_TIME, headers=ops), 201)
    ok(client.post(f"/v1/rules/{ALL_TIME['key']}/publish", headers=ops))
    refs = [c["external_id"] for c in deployment.customers]
    for trial, customer in enumerate(deployment.customers):
        token = ok(client.post(f"/v1/customers/{customer['id']}/tokens", headers=feed), 201)
        day = local_day(1 + trial)  # and every other customer's readings of that day
        rows = [reading(ref, hour_of(day, h), 1.0) for ref in refs for h in range(24)]
        subscribe = {"rule": ALL_TIME["key"], "params": {"limit_kwh": 100}}
        answers = two_apis.at_once(
            [
                (0, call("POST", "/v1/me/triggers", bearer(token["token"]), json=subscribe)),
                (1, call("POST", "/v1/feeds/readings", feed, json=rows)),
            ]
        )
        assert [a.status_code for a in answers] == [201, 200], [a.text for a in answers]
    assert aggregate_drift(two_apis.database_url) == []
