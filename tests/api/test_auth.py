"""Bearer credentials: admin keys, tenant keys, customer tokens, and who may call what."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text
from sqlmodel import Session

from engine.models import ApiKey
from engine.processes.runtime import Runtime
from tests.api.conftest import FrozenApi
from tests.fixtures.api import Api, bearer


def _secret(key: str) -> str:
    return key.partition(".")[2]


def test_admin_keys_from_settings_and_from_the_service_create_tenants(
    api: Api, runtime: Runtime
) -> None:
    tenant = api.ok("POST", "/v1/tenants", api.admin, 201, json={"name": "Stadtwerke"})
    assert tenant["name"] == "Stadtwerke"
    assert api.ok("GET", f"/v1/tenants/{tenant['id']}", api.admin)["id"] == tenant["id"]

    with runtime.services() as services:
        issued = services.tenants.create_admin_key("bootstrap")
    assert issued.key.startswith("nk_")
    api.ok("POST", "/v1/tenants", bearer(issued.key), 201, json={"name": "Gaswerke"})


def test_tenant_keys_are_shown_once_and_stored_hashed(api: Api, runtime: Runtime) -> None:
    tenant = api.ok("POST", "/v1/tenants", api.admin, 201, json={"name": "Stadtwerke"})
    issued = [
        api.ok("POST", f"/v1/tenants/{tenant['id']}/keys", api.admin, 201, json={"role": role})
        for role in ("ops", "feed")
    ]

    with Session(runtime.db) as session:
        for key in issued:
            assert key["key"].startswith(f"{key['id']}.")
            row = session.get(ApiKey, key["id"])
            assert row is not None and row.role == key["role"]
            stored = session.execute(
                text("SELECT * FROM api_keys WHERE id = :id"), {"id": key["id"]}
            ).one()
            assert all(_secret(key["key"]) not in str(value) for value in stored)
    again = api.client.get(f"/v1/tenants/{tenant['id']}", headers=api.admin)
    assert all(_secret(key["key"]) not in again.text for key in issued)
    body = api.problem(
        "POST", f"/v1/tenants/{tenant['id']}/keys", api.admin, 422, json={"role": "admin"}
    )
    assert body["errors"][0]["loc"] == ["body", "role"]


def test_wrong_secret_is_401_with_challenge(api: Api) -> None:
    tenant = api.tenant()
    key_id = tenant.ops_key.partition(".")[0]
    response = api.client.get("/v1/customers", headers=bearer(f"{key_id}.not-the-secret"))

    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers["www-authenticate"].lower().startswith("bearer")
    assert response.json()["status"] == 401


def test_missing_or_malformed_authorization_is_401(api: Api) -> None:
    tenant = api.tenant()
    for headers in (
        {},
        {"Authorization": tenant.ops_key},
        {"Authorization": f"Basic {tenant.ops_key}"},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer    "},
        {"Authorization": "Bearer nk_"},
        {"Authorization": "Bearer nk_abc."},
        {"Authorization": "Bearer nct."},
        {"Authorization": "Bearer nct.e30.x"},
        {"Authorization": "Bearer something-else"},
    ):
        api.problem("GET", "/v1/customers", headers, 401)
    for credential in (b"caf\xc3\xa9", b"nct.e30.\xc3\xa9", b"nk_abc.\xc3\xa9"):
        non_ascii = {"Authorization": b"Bearer " + credential}
        response = api.client.get("/v1/customers", headers=non_ascii)  # type: ignore[arg-type]
        assert response.status_code == 401, response.text


def test_unknown_and_revoked_keys_are_401(api: Api, runtime: Runtime) -> None:
    tenant = api.tenant()
    api.problem("GET", "/v1/customers", bearer("nk_00000000000000000000000000.secret"), 401)

    api.ok("GET", "/v1/customers", tenant.ops)
    with runtime.services() as services:
        row = services.tenants.find_key(tenant.ops_key.partition(".")[0])
        assert row is not None
        row.revoked_at = runtime.clock.now()
    api.problem("GET", "/v1/customers", tenant.ops, 401)
    api.ok("GET", "/v1/customers", tenant.feed)


def test_customer_token_opens_me(api: Api) -> None:
    tenant = api.tenant()
    customer = api.customer(tenant, name="Ada")
    issued = api.ok("POST", f"/v1/customers/{customer['id']}/tokens", tenant.ops, 201)

    assert issued["customer_id"] == customer["id"]
    assert issued["token_type"] == "Bearer"
    assert api.ok("GET", "/v1/me", bearer(issued["token"]))["name"] == "Ada"


def test_customer_tokens_expire(frozen: FrozenApi) -> None:
    api = frozen.api
    tenant = api.tenant()
    customer = api.customer(tenant)
    short = bearer(api.raw_token(tenant, customer["id"], ttl_seconds=600))
    default = api.token(tenant, customer["id"])
    ttl = frozen.runtime.settings.customer_token_ttl_seconds
    assert ttl > 601

    frozen.clock.advance(timedelta(seconds=599))
    api.ok("GET", "/v1/me", short)
    frozen.clock.advance(timedelta(seconds=2))
    api.problem("GET", "/v1/me", short, 401)

    frozen.clock.advance(timedelta(seconds=ttl - 603))
    api.ok("GET", "/v1/me", default)
    frozen.clock.advance(timedelta(seconds=3))
    api.problem("GET", "/v1/me", default, 401)


def test_tampered_customer_token_is_401(api: Api) -> None:
    tenant = api.tenant()
    ada, bob = api.customer(tenant), api.customer(tenant)
    token = api.raw_token(tenant, ada["id"])
    prefix, payload, mac = token.split(".")
    bob_payload = api.raw_token(tenant, bob["id"]).split(".")[1]
    flipped = mac[:-2] + ("A" if mac[-2] != "A" else "B") + mac[-1]

    for forged in (
        f"{prefix}.{bob_payload}.{mac}",
        f"{prefix}.{payload}.{flipped}",
        f"{prefix}.{payload}",
        f"{prefix}.{payload}.",
    ):
        api.problem("GET", "/v1/me", bearer(forged), 401)


def test_token_of_an_erased_customer_is_401(api: Api) -> None:
    tenant = api.tenant()
    customer = api.customer(tenant)
    token = api.token(tenant, customer["id"])
    api.ok("DELETE", f"/v1/customers/{customer['id']}", tenant.ops, 204)

    api.problem("GET", "/v1/me", token, 401)


def test_each_credential_is_refused_outside_its_role(api: Api) -> None:
    tenant = api.tenant()
    customer = api.customer(tenant)
    token = api.token(tenant, customer["id"])

    api.problem("GET", "/v1/customers", token, 403)
    api.problem("GET", f"/v1/customers/{customer['id']}", token, 403)
    api.problem("POST", f"/v1/customers/{customer['id']}/tokens", token, 403)
    for headers in (tenant.ops, tenant.feed, token):
        api.problem("POST", "/v1/tenants", headers, 403, json={"name": "x"})
        api.problem("GET", f"/v1/tenants/{tenant.id}", headers, 403)
        api.problem("POST", f"/v1/tenants/{tenant.id}/keys", headers, 403, json={"role": "ops"})
    for headers in (tenant.ops, tenant.feed, api.admin):
        api.problem("GET", "/v1/me", headers, 403)
    api.problem("GET", "/v1/customers", api.admin, 403)


def test_tokens_are_issued_only_for_own_customers(api: Api) -> None:
    first, second = api.tenant("First"), api.tenant("Second")
    customer = api.customer(first)

    api.problem("POST", f"/v1/customers/{customer['id']}/tokens", second.feed, 404)
    api.problem("POST", "/v1/customers/cus_nonexistent/tokens", first.feed, 404)
