"""What a hostile or careless tenant tried, each as it was measured: the exact input, and what
the service must answer now (a 422 or a per-row rejection, never a 5xx, and the next request
still served)."""

from __future__ import annotations

import json
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from api.app import create_app
from engine.platform.clock import SystemClock
from engine.processes.demo.rules import DAILY_ENERGY
from engine.processes.runtime import Runtime
from tests.conftest import make_settings
from tests.fixtures.api import Api
from tests.fixtures.rules import (
    CHECKUP_REMINDER,
    notifications,
    post_events,
    publish,
    subscribe,
)

# Nested comprehensions over lists, inside cel-expr-python's iteration budget: 0.2-0.27 s per
# evaluation when it was accepted.
NESTED_MAPS = (
    "[1,2,3,4,5,6,7,8,9,10].map(i, [1,2,3,4,5,6,7,8,9,10].map(j, "
    "[1,2,3,4,5,6,7,8,9,10].map(k, i * j * k))).size() > 0 && window.sum > params.limit_kwh"
)


def test_a_condition_of_nested_comprehensions_is_refused_when_saved(api: Api) -> None:
    tenant = api.tenant()
    rule = {**DAILY_ENERGY, "key": "energy.costly", "condition": NESTED_MAPS}
    problem = api.problem("POST", "/v1/rules", tenant.ops, 422, json=rule)
    [error] = problem["errors"]
    assert error["field"].endswith("condition"), problem
    api.problem("GET", "/v1/rules/energy.costly", tenant.ops, 404)


def test_a_back_test_over_a_reading_from_year_one_answers_every_time(
    api: Api, runtime: Runtime
) -> None:
    """A row from before today's bounds (stored by an older version, or by hand) must not
    make the back-test of that customer fail, then or on any later call."""
    tenant = api.tenant()
    publish(api, tenant, DAILY_ENERGY)
    customer = api.customer(tenant)
    year_one = int(datetime(1, 1, 2, tzinfo=UTC).timestamp())
    row = {
        "customer_id": customer["id"],
        "metric": DAILY_ENERGY["metric"],
        "start": year_one,
        "duration": 3600,
        "tenant_id": tenant.id,
        "value": 1.0,
        "unit": "kWh",
        "received_at": 0,
        "batch": "legacy",
    }
    columns = ", ".join(row)
    with runtime.db.begin() as conn:
        conn.execute(
            text(f"INSERT INTO readings ({columns}) VALUES ({', '.join(':' + c for c in row)})"),
            row,
        )
    path = f"/v1/rules/{DAILY_ENERGY['key']}/backtest"
    body = {"params": {"limit_kwh": 5}, "customer_id": customer["id"]}
    for _ in range(3):
        response = api.client.post(path, headers=tenant.ops, json=body)
        assert response.status_code < 500, response.text
    api.ok("GET", "/healthz", {})


def test_a_far_due_date_for_a_customer_at_utc_minus_11_with_a_2359_reminder(api: Api) -> None:
    sub = subscribe(
        api,
        CHECKUP_REMINDER,
        {"days_before": 0, "local_time": "23:59"},
        timezone="Pacific/Pago_Pago",
    )
    far = post_events(
        api, sub.tenant, [{"customer": sub.ref, "type": "checkup.due", "due": "9999-12-31"}]
    )
    assert far["rejected"] == 1 and far["rejections"][0]["field"] == "due", far
    # The latest date accepted still gets its reminder, at 23:59 in Pago Pago.
    last = post_events(
        api, sub.tenant, [{"customer": sub.ref, "type": "checkup.due", "due": "2199-12-31"}]
    )
    assert (last["accepted"], last["notifications"]) == (1, 1), last
    [reminder] = notifications(api, sub.tenant, sub.id)
    assert datetime.fromisoformat(reminder["due_at"]) == datetime(2200, 1, 1, 10, 59, tzinfo=UTC)


def test_a_token_signed_by_another_deployment_opens_nothing(
    api: Api, db_url: str, tmp_path: Path
) -> None:
    """Two deployments over the same customers, each with its own secret key: a token one
    signed is refused by the other."""
    tenant = api.tenant()
    customer = api.customer(tenant)
    token = api.token(tenant, customer["id"])
    api.ok("GET", "/v1/me", token)
    other = make_settings(db_url, tmp_path / "other", secret_key="another-deployments-secret")
    runtime = Runtime.from_settings(other, SystemClock())
    try:
        with TestClient(create_app(runtime)) as client:
            assert client.get("/v1/me", headers=token).status_code == 401
    finally:
        runtime.db.dispose()


_due = st.one_of(
    st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)).map(date.isoformat),
    st.sampled_from(["1969-12-31", "1970-01-01", "2199-12-31", "2200-01-01", "0000-00-00"]),
)
_instant = st.one_of(
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)).map(
        lambda d: d.isoformat() + "Z"
    ),
    st.integers(-(10**13), 10**13),
)
_events = st.lists(
    st.fixed_dictionaries(
        {"type": st.just("checkup.due"), "due": _due},
        optional={"occurred_at": _instant, "status": st.sampled_from(["active", "cancelled"])},
    )
    | st.fixed_dictionaries(
        {
            "type": st.just("bill.issued"),
            "amount": st.one_of(
                st.floats(allow_nan=False, allow_infinity=False), st.integers(-(10**20), 10**20)
            ),
            "currency": st.sampled_from(["EUR", "JPY", "BHD", "XYZ"]),
        },
        optional={"occurred_at": _instant},
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(events=_events)
def test_no_extreme_event_gets_a_5xx_and_only_accepted_events_are_stored(
    api: Api, runtime: Runtime, events: list[dict[str, Any]]
) -> None:
    tenant = api.tenant()
    publish(api, tenant, CHECKUP_REMINDER)
    customer = api.customer(tenant, timezone="Pacific/Kiritimati")
    batch = [{"customer": customer["external_id"], **event} for event in events]
    headers = {**tenant.feed, "Content-Type": "application/json"}
    response = api.client.post("/v1/feeds/events", headers=headers, content=json.dumps(batch))
    assert response.status_code < 500, response.text
    if response.status_code != 200:
        return
    answer = response.json()
    with runtime.db.connect() as conn:
        stored = conn.execute(
            text("SELECT due, amount FROM events WHERE customer_id = :c"), {"c": customer["id"]}
        ).all()
    # Events with the same key correct each other: at most one row per accepted event.
    assert 0 < len(stored) <= answer["accepted"] or answer["accepted"] == 0 == len(stored)
    for due, amount in stored:
        assert due is None or date(1970, 1, 1) <= date.fromisoformat(str(due)) <= date(2199, 12, 31)
        assert amount is None or abs(amount) <= 1e12


def test_a_back_test_of_a_version_beyond_any_integer_is_refused(api: Api) -> None:
    """Found by Schemathesis: a version too large for the database was a 500."""
    tenant = api.tenant()
    publish(api, tenant, DAILY_ENERGY)
    customer = api.customer(tenant)
    path = f"/v1/rules/{DAILY_ENERGY['key']}/backtest"
    for version in (10**36, 2**31, 0):
        body = {"params": {"limit_kwh": 5}, "customer_id": customer["id"], "version": version}
        problem = api.problem("POST", path, tenant.ops, 422, json=body)
        assert problem["errors"][0]["field"] == "body.version", problem
    api.ok("POST", path, tenant.ops, json={**body, "version": 1})


def test_a_preview_over_the_render_budget_is_refused(api: Api) -> None:
    """Fine on the sample context at save, over budget on the data a preview gives it."""
    tenant = api.tenant()
    loops = (
        "{% set l = customer.attributes.get('l', []) %}{% for a in l %}{% for b in l %}"
        "{% for c in l %}{% for d in l %}{% endfor %}{% endfor %}{% endfor %}{% endfor %}Hi"
    )
    body = {"key": "energy.daily_above", "channel": "sms", "locale": "en", "parts": {"text": loops}}
    api.ok("POST", "/v1/templates", tenant.ops, 201, json=body)
    context = {"customer": {"attributes": {"l": list(range(100))}}}
    preview = {"channel": "sms", "locale": "en", "context": context}
    started = time.monotonic()
    problem = api.problem(
        "POST", "/v1/templates/energy.daily_above/preview", tenant.ops, 422, json=preview
    )
    assert problem["type"].endswith("/template-over-budget"), problem
    assert time.monotonic() - started < 10  # the budget is 200 ms; bounded on a busy machine
