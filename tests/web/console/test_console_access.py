"""Signing in to the console with an ops key: the session cookie, its expiry, logout, CSRF,
and keys that may not sign in."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from api.web import console_session
from api.web.console_session import CONSOLE_COOKIE, IDLE_S, ConsoleSession
from engine.platform.config import Settings
from engine.processes.runtime import Runtime
from tests.fixtures.api import Api
from tests.web.console.console import console_sign_in, post_form
from tests.web.pages import csrf


def test_an_ops_key_signs_in_and_out(api: Api) -> None:
    tenant = api.tenant("Acme Energy")
    assert _sent_to_login(api)
    rules = console_sign_in(api.client, tenant.ops_key)
    assert rules.status_code == 200 and "<h1>Rules</h1>" in rules.text, rules.text
    assert "Acme Energy" in rules.text
    cookie = rules.history[0].headers["set-cookie"]
    assert CONSOLE_COOKIE in cookie and "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
    assert tenant.ops_key not in cookie  # the key is exchanged, never stored in the browser
    out = post_form(api.client, "/console/rules", "/console/logout")
    assert out.status_code == 200 and "You have signed out." in out.text
    assert _sent_to_login(api)


def test_feed_keys_wrong_keys_and_customers_do_not_get_in(api: Api) -> None:
    tenant = api.tenant()
    for key in (tenant.feed_key, tenant.ops_key + "x", "", "nk_nothing.secret"):
        answer = console_sign_in(api.client, key)
        assert answer.status_code == 400, (key, answer.status_code)
        assert "Enter a valid ops key" in answer.text
        assert CONSOLE_COOKIE not in answer.headers.get("set-cookie", "")


def test_a_form_without_the_csrf_token_changes_nothing(api: Api) -> None:
    tenant = api.tenant()
    console_sign_in(api.client, tenant.ops_key)
    answer = api.client.post("/console/logout", data={"csrf_token": "forged"})
    assert answer.status_code == 403
    assert api.client.get("/console/rules").status_code == 200  # still signed in
    page = api.client.get("/console/login")
    bare = api.client.post("/console/login", data={"key": tenant.ops_key})
    assert bare.status_code == 403 and csrf(page.text)


def test_sessions_expire_when_idle_and_when_the_key_is_revoked(
    api: Api, settings: Settings, runtime: Runtime
) -> None:
    tenant = api.tenant()
    console_sign_in(api.client, tenant.ops_key)
    now = int(time.time())
    then = now - IDLE_S - 5
    stale = ConsoleSession(tenant.id, _key_id(api, tenant.ops_key), then, then)
    api.client.cookies.set(CONSOLE_COOKIE, console_session.encode(settings, stale))
    assert _sent_to_login(api)
    console_sign_in(api.client, tenant.ops_key)
    assert api.client.get("/console/rules").status_code == 200
    with runtime.services() as services:
        row = services.tenants.find_key(_key_id(api, tenant.ops_key))
        assert row is not None
        row.revoked_at = datetime.now(UTC)
        services.session.add(row)
    assert _sent_to_login(api)


def _key_id(api: Api, key: str) -> str:
    from engine.platform.security import split_key

    return split_key(key)[0]


def _sent_to_login(api: Api) -> bool:
    answer = api.client.get("/console/rules", follow_redirects=False)
    return answer.status_code == 303 and answer.headers["location"] == "/console/login"


def test_guessing_keys_is_limited_like_the_api(api: Api, runtime: Runtime) -> None:
    tenant = api.tenant()
    limit = runtime.settings.auth_failure_limit
    for _ in range(limit):
        assert console_sign_in(api.client, tenant.ops_key + "x").status_code == 400
    blocked = console_sign_in(api.client, tenant.ops_key)  # even the right key, for a while
    assert blocked.status_code == 429 and "Too many failed attempts" in blocked.text
    assert CONSOLE_COOKIE not in blocked.headers.get("set-cookie", "")
