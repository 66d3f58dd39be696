"""Customers in the console: found by external id, with their triggers and their
conversation history, each message linked to its delivery."""

from __future__ import annotations

from html import unescape

from engine.models import HistoryKind
from engine.processes.runtime import Runtime
from tests.fixtures.api import Api
from tests.fixtures.delivery import send
from tests.fixtures.rules import DAILY_ENERGY, publish
from tests.web.console.console import console_sign_in


def test_a_customer_by_external_id_with_triggers_and_history(api: Api, runtime: Runtime) -> None:
    tenant = api.tenant()
    publish(api, tenant, DAILY_ENERGY)
    customer = api.customer(tenant, external_id="K-1042", name="Anna Schmidt", locale="de")
    token = api.token(tenant, customer["id"])
    body = {"rule": "energy.daily_above", "params": {"limit_kwh": 17}}
    trigger = api.ok("POST", "/v1/me/triggers", token, 201, json=body)
    sent = send(runtime, trigger["id"], channel="sms")
    with runtime.services() as services:  # as the dispatcher records a message it sent
        services.history.record(
            tenant.id,
            customer["id"],
            HistoryKind.message,
            "sms sent",
            {"text": "Ihr Verbrauch liegt über 17 kWh."},
            channel="sms",
            notification_id=sent.id,
        )
    console_sign_in(api.client, tenant.ops_key)

    found = api.client.get("/console/customers?external_id=K-1042")
    assert str(found.url).endswith("/console/customers/K-1042")
    page = unescape(found.text)
    assert "<h1>Anna Schmidt</h1>" in page
    assert "energy.daily_above" in page and "limit_kwh = 17" in page
    assert f'href="/console/deliveries/{sent.id}"' in page
    assert "Ihr Verbrauch liegt über 17 kWh." in page

    unknown = api.client.get("/console/customers?external_id=nobody")
    assert unknown.status_code == 404 and 'href="#external_id"' in unknown.text
    assert api.client.get("/console/customers/nobody").status_code == 404


def test_the_console_speaks_german(api: Api) -> None:
    tenant = api.tenant()
    console_sign_in(api.client, tenant.ops_key)
    api.client.get("/console/lang?to=de&next=/console/customers")
    page = api.client.get("/console/customers").text
    assert '<html lang="de">' in page and "Kundinnen und Kunden" in page
    for path in ("/console/rules", "/console/templates", "/console/deliveries"):
        assert '<html lang="de">' in api.client.get(path).text
