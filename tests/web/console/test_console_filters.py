"""The console's filters answer any day typed with a page: a day the calendar cannot hold in
the tenant's zone (0001-01-01 west of Greenwich's midnight, 9999-12-31's next day) had
answered the 500 page."""

from __future__ import annotations

import re

import pytest

from tests.fixtures.api import Api
from tests.web.console.console import console_sign_in


@pytest.mark.parametrize(
    ("name", "day"),
    [("since", "0001-01-01"), ("until", "9999-12-31"), ("since", "1969-12-31")],
)
def test_a_day_out_of_range_is_shown_beside_its_filter(api: Api, name: str, day: str) -> None:
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
