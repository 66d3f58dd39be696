"""What an ops user may type into the console's filters and selects is answered with a page
that says what is wrong, never the 500 page."""

from __future__ import annotations

import re

import pytest

from tests.fixtures.api import Api
from tests.fixtures.rules import DAILY_ENERGY, publish
from tests.web.console.console import console_sign_in
from tests.web.pages import csrf


@pytest.mark.parametrize(
    ("name", "day"),
    [("since", "0001-01-01"), ("until", "9999-12-31"), ("since", "1969-12-31")],
)
def test_a_day_out_of_range_is_shown_beside_its_filter(api: Api, name: str, day: str) -> None:
    """0001-01-01 and 9999-12-31 had answered the 500 page (the day overflowed the calendar on
    its way to UTC)."""
    tenant = api.tenant()
    console_sign_in(api.client, tenant.ops_key)
    answer = api.client.get("/console/deliveries", params={name: day})
    assert answer.status_code == 422, (answer.status_code, answer.text[:2000])
    assert answer.headers["content-type"].startswith("text/html")
    control = re.search(rf'<input[^>]*\bid="{name}"[^>]*>', answer.text)
    assert control and 'aria-invalid="true"' in control.group(0), answer.text
    assert "1970-01-01" in answer.text


def test_days_within_range_filter(api: Api) -> None:
    tenant = api.tenant()
    console_sign_in(api.client, tenant.ops_key)
    days = {"since": "1970-01-01", "until": "2199-12-31"}
    answer = api.client.get("/console/deliveries", params=days)
    assert answer.status_code == 200, answer.text[:2000]


@pytest.mark.parametrize("version", ["999", "2147483648", "9" * 30])
def test_a_back_test_of_a_version_that_does_not_exist_says_so(api: Api, version: str) -> None:
    """Beyond the database's integers it had answered the 500 page."""
    tenant = api.tenant()
    publish(api, tenant, DAILY_ENERGY)
    api.customer(tenant, external_id="k-1", timezone="Europe/Berlin")
    console_sign_in(api.client, tenant.ops_key)
    backtest = f"/console/rules/{DAILY_ENERGY['key']}/backtest"
    posted = {"csrf_token": csrf(api.client.get(backtest).text), "version": version}
    answer = api.client.post(
        backtest, data={**posted, "customer": "k-1"}, files={"file": ("", b"", "text/csv")}
    )
    assert answer.status_code == 404, (answer.status_code, answer.text[:2000])
    assert answer.headers["content-type"].startswith("text/html")
