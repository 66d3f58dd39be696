"""A feed key reaches only its own tenant's customers, on every feed route.

Tenant B's feed key writes readings (JSON, NDJSON, CSV), events and a Green Button file about
tenant A's customer, named by A's external id or by nudge id. Each answers exactly as for a
customer that does not exist at all (no existence leak; Green Button: 404), and nothing of A's
changes: no reading, event, window total, decision or history entry. The same body sent with A's
own key is accepted, so the bodies are good and a missing tenant filter would have written.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.api.conftest import FrozenApi
from tests.fixtures.api import Api, TenantHandle
from tests.fixtures.rules import (
    BERLIN_DAY,
    BILL_EVENT,
    ELECTRICITY,
    Subscriber,
    count_rows,
    publish,
)
from tests.fixtures.rules import subscribe as subscribe_rule

TABLES = ("readings", "events", "window_aggregates", "notifications", "history_entries")
NOBODY = "no-such-customer"


@dataclass(frozen=True)
class Route:
    name: str
    post: Callable[[Api, TenantHandle, str], httpx.Response]


def _readings(customer: str) -> list[dict[str, Any]]:
    return [
        {
            "customer": customer,
            "metric": ELECTRICITY,
            "start": BERLIN_DAY.isoformat(),
            "duration": 3600,
            "value": 9.5,  # above the trigger's limit: a write would notify
            "unit": "kWh",
        }
    ]


def _post(api: Api, tenant: TenantHandle, path: str, ctype: str, body: str) -> httpx.Response:
    return api.client.post(path, headers={**tenant.feed, "content-type": ctype}, content=body)


def _json_readings(api: Api, tenant: TenantHandle, customer: str) -> httpx.Response:
    body = json.dumps(_readings(customer))
    return _post(api, tenant, "/v1/feeds/readings", "application/json", body)


def _ndjson_readings(api: Api, tenant: TenantHandle, customer: str) -> httpx.Response:
    body = "".join(json.dumps(r) + "\n" for r in _readings(customer))
    return _post(api, tenant, "/v1/feeds/readings", "application/x-ndjson", body)


def _csv_readings(api: Api, tenant: TenantHandle, customer: str) -> httpx.Response:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(_readings(customer)[0]))
    writer.writeheader()
    writer.writerows(_readings(customer))
    return _post(api, tenant, "/v1/feeds/readings", "text/csv", out.getvalue())


def _bill(customer: str) -> dict[str, Any]:
    return {
        "customer": customer,
        "type": "bill.issued",
        "id": "bill-2026-02",
        "occurred_at": BERLIN_DAY.isoformat(),
        "amount": 12345,
        "currency": "EUR",
    }


def _json_events(api: Api, tenant: TenantHandle, customer: str) -> httpx.Response:
    body = json.dumps([_bill(customer)])
    return _post(api, tenant, "/v1/feeds/events", "application/json", body)


def _ndjson_events(api: Api, tenant: TenantHandle, customer: str) -> httpx.Response:
    body = json.dumps(_bill(customer)) + "\n"
    return _post(api, tenant, "/v1/feeds/events", "application/x-ndjson", body)


GREEN_BUTTON = (
    '<feed xmlns="http://www.w3.org/2005/Atom"><id>urn:gb</id>'
    '<entry><link rel="self" href="/UP/1"/><link rel="related" href="/UP/1/MR"/>'
    '<content><UsagePoint xmlns="http://naesb.org/espi"><ServiceCategory><kind>0</kind>'
    "</ServiceCategory></UsagePoint></content></entry>"
    '<entry><link rel="self" href="/UP/1/MR/1"/><link rel="up" href="/UP/1/MR"/>'
    '<link rel="related" href="/RT/1"/><link rel="related" href="/UP/1/MR/1/IB"/>'
    '<content><MeterReading xmlns="http://naesb.org/espi"></MeterReading></content></entry>'
    '<entry><link rel="self" href="/RT/1"/><content><ReadingType xmlns="http://naesb.org/espi">'
    "<powerOfTenMultiplier>0</powerOfTenMultiplier><uom>72</uom></ReadingType></content></entry>"
    '<entry><link rel="self" href="/UP/1/MR/1/IB/1"/><link rel="up" href="/UP/1/MR/1/IB"/>'
    '<content><IntervalBlock xmlns="http://naesb.org/espi"><IntervalReading><timePeriod>'
    f"<duration>3600</duration><start>{int(BERLIN_DAY.timestamp())}</start></timePeriod>"
    "<value>9500</value></IntervalReading></IntervalBlock></content></entry></feed>"
)


def _greenbutton(api: Api, tenant: TenantHandle, customer: str) -> httpx.Response:
    path = f"/v1/feeds/greenbutton?customer={customer}"
    return _post(api, tenant, path, "application/atom+xml", GREEN_BUTTON)


ROUTES = [
    Route("readings-json", _json_readings),
    Route("readings-ndjson", _ndjson_readings),
    Route("readings-csv", _csv_readings),
    Route("events-json", _json_events),
    Route("events-ndjson", _ndjson_events),
    Route("greenbutton", _greenbutton),
]


def _answer(response: httpx.Response, ref: str) -> tuple[int, str]:
    """Status and body, with the customer reference and batch id made neutral."""
    body = response.json()
    body.pop("batch", None)
    body.pop("instance", None)
    return response.status_code, json.dumps(body, sort_keys=True).replace(ref, "<ref>")


def _state(frozen: FrozenApi, owner: Subscriber) -> dict[str, int]:
    return {table: count_rows(frozen.runtime, table, owner.id) for table in TABLES}


@pytest.fixture
def owner(frozen: FrozenApi) -> Subscriber:
    """Tenant A's customer, watching daily use and bills."""
    sub = subscribe_rule(frozen.api, external_id="anna-in-tenant-a")
    publish(frozen.api, sub.tenant, BILL_EVENT)
    body = {"rule": BILL_EVENT["key"], "params": {"limit": 50}}
    frozen.api.ok("POST", "/v1/me/triggers", sub.token, 201, json=body)
    return sub


@pytest.mark.parametrize("route", ROUTES, ids=[r.name for r in ROUTES])
@pytest.mark.parametrize("named_by", ["external id", "nudge id"])
def test_a_feed_key_cannot_write_about_another_tenants_customer(
    frozen: FrozenApi, owner: Subscriber, route: Route, named_by: str
) -> None:
    api = frozen.api
    other = api.tenant("Tenant B")
    ref = owner.ref if named_by == "external id" else owner.id
    before = _state(frozen, owner)

    foreign = route.post(api, other, ref)
    unknown = route.post(api, other, NOBODY)

    assert _answer(foreign, ref) == _answer(unknown, NOBODY)
    if route.name == "greenbutton":
        assert foreign.status_code == 404
    else:
        assert foreign.status_code == 200
        result = foreign.json()
        assert (result["accepted"], result["rejected"]) == (0, 1)
        assert result["rejections"][0]["reason"] == f"unknown customer {ref!r}"
    assert _state(frozen, owner) == before

    # Control: the owner's own key writes the same body about the same customer.
    if route.name == "greenbutton" and named_by == "nudge id":
        return  # Green Button names customers by external id only
    own = route.post(api, owner.tenant, ref)
    assert own.status_code == 200, own.text
    assert own.json()["accepted"] >= 1, own.text
    assert _state(frozen, owner) != before
