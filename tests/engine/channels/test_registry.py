"""Channels come from the `nudge.channels` entry points; the outbox covers what is unset."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Self

import pytest
from pydantic import SecretStr

from engine.channels.base import Channel, ChannelConfigError, OutboundMessage, SendResult
from engine.channels.email import EmailChannel
from engine.channels.outbox import OutboxChannel
from engine.channels.registry import ChannelRegistry, available_channels
from engine.channels.twilio.sms import SmsChannel
from engine.channels.twilio.voice import VoiceChannel
from engine.platform.config import Settings
from tests.engine.channels.support import make_settings, message
from tests.fixtures.twilio_stub import ACCOUNT_SID, AUTH_TOKEN

pytestmark = pytest.mark.anyio


def test_entry_points_name_the_built_in_channels() -> None:
    assert available_channels() == {
        "outbox": OutboxChannel,
        "email": EmailChannel,
        "sms": SmsChannel,
        "voice": VoiceChannel,
    }


async def test_nothing_configured_sends_everything_to_the_outbox(tmp_path: Path) -> None:
    registry = ChannelRegistry.from_settings(make_settings(outbox_dir=tmp_path))
    assert registry.describe() == {"email": "outbox", "sms": "outbox", "voice": "outbox"}
    assert registry["email"] is registry["sms"] is registry["voice"]
    for kind in ("email", "sms", "voice"):
        await registry[kind].send(message(kind))
    assert len(files_in(tmp_path)) == 3
    await registry.aclose()


async def test_configured_channels_replace_the_outbox(tmp_path: Path) -> None:
    settings = make_settings(
        outbox_dir=tmp_path,
        smtp_url=SecretStr("smtp://mail.example:587?starttls=true"),
        twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=SecretStr(AUTH_TOKEN),
    )
    registry = ChannelRegistry.from_settings(settings)
    assert isinstance(registry["email"], EmailChannel)
    assert isinstance(registry["sms"], SmsChannel)
    assert isinstance(registry["voice"], VoiceChannel)
    await registry.aclose()


def files_in(directory: Path) -> list[Path]:
    return list(directory.iterdir())


def test_half_configured_twilio_is_a_config_error() -> None:
    with pytest.raises(ChannelConfigError, match="AUTH_TOKEN"):
        ChannelRegistry.from_settings(make_settings(twilio_account_sid=ACCOUNT_SID))


class PagerChannel(Channel):
    name: ClassVar[str] = "pager"
    kinds: ClassVar[frozenset[str]] = frozenset({"pager"})
    max_body_length: ClassVar[int] = 80
    rate_per_second: ClassVar[float] = 1.0
    max_concurrency: ClassVar[int] = 1
    closed = 0

    @classmethod
    def from_settings(cls, settings: Settings) -> Self | None:
        return cls()

    async def send(self, message: OutboundMessage) -> SendResult:
        return SendResult("pager-1", "sent")

    async def aclose(self) -> None:
        PagerChannel.closed += 1


async def test_plugins_register_under_their_entry_point_name(tmp_path: Path) -> None:
    classes = available_channels() | {"pager": PagerChannel}
    registry = ChannelRegistry.from_settings(make_settings(outbox_dir=tmp_path), classes)
    assert registry.describe()["pager"] == "pager"
    assert (await registry["pager"].send(message("pager"))).provider_id == "pager-1"
    await registry.aclose()
    assert PagerChannel.closed == 1


def test_outbox_is_required() -> None:
    with pytest.raises(ChannelConfigError, match="outbox"):
        ChannelRegistry.from_settings(make_settings(), {"email": EmailChannel})
