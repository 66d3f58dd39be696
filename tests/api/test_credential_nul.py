"""A credential holding U+0000 is a credential no one was given: 401, as any unknown key, on
SQLite as on PostgreSQL (where the key's lookup was refused by the database and answered
422 on GETs)."""

from __future__ import annotations

import pytest

from tests.fixtures.api import Api

NUL = "\x00"


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_key_with_nul_is_unauthorized(api: Api, method: str) -> None:
    tenant = api.tenant()
    key_id, _, secret = tenant.ops_key.partition(".")
    for credential in (f"nk_{NUL}.x", f"{key_id}{NUL}.{secret}", f"{tenant.ops_key}{NUL}"):
        headers = [("Authorization", f"Bearer {credential}".encode("latin-1"))]
        answer = api.client.request(method, "/v1/customers", headers=headers, json={})
        assert answer.status_code == 401, (credential, answer.status_code, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")
