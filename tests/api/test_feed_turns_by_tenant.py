"""Feed batches wait by turns of tenant, not of key: a tenant that spreads its batches over
several feed keys gets no more turns, and no longer queue, than one with a single key."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from api.admission import FeedAdmissionMiddleware
from api.middleware import BodyLimitMiddleware
from engine.tenants.allowances import FeedAllowances, KeyTenant
from tests.api.test_feed_admission import FEED, SlowFeeds

# The keys the database would know: two of tenant A's, one of B's.
KEYS = {
    "nk_a1": KeyTenant("ten_a", None),
    "nk_a2": KeyTenant("ten_a", None),
    "nk_b1": KeyTenant("ten_b", None),
}


def client(inner: SlowFeeds, queue: int) -> httpx.AsyncClient:
    allowances = FeedAllowances(KEYS.get, default=0)
    admission = FeedAdmissionMiddleware(inner, 1, queue_per_key=queue, allowances=allowances)
    app = BodyLimitMiddleware(admission, limit=10**6, feed_limit=10**7)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://nudge")


def feed(http: httpx.AsyncClient, key: str) -> asyncio.Task[httpx.Response]:
    headers = {"Authorization": f"Bearer {key}.secret"}
    return asyncio.create_task(http.post("/v1/feeds/readings", content=FEED, headers=headers))


@pytest.mark.anyio
async def test_a_tenants_keys_share_one_turn_and_one_queue() -> None:
    inner = SlowFeeds()
    async with client(inner, queue=3) as http:
        running = feed(http, "nk_a1")
        await asyncio.sleep(0.05)
        waiting = [feed(http, key) for key in ("nk_a1", "nk_a2", "nk_a2")]  # A's queue: 3
        await asyncio.sleep(0.05)
        third = http.post(
            "/v1/feeds/readings", content=FEED, headers={"Authorization": "Bearer nk_a2.secret"}
        )
        refused = await asyncio.wait_for(third, 5)  # refused at once, never queued
        assert refused.status_code == 429  # a third key would not help either
        assert "of this tenant are already waiting" in refused.json()["detail"]

        b = feed(http, "nk_b1")
        await asyncio.sleep(0.05)
        order: list[str] = []
        for task in [running, *waiting, b]:
            task.add_done_callback(
                lambda t: order.append(t.result().request.headers["authorization"])
            )
        inner.release.set()
        answers = await asyncio.wait_for(asyncio.gather(running, *waiting, b), 10)
    assert [a.status_code for a in answers] == [200] * 5
    # A's first was running; then one of A's waiting, then B's, before A's other two
    # (by turns of key, A's two keys would have put B's after three of A's).
    assert order.index("Bearer nk_b1.secret") == 2
