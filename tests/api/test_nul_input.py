"""U+0000 in any input is a 422 naming where it is, on SQLite as on PostgreSQL, and nothing of
the request is stored. PostgreSQL's text cannot hold the character: each of these was a 500
there (SQLite stored it). A JSON text's ``\\\\u0000`` is a backslash and "u0000", not U+0000,
and is kept as sent.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.app import create_app
from api.input_guard import NulGuardMiddleware
from engine.platform.config import Settings
from tests.api.conftest import FrozenApi
from tests.conftest import make_settings
from tests.fixtures.api import Api
from tests.fixtures.delivery import TWILIO_AUTH_TOKEN, subscriber, twilio_post
from tests.fixtures.rules import BERLIN_DAY, DAILY_ENERGY, count_rows, publish

NUL = "\x00"
JSON = "application/json"
TWILIO_NUMBER, PHONE = "+4930555000111", "+4915123456789"


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    token = SecretStr(TWILIO_AUTH_TOKEN)
    return make_settings(
        db_url, tmp_path, twilio_auth_token=token, twilio_from_number=TWILIO_NUMBER
    )


def _fields(problem: dict[str, Any]) -> list[str]:
    return [error["field"] for error in problem.get("errors", [])]


def _refused(response: Any) -> list[str]:
    """The fields a 422 problem+json names."""
    assert response.status_code == 422, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["type"].endswith("/invalid-input") and "U+0000" in problem["detail"], problem
    return _fields(problem)


def _reading(customer: str, hour: int = 0) -> dict[str, Any]:
    start = BERLIN_DAY.replace(hour=hour).isoformat().replace("+00:00", "Z")
    return {
        "customer": customer,
        "metric": "electricity.consumption",
        "start": start,
        "duration": 3600,
        "value": 1.5,
        "unit": "kWh",
    }


def _event(customer: str, **fields: Any) -> dict[str, Any]:
    return {
        "customer": customer,
        "type": "bill.issued",
        "id": "bill-1",
        "occurred_at": "2026-03-01T08:00:00Z",
        "amount": 42.0,
        "currency": "EUR",
        **fields,
    }


def _post(api: Api, path: str, headers: dict[str, str], body: str, ctype: str) -> Any:
    return api.client.post(path, headers={**headers, "Content-Type": ctype}, content=body)


TARIFF = "body.attributes.tariff"
CUSTOMER_BODIES = [
    ({"external_id": f"a{NUL}b"}, "body.external_id"),
    ({"external_id": "k-1", "name": f"Ada{NUL}"}, "body.name"),
    ({"external_id": "k-1", "attributes": {"tariff": ["flex", f"x{NUL}"]}}, f"{TARIFF}.1"),
    ({"external_id": "k-1", "attributes": {f"tariff{NUL}": "flex"}}, f"{TARIFF}\\u0000"),
]


@pytest.mark.parametrize(("body", "field"), CUSTOMER_BODIES)
def test_a_customer_body_with_nul_is_refused_naming_the_field(
    frozen: FrozenApi, body: dict[str, Any], field: str
) -> None:
    api = frozen.api
    tenant = api.tenant()
    answer = api.client.post("/v1/customers", headers=tenant.feed, json=body)
    assert _refused(answer) == [field]
    assert count_rows(frozen.runtime, "customers") == 0


def test_json_bodies_of_every_kind_name_the_field(frozen: FrozenApi) -> None:
    api = frozen.api
    tenant = api.tenant()
    customer = api.customer(tenant)
    ref, token = customer["external_id"], api.token(tenant, customer["id"])
    template = {"key": "x.y", "channel": "sms", "locale": "de", "parts": {"text": f"Hi{NUL}"}}
    cases: list[tuple[str, str, dict[str, str], Any, list[str]]] = [
        ("PATCH", f"/v1/customers/{customer['id']}", tenant.feed, {"name": NUL}, ["body.name"]),
        ("PATCH", "/v1/me", token, {"name": f"Ada{NUL}", "locale": "de"}, ["body.name"]),
        ("POST", "/v1/templates", tenant.ops, template, ["body.parts.text"]),
        ("POST", "/v1/feeds/events", tenant.feed, [_event(ref, id=f"b{NUL}")], ["body.0.id"]),
        (
            "POST",
            "/v1/feeds/events",
            tenant.feed,
            _event(ref, fields={"lines": [{"text": f"{NUL}"}]}),
            ["body.fields.lines.0.text"],
        ),
        (
            "POST",
            "/v1/feeds/readings",
            tenant.feed,
            [_reading(ref), _reading(f"{ref}{NUL}", 1), _reading(NUL, 2)],
            ["body.1.customer", "body.2.customer"],
        ),
    ]
    for method, path, headers, body, fields in cases:
        assert _refused(api.client.request(method, path, headers=headers, json=body)) == fields
    assert api.ok("GET", f"/v1/customers/{customer['id']}", tenant.feed)["name"] is None
    assert api.client.get("/v1/templates/x.y", headers=tenant.ops).status_code == 404
    assert count_rows(frozen.runtime, "events") == count_rows(frozen.runtime, "readings") == 0


def test_an_escaped_backslash_before_u0000_is_kept_as_sent(api: Api) -> None:
    tenant = api.tenant()
    name = "C:\\u0000\\dir"  # a backslash, then the six characters u0000: no NUL
    body = '{"external_id": "k-1", "name": "C:\\\\u0000\\\\dir"}'
    created = _post(api, "/v1/customers", tenant.feed, body, JSON)
    assert created.status_code == 201, created.text
    assert created.json()["name"] == name
    assert api.ok("GET", f"/v1/customers/{created.json()['id']}", tenant.feed)["name"] == name


def test_ndjson_and_csv_name_the_row_and_column_and_store_nothing(frozen: FrozenApi) -> None:
    api = frozen.api
    tenant = api.tenant()
    ref = api.customer(tenant)["external_id"]
    lines = [json.dumps(_reading(ref)), json.dumps(_reading(ref, 1)).replace(ref, f"{ref}\\u0000")]
    ndjson = _post(api, "/v1/feeds/readings", tenant.feed, "\n".join(lines), "application/x-ndjson")
    assert _refused(ndjson) == ["body.1.customer"]
    csv = (
        "customer,metric,start,duration,value,unit\n"
        f"{ref},electricity.consumption,2026-03-01T23:00:00Z,3600,1.5,kWh\n"
        f"{ref},electricity.consumption,2026-03-02T00:00:00Z,3600,1.5,k{NUL}Wh\n"
    )
    assert _refused(_post(api, "/v1/feeds/readings", tenant.feed, csv, "text/csv")) == [
        "body.1.unit"
    ]
    # A CSV its parser cannot read stays the feed's to refuse (a cell past csv's size limit).
    unreadable = csv.replace(f"k{NUL}Wh", f"{'k' * 140_000}{NUL}Wh")
    answer = _post(api, "/v1/feeds/readings", tenant.feed, unreadable, "text/csv")
    assert answer.status_code == 422 and answer.json()["type"].endswith("/malformed-feed")
    # The good rows before the bad one were not stored either.
    assert count_rows(frozen.runtime, "readings") == 0
    assert count_rows(frozen.runtime, "window_aggregates") == 0


GREEN_BUTTON = (
    '<feed xmlns="http://www.w3.org/2005/Atom"><id>urn:gb</id>'
    '<entry><link rel="self" href="/UP/1/MR/1/IB/1"/><content>'
    '<IntervalBlock xmlns="http://naesb.org/espi"><IntervalReading><timePeriod>'
    f"<duration>3600</duration><start>{int(BERLIN_DAY.timestamp())}</start></timePeriod>"
    "<value>9500</value></IntervalReading></IntervalBlock></content></entry></feed>"
)


def test_green_button_with_nul_in_its_query_or_its_xml_is_refused(frozen: FrozenApi) -> None:
    api = frozen.api
    tenant = api.tenant()
    ref = api.customer(tenant)["external_id"]
    xml = "application/atom+xml"
    path = "/v1/feeds/greenbutton"
    answer = api.client.post(
        path,
        params={"customer": f"{ref}{NUL}"},
        headers={**tenant.feed, "Content-Type": xml},
        content=GREEN_BUTTON,
    )
    assert _refused(answer) == ["query.customer"]
    # XML cannot hold U+0000 at all, raw or as a character reference: a malformed feed.
    for bad in (GREEN_BUTTON.replace("9500", f"95{NUL}00"), GREEN_BUTTON.replace("urn:gb", "&#0;")):
        answer = _post(api, f"{path}?customer={ref}", tenant.feed, bad, xml)
        assert answer.status_code == 422, answer.text
        assert answer.json()["type"].endswith("/malformed-feed")
    assert count_rows(frozen.runtime, "readings") == 0


def test_query_strings_and_path_parameters_name_the_parameter(api: Api) -> None:
    tenant = api.tenant()
    publish(api, tenant, DAILY_ENERGY)
    customer = api.customer(tenant)
    token = api.token(tenant, customer["id"])
    queries = [
        ("/v1/customers", {"external_id": f"k{NUL}"}, tenant.ops, ["query.external_id"]),
        ("/v1/notifications", {"customer": NUL}, tenant.ops, ["query.customer"]),
        (f"/v1/customers/{customer['id']}/history", {"cursor": NUL}, tenant.ops, ["query.cursor"]),
    ]
    for path, params, headers, fields in queries:
        assert _refused(api.client.get(path, params=params, headers=headers)) == fields
    paths = [
        ("GET", "/v1/customers/cus_%00", tenant.ops, ["path.customer_id"]),
        ("PATCH", "/v1/rules/energy.%00", tenant.ops, ["path.key"]),
        ("GET", "/v1/templates/energy.daily_above%00", tenant.ops, ["path.key"]),
        ("DELETE", "/v1/me/triggers/trg_%00", token, ["path.trigger_id"]),
    ]
    for method, path, headers, fields in paths:
        answer = api.client.request(method, path, headers=headers, json={})
        assert _refused(answer) == fields


def test_nul_that_reaches_the_database_anyway_is_a_422(frozen: FrozenApi) -> None:
    """Without the guard in front, PostgreSQL's refusal of U+0000 is answered 422, not 500
    (SQLite stores it)."""
    app = create_app(frozen.runtime)
    app.user_middleware = [m for m in app.user_middleware if m.cls is not NulGuardMiddleware]
    with TestClient(app) as client:
        api = Api(client)
        tenant = api.tenant()
        # Refused when looked up (external_id) and when written (name).
        answers = [
            client.post("/v1/customers", headers=tenant.feed, json=body)
            for body in ({"external_id": NUL}, {"external_id": "k-1", "name": NUL})
        ]
    postgres = frozen.runtime.settings.database_url.startswith("postgresql")
    for answer in answers:
        if postgres:
            assert _refused(answer) == []
        else:
            assert answer.status_code == 201, answer.text
    assert count_rows(frozen.runtime, "customers") == (0 if postgres else 2)


def test_a_webhook_is_checked_for_its_signature_first(api: Api, settings: Settings) -> None:
    """Twilio's webhooks are not guarded: unsigned, a NUL is refused as any unsigned request
    (403); signed, it is read as U+FFFD and answered 200 on both databases
    (test_webhook_nul.py)."""
    subscriber(api, phone=PHONE, consents=[{"channel": "sms"}])
    inbound = "/v1/webhooks/twilio/inbound"
    sms = {"From": PHONE, "To": TWILIO_NUMBER, "Body": f"OK{NUL}", "MessageSid": "SM" + "0" * 32}
    assert twilio_post(api.client, inbound, sms, signature="forged").status_code == 403
    answer = twilio_post(api.client, inbound, sms)
    assert answer.status_code == 200, answer.text
