"""Alerts on the page: the form from the rule's parameters, the preview on the customer's own
readings, and create, change, pause, delete, each recorded as made on the web."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date

from tests.fixtures.api import Api, TenantHandle
from tests.fixtures.rules import (
    BILL_EVENT,
    CHECKUP_REMINDER,
    DAILY_ENERGY,
    POWER_ABOVE,
    hourly,
    post_events,
    post_readings,
    publish,
)
from tests.web.pages import csrf, history, manage_link, sign_in

BERLIN = ZoneInfo("Europe/Berlin")
HIGH_DAYS = (2, 5, 9)  # days ago with 24 kWh; the others have 7.2 kWh


def _berlin_midnight(days_ago: int) -> datetime:
    day = datetime.now(BERLIN).date() - timedelta(days=days_ago)
    return datetime(day.year, day.month, day.day, tzinfo=BERLIN).astimezone(UTC)


def _customer_with_readings(api: Api) -> tuple[TenantHandle, dict[str, Any]]:
    tenant = api.tenant()
    publish(api, tenant, DAILY_ENERGY)
    customer = api.customer(
        tenant, timezone="Europe/Berlin", locale="en", name="Ada", email="ada@example.com"
    )
    rows = []
    for days_ago in range(1, 13):
        per_hour = 1.0 if days_ago in HIGH_DAYS else 0.3
        first = _berlin_midnight(days_ago)
        hours = int((_berlin_midnight(days_ago - 1) - first).total_seconds() // 3600)
        rows += hourly(customer["external_id"], first, [per_hour] * hours)
    post_readings(api, tenant, rows)
    return tenant, customer


def test_preview_counts_the_days_that_would_have_notified(api: Api) -> None:
    tenant, customer = _customer_with_readings(api)
    sign_in(api.client, manage_link(api, tenant, customer["id"]))

    page = api.client.get("/me/alerts/new?rule=energy.daily_above")
    assert page.status_code == 200
    assert '<label for="p_limit_kwh">Limit (kWh)</label>' in page.text
    assert 'value="12"' in page.text and "From 0.1 to 500" in page.text
    assert "With 12\u00a0kWh you would have been notified on 3 of the last 90 days." in page.text
    assert page.text.count('class="bar bar--fired"') == 3
    assert page.text.count('class="bar"') == 12 - 3  # one bar per day with readings

    lower = api.client.post(
        "/me/alerts/new",
        data={
            "csrf_token": csrf(page.text),
            "rule": "energy.daily_above",
            "p_limit_kwh": "5",
            "action": "preview",
        },
    )
    assert "With 5\u00a0kWh you would have been notified on 12 of the last 90 days." in lower.text


def test_out_of_bounds_parameter_is_named_beside_its_field(api: Api) -> None:
    tenant, customer = _customer_with_readings(api)
    sign_in(api.client, manage_link(api, tenant, customer["id"]))
    page = api.client.get("/me/alerts/new?rule=energy.daily_above")
    answer = api.client.post(
        "/me/alerts/new",
        data={
            "csrf_token": csrf(page.text),
            "rule": "energy.daily_above",
            "p_limit_kwh": "900",
            "action": "save",
        },
    )
    assert answer.status_code == 400
    assert '<a href="#p_limit_kwh">Enter a number from 0.1 to 500</a>' in answer.text
    assert 'aria-describedby="p_limit_kwh-hint p_limit_kwh-error"' in answer.text
    token = api.token(tenant, customer["id"])
    assert api.ok("GET", "/v1/me/triggers", token) == []


def test_create_change_pause_resume_delete(api: Api) -> None:
    tenant, customer = _customer_with_readings(api)
    token = api.token(tenant, customer["id"])
    sign_in(api.client, manage_link(api, tenant, customer["id"]))
    page = api.client.get("/me/alerts/new?rule=energy.daily_above")
    saved = api.client.post(
        "/me/alerts/new",
        data={
            "csrf_token": csrf(page.text),
            "rule": "energy.daily_above",
            "p_limit_kwh": "12,5",
            "action": "save",
        },
    )
    assert "Your alert is set up." in saved.text
    (trigger,) = api.ok("GET", "/v1/me/triggers", token)
    assert trigger["params"] == {"limit_kwh": 12.5} and trigger["enabled"]
    entry = history(api, token)[0]
    assert entry["kind"] == "trigger" and entry["data"]["source"] == "web"

    edit = api.client.get(f"/me/alerts/{trigger['id']}")
    assert 'value="12.5"' in edit.text
    api.client.post(
        f"/me/alerts/{trigger['id']}",
        data={"csrf_token": csrf(edit.text), "p_limit_kwh": "20", "action": "save"},
    )
    assert api.ok("GET", f"/v1/me/triggers/{trigger['id']}", token)["params"] == {"limit_kwh": 20}

    paused = api.client.post(
        f"/me/alerts/{trigger['id']}/pause", data={"csrf_token": csrf(edit.text)}
    )
    assert "Your alert is paused." in paused.text and "Paused" in paused.text
    assert api.ok("GET", f"/v1/me/triggers/{trigger['id']}", token)["enabled"] is False
    api.client.post(f"/me/alerts/{trigger['id']}/resume", data={"csrf_token": csrf(edit.text)})
    assert api.ok("GET", f"/v1/me/triggers/{trigger['id']}", token)["enabled"] is True

    confirm = api.client.get(f"/me/alerts/{trigger['id']}/delete")
    assert "Delete this alert?" in confirm.text
    api.client.post(f"/me/alerts/{trigger['id']}/delete", data={"csrf_token": csrf(confirm.text)})
    assert api.ok("GET", "/v1/me/triggers", token) == []
    kinds = [(e["kind"], e["data"].get("source")) for e in history(api, token)[:5]]
    assert kinds == [("trigger", "web")] * 5


def test_another_customers_alert_is_not_found(api: Api) -> None:
    tenant, customer = _customer_with_readings(api)
    other = api.customer(tenant, locale="en")
    other_token = api.token(tenant, other["id"])
    theirs = api.ok(
        "POST", "/v1/me/triggers", other_token, 201, json={"rule": "energy.daily_above"}
    )
    overview = sign_in(api.client, manage_link(api, tenant, customer["id"]))
    for path in (f"/me/alerts/{theirs['id']}", f"/me/alerts/{theirs['id']}/delete"):
        assert api.client.get(path).status_code == 404
    gone = api.client.post(
        f"/me/alerts/{theirs['id']}/delete", data={"csrf_token": csrf(overview.text)}
    )
    assert gone.status_code == 404
    assert len(api.ok("GET", "/v1/me/triggers", other_token)) == 1


def test_a_reminder_shows_its_next_date(api: Api) -> None:
    tenant = api.tenant()
    publish(api, tenant, CHECKUP_REMINDER)
    customer = api.customer(tenant, timezone="Europe/Berlin", locale="en", email="a@example.com")
    token = api.token(tenant, customer["id"])
    params = {"days_before": 14, "local_time": "09:00"}
    api.ok(
        "POST", "/v1/me/triggers", token, 201, json={"rule": "checkup.reminder", "params": params}
    )
    due = datetime.now(BERLIN).date() + timedelta(days=60)
    event = {"customer": customer["external_id"], "type": "checkup.due", "due": due.isoformat()}
    post_events(api, tenant, [event])
    sign_in(api.client, manage_link(api, tenant, customer["id"]))

    remind = due - timedelta(days=14)
    page = api.client.get("/me/alerts")
    when = format_date(remind, "long", locale="en")
    assert f"Next reminder: {when}, 9:00" in page.text
    form = api.client.get(f"/me/alerts/{api.ok('GET', '/v1/me/triggers', token)[0]['id']}")
    assert "there is nothing to try it on" in form.text  # no preview for a date-based rule


def test_a_rule_without_defaults_asks_before_it_previews(api: Api) -> None:
    tenant = api.tenant()
    publish(api, tenant, POWER_ABOVE)  # its limit has no default
    customer = api.customer(tenant, locale="en", email="a@example.com")
    sign_in(api.client, manage_link(api, tenant, customer["id"]))
    page = api.client.get("/me/alerts/new?rule=power.above")
    assert page.status_code == 200 and "There is a problem" not in page.text
    assert 'id="p_limit_kwh" name="p_limit_kwh" type="text" value=""' in page.text
    empty = api.client.post(
        "/me/alerts/new",
        data={"csrf_token": csrf(page.text), "rule": "power.above", "action": "save"},
    )
    assert empty.status_code == 400 and '<a href="#p_limit_kwh">Enter a value</a>' in empty.text


def test_an_event_rule_previews_on_the_customers_own_bills(api: Api) -> None:
    tenant = api.tenant()
    publish(api, tenant, BILL_EVENT)  # event.amount > params.limit, default 50
    customer = api.customer(tenant, locale="en", email="a@example.com")
    now = datetime.now(UTC)
    bills = [
        {
            "customer": customer["external_id"],
            "type": "bill.issued",
            "id": f"inv-{months}",
            "amount": amount,
            "currency": "EUR",
            "occurred_at": (now - timedelta(days=30 * months)).isoformat(),
        }
        for months, amount in ((1, 42.0), (2, 61.2), (3, 55.0), (4, 30.0), (14, 90.0))
    ]
    post_events(api, tenant, bills)
    sign_in(api.client, manage_link(api, tenant, customer["id"]))
    page = api.client.get("/me/alerts/new?rule=bill.issued_above")
    assert "With 50 you would have been notified for 2 of your 4 events" in page.text
    assert page.text.count('class="bar bar--fired"') == 2  # a year back: the 14th is older


def test_a_long_window_previews_the_recent_windows_it_can_replay(api: Api) -> None:
    monthly = {
        **DAILY_ENERGY,
        "key": "energy.monthly_above",
        "title": {"en": "Monthly electricity use above your limit"},
        "window": "month",
        "parameters": [{**DAILY_ENERGY["parameters"][0], "default": 200, "max": 5000}],
    }
    tenant = api.tenant()
    publish(api, tenant, monthly)
    customer = api.customer(tenant, timezone="Europe/Berlin", locale="en", email="a@example.com")
    first = _berlin_midnight(400)
    hours = int((_berlin_midnight(0) - first).total_seconds() // 3600)
    rows = hourly(customer["external_id"], first, [0.5] * hours)
    for start in range(0, len(rows), 5000):
        post_readings(api, tenant, rows[start : start + 5000])
    sign_in(api.client, manage_link(api, tenant, customer["id"]))
    page = api.client.get("/me/alerts/new?rule=energy.monthly_above")
    # about 365 kWh a month: every month above 200; three months fit the preview's replay
    assert "With 200\u00a0kWh you would have been notified on 3 of the last 3 months." in page.text
