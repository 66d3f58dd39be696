"""Signed links in messages: one-click unsubscribe (RFC 8058) and acknowledgement."""

from __future__ import annotations

import time
from typing import Any

from engine.delivery.links import Unsubscribe, ack_url, unsubscribe_url
from engine.platform.config import Settings
from engine.processes.runtime import Runtime
from tests.fixtures.api import Api
from tests.fixtures.delivery import PUBLIC_BASE_URL, notification, send, subscriber
from tests.fixtures.rules import Subscriber

ONE_CLICK = {"List-Unsubscribe": "One-Click"}
CONSENTS = [{"channel": "email"}, {"channel": "sms"}]


def _customer(api: Api, **fields: Any) -> Subscriber:
    return subscriber(api, email="ada@example.com", consents=CONSENTS, locale="en", **fields)


def _path(url: str) -> str:
    assert url.startswith(PUBLIC_BASE_URL)
    return url.removeprefix(PUBLIC_BASE_URL)


def _unsubscribe(settings: Settings, who: Subscriber, topic: str = "energy") -> str:
    target = Unsubscribe(who.tenant.id, who.id, "email", topic)
    return _path(unsubscribe_url(settings, target))


def _ack(settings: Settings, notification_id: str) -> str:
    return _path(ack_url(settings, notification_id, time.time()))


def _consents(api: Api, who: Subscriber) -> dict[tuple[str, str], dict[str, Any]]:
    return {(c["channel"], c["topic"]): c for c in api.ok("GET", "/v1/me/consents", who.token)}


def _history(api: Api, who: Subscriber) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = api.ok("GET", "/v1/me/history", who.token)["items"]
    return items


def _refused(api: Api, method: str, path: str, status: int, **kwargs: Any) -> None:
    """A link that leads nowhere answers with a page (not problem+json) offering a new one."""
    response = api.client.request(method, path, **kwargs)
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("text/html")
    assert '<a href="/me/login">' in response.text


def _tampered(path: str) -> str:
    head, _, mac = path.rpartition(".")
    return f"{head}.{'A' if mac[0] != 'A' else 'B'}{mac[1:]}"


def test_get_unsubscribe_only_asks_and_changes_nothing(api: Api, settings: Settings) -> None:
    who = _customer(api)
    before, history = _consents(api, who), _history(api, who)
    path = _unsubscribe(settings, who)

    response = api.client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-store"
    assert "Stop emails from Acme Energy about “Daily electricity use above your limit”?" in (
        response.text
    )
    assert '<form method="post" action="/v1/unsubscribe?token=' in response.text
    assert 'name="List-Unsubscribe" value="One-Click"' in response.text
    assert _consents(api, who) == before and _history(api, who) == history


def test_one_click_post_revokes_email_for_that_topic_only(api: Api, settings: Settings) -> None:
    who = _customer(api)
    path = _unsubscribe(settings, who)

    response = api.client.post(path, data=ONE_CLICK)
    assert response.status_code == 200
    assert "no more emails from Acme Energy about “Daily electricity use" in response.text
    consents = _consents(api, who)
    assert consents["email", "energy"]["granted"] is False
    assert consents["email", "energy"]["source"] == "one-click unsubscribe"
    assert consents["email", "*"]["granted"] and consents["sms", "*"]["granted"]
    [entry] = [e for e in _history(api, who) if e["data"].get("source") == "one-click unsubscribe"]
    assert entry["kind"] == "consent" and entry["channel"] == "email"

    entries = len(_history(api, who))
    assert api.client.post(path, data=ONE_CLICK).status_code == 200  # again: harmless
    assert len(_history(api, who)) == entries


def test_unsubscribe_for_all_topics_names_no_topic(api: Api, settings: Settings) -> None:
    who = _customer(api)
    page = api.client.get(_unsubscribe(settings, who, topic="*"))
    assert "Stop all emails from Acme Energy?" in page.text
    api.client.post(_unsubscribe(settings, who, topic="*"), data=ONE_CLICK)
    assert _consents(api, who)["email", "*"]["granted"] is False


def test_unsubscribe_page_speaks_the_customers_language(api: Api, settings: Settings) -> None:
    who = subscriber(api, email="ada@example.com", locale="de-AT")
    page = api.client.get(_unsubscribe(settings, who))
    assert '<html lang="de">' in page.text and "Keine E-Mails mehr von Acme Energy" in page.text


def test_ack_link_acknowledges_once(api: Api, settings: Settings, runtime: Runtime) -> None:
    who = _customer(api)
    sent = send(runtime, who.trigger["id"], channel="email", requires_ack=True)
    path = _ack(settings, sent.id)

    page = api.client.get(path)  # what a mail scanner fetching the link sees
    assert page.status_code == 200
    assert "<h1>Confirm</h1>" in page.text and "Thank you" not in page.text
    assert "Confirm to Acme Energy that you have seen this message?" in page.text
    assert f'<form method="post" action="{path}">' in page.text
    assert notification(runtime, sent.id).acknowledged_at is None

    response = api.client.post(path)
    assert response.status_code == 200
    assert "<h1>Thank you</h1>" in response.text
    assert "Thank you, Acme Energy has received your confirmation." in response.text
    row = notification(runtime, sent.id)
    assert row.acknowledged_at is not None and row.escalate_at is None
    [entry] = [e for e in _history(api, who) if e["data"].get("via") == "email link"]
    assert (entry["kind"], entry["channel"], entry["notification_id"]) == (
        "reply",
        "email",
        sent.id,
    )

    assert api.client.post(path).status_code == 200
    assert notification(runtime, sent.id).acknowledged_at == row.acknowledged_at
    assert len([e for e in _history(api, who) if e["data"].get("via")]) == 1


def test_invalid_tampered_and_cross_purpose_tokens_are_refused(
    api: Api, settings: Settings, runtime: Runtime
) -> None:
    who = _customer(api)
    sent = send(runtime, who.trigger["id"], channel="email", requires_ack=True)
    unsubscribe, ack = _unsubscribe(settings, who), _ack(settings, sent.id)
    before = _consents(api, who)
    ack_token = ack.partition("token=")[2]
    unsubscribe_token = unsubscribe.partition("token=")[2]

    for method, path in (
        ("GET", _tampered(unsubscribe)),
        ("POST", _tampered(unsubscribe)),
        ("GET", _tampered(ack)),
        ("POST", _tampered(ack)),
        ("GET", "/v1/unsubscribe?token=nonsense"),
        ("POST", f"/v1/unsubscribe?token={ack_token}"),
        ("GET", f"/v1/unsubscribe?token={ack_token}"),
        ("GET", f"/v1/ack?token={unsubscribe_token}"),
        ("POST", f"/v1/ack?token={unsubscribe_token}"),
    ):
        _refused(api, method, path, 403, data=ONE_CLICK if method == "POST" else None)
    assert _consents(api, who) == before
    assert notification(runtime, sent.id).acknowledged_at is None


def test_links_to_what_no_longer_exists_are_404(
    api: Api, settings: Settings, runtime: Runtime
) -> None:
    who = _customer(api)
    other_tenant = api.tenant("Other Energy")
    foreign = Unsubscribe(other_tenant.id, who.id, "email", "energy")
    _refused(api, "GET", _path(unsubscribe_url(settings, foreign)), 404)
    _refused(api, "GET", _ack(settings, "ntf_doesnotexist"), 404)

    unsubscribe = _unsubscribe(settings, who)
    api.ok("DELETE", "/v1/me", who.token, 204)
    _refused(api, "POST", unsubscribe, 404, data=ONE_CLICK)
