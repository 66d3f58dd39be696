"""Back-tests in the console: a customer's Green Button year by external id, an uploaded
file, the chart with the parameter's line and fired windows, the table of hits."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import pytest

from tests.fixtures.api import Api
from tests.fixtures.rules import DAILY_ENERGY, publish
from tests.web.console.console import console_sign_in, post_form
from tests.web.pages import csrf

DATA = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "greenbutton"
YEAR = DATA / "Coastal_Multi_Family_Jan_1_2011_to_Jan_1_2012_RetailCustomer_5.xml"
PAGE = "/console/rules/energy.daily_above/backtest"


def _year(api: Api) -> tuple[object, dict[str, object]]:
    if not YEAR.is_file():
        pytest.skip(f"no Green Button year at {YEAR} (../shared/data is not in this checkout)")
    tenant = api.tenant()
    publish(api, tenant, DAILY_ENERGY)
    customer = api.customer(tenant, external_id="gb-5", timezone="America/Los_Angeles")
    answer = api.ok(
        "POST",
        "/v1/feeds/greenbutton?customer=gb-5",
        {**tenant.feed, "Content-Type": "application/atom+xml"},
        content=YEAR.read_bytes(),
    )
    assert answer["accepted"] > 8000, answer
    return tenant, customer


def test_a_customers_year_back_tested_as_a_chart_and_a_table(api: Api) -> None:
    tenant, _ = _year(api)
    console_sign_in(api.client, tenant.ops_key)  # type: ignore[attr-defined]
    page = api.client.get(PAGE + "?version=1&customer=gb-5")
    assert page.status_code == 200, page.text
    text = unescape(page.text)
    found = re.search(r"(\d+) notifications over (\d+) windows \((\d+) readings\)", text)
    assert found, text
    hits, windows, readings = map(int, found.groups())
    assert 360 <= windows <= 366 and readings > 8000 and 0 < hits <= windows
    assert page.text.count('class="bar bar--fired"') == hits
    assert 'class="limit"' in page.text and "limit_kwh = 12" in text
    assert text.count("<tr><td>") == hits  # one table row per hit

    higher = post_form(api.client, PAGE, PAGE, version="1", customer="gb-5", p_limit_kwh="400")
    assert "0 notifications over" in unescape(higher.text)
    assert "It would not have notified." in higher.text


def test_an_uploaded_csv_is_back_tested_and_bad_input_is_named(api: Api) -> None:
    tenant = api.tenant()
    publish(api, tenant, DAILY_ENERGY)
    console_sign_in(api.client, tenant.ops_key)
    rows = ["customer,metric,start,duration,value,unit"]
    for day in range(1, 11):
        value = 20 if day % 3 == 0 else 5
        rows.append(f"x,electricity.consumption,2026-03-{day:02d}T12:00:00+01:00,3600,{value},kWh")
    token = csrf(api.client.get(PAGE).text)
    answer = api.client.post(
        PAGE,
        data={
            "csrf_token": token,
            "version": "1",
            "timezone": "Europe/Berlin",
            "p_limit_kwh": "12",
        },
        files={"file": ("readings.csv", "\n".join(rows).encode(), "text/csv")},
    )
    assert answer.status_code == 200, answer.text
    assert "3 notifications over 10 windows (10 readings)" in unescape(answer.text)

    both = api.client.post(
        PAGE,
        data={"csrf_token": token, "customer": "someone", "p_limit_kwh": "12"},
        files={"file": ("readings.csv", b"a,b\n1,2", "text/csv")},
    )
    assert both.status_code == 422 and 'href="#customer"' in both.text
    unknown = post_form(api.client, PAGE, PAGE, customer="nobody", p_limit_kwh="12", version="1")
    assert unknown.status_code == 404 and "No customer with this external id" in unknown.text
    out_of_bounds = post_form(api.client, PAGE, PAGE, customer="nobody", p_limit_kwh="9999")
    assert out_of_bounds.status_code == 422 and 'href="#p_limit_kwh"' in out_of_bounds.text
