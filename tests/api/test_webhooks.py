"""Twilio webhooks: signatures, status callbacks, inbound SMS keywords and keypad answers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.app import create_app
from engine.models import NotificationStatus
from engine.platform.config import Settings
from engine.processes.runtime import Runtime
from tests.conftest import make_settings
from tests.fixtures.api import PROBLEM_JSON, Api
from tests.fixtures.delivery import (
    TWILIO_AUTH_TOKEN,
    attempt,
    attempt_by_provider_id,
    notification,
    send,
    sign,
    subscriber,
    twilio_post,
)
from tests.fixtures.rules import CHECKUP_REMINDER, Subscriber

STATUS, INBOUND, VOICE = (f"/v1/webhooks/twilio/{p}" for p in ("status", "inbound", "voice"))
PHONE = "+4915123456789"
ACME_NUMBER, OTHER_NUMBER = "+4930555000111", "+4930555000222"
EMPTY = '<?xml version="1.0" encoding="UTF-8"?><Response />'


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return make_settings(
        db_url,
        tmp_path,
        twilio_auth_token=SecretStr(TWILIO_AUTH_TOKEN),
        twilio_from_number=ACME_NUMBER,
    )


def _sms_customer(api: Api, locale: str = "en", **fields: Any) -> Subscriber:
    consents = [{"channel": "sms"}, {"channel": "sms", "topic": "billing"}, {"channel": "voice"}]
    return subscriber(api, phone=PHONE, locale=locale, consents=consents, **fields)


def _sms(api: Api, body: str, to: str = ACME_NUMBER, sender: str = PHONE) -> str:
    params = {"From": sender, "To": to, "Body": body, "MessageSid": "SM" + "0" * 32}
    response = twilio_post(api.client, INBOUND, params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xml")
    return response.text


def _message(text: str) -> str:
    return f'<?xml version="1.0" encoding="UTF-8"?><Response><Message>{text}</Message></Response>'


def _consents(api: Api, who: Subscriber) -> dict[tuple[str, str], dict[str, Any]]:
    rows = api.ok("GET", "/v1/me/consents", who.token)
    return {(c["channel"], c["topic"]): c for c in rows}


def _history(api: Api, who: Subscriber, kind: str) -> list[dict[str, Any]]:
    page = api.ok("GET", "/v1/me/history", who.token, params={"kind": kind, "limit": 500})
    items: list[dict[str, Any]] = page["items"]
    return items


def _status(api: Api, sid: str, status: str, **extra: str) -> None:
    params = {"MessageSid": sid, "MessageStatus": status, **extra}
    response = twilio_post(api.client, STATUS, params)
    assert response.status_code == 200, response.text


def _press(api: Api, call_sid: str, digits: str) -> str:
    response = twilio_post(api.client, VOICE, {"CallSid": call_sid, "Digits": digits})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xml")
    return response.text


def _refused(response: Any) -> None:
    assert response.status_code == 403, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    assert response.json()["status"] == 403


def test_unsigned_wrongly_signed_and_tampered_requests_change_nothing(api: Api) -> None:
    who = _sms_customer(api)
    consents = _consents(api, who)
    stop = {"From": PHONE, "To": ACME_NUMBER, "Body": "STOP"}
    for path in (STATUS, INBOUND, VOICE):
        _refused(api.client.post(path, data=stop))
        _refused(twilio_post(api.client, path, stop, signature=sign(path, stop, "wrong-token")))
        _refused(twilio_post(api.client, path, stop, signature=sign(path, stop)[:-2] + "xx"))
    tampered = {**stop, "From": "+4915199999999"}
    _refused(twilio_post(api.client, INBOUND, tampered, signature=sign(INBOUND, stop)))
    signed_elsewhere = sign(STATUS, stop)
    _refused(twilio_post(api.client, INBOUND, stop, signature=signed_elsewhere))
    assert _consents(api, who) == consents
    assert _history(api, who, "reply") == []


def test_webhooks_are_refused_when_no_auth_token_is_configured(db_url: str, tmp_path: Path) -> None:
    runtime = Runtime.from_settings(make_settings(db_url, tmp_path))
    try:
        with TestClient(create_app(runtime)) as client:
            params = {"From": PHONE, "Body": "STOP"}
            _refused(twilio_post(client, INBOUND, params))
    finally:
        runtime.db.dispose()


def test_stop_revokes_sms_consent_once_and_start_restores_it(api: Api) -> None:
    who = _sms_customer(api)

    assert _sms(api, "  stop ") == _message(
        "You will no longer receive SMS from Acme Energy. Reply START to resubscribe."
    )
    consents = _consents(api, who)
    assert not consents["sms", "*"]["granted"] and not consents["sms", "billing"]["granted"]
    assert consents["sms", "*"]["source"] == "sms"
    assert consents["voice", "*"]["granted"]
    revoked = [e for e in _history(api, who, "consent") if e["data"]["source"] == "sms"]
    assert {(e["data"]["topic"], e["data"]["granted"]) for e in revoked} == {
        ("*", False),
        ("billing", False),
    }
    assert _sms(api, "STOPALL") == EMPTY  # confirmed once only

    assert _sms(api, "Start") == _message(
        "You will receive SMS from Acme Energy again. Reply STOP to unsubscribe."
    )
    consents = _consents(api, who)
    assert consents["sms", "*"]["granted"] and consents["sms", "billing"]["granted"]


def test_every_stop_keyword_revokes_and_answers_in_the_customers_language(api: Api) -> None:
    who = _sms_customer(api, locale="de-AT")
    for word in ("UNSUBSCRIBE", "cancel", "End", "quit"):
        assert "Sie erhalten keine SMS mehr von Acme Energy" in _sms(api, word)
        assert not _consents(api, who)["sms", "*"]["granted"]
        assert "Sie erhalten wieder SMS" in _sms(api, "unstop")
    assert _sms(api, "YES").startswith('<?xml version="1.0" encoding="UTF-8"?><Response><Message>')


def test_a_customer_whose_language_has_no_texts_is_answered_in_the_tenants(api: Api) -> None:
    _sms_customer(api, locale="fr-FR")  # the tenant's default is de-DE, as its messages are
    assert "Sie erhalten keine SMS mehr von Acme Energy" in _sms(api, "STOP")


def test_help_answers_with_the_tenants_help_text(api: Api) -> None:
    help_text = "Acme Energy: call 0800 123 or reply STOP to opt out."
    who = _sms_customer(api, tenant=api.tenant(help_text=help_text))
    assert _sms(api, "help") == _message(help_text)
    [entry] = _history(api, who, "reply")
    assert entry["data"]["keyword"] == "help"


def test_help_without_a_help_text_answers_a_default(api: Api) -> None:
    _sms_customer(api, tenant=api.tenant("Other Energy"))
    assert _sms(api, "Info") == _message(
        "Other Energy: reply STOP to unsubscribe, START to resubscribe, OK to confirm."
    )


def test_a_number_known_to_two_tenants_goes_to_the_tenant_it_was_sent_to(api: Api) -> None:
    acme = _sms_customer(api, tenant=api.tenant(sms_from=ACME_NUMBER))
    other = _sms_customer(api, tenant=api.tenant("Other Energy", sms_from=OTHER_NUMBER))

    assert "Other Energy" in _sms(api, "STOP", to=OTHER_NUMBER)
    assert not _consents(api, other)["sms", "*"]["granted"]
    assert _consents(api, acme)["sms", "*"]["granted"]


def test_ok_acknowledges_the_latest_notification_waiting_for_it(api: Api, runtime: Runtime) -> None:
    who = _sms_customer(api)
    waiting = send(runtime, who.trigger["id"], requires_ack=True)
    assert notification(runtime, waiting.id).escalate_at is not None

    assert _sms(api, " confirm ") == _message(
        "Thank you, Acme Energy has received your confirmation."
    )
    row = notification(runtime, waiting.id)
    assert row.acknowledged_at is not None and row.escalate_at is None
    [entry] = _history(api, who, "reply")
    assert (entry["notification_id"], entry["channel"]) == (waiting.id, "sms")
    assert entry["data"]["via"] == "sms"

    assert _sms(api, "OK") == EMPTY  # nothing left to confirm: kept as a reply
    assert len(_history(api, who, "reply")) == 2
    assert notification(runtime, waiting.id).acknowledged_at == row.acknowledged_at


def test_other_text_is_stored_as_a_reply_to_the_last_sms(api: Api, runtime: Runtime) -> None:
    who = _sms_customer(api)
    send(runtime, who.trigger["id"])
    last = send(runtime, who.trigger["id"])
    send(runtime, who.trigger["id"], channel="email")

    assert _sms(api, "Is this about my March bill?") == EMPTY
    [entry] = _history(api, who, "reply")
    assert entry["channel"] == "sms" and entry["notification_id"] == last.id
    assert entry["data"]["body"] == "Is this about my March bill?"
    assert "Is this about my March bill?" in entry["summary"]


def test_sms_from_an_unknown_number_is_answered_empty(api: Api) -> None:
    assert _sms(api, "STOP", sender="+4915100000000") == EMPTY


def test_status_callbacks_update_the_attempt_and_the_notification(
    api: Api, runtime: Runtime
) -> None:
    who = _sms_customer(api)
    sent = send(runtime, who.trigger["id"])
    _status(api, sent.provider_id, "sent")
    _status(api, sent.provider_id, "delivered")
    _status(api, sent.provider_id, "sent")  # late: must not move it back

    assert notification(runtime, sent.id).status == NotificationStatus.delivered
    assert attempt_by_provider_id(runtime, sent.provider_id).provider_status == "delivered"
    entries = _history(api, who, "status")
    assert [e["data"]["status"] for e in entries] == ["delivered", "sent"]
    assert all(e["notification_id"] == sent.id for e in entries)


def test_failure_fails_the_notification_only_from_the_latest_attempt(
    api: Api, runtime: Runtime
) -> None:
    who = _sms_customer(api)
    sent = send(runtime, who.trigger["id"])
    retry = attempt(runtime, sent.id, "sms")

    _status(api, sent.provider_id, "undelivered", ErrorCode="30003")
    assert notification(runtime, sent.id).status == NotificationStatus.sent
    assert attempt_by_provider_id(runtime, sent.provider_id).provider_status == "undelivered"

    _status(api, retry, "failed", ErrorCode="30006")
    row = notification(runtime, sent.id)
    assert row.status == NotificationStatus.failed and row.reason == "sms failed (error 30006)"
    codes = [e["data"].get("error_code") for e in _history(api, who, "status")]
    assert codes == ["30006", "30003"]


def test_a_callback_for_an_unknown_sid_is_accepted_and_changes_nothing(
    api: Api, runtime: Runtime
) -> None:
    who = _sms_customer(api)
    sent = send(runtime, who.trigger["id"])
    _status(api, "SM" + "f" * 32, "delivered")
    assert notification(runtime, sent.id).status == NotificationStatus.sent
    assert _history(api, who, "status") == []


def test_call_status_callbacks_are_recorded(api: Api, runtime: Runtime) -> None:
    who = _sms_customer(api)
    call = send(runtime, who.trigger["id"], channel="voice")
    for status in ("ringing", "in-progress", "completed"):
        params = {"CallSid": call.provider_id, "CallStatus": status}
        assert twilio_post(api.client, STATUS, params).status_code == 200
    assert notification(runtime, call.id).status == NotificationStatus.sent
    statuses = [e["data"]["status"] for e in _history(api, who, "status")]
    assert statuses == ["completed", "in-progress", "ringing"]


def test_keypad_1_acknowledges_the_call_in_the_customers_language(
    api: Api, runtime: Runtime
) -> None:
    who = _sms_customer(api, locale="de-DE")
    call = send(runtime, who.trigger["id"], channel="voice", requires_ack=True)

    twiml = _press(api, call.provider_id, "1")
    assert '<Say language="de-DE">Vielen Dank, Ihre Bestätigung wurde gespeichert.' in twiml
    assert twiml.endswith("<Hangup /></Response>")
    row = notification(runtime, call.id)
    assert row.acknowledged_at is not None and row.escalate_at is None
    [entry] = _history(api, who, "keypress")
    assert (entry["channel"], entry["data"]["via"]) == ("voice", "keypad")


def test_keypad_9_revokes_voice_consent_and_other_keys_are_recorded(
    api: Api, runtime: Runtime
) -> None:
    who = _sms_customer(api, locale="en-GB")
    call = send(runtime, who.trigger["id"], channel="voice")

    assert '<Say language="en-GB">Thank you. Goodbye.</Say>' in _press(api, call.provider_id, "4")
    [entry] = _history(api, who, "keypress")
    assert entry["data"]["digits"] == "4" and entry["notification_id"] == call.id

    assert "no more calls from Acme Energy" in _press(api, call.provider_id, "9")
    consents = _consents(api, who)
    assert not consents["voice", "*"]["granted"] and consents["voice", "*"]["source"] == "keypad"
    assert consents["sms", "*"]["granted"]
    assert notification(runtime, call.id).acknowledged_at is None


def test_keypad_1_on_a_call_that_asked_no_confirmation_is_only_recorded(
    api: Api, runtime: Runtime
) -> None:
    who = _sms_customer(api, locale="en-GB")
    call = send(runtime, who.trigger["id"], channel="voice")

    assert '<Say language="en-GB">Thank you. Goodbye.</Say>' in _press(api, call.provider_id, "1")
    [entry] = _history(api, who, "keypress")
    assert entry["data"]["digits"] == "1" and entry["notification_id"] == call.id
    assert notification(runtime, call.id).acknowledged_at is None


def test_keypad_answer_for_an_unknown_call_just_hangs_up(api: Api) -> None:
    twiml = _press(api, "CA" + "0" * 32, "1")
    assert twiml == '<?xml version="1.0" encoding="UTF-8"?><Response><Hangup /></Response>'


def test_confirming_a_reminder_cancels_the_rest_of_its_chain(api: Api, runtime: Runtime) -> None:
    who = _sms_customer(api, rule=CHECKUP_REMINDER)
    occurrence = "e:checkup.due:2026"
    first = send(runtime, who.trigger["id"], occurrence=occurrence, requires_ack=True)
    later = send(
        runtime,
        who.trigger["id"],
        occurrence=occurrence,
        transition="due:2026-04-01:7",
        status=NotificationStatus.pending,
    )
    elsewhere = send(
        runtime,
        who.trigger["id"],
        occurrence="e:checkup.due:2027",
        status=NotificationStatus.pending,
    )

    assert "confirmation" in _sms(api, "1")
    cancelled = notification(runtime, later.id)
    assert cancelled.status == NotificationStatus.cancelled
    assert cancelled.reason == "the customer confirmed an earlier reminder"
    assert notification(runtime, elsewhere.id).status == NotificationStatus.pending
    [entry] = [e for e in _history(api, who, "decision") if e["notification_id"] == later.id]
    assert entry["data"]["confirmed"] == first.id
