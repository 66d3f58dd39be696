"""Feed batches are admitted a few at a time per process, by turns of API key: a key with its
queue full gets 429 with Retry-After (problem+json), another key and small requests go on."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from api.admission import FeedAdmissionMiddleware
from api.middleware import BodyLimitMiddleware

pytestmark = pytest.mark.anyio

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
