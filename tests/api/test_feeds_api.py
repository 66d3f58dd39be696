"""Businesses push readings as JSON, NDJSON or CSV: counts per batch, rejected rows with their
index and reason, nothing stored from a body that cannot be read, units normalised, duplicates
ignored and corrections re-evaluated (at most one notification per window)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import text

from api.app import create_app
from engine.platform.clock import FrozenClock
from engine.processes.runtime import Runtime
from tests.api.conftest import FrozenApi
from tests.conftest import make_settings
from tests.fixtures.api import Api
from tests.fixtures.rules import (
    BERLIN_DAY,
    ELECTRICITY,
    berlin,
    count_rows,
    hourly,
    ndjson,
    notifications,
    post_readings,
    subscribe,
)

CSV_HEADER = "customer,metric,start,duration,value,unit\n"
BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<feed xmlns="http://www.w3.org/2005/Atom"><entry><content>&lol3;</content></entry></feed>"""


def stored_values(runtime: Runtime, customer_id: str) -> list[tuple[int, float, str]]:
    with runtime.db.connect() as conn:
        rows = conn.execute(
            text("SELECT start, value, unit FROM readings WHERE customer_id = :c ORDER BY start"),
            {"c": customer_id},
        ).all()
    return [(int(start), float(value), unit) for start, value, unit in rows]


def test_json_ndjson_and_csv_bodies_are_accepted(frozen: FrozenApi) -> None:
    api = frozen.api
    sub = subscribe(api, params={"limit_kwh": 100})
    rows = hourly(sub.ref, BERLIN_DAY, [1.0] * 6)
    feed = sub.tenant.feed
    as_json = api.ok("POST", "/v1/feeds/readings", feed, json=rows[0:2])
    as_ndjson = api.ok(
        "POST",
        "/v1/feeds/readings",
        {**feed, "content-type": "application/x-ndjson"},
        content=ndjson(rows[2:4]),
    )
    lines = [",".join(str(r[k]) for k in CSV_HEADER.strip().split(",")) for r in rows[4:6]]
    as_csv = api.ok(
        "POST",
        "/v1/feeds/readings",
        {**feed, "content-type": "text/csv"},
        content=CSV_HEADER + "\n".join(lines) + "\n",
    )
    for answer in (as_json, as_ndjson, as_csv):
        assert (answer["accepted"], answer["rejected"], answer["duplicate"]) == (2, 0, 0)
        assert answer["batch"]
    assert count_rows(frozen.runtime, "readings", sub.id) == 6


def test_rejected_rows_have_their_index_and_reason(frozen: FrozenApi) -> None:
    api = frozen.api
    sub = subscribe(api)
    good = hourly(sub.ref, BERLIN_DAY, [1.0])[0]
    rows = [
        good,
        {**good, "start": "2026-03-02T01:00:00Z", "value": float("nan")},
        {**good, "start": "2026-03-02T02:00:00Z", "unit": "furlong"},
        {**good, "start": "2026-03-09T00:00:00Z"},
        {**good, "customer": "nobody"},
        {**good, "start": "2026-03-02T03:00:00"},
        {**good, "start": "2026-03-02T04:00:00Z", "value": "Infinity"},
    ]
    answer = api.ok(
        "POST",
        "/v1/feeds/readings",
        {**sub.tenant.feed, "content-type": "application/json"},
        content=json.dumps(rows),
    )
    assert (answer["accepted"], answer["rejected"]) == (1, 6)
    found = [(r["index"], r["field"]) for r in answer["rejections"]]
    assert found == [
        (1, "value"),
        (2, "unit"),
        (3, "start"),
        (4, "customer"),
        (5, "start"),
        (6, "value"),
    ]
    reasons = [r["reason"] for r in answer["rejections"]]
    assert "NaN" in reasons[0] and "furlong" in reasons[1] and "future" in reasons[2]
    assert "nobody" in reasons[3] and "UTC offset" in reasons[4]
    assert count_rows(frozen.runtime, "readings", sub.id) == 1


def test_unreadable_bodies_are_refused_and_store_nothing(frozen: FrozenApi) -> None:
    api = frozen.api
    sub = subscribe(api)
    good = ndjson(hourly(sub.ref, BERLIN_DAY, [1.0, 2.0]))
    feed = sub.tenant.feed
    bodies = [
        ("application/json", good),  # NDJSON is not one JSON document
        ("application/json", '{"customer": "x"}'),
        ("text/csv", f"{sub.ref},{ELECTRICITY},2026-03-01T23:00:00Z,3600,1.0,kWh\n"),
        ("application/x-ndjson", "{oops\n[1,\n"),
    ]
    for content_type, body in bodies:
        problem = api.problem(
            "POST",
            "/v1/feeds/readings",
            {**feed, "content-type": content_type},
            422,
            content=body,
        )
        assert problem["type"].endswith("/malformed-feed"), problem
        assert problem["errors"][0]["field"] == "body"
    bomb = api.problem(
        "POST",
        f"/v1/feeds/greenbutton?customer={sub.ref}",
        {**feed, "content-type": "application/atom+xml"},
        422,
        content=BILLION_LAUGHS,
    )
    assert bomb["type"].endswith("/malformed-feed")
    for content_type in ("application/xml", "text/plain", ""):
        headers = {**feed, "content-type": content_type}
        api.problem("POST", "/v1/feeds/readings", headers, 415, content=good)
    assert count_rows(frozen.runtime, "readings") == 0
    assert count_rows(frozen.runtime, "window_aggregates") == 0


def test_energy_units_are_stored_in_kwh(frozen: FrozenApi) -> None:
    api = frozen.api
    sub = subscribe(api, params={"limit_kwh": 100})
    rows = [
        *hourly(sub.ref, BERLIN_DAY, [1500.0], unit="Wh"),
        *hourly(sub.ref, berlin(1), [2.0], unit="kWh"),
        *hourly(sub.ref, berlin(2), [0.0025], unit="MWh"),
    ]
    assert post_readings(api, sub.tenant, rows)["accepted"] == 3
    assert [(v, u) for _, v, u in stored_values(frozen.runtime, sub.id)] == [
        (1.5, "kWh"),
        (2.0, "kWh"),
        (2.5, "kWh"),
    ]
    trigger = api.ok("GET", f"/v1/me/triggers/{sub.trigger['id']}", sub.token)
    assert trigger["state"]["last_value"] == 6.0


def test_a_repeated_batch_changes_nothing(frozen: FrozenApi) -> None:
    api = frozen.api
    sub = subscribe(api, params={"limit_kwh": 5})
    rows = hourly(sub.ref, BERLIN_DAY, [2.0, 2.0, 2.0])
    first = post_readings(api, sub.tenant, rows)
    assert (first["accepted"], first["notifications"]) == (3, 1)
    again = post_readings(api, sub.tenant, rows)
    assert (again["accepted"], again["duplicate"], again["corrected"]) == (0, 3, 0)
    assert again["notifications"] == 0
    inside = post_readings(api, sub.tenant, [rows[0], rows[0], rows[1]])
    assert (inside["accepted"], inside["duplicate"]) == (0, 3)
    assert len(notifications(api, sub.tenant, sub.id)) == 1
    assert count_rows(frozen.runtime, "readings", sub.id) == 3


def test_a_batch_that_corrects_its_own_reading_keeps_the_last_value(frozen: FrozenApi) -> None:
    api = frozen.api
    sub = subscribe(api, params={"limit_kwh": 5})
    first, second = hourly(sub.ref, BERLIN_DAY, [4.0, 3.0])
    corrected = hourly(sub.ref, BERLIN_DAY, [1.0])[0]  # the first hour again, another value
    again = hourly(sub.ref, BERLIN_DAY, [1.0])[0]  # and once more, the same as just before

    answer = post_readings(api, sub.tenant, [first, second, corrected, again])

    assert (answer["accepted"], answer["corrected"], answer["duplicate"]) == (2, 1, 1)
    assert [value for _, value, _ in stored_values(frozen.runtime, sub.id)] == [1.0, 3.0]
    assert answer["notifications"] == 0  # 1 + 3 kWh stay under the limit; 4 + 3 would not
    state = api.ok("GET", f"/v1/me/triggers/{sub.trigger['id']}", sub.token)["state"]
    assert state["last_value"] == 4.0


def test_corrections_replace_the_value_and_fire_once_per_window(frozen: FrozenApi) -> None:
    api = frozen.api
    sub = subscribe(api, params={"limit_kwh": 5})
    path = f"/v1/me/triggers/{sub.trigger['id']}"
    assert (
        post_readings(api, sub.tenant, hourly(sub.ref, BERLIN_DAY, [2.0, 2.0]))["notifications"]
        == 0
    )

    steps = [(4.0, 1, "fired", 6.0), (1.0, 0, "fired", 3.0), (5.0, 0, "fired", 7.0)]
    for value, notified, status, total in steps:
        second = hourly(sub.ref, berlin(1), [value])
        answer = post_readings(api, sub.tenant, second)
        assert (answer["accepted"], answer["corrected"]) == (0, 1), value
        assert answer["notifications"] == notified, value
        state = api.ok("GET", path, sub.token)["state"]
        assert (state["status"], state["last_value"]) == (status, total)
        assert stored_values(frozen.runtime, sub.id)[1][1] == value

    [notification] = notifications(api, sub.tenant, sub.id)
    assert notification["status"] == "pending"
    assert notification["why"]["values"]["window"]["sum"] == 6.0


def test_oversized_body_is_413(db_url: str, tmp_path: Path) -> None:
    settings = make_settings(db_url, tmp_path, max_body_bytes=1000)  # feeds: 8 times that
    runtime = Runtime.from_settings(settings, FrozenClock(datetime(2026, 3, 2, 9, 30, tzinfo=UTC)))
    try:
        with TestClient(create_app(runtime)) as client:
            api = Api(client)
            sub = subscribe(api)
            rows = hourly(sub.ref, BERLIN_DAY, [1.0] * 10)
            assert len(json.dumps(rows)) < 8000
            assert post_readings(api, sub.tenant, rows)["accepted"] == 10
            many = hourly(sub.ref, berlin(10), [1.0] * 60)
            assert len(json.dumps(many)) > 8000
            problem = api.problem("POST", "/v1/feeds/readings", sub.tenant.feed, 413, json=many)
            assert problem["type"].endswith("/payload-too-large")
            assert count_rows(runtime, "readings") == 10
    finally:
        runtime.db.dispose()
