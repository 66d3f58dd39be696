"""What a condition can iterate over is bounded where it enters: customer attributes and event
fields hold at most 100 items a list and 1,000 characters a string, and 1,000 values and
100,000 characters in all."""

from __future__ import annotations

from tests.fixtures.api import Api


def test_customer_attributes_with_an_oversized_list_or_string_are_refused(api: Api) -> None:
    tenant = api.tenant()
    for attributes in ({"meters": list(range(101))}, {"note": "x" * 1001}):
        problem = api.problem(
            "POST", "/v1/customers", tenant.feed, 422, json={"attributes": attributes}
        )
        assert problem["errors"][0]["field"] == "body.attributes"
    api.ok(
        "POST", "/v1/customers", tenant.feed, 201, json={"attributes": {"meters": list(range(100))}}
    )


def test_event_fields_with_an_oversized_list_are_rejected_by_row(api: Api) -> None:
    tenant = api.tenant()
    customer = api.customer(tenant)
    event = {
        "customer": customer["external_id"],
        "type": "bill.issued",
        "occurred_at": "2026-01-01T00:00:00Z",
        "fields": {"lines": list(range(101))},
    }
    answer = api.ok("POST", "/v1/feeds/events", tenant.feed, json=[event])
    assert answer["rejected"] == 1
    [rejection] = answer["rejections"]
    assert rejection["index"] == 0 and "more than 100 items" in rejection["reason"]


# Within every per-list and per-string bound, yet 100,000 strings: converting them for a
# condition took 53 ms an evaluation.
WIDE = {f"k{i}": [["x" * 100] * 10 for _ in range(100)] for i in range(100)}


def test_customer_attributes_too_large_in_all_are_refused(api: Api) -> None:
    tenant = api.tenant()
    problem = api.problem("POST", "/v1/customers", tenant.feed, 422, json={"attributes": WIDE})
    assert problem["errors"][0]["field"] == "body.attributes"
    assert "more than 1000" in problem["errors"][0]["msg"]
    at_limit = {"k": ["x" * 1000] * 99}  # 101 values, 99,001 characters
    api.ok("POST", "/v1/customers", tenant.feed, 201, json={"attributes": at_limit})
    too_long = {"k": ["x" * 1000] * 100}  # 100,001 characters
    problem = api.problem("POST", "/v1/customers", tenant.feed, 422, json={"attributes": too_long})
    assert "more than 100000" in problem["errors"][0]["msg"]


def test_event_fields_too_large_in_all_are_rejected_by_row(api: Api) -> None:
    tenant = api.tenant()
    customer = api.customer(tenant)
    event = {
        "customer": customer["external_id"],
        "type": "bill.issued",
        "occurred_at": "2026-01-01T00:00:00Z",
        "fields": {f"k{i}": list(range(100)) for i in range(11)},  # 1,112 values
    }
    answer = api.ok("POST", "/v1/feeds/events", tenant.feed, json=[event])
    [rejection] = answer["rejections"]
    assert rejection["field"] == "fields" and "more than 1000" in rejection["reason"]
