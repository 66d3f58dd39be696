"""Operations staff author rules: drafts checked when saved, immutable published versions that
existing triggers keep until they upgrade, retirement, and who may do any of it."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import FrozenApi
from tests.fixtures.api import Api
from tests.fixtures.rules import (
    BERLIN_DAY,
    CHECKUP_REMINDER,
    DAILY_ENERGY,
    hourly,
    notifications,
    post_readings,
    publish,
    subscribe,
)


def without(definition: dict[str, Any], *names: str) -> dict[str, Any]:
    return {k: v for k, v in definition.items() if k not in names}


def test_create_draft_and_read_it_back(api: Api) -> None:
    tenant = api.tenant()
    created = api.ok("POST", "/v1/rules", tenant.ops, 201, json=DAILY_ENERGY)
    assert created["status"] == "draft"
    assert created["latest_version"] == 0 and created["versions"] == []
    assert created["draft"]["condition"] == DAILY_ENERGY["condition"]
    fetched = api.ok("GET", "/v1/rules/energy.daily_above", tenant.ops)
    assert fetched["draft"] == created["draft"]
    api.problem("POST", "/v1/rules", tenant.ops, 409, json=DAILY_ENERGY)


UNCOMPILABLE = [
    ("window.sum > 12", "no matching overload for '_>_' applied to '(double, int)'", 1, 12),
    ("window.summ > 1.0", "undeclared reference to 'window.summ'", 1, 7),
    ("window.sum > params.limit_kwh &&\n  window.count >", "Syntax error", 2, 17),
    ("window.sum", "must be a bool", 1, 1),
]


def test_condition_that_does_not_compile_is_rejected_with_its_position(api: Api) -> None:
    tenant = api.tenant()
    for condition, reason, line, column in UNCOMPILABLE:
        body = api.problem(
            "POST", "/v1/rules", tenant.ops, 422, json={**DAILY_ENERGY, "condition": condition}
        )
        assert body["position"] == {"line": line, "column": column}, condition
        assert f"{line}:{column}" in body["detail"] and reason in body["detail"], body
        assert [e["field"] for e in body["errors"]] == ["body.condition"]
        assert reason in body["errors"][0]["msg"]
    assert api.ok("GET", "/v1/rules", tenant.ops) == []


def test_invalid_definitions_name_the_fields(api: Api) -> None:
    tenant = api.tenant()
    no_metric = api.problem(
        "POST", "/v1/rules", tenant.ops, 422, json=without(DAILY_ENERGY, "metric")
    )
    assert [e["field"] for e in no_metric["errors"]] == ["body.metric"]
    assert "required for threshold rules" in no_metric["errors"][0]["msg"]

    no_schedule = api.problem(
        "POST", "/v1/rules", tenant.ops, 422, json={**CHECKUP_REMINDER, "parameters": []}
    )
    assert {e["field"] for e in no_schedule["errors"]} == {"body.parameters"}
    messages = " ".join(e["msg"] for e in no_schedule["errors"])
    assert "days_before" in messages and "local_time" in messages

    bad_bounds = {
        **DAILY_ENERGY,
        "parameters": [{"name": "limit_kwh", "type": "double", "min": 5, "max": 1}],
    }
    bounds = api.problem("POST", "/v1/rules", tenant.ops, 422, json=bad_bounds)
    assert bounds["errors"][0]["field"] == "body.parameters.0"
    assert "min is greater than max" in bounds["errors"][0]["msg"]
    assert api.ok("GET", "/v1/rules", tenant.ops) == []


def test_patch_changes_the_draft_only(api: Api) -> None:
    tenant = api.tenant()
    publish(api, tenant, DAILY_ENERGY)
    patched = api.ok(
        "PATCH",
        "/v1/rules/energy.daily_above",
        tenant.ops,
        json={"condition": "window.sum >= params.limit_kwh"},
    )
    assert patched["draft"]["condition"] == "window.sum >= params.limit_kwh"
    assert patched["latest_version"] == 1 and patched["status"] == "published"
    assert patched["versions"][0]["definition"]["condition"] == DAILY_ENERGY["condition"]

    rejected = api.problem(
        "PATCH", "/v1/rules/energy.daily_above", tenant.ops, 422, json={"condition": "window."}
    )
    assert rejected["errors"][0]["field"] == "body.condition"
    draft = api.ok("GET", "/v1/rules/energy.daily_above", tenant.ops)["draft"]
    assert draft["condition"] == "window.sum >= params.limit_kwh"


def test_triggers_keep_their_version_until_they_upgrade(frozen: FrozenApi) -> None:
    api = frozen.api
    sub = subscribe(api, params={"limit_kwh": 20})
    assert sub.trigger["rule_version"] == 1
    stricter = {
        "parameters": [{**DAILY_ENERGY["parameters"][0], "max": 30}],
        "title": {"en": "Daily use above your limit (v2)"},
    }
    api.ok("PATCH", "/v1/rules/energy.daily_above", sub.tenant.ops, json=stricter)
    published = api.ok("POST", "/v1/rules/energy.daily_above/publish", sub.tenant.ops)
    assert [v["version"] for v in published["versions"]] == [1, 2]
    assert published["versions"][0]["definition"]["parameters"][0]["max"] == 500
    api.problem("POST", "/v1/rules/energy.daily_above/publish", sub.tenant.ops, 409)

    path = f"/v1/me/triggers/{sub.trigger['id']}"
    kept = api.ok("GET", path, sub.token)
    assert (kept["rule_version"], kept["latest_version"]) == (1, 2)
    assert kept["params"] == {"limit_kwh": 20.0}
    offered = api.ok("GET", "/v1/me/rules", sub.token)
    assert [(r["key"], r["version"]) for r in offered] == [("energy.daily_above", 2)]

    too_high = api.problem(
        "PATCH", path, sub.token, 422, json={"upgrade": True, "params": {"limit_kwh": 40}}
    )
    assert too_high["errors"][0]["field"] == "body.params.limit_kwh"
    assert api.ok("GET", path, sub.token)["rule_version"] == 1

    upgraded = api.ok("PATCH", path, sub.token, json={"upgrade": True})
    assert (upgraded["rule_version"], upgraded["params"]) == (2, {"limit_kwh": 20.0})


def test_upgrade_follows_a_new_metric(frozen: FrozenApi) -> None:
    api = frozen.api
    sub = subscribe(api, params={"limit_kwh": 5})
    api.ok(
        "PATCH",
        "/v1/rules/energy.daily_above",
        sub.tenant.ops,
        json={"metric": "electricity.import"},
    )
    api.ok("POST", "/v1/rules/energy.daily_above/publish", sub.tenant.ops)
    api.ok("PATCH", f"/v1/me/triggers/{sub.trigger['id']}", sub.token, json={"upgrade": True})

    rows = hourly(sub.ref, BERLIN_DAY, [3.0, 3.0], metric="electricity.import")
    assert post_readings(api, sub.tenant, rows)["notifications"] == 1
    [notification] = notifications(api, sub.tenant, sub.id)
    assert notification["rule_version"] == 2


def test_retired_rule_is_not_offered_and_its_triggers_stop(frozen: FrozenApi) -> None:
    api = frozen.api
    sub = subscribe(api, params={"limit_kwh": 5})
    retired = api.ok("POST", "/v1/rules/energy.daily_above/retire", sub.tenant.ops)
    assert retired["status"] == "retired"

    assert api.ok("GET", "/v1/me/rules", sub.token) == []
    trigger = api.ok("GET", f"/v1/me/triggers/{sub.trigger['id']}", sub.token)
    assert trigger["rule_retired"] is True
    answer = post_readings(api, sub.tenant, hourly(sub.ref, BERLIN_DAY, [4.0, 4.0]))
    assert (answer["accepted"], answer["notifications"]) == (2, 0)
    assert notifications(api, sub.tenant, sub.id) == []
    create = {"rule": "energy.daily_above", "params": {"limit_kwh": 5}}
    refused = api.problem("POST", "/v1/me/triggers", sub.token, 422, json=create)
    assert refused["errors"][0]["field"] == "body.rule"


def test_only_ops_keys_author_rules(api: Api) -> None:
    tenant = api.tenant()
    customer = api.customer(tenant)
    token = api.token(tenant, customer["id"])
    for credential in (tenant.feed, token):
        api.problem("POST", "/v1/rules", credential, 403, json=DAILY_ENERGY)
        api.problem("GET", "/v1/rules", credential, 403)
        api.problem("POST", "/v1/rules/energy.daily_above/publish", credential, 403)
    assert api.ok("GET", "/v1/rules", tenant.ops) == []
