"""RFC 9457 problem+json for every failure, the body size limit, and Idempotency-Key."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlmodel import Session

from api.app import create_app
from engine.models import Customer
from engine.processes.runtime import Runtime
from tests.conftest import make_settings
from tests.fixtures.api import Api, bearer

REPLAYED = "idempotent-replayed"


def test_every_failure_is_problem_json(api: Api) -> None:
    tenant = api.tenant()
    customer = api.customer(tenant)
    token = api.token(tenant, customer["id"])
    cases = [
        ("GET", "/v1/customers", {}, 401, "unauthorized"),
        ("GET", "/v1/customers", token, 403, "forbidden"),
        ("GET", "/v1/customers/cus_00000000000000000000000000", tenant.ops, 404, "not-found"),
        ("PUT", f"/v1/customers/{customer['id']}", tenant.ops, 405, "method-not-allowed"),
        ("GET", "/v1/nothing-here", tenant.ops, 404, "not-found"),
        ("GET", "/nothing-here", {}, 404, "not-found"),
        ("POST", "/v1/customers", tenant.ops, 422, "invalid-input"),
    ]
    for method, path, headers, status, slug in cases:
        body = api.problem(method, path, headers, status, json={"phone": "12"})
        assert body["type"].endswith(f"/{slug}"), (path, body)
        assert body["instance"] == path
    response = api.client.put("/v1/customers", headers=tenant.ops, json={})
    assert set(response.headers["allow"].replace(" ", "").split(",")) == {"GET", "POST"}


def test_validation_errors_name_every_field_path(api: Api) -> None:
    tenant = api.tenant()
    body = api.problem(
        "POST",
        "/v1/customers",
        tenant.feed,
        422,
        json={
            "email": "nope",
            "phone": "0301234",
            "consents": [{"channel": "email"}, {"channel": "pigeon"}],
        },
    )
    fields = {e["field"] for e in body["errors"]}
    assert fields == {"body.email", "body.phone", "body.consents.1.channel"}
    assert all(e["msg"] and e["type"] for e in body["errors"])
    assert "body.email" in body["detail"]


def test_malformed_json_is_422_at_the_body(api: Api) -> None:
    tenant = api.tenant()
    headers = {**tenant.feed, "Content-Type": "application/json"}
    body = api.problem("POST", "/v1/customers", headers, 422, content=b'{"name": "Ada",')
    assert body["errors"][0]["loc"][0] == "body"
    assert api.ok("GET", "/v1/customers", tenant.ops)["items"] == []


def _small_limit_api(db_url: str, tmp_path: Path) -> Iterator[tuple[Api, Runtime]]:
    runtime = Runtime.from_settings(make_settings(db_url, tmp_path, max_body_bytes=300))
    with TestClient(create_app(runtime)) as client:
        yield Api(client), runtime
    runtime.db.dispose()


def _customer_count(runtime: Runtime) -> int:
    with Session(runtime.db) as session:
        return session.scalar(select(func.count()).select_from(Customer)) or 0


def test_body_over_the_limit_is_413_and_stores_nothing(db_url: str, tmp_path: Path) -> None:
    for api, runtime in _small_limit_api(db_url, tmp_path):
        tenant = api.tenant()
        fits = {"name": "Ada", "attributes": {"note": "x" * 100}}
        api.ok("POST", "/v1/customers", tenant.feed, 201, json=fits)
        big = {"name": "Bob", "attributes": {"note": "x" * 400}}
        api.problem("POST", "/v1/customers", tenant.feed, 413, json=big)

        def chunks() -> Iterator[bytes]:
            yield b'{"name": "Carl", "attributes": {"note": "'
            yield b"x" * 400
            yield b'"}}'

        headers = {**tenant.feed, "Content-Type": "application/json"}
        api.problem("POST", "/v1/customers", headers, 413, content=chunks())
        assert _customer_count(runtime) == 1


def test_same_idempotency_key_and_body_replays_the_answer(api: Api, runtime: Runtime) -> None:
    tenant = api.tenant()
    headers = {**tenant.feed, "Idempotency-Key": "create-ada-1"}
    body = {"external_id": "C-1", "name": "Ada"}

    first = api.client.post("/v1/customers", headers=headers, json=body)
    second = api.client.post("/v1/customers", headers=headers, json=body)

    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second.headers[REPLAYED] == "true"
    assert REPLAYED not in first.headers
    assert second.headers["content-type"] == first.headers["content-type"]
    assert _customer_count(runtime) == 1


def test_same_idempotency_key_with_another_body_is_422(api: Api, runtime: Runtime) -> None:
    tenant = api.tenant()
    headers = {**tenant.feed, "Idempotency-Key": "create-1"}
    api.ok("POST", "/v1/customers", headers, 201, json={"name": "Ada"})

    body = api.problem("POST", "/v1/customers", headers, 422, json={"name": "Bob"})
    assert body["type"].endswith("/idempotency-key-reused")
    assert _customer_count(runtime) == 1


def test_idempotency_keys_belong_to_one_credential(api: Api, runtime: Runtime) -> None:
    first, second = api.tenant("First"), api.tenant("Second")
    body = {"name": "Ada"}
    key = {"Idempotency-Key": "shared-key"}

    mine = api.client.post("/v1/customers", headers={**first.feed, **key}, json=body)
    theirs = api.client.post("/v1/customers", headers={**second.feed, **key}, json=body)

    assert mine.status_code == theirs.status_code == 201
    assert REPLAYED not in theirs.headers
    assert mine.json()["id"] != theirs.json()["id"]
    assert api.list_customer_ids(first) == [mine.json()["id"]]
    assert api.list_customer_ids(second) == [theirs.json()["id"]]
    assert _customer_count(runtime) == 2


def test_idempotency_key_must_be_reasonable_and_is_bound_to_the_credential(api: Api) -> None:
    tenant = api.tenant()
    for key in ("", "k" * 201):
        headers = {**tenant.feed, "Idempotency-Key": key}
        api.problem("POST", "/v1/customers", headers, 400, json={"name": "Ada"})
    assert api.list_customer_ids(tenant) == []

    key = {"Idempotency-Key": "retry-after-fixing-the-key"}
    api.problem("POST", "/v1/customers", {**bearer("nk_x.y"), **key}, 401, json={"name": "Ada"})
    api.ok("POST", "/v1/customers", {**tenant.feed, **key}, 201, json={"name": "Ada"})
