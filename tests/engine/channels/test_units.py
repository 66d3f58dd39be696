"""Plain-value behaviour: SMTP URLs, Twilio URL routing, TwiML languages, results and errors."""

from __future__ import annotations

import pytest
from defusedxml import ElementTree

from engine.channels.base import (
    ChannelConfigError,
    PermanentChannelError,
    SendResult,
    TransientChannelError,
)
from engine.channels.email import EmailChannel
from engine.channels.mime import message_id
from engine.channels.outbox import OutboxChannel
from engine.channels.smtp_pool import SmtpConfig
from engine.channels.twilio.client import RoutedHttpClient
from engine.channels.twilio.twiml import build_twiml, keypad_prompt, say_language
from tests.engine.channels.support import make_settings, message

pytestmark = pytest.mark.anyio


def test_smtp_url_with_starttls_and_credentials() -> None:
    config = SmtpConfig.from_url("smtp://us%40er:p%3Ass@mail.example:587?starttls=true", 5.0)
    assert (config.hostname, config.port, config.username, config.password) == (
        "mail.example", 587, "us@er", "p:ss",
    )  # fmt: skip
    assert (config.use_tls, config.start_tls, config.validate_certs, config.timeout) == (
        False, True, True, 5.0,
    )  # fmt: skip


def test_smtps_url_is_implicit_tls_and_can_skip_verification() -> None:
    config = SmtpConfig.from_url("smtps://mail.example:465?verify=false")
    assert (config.use_tls, config.start_tls, config.validate_certs) == (True, False, False)
    assert config.username is None


def test_plain_smtp_url_upgrades_only_when_offered() -> None:
    config = SmtpConfig.from_url("smtp://localhost")
    assert (config.port, config.start_tls, config.cert_bundle) == (None, None, None)


@pytest.mark.parametrize(
    "url",
    ["http://mail.example", "smtp://", "smtp://h?starttls=maybe", "smtps://h?starttls=true"],
)
def test_bad_smtp_urls_are_config_errors(url: str) -> None:
    with pytest.raises(ChannelConfigError):
        SmtpConfig.from_url(url)


def test_email_channel_not_configured_without_url() -> None:
    assert EmailChannel.from_settings(make_settings()) is None


async def test_twilio_urls_are_routed_to_the_configured_base() -> None:
    client = RoutedHttpClient("http://127.0.0.1:8099/twilio/")
    url = "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json?x=1"
    assert (
        client.route(url)
        == "http://127.0.0.1:8099/twilio/2010-04-01/Accounts/AC1/Messages.json?x=1"
    )
    assert (
        client.route("https://api.dublin.ie1.twilio.com/v1/x")
        == "http://127.0.0.1:8099/twilio/v1/x"
    )
    assert client.route("https://example.org/x") == "https://example.org/x"
    assert client.route("https://eviltwilio.com/x") == "https://eviltwilio.com/x"
    await client.close()


async def test_production_base_leaves_every_url_alone() -> None:
    client = RoutedHttpClient()
    url = "https://api.dublin.ie1.twilio.com/2010-04-01/Accounts/AC1/Calls.json"
    assert client.route(url) == url
    await client.close()


def test_bad_twilio_base_url_is_a_config_error() -> None:
    with pytest.raises(ChannelConfigError, match="not an http"):
        RoutedHttpClient("ftp://twilio.local")


@pytest.mark.parametrize(
    ("locale", "language"),
    [
        ("de-DE", "de-DE"), ("de-AT", "de-DE"), ("de_CH", "de-DE"), ("de", "de-DE"),
        ("en", "en-US"), ("en-GB", "en-GB"), ("en-IE", "en-GB"), ("pt-PT", "pt-PT"),
        ("pt", "pt-BR"), ("fr-CA", "fr-CA"), ("fr-BE", "fr-FR"), ("zh-Hant-TW", "zh-TW"),
        ("sr-RS", "en-US"), ("", "en-US"),
    ],
)  # fmt: skip
def test_say_language_maps_bcp47_to_twilio(locale: str, language: str) -> None:
    assert say_language(locale) == language


def test_keypad_prompt_in_german_english_and_fallback() -> None:
    assert keypad_prompt("de-DE", confirm=True)[0].startswith("Drücken Sie die 1")
    confirm = "Press 1 to confirm. Press 9 to stop these calls."
    assert keypad_prompt("en-GB", confirm=True) == (confirm, "en-GB")
    assert keypad_prompt("ja-JP", confirm=True) == (confirm, "en-US")


def test_keypad_prompt_without_confirmation_offers_only_stop() -> None:
    assert keypad_prompt("de-DE") == ("Drücken Sie die 9, um diese Anrufe zu beenden.", "de-DE")
    twiml = ElementTree.fromstring(build_twiml("Hallo", "de-DE", "https://n.example/k"))
    gather = twiml.find("Gather")
    assert gather is not None
    assert [say.text for say in gather.findall("Say")] == [
        "Hallo",
        "Drücken Sie die 9, um diese Anrufe zu beenden.",
    ]
    # Without a key pressed the call goes on after the <Gather>: it says goodbye and ends.
    assert [say.text for say in twiml.findall("Say")] == ["Auf Wiederhören."]


def test_twiml_escapes_text_and_urls() -> None:
    twiml = build_twiml("Strom & Gas <billig>", "de-AT", "https://n.example/k?a=1&b=2")
    gather = ElementTree.fromstring(twiml).find("Gather")
    assert gather is not None
    assert gather.get("action") == "https://n.example/k?a=1&b=2"
    assert gather.findall("Say")[0].text == "Strom & Gas <billig>"


def test_message_id_is_stable_and_safe() -> None:
    assert message_id("ntf_1", "A <a@b.example>") == "<nudge.ntf_1@b.example>"
    weird = message_id("id with spaces/and@signs", "x@y.example")
    assert weird == message_id("id with spaces/and@signs", "x@y.example")
    assert " " not in weird and weird.count("@") == 1
    assert message_id("n", "not an address").endswith("@localhost>")


def test_send_result_and_errors_truncate_provider_responses() -> None:
    assert len(SendResult("id", "sent", "x" * 5000).response) == 1000
    error = TransientChannelError("smtp 451", "y" * 5000, code=451)
    assert (len(error.response), error.reason, error.code, str(error)) == (
        1000, "smtp 451", 451, "smtp 451",
    )  # fmt: skip


async def test_channels_refuse_other_kinds_and_overlong_bodies() -> None:
    settings = make_settings(smtp_url="smtp://127.0.0.1:1")
    channel = EmailChannel.from_settings(settings)
    assert channel is not None
    with pytest.raises(PermanentChannelError, match="cannot send 'sms'"):
        await channel.send(message("sms"))
    outbox = OutboxChannel.from_settings(settings)
    with pytest.raises(PermanentChannelError, match="allows"):
        await outbox.send(message("sms", text="x" * (outbox.max_body_length + 1)))
