"""A feed body whose JSON is the wrong shape as a whole is a 422 naming the body, for events as
for readings: nothing is read from it, rather than one rejected row."""

from __future__ import annotations

import json

from tests.api.conftest import FrozenApi
from tests.fixtures.rules import count_rows

NOT_A_BATCH = ['"bill.issued"', "42", "4.5", "true", "null"]


def test_events_and_readings_refuse_a_bare_json_value(frozen: FrozenApi) -> None:
    api = frozen.api
    tenant = api.tenant()
    for path in ("/v1/feeds/events", "/v1/feeds/readings"):
        for body in NOT_A_BATCH:
            headers = {**tenant.feed, "content-type": "application/json"}
            problem = api.problem("POST", path, headers, 422, content=body)
            assert problem["type"].endswith("/malformed-feed"), (path, body, problem)
            assert [e["field"] for e in problem["errors"]] == ["body"], (path, body)
    assert count_rows(frozen.runtime, "events") == 0


def test_one_event_object_and_an_array_of_them_are_still_read(frozen: FrozenApi) -> None:
    api = frozen.api
    tenant = api.tenant()
    customer = api.customer(tenant)
    event = {"customer": customer["external_id"], "type": "bill.issued", "id": "b-1"}
    headers = {**tenant.feed, "content-type": "application/json"}
    one = api.ok("POST", "/v1/feeds/events", headers, content=json.dumps(event))
    assert (one["accepted"], one["rejected"]) == (1, 0), one
    both = [{**event, "id": "b-2"}, "not an event"]
    many = api.ok("POST", "/v1/feeds/events", headers, content=json.dumps(both))
    assert (many["accepted"], many["rejected"]) == (1, 1), many
    assert many["rejections"][0]["index"] == 1
    assert count_rows(frozen.runtime, "events") == 2


def test_the_document_says_an_events_body_is_an_array_or_one_object(frozen: FrozenApi) -> None:
    document = frozen.api.client.get("/openapi.json").json()
    body = document["paths"]["/v1/feeds/events"]["post"]["requestBody"]["content"]
    assert body["application/json"]["schema"]["type"] == ["array", "object"]
