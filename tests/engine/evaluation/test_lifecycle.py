"""What follows a rule's retirement or a customer's move to another zone."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.api.conftest import FrozenApi
from tests.fixtures.rules import (
    CHECKUP_REMINDER,
    count_rows,
    hourly,
    notifications,
    post_events,
    post_readings,
    subscribe,
)


def test_retiring_a_rule_cancels_what_it_had_not_sent_yet(frozen: FrozenApi) -> None:
    api = frozen.api
    sub = subscribe(api, CHECKUP_REMINDER, {"days_before": 14, "local_time": "09:00"})
    post_events(
        api, sub.tenant, [{"customer": sub.ref, "type": "checkup.due", "due": "2026-04-05"}]
    )
    [reminder] = notifications(api, sub.tenant, sub.id)
    assert reminder["status"] == "pending"

    api.ok("POST", f"/v1/rules/{CHECKUP_REMINDER['key']}/retire", sub.tenant.ops)

    [reminder] = notifications(api, sub.tenant, sub.id)
    assert reminder["status"] == "cancelled"
    assert reminder["reason"] == "the rule was retired"


def test_a_new_timezone_rebuilds_the_windows_the_trigger_reads(frozen: FrozenApi) -> None:
    api = frozen.api
    sub = subscribe(api, params={"limit_kwh": 100})
    # 2026-03-02 00:00–09:00 UTC: nine hours of the Berlin day; in New York, the first five
    # of them still belong to 1 March.
    post_readings(api, sub.tenant, hourly(sub.ref, datetime(2026, 3, 2, tzinfo=UTC), [1.0] * 9))
    path = f"/v1/me/triggers/{sub.trigger['id']}"
    assert api.ok("GET", path, sub.token)["state"]["last_value"] == 9.0

    api.ok("PATCH", "/v1/me", sub.token, json={"timezone": "America/New_York"})

    state = api.ok("GET", path, sub.token)["state"]
    assert state["window_start"] == "2026-03-02T05:00:00Z"
    assert state["last_value"] == 4.0


def test_erasure_removes_readings_events_and_triggers(frozen: FrozenApi) -> None:
    api = frozen.api
    sub = subscribe(api, params={"limit_kwh": 5})
    post_readings(api, sub.tenant, hourly(sub.ref, datetime(2026, 3, 2, tzinfo=UTC), [3.0] * 3))
    post_events(
        api,
        sub.tenant,
        [
            {
                "customer": sub.ref,
                "type": "bill.issued",
                "id": "b1",
                "amount": 12.5,
                "currency": "EUR",
            }
        ],
    )
    [decided] = notifications(api, sub.tenant, sub.id)
    assert decided["why"]["params"] == {"limit_kwh": 5.0}
    export = api.ok("GET", "/v1/me/export", sub.token)
    assert [t["id"] for t in export["triggers"]] == [sub.trigger["id"]]

    api.ok("DELETE", "/v1/me", sub.token, expect=204)

    for table in ("readings", "window_aggregates", "events"):
        assert count_rows(frozen.runtime, table, sub.id) == 0, table
    [erased] = notifications(api, sub.tenant, sub.id)
    assert erased["why"] == {}
    assert erased["status"] in ("cancelled", "sent")
