"""Getting into the customer's page: signed links, sessions, sign-in links, CSRF."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.deps import portal_views
from api.web.session import CSRF_COOKIE, SESSION_COOKIE
from engine.delivery.links import manage_token, manage_url
from engine.errors import Busy
from engine.platform.config import Settings
from engine.processes.runtime import Runtime
from tests.conftest import make_settings
from tests.fixtures.api import Api
from tests.fixtures.smtp_server import SmtpServer
from tests.web.pages import csrf, history, manage_link, path_of, sign_in


def _customer(api: Api, **fields: object) -> tuple[object, dict[str, object]]:
    tenant = api.tenant()
    body = {"email": "ada@example.com", "locale": "en", "consents": [{"channel": "email"}]}
    customer = api.customer(tenant, **{**body, **fields})
    return tenant, customer


def test_link_asks_first_then_signs_in_with_a_session_cookie(api: Api) -> None:
    tenant, customer = _customer(api)
    link = manage_link(api, tenant, str(customer["id"]))
    token = api.token(tenant, str(customer["id"]))
    before = history(api, token)

    page = api.client.get(link)
    assert page.status_code == 200
    assert (
        "Manage your alerts" in page.text and '<form method="post" action="/me/link">' in page.text
    )
    assert page.headers["content-security-policy"].startswith("default-src 'none'")
    assert "script" not in page.headers["content-security-policy"]
    assert history(api, token) == before  # a GET changes nothing
    assert SESSION_COOKIE not in api.client.cookies
    csrf_before = api.client.cookies[CSRF_COOKIE]

    answer = sign_in(api.client, link)
    assert api.client.cookies[CSRF_COOKIE] != csrf_before  # a new CSRF secret per session
    assert answer.status_code == 200 and str(answer.url).endswith("/me")
    cookie = answer.history[0].headers["set-cookie"]
    assert f"{SESSION_COOKIE}=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    entry = history(api, token)[0]
    assert entry["summary"] == "signed in on the web page" and entry["data"]["source"] == "web"


def test_logout_ends_the_session(api: Api) -> None:
    tenant, customer = _customer(api)
    overview = sign_in(api.client, manage_link(api, tenant, str(customer["id"])))
    answer = api.client.post("/me/logout", data={"csrf_token": csrf(overview.text)})
    assert str(answer.url).endswith("/me/login?done=logout")
    assert "You have signed out." in answer.text
    assert SESSION_COOKIE not in api.client.cookies
    assert str(api.client.get("/me").url).endswith("/me/login")


def test_forms_without_the_csrf_token_are_refused(api: Api) -> None:
    tenant, customer = _customer(api)
    link = manage_link(api, tenant, str(customer["id"]))
    page = api.client.get(link)
    token = page.text.split('name="token" value="')[1].split('"')[0]
    refused = api.client.post("/me/link", data={"token": token, "csrf_token": "forged"})
    assert refused.status_code == 403 and SESSION_COOKIE not in api.client.cookies
    other = TestClient(api.client.app)  # another browser: its own CSRF cookie
    other.get("/me/login")
    stolen = other.post("/me/link", data={"token": token, "csrf_token": csrf(page.text)})
    assert stolen.status_code == 403


def test_expired_link_offers_a_fresh_one_in_the_customers_language(
    api: Api, settings: Settings
) -> None:
    tenant, customer = _customer(api, locale="de-AT")
    old = manage_token(settings, tenant.id, str(customer["id"]), time.time() - 90_000, ttl_s=60)
    page = api.client.get(path_of(manage_url(settings, old)))
    assert page.status_code == 403 and page.headers["content-type"].startswith("text/html")
    assert '<html lang="de">' in page.text and "Dieser Link ist abgelaufen" in page.text
    assert "Neuen Link senden" in page.text


def test_forged_link_is_refused_with_a_page(api: Api) -> None:
    tenant, customer = _customer(api)
    link = manage_link(api, tenant, str(customer["id"]))
    forged = link[:-3] + ("AAA" if not link.endswith("AAA") else "BBB")
    page = api.client.get(forged)
    assert page.status_code == 403 and "This link is not valid" in page.text
    assert "Send me a new link" not in page.text


def test_a_session_expires_when_idle(api: Api, settings: Settings) -> None:
    from api.web.session import IDLE_S, WebSession, encode

    tenant, customer = _customer(api)
    then = int(time.time()) - IDLE_S - 5
    stale = encode(settings, WebSession(tenant.id, str(customer["id"]), then, then))
    api.client.cookies.set(SESSION_COOKIE, stale)
    assert str(api.client.get("/me").url).endswith("/me/login")


def test_login_answers_the_same_for_known_and_unknown_addresses(api: Api) -> None:
    _customer(api)
    form = api.client.get("/me/login")
    known = api.client.post(
        "/me/login", data={"address": "ada@example.com", "csrf_token": csrf(form.text)}
    )
    unknown = api.client.post(
        "/me/login", data={"address": "nobody@example.com", "csrf_token": csrf(form.text)}
    )
    assert known.status_code == unknown.status_code == 200
    assert known.text.replace("ada@", "X@") == unknown.text.replace("nobody@", "X@")
    assert CSRF_COOKIE in api.client.cookies


def test_login_requests_are_rate_limited_per_address(api: Api) -> None:
    form = api.client.get("/me/login")
    answers = [
        api.client.post(
            "/me/login", data={"address": "eve@example.com", "csrf_token": csrf(form.text)}
        )
        for _ in range(6)
    ]
    assert [a.status_code for a in answers] == [200] * 5 + [429]
    refused = answers[-1]
    assert refused.headers["content-type"].startswith("text/html")
    assert 0 < int(refused.headers["retry-after"]) <= 3600  # when, as the API would say it


def _link_in(received: SmtpServer) -> str:
    message = received.handler.received[-1].parsed()
    body = message.get_body(("plain",))
    assert body is not None
    found = re.search(r"http://testserver(/me/link\?token=\S+)", body.get_content())
    assert found, body.get_content()
    return found.group(1)


def test_a_sign_in_link_arrives_by_email_and_works_once(
    mail_api: Api, smtp_server: SmtpServer
) -> None:
    api = mail_api
    tenant, customer = _customer(api)
    form = api.client.get("/me/login")
    api.client.post("/me/login", data={"address": "ADA@example.com", "csrf_token": csrf(form.text)})
    assert [r.rcpt_tos for r in smtp_server.handler.received] == [("ada@example.com",)]
    link = _link_in(smtp_server)

    assert str(sign_in(api.client, link).url).endswith("/me")
    api.client.cookies.clear()
    used = api.client.get(link)
    assert used.status_code == 403 and "This link has already been used" in used.text


def test_no_sign_in_link_without_consent_on_that_channel(
    mail_api: Api, smtp_server: SmtpServer
) -> None:
    _customer(mail_api, consents=[{"channel": "sms"}], phone="+4915112345678")
    form = mail_api.client.get("/me/login")
    for address in ("ada@example.com", "+49 151 12345678"):
        answer = mail_api.client.post(
            "/me/login", data={"address": address, "csrf_token": csrf(form.text)}
        )
        assert answer.status_code == 200
    assert smtp_server.handler.received == []  # SMS went to the outbox, email nowhere


def test_a_foreign_tenants_link_opens_only_its_own_customer(api: Api) -> None:
    tenant_a, ada = _customer(api, name="Ada A")
    tenant_b = api.tenant("Other Energy")
    bob = api.customer(tenant_b, name="Bob B", locale="en")
    overview = sign_in(api.client, manage_link(api, tenant_b, str(bob["id"])))
    assert "Hello Bob B" in overview.text and "Ada A" not in overview.text
    api.problem("POST", f"/v1/customers/{ada['id']}/manage-link", tenant_b.feed, 404)


def test_a_session_ends_after_its_absolute_lifetime(api: Api, settings: Settings) -> None:
    from api.web.session import ABSOLUTE_S, WebSession, encode

    tenant, customer = _customer(api)
    now = int(time.time())
    old = encode(settings, WebSession(tenant.id, str(customer["id"]), now - ABSOLUTE_S - 5, now))
    api.client.cookies.set(SESSION_COOKIE, old)
    assert str(api.client.get("/me").url).endswith("/me/login")


def test_cookies_are_secure_under_https(db_url: str, tmp_path: Path) -> None:
    settings = make_settings(db_url, tmp_path, public_base_url="https://nudge.example")
    runtime = Runtime.from_settings(settings)
    with TestClient(create_app(runtime)) as client:
        page = client.get("/me/login")
    runtime.db.dispose()
    assert "Secure" in page.headers["set-cookie"] and "HttpOnly" in page.headers["set-cookie"]


def test_an_unexpected_error_on_a_page_is_a_page(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    tenant, customer = _customer(api)
    sign_in(api.client, manage_link(api, tenant, str(customer["id"])))

    def broken(*_: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setitem(api.client.app.dependency_overrides, portal_views, lambda: broken())
    client = TestClient(api.client.app, raise_server_exceptions=False, cookies=api.client.cookies)
    page = client.get("/me")
    assert page.status_code == 500 and page.headers["content-type"].startswith("text/html")
    assert "Something went wrong" in page.text and "boom" not in page.text


def test_a_busy_page_says_when_to_try_again(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    tenant, customer = _customer(api)
    sign_in(api.client, manage_link(api, tenant, str(customer["id"])))

    def busy(*_: object) -> None:
        raise Busy("the database kept refusing", retry_after=7)

    monkeypatch.setitem(api.client.app.dependency_overrides, portal_views, lambda: busy())
    page = api.client.get("/me")
    assert page.status_code == 503 and page.headers["content-type"].startswith("text/html")
    assert page.headers["retry-after"] == "7"


def test_a_sign_in_link_by_sms_in_german(api: Api, settings: Settings) -> None:
    _customer(api, locale="de-DE", phone="+4915112345678", consents=[{"channel": "sms"}])
    form = api.client.get("/me/login")
    answer = api.client.post(
        "/me/login", data={"address": "+49 151 12345678", "csrf_token": csrf(form.text)}
    )
    assert answer.status_code == 200
    (written,) = settings.outbox_dir.glob("*.sms.json")  # no Twilio set up: the outbox
    record = json.loads(written.read_text())
    assert record["to"] == "+4915112345678" and record["body"].startswith("Acme Energy: Ihr Link")
    link = re.search(r"http://testserver(/me/link\?token=\S+)", record["body"])
    assert link and "Weiter" in api.client.get(link.group(1)).text


def test_sign_in_requests_are_rate_limited_per_client(api: Api) -> None:
    form = api.client.get("/me/login")
    codes = [
        api.client.post(
            "/me/login", data={"address": f"x{i}@example.com", "csrf_token": csrf(form.text)}
        ).status_code
        for i in range(21)
    ]
    assert codes == [200] * 20 + [429]


def test_a_link_opened_while_signed_in_as_that_customer_goes_straight_in(api: Api) -> None:
    tenant, customer = _customer(api)
    link = manage_link(api, tenant, str(customer["id"]))
    sign_in(api.client, link)
    again = api.client.get(link)
    assert str(again.url).endswith("/me") and "<h1>Your alerts</h1>" in again.text


def test_an_expired_link_sends_a_fresh_one_on_request(
    mail_api: Api, smtp_server: SmtpServer, settings: Settings
) -> None:
    api = mail_api
    tenant, customer = _customer(api)
    old = manage_token(settings, tenant.id, str(customer["id"]), time.time() - 90_000, ttl_s=60)
    page = api.client.get(path_of(manage_url(settings, old)))
    answer = api.client.post("/me/link/fresh", data={"token": old, "csrf_token": csrf(page.text)})
    assert answer.status_code == 200 and "a new link is on its way" in answer.text
    assert str(sign_in(api.client, _link_in(smtp_server)).url).endswith("/me")


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", "/v1/unsubscribe?token=x", {"GET", "POST"}),
        ("DELETE", "/v1/ack?token=x", {"GET", "POST"}),
        ("PUT", "/me", {"GET"}),
        ("DELETE", "/me/login", {"GET", "POST"}),
    ],
)
def test_a_wrong_method_on_a_page_or_a_link_is_a_page_naming_the_methods_it_takes(
    api: Api, method: str, path: str, allowed: set[str]
) -> None:
    answer = api.client.request(method, path)
    assert answer.status_code == 405
    assert answer.headers["content-type"].startswith("text/html")
    assert "<h1" in answer.text
    assert set(answer.headers["allow"].replace(" ", "").split(",")) == allowed
