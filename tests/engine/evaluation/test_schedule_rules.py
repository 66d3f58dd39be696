"""Schedule rules remind ``days_before`` a due date at ``local_time`` in the customer's zone:
moved dates reschedule, cancelled ones cancel, and late-created triggers still get reminded."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tests.api.conftest import FrozenApi
from tests.fixtures.rules import (
    CHECKUP_REMINDER,
    decisions,
    notifications,
    post_events,
    publish,
    subscribe,
)

# The frozen clock reads 2026-03-02. Berlin moves to summer time on 2026-03-29.
WINTER_REMINDER = datetime(2026, 3, 22, 8, tzinfo=UTC)  # 09:00 CET, 14 days before 5 April
SUMMER_REMINDER = datetime(2026, 4, 6, 7, tzinfo=UTC)  # 09:00 CEST, 14 days before 20 April


def due(customer: str, date: str, **fields: Any) -> dict[str, Any]:
    return {"customer": customer, "type": "checkup.due", "due": date, **fields}


def due_at(notification: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(notification["due_at"])


def test_reminder_is_due_at_local_time_before_the_date(frozen: FrozenApi) -> None:
    api = frozen.api
    sub = subscribe(api, CHECKUP_REMINDER, {"days_before": 14, "local_time": "09:00"})
    answer = post_events(api, sub.tenant, [due(sub.ref, "2026-04-05")])
    assert (answer["accepted"], answer["notifications"]) == (1, 1)

    [reminder] = notifications(api, sub.tenant, sub.id)
    assert reminder["status"] == "pending"
    assert due_at(reminder) == WINTER_REMINDER  # 5 April is in summer time, 22 March is not
    [entry] = decisions(api, sub.token)
    assert entry["notification_id"] == reminder["id"]
    assert "2026-03-22 09:00" in entry["summary"]


def test_a_moved_date_cancels_the_old_reminder_and_schedules_a_new_one(
    frozen: FrozenApi,
) -> None:
    api = frozen.api
    sub = subscribe(api, CHECKUP_REMINDER, {"days_before": 14, "local_time": "09:00"})
    post_events(api, sub.tenant, [due(sub.ref, "2026-04-05")])
    moved = post_events(api, sub.tenant, [due(sub.ref, "2026-04-20")])
    assert (moved["corrected"], moved["notifications"]) == (1, 1)

    old, new = notifications(api, sub.tenant, sub.id)
    assert (old["status"], old["reason"]) == ("cancelled", "the due date moved")
    assert (new["status"], due_at(new)) == ("pending", SUMMER_REMINDER)
    cancelled = [e for e in decisions(api, sub.token) if e["data"]["status"] == "cancelled"]
    assert [e["notification_id"] for e in cancelled] == [old["id"]]
    assert "the due date moved" in cancelled[0]["summary"]

    back = post_events(api, sub.tenant, [due(sub.ref, "2026-04-05")])
    assert back["notifications"] == 1
    pending = [n for n in notifications(api, sub.tenant, sub.id) if n["status"] == "pending"]
    assert [due_at(n) for n in pending] == [WINTER_REMINDER]


def test_a_cancelled_date_cancels_its_reminder(frozen: FrozenApi) -> None:
    api = frozen.api
    sub = subscribe(api, CHECKUP_REMINDER, {"days_before": 14, "local_time": "09:00"})
    post_events(api, sub.tenant, [due(sub.ref, "2026-04-05", id="chk-1")])
    answer = post_events(
        api, sub.tenant, [due(sub.ref, "2026-04-05", id="chk-1", status="cancelled")]
    )
    assert (answer["corrected"], answer["notifications"]) == (1, 0)
    [reminder] = notifications(api, sub.tenant, sub.id)
    assert (reminder["status"], reminder["reason"]) == ("cancelled", "the event was cancelled")


def test_a_trigger_created_after_the_date_was_pushed_is_reminded(frozen: FrozenApi) -> None:
    api = frozen.api
    tenant = api.tenant()
    publish(api, tenant, CHECKUP_REMINDER)
    customer = api.customer(tenant, timezone="Europe/Berlin")
    early = post_events(api, tenant, [due(customer["external_id"], "2026-04-05")])
    assert (early["accepted"], early["notifications"]) == (1, 0)

    token = api.token(tenant, customer["id"])
    body = {"rule": CHECKUP_REMINDER["key"], "params": {"days_before": 14}}
    api.ok("POST", "/v1/me/triggers", token, 201, json=body)
    [reminder] = notifications(api, tenant, customer["id"])
    assert reminder["status"] == "pending"
    assert due_at(reminder) == WINTER_REMINDER  # at the rule's default local time, 09:00


def test_changing_days_before_moves_the_reminder(frozen: FrozenApi) -> None:
    api = frozen.api
    sub = subscribe(api, CHECKUP_REMINDER, {"days_before": 14, "local_time": "09:00"})
    post_events(api, sub.tenant, [due(sub.ref, "2026-04-05")])
    api.ok(
        "PATCH",
        f"/v1/me/triggers/{sub.trigger['id']}",
        sub.token,
        json={"params": {"days_before": 3, "local_time": "18:30"}},
    )
    old, new = notifications(api, sub.tenant, sub.id)
    assert (old["status"], old["reason"]) == ("cancelled", "the reminder time changed")
    assert (new["status"], due_at(new)) == ("pending", datetime(2026, 4, 2, 16, 30, tzinfo=UTC))
