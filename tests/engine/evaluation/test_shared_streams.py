"""One customer's readings feed every trigger on their metric: two rules over the same daily
windows and one over hourly windows each see each reading once, in one batch."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import FrozenApi
from tests.fixtures.rules import (
    DAILY_ENERGY,
    berlin,
    hourly,
    notifications,
    post_readings,
    publish,
    subscribe,
)

PEAK: dict[str, Any] = {
    **DAILY_ENERGY,
    "key": "energy.daily_peak",
    "aggregate": "max",
    "condition": "window.max > params.limit_kwh",
}
HOURLY: dict[str, Any] = {**DAILY_ENERGY, "key": "energy.hourly_above", "window": "hour"}


def test_every_rule_on_a_metric_sees_each_reading_once(frozen: FrozenApi) -> None:
    api = frozen.api
    sub = subscribe(api, params={"limit_kwh": 6.0})
    for rule, limit in ((PEAK, 2.5), (HOURLY, 1.5)):
        publish(api, sub.tenant, rule)
        body = {"rule": rule["key"], "params": {"limit_kwh": limit}}
        api.ok("POST", "/v1/me/triggers", sub.token, 201, json=body)

    answer = post_readings(api, sub.tenant, hourly(sub.ref, berlin(0), [1.0, 2.0, 3.0, 0.5]))
    assert (answer["accepted"], answer["notifications"]) == (4, 4)

    found = notifications(api, sub.tenant, sub.id)
    fired = sorted(
        (n["why"]["rule"], n["why"]["values"]["window"]["start"], n["why"]["values"]["window"][a])
        for n in found
        for a in ("sum", "max")
        if (a == "max") == (n["why"]["rule"] == PEAK["key"])
    )
    day, hour1, hour2 = "2026-03-01T23:00:00Z", "2026-03-02T00:00:00Z", "2026-03-02T01:00:00Z"
    assert fired == [
        (DAILY_ENERGY["key"], day, 6.5),  # 1 + 2 + 3 + 0.5, each reading counted once
        (PEAK["key"], day, 3.0),
        (HOURLY["key"], hour1, 2.0),
        (HOURLY["key"], hour2, 3.0),
    ]
