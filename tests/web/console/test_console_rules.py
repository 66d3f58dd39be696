"""The console's rules: a mistake in the condition shown at its line and column, every field
saved, publish and retire after asking, versions side by side, triggers moved."""

from __future__ import annotations

import json
import re
from html import unescape

from tests.fixtures.api import Api
from tests.fixtures.rules import DAILY_ENERGY, publish
from tests.web.console.console import console_sign_in, post_form

FORM = {
    "key": "energy.week_above",
    "title_en": "Weekly use above your limit",
    "title_de": "Wochenverbrauch über Ihrem Limit",
    "description_en": "",
    "description_de": "",
    "topic": "energy",
    "kind": "threshold",
    "metric": "electricity",
    "event_type": "",
    "window": "week",
    "aggregate": "sum",
    "baseline_windows": "4",
    "parameters": json.dumps(
        [{"name": "limit_kwh", "type": "double", "unit": "kWh", "min": 1, "max": 900}]
    ),
    "condition": "window.sum >\n  params.limit_kwh +",
    "urgency": "normal",
    "rearm_mode": "once_per_window",
    "hysteresis": "",
    "late_hours": "6",
    "cap_policy": "suppress",
    "template_key": "energy.daily_above",
    "escalation": "30",
    "requires_ack": "on",
}


def test_a_compile_error_is_shown_at_its_line_and_column_and_the_fix_saves(api: Api) -> None:
    tenant = api.tenant()
    console_sign_in(api.client, tenant.ops_key)
    wrong = post_form(api.client, "/console/rules/new", "/console/rules/new", **FORM)
    assert wrong.status_code == 422
    text = unescape(wrong.text)
    position = re.search(r"condition does not compile at (\d+):(\d+)", text)
    assert position and position.groups() == ("2", "21"), text
    assert 'href="#condition"' in wrong.text and 'aria-invalid="true"' in wrong.text
    assert "  params.limit_kwh +\n" + " " * 20 + "^" in text  # the caret under column 21
    assert api.client.get("/v1/rules/energy.week_above", headers=tenant.ops).status_code == 404

    fixed = post_form(
        api.client,
        "/console/rules/new",
        "/console/rules/new",
        **{**FORM, "condition": "window.sum > params.limit_kwh"},
    )
    assert fixed.status_code == 200 and "The draft is saved." in fixed.text
    draft = api.ok("GET", "/v1/rules/energy.week_above", tenant.ops)["draft"]
    assert draft["late_policy"] == {"notify_within_hours": 6.0}
    assert (draft["cap_policy"], draft["requires_ack"], draft["escalation_delay_minutes"]) == (
        "suppress",
        True,
        30.0,
    )
    assert draft["title"]["de"] == "Wochenverbrauch über Ihrem Limit"
    assert draft["parameters"][0]["max"] == 900


def test_a_field_error_names_its_field(api: Api) -> None:
    tenant = api.tenant()
    console_sign_in(api.client, tenant.ops_key)
    bad = {**FORM, "condition": "true", "window": "", "hysteresis": "1"}
    answer = post_form(api.client, "/console/rules/new", "/console/rules/new", **bad)
    assert answer.status_code == 422
    assert 'href="#window"' in answer.text and 'href="#hysteresis"' in answer.text


def test_publish_asks_first_then_versions_compare_and_triggers_move(api: Api) -> None:
    tenant = api.tenant()
    publish(api, tenant, DAILY_ENERGY)
    customer = api.customer(tenant, locale="en")
    token = api.token(tenant, customer["id"])
    body = {"rule": "energy.daily_above", "params": {"limit_kwh": 20}}
    trigger = api.ok("POST", "/v1/me/triggers", token, 201, json=body)
    console_sign_in(api.client, tenant.ops_key)
    listed = api.client.get("/console/rules").text
    assert "energy.daily_above" in listed and "v1: 1" in listed

    editor = "/console/rules/energy.daily_above"
    page = api.client.get(editor).text
    values = {
        k: unescape(v) for k, v in re.findall(r'name="(\w+)" type="text" value="([^"]*)"', page)
    }
    form = {**FORM, **values, "condition": "window.sum >= params.limit_kwh", "window": "day"}
    form.update(cap_policy="defer", requires_ack="", late_hours="", escalation="60")
    form["parameters"] = json.dumps(DAILY_ENERGY["parameters"])
    form.pop("key")
    saved = post_form(api.client, editor, editor, **form)
    assert saved.status_code == 200, saved.text

    ask = api.client.get(editor + "/publish")
    assert "Publish version 2 of energy.daily_above?" in ask.text
    assert api.ok("GET", "/v1/rules/energy.daily_above", tenant.ops)["latest_version"] == 1
    done = post_form(api.client, editor + "/publish", editor + "/publish")
    assert "Version 2 is published." in done.text
    assert "1 triggers are on older versions." in done.text

    compared = api.client.get(editor + "/compare?left=1&right=2").text
    changed = re.findall(r'<tr class="changed"><th scope="row">([^<]+)</th>', compared)
    assert changed == ["condition"], changed

    moved = post_form(api.client, editor, editor + "/move")
    assert "1 triggers moved to version 2; 0 kept" in moved.text
    mine = api.ok("GET", f"/v1/me/triggers/{trigger['id']}", token)
    assert mine["rule_version"] == 2 and mine["params"]["limit_kwh"] == 20


def test_retire_asks_first(api: Api) -> None:
    tenant = api.tenant()
    publish(api, tenant, DAILY_ENERGY)
    console_sign_in(api.client, tenant.ops_key)
    editor = "/console/rules/energy.daily_above"
    ask = api.client.get(editor + "/retire").text
    assert "Retire energy.daily_above?" in ask and "cannot be undone" in ask
    assert api.ok("GET", "/v1/rules/energy.daily_above", tenant.ops)["status"] == "published"
    done = post_form(api.client, editor + "/retire", editor + "/retire")
    assert "The rule is retired." in done.text
    assert api.ok("GET", "/v1/rules/energy.daily_above", tenant.ops)["status"] == "retired"


def test_saving_runs_the_rules_tests_and_shows_the_diff(api: Api) -> None:
    tenant = api.tenant()
    publish(api, tenant, DAILY_ENERGY)
    console_sign_in(api.client, tenant.ops_key)
    editor = "/console/rules/energy.daily_above"
    page = api.client.get(editor).text
    values = {
        k: unescape(v) for k, v in re.findall(r'name="(\w+)" type="text" value="([^"]*)"', page)
    }
    form = {**FORM, **values, "window": "day", "requires_ack": "", "late_hours": ""}
    form["parameters"] = json.dumps(DAILY_ENERGY["parameters"])
    form["condition"] = "window.sum > params.limit_kwh"
    form.pop("key")
    tests = (
        "timezone: Europe/Berlin\ntests:\n"
        "  - name: right\n    params: {limit_kwh: 10}\n"
        '    readings: [{start: "2026-03-02T08:00:00+01:00", value: 11}]\n'
        '    expect: [{window_start: "2026-03-02", value: 11}]\n'
        "  - name: wrong\n    params: {limit_kwh: 10}\n"
        '    readings: [{start: "2026-03-02T08:00:00+01:00", value: 11}]\n'
        "    expect: []\n"
    )
    saved = post_form(api.client, editor, editor, **form, tests=tests)
    text = unescape(saved.text)
    assert "The draft is saved. Its tests: 1 passed, 1 failed." in text
    assert "FAIL tests: wrong\n  + 2026-03-02" in text
    assert tests in text  # the tests stay in the editor
    assert tests in unescape(api.client.get(editor).text)  # and are kept with the rule
    ask = unescape(api.client.get(editor + "/publish").text)
    assert "The rule's tests on this draft: 1 passed, 1 failed." in ask
