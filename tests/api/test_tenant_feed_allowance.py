"""Each tenant's feed allowance (issue 11, noisy neighbours): the platform admin sets it when
creating a tenant and changes it later; all the tenant's feed keys share it; past it a feed
gets 429 with Retry-After while other tenants go on; tenants without one get the platform
default (NUDGE_FEED_ROWS_PER_SECOND, no limit unless set). On the real feed route, on SQLite
and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from engine.platform.clock import SystemClock
from engine.processes.runtime import Runtime
from tests.conftest import make_settings
from tests.fixtures.api import PROBLEM_JSON, Api, TenantHandle, bearer
from tests.fixtures.workload import unknown_customer_readings

READINGS = "/v1/feeds/readings"


def feed(api: Api, headers: dict[str, str], rows: int) -> Any:
    return api.client.post(READINGS, headers=headers, json=unknown_customer_readings(rows))


def assert_over_allowance(api: Api, headers: dict[str, str], rate: int) -> int:
    """The next feed is refused as past ``rate`` rows a second; the Retry-After it names."""
    refused = feed(api, headers, 1)
    assert refused.status_code == 429, refused.text
    assert refused.headers["content-type"] == PROBLEM_JSON
    problem = refused.json()
    assert problem["type"].endswith("feed-rows-over-limit")
    assert f"{rate} rows a second" in problem["detail"]
    wait = int(refused.headers["Retry-After"])
    assert problem["retry_after"] == wait
    return wait


def set_allowance(api: Api, tenant: TenantHandle, value: int | None) -> dict[str, Any]:
    body = {"feed_rows_per_second": value}
    changed: dict[str, Any] = api.ok("PATCH", f"/v1/tenants/{tenant.id}", api.admin, json=body)
    return changed


def test_a_tenant_past_its_allowance_gets_429_while_one_without_is_not_limited(api: Api) -> None:
    limited = api.tenant("Busy Energy", feed_rows_per_second=10)  # 100 rows at once
    free = api.tenant("Quiet Energy")
    shown = api.ok("GET", f"/v1/tenants/{limited.id}", api.admin)
    assert shown["feed_rows_per_second"] == 10
    assert api.ok("GET", f"/v1/tenants/{free.id}", api.admin)["feed_rows_per_second"] is None

    assert feed(api, limited.feed, 150).json()["rejected"] == 150
    assert 4 <= assert_over_allowance(api, limited.feed, 10) <= 5  # 50 rows over, 10 a second

    for _ in range(3):  # 450 rows at once: no limit for the other tenant
        answer = feed(api, free.feed, 150)
        assert answer.status_code == 200, answer.text


def test_all_of_a_tenants_feed_keys_share_its_allowance(api: Api) -> None:
    tenant = api.tenant(feed_rows_per_second=10)
    second = api.ok("POST", f"/v1/tenants/{tenant.id}/keys", api.admin, 201, json={"role": "feed"})
    assert feed(api, tenant.feed, 150).status_code == 200
    assert_over_allowance(api, bearer(second["key"]), 10)  # a new key is no way around it


def test_batches_with_a_wrong_secret_spend_nothing_of_the_allowance(api: Api) -> None:
    tenant = api.tenant(feed_rows_per_second=10)
    key_id = tenant.feed_key.partition(".")[0]  # a key's id is no secret
    for _ in range(3):
        answer = feed(api, bearer(f"{key_id}.wrong-secret"), 150)
        assert answer.status_code == 401, answer.text
    assert feed(api, tenant.feed, 100).status_code == 200  # still ten seconds' worth


def test_the_admin_changes_an_allowance_and_the_next_feed_is_held_to_it(api: Api) -> None:
    tenant = api.tenant()
    assert feed(api, tenant.feed, 150).status_code == 200  # no limit yet; its key is now known

    changed = set_allowance(api, tenant, 10)
    assert changed["id"] == tenant.id and changed["feed_rows_per_second"] == 10
    assert api.ok("GET", f"/v1/tenants/{tenant.id}", api.admin)["feed_rows_per_second"] == 10
    assert feed(api, tenant.feed, 150).status_code == 200  # within ten seconds' worth
    assert_over_allowance(api, tenant.feed, 10)

    set_allowance(api, tenant, 0)  # lifted: no limit, at once
    for _ in range(3):
        assert feed(api, tenant.feed, 5000).status_code == 200


def test_an_empty_change_keeps_the_allowance(api: Api) -> None:
    tenant = api.tenant(feed_rows_per_second=10)
    kept = api.ok("PATCH", f"/v1/tenants/{tenant.id}", api.admin, json={})
    assert kept["feed_rows_per_second"] == 10


@pytest.fixture
def platform_default(db_url: str, tmp_path: Path) -> Iterator[Api]:
    """A shared deployment whose operator set a platform default of 10 rows a second."""
    settings = make_settings(db_url, tmp_path, feed_rows_per_second=10)
    runtime = Runtime.from_settings(settings, SystemClock())
    with TestClient(create_app(runtime)) as client:
        yield Api(client)
    runtime.db.dispose()


def test_the_platform_default_holds_tenants_without_an_allowance_of_their_own(
    platform_default: Api,
) -> None:
    api = platform_default
    ordinary = api.tenant("Ordinary Energy")
    big = api.tenant("Big Energy", feed_rows_per_second=0)  # exempted by the admin
    larger = api.tenant("Larger Energy", feed_rows_per_second=1000)

    assert feed(api, ordinary.feed, 150).status_code == 200
    assert_over_allowance(api, ordinary.feed, 10)
    for _ in range(3):
        assert feed(api, big.feed, 150).status_code == 200
        assert feed(api, larger.feed, 150).status_code == 200

    set_allowance(api, big, None)  # back to the platform default
    assert feed(api, big.feed, 150).status_code == 200
    assert_over_allowance(api, big.feed, 10)


def test_only_the_platform_admin_changes_an_allowance(api: Api) -> None:
    tenant = api.tenant(feed_rows_per_second=10)
    customer = api.customer(tenant)
    path, body = f"/v1/tenants/{tenant.id}", {"feed_rows_per_second": 0}
    for who in (tenant.ops, tenant.feed, api.token(tenant, customer["id"])):
        problem = api.problem("PATCH", path, who, 403, json=body)
        assert "admin" in problem["detail"]
    api.problem("PATCH", path, {}, 401, json=body)
    api.problem("PATCH", path, bearer("nk_nothing.wrong"), 401, json=body)
    assert api.ok("GET", path, api.admin)["feed_rows_per_second"] == 10  # unchanged


def test_a_change_names_what_is_wrong(api: Api) -> None:
    tenant = api.tenant()
    path = f"/v1/tenants/{tenant.id}"
    for bad in (-1, 1.5, "100", True, 10_000_001):
        problem = api.problem("PATCH", path, api.admin, 422, json={"feed_rows_per_second": bad})
        assert any(e["loc"][-1] == "feed_rows_per_second" for e in problem["errors"]), problem
    whole = api.ok("PATCH", path, api.admin, json={"feed_rows_per_second": 250.0})
    assert whole["feed_rows_per_second"] == 250  # JSON's integer, written with a point
    api.problem("PATCH", path, api.admin, 422, json={"name": "Renamed"})  # not changeable here
    api.problem("PATCH", "/v1/tenants/ten_missing", api.admin, 404, json={})
    api.problem(
        "POST", "/v1/tenants", api.admin, 422, json={"name": "X", "feed_rows_per_second": -5}
    )


def test_the_operation_is_documented_with_every_status(api: Api) -> None:
    document = api.ok("GET", "/openapi.json", {})
    operation = document["paths"]["/v1/tenants/{tenant_id}"]["patch"]
    assert operation["security"]
    statuses = set(operation["responses"])
    assert {"200", "401", "403", "404", "409", "413", "422", "429", "500", "503"} <= statuses
    for status in statuses - {"200"}:
        assert PROBLEM_JSON in operation["responses"][status]["content"], status
    schema = document["components"]["schemas"]["TenantUpdate"]["properties"]
    allowed = schema["feed_rows_per_second"]["anyOf"][0]
    assert allowed["type"] == "integer" and allowed["minimum"] == 0
