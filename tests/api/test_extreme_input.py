"""Extreme values, instants and durations get a 422 or a per-row rejection that names the
bound, never a 5xx, and what is stored is exactly what was accepted."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from engine.processes.runtime import Runtime
from tests.fixtures.api import Api, TenantHandle
from tests.fixtures.rules import DAILY_ENERGY, publish

ELECTRICITY = "electricity.consumption"


def _reading(customer: str, **fields: Any) -> dict[str, Any]:
    return {
        "customer": customer,
        "metric": ELECTRICITY,
        "start": "2026-01-01T00:00:00Z",
        "duration": 3600,
        "value": 1.0,
        "unit": "kWh",
        **fields,
    }


def _rejection(api: Api, tenant: TenantHandle, row: dict[str, Any]) -> dict[str, Any]:
    answer = api.ok("POST", "/v1/feeds/readings", tenant.feed, json=[row])
    assert answer["accepted"] == 0 and answer["rejected"] == 1, answer
    rejection: dict[str, Any] = answer["rejections"][0]
    return rejection


def test_each_bound_is_named_in_the_rejection(api: Api) -> None:
    tenant = api.tenant()
    who = api.customer(tenant)["external_id"]
    cases = [
        ({"value": 1e308, "unit": "MWh"}, "value", "beyond the accepted ±1e+12 kWh"),
        ({"start": "0001-01-01T00:00:00Z"}, "start", "before 1970-01-01T00:00:00+00:00"),
        ({"duration": 1_000_000_000_000}, "duration", "at most 31622400 s (366 days)"),
        ({"end": "2027-06-01T00:00:00Z", "duration": None}, "end", "more than 31622400 s"),
    ]
    for fields, field, reason in cases:
        rejection = _rejection(api, tenant, _reading(who, **fields))
        assert rejection["field"] == field and reason in rejection["reason"], rejection


def test_events_due_far_ahead_or_long_ago_are_rejected(api: Api) -> None:
    tenant = api.tenant()
    who = api.customer(tenant, timezone="Pacific/Pago_Pago")["external_id"]
    for due in ("9999-12-31", "1900-01-01"):
        event = {"customer": who, "type": "checkup.due", "due": due}
        answer = api.ok("POST", "/v1/feeds/events", tenant.feed, json=[event])
        assert answer["rejected"] == 1 and answer["rejections"][0]["field"] == "due"
    money = {"customer": who, "type": "bill.issued", "amount": 1e300, "currency": "EUR"}
    answer = api.ok("POST", "/v1/feeds/events", tenant.feed, json=[money])
    assert answer["rejections"][0]["field"] == "amount"


def test_the_hosts_own_zone_is_not_an_iana_zone(api: Api) -> None:
    tenant = api.tenant()
    for zone in ("localtime", "Factory"):
        problem = api.problem("POST", "/v1/customers", tenant.feed, 422, json={"timezone": zone})
        assert problem["errors"][0]["field"] == "body.timezone"


def test_back_test_samples_are_bounded_too(api: Api) -> None:
    tenant = api.tenant()
    publish(api, tenant, DAILY_ENERGY)
    path = f"/v1/rules/{DAILY_ENERGY['key']}/backtest"
    for reading in (
        {"start": "0001-01-02T00:00:00Z", "duration": 3600, "value": 1.0},
        {"start": "2026-01-01T00:00:00Z", "duration": 3600, "value": 1e300},
    ):
        body = {"params": {"limit_kwh": 5}, "readings": [reading]}
        api.problem("POST", path, tenant.ops, 422, json=body)


_instants = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)
)
_rows = st.lists(
    st.fixed_dictionaries(
        {
            "start": st.one_of(
                _instants.map(lambda d: d.isoformat()), st.integers(-(10**12), 10**12)
            ),
            "duration": st.one_of(st.integers(-10, 10**13), st.sampled_from([3600, 86400])),
            "value": st.one_of(
                st.floats(allow_nan=True, allow_infinity=True), st.integers(-(10**20), 10**20)
            ),
            "unit": st.sampled_from(["Wh", "kWh", "MWh", "GWh", "therm", "l"]),
        }
    ),
    min_size=1,
    max_size=8,
)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(rows=_rows)
def test_no_extreme_reading_gets_a_5xx_and_only_accepted_rows_are_stored(
    api: Api, runtime: Runtime, rows: list[dict[str, Any]]
) -> None:
    tenant = api.tenant()
    customer = api.customer(tenant)
    batch = [_reading(customer["external_id"], **row) for row in rows]
    headers = {**tenant.feed, "Content-Type": "application/json"}
    # NaN and ±∞ as JavaScript writes them (not JSON): the parser must refuse them politely.
    response = api.client.post("/v1/feeds/readings", headers=headers, content=json.dumps(batch))
    assert response.status_code < 500, response.text
    if response.status_code != 200:
        return
    answer = response.json()
    with runtime.db.connect() as conn:
        stored = conn.execute(
            text("SELECT value, start FROM readings WHERE customer_id = :c"), {"c": customer["id"]}
        ).all()
    assert len(stored) == answer["accepted"]
    assert all(abs(value) <= 1e12 for value, _ in stored)
    earliest = datetime(1970, 1, 1, tzinfo=UTC)
    latest = datetime.now(UTC) + timedelta(days=1)
    for _, start in stored:  # epoch seconds in the table
        assert earliest <= datetime.fromtimestamp(float(start), UTC) <= latest
    # The back-test and the customer's windows read these rows without failing.
    publish_once(api, tenant)
    body = {"params": {"limit_kwh": 5}, "customer_id": customer["id"]}
    check = api.client.post(
        f"/v1/rules/{DAILY_ENERGY['key']}/backtest", headers=tenant.ops, json=body
    )
    assert check.status_code < 500, check.text


def publish_once(api: Api, tenant: TenantHandle) -> None:
    found = api.client.get(f"/v1/rules/{DAILY_ENERGY['key']}", headers=tenant.ops)
    if found.status_code == 404:
        publish(api, tenant, DAILY_ENERGY)
