"""A signed Twilio webhook with U+0000 in a field: what a phone sent is data, kept with U+FFFD
in place of the NUL, the same on both databases (PostgreSQL cannot store U+0000; a non-2xx
answer would make Twilio retry a message that can never be taken). The signature is still
checked first, over the fields as they were sent: an unsigned request is a 403 and changes
nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from engine.platform.config import Settings
from engine.processes.runtime import Runtime
from tests.conftest import make_settings
from tests.fixtures.api import PROBLEM_JSON, Api
from tests.fixtures.delivery import (
    TWILIO_AUTH_TOKEN,
    attempt_by_provider_id,
    send,
    sign,
    subscriber,
    twilio_post,
)
from tests.fixtures.rules import Subscriber

STATUS, INBOUND, VOICE = (f"/v1/webhooks/twilio/{p}" for p in ("status", "inbound", "voice"))
PHONE, ACME_NUMBER = "+4915123456789", "+4930555000111"
SMS_SID = "SM" + "0" * 32
EMPTY = '<?xml version="1.0" encoding="UTF-8"?><Response />'
HANG_UP = '<?xml version="1.0" encoding="UTF-8"?><Response><Hangup /></Response>'


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return make_settings(
        db_url,
        tmp_path,
        twilio_auth_token=SecretStr(TWILIO_AUTH_TOKEN),
        twilio_from_number=ACME_NUMBER,
    )


def _customer(api: Api) -> Subscriber:
    consents = [{"channel": "sms"}, {"channel": "voice"}]
    return subscriber(api, phone=PHONE, locale="en", consents=consents)


def _signed(api: Api, path: str, params: dict[str, str]) -> str:
    response = twilio_post(api.client, path, params)
    assert response.status_code == 200, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/xml")
    return response.text


def _history(api: Api, who: Subscriber) -> list[dict[str, Any]]:
    page = api.ok("GET", "/v1/me/history", who.token, params={"limit": 500})
    items: list[dict[str, Any]] = page["items"]
    return items


def test_a_reply_holding_nul_is_kept_with_a_replacement_character(api: Api) -> None:
    who = _customer(api)
    body = "Meter shows 1234\x00 kWh, is that right?"
    sms = {"From": PHONE, "To": ACME_NUMBER, "Body": body, "MessageSid": SMS_SID + "\x00"}

    assert _signed(api, INBOUND, sms) == EMPTY

    [entry] = [e for e in _history(api, who) if e["kind"] == "reply"]
    assert entry["data"]["body"] == "Meter shows 1234\ufffd kWh, is that right?"
    assert entry["summary"] == "SMS reply: Meter shows 1234\ufffd kWh, is that right?"
    assert entry["data"]["message_sid"] == SMS_SID + "\ufffd"
    assert entry["channel"] == "sms"


def test_nul_in_a_number_or_an_id_finds_no_one_and_is_answered(api: Api) -> None:
    who = _customer(api)
    before = _history(api, who)
    unknown = {"From": PHONE + "\x00", "To": ACME_NUMBER, "Body": "STOP", "MessageSid": SMS_SID}
    assert _signed(api, INBOUND, unknown) == EMPTY
    status = {"MessageSid": "\x00" + SMS_SID, "MessageStatus": "delivered"}
    assert _signed(api, STATUS, status) == EMPTY
    assert _signed(api, VOICE, {"CallSid": "CA\x00", "Digits": "9"}) == HANG_UP
    assert _history(api, who) == before
    consents = api.ok("GET", "/v1/me/consents", who.token)
    assert all(c["granted"] for c in consents)


def test_status_and_keys_holding_nul_are_recorded(api: Api, runtime: Runtime) -> None:
    who = _customer(api)
    sent = send(runtime, who.trigger["id"])
    failed = {"MessageSid": sent.provider_id, "MessageStatus": "failed", "ErrorCode": "300\x0003"}
    _signed(api, STATUS, failed)
    call = send(runtime, who.trigger["id"], channel="voice")
    assert "Goodbye" in _signed(api, VOICE, {"CallSid": call.provider_id, "Digits": "4\x00"})

    assert attempt_by_provider_id(runtime, sent.provider_id).provider_status == "failed"
    entries = {e["kind"]: e for e in _history(api, who)}
    assert entries["status"]["data"]["error_code"] == "300\ufffd03"
    assert entries["keypress"]["data"]["digits"] == "4\ufffd"


def test_the_signature_is_checked_first(api: Api) -> None:
    who = _customer(api)
    sms = {"From": PHONE, "To": ACME_NUMBER, "Body": "hello\x00", "MessageSid": SMS_SID}
    replaced = {**sms, "Body": "hello\ufffd"}
    for path in (STATUS, INBOUND, VOICE):
        for signature in ("", sign(path, sms, "wrong-token"), sign(path, replaced)):
            response = twilio_post(api.client, path, sms, signature=signature)
            assert response.status_code == 403, response.text
            assert response.headers["content-type"].startswith(PROBLEM_JSON)
    assert [e for e in _history(api, who) if e["kind"] == "reply"] == []


def test_a_status_no_provider_has_is_answered_and_changes_nothing(
    api: Api, runtime: Runtime
) -> None:
    """A status word longer than any provider's (Twilio's longest is 11 characters) is not
    one to keep: answered 200 (a retry could not help), the attempt keeps its status. It had
    been a 500 on PostgreSQL (the column holds 40 characters); long ids, numbers and bodies
    are answered 200 too."""
    who = _customer(api)
    sent = send(runtime, who.trigger["id"])
    _signed(api, STATUS, {"MessageSid": sent.provider_id, "MessageStatus": "sent"})
    odd = {"MessageSid": sent.provider_id, "MessageStatus": "x" * 41, "ErrorCode": "9" * 5000}
    assert _signed(api, STATUS, odd) == EMPTY
    assert attempt_by_provider_id(runtime, sent.provider_id).provider_status == "sent"
    assert [e["data"]["status"] for e in _history(api, who) if e["kind"] == "status"] == ["sent"]

    assert _signed(api, STATUS, {"MessageSid": "S" * 5000, "MessageStatus": "sent"}) == EMPTY
    long_sms = {"From": PHONE, "To": ACME_NUMBER, "Body": "x" * 20000, "MessageSid": "S" * 5000}
    assert _signed(api, INBOUND, long_sms) == EMPTY
    [reply] = [e for e in _history(api, who) if e["kind"] == "reply"]
    assert reply["data"]["body"] == "x" * 20000
