"""Impact of a draft: every current trigger replayed over the last N days of stored data,
beside what the published version decided, with progress, a chart and a table per day."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from html import unescape

from tests.fixtures.api import Api
from tests.fixtures.rules import DAILY_ENERGY, post_readings, publish
from tests.web.console.console import console_sign_in, post_form

EDITOR = "/console/rules/energy.daily_above"
ANSWER = re.compile(
    r"This version would have sent (\d+) notifications to (\d+) customers in the last (\d+) "
    r"days; the published versions decided (\d+)\."
)


def _finished(api: Api, answer_url: str) -> str:
    for _ in range(200):  # bounded: 20 s
        page = api.client.get(answer_url)
        assert page.status_code == 200, page.text
        if 'http-equiv="refresh"' not in page.text:
            return unescape(page.text)
        time.sleep(0.1)
    raise AssertionError("the impact did not finish")


def test_a_drafts_impact_against_the_published_version(api: Api) -> None:
    tenant = api.tenant()
    publish(api, tenant, DAILY_ENERGY)
    today = datetime.now(UTC).replace(hour=11, minute=0, second=0, microsecond=0)
    daily = {"ada": 15.0, "bob": 25.0, "cy": 5.0}
    for name, value in daily.items():
        customer = api.customer(tenant, external_id=name, timezone="UTC")
        token = api.token(tenant, customer["id"])
        body = {"rule": "energy.daily_above", "params": {"limit_kwh": 10}}
        api.ok("POST", "/v1/me/triggers", token, 201, json=body)
        rows = [
            {
                "customer": name,
                "metric": DAILY_ENERGY["metric"],
                "start": (today - timedelta(days=day)).isoformat(),
                "duration": 3600,
                "value": value,
                "unit": "kWh",
            }
            for day in range(1, 6)
        ]
        post_readings(api, tenant, rows)
    console_sign_in(api.client, tenant.ops_key)
    form = post_form(
        api.client, EDITOR, EDITOR, **_draft(api, "window.sum > params.limit_kwh * 2.0")
    )
    assert form.status_code == 200, form.text

    started = post_form(api.client, EDITOR + "/impact", EDITOR + "/impact", days="30")
    page = _finished(api, str(started.url))
    found = ANSWER.search(page)
    assert found, page
    assert tuple(map(int, found.groups())) == (5, 1, 30, 10)  # bob's 5 days; ada and bob's 10
    assert "Replayed for 3 customers; 0 triggers skipped" in page
    assert page.count('<rect class="bar"') == 30 and "<polyline" in page
    rows = re.findall(r'<td class="num">(\d+)</td><td class="num">(\d+)</td>', page)
    assert sum(int(a) for a, _ in rows) == 5 and sum(int(b) for _, b in rows) == 10

    simple = post_form(api.client, EDITOR, EDITOR, **_draft(api, "window.sum > params.limit_kwh"))
    assert simple.status_code == 200
    again = post_form(api.client, EDITOR + "/impact", EDITOR + "/impact", days="30")
    found = ANSWER.search(_finished(api, str(again.url)))
    assert found and tuple(map(int, found.groups())) == (10, 2, 30, 10)


def test_days_out_of_range_are_named(api: Api) -> None:
    tenant = api.tenant()
    publish(api, tenant, DAILY_ENERGY)
    console_sign_in(api.client, tenant.ops_key)
    answer = post_form(api.client, EDITOR + "/impact", EDITOR + "/impact", days="400")
    assert answer.status_code == 422 and 'href="#days"' in answer.text


def _draft(api: Api, condition: str) -> dict[str, str]:
    page = api.client.get(EDITOR).text
    form = {
        k: unescape(v) for k, v in re.findall(r'name="(\w+)" type="text" value="([^"]*)"', page)
    }
    for name in ("kind", "window", "aggregate", "urgency", "rearm_mode", "cap_policy"):
        chosen = re.search(rf'<select id="{name}".*?<option value="([^"]*)" selected', page, re.S)
        form[name] = chosen.group(1) if chosen else ""
    params = re.search(r'<textarea id="parameters"[^>]*>(.*?)</textarea>', page, re.S)
    assert params
    form["parameters"] = unescape(params.group(1))
    form["condition"] = condition
    return form


def test_a_new_rule_without_triggers_uses_its_defaults_for_everyone_with_data(api: Api) -> None:
    tenant = api.tenant()
    today = datetime.now(UTC).replace(hour=11, minute=0, second=0, microsecond=0)
    for name, value in {"ada": 15.0, "bob": 9.0}.items():
        api.customer(tenant, external_id=name, timezone="UTC")
        rows = [
            {
                "customer": name,
                "metric": DAILY_ENERGY["metric"],
                "start": (today - timedelta(days=day)).isoformat(),
                "duration": 3600,
                "value": value,
                "unit": "kWh",
            }
            for day in range(1, 4)
        ]
        post_readings(api, tenant, rows)
    api.ok("POST", "/v1/rules", tenant.ops, 201, json=DAILY_ENERGY)  # a draft; default 12 kWh
    console_sign_in(api.client, tenant.ops_key)
    started = post_form(api.client, EDITOR + "/impact", EDITOR + "/impact", days="7")
    page = _finished(api, str(started.url))
    found = ANSWER.search(page)
    assert found and tuple(map(int, found.groups())) == (3, 1, 7, 0), page
    assert "Replayed for 2 customers" in page
