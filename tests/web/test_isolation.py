"""Isolation of the page routes: another customer's session, of the same tenant or another,
gets nothing of the first customer's, whatever id it puts in a page's path; a link signed
for one tenant's customer opens nothing as another tenant's."""

from __future__ import annotations

import re
import time

from fastapi.routing import APIRoute

from api.routers import pages_access, pages_alerts, pages_me, pages_settings
from engine.delivery.links import manage_token, manage_url
from engine.platform.config import Settings
from engine.processes.runtime import Runtime
from tests.fixtures.api import Api
from tests.fixtures.delivery import send
from tests.fixtures.rules import DAILY_ENERGY, publish
from tests.web.pages import csrf, history, manage_link, path_of, sign_in

PAGE_ROUTERS = (pages_access.router, pages_me.router, pages_alerts.router, pages_settings.router)
PARAM = re.compile(r"\{([a-z_]+)\}")


def _page_routes() -> list[tuple[str, str]]:
    """Every page route with an id in its path (a new one is covered the moment it exists)."""
    routes = []
    for router in PAGE_ROUTERS:
        for route in router.routes:
            if isinstance(route, APIRoute) and PARAM.search(route.path):
                routes += [(method, route.path) for method in route.methods]
    return sorted(routes)


def test_no_page_route_shows_or_changes_another_customers_things(
    api: Api, runtime: Runtime
) -> None:
    tenant = api.tenant()
    publish(api, tenant, DAILY_ENERGY)
    ada = api.customer(tenant, name="Ada Secret", locale="en", email="ada@example.com")
    ada_token = api.token(tenant, ada["id"])
    trigger = api.ok("POST", "/v1/me/triggers", ada_token, 201, json={"rule": "energy.daily_above"})
    sent = send(runtime, trigger["id"], channel="email")
    ids = {"trigger_id": trigger["id"], "notification_id": sent.id}
    before = (api.ok("GET", "/v1/me/triggers", ada_token), len(history(api, ada_token)))

    other_tenant = api.tenant("Other Energy")
    intruders = [
        (tenant, api.customer(tenant, name="Bob", locale="en")),
        (other_tenant, api.customer(other_tenant, name="Eve", locale="en")),
    ]
    routes = _page_routes()
    assert {p for _, p in routes} >= {"/me/alerts/{trigger_id}", "/me/history/{notification_id}"}
    for owner, intruder in intruders:
        api.client.cookies.clear()
        overview = sign_in(api.client, manage_link(api, owner, intruder["id"]))
        token = csrf(overview.text)
        for method, template in routes:
            path = PARAM.sub(lambda m: ids[m.group(1)], template)
            data = {"csrf_token": token, "p_limit_kwh": "1", "action": "save"}
            answer = api.client.request(method, path, data=data if method == "POST" else None)
            assert answer.status_code == 404, (method, path, answer.status_code)
            shown = re.sub(r'next=[^"]*', "", answer.text)  # the language links echo the path
            assert "Ada Secret" not in shown and trigger["id"] not in shown
    assert (api.ok("GET", "/v1/me/triggers", ada_token), len(history(api, ada_token))) == before


def test_a_link_signed_for_another_tenant_opens_nothing(api: Api, settings: Settings) -> None:
    tenant, other = api.tenant(), api.tenant("Other Energy")
    ada = api.customer(tenant, name="Ada Secret", locale="en")
    forged = manage_token(settings, other.id, ada["id"], time.time())
    page = api.client.get(path_of(manage_url(settings, forged)))
    assert page.status_code == 403 and "Ada Secret" not in page.text
    assert "Send me a new link" not in page.text  # names nobody it could send to
