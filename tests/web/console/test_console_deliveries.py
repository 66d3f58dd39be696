"""Deliveries in the console: filters, a notification followed attempt by attempt, counts of
the last day, and cancelling a pending one with who did it in the history."""

from __future__ import annotations

import re
from html import unescape

from engine.models import NotificationStatus
from engine.processes.runtime import Runtime
from tests.fixtures.api import Api
from tests.fixtures.delivery import attempt, send
from tests.fixtures.rules import DAILY_ENERGY, publish
from tests.web.console.console import console_sign_in, post_form


def _setup(api: Api) -> tuple[object, dict[str, str], str]:
    tenant = api.tenant()
    publish(api, tenant, DAILY_ENERGY)
    customer = api.customer(tenant, external_id="anna", locale="de")
    token = api.token(tenant, customer["id"])
    body = {"rule": "energy.daily_above", "params": {"limit_kwh": 10}}
    trigger = api.ok("POST", "/v1/me/triggers", token, 201, json=body)
    return tenant, token, trigger["id"]


def test_filters_and_the_last_days_counts(api: Api, runtime: Runtime) -> None:
    tenant, _, trigger_id = _setup(api)
    sent = send(runtime, trigger_id, channel="sms")
    pending = send(runtime, trigger_id, channel="email", status=NotificationStatus.pending)
    console_sign_in(api.client, tenant.ops_key)  # type: ignore[attr-defined]
    page = unescape(api.client.get("/console/deliveries").text)
    assert "The last day: 2 notifications" in page
    assert "sms · sent" in page and "email · pending" in page
    assert sent.id in page and pending.id in page
    only = api.client.get("/console/deliveries?status=pending&customer=anna").text
    assert pending.id in only and sent.id not in only
    by_channel = api.client.get("/console/deliveries?channel=sms&rule=energy.daily_above").text
    assert sent.id in by_channel and pending.id not in by_channel
    nobody = api.client.get("/console/deliveries?customer=nobody")
    assert nobody.status_code == 422 and 'href="#customer"' in nobody.text
    bad_day = api.client.get("/console/deliveries?since=yesterday")
    assert bad_day.status_code == 422 and 'href="#since"' in bad_day.text


def test_a_notification_attempt_by_attempt_and_cancelling_a_pending_one(
    api: Api, runtime: Runtime
) -> None:
    tenant, token, trigger_id = _setup(api)
    sent = send(runtime, trigger_id, channel="sms")
    second = attempt(runtime, sent.id, "voice")
    console_sign_in(api.client, tenant.ops_key)  # type: ignore[attr-defined]
    page = unescape(api.client.get(f"/console/deliveries/{sent.id}").text)
    assert sent.provider_id in page and second in page
    assert "Cancel this notification" not in page  # it has gone out

    pending = send(runtime, trigger_id, channel="email", status=NotificationStatus.pending)
    path = f"/console/deliveries/{pending.id}"
    done = post_form(api.client, path, path + "/cancel")
    assert "The notification is cancelled" in done.text
    assert re.search(r'<span class="tag">cancelled</span>', done.text)
    entries = api.ok("GET", "/v1/me/history?limit=50", token)["items"]
    cancelled = [e for e in entries if e.get("notification_id") == pending.id]
    assert cancelled and cancelled[0]["summary"].startswith(
        "notification cancelled: cancelled by ops key"
    )
    assert cancelled[0]["data"]["by"].startswith("ops key ")
    again = post_form(api.client, path, path + "/cancel")
    assert again.status_code == 409
