"""Guessing credentials is slow: failed authentication is counted per client and per key id,
and past the limit attempts get 429 with Retry-After until the window has passed: a client's
every attempt, a key id's wrong secrets only (its owner's right one still passes)."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from tests.api.conftest import FrozenApi
from tests.fixtures.api import bearer
from tests.web.console.console import console_sign_in

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


def test_guesses_at_a_key_id_are_refused_but_its_owner_gets_through(frozen: FrozenApi) -> None:
    """Past the key id's limit wrong secrets get 429 from any client, while the key's owner,
    with the right secret, is answered as usual: knowing a key's id locks nobody out."""
    api = frozen.api
    tenant = api.tenant()
    key_id = tenant.ops_key.partition(".")[0]
    app = api.client.app
    with TestClient(app, client=("198.51.100.7", 40000)) as owner:
        for n in range(LIMIT * 3):  # each guess from another address, the owner in between
            with TestClient(app, client=(f"192.0.2.{n}", 40000)) as attacker:
                guess = attacker.get("/v1/rules", headers=bearer(f"{key_id}.wrong{n}"))
            if n < LIMIT:
                assert guess.status_code == 401
            else:
                assert guess.status_code == 429, guess.text
                assert guess.json()["type"].endswith("/too-many-requests")
                assert int(guess.headers["retry-after"]) == 60
            assert owner.get("/v1/rules", headers=tenant.ops).status_code == 200
            assert owner.get("/v1/customers", headers=tenant.feed).status_code == 200
        # The key id's limit refuses every wrong secret, the owner's typo too.
        assert owner.get("/v1/rules", headers=bearer(f"{key_id}.typo")).status_code == 429
        assert owner.get("/v1/rules", headers=tenant.ops).status_code == 200


def test_successful_requests_are_never_counted(frozen: FrozenApi) -> None:
    api = frozen.api
    tenant = api.tenant()
    for _ in range(LIMIT * 2):
        api.ok("GET", "/v1/rules", tenant.ops)
    api.problem("GET", "/v1/rules", bearer("nk_x.wrong"), 401)


def test_the_console_signs_its_owner_in_while_others_guess_at_the_key_id(
    frozen: FrozenApi,
) -> None:
    api = frozen.api
    tenant = api.tenant()
    key_id = tenant.ops_key.partition(".")[0]
    app = api.client.app
    for n in range(LIMIT + 1):  # each guess from another address
        with TestClient(app, client=(f"192.0.2.{n}", 40000)) as attacker:
            answer = console_sign_in(attacker, f"{key_id}.wrong{n}")
        assert answer.status_code == (400 if n < LIMIT else 429)

    with TestClient(app, client=("198.51.100.7", 40000)) as owner:
        signed_in = console_sign_in(owner, tenant.ops_key)
        assert signed_in.status_code == 200, signed_in.text
        assert signed_in.url.path == "/console/rules"  # signed in, not sent back to log in
