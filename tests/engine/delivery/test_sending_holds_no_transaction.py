"""A provider call can take seconds (a slow SMTP server, Twilio's API): the dispatcher makes it
with no database transaction open, so it never holds SQLite's write lock (or PostgreSQL row
locks) against another tenant."""

from __future__ import annotations

from typing import Any

import pytest

from engine.channels.email import EmailChannel
from tests.engine.delivery.conftest import EMAIL_ONLY, World
from tests.engine.delivery.transactions import open_transactions as count_open_transactions

pytestmark = pytest.mark.anyio


@EMAIL_ONLY
async def test_the_provider_is_called_with_no_transaction_open(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.customer("m1")
    world.trigger("m1", channels=["email"])
    world.cross_threshold("m1")
    open_transactions = count_open_transactions(world.runtime.db)
    open_while_sending: list[int] = []
    send = EmailChannel.send

    async def watched_send(self: EmailChannel, message: Any) -> Any:
        open_while_sending.append(open_transactions[0])
        return await send(self, message)

    monkeypatch.setattr(EmailChannel, "send", watched_send)
    await world.dispatch()

    assert open_while_sending == [0]
    assert len(world.smtp.handler.received) == 1  # the real send went out
