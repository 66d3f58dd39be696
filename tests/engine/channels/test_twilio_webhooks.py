"""Twilio's side of the webhooks: signatures, the fields it posts, status ranks and answers."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from defusedxml import ElementTree
from starlette.datastructures import MultiDict
from twilio.request_validator import RequestValidator

from engine.channels.registry import available_webhook_providers
from engine.channels.twilio.statuses import TWILIO_STATUSES
from engine.channels.twilio.twiml import say_language
from engine.channels.twilio.webhooks import TwilioWebhooks
from engine.channels.webhooks import InboundMessage, KeyPress, Spoken, StatusUpdate
from engine.errors import Forbidden

TOKEN = "twilio-test-auth-token"
URL = "https://nudge.example/v1/webhooks/twilio/inbound"
PAIRS = [("From", "+4915123456789"), ("Body", "STOP"), ("MediaUrl", "b"), ("MediaUrl", "a")]


def _signature(url: str, pairs: list[tuple[str, str]], token: str = TOKEN) -> str:
    """What Twilio sends: the SDK's HMAC over the URL and every value of every field."""
    signature: str = RequestValidator(token).compute_signature(url, MultiDict(pairs))
    return signature


def _headers(signature: str) -> dict[str, str]:
    return {"X-Twilio-Signature": signature}


def test_twilio_is_registered_under_its_url_segment() -> None:
    assert available_webhook_providers() == {"twilio": TwilioWebhooks}
    assert TwilioWebhooks.name == "twilio"


def test_a_genuine_form_with_repeated_fields_passes() -> None:
    provider = TwilioWebhooks(TOKEN)
    body = urlencode(PAIRS).encode()
    form = provider.verified_form(URL, body, _headers(_signature(URL, PAIRS)))
    assert form["Body"] == "STOP" and form["From"] == "+4915123456789"


@pytest.mark.parametrize(
    ("signed_pairs", "url", "token"),
    [
        ([*PAIRS[:1], ("Body", "START"), *PAIRS[2:]], URL, TOKEN),  # tampered field
        (PAIRS[:3], URL, TOKEN),  # a repeated value dropped
        (PAIRS, URL.replace("inbound", "status"), TOKEN),  # signed for another route
        (PAIRS, URL, "wrong-token"),
    ],
)
def test_anything_but_the_signed_form_is_refused(
    signed_pairs: list[tuple[str, str]], url: str, token: str
) -> None:
    provider = TwilioWebhooks(TOKEN)
    signature = _signature(url, signed_pairs, token)
    with pytest.raises(Forbidden, match="X-Twilio-Signature"):
        provider.verified_form(URL, urlencode(PAIRS).encode(), _headers(signature))


def test_no_signature_or_no_token_is_refused() -> None:
    body = urlencode(PAIRS).encode()
    with pytest.raises(Forbidden, match="missing or invalid"):
        TwilioWebhooks(TOKEN).verified_form(URL, body, {})
    with pytest.raises(Forbidden, match="no auth token"):
        TwilioWebhooks(None).verified_form(URL, body, _headers(_signature(URL, PAIRS)))


@pytest.mark.parametrize(
    ("form", "update"),
    [
        ({"MessageSid": "SM1", "MessageStatus": "Delivered "}, StatusUpdate("SM1", "delivered")),
        ({"SmsSid": "SM2", "SmsStatus": "sent"}, StatusUpdate("SM2", "sent")),
        (
            {"CallSid": "CA1", "CallStatus": "no-answer", "ErrorCode": ""},
            StatusUpdate("CA1", "no-answer"),
        ),
        (
            {"MessageSid": "SM3", "MessageStatus": "undelivered", "ErrorCode": "30003"},
            StatusUpdate("SM3", "undelivered", "30003"),
        ),
        ({"MessageStatus": "delivered"}, None),
        ({"MessageSid": "SM4"}, None),
    ],
)
def test_status_callbacks_in_neutral_terms(
    form: dict[str, str], update: StatusUpdate | None
) -> None:
    assert TwilioWebhooks(TOKEN).status_update(form) == update


def test_messages_and_key_presses_in_neutral_terms() -> None:
    provider = TwilioWebhooks(TOKEN)
    form = {"From": "+49151", "To": "+49305", "Body": "OK", "MessageSid": "SM9", "X": "y"}
    assert provider.inbound_message(form) == InboundMessage("+49151", "+49305", "OK", "SM9")
    assert provider.inbound_message({}) == InboundMessage("", "", "")
    assert provider.key_press({"CallSid": "CA9", "Digits": "9"}) == KeyPress("CA9", "9")


def test_status_ranks_never_move_an_attempt_backwards() -> None:
    advances = TWILIO_STATUSES.advances
    assert advances(None, "queued")
    assert advances("queued", "sent") and advances("sent", "delivered")
    assert not advances("delivered", "sent")  # late arrival
    assert not advances("delivered", "delivered")  # repeat
    assert advances("delivered", "read")
    assert advances("sent", "some-new-status") and not advances("failed", "some-new-status")
    assert "delivered" in TWILIO_STATUSES.delivered
    assert TWILIO_STATUSES.failed == {"failed", "undelivered"}


def _said(twiml: str) -> list[tuple[str | None, str | None]]:
    return [(say.text, say.get("language")) for say in ElementTree.fromstring(twiml).iter("Say")]


def test_answers_are_twiml() -> None:
    provider = TwilioWebhooks(TOKEN)
    empty = '<?xml version="1.0" encoding="UTF-8"?><Response />'
    assert provider.status_answer() == provider.message_answer(None) == empty
    reply = ElementTree.fromstring(provider.message_answer("Strom & Gas"))
    assert reply.findtext("Message") == "Strom & Gas"
    hangup = ElementTree.fromstring(provider.call_answer(None))
    assert [child.tag for child in hangup] == ["Hangup"]


@pytest.mark.parametrize(
    ("locale", "voice"),
    [("de-AT", "de-DE"), ("en-NZ", "en-AU"), ("en", "en-US"), ("no", "en-US"), ("", "en-US")],
)
def test_spoken_answers_get_a_voice_of_their_own_language_or_english(
    locale: str, voice: str
) -> None:
    twiml = TwilioWebhooks(TOKEN).call_answer(Spoken("Danke.", locale))
    assert _said(twiml) == [("Danke.", voice)]
    assert ElementTree.fromstring(twiml)[-1].tag == "Hangup"


@pytest.mark.parametrize(
    ("locale", "voice"),
    [("es-419", "es-ES"), ("de-Latn-AT", "de-DE"), ("zh-Hant", "zh-CN"), ("nn", "nb-NO")],
)
def test_say_language_walks_the_shared_fallback_chain(locale: str, voice: str) -> None:
    assert say_language(locale) == voice
