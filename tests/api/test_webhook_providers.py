"""A second provider's webhooks need nothing but its own class: the routes, the inbound service
and the history speak nudge's words, not Twilio's."""

from __future__ import annotations

import hmac
import json
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar, Self
from urllib.parse import parse_qsl

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.routers.webhooks import provider_router
from engine.channels.webhooks import (
    InboundMessage,
    KeyPress,
    Spoken,
    StatusScale,
    StatusUpdate,
    WebhookProvider,
)
from engine.errors import Forbidden
from engine.models import NotificationStatus
from engine.platform.config import Settings
from engine.processes.runtime import Runtime
from tests.fixtures.api import Api
from tests.fixtures.delivery import attempt_by_provider_id, notification, send, subscriber
from tests.fixtures.rules import Subscriber

SECRET = "relay-shared-secret"
PHONE = "+4915123456789"


class RelayWebhooks(WebhookProvider):
    """An SMS provider that posts plain forms with a shared secret and reads JSON answers."""

    name: ClassVar[str] = "relay"
    signature_header: ClassVar[str] = "X-Relay-Secret"
    media_type: ClassVar[str] = "application/json"
    statuses: ClassVar[StatusScale] = StatusScale(
        ranks={"queued": 0, "handed-over": 2, "done": 5, "bounced": 5},
        final_rank=5,
        delivered=frozenset({"done"}),
        failed=frozenset({"bounced"}),
    )

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        return cls()

    def verified_form(self, url: str, body: bytes, headers: Mapping[str, str]) -> dict[str, str]:
        if not hmac.compare_digest(headers.get(self.signature_header, ""), SECRET):
            raise Forbidden("wrong relay secret")
        return dict(parse_qsl(body.decode(), keep_blank_values=True))

    def status_update(self, form: Mapping[str, str]) -> StatusUpdate | None:
        if not form.get("id") or not form.get("state"):
            return None
        return StatusUpdate(form["id"], form["state"], form.get("reason") or None)

    def inbound_message(self, form: Mapping[str, str]) -> InboundMessage:
        return InboundMessage(form["from"], form["to"], form["text"], form.get("id", ""))

    def key_press(self, form: Mapping[str, str]) -> KeyPress:
        return KeyPress(form["call"], form.get("keys", ""))

    def status_answer(self) -> str:
        return json.dumps({"ok": True})

    def message_answer(self, text: str | None) -> str:
        return json.dumps({"reply": text})

    def call_answer(self, spoken: Spoken | None) -> str:
        said = None if spoken is None else {"text": spoken.text, "locale": spoken.locale}
        return json.dumps({"say": said, "hangup": True})


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    app = create_app(runtime)
    app.include_router(provider_router(RelayWebhooks))
    with TestClient(app) as test_client:
        yield test_client


def _post(api: Api, route: str, form: dict[str, str], secret: str = SECRET) -> Any:
    response = api.client.post(
        f"/v1/webhooks/relay/{route}", data=form, headers={"X-Relay-Secret": secret}
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    return response.json()


def _customer(api: Api, locale: str = "en") -> Subscriber:
    consents = [{"channel": "sms"}, {"channel": "voice"}]
    return subscriber(api, phone=PHONE, locale=locale, consents=consents)


def _consents(api: Api, who: Subscriber) -> dict[tuple[str, str], bool]:
    rows = api.ok("GET", "/v1/me/consents", who.token)
    return {(c["channel"], c["topic"]): c["granted"] for c in rows}


def test_stop_through_a_second_provider_revokes_sms_and_answers_in_its_format(api: Api) -> None:
    who = _customer(api)
    form = {"from": PHONE, "to": "+4930555000111", "text": "STOP", "id": "r-1"}
    answer = _post(api, "inbound", form)
    assert answer == {
        "reply": "You will no longer receive SMS from Acme Energy. Reply START to resubscribe."
    }
    assert not _consents(api, who)["sms", "*"]
    assert _post(api, "inbound", {**form, "text": "Why?", "id": "r-2"}) == {"reply": None}
    [reply] = api.ok("GET", "/v1/me/history", who.token, params={"kind": "reply"})["items"]
    assert reply["data"]["body"] == "Why?" and reply["data"]["message_sid"] == "r-2"


def test_a_wrong_secret_is_refused_and_changes_nothing(api: Api) -> None:
    who = _customer(api)
    response = api.client.post(
        "/v1/webhooks/relay/inbound",
        data={"from": PHONE, "to": "", "text": "STOP"},
        headers={"X-Relay-Secret": "guess"},
    )
    assert response.status_code == 403
    assert _consents(api, who)["sms", "*"]


def test_statuses_rank_on_the_providers_own_scale(api: Api, runtime: Runtime) -> None:
    who = _customer(api)
    sent = send(runtime, who.trigger["id"])
    assert _post(api, "status", {"id": sent.provider_id, "state": "done"}) == {"ok": True}
    _post(api, "status", {"id": sent.provider_id, "state": "handed-over"})  # late

    assert notification(runtime, sent.id).status == NotificationStatus.delivered
    assert attempt_by_provider_id(runtime, sent.provider_id).provider_status == "done"
    items = api.ok("GET", "/v1/me/history", who.token, params={"kind": "status"})["items"]
    assert [(e["summary"], e["data"]["status"]) for e in items] == [("sms done", "done")]


def test_a_key_press_is_answered_in_the_customers_language(api: Api, runtime: Runtime) -> None:
    who = _customer(api, locale="de-AT")
    call = send(runtime, who.trigger["id"], channel="voice")
    answer = _post(api, "voice", {"call": call.provider_id, "keys": "9"})
    assert answer == {
        "say": {"text": "Sie erhalten keine Anrufe mehr von Acme Energy. Auf Wiederhören.",
                "locale": "de-AT"},
        "hangup": True,
    }  # fmt: skip
    assert not _consents(api, who)["voice", "*"]
