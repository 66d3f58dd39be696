"""The console's editors check what they save as the JSON API checks its bodies: the rule form
as ``POST /v1/rules`` and ``PATCH /v1/rules/{key}`` (RuleCreate, RuleUpdate), the template
editor as ``/v1/templates``. What the API refuses is refused beside the field with nothing
stored; what it accepts is saved as the API would save it, nothing cut off."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.fixtures.api import Api
from tests.fixtures.rules import DAILY_ENERGY, publish
from tests.web.console.console import console_sign_in, post_form
from tests.web.pages import csrf

PARAMETER = {"name": "limit_kwh", "type": "double", "unit": "kWh", "min": 1, "max": 900}
FORM: dict[str, str] = {
    "key": "energy.week_above",
    "title_en": "Weekly use above your limit",
    "topic": "energy",
    "kind": "threshold",
    "metric": "electricity",
    "window": "week",
    "aggregate": "sum",
    "baseline_windows": "4",
    "condition": "window.sum > params.limit_kwh",
    "urgency": "normal",
    "rearm_mode": "once_per_window",
    "cap_policy": "defer",
    "template_key": "energy.daily_above",
    "escalation": "30",
}
# Parameters the rule definition alone took (a bound as text, a label under a name that is
# no language tag) and the JSON API refuses: each was saved by the console before.
REFUSED_PARAMETERS = {
    "min as text": [{**PARAMETER, "min": "1"}],
    "label not by language": [{**PARAMETER, "label": {"English": "Limit"}}],
}


def _api_body(form: dict[str, str], parameters: list[dict[str, Any]]) -> dict[str, Any]:
    """What the same form says, as the JSON body of POST /v1/rules."""
    return {
        "key": form["key"],
        "title": {"en": form["title_en"]},
        "topic": form["topic"],
        "kind": form["kind"],
        "metric": form["metric"],
        "window": form["window"],
        "aggregate": form["aggregate"],
        "parameters": parameters,
        "condition": form["condition"],
        "template_key": form["template_key"],
        "escalation_delay_minutes": float(form["escalation"]),
    }


def _shown_at(answer: Any, field: str) -> None:
    assert answer.status_code == 422, (answer.status_code, answer.text[:2000])
    assert f'href="#{field}"' in answer.text, answer.text
    control = re.search(rf'<textarea[^>]*\bid="{field}"[^>]*>', answer.text)
    assert control and 'aria-invalid="true"' in control.group(0), answer.text


@pytest.mark.parametrize("case", REFUSED_PARAMETERS)
def test_a_body_the_api_refuses_the_form_refuses_at_the_field(api: Api, case: str) -> None:
    tenant = api.tenant()
    publish(api, tenant, DAILY_ENERGY)
    parameters = REFUSED_PARAMETERS[case]
    by_api = api.client.post("/v1/rules", headers=tenant.ops, json=_api_body(FORM, parameters))
    assert by_api.status_code == 422, by_api.text
    assert any(e["loc"][:2] == ["body", "parameters"] for e in by_api.json()["errors"])

    console_sign_in(api.client, tenant.ops_key)
    form = {**FORM, "parameters": json.dumps(parameters)}
    _shown_at(
        post_form(api.client, "/console/rules/new", "/console/rules/new", **form), "parameters"
    )
    assert api.client.get("/v1/rules/energy.week_above", headers=tenant.ops).status_code == 404

    edit = f"/console/rules/{DAILY_ENERGY['key']}"
    _shown_at(
        post_form(api.client, edit, edit, **{**form, "key": DAILY_ENERGY["key"]}), "parameters"
    )
    draft = api.ok("GET", f"/v1/rules/{DAILY_ENERGY['key']}", tenant.ops)["draft"]
    assert draft["parameters"] == DAILY_ENERGY["parameters"]


def test_a_body_the_api_takes_the_form_saves_as_the_api_would(api: Api) -> None:
    tenant = api.tenant()
    console_sign_in(api.client, tenant.ops_key)
    form = {**FORM, "parameters": json.dumps([PARAMETER])}
    saved = post_form(api.client, "/console/rules/new", "/console/rules/new", **form)
    assert saved.status_code == 200 and "The draft is saved." in saved.text, saved.text
    by_form = api.ok("GET", "/v1/rules/energy.week_above", tenant.ops)["draft"]
    body = {**_api_body(FORM, [PARAMETER]), "key": "energy.week_above_api"}
    by_api = api.ok("POST", "/v1/rules", tenant.ops, 201, json=body)["draft"]
    assert {**by_form, "key": None} == {**by_api, "key": None}


def test_a_long_text_is_saved_whole_as_the_api_saves_it(api: Api) -> None:
    """The editor had cut every field to its first 8,000 characters before saving (a title
    has its own limit now, test_console_rule_text_limits.py: the parameters' labels, 200
    characters in each of 60 languages, are the long text here)."""
    tenant = api.tenant()
    console_sign_in(api.client, tenant.ops_key)
    labels = {f"x{chr(97 + i // 26)}{chr(97 + i % 26)}": "l" * 200 for i in range(60)}
    parameters = [{**PARAMETER, "label": labels}]
    assert len(json.dumps(parameters)) > 9_000
    form = {**FORM, "parameters": json.dumps(parameters)}
    saved = post_form(api.client, "/console/rules/new", "/console/rules/new", **form)
    assert saved.status_code == 200 and "The draft is saved." in saved.text, saved.text[:2000]
    draft = api.ok("GET", "/v1/rules/energy.week_above", tenant.ops)["draft"]
    assert draft["parameters"][0]["label"] == labels


def test_rule_tests_too_long_are_refused_not_cut(api: Api) -> None:
    """The editor had cut the tests to their first 200,000 characters and saved them."""
    tenant = api.tenant()
    publish(api, tenant, DAILY_ENERGY)
    console_sign_in(api.client, tenant.ops_key)
    edit = f"/console/rules/{DAILY_ENERGY['key']}"
    form = {
        **FORM,
        "key": DAILY_ENERGY["key"],
        "parameters": json.dumps([PARAMETER]),
        "tests": "# " + "x" * 200_000,
    }
    answer = post_form(api.client, edit, edit, **form)
    assert answer.status_code == 422 and 'href="#tests"' in answer.text, answer.text[:2000]
    control = re.search(r'<textarea[^>]*\bid="tests"[^>]*>', answer.text)
    assert control and 'aria-invalid="true"' in control.group(0)
    assert "200,000" in answer.text
    assert api.ok("GET", edit.replace("/console", "/v1"), tenant.ops)["draft"]["window"] == "day"


def test_a_template_part_longer_than_the_api_takes_is_refused_not_cut(api: Api) -> None:
    """The JSON API refuses a part over 20,000 characters; the console's editor had cut it
    to its first 20,000 and saved that."""
    tenant = api.tenant()
    console_sign_in(api.client, tenant.ops_key)
    editor = "/console/templates/energy.daily_above/sms/en"
    text = "Your use was {{ window.sum }}. " + "x" * 20_000
    answer = post_form(api.client, editor, editor, text=text, action="save")
    assert answer.status_code == 422, answer.text[:2000]
    control = re.search(r'<textarea[^>]*\bid="text"[^>]*>', answer.text)
    assert control and 'aria-invalid="true"' in control.group(0), answer.text
    assert 'href="#text"' in answer.text and "20000" in answer.text
    variants = api.ok("GET", "/v1/templates/energy.daily_above", tenant.ops)["variants"]
    assert [v for v in variants if v["source"] == "tenant"] == []


def test_a_back_test_zone_is_checked_as_the_api_checks_it(api: Api) -> None:
    """``POST /v1/rules/{key}/backtest`` takes IANA zones only (422 otherwise); the console's
    back-test of a file answered an unknown zone with the 500 page and took ``localtime``."""
    tenant = api.tenant()
    publish(api, tenant, DAILY_ENERGY)
    rows = b"customer,metric,start,duration,value,unit\n"
    rows += b"k-1,electricity.consumption,2026-03-01T00:00:00Z,3600,20,kWh\n"
    console_sign_in(api.client, tenant.ops_key)
    backtest = f"/console/rules/{DAILY_ENERGY['key']}/backtest"
    for zone in ("Mars/Base", "localtime", "../../etc/passwd"):
        body = {"readings": [], "timezone": zone}
        by_api = api.client.post(backtest.replace("/console", "/v1"), headers=tenant.ops, json=body)
        assert by_api.status_code == 422, (zone, by_api.text)
        posted = {
            "csrf_token": csrf(api.client.get(backtest).text),
            "timezone": zone,
            "p_limit_kwh": "12",
        }
        answer = api.client.post(backtest, data=posted, files={"file": ("r.csv", rows, "text/csv")})
        assert answer.status_code == 422, (zone, answer.status_code)
        control = re.search(r'<input[^>]*\bid="timezone"[^>]*>', answer.text)
        assert control and 'aria-invalid="true"' in control.group(0), (zone, answer.text[:3000])
    posted = {"csrf_token": csrf(api.client.get(backtest).text), "timezone": "Europe/Vienna"}
    answer = api.client.post(
        backtest, data={**posted, "p_limit_kwh": "12"}, files={"file": ("r.csv", rows, "text/csv")}
    )
    assert answer.status_code == 200, answer.text[:2000]


@pytest.mark.parametrize(
    ("field", "typed"),
    [
        ("baseline_windows", "nan"),
        ("baseline_windows", "1e400"),
        ("baseline_windows", "9" * 400),
        ("baseline_windows", "4.5"),
        ("baseline_windows", "0"),
        ("escalation", "0"),
        ("escalation", "inf"),
        ("hysteresis", "nan"),
        ("late_hours", "-inf"),
    ],
)
def test_numbers_the_api_refuses_are_refused_beside_their_field(
    api: Api, field: str, typed: str
) -> None:
    """Each was the 500 page (a number with no whole value) or silently replaced by the
    default (a zero escalation delay) before."""
    tenant = api.tenant()
    console_sign_in(api.client, tenant.ops_key)
    form = {**FORM, "parameters": json.dumps([PARAMETER]), field: typed}
    answer = post_form(api.client, "/console/rules/new", "/console/rules/new", **form)
    assert answer.status_code == 422, (answer.status_code, answer.text[:2000])
    control = re.search(rf'<input[^>]*\bid="{field}"[^>]*>', answer.text)
    assert control and 'aria-invalid="true"' in control.group(0), answer.text
    assert api.client.get("/v1/rules/energy.week_above", headers=tenant.ops).status_code == 404
