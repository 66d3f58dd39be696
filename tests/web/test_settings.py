"""Channels and consent, channel order, quiet hours, caps, urgent override and pause on the
page: the same services as /v1/me, every change recorded as made on the web."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date

from engine.delivery.planner import Defer, Recipient, plan
from engine.models import Customer, Notification, NotificationStatus
from engine.preferences.service import public_preferences
from tests.fixtures.api import Api, TenantHandle
from tests.fixtures.rules import DAILY_ENERGY, publish
from tests.web.pages import csrf, history, manage_link, sign_in


def _signed_in(api: Api, **fields: Any) -> tuple[TenantHandle, dict[str, Any], dict[str, str]]:
    tenant = api.tenant()
    publish(api, tenant, DAILY_ENERGY)
    body = {
        "locale": "en",
        "timezone": "Europe/Berlin",
        "email": "ada.lovelace@example.com",
        "phone": "+4915112345678",
        "consents": [{"channel": "email"}, {"channel": "sms"}],
        **fields,
    }
    customer = api.customer(tenant, **body)
    sign_in(api.client, manage_link(api, tenant, customer["id"]))
    return tenant, customer, api.token(tenant, customer["id"])


def _grid(api: Api, token: dict[str, str]) -> dict[tuple[str, str], bool]:
    cells = api.ok("GET", "/v1/me/consents/grid", token)
    return {(c["channel"], c["topic"]): c["granted"] for c in cells}


def test_consent_grid_shows_provenance_and_masked_contacts(api: Api) -> None:
    tenant, customer, token = _signed_in(api)
    page = api.client.get("/me/channels")
    assert page.status_code == 200
    # The topic by the title of its rule, as the customer knows it, not by its key.
    topic = "Daily electricity use above your limit"
    assert f'<span class="visually-hidden">SMS about {topic}</span>' in page.text
    assert f'<th scope="row">{topic}</th>' in page.text
    today = format_date(datetime.now(ZoneInfo("Europe/Berlin")).date(), "long", locale="en")
    assert f"granted {today} by Acme Energy" in page.text
    assert "by Acme Energy" in page.text
    assert "a•••@example.com" in page.text and "+49 ••• 5678" in page.text
    assert "ada.lovelace@example.com" not in page.text and "+4915112345678" not in page.text


def test_unchecking_sms_revokes_it_from_the_page(api: Api) -> None:
    tenant, customer, token = _signed_in(api)
    page = api.client.get("/me/channels")
    keep = {"c_email_all": "on", "c_email_energy": "on"}
    saved = api.client.post("/me/channels", data={"csrf_token": csrf(page.text), **keep})
    assert "Your consent is saved." in saved.text
    grid = _grid(api, token)
    assert grid["sms", "*"] is False and grid["sms", "energy"] is False
    assert grid["email", "*"] and grid["email", "energy"]
    entry = history(api, token)[0]
    assert (entry["kind"], entry["channel"], entry["data"]["source"]) == ("consent", "sms", "web")
    assert "revoked" in saved.text and "on this page" in saved.text


def test_channel_order_must_name_each_channel_once(api: Api) -> None:
    tenant, customer, token = _signed_in(api)
    page = api.client.get("/me/channels")
    bad = api.client.post(
        "/me/channels/order",
        data={"csrf_token": csrf(page.text), "order_1": "sms", "order_2": "sms", "order_3": ""},
    )
    assert bad.status_code == 400 and '<a href="#order_1">' in bad.text
    api.client.post(
        "/me/channels/order",
        data={"csrf_token": csrf(page.text), "order_1": "sms", "order_2": "email", "order_3": ""},
    )
    assert api.ok("GET", "/v1/me/preferences", token)["channel_order"] == ["sms", "email"]


def test_quiet_hours_caps_and_urgent_override(api: Api) -> None:
    tenant, customer, token = _signed_in(api)
    page = api.client.get("/me/settings")
    assert 'id="q_voice_on" name="q_voice_on" type="checkbox" value="on" checked' in page.text
    form = {
        "csrf_token": csrf(page.text),
        "q_sms_on": "on",
        "q_sms_start": "22:00",
        "q_sms_end": "07:00",
        "q_sms_days": ["0", "1", "2", "3", "4"],
        "q_voice_on": "on",
        "q_voice_start": "21:00",
        "q_voice_end": "08:00",
        "q_voice_days": [str(d) for d in range(7)],
        "cap_sms": "3",
        "cap_sms_per": "day",
        "urgent_override": "on",
    }
    saved = api.client.post("/me/settings", data=form)
    assert "Your settings are saved." in saved.text
    prefs = api.ok("GET", "/v1/me/preferences", token)
    assert prefs["quiet_hours"]["sms"] == [
        {"start": "22:00", "end": "07:00", "days": [0, 1, 2, 3, 4]}
    ]
    assert prefs["quiet_hours_origin"]["voice"] == "default"  # untouched: still the default
    assert prefs["frequency_caps"] == {"sms": {"max": 3, "per": "day"}}
    assert prefs["urgent_override"] is True
    entry = history(api, token)[0]
    assert entry["kind"] == "preference" and entry["data"]["source"] == "web"

    bad = api.client.post("/me/settings", data={**form, "q_sms_start": "25:00", "cap_sms": "x"})
    assert bad.status_code == 400
    assert '<a href="#q_sms_start">' in bad.text and '<a href="#cap_sms">' in bad.text
    assert 'value="25:00"' in bad.text  # what was typed is shown again


def test_pause_until_a_date_holds_messages(api: Api) -> None:
    tenant, customer, token = _signed_in(api)
    page = api.client.get("/me/settings")
    berlin = ZoneInfo("Europe/Berlin")
    day = datetime.now(berlin).date() + timedelta(days=3)
    saved = api.client.post(
        "/me/settings/pause", data={"csrf_token": csrf(page.text), "pause_until": day.isoformat()}
    )
    assert "Your messages are paused." in saved.text
    prefs = api.ok("GET", "/v1/me/preferences", token)
    until = datetime.fromisoformat(prefs["paused_until"])
    assert until == datetime.combine(day + timedelta(days=1), datetime.min.time(), berlin)
    assert history(api, token)[0]["data"]["source"] == "web"

    decided = _plan_now(customer, prefs)
    assert isinstance(decided, Defer) and decided.until == until
    assert decided.reason.startswith("paused by the customer until")

    resumed = api.client.post("/me/settings/resume", data={"csrf_token": csrf(saved.text)})
    assert "Your messages are on again." in resumed.text
    assert api.ok("GET", "/v1/me/preferences", token)["paused_until"] is None


def test_pause_date_in_the_past_is_refused(api: Api) -> None:
    _signed_in(api)
    page = api.client.get("/me/settings")
    bad = api.client.post(
        "/me/settings/pause", data={"csrf_token": csrf(page.text), "pause_until": "2020-01-01"}
    )
    assert bad.status_code == 400 and '<a href="#pause_until">' in bad.text


def _plan_now(customer: dict[str, Any], prefs: dict[str, Any]) -> object:
    """What the planner decides now for an email to this customer with these preferences."""
    now = datetime.now(UTC)
    row = Customer(
        id=customer["id"],
        tenant_id="t",
        locale="en",
        timezone="Europe/Berlin",
        created_at=now,
        updated_at=now,
    )
    notification = Notification(
        id="ntf_x",
        tenant_id="t",
        customer_id=customer["id"],
        trigger_id="trg_x",
        rule_key="energy.daily_above",
        rule_version=1,
        topic="energy",
        urgency="normal",
        occurrence="o",
        transition="fire",
        status=NotificationStatus.pending,
        due_at=now,
        why={},
        channel_order=["email"],
        created_at=now,
        updated_at=now,
    )
    preferences = public_preferences(None).model_copy(
        update={"paused_until": datetime.fromisoformat(prefs["paused_until"])}
    )
    recipient = Recipient(row, {"email": "ada@example.com"}, [], preferences)
    return plan(notification, recipient, now, lambda channel, since: 0)


def test_saving_the_page_keeps_quiet_periods_it_does_not_show(api: Api) -> None:
    tenant, customer, token = _signed_in(api)
    periods = [
        {"start": "22:00", "end": "07:00", "days": [0, 1, 2, 3, 4]},
        {"start": "12:00", "end": "14:00", "days": [5, 6]},
    ]
    api.ok("PATCH", "/v1/me/preferences", token, json={"quiet_hours": {"sms": periods}})
    page = api.client.get("/me/settings")
    form = {
        "csrf_token": csrf(page.text),
        "q_sms_on": "on",
        "q_sms_start": "22:00",
        "q_sms_end": "07:00",
        "q_sms_days": ["0", "1", "2", "3", "4"],
        "q_voice_on": "on",
        "q_voice_start": "21:00",
        "q_voice_end": "08:00",
        "q_voice_days": [str(d) for d in range(7)],
        "urgent_override": "on",
    }
    api.client.post("/me/settings", data=form)
    prefs = api.ok("GET", "/v1/me/preferences", token)
    assert prefs["quiet_hours"]["sms"] == periods and prefs["urgent_override"] is True
    api.client.post("/me/settings", data={**form, "q_sms_start": "23:00"})
    changed = api.ok("GET", "/v1/me/preferences", token)["quiet_hours"]["sms"]
    assert changed == [{**periods[0], "start": "23:00"}, periods[1]]


def test_details_name_language_and_time_zone(api: Api) -> None:
    tenant, customer, token = _signed_in(api, name="Ada")
    page = api.client.get("/me/data")
    bad = api.client.post(
        "/me/data/profile",
        data={
            "csrf_token": csrf(page.text),
            "name": "Ada",
            "language": "en",
            "timezone": "Mars/Base",
        },
    )
    assert bad.status_code == 400 and '<a href="#timezone">' in bad.text
    saved = api.client.post(
        "/me/data/profile",
        data={
            "csrf_token": csrf(page.text),
            "name": "Ada King",
            "language": "de",
            "timezone": "Europe/Vienna",
        },
    )
    assert "Ihre Angaben sind gespeichert." in saved.text and '<html lang="de">' in saved.text
    me = api.ok("GET", "/v1/me", token)
    assert (me["name"], me["locale"], me["timezone"]) == ("Ada King", "de", "Europe/Vienna")
    entry = history(api, token)[0]
    assert entry["kind"] == "profile" and entry["data"]["source"] == "web"


def test_the_history_speaks_the_pages_language(api: Api) -> None:
    tenant, customer, token = _signed_in(api, locale="de-AT")
    page = api.client.get("/me/channels")
    api.client.post("/me/channels", data={"csrf_token": csrf(page.text), "c_email_all": "on"})
    shown = api.client.get("/me/history").text
    assert "Auf dieser Seite angemeldet" in shown
    assert "SMS nicht mehr erlaubt für Alle Themen" in shown
    assert "E-Mail erlaubt für" in shown  # granted by the business at sign-up
    assert "von Ihnen auf dieser Seite" in shown
