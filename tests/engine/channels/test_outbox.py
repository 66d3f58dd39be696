"""The outbox channel writes real .eml and .json files, atomically, one per attempt."""

from __future__ import annotations

import json
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from defusedxml import ElementTree

from engine.channels.base import PermanentChannelError
from engine.channels.mime import render_email
from engine.channels.outbox import OutboxChannel, write_atomically
from tests.engine.channels.support import make_settings, message

pytestmark = pytest.mark.anyio


@pytest.fixture
def outbox(tmp_path: Path) -> OutboxChannel:
    settings = make_settings(outbox_dir=tmp_path / "outbox", twilio_from_number="+43720123456")
    return OutboxChannel.from_settings(settings)


async def test_email_is_a_parseable_eml(outbox: OutboxChannel) -> None:
    outbound = message(html="<p>12,5 kWh</p>", headers={"List-Unsubscribe": "https://u.example/x"})
    result = await outbox.send(outbound)

    path = outbox.directory / result.provider_id
    assert path.name == "ntf_0001.1.email.eml"
    parsed = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert parsed["To"] == "anna@example.org"
    assert parsed["Subject"] == "Verbrauch über 12 kWh"
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert parsed["Message-ID"] == "<nudge.ntf_0001@localhost>"
    assert [part.get_content_type() for part in parsed.iter_parts()] == ["text/plain", "text/html"]


async def test_eml_matches_what_the_email_channel_sends(outbox: OutboxChannel) -> None:
    outbound = message(html="<p>x</p>")
    result = await outbox.send(outbound)
    raw = (outbox.directory / result.provider_id).read_bytes()
    written = message_from_bytes(raw, policy=policy.default)
    built = message_from_bytes(render_email(outbound, "nudge@localhost").raw, policy=policy.default)
    for header in ("From", "To", "Subject", "Message-ID", "Auto-Submitted"):
        assert written[header] == built[header]


async def test_sms_is_json(outbox: OutboxChannel) -> None:
    outbound = message("sms", attempt=3, callback_url="https://nudge.example/status")
    result = await outbox.send(outbound)
    assert result.provider_id == "ntf_0001.3.sms.json"
    record = json.loads((outbox.directory / result.provider_id).read_text())
    assert record == {
        "channel": "sms",
        "notification_id": "ntf_0001",
        "attempt": 3,
        "tenant_id": "tnt_1",
        "customer_id": "cus_1",
        "to": "+436641234567",
        "from": "+43720123456",
        "locale": "de-AT",
        "status_callback": "https://nudge.example/status",
        "body": outbound.text,
    }


async def test_voice_is_json_with_the_twiml_the_call_would_use(outbox: OutboxChannel) -> None:
    outbound = message("voice", gather=True, gather_url="https://nudge.example/keypad")
    result = await outbox.send(outbound)
    record = json.loads((outbox.directory / result.provider_id).read_text())
    twiml = ElementTree.fromstring(record["twiml"])
    gather = twiml.find("Gather")
    assert gather is not None and gather.get("action") == "https://nudge.example/keypad"
    assert "body" not in record


async def test_names_are_stable_per_notification_and_attempt(outbox: OutboxChannel) -> None:
    first = await outbox.send(message())
    again = await outbox.send(message())
    retry = await outbox.send(message(attempt=2))
    odd = await outbox.send(message(notification_id="../etc/passwd"))
    assert first.provider_id == again.provider_id != retry.provider_id
    assert "/" not in odd.provider_id
    assert sorted(path.name for path in outbox.directory.iterdir()) == sorted(
        {first.provider_id, retry.provider_id, odd.provider_id}
    )


async def test_serves_any_kind(outbox: OutboxChannel) -> None:
    result = await outbox.send(message("push", to="device-token-1"))
    assert json.loads((outbox.directory / result.provider_id).read_text())["body"]


async def test_broken_messages_fail_like_the_real_channel(outbox: OutboxChannel) -> None:
    with pytest.raises(PermanentChannelError):
        await outbox.send(message(headers={"From": "spoof@example.org"}))
    with pytest.raises(PermanentChannelError):
        await outbox.send(message("voice", gather=True))


def test_atomic_write_leaves_no_temporary_files(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "file.json"
    write_atomically(target, b"one")
    write_atomically(target, b"two")
    assert target.read_bytes() == b"two"
    assert [path.name for path in target.parent.iterdir()] == ["file.json"]
