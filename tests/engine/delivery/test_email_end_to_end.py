"""A reading crosses a threshold → an email arrives at a real SMTP server, as the customer
asked, and the conversation history says what was sent and why."""

from __future__ import annotations

import pytest

from tests.engine.delivery.conftest import World

pytestmark = pytest.mark.anyio


async def test_threshold_email_arrives_with_content_and_headers(world: World) -> None:
    world.customer("m1")
    world.trigger("m1")
    world.cross_threshold("m1", kwh=6.5)

    assert await world.dispatch() == 1

    [received] = world.smtp.handler.received
    mail = received.parsed()
    assert received.rcpt_tos == ("m1@example.com",)
    assert "6,5 kWh" in str(mail["Subject"])
    assert mail["List-Unsubscribe"].strip().startswith("<https://nudge.test/v1/unsubscribe?token=")
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    [notification] = world.notifications()
    assert mail["Message-ID"] == f"<nudge.{notification.id}@stadtwerke.example>"
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert "6,5 kWh" in text and "5 kWh" in text
    assert "<strong>6,5 kWh</strong>" in html
    assert notification.status == "sent" and notification.channel == "email"

    history = world.history("m1")
    message = next(e for e in history if e["kind"] == "message")
    assert message["channel"] == "email" and message["notification_id"] == notification.id
    assert "6,5 kWh" in message["data"]["text"]
    decision = next(e for e in history if e["kind"] == "decision")
    assert decision["data"]["why"]["params"] == {"limit_kwh": 5.0}
    assert decision["data"]["why"]["values"]["window"]["sum"] == 6.5


async def test_the_same_decision_is_sent_once(world: World) -> None:
    world.customer("m1")
    world.trigger("m1")
    world.cross_threshold("m1", kwh=6.5)
    world.cross_threshold("m1", kwh=6.5)
    await world.dispatch()
    await world.dispatch()
    assert len(world.smtp.handler.received) == 1
