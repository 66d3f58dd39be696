"""Customers pick published rules in their own language and turn them into triggers with
their own parameters, checked against the rule; the trigger reports its state."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.api.conftest import FrozenApi
from tests.fixtures.api import Api
from tests.fixtures.rules import (
    BERLIN_DAY,
    DAILY_ENERGY,
    berlin,
    hourly,
    notifications,
    post_readings,
    publish,
    subscribe,
)

BERLIN_NEXT = datetime(2026, 3, 2, 23, tzinfo=UTC)


def test_rules_are_offered_in_the_customers_language(api: Api) -> None:
    tenant = api.tenant()
    publish(api, tenant, DAILY_ENERGY)
    german = api.token(tenant, api.customer(tenant, locale="de-AT")["id"])
    english = api.token(tenant, api.customer(tenant, locale="en-GB")["id"])

    [de] = api.ok("GET", "/v1/me/rules", german)
    [en] = api.ok("GET", "/v1/me/rules", english)
    assert (de["title"], de["parameters"][0]["label"]) == (
        "Täglicher Stromverbrauch über Ihrem Limit",
        "Grenze",
    )
    assert (en["title"], en["parameters"][0]["label"]) == (
        "Daily electricity use above your limit",
        "Limit",
    )
    assert en["parameters"][0] | {"label": None} == {
        "name": "limit_kwh",
        "type": "double",
        "unit": "kWh",
        "min": 0.1,
        "max": 500.0,
        "default": 12,
        "label": None,
    }


def test_parameters_are_checked_against_the_rule(api: Api) -> None:
    tenant = api.tenant()
    publish(api, tenant, DAILY_ENERGY)
    token = api.token(tenant, api.customer(tenant)["id"])
    cases = [
        ({"limit_kwh": 501}, "body.params.limit_kwh", "must be at most 500"),
        ({"limit_kwh": 0.0}, "body.params.limit_kwh", "must be at least 0.1"),
        ({"limit_kwh": "12"}, "body.params.limit_kwh", "must be a number"),
        ({"limit_kwh": True}, "body.params.limit_kwh", "must be a number"),
        ({"limit_kwh": 12, "limit_eur": 3}, "body.params.limit_eur", "unknown parameter"),
    ]
    for params, field, reason in cases:
        body = {"rule": "energy.daily_above", "params": params}
        problem = api.problem("POST", "/v1/me/triggers", token, 422, json=body)
        [error] = problem["errors"]
        assert (error["field"], error["msg"]) == (field, reason), params
    repeated = {"rule": "energy.daily_above", "channels": ["sms", "email", "sms"]}
    problem = api.problem("POST", "/v1/me/triggers", token, 422, json=repeated)
    assert problem["errors"][0]["field"] == "body.channels"
    assert "once" in problem["errors"][0]["msg"]
    assert api.ok("GET", "/v1/me/triggers", token) == []

    created = api.ok("POST", "/v1/me/triggers", token, 201, json={"rule": "energy.daily_above"})
    assert created["params"] == {"limit_kwh": 12.0}


def test_state_goes_from_armed_to_fired_with_the_windows_value(frozen: FrozenApi) -> None:
    api = frozen.api
    sub = subscribe(api, params={"limit_kwh": 5})
    state = sub.trigger["state"]
    assert (state["status"], state["last_value"]) == ("armed", None)
    assert datetime.fromisoformat(state["window_start"]) == BERLIN_DAY
    assert datetime.fromisoformat(state["window_end"]) == BERLIN_NEXT

    path = f"/v1/me/triggers/{sub.trigger['id']}"
    post_readings(api, sub.tenant, hourly(sub.ref, BERLIN_DAY, [1.5, 2.0]))
    assert api.ok("GET", path, sub.token)["state"] | {"window_start": None} == {
        "status": "armed",
        "last_value": 3.5,
        "window_start": None,
        "window_end": state["window_end"],
    }
    post_readings(api, sub.tenant, hourly(sub.ref, berlin(2), [2.25]))
    fired = api.ok("GET", path, sub.token)["state"]
    assert (fired["status"], fired["last_value"]) == ("fired", 5.75)
    assert datetime.fromisoformat(fired["window_end"]) == BERLIN_NEXT


def test_change_parameters_and_delete(frozen: FrozenApi) -> None:
    api = frozen.api
    sub = subscribe(api, params={"limit_kwh": 5})
    path = f"/v1/me/triggers/{sub.trigger['id']}"
    changed = api.ok("PATCH", path, sub.token, json={"params": {"limit_kwh": 8}, "enabled": True})
    assert changed["params"] == {"limit_kwh": 8.0}
    problem = api.problem("PATCH", path, sub.token, 422, json={"params": {"limit_kwh": -1}})
    assert problem["errors"][0]["field"] == "body.params.limit_kwh"
    assert api.ok("GET", path, sub.token)["params"] == {"limit_kwh": 8.0}

    answer = post_readings(api, sub.tenant, hourly(sub.ref, BERLIN_DAY, [3.0, 3.0]))
    assert answer["notifications"] == 0  # 6 kWh: over the old limit, under the new one

    api.ok("DELETE", path, sub.token, 204)
    api.problem("GET", path, sub.token, 404)
    assert api.ok("GET", "/v1/me/triggers", sub.token) == []
    answer = post_readings(api, sub.tenant, hourly(sub.ref, berlin(2), [9.0]))
    assert (answer["accepted"], answer["notifications"]) == (1, 0)


def test_turning_off_or_deleting_cancels_what_was_not_sent(frozen: FrozenApi) -> None:
    api = frozen.api
    sub = subscribe(api, params={"limit_kwh": 5})
    path = f"/v1/me/triggers/{sub.trigger['id']}"
    answer = post_readings(api, sub.tenant, hourly(sub.ref, BERLIN_DAY, [3.0, 3.0]))
    assert answer["notifications"] == 1
    assert api.ok("PATCH", path, sub.token, json={"enabled": False})["enabled"] is False
    [notification] = notifications(api, sub.tenant, sub.id)
    assert (notification["status"], notification["reason"]) == (
        "cancelled",
        "the trigger was turned off",
    )

    api.ok("DELETE", path, sub.token, 204)
    api.problem("GET", path, sub.token, 404)
    api.problem("DELETE", path, sub.token, 404)
    assert api.ok("GET", "/v1/me/triggers", sub.token) == []
    [kept] = notifications(api, sub.tenant, sub.id)  # the history keeps what it caused
    assert (kept["id"], kept["trigger_id"]) == (notification["id"], sub.trigger["id"])
    answer = post_readings(api, sub.tenant, hourly(sub.ref, berlin(24), [9.0]))
    assert (answer["accepted"], answer["notifications"]) == (1, 0)
