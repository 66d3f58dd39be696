"""Whatever is typed into a form or a filter of the customer's page or the console is
answered with a page (HTML, a 4xx saying what is wrong, or the page itself), never the 500
page or problem+json: very long text, control characters, bytes that are not UTF-8, numbers
beyond any float or integer, days outside the calendar's range. Each value below once found
a 500 on one of these routes (or is the kind that did elsewhere)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import quote_from_bytes

import httpx

from tests.fixtures.api import Api
from tests.fixtures.rules import DAILY_ENERGY, publish
from tests.web.console.console import console_sign_in
from tests.web.pages import csrf, manage_link, sign_in

RULE = DAILY_ENERGY["key"]
ODD = [
    b"x" * 20_000,
    b"\x01\x1b[0m",
    b"\xed\xa0\x80\xff",  # not UTF-8
    b"-1e309",
    b"9" * 400,
    b"nan",
    b"2147483648",
    b"0001-01-01",
    b"9999-12-31",
]
RULE_FORM = {
    "key": "energy.odd",
    "title_en": "Odd",
    "topic": "energy",
    "kind": "threshold",
    "metric": "electricity",
    "window": "day",
    "aggregate": "sum",
    "baseline_windows": "4",
    "parameters": json.dumps([{"name": "limit_kwh", "type": "double", "min": 1}]),
    "condition": "window.sum > params.limit_kwh",
    "urgency": "normal",
    "rearm_mode": "once_per_window",
    "cap_policy": "defer",
    "template_key": "energy.daily_above",
    "escalation": "30",
}


def _answered_with_a_page(answer: httpx.Response, where: tuple[object, ...]) -> None:
    assert answer.status_code < 500, (where, answer.status_code)
    assert answer.headers["content-type"].startswith("text/html"), (where, answer.headers)


def _posts(
    client: httpx.Client, page: str, action: str, names: list[str], rest: dict[str, str]
) -> Iterator[tuple[tuple[object, ...], httpx.Response]]:
    """``action`` posted with each odd value in each named field, the others as in ``rest``."""
    token = csrf(client.get(page).text)
    for name in names:
        for value in ODD:
            fields = {"csrf_token": token, **{k: v for k, v in rest.items() if k != name}}
            body = "&".join(f"{k}={quote_from_bytes(v.encode())}" for k, v in fields.items())
            body += f"&{name}={quote_from_bytes(value)}"
            form = {"content-type": "application/x-www-form-urlencoded"}
            yield (action, name, value[:12]), client.post(action, content=body, headers=form)


def test_the_customers_forms_and_filters(api: Api) -> None:
    tenant = api.tenant()
    publish(api, tenant, DAILY_ENERGY)
    customer = api.customer(tenant, name="Ada", locale="en", timezone="Europe/Berlin")
    sign_in(api.client, manage_link(api, tenant, customer["id"]))
    quiet = {"q_email_on": "on", "q_email_days": "1", "q_email_start": "22:00"}
    forms = [
        ("/me/data", "/me/data/profile", ["name", "language", "timezone"], {}),
        ("/me/settings", "/me/settings", ["q_email_start", "cap_email", "cap_email_per"], quiet),
        ("/me/settings", "/me/settings/pause", ["pause_until"], {}),
        ("/me/channels", "/me/channels/order", ["order_1"], {}),
        (f"/me/alerts/new?rule={RULE}", "/me/alerts/new", ["p_limit_kwh", "rule"], {"rule": RULE}),
        ("/me/login", "/me/login", ["address"], {}),
    ]
    for page, action, names, rest in forms:
        for where, answer in _posts(api.client, page, action, names, rest):
            _answered_with_a_page(answer, where)
    for path, name in (("/me/history", "cursor"), (f"/me/alerts/new?rule={RULE}", "rule")):
        for value in ODD:
            answer = api.client.get(path, params={name: value.decode("latin-1")})
            _answered_with_a_page(answer, (path, name, value[:12]))


def test_the_consoles_forms_and_filters(api: Api) -> None:
    tenant = api.tenant()
    publish(api, tenant, DAILY_ENERGY)
    api.customer(tenant, external_id="k-1", timezone="Europe/Berlin")
    console_sign_in(api.client, tenant.ops_key)
    edit, template = f"/console/rules/{RULE}", "/console/templates/energy.daily_above/sms/en"
    numbers = ["baseline_windows", "escalation", "hysteresis", "late_hours", "parameters"]
    forms = [
        ("/console/rules/new", "/console/rules/new", numbers + ["title_en"], RULE_FORM),
        (edit, edit, numbers + ["tests"], {**RULE_FORM, "key": RULE}),
        (template, template, ["text", "customer"], {"action": "save", "text": "Hi"}),
        (f"{edit}/impact", f"{edit}/impact", ["days"], {}),
    ]
    for page, action, names, rest in forms:
        for where, answer in _posts(api.client, page, action, names, rest):
            _answered_with_a_page(answer, where)
    backtest = f"{edit}/backtest"
    rows = b"customer,metric,start,duration,value,unit\n"
    rows += b"k-1,electricity.consumption,2026-03-01T00:00:00Z,3600,20,kWh\n"
    for name in ("version", "timezone", "p_limit_kwh"):
        for value in ODD:
            token = csrf(api.client.get(backtest).text)
            posted = {"csrf_token": token, "p_limit_kwh": "12", name: value.decode("latin-1")}
            files = {"file": ("r.csv", rows, "text/csv")}
            answer = api.client.post(backtest, data=posted, files=files)
            _answered_with_a_page(answer, (backtest, name, value[:12]))
    filters = ["since", "until", "status", "customer", "before"]
    for path, names in (("/console/deliveries", filters), ("/console/customers", ["external_id"])):
        for name in names:
            for value in ODD:
                answer = api.client.get(path, params={name: value.decode("latin-1")})
                _answered_with_a_page(answer, (path, name, value[:12]))
