"""The business's customers: CRUD, pagination, lookup and validation of every field."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from engine.models import ContactPoint, Customer
from engine.processes.runtime import Runtime
from tests.fixtures.api import Api, TenantHandle

BAD_FIELDS = [
    ("phone", "030 1234567"),
    ("phone", "+49 000"),
    ("phone", "+1555"),
    ("email", "not-an-email"),
    ("email", "ada@"),
    ("timezone", "Mars/Olympus_Mons"),
    ("timezone", "CEST"),
    ("locale", "german"),
    ("locale", "de_DE"),
    ("locale", "xx-QQ"),
    ("external_id", ""),
    ("attributes", ["not", "an", "object"]),
]


def _customers(api: Api, tenant: TenantHandle) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = api.ok("GET", "/v1/customers", tenant.ops)["items"]
    return items


def test_create_get_patch_delete(api: Api) -> None:
    tenant = api.tenant()
    created = api.ok(
        "POST",
        "/v1/customers",
        tenant.feed,
        201,
        json={
            "external_id": "C-1001",
            "name": "Ada Lovelace",
            "email": "Ada@Example.com",
            "phone": "+49 151 23456789",
            "attributes": {"tariff": "green", "contract": {"no": 42, "since": "2024-01-01"}},
        },
    )
    assert created["locale"] == "de-DE" and created["timezone"] == "Europe/Berlin"
    assert created["phone"] == "+4915123456789"
    assert created["email"] == "Ada@example.com"
    assert api.ok("GET", f"/v1/customers/{created['id']}", tenant.ops) == created

    patched = api.ok(
        "PATCH",
        f"/v1/customers/{created['id']}",
        tenant.ops,
        json={"name": "Ada King", "timezone": "Europe/London", "locale": "en-gb"},
    )
    assert (patched["name"], patched["timezone"], patched["locale"]) == (
        "Ada King",
        "Europe/London",
        "en-GB",
    )
    assert patched["email"] == created["email"] and patched["attributes"] == created["attributes"]

    api.ok("DELETE", f"/v1/customers/{created['id']}", tenant.ops, 204)
    api.problem("GET", f"/v1/customers/{created['id']}", tenant.ops, 404)
    api.problem("DELETE", f"/v1/customers/{created['id']}", tenant.ops, 404)
    assert _customers(api, tenant) == []


def test_list_pages_by_cursor_in_creation_order(api: Api) -> None:
    tenant = api.tenant()
    ids = [api.customer(tenant)["id"] for _ in range(7)]

    seen: list[str] = []
    sizes: list[int] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        page = api.ok("GET", "/v1/customers", tenant.ops, params=params)
        sizes.append(len(page["items"]))
        seen.extend(item["id"] for item in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sizes == [3, 3, 1]
    assert seen == ids


def test_list_rejects_bad_paging(api: Api) -> None:
    tenant = api.tenant()
    for params in ({"limit": 0}, {"limit": 100_000}, {"limit": "many"}, {"cursor": "%%%\xff"}):
        body = api.problem("GET", "/v1/customers", tenant.ops, 422, params=params)
        assert body["errors"][0]["loc"][0] == "query"


def test_external_id_is_unique_per_tenant(api: Api) -> None:
    first, second = api.tenant("First"), api.tenant("Second")
    mine = api.customer(first, external_id="C-1")

    api.problem("POST", "/v1/customers", first.feed, 409, json={"external_id": "C-1"})
    theirs = api.customer(second, external_id="C-1")
    assert theirs["id"] != mine["id"]
    other = api.customer(first, external_id="C-2")
    api.problem(
        "PATCH", f"/v1/customers/{other['id']}", first.ops, 409, json={"external_id": "C-1"}
    )

    found = api.ok("GET", "/v1/customers", first.ops, params={"external_id": "C-1"})
    assert [item["id"] for item in found["items"]] == [mine["id"]]
    found = api.ok("GET", "/v1/customers", second.ops, params={"external_id": "C-1"})
    assert [item["id"] for item in found["items"]] == [theirs["id"]]
    missing = api.ok("GET", "/v1/customers", first.ops, params={"external_id": "C-404"})
    assert missing["items"] == []


def test_invalid_fields_are_422_naming_them_and_store_nothing(api: Api) -> None:
    tenant = api.tenant()
    for field, value in BAD_FIELDS:
        body = api.problem(
            "POST", "/v1/customers", tenant.feed, 422, json={"name": "Ada", field: value}
        )
        assert [e["loc"][:2] for e in body["errors"]] == [["body", field]], (field, value)
        assert body["errors"][0]["field"].startswith(f"body.{field}")
        assert field in body["detail"]
    assert _customers(api, tenant) == []


def test_invalid_patch_changes_nothing(api: Api) -> None:
    tenant = api.tenant()
    customer = api.customer(tenant, email="ada@example.com")
    for field, value in BAD_FIELDS:
        change = {"name": "Changed", field: value}
        body = api.problem("PATCH", f"/v1/customers/{customer['id']}", tenant.ops, 422, json=change)
        assert body["errors"][0]["loc"][:2] == ["body", field]
    assert api.ok("GET", f"/v1/customers/{customer['id']}", tenant.ops) == customer


def test_nan_and_infinity_in_attributes_are_rejected(api: Api) -> None:
    tenant = api.tenant()
    headers = {**tenant.feed, "Content-Type": "application/json"}
    for literal in ("NaN", "Infinity", "-Infinity"):
        raw = '{"attributes": {"usage": {"kwh": [1.5, LITERAL]}}}'.replace("LITERAL", literal)
        body = api.problem("POST", "/v1/customers", headers, 422, content=raw)
        assert body["errors"][0]["loc"][:2] == ["body", "attributes"], literal
    assert _customers(api, tenant) == []


def test_unknown_fields_are_rejected(api: Api) -> None:
    tenant = api.tenant()
    body = api.problem("POST", "/v1/customers", tenant.feed, 422, json={"nmae": "Ada"})
    assert body["errors"][0]["loc"] == ["body", "nmae"]

    customer = api.customer(tenant)
    body = api.problem(
        "PATCH", f"/v1/customers/{customer['id']}", tenant.ops, 422, json={"id": "cus_x"}
    )
    assert body["errors"][0]["loc"] == ["body", "id"]
    assert _customers(api, tenant) == [customer]


def test_explicit_null_removes_a_contact_point(api: Api, runtime: Runtime) -> None:
    tenant = api.tenant()
    customer = api.customer(tenant, email="ada@example.com", phone="+4915123456789")

    patched = api.ok("PATCH", f"/v1/customers/{customer['id']}", tenant.ops, json={"email": None})
    assert patched["email"] is None and patched["phone"] == "+4915123456789"
    untouched = api.ok("PATCH", f"/v1/customers/{customer['id']}", tenant.ops, json={})
    assert untouched["phone"] == "+4915123456789"
    with Session(runtime.db) as session:
        kinds = session.scalars(
            select(ContactPoint.kind).where(ContactPoint.customer_id == customer["id"])
        ).all()
    assert kinds == ["phone"]


def test_patch_records_a_profile_history_entry(api: Api) -> None:
    tenant = api.tenant()
    customer = api.customer(tenant, name="Ada")
    path = f"/v1/customers/{customer['id']}"
    api.ok("PATCH", path, tenant.ops, json={"name": "Ada"})
    api.ok("PATCH", path, tenant.ops, json={"name": "Ada King", "phone": "+4915123456789"})

    history = api.ok("GET", f"{path}/history", tenant.ops, params={"kind": "profile"})
    assert len(history["items"]) == 1
    entry = history["items"][0]
    assert entry["kind"] == "profile"
    assert sorted(entry["data"]["changed"]) == ["name", "phone"]
    assert entry["data"]["by"] == "business"


def test_initial_consents_are_stored_with_history(api: Api) -> None:
    tenant = api.tenant()
    customer = api.customer(
        tenant, consents=[{"channel": "email"}, {"channel": "sms", "topic": "billing"}]
    )
    token = api.token(tenant, customer["id"])

    consents = api.ok("GET", "/v1/me/consents", token)
    assert {(c["channel"], c["topic"], c["granted"], c["source"]) for c in consents} == {
        ("email", "*", True, "business"),
        ("sms", "billing", True, "business"),
    }
    history = api.ok("GET", "/v1/me/history", token, params={"kind": "consent"})
    assert len(history["items"]) == 2


def test_answer_is_sent_only_after_the_commit(api: Api, runtime: Runtime) -> None:
    """A client that got 201 can read the customer from any other connection at once."""
    tenant = api.tenant()
    app = api.client.app
    counts_at_answer: list[int] = []
    body = json.dumps({"name": "Ada"}).encode()
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/v1/customers",
        "raw_path": b"/v1/customers",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"authorization", tenant.feed["Authorization"].encode()),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 1),
        "server": ("testserver", 80),
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            assert message["status"] == 201
            with Session(runtime.db) as session:
                query = select(func.count()).select_from(Customer)
                counts_at_answer.append(
                    session.scalar(query.where(Customer.tenant_id == tenant.id)) or 0
                )

    asyncio.run(app(scope, receive, send))  # type: ignore[arg-type]
    assert counts_at_answer == [1]
