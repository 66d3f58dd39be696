"""A channel class names the provider whose webhooks report on its messages; delivery points
status callbacks and keypad answers at that provider's routes, and knows no provider itself."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

import pytest

import engine.channels.registry
from api.routers.webhooks import provider_router
from engine.channels.base import Channel
from engine.channels.registry import (
    available_channels,
    available_webhook_providers,
    webhook_provider,
)
from engine.channels.twilio.sms import SmsChannel
from engine.delivery.links import status_callback_url, voice_gather_url
from tests.engine.channels.support import make_settings

BASE = "https://nudge.example"


@pytest.fixture(autouse=True)
def fresh_lookup() -> Iterator[None]:
    webhook_provider.cache_clear()
    yield
    webhook_provider.cache_clear()


def test_twilio_callback_urls_are_unchanged() -> None:
    settings = make_settings(public_base_url=BASE + "/")
    assert status_callback_url(settings, "sms") == f"{BASE}/v1/webhooks/twilio/status"
    assert status_callback_url(settings, "voice") == f"{BASE}/v1/webhooks/twilio/status"
    assert voice_gather_url(settings, "voice") == f"{BASE}/v1/webhooks/twilio/voice"
    assert status_callback_url(settings, "email") is None


def test_every_declared_provider_is_installed_and_serves_the_urls_delivery_builds() -> None:
    settings = make_settings(public_base_url=BASE)
    providers = available_webhook_providers()
    declared = {k: c.webhooks for k, c in available_channels().items() if c.webhooks}
    assert declared == {"sms": "twilio", "voice": "twilio"}
    for kind, provider in declared.items():
        served = {route.path for route in provider_router(providers[provider]).routes}  # type: ignore[attr-defined]
        for url in (status_callback_url(settings, kind), voice_gather_url(settings, kind)):
            assert url is not None and url.removeprefix(BASE) in served


class RelaySms(SmsChannel):
    """An SMS channel of another provider, reporting through that provider's webhooks."""

    webhooks: ClassVar[str | None] = "relay"


def test_a_channel_of_another_provider_gets_that_providers_urls(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    installed: dict[str, type[Channel]] = available_channels() | {"sms": RelaySms}
    monkeypatch.setattr(engine.channels.registry, "available_channels", lambda: installed)
    settings = make_settings(public_base_url=BASE)
    assert status_callback_url(settings, "sms") == f"{BASE}/v1/webhooks/relay/status"
    assert status_callback_url(settings, "voice") == f"{BASE}/v1/webhooks/twilio/status"
