"""SMS and voice through the real Twilio SDK to a local stub that checks Twilio's OpenAPI spec."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from defusedxml import ElementTree
from pydantic import SecretStr

from engine.channels.base import PermanentChannelError, TransientChannelError
from engine.channels.twilio.sms import SmsChannel
from engine.channels.twilio.voice import VoiceChannel
from engine.platform.config import Settings
from tests.engine.channels.openapi_check import openapi_problems
from tests.engine.channels.support import FROM_NUMBER, make_settings, message
from tests.fixtures.smtp_server import free_port
from tests.fixtures.twilio_stub import ACCOUNT_SID, TwilioStub

pytestmark = pytest.mark.anyio

STATUS_URL = "https://nudge.example/v1/webhooks/twilio/status"
GATHER_URL = "https://nudge.example/v1/webhooks/twilio/voice?n=ntf_0001"


def sms_channel(settings: Settings) -> SmsChannel:
    channel = SmsChannel.from_settings(settings)
    assert channel is not None
    return channel


def voice_channel(settings: Settings) -> VoiceChannel:
    channel = VoiceChannel.from_settings(settings)
    assert channel is not None
    return channel


async def test_sms_request_conforms_to_the_openapi_spec(
    twilio_stub: TwilioStub, twilio_settings: Settings, spec_path: Path
) -> None:
    async with sms_channel(twilio_settings) as channel:
        result = await channel.send(message("sms", callback_url=STATUS_URL))

    (request,) = twilio_stub.requests
    assert twilio_stub.violations == []
    assert openapi_problems(spec_path, request) == []
    assert request.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert request.param("To") == "+436641234567"
    assert request.param("From") == FROM_NUMBER
    assert request.param("Body") == "Ihr Verbrauch liegt heute bei 12,5 kWh."
    assert request.param("StatusCallback") == STATUS_URL
    assert result.provider_id == request.answer["sid"]
    assert result.provider_id.startswith("SM") and len(result.provider_id) == 34
    assert result.status == "queued"


async def test_sms_uses_the_message_sender_over_the_default(
    twilio_stub: TwilioStub, twilio_settings: Settings
) -> None:
    async with sms_channel(twilio_settings) as channel:
        await channel.send(message("sms", sender="+43720999888"))
    assert twilio_stub.requests[0].param("From") == "+43720999888"
    assert twilio_stub.requests[0].param("StatusCallback") is None


async def test_sms_without_any_sender_is_permanent(twilio_settings: Settings) -> None:
    settings = twilio_settings.model_copy(update={"twilio_from_number": None})
    async with sms_channel(settings) as channel:
        with pytest.raises(PermanentChannelError, match="no sender"):
            await channel.send(message("sms"))


async def test_sms_reuses_one_http_session(
    twilio_stub: TwilioStub, twilio_settings: Settings
) -> None:
    channel = sms_channel(twilio_settings)
    for i in range(5):
        await channel.send(message("sms", notification_id=f"ntf_{i}"))
    session = channel.client.http_client.session
    await channel.aclose()

    assert len({request.peer for request in twilio_stub.requests}) == 1
    assert session.closed


async def test_voice_call_speaks_in_the_customer_language_with_keypad(
    twilio_stub: TwilioStub, twilio_settings: Settings, spec_path: Path
) -> None:
    outbound = message(
        "voice", gather=True, confirm=True, gather_url=GATHER_URL, callback_url=STATUS_URL
    )
    async with voice_channel(twilio_settings) as channel:
        result = await channel.send(outbound)

    (request,) = twilio_stub.requests
    assert twilio_stub.violations == []
    assert openapi_problems(spec_path, request) == []
    assert request.path.endswith("/Calls.json")
    assert request.param("StatusCallback") == STATUS_URL
    assert "completed" in request.params("StatusCallbackEvent")
    twiml = ElementTree.fromstring(request.param("Twiml"))
    gather = twiml.find("Gather")
    assert gather is not None
    assert gather.get("numDigits") == "1"
    assert gather.get("action") == GATHER_URL
    spoken = gather.findall("Say")
    assert {say.get("language") for say in spoken} == {"de-DE"}
    assert spoken[0].text == outbound.text
    assert "1" in (spoken[1].text or "") and "9" in (spoken[1].text or "")
    assert result.provider_id == request.answer["sid"] and result.provider_id.startswith("CA")


async def test_voice_call_without_keypad_only_speaks(
    twilio_stub: TwilioStub, twilio_settings: Settings
) -> None:
    async with voice_channel(twilio_settings) as channel:
        await channel.send(message("voice", locale="en-GB", text="Your usage is high."))
    twiml = ElementTree.fromstring(twilio_stub.requests[0].param("Twiml"))
    assert twiml.find("Gather") is None
    (say,) = twiml.findall("Say")
    assert (say.get("language"), say.text) == ("en-GB", "Your usage is high.")
    assert twilio_stub.violations == []


async def test_voice_keypad_without_action_url_is_permanent(twilio_settings: Settings) -> None:
    async with voice_channel(twilio_settings) as channel:
        with pytest.raises(PermanentChannelError, match="gather_url"):
            await channel.send(message("voice", gather=True))


@pytest.mark.parametrize("code", [21211, 21610, 21614])
async def test_invalid_or_unsubscribed_recipient_is_permanent(
    twilio_stub: TwilioStub, twilio_settings: Settings, code: int
) -> None:
    twilio_stub.fail("+436641234567", status=400, code=code)
    async with sms_channel(twilio_settings) as channel:
        with pytest.raises(PermanentChannelError) as caught:
            await channel.send(message("sms"))
    assert caught.value.code == code
    assert str(code) in caught.value.response


@pytest.mark.parametrize(("status", "code"), [(429, 20429), (500, 20500), (503, 20503)])
async def test_throttling_and_server_errors_are_transient(
    twilio_stub: TwilioStub, twilio_settings: Settings, status: int, code: int
) -> None:
    twilio_stub.fail("+436641234567", status=status, code=code)
    async with voice_channel(twilio_settings) as channel:
        with pytest.raises(TransientChannelError) as caught:
            await channel.send(message("voice"))
    assert caught.value.code == code


async def test_wrong_credentials_are_transient_and_flagged_by_the_stub(
    twilio_stub: TwilioStub, twilio_settings: Settings
) -> None:
    settings = twilio_settings.model_copy(update={"twilio_auth_token": SecretStr("wrong")})
    async with sms_channel(settings) as channel:
        with pytest.raises(TransientChannelError, match="twilio 401"):
            await channel.send(message("sms"))
    (violation,) = twilio_stub.violations
    assert any("authentication" in problem for problem in violation.problems)


async def test_unreachable_api_is_transient(twilio_settings: Settings) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    settings = twilio_settings.model_copy(update={"twilio_api_base_url": closed})
    async with sms_channel(settings) as channel:
        with pytest.raises(TransientChannelError, match="unreachable"):
            await channel.send(message("sms"))


async def test_concurrent_sends_all_conform(
    twilio_stub: TwilioStub, twilio_settings: Settings
) -> None:
    async with sms_channel(twilio_settings) as channel:
        results = await asyncio.gather(
            *(channel.send(message("sms", to=f"+4366412345{i:02d}")) for i in range(40))
        )
    assert len({result.provider_id for result in results}) == 40
    assert len(twilio_stub.requests) == 40
    assert twilio_stub.violations == []


def test_stub_flags_requests_that_break_the_spec(twilio_stub: TwilioStub) -> None:
    auth = {"authorization": "Basic " + _basic(ACCOUNT_SID, twilio_stub.auth_token)}
    form = {"content-type": "application/x-www-form-urlencoded"} | auth
    path = f"/2010-04-01/Accounts/{ACCOUNT_SID}"
    no_to = twilio_stub.handle("POST", f"{path}/Messages.json", form, b"From=%2B4372&Body=x")
    no_twiml = twilio_stub.handle("POST", f"{path}/Calls.json", form, b"To=%2B4366&From=%2B4372")
    bad_type = twilio_stub.handle(
        "POST",
        f"{path}/Calls.json",
        form,
        b"To=%2B4366&From=%2B4372&Url=https://x.example&Timeout=soon",
    )
    typo = twilio_stub.handle("POST", f"{path}/Messages.json", form, b"To=%2B4366&Boddy=x")
    assert [r.status for r in (no_to, no_twiml, bad_type, typo)] == [400, 400, 400, 400]
    assert any("'To' is a required property" in p for p in no_to.problems)
    assert no_twiml.problems == ("a call needs Url, Twiml or ApplicationSid",)
    assert any("Timeout" in p for p in bad_type.problems)
    assert any("Boddy" in p for p in typo.problems)
    assert no_to.answer["code"] == 21604
    assert len(twilio_stub.violations) == 4


def _basic(user: str, password: str) -> str:
    import base64

    return base64.b64encode(f"{user}:{password}".encode()).decode()


def test_not_configured_without_credentials() -> None:
    assert SmsChannel.from_settings(make_settings()) is None
    assert VoiceChannel.from_settings(make_settings()) is None
