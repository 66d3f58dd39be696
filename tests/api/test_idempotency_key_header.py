"""An ``Idempotency-Key`` the server cannot keep as sent is a 400 problem+json that names the
header, on SQLite as on PostgreSQL, and nothing of the request is stored: not the key, not
what the request would have created. Keys are printable ASCII (as the IETF draft's
sf-string), 1 to 200 characters."""

from __future__ import annotations

from typing import Any

import pytest

from engine.processes.runtime import Runtime
from tests.fixtures.api import Api
from tests.fixtures.rules import count_rows

REFUSED = [
    "a\x00b",  # PostgreSQL's text cannot hold U+0000 (a 500 there before; SQLite stored it)
    "\x00",
    "tab\there",
    "bell\x07",
    "escape\x1b[31m",
    "delete\x7f",
    "k" * 201,
    "",
]


def _names_the_header(answer: Any) -> None:
    assert answer.status_code == 400, (answer.status_code, answer.text)
    assert answer.headers["content-type"].startswith("application/problem+json")
    problem = answer.json()
    assert "Idempotency-Key" in problem["detail"], problem
    assert [e["field"] for e in problem["errors"]] == ["header.Idempotency-Key"], problem


@pytest.mark.parametrize("key", REFUSED, ids=repr)
def test_an_unusable_key_is_refused_naming_the_header(api: Api, runtime: Runtime, key: str) -> None:
    tenant = api.tenant()
    headers = [*tenant.feed.items(), ("Idempotency-Key", key.encode("latin-1"))]
    answer = api.client.post("/v1/customers", headers=headers, json={"name": "Ada"})
    _names_the_header(answer)
    assert count_rows(runtime, "customers") == 0
    assert count_rows(runtime, "idempotency_records") == 0


def test_printable_keys_of_any_kind_still_replay(api: Api, runtime: Runtime) -> None:
    tenant = api.tenant()
    for key in ("a b", "~!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}", "k" * 200):
        headers = {**tenant.feed, "Idempotency-Key": key}
        first = api.client.post("/v1/customers", headers=headers, json={"name": key})
        again = api.client.post("/v1/customers", headers=headers, json={"name": key})
        assert first.status_code == again.status_code == 201, (first.text, again.text)
        assert again.headers["idempotent-replayed"] == "true"
        assert again.json()["id"] == first.json()["id"]
    assert count_rows(runtime, "customers") == 3
