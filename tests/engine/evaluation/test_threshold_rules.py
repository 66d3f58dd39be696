"""Threshold triggers fire on the edge, at most once per local calendar window; non-cumulative
rules re-arm past their hysteresis; late windows are recorded as suppressed; every decision says
why; and none of it is forgotten or repeated by a restarted process."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from engine.processes.runtime import Runtime
from tests.api.conftest import FrozenApi
from tests.fixtures.api import Api
from tests.fixtures.rules import (
    BERLIN_DAY,
    DAILY_ENERGY,
    DAILY_ENERGY_LATE,
    POWER_ABOVE,
    berlin,
    decisions,
    hourly,
    notifications,
    post_readings,
    subscribe,
)


def window_starts(items: list[dict[str, object]]) -> list[object]:
    return [item["why"]["values"]["window"]["start"] for item in items]  # type: ignore[index]


def test_fires_once_per_local_day_and_rearms_the_next(frozen: FrozenApi) -> None:
    api = frozen.api
    sub = subscribe(api, params={"limit_kwh": 5})
    # 3 kWh at the start of this Berlin day and 3 kWh at the start of the next: the same UTC
    # date (2026-03-02), two local days, so nothing fires.
    quiet = post_readings(
        api, sub.tenant, hourly(sub.ref, berlin(0), [3.0]) + hourly(sub.ref, berlin(24), [3.0])
    )
    assert (quiet["accepted"], quiet["notifications"]) == (2, 0)

    crossing = post_readings(api, sub.tenant, hourly(sub.ref, berlin(1), [2.5]))
    assert crossing["notifications"] == 1
    for hour in (2, 3):
        more = post_readings(api, sub.tenant, hourly(sub.ref, berlin(hour), [4.0]))
        assert (more["accepted"], more["notifications"]) == (1, 0)

    frozen.clock.advance(timedelta(days=1))
    next_day = post_readings(api, sub.tenant, hourly(sub.ref, berlin(25), [2.5]))
    assert next_day["notifications"] == 1
    found = notifications(api, sub.tenant, sub.id)
    assert window_starts(found) == ["2026-03-01T23:00:00Z", "2026-03-02T23:00:00Z"]
    assert [n["why"]["values"]["window"]["sum"] for n in found] == [5.5, 5.5]
    assert [n["transition"] for n in found] == [
        "w:2026-03-01T23:00:00Z#1",
        "w:2026-03-02T23:00:00Z#1",
    ]


def test_on_leave_rearms_only_past_the_hysteresis(frozen: FrozenApi) -> None:
    api = frozen.api
    sub = subscribe(api, POWER_ABOVE, {"limit_kwh": 5})
    path = f"/v1/me/triggers/{sub.trigger['id']}"
    # (reading, notifications it causes, state after it): limit 5, hysteresis 1.
    steps = [
        (6.0, 1, "fired"),
        (4.5, 0, "fired"),  # below the limit, but within 1 of it
        (6.0, 0, "fired"),
        (4.1, 0, "fired"),
        (4.0, 0, "armed"),  # 1 below the limit: it has left by the hysteresis
        (5.5, 1, "fired"),
    ]
    for hour, (value, notified, status) in enumerate(steps):
        answer = post_readings(api, sub.tenant, hourly(sub.ref, berlin(hour), [value]))
        assert answer["notifications"] == notified, (hour, value)
        state = api.ok("GET", path, sub.token)["state"]
        assert (state["status"], state["last_value"]) == (status, value), (hour, value)

    found = notifications(api, sub.tenant, sub.id)
    assert [n["transition"] for n in found] == [
        "w:2026-03-01T23:00:00Z#1",
        "w:2026-03-01T23:00:00Z#2",
    ]
    assert [n["why"]["values"]["window"]["last"] for n in found] == [6.0, 5.5]


def test_on_leave_with_max_rearms_when_a_correction_lowers_it(frozen: FrozenApi) -> None:
    api = frozen.api
    rule = {
        **POWER_ABOVE,
        "key": "power.peak_above",
        "aggregate": "max",
        "condition": "window.max > params.limit_kwh",
    }
    sub = subscribe(api, rule, {"limit_kwh": 5})
    assert (
        post_readings(api, sub.tenant, hourly(sub.ref, berlin(0), [2.0, 7.0]))["notifications"] == 1
    )
    lowered = post_readings(api, sub.tenant, hourly(sub.ref, berlin(1), [4.5]))
    assert (lowered["corrected"], lowered["notifications"]) == (1, 0)  # max 4.5: within band
    post_readings(api, sub.tenant, hourly(sub.ref, berlin(1), [3.0]))  # max 3: re-armed
    again = post_readings(api, sub.tenant, hourly(sub.ref, berlin(2), [8.0]))
    assert again["notifications"] == 1
    assert len(notifications(api, sub.tenant, sub.id)) == 2


def test_late_window_is_suppressed_with_a_reason(frozen: FrozenApi) -> None:
    api = frozen.api
    frozen.clock.set(BERLIN_DAY + timedelta(hours=3))  # 03:00 on 2 March in Berlin
    sub = subscribe(api, DAILY_ENERGY_LATE, {"limit_kwh": 5})

    two_days_ago = post_readings(api, sub.tenant, hourly(sub.ref, berlin(-48), [3.0, 3.0]))
    assert two_days_ago["notifications"] == 0  # suppressed decisions are not notifications
    yesterday = post_readings(api, sub.tenant, hourly(sub.ref, berlin(-24), [3.0, 3.0]))
    assert yesterday["notifications"] == 1
    again = post_readings(api, sub.tenant, hourly(sub.ref, berlin(-46), [3.0]))
    assert again["notifications"] == 0

    late, timely = notifications(api, sub.tenant, sub.id)
    assert (late["status"], timely["status"]) == ("suppressed", "pending")
    assert window_starts([late, timely]) == ["2026-02-27T23:00:00Z", "2026-02-28T23:00:00Z"]
    assert late["reason"] == (
        "late: became true 27.0 h after the window ended; the rule notifies within 6 h"
    )
    assert timely["reason"] is None
    entries = {e["notification_id"]: e for e in decisions(api, sub.token)}
    assert entries[late["id"]]["data"]["status"] == "suppressed"
    assert entries[late["id"]]["data"]["reason"] == late["reason"]
    assert "suppressed" in entries[late["id"]]["summary"]
    assert entries[timely["id"]]["data"]["status"] == "pending"


def test_a_notification_says_why_and_is_in_the_history(frozen: FrozenApi) -> None:
    api = frozen.api  # 09:30 UTC = 10:30 in Berlin: 10.5 h of a 24 h day have passed
    sub = subscribe(api, params={"limit_kwh": 5})
    post_readings(api, sub.tenant, hourly(sub.ref, BERLIN_DAY, [1.5, 1.5, 1.5, 1.5]))

    [notification] = notifications(api, sub.tenant, sub.id)
    why = notification["why"]
    assert (why["rule"], why["version"], why["params"]) == (
        "energy.daily_above",
        1,
        {"limit_kwh": 5.0},
    )
    assert why["condition"] == "window.sum > params.limit_kwh"
    window = why["values"]["window"]
    assert window == {
        "sum": 6.0,
        "avg": 1.5,
        "min": 1.5,
        "max": 1.5,
        "last": 1.5,
        "count": 4,
        "start": "2026-03-01T23:00:00Z",
        "end": "2026-03-02T23:00:00Z",
        "elapsed": pytest.approx(10.5 / 24),
        "projected": pytest.approx(6.0 * 24 / 4),  # 6 kWh over the first 4 of 24 hours
    }
    assert why["values"]["params"] == {"limit_kwh": 5.0}
    assert why["values"]["now"] == "2026-03-02T09:30:00Z"
    assert notification["status"] == "pending" and notification["rule_version"] == 1

    [entry] = decisions(api, sub.token)
    assert entry["kind"] == "decision"
    assert entry["notification_id"] == notification["id"]
    assert entry["data"]["why"] == why and entry["data"]["status"] == "pending"


def test_conditions_read_the_customers_attributes(frozen: FrozenApi) -> None:
    api = frozen.api
    rule = {
        **DAILY_ENERGY,
        "key": "energy.night_tariff",
        "condition": 'window.sum > params.limit_kwh && customer.attributes.tariff.name == "night"',
    }
    night = subscribe(
        api, rule, {"limit_kwh": 5}, attributes={"tariff": {"name": "night", "rate": 0.21}}
    )
    day = subscribe(
        api, rule, {"limit_kwh": 5}, tenant=night.tenant, attributes={"tariff": {"name": "day"}}
    )
    readings = hourly(night.ref, BERLIN_DAY, [6.0]) + hourly(day.ref, BERLIN_DAY, [6.0])
    assert post_readings(api, night.tenant, readings)["notifications"] == 1
    assert len(notifications(api, night.tenant, night.id)) == 1
    assert notifications(api, night.tenant, day.id) == []


def test_a_rule_over_all_time_that_reads_the_baseline_sees_it_empty(frozen: FrozenApi) -> None:
    api = frozen.api
    rule = {
        **DAILY_ENERGY,
        "key": "energy.lifetime",
        "window": "none",
        "condition": "window.sum > params.limit_kwh && baseline.windows == 0",
    }
    sub = subscribe(api, rule, {"limit_kwh": 5})
    post_readings(api, sub.tenant, hourly(sub.ref, BERLIN_DAY, [3.0, 3.0]))

    [notification] = notifications(api, sub.tenant, sub.id)
    values = notification["why"]["values"]
    assert values["window"]["sum"] == 6.0
    assert values["baseline"] == {
        "sum": 0.0, "avg": 0.0, "min": 0.0, "max": 0.0, "last": 0.0, "count": 0.0, "windows": 0
    }  # fmt: skip


def test_a_restarted_process_neither_refires_nor_forgets(frozen: FrozenApi) -> None:
    api = frozen.api
    sub = subscribe(api, params={"limit_kwh": 5})
    rows = hourly(sub.ref, BERLIN_DAY, [3.0, 3.0])
    assert post_readings(api, sub.tenant, rows)["notifications"] == 1

    restarted = Runtime.from_settings(frozen.runtime.settings, frozen.clock)
    try:
        with TestClient(create_app(restarted)) as client:
            again = Api(client)
            repeat = post_readings(again, sub.tenant, rows)
            assert (repeat["duplicate"], repeat["notifications"]) == (2, 0)
            more = post_readings(again, sub.tenant, hourly(sub.ref, berlin(2), [3.0]))
            assert (more["accepted"], more["notifications"]) == (1, 0)
            trigger = again.ok("GET", f"/v1/me/triggers/{sub.trigger['id']}", sub.token)
            assert (trigger["state"]["status"], trigger["state"]["last_value"]) == ("fired", 9.0)
            assert len(notifications(again, sub.tenant, sub.id)) == 1
    finally:
        restarted.db.dispose()


def test_each_decision_names_the_rule_in_its_customers_language(frozen: FrozenApi) -> None:
    api = frozen.api
    german = subscribe(api, DAILY_ENERGY, {"limit_kwh": 5}, locale="de-AT")
    english = subscribe(api, DAILY_ENERGY, {"limit_kwh": 5}, tenant=german.tenant, locale="en")
    rows = [*hourly(german.ref, berlin(0), [6.0]), *hourly(english.ref, berlin(0), [6.0])]
    assert post_readings(api, german.tenant, rows)["notifications"] == 2  # one batch
    later = [*hourly(english.ref, berlin(24), [6.0]), *hourly(german.ref, berlin(24), [6.0])]
    assert post_readings(api, german.tenant, later)["notifications"] == 2
    for sub, title in (
        (german, "Täglicher Stromverbrauch über Ihrem Limit"),
        (english, "Daily electricity use above your limit"),
    ):
        summaries = [entry["summary"] for entry in decisions(api, sub.token)]
        assert len(summaries) == 2
        assert all(s.startswith(f"{title}: sum = 6 in the day from ") for s in summaries)
