"""Two ``nudge api`` processes over one PostgreSQL database take the same feed batches at the
same instant: the same readings twice, and corrections split over batches so that a day
crosses its customer's limit only once both are stored. Read back through the API
(``GET /v1/notifications``): exactly one notification per trigger and day that crossed, none
for a day that did not, none again when everything is sent once more."""

from __future__ import annotations

import random
from collections import Counter
from datetime import datetime
from typing import Any

import httpx
import pytest

from tests.engine.concurrency.conftest import Cluster2, call
from tests.engine.concurrency.support import deploy, hour_of, local_day, ok, reading

pytestmark = pytest.mark.postgres

CUSTOMERS = 16
DAYS = 3
# Values exact in binary: a day of 24 × 0.25 kWh is 6.0; four hours corrected to 1.0 make it
# 9.0, six 10.5, above the limit.
LIMIT = 10.0
BASE, CORRECTED = 0.25, 1.0
FEED = "/v1/feeds/readings"


def _notifications(client: httpx.Client, ops: dict[str, str]) -> list[dict[str, Any]]:
    """Every notification of the tenant, page by page (bounded)."""
    found: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(100):
        params: dict[str, Any] = {"limit": 500, **({"cursor": cursor} if cursor else {})}
        page = ok(client.get("/v1/notifications", params=params, headers=ops))
        found += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return found
    raise AssertionError("more pages than expected")


def _day_key(occurrence: str) -> int:
    return int(datetime.fromisoformat(occurrence.replace("Z", "+00:00")).timestamp())


def test_overlapping_batches_on_two_processes_notify_once_per_crossing(
    two_apis: Cluster2,
) -> None:
    deployment = deploy(two_apis.first, CUSTOMERS, limit_kwh=LIMIT)
    refs = {c["external_id"]: c["id"] for c in deployment.customers}
    days = [local_day(3 + d) for d in range(DAYS)]
    base = [reading(ref, hour_of(day, h), BASE) for ref in refs for day in days for h in range(24)]
    rng = random.Random(15)
    crossing = {(ref, day) for ref in refs for day in days if rng.random() < 0.5}
    # Hours 0–3 in one batch and 2–5 in the other: either alone makes the day 9.0, not above
    # the limit; both together 10.5.
    first = [
        reading(ref, hour_of(day, h), CORRECTED) for ref, day in crossing for h in (0, 1, 2, 3)
    ]
    second = [
        reading(ref, hour_of(day, h), CORRECTED) for ref, day in crossing for h in (2, 3, 4, 5)
    ]
    feed = deployment.feed

    # The same readings to both processes at once (one in reverse order): stored once.
    answers = two_apis.at_once(
        [(0, call("POST", FEED, feed, json=base)), (1, call("POST", FEED, feed, json=base[::-1]))]
    )
    assert sorted(ok(a)["accepted"] for a in answers) == [0, len(base)]
    assert sum(ok(a)["notifications"] for a in answers) == 0

    # The corrections, each half to both processes, all four batches released together.
    batches = [(0, first), (1, second), (1, first[::-1]), (0, second[::-1])]
    answers = two_apis.at_once([(i, call("POST", FEED, feed, json=b)) for i, b in batches])
    assert all(ok(a)["rejected"] == 0 for a in answers)

    # Everything once more, on both processes at once: nothing new is decided.
    again = [(i, call("POST", FEED, feed, json=b)) for i, b in [(0, base), (1, base), *batches]]
    answers = two_apis.at_once(again)
    assert all(ok(a)["notifications"] == 0 for a in answers), [a.text for a in answers]

    expected = Counter((refs[ref], int(day.timestamp())) for ref, day in crossing)
    for client in two_apis.clients:  # both processes answer the same
        found = _notifications(client, deployment.ops)
        decided = Counter((n["customer_id"], _day_key(n["occurrence"])) for n in found)
        assert decided == expected
        triggers = {n["customer_id"]: n["trigger_id"] for n in found}
        assert all(triggers[n["customer_id"]] == n["trigger_id"] for n in found)  # one each
        sums = {n["why"]["values"]["window"]["sum"] for n in found}
        assert sums == {18 * BASE + 6 * CORRECTED}, sums  # decided on both halves
    assert 0 < len(expected) < CUSTOMERS * DAYS  # the limit splits the days
