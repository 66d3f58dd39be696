"""Isolation of the console: one tenant's session sees and changes nothing of another
tenant's, on every console route (a new route is covered the moment it exists), and without
a session every route but signing in sends to the sign-in page."""

from __future__ import annotations

import re

from fastapi.routing import APIRoute

from api.console import CONSOLE_ROUTERS
from engine.models import NotificationStatus
from engine.processes.runtime import Runtime
from tests.fixtures.api import Api
from tests.fixtures.delivery import send
from tests.fixtures.rules import DAILY_ENERGY, publish
from tests.web.console.console import console_sign_in
from tests.web.pages import csrf

PARAM = re.compile(r"\{([a-z_]+)\}")
OPEN = {"/console", "/console/login", "/console/lang"}


def _routes() -> list[tuple[str, str]]:
    routes = []
    for router in CONSOLE_ROUTERS:
        for route in router.routes:
            if isinstance(route, APIRoute):
                routes += [(method, route.path) for method in route.methods]
    return sorted(routes, key=lambda r: (r[1] == "/console/logout", r))  # logout last


def test_no_console_route_shows_or_changes_another_tenants_things(
    api: Api, runtime: Runtime
) -> None:
    owner = api.tenant("Owner Energy")
    secret = {**DAILY_ENERGY, "title": {"en": "Owner Secret Rule"}}
    publish(api, owner, secret)
    ada = api.customer(owner, name="Ada Secret", external_id="ada-ext")
    secret_parts = {"text": "Owner Secret Template"}
    variant = {"key": "energy.daily_above", "channel": "sms", "locale": "de"}
    api.ok("POST", "/v1/templates", owner.ops, 201, json={**variant, "parts": secret_parts})
    ada_token = api.token(owner, ada["id"])
    body = {"rule": "energy.daily_above", "params": {"limit_kwh": 10}}
    trigger = api.ok("POST", "/v1/me/triggers", ada_token, 201, json=body)
    pending = send(runtime, trigger["id"], channel="email", status=NotificationStatus.pending)
    before = api.ok("GET", "/v1/rules/energy.daily_above", owner.ops)

    intruder = api.tenant("Other Energy")
    ids = {"key": "energy.daily_above", "external_id": "ada-ext", "customer_id": ada["id"]}
    ids.update(channel="sms", locale="de", notification_id=pending.id)
    console_sign_in(api.client, intruder.ops_key)
    token = csrf(api.client.get("/console/rules").text)
    routes = _routes()
    assert {p for _, p in routes} >= {"/console/rules/{key}", "/console/rules/{key}/publish"}
    for method, template in routes:
        path = PARAM.sub(lambda m: ids[m.group(1)], template)
        data = {"csrf_token": token, "customer": "ada-ext", "condition": "true", "text": "x"}
        answer = api.client.request(method, path, data=data if method == "POST" else None)
        shown = re.sub(r'next=[^"]*', "", answer.text)
        assert "Owner Secret Rule" not in shown and "Ada Secret" not in shown, (method, path)
        assert "Owner Secret Template" not in shown, (method, path)
        assert pending.id not in shown.replace(path, ""), (method, path)
        # a template key names the shipped defaults too: the intruder sees those, not the owner's
        if PARAM.search(template) and not template.startswith("/console/templates"):
            assert answer.status_code == 404, (
                method,
                path,
                answer.status_code,
                answer.text[-1500:],
            )
    assert api.ok("GET", "/v1/rules/energy.daily_above", owner.ops) == before
    owned = api.ok("GET", "/v1/templates/energy.daily_above", owner.ops)["variants"]
    assert [v["parts"] for v in owned if v["source"] == "tenant"] == [secret_parts]
    statuses = api.ok("GET", "/v1/notifications?status=pending", owner.ops)["items"]
    assert [n["id"] for n in statuses] == [pending.id]


def test_without_a_session_every_route_sends_to_sign_in(api: Api) -> None:
    tenant = api.tenant()
    token = csrf(api.client.get("/console/login").text)
    for method, template in _routes():
        if template in OPEN:
            continue
        path = PARAM.sub("x", template)
        data = {"csrf_token": token} if method == "POST" else None
        answer = api.client.request(method, path, data=data, follow_redirects=False)
        assert answer.status_code == 303, (method, path, answer.status_code)
        assert answer.headers["location"] == "/console/login"
    assert tenant.id
