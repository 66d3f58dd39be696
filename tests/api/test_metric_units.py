"""A metric keeps one unit: its first reading fixes it (energy in kWh, money in its currency),
and a reading in another dimension is rejected by row instead of mixing into its windows."""

from __future__ import annotations

from typing import Any

from tests.fixtures.api import Api, TenantHandle

ELECTRICITY = "electricity.consumption"


def _row(
    customer: str, hour: int, value: float, unit: str, metric: str = ELECTRICITY
) -> dict[str, Any]:
    return {
        "customer": customer,
        "metric": metric,
        "start": f"2026-01-01T{hour:02d}:00:00Z",
        "duration": 3600,
        "value": value,
        "unit": unit,
    }


def _post(api: Api, tenant: TenantHandle, rows: list[dict[str, Any]]) -> dict[str, Any]:
    answer: dict[str, Any] = api.ok("POST", "/v1/feeds/readings", tenant.feed, json=rows)
    return answer


def test_a_reading_in_another_dimension_is_rejected_by_row(api: Api) -> None:
    tenant = api.tenant()
    who = api.customer(tenant)["external_id"]
    assert _post(api, tenant, [_row(who, 0, 1.5, "kWh")])["accepted"] == 1

    answer = _post(api, tenant, [_row(who, 1, 12.0, "EUR"), _row(who, 2, 700, "Wh")])

    assert (answer["accepted"], answer["rejected"]) == (1, 1)
    [rejection] = answer["rejections"]
    assert rejection == {
        "index": 0,
        "field": "unit",
        "reason": "electricity.consumption is measured in kWh, not EUR",
    }
    # Money is fine as its own metric, and another tenant's metric is its own.
    assert _post(api, tenant, [_row(who, 1, 12.0, "EUR", "bill.amount")])["accepted"] == 1
    other = api.tenant("Other")
    someone = api.customer(other)["external_id"]
    assert _post(api, other, [_row(someone, 0, 3.0, "therm")])["accepted"] == 1


def test_the_first_row_of_a_new_metric_fixes_its_unit(api: Api) -> None:
    tenant = api.tenant()
    who = api.customer(tenant)["external_id"]
    answer = _post(api, tenant, [_row(who, 0, 1.0, "m3"), _row(who, 1, 2.0, "kWh")])
    assert answer["accepted"] == 1 and answer["rejections"][0]["index"] == 1
    assert "measured in m3, not kWh" in answer["rejections"][0]["reason"]
