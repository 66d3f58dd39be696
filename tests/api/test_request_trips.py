"""A small request goes to the thread pool twice: once to learn who is asking, once for the
route's work, its answer's check and the commit. Under load each trip waits for the GIL
(feeds parse and evaluate beside it), so every trip more is latency; a writer's commit in the
route's own trip also holds SQLite's write lock for no trip at all."""

from __future__ import annotations

from typing import Any

import anyio.to_thread
import pytest

from tests.api.conftest import FrozenApi
from tests.fixtures.api import bearer
from tests.fixtures.rules import DAILY_ENERGY

MOST = 2


def test_small_requests_make_two_trips_to_the_thread_pool(
    frozen: FrozenApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = frozen.api
    tenant = api.tenant()
    api.ok("POST", "/v1/rules", tenant.ops, 201, json=DAILY_ENERGY)
    customer = api.customer(tenant)
    me = bearer(api.raw_token(tenant, customer["id"]))
    trips: list[int] = []
    real = anyio.to_thread.run_sync

    async def counted(*args: Any, **kwargs: Any) -> Any:
        trips.append(1)
        return await real(*args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", counted)
    calls = [
        ("GET", "/v1/me/preferences", me, None),
        ("PATCH", "/v1/me/preferences", me, {"urgent_override": True}),
        ("GET", "/v1/rules", tenant.ops, None),
        ("GET", "/v1/notifications?limit=20", tenant.ops, None),
        ("PATCH", f"/v1/customers/{customer['id']}", tenant.ops, {"name": "Ada"}),
    ]
    for method, path, headers, body in calls:
        trips.clear()
        api.ok(method, path, headers, json=body)
        assert len(trips) <= MOST, (method, path, len(trips))
    assert api.ok("GET", f"/v1/customers/{customer['id']}", tenant.ops)["name"] == "Ada"
    assert api.ok("GET", "/v1/me/preferences", me)["urgent_override"] is True
