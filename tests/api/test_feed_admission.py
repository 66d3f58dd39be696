"""Feed batches are admitted a few at a time per process, by turns of API key: a key with its
queue full gets 429 with Retry-After (problem+json), another key and small requests go on."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from starlette.types import Receive, Scope, Send

from api.admission import FeedAdmissionMiddleware, RowAllowance
from api.app import create_app
from api.middleware import BodyLimitMiddleware
from engine.platform.clock import SystemClock
from engine.processes.runtime import Runtime
from tests.conftest import make_settings
from tests.fixtures.api import Api
from tests.fixtures.workload import unknown_customer_readings as readings

FEED = json.dumps([{"customer": "c", "value": 1.5, "padding": "x" * 100}] * 200).encode()


class SlowFeeds:
    """The API behind the door: each feed batch waits for ``release``; records what ran."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.running: list[str] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.running.append(scope["path"])
        if scope["path"].startswith("/v1/feeds/"):
            await self.release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})


def client(inner: SlowFeeds, concurrency: int, queue: int) -> httpx.AsyncClient:
    app = BodyLimitMiddleware(
        FeedAdmissionMiddleware(inner, concurrency=concurrency, queue_per_key=queue),
        limit=10**6,
        feed_limit=10**7,
    )
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://nudge")


def feed(http: httpx.AsyncClient, key: str) -> asyncio.Task[httpx.Response]:
    headers = {"Authorization": f"Bearer nk_{key}.secret"}
    return asyncio.create_task(http.post("/v1/feeds/readings", content=FEED, headers=headers))


@pytest.mark.anyio
async def test_a_key_past_its_queue_gets_429_with_retry_after_and_others_go_on() -> None:
    inner = SlowFeeds()
    async with client(inner, concurrency=1, queue=2) as http:
        first, *queued = [feed(http, "a") for _ in range(3)]
        await asyncio.sleep(0.05)
        assert len(inner.running) == 1  # one at a time; two of A's wait

        refused = await http.post(
            "/v1/feeds/readings", content=FEED, headers={"Authorization": "Bearer nk_a.secret"}
        )
        assert refused.status_code == 429
        assert refused.headers["Retry-After"] == "1"
        assert refused.headers["content-type"] == "application/problem+json"
        problem = refused.json()
        assert problem["type"].endswith("feed-queue-full") and problem["retry_after"] == 1
        assert "2 feed batches" in problem["detail"]

        other = feed(http, "b")  # another key still queues
        small = await asyncio.wait_for(http.post("/v1/customers", content=b"{}"), 5)
        assert small.status_code == 200  # a small write never waits for the feeds
        inner.release.set()
        answers = await asyncio.wait_for(asyncio.gather(first, *queued, other), 10)
    assert [a.status_code for a in answers] == [200, 200, 200, 200]


@pytest.mark.anyio
async def test_keys_take_turns_for_the_feed_slot() -> None:
    inner = SlowFeeds()
    async with client(inner, concurrency=1, queue=8) as http:
        tasks = [feed(http, "a") for _ in range(4)]
        await asyncio.sleep(0.05)
        tasks.append(feed(http, "b"))
        await asyncio.sleep(0.05)
        order: list[str] = []
        for task in tasks:
            task.add_done_callback(
                lambda t: order.append(t.result().request.headers["authorization"])
            )  # noqa: E501
        inner.release.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 10)
    # A's first was running and A's second had waited longest; then B's one, before A's
    # other two (first come, first served would have put it last).
    assert order.index("Bearer nk_b.secret") == 2


@pytest.fixture
def limited(db_url: str, tmp_path: Path) -> Iterator[Api]:
    """The API of a deployment that allows each feed key 10 rows a second (100 at once)."""
    settings = make_settings(db_url, tmp_path, feed_rows_per_second=10)
    runtime = Runtime.from_settings(settings, SystemClock())
    with TestClient(create_app(runtime)) as test_client:
        yield Api(test_client)
    runtime.db.dispose()


def test_a_key_past_its_rows_per_second_gets_429_and_another_key_goes_on(limited: Api) -> None:
    tenant = limited.tenant()
    first = limited.ok("POST", "/v1/feeds/readings", tenant.feed, json=readings(150))
    assert first["rejected"] == 150  # counted all the same: parsing them was the work

    refused = limited.client.post("/v1/feeds/readings", headers=tenant.feed, json=readings(1))
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    wait = int(refused.headers["Retry-After"])
    assert 4 <= wait <= 5  # 50 rows over, at 10 a second
    problem = refused.json()
    assert problem["type"].endswith("feed-rows-over-limit") and problem["retry_after"] == wait
    assert "10 rows a second" in problem["detail"]

    other = limited.tenant("Other Energy")
    assert limited.ok("POST", "/v1/feeds/readings", other.feed, json=readings(1))["rejected"] == 1


def test_an_allowance_refills_at_its_rate_up_to_ten_seconds_worth() -> None:
    now = [0.0]
    allowance = RowAllowance(now=lambda: now[0])
    assert allowance.wait_seconds("t", 100) == 0
    allowance.charge("t", 1500, 100)  # 1,000 at once, 500 over
    assert allowance.wait_seconds("t", 100) == 5
    assert allowance.wait_seconds("t", 500) == 1  # a raised allowance pays the debt faster
    assert allowance.wait_seconds("t", 0) == 0  # and none at all: no limit
    now[0] = 5.01
    assert allowance.wait_seconds("t", 100) == 0
    now[0] = 1000.0
    allowance.charge("t", 1000, 100)  # refilled to 1,000, not more
    assert allowance.wait_seconds("t", 100) == 1
