"""Back-tests replay readings through a rule (draft or published) and list when it would have
fired, without storing or sending anything."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.api.conftest import FrozenApi
from tests.fixtures.rules import (
    DAILY_ENERGY,
    count_rows,
    hourly,
    notifications,
    post_readings,
    publish,
    subscribe,
)

# Berlin days around the switch to summer time: 28 March (24 h), 29 March (23 h), 30 March.
MAR_28 = datetime(2026, 3, 27, 23, tzinfo=UTC)
MAR_29 = datetime(2026, 3, 28, 23, tzinfo=UTC)
MAR_30 = datetime(2026, 3, 29, 22, tzinfo=UTC)


def sample(customer: str) -> list[dict[str, Any]]:
    """28 March: 2+2+2 (crosses 5 in its third hour); 29 March: 1 at 00:00 and 3.5 at 23:00
    local, its last hour (21:00 UTC); 30 March: 3+3 from 00:00 local (crosses at 02:00 local).
    A day taken as 24 hours at +01:00 would put 30 March's first 3 into 29 March."""
    return [
        *hourly(customer, MAR_28, [2.0, 2.0, 2.0]),
        *hourly(customer, MAR_29, [1.0]),
        *hourly(customer, MAR_30 - timedelta(hours=1), [3.5]),
        *hourly(customer, MAR_30, [3.0, 3.0]),
    ]


EXPECTED = [
    ("2026-03-27T23:00:00Z", "2026-03-28T23:00:00Z", "2026-03-28T02:00:00Z", 6.0),
    ("2026-03-29T22:00:00Z", "2026-03-30T22:00:00Z", "2026-03-30T00:00:00Z", 6.0),
]


def fired(answer: dict[str, Any]) -> list[tuple[str, str, str, float]]:
    return [(f["window_start"], f["window_end"], f["at"], f["value"]) for f in answer["fired"]]


def as_posted(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"start": r["start"], "duration": r["duration"], "value": r["value"]} for r in rows]


def test_backtest_of_a_draft_over_posted_readings(frozen: FrozenApi) -> None:
    api = frozen.api
    tenant = api.tenant()
    api.ok("POST", "/v1/rules", tenant.ops, 201, json=DAILY_ENERGY)
    body = {
        "params": {"limit_kwh": 5},
        "timezone": "Europe/Berlin",
        "readings": as_posted(sample("x")),
    }
    answer = api.ok("POST", "/v1/rules/energy.daily_above/backtest", tenant.ops, json=body)
    assert fired(answer) == EXPECTED
    assert (answer["readings"], answer["params"]) == (7, {"limit_kwh": 5.0})
    assert [f["action"] for f in answer["fired"]] == ["fire", "fire"]
    assert answer["fired"][0]["transition"] == "w:2026-03-27T23:00:00Z#1"
    assert answer["fired"][1]["values"]["window"]["count"] == 2
    for table in ("readings", "window_aggregates", "trigger_states", "notifications"):
        assert count_rows(frozen.runtime, table) == 0, table

    higher = {**body, "params": {"limit_kwh": 6.0}}
    answer = api.ok("POST", "/v1/rules/energy.daily_above/backtest", tenant.ops, json=higher)
    assert answer["fired"] == []
    lowest = {**body, "params": {"limit_kwh": 1.0}}
    answer = api.ok("POST", "/v1/rules/energy.daily_above/backtest", tenant.ops, json=lowest)
    assert [f["window_start"] for f in answer["fired"]] == [
        "2026-03-27T23:00:00Z",
        "2026-03-28T23:00:00Z",  # the 23-hour day: 1 + 3.5
        "2026-03-29T22:00:00Z",
    ]


def test_backtest_of_a_published_version_over_stored_readings(frozen: FrozenApi) -> None:
    api = frozen.api
    frozen.clock.set(datetime(2026, 4, 1, 12, tzinfo=UTC))
    sub = subscribe(api, params={"limit_kwh": 100})
    assert post_readings(api, sub.tenant, sample(sub.ref))["accepted"] == 7
    stored = count_rows(frozen.runtime, "readings")
    body = {"params": {"limit_kwh": 5}, "customer_id": sub.id, "version": 1}
    answer = api.ok("POST", "/v1/rules/energy.daily_above/backtest", sub.tenant.ops, json=body)
    assert fired(answer) == EXPECTED
    assert answer["timezone"] == "Europe/Berlin"
    assert notifications(api, sub.tenant, sub.id) == []
    assert count_rows(frozen.runtime, "readings") == stored


def test_backtest_refuses_bad_input(frozen: FrozenApi) -> None:
    api = frozen.api
    tenant = api.tenant()
    publish(api, tenant, DAILY_ENERGY)
    path = "/v1/rules/energy.daily_above/backtest"
    readings = as_posted(sample("x"))
    out_of_bounds = {"params": {"limit_kwh": 1000}, "readings": readings}
    problem = api.problem("POST", path, tenant.ops, 422, json=out_of_bounds)
    assert [e["field"] for e in problem["errors"]] == ["body.params.limit_kwh"]
    unknown = {"params": {"limit": 5}, "readings": readings}
    problem = api.problem("POST", path, tenant.ops, 422, json=unknown)
    assert [e["field"] for e in problem["errors"]] == ["body.params.limit"]
    api.problem("POST", path, tenant.ops, 422, json={"params": {"limit_kwh": 5}})
    api.problem("POST", path, tenant.feed, 403, json={"params": {}, "readings": readings})
    missing = {"params": {"limit_kwh": 5}, "readings": readings, "version": 7}
    api.problem("POST", path, tenant.ops, 404, json=missing)
