"""Guessing credentials is slow: failed authentication is counted per client and per key id,
and past the limit every attempt gets 429 with Retry-After until the window has passed."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from tests.api.conftest import FrozenApi
from tests.fixtures.api import bearer

LIMIT = 20  # the default NUDGE_AUTH_FAILURE_LIMIT, per 60 s


def test_wrong_keys_from_one_client_are_refused_after_the_limit(frozen: FrozenApi) -> None:
    api, clock = frozen.api, frozen.clock
    tenant = api.tenant()
    for n in range(LIMIT):
        api.problem("GET", "/v1/rules", bearer(f"nk_guess{n}.wrong"), 401)

    problem = api.client.get("/v1/rules", headers=bearer("nk_guess99.wrong"))
    assert problem.status_code == 429
    assert problem.headers["content-type"].startswith("application/problem+json")
    assert int(problem.headers["retry-after"]) == 60
    assert problem.json()["type"].endswith("/too-many-requests")
    # While it lasts, even the right key waits: guessing and using share the client.
    assert api.client.get("/v1/rules", headers=tenant.ops).status_code == 429

    clock.advance(timedelta(seconds=61))
    assert api.client.get("/v1/rules", headers=tenant.ops).status_code == 200


def test_guesses_at_one_key_id_are_refused_from_any_client(frozen: FrozenApi) -> None:
    api = frozen.api
    tenant = api.tenant()
    key_id = tenant.ops_key.partition(".")[0]
    app = api.client.app
    for n in range(LIMIT):  # each guess from another address
        with TestClient(app, client=(f"192.0.2.{n}", 40000)) as client:
            assert client.get("/v1/rules", headers=bearer(f"{key_id}.wrong{n}")).status_code == 401

    with TestClient(app, client=("198.51.100.7", 40000)) as elsewhere:
        assert elsewhere.get("/v1/rules", headers=tenant.ops).status_code == 429
        assert elsewhere.get("/v1/customers", headers=tenant.feed).status_code == 200


def test_successful_requests_are_never_counted(frozen: FrozenApi) -> None:
    api = frozen.api
    tenant = api.tenant()
    for _ in range(LIMIT * 2):
        api.ok("GET", "/v1/rules", tenant.ops)
    api.problem("GET", "/v1/rules", bearer("nk_x.wrong"), 401)
