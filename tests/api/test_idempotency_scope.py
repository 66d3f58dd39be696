"""An ``Idempotency-Key`` belongs to the credentials it was sent with. A request without
credentials has no one to keep it for, so its key is not honoured (strangers would share one
set of keys: one's key would refuse another's request as "used with a different request");
an answer refusing the credentials (401, 403) or asking to wait (429) is not kept, so a
retry is answered afresh and no caller without credentials can fill the table."""

from __future__ import annotations

from engine.processes.runtime import Runtime
from tests.fixtures.api import Api, bearer
from tests.fixtures.rules import count_rows

KEY = {"Idempotency-Key": "retry-me-1"}


def test_without_credentials_a_key_is_not_honoured(api: Api, runtime: Runtime) -> None:
    for path in ("/v1/customers", "/v1/rules", "/v1/tenants", "/v1/feeds/events"):
        answer = api.client.post(path, headers=KEY, json={"name": path})
        assert answer.status_code == 401, (path, answer.status_code, answer.text)
        assert "idempotent-replayed" not in answer.headers
    answer = api.client.post("/v1/customers", headers={"Idempotency-Key": "bell\x07"}, json={})
    assert answer.status_code == 401, answer.text
    assert count_rows(runtime, "idempotency_records") == 0


def test_refused_credentials_keep_no_answer(api: Api, runtime: Runtime) -> None:
    tenant = api.tenant()
    wrong = {**bearer("nk_unknown.secret"), **KEY}
    for body in ({"name": "Ada"}, {"name": "Grace"}):
        answer = api.client.post("/v1/customers", headers=wrong, json=body)
        assert answer.status_code == 401, answer.text
    forbidden = {**tenant.feed, "Idempotency-Key": "role"}
    assert api.client.post("/v1/rules", headers=forbidden, json={}).status_code == 403
    assert api.client.post("/v1/rules", headers=forbidden, json={"x": 1}).status_code == 403
    assert count_rows(runtime, "idempotency_records") == 0

    first = api.client.post("/v1/customers", headers={**tenant.feed, **KEY}, json={"name": "Ada"})
    again = api.client.post("/v1/customers", headers={**tenant.feed, **KEY}, json={"name": "Ada"})
    assert first.status_code == again.status_code == 201, (first.text, again.text)
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert count_rows(runtime, "customers") == 1
