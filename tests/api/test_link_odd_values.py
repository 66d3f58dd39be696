"""The links in messages answer odd values with a page a person can read, not problem+json:
U+0000 in the token or the posted form, a missing, empty or overlong token. Each is a link
we never sent, so the page is the one an invalid link gets (403, a way to a fresh link), and
nothing changes. RFC 8058's one-click POST keeps working, form-encoded or multipart. An
unexpected error behind a link is a page too."""

from __future__ import annotations

import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from engine.delivery.links import Unsubscribe, ack_url, unsubscribe_url
from engine.platform.config import Settings
from engine.processes.runtime import Runtime
from tests.fixtures.api import Api
from tests.fixtures.delivery import PUBLIC_BASE_URL, notification, send, subscriber
from tests.fixtures.rules import Subscriber

ONE_CLICK = {"List-Unsubscribe": "One-Click"}
INVALID = "This link is not valid"
ODD_TOKENS = ("%00", "abc%00def", "", "a" * 2001, "%FF%FE", "%00" * 3000)


def _customer(api: Api) -> Subscriber:
    consents = [{"channel": "email"}, {"channel": "sms"}]
    return subscriber(api, email="ada@example.com", consents=consents, locale="en")


def _links(settings: Settings, runtime: Runtime, who: Subscriber) -> tuple[str, str, str]:
    """The unsubscribe path, the ack path, and the notification the ack link confirms."""
    sent = send(runtime, who.trigger["id"], channel="email", requires_ack=True)
    unsubscribe = unsubscribe_url(settings, Unsubscribe(who.tenant.id, who.id, "email", "energy"))
    ack = ack_url(settings, sent.id, time.time())
    return (
        unsubscribe.removeprefix(PUBLIC_BASE_URL),
        ack.removeprefix(PUBLIC_BASE_URL),
        sent.id,
    )


def _consents(api: Api, who: Subscriber) -> list[dict[str, Any]]:
    consents: list[dict[str, Any]] = api.ok("GET", "/v1/me/consents", who.token)
    return consents


def _invalid_link_page(response: Any) -> None:
    """What the customer sees: the invalid-link page in their browser, with a way on."""
    assert response.status_code == 403, (response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("text/html"), response.text[:300]
    assert f"<h1>{INVALID}</h1>" in response.text
    assert '<a href="/me/login">' in response.text
    assert response.headers["cache-control"] == "no-store"


def test_odd_tokens_get_the_invalid_link_page(
    api: Api, settings: Settings, runtime: Runtime
) -> None:
    who = _customer(api)
    _, _, sent_id = _links(settings, runtime, who)
    before = _consents(api, who)
    for link in ("/v1/unsubscribe", "/v1/ack"):
        for method in ("GET", "POST"):
            _invalid_link_page(api.client.request(method, link))  # no token at all
            for token in ODD_TOKENS:
                data = ONE_CLICK if method == "POST" else None
                _invalid_link_page(api.client.request(method, f"{link}?token={token}", data=data))
    assert _consents(api, who) == before
    assert notification(runtime, sent_id).acknowledged_at is None


def test_nul_beside_a_valid_token_changes_nothing(
    api: Api, settings: Settings, runtime: Runtime
) -> None:
    who = _customer(api)
    unsubscribe, ack, sent_id = _links(settings, runtime, who)
    before = _consents(api, who)
    for path in (unsubscribe, ack):
        _invalid_link_page(api.client.get(f"{path}%00"))
        _invalid_link_page(api.client.post(f"{path}%00", data=ONE_CLICK))
        _invalid_link_page(api.client.post(f"{path}&token=%00", data=ONE_CLICK))
        _invalid_link_page(api.client.post(path, data={"List-Unsubscribe": "One-\x00Click"}))
        _invalid_link_page(api.client.post(path, data={"List-\x00Unsubscribe": "One-Click"}))
        _invalid_link_page(
            api.client.post(path, files={"List-Unsubscribe": (None, "One-\x00Click")})
        )
    assert _consents(api, who) == before
    assert notification(runtime, sent_id).acknowledged_at is None


@pytest.mark.parametrize("body", ["form", "multipart"])
def test_one_click_post_still_unsubscribes(
    api: Api, settings: Settings, runtime: Runtime, body: str
) -> None:
    """RFC 8058: a mail client POSTs ``List-Unsubscribe=One-Click`` to the link, in either
    encoding the RFC allows, with no cookie."""
    who = _customer(api)
    unsubscribe, _, _ = _links(settings, runtime, who)
    api.client.cookies.clear()
    if body == "form":
        response = api.client.post(unsubscribe, data=ONE_CLICK)
    else:
        response = api.client.post(unsubscribe, files={"List-Unsubscribe": (None, "One-Click")})
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"].startswith("text/html")
    consents = {(c["channel"], c["topic"]): c["granted"] for c in _consents(api, who)}
    assert consents["email", "energy"] is False and consents["email", "*"] is True


def test_an_unexpected_error_on_a_link_is_a_page(runtime: Runtime) -> None:
    """A bug behind a link is the error page a person can read (500, HTML, logged), as on
    the customer's page, not problem+json shown raw in the browser."""
    app = create_app(runtime)

    def fails() -> None:
        raise RuntimeError("a bug")

    for path in ("/v1/unsubscribe", "/v1/ack"):
        app.add_api_route(path, fails, methods=["PUT"])
    with TestClient(app, raise_server_exceptions=False) as client:
        for path in ("/v1/unsubscribe", "/v1/ack"):
            answer = client.put(path)
            assert answer.status_code == 500, (path, answer.text)
            assert answer.headers["content-type"].startswith("text/html"), answer.text
            assert "<h1>" in answer.text
