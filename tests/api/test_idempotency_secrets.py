"""What an Idempotency-Key keeps: never a secret, not past its lifetime, and nothing of a
customer who was erased."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlmodel import Session

from engine.models import IdempotencyRecord
from engine.processes.runtime import Runtime
from tests.api.conftest import FrozenApi
from tests.fixtures.api import ADMIN_KEY, Api, bearer

REPLAYED = "idempotent-replayed"


def _stored_bodies(runtime: Runtime) -> list[bytes]:
    with Session(runtime.db) as session:
        return [r.body for r in session.execute(select(IdempotencyRecord)).scalars()]


def test_a_replayed_key_answers_its_id_and_says_the_secret_was_shown_once(
    api: Api, runtime: Runtime
) -> None:
    tenant = api.tenant()
    headers = {**bearer(ADMIN_KEY), "Idempotency-Key": "ops-key-1"}
    path = f"/v1/tenants/{tenant.id}/keys"

    first = api.client.post(path, headers=headers, json={"role": "ops"})
    again = api.client.post(path, headers=headers, json={"role": "ops"})

    assert first.status_code == again.status_code == 201
    secret = first.json()["key"]
    assert first.headers["cache-control"] == "no-store"
    assert "x-nudge-secret-fields" not in first.headers
    assert again.headers[REPLAYED] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["key"] is None and "shown once" in again.json()["secret"]
    assert all(secret.encode() not in body for body in _stored_bodies(runtime))
    api.ok("GET", "/v1/rules", bearer(secret))  # the key shown once still works


def test_customer_tokens_and_page_links_are_not_kept_for_replay(api: Api, runtime: Runtime) -> None:
    tenant = api.tenant()
    customer = api.customer(tenant, name="Ada")
    shown = []
    for path, field in (("tokens", "token"), ("manage-link", "url")):
        headers = {**tenant.feed, "Idempotency-Key": f"once-{path}"}
        url = f"/v1/customers/{customer['id']}/{path}"
        first = api.client.post(url, headers=headers)
        again = api.client.post(url, headers=headers)
        assert first.status_code == again.status_code == 201, first.text
        assert again.json()[field] is None and again.json()["customer_id"] == customer["id"]
        shown.append(first.json()[field])
    stored = b"".join(_stored_bodies(runtime))
    assert all(secret.encode() not in stored for secret in shown)


def test_stored_answers_expire_after_a_day(frozen: FrozenApi) -> None:
    api, clock = frozen.api, frozen.clock
    tenant = api.tenant()
    headers = {**tenant.feed, "Idempotency-Key": "create-1"}
    first = api.ok("POST", "/v1/customers", headers, 201, json={"name": "Ada"})

    clock.advance(timedelta(hours=23))
    assert api.client.post("/v1/customers", headers=headers, json={"name": "Ada"}).json() == first
    clock.advance(timedelta(hours=2))
    later = api.client.post("/v1/customers", headers=headers, json={"name": "Ada"})

    assert later.status_code == 201 and REPLAYED not in later.headers
    assert later.json()["id"] != first["id"]


def test_erasing_a_customer_erases_the_answers_about_them(api: Api, runtime: Runtime) -> None:
    tenant = api.tenant()
    body = {"name": "Ada Lovelace", "email": "ada@example.com", "phone": "+4915112345678"}
    headers = {**tenant.feed, "Idempotency-Key": "create-ada"}
    customer = api.ok("POST", "/v1/customers", headers, 201, json=body)
    token = api.token(tenant, customer["id"])
    consent = {**token, "Idempotency-Key": "consent-1"}
    api.ok("POST", "/v1/me/consents", consent, json={"channel": "email", "granted": True})
    assert len(_stored_bodies(runtime)) == 2  # the creation and the consent

    api.client.delete(f"/v1/customers/{customer['id']}", headers=tenant.feed)

    stored = b"".join(_stored_bodies(runtime))
    assert (
        b"Ada" not in stored and b"ada@example.com" not in stored and b"4915112345678" not in stored
    )
    replay = api.client.post("/v1/customers", headers=headers, json=body)
    assert replay.status_code == 201 and REPLAYED not in replay.headers
    assert replay.json()["id"] != customer["id"]
