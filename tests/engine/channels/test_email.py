"""The SMTP channel against a real aiosmtpd server on loopback."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from pydantic import SecretStr

from engine.channels.base import PermanentChannelError, TransientChannelError
from engine.channels.email import EmailChannel
from engine.platform.config import Settings
from tests.engine.channels.support import make_settings, message
from tests.fixtures.smtp_server import SmtpServer, free_port, self_signed_context

pytestmark = pytest.mark.anyio

UNSUBSCRIBE = "https://nudge.example/u/abc123"


def email_channel(settings: Settings) -> EmailChannel:
    channel = EmailChannel.from_settings(settings)
    assert channel is not None
    return channel


async def test_sends_multipart_text_and_html_with_delivery_headers(
    smtp_server: SmtpServer, smtp_settings: Settings
) -> None:
    outbound = message(html="<p>Ihr Verbrauch: <b>12,5 kWh</b></p>")
    async with email_channel(smtp_settings) as channel:
        result = await channel.send(outbound)

    (received,) = smtp_server.handler.received
    assert received.mail_from == "news@stadtwerke.example"
    assert received.rcpt_tos == ("anna@example.org",)
    parsed = received.parsed()
    assert parsed["Subject"] == "Verbrauch über 12 kWh"
    assert parsed["From"] == "Stadtwerke <news@stadtwerke.example>"
    assert parsed["Auto-Submitted"] == "auto-generated"
    assert parsed["Date"].datetime.tzinfo is not None
    assert parsed.get_content_type() == "multipart/alternative"
    text, html = (part.get_content() for part in parsed.iter_parts())
    assert text.strip() == outbound.text
    assert "<b>12,5 kWh</b>" in html
    assert result.provider_id == parsed["Message-ID"]
    assert result.status == "sent"


async def test_text_only_message_is_a_single_part(
    smtp_server: SmtpServer, smtp_settings: Settings
) -> None:
    async with email_channel(smtp_settings) as channel:
        await channel.send(message())
    parsed = smtp_server.handler.received[0].parsed()
    assert parsed.get_content_type() == "text/plain"
    assert not parsed.is_multipart()


async def test_message_id_is_the_same_on_every_attempt(
    smtp_server: SmtpServer, smtp_settings: Settings
) -> None:
    async with email_channel(smtp_settings) as channel:
        first = await channel.send(message(attempt=1))
        second = await channel.send(message(attempt=2))
        other = await channel.send(message(notification_id="ntf_0002"))

    ids = [item.parsed()["Message-ID"] for item in smtp_server.handler.received]
    assert ids[0] == ids[1] == first.provider_id == second.provider_id
    assert ids[0] == "<nudge.ntf_0001@stadtwerke.example>"
    assert ids[2] == other.provider_id != ids[0]


async def test_one_click_unsubscribe_headers(
    smtp_server: SmtpServer, smtp_settings: Settings
) -> None:
    outbound = message(headers={"List-Unsubscribe": UNSUBSCRIBE, "X-Nudge-Rule": "energy"})
    async with email_channel(smtp_settings) as channel:
        await channel.send(outbound)
    parsed = smtp_server.handler.received[0].parsed()
    assert parsed["List-Unsubscribe"] == f"<{UNSUBSCRIBE}>"
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert parsed["X-Nudge-Rule"] == "energy"


async def test_mailto_only_unsubscribe_gets_no_one_click_post(
    smtp_server: SmtpServer, smtp_settings: Settings
) -> None:
    outbound = message(headers={"List-Unsubscribe": "<mailto:unsub@stadtwerke.example>"})
    async with email_channel(smtp_settings) as channel:
        await channel.send(outbound)
    parsed = smtp_server.handler.received[0].parsed()
    assert parsed["List-Unsubscribe"] == "<mailto:unsub@stadtwerke.example>"
    assert parsed["List-Unsubscribe-Post"] is None


async def test_connections_are_reused_and_bounded(smtp_server: SmtpServer) -> None:
    settings = make_settings(smtp_url=SecretStr(smtp_server.url), smtp_concurrency=3)
    outbound = [message(notification_id=f"ntf_{i}", to=f"c{i}@example.org") for i in range(60)]
    async with email_channel(settings) as channel:
        await asyncio.gather(*(channel.send(item) for item in outbound))
        await asyncio.gather(*(channel.send(item) for item in outbound[:10]))
        opened = channel.pool.connections_opened

    assert len(smtp_server.handler.received) == 70
    assert 1 <= len(smtp_server.handler.connections) <= 3
    assert opened <= 3


async def test_sequential_sends_share_one_connection(
    smtp_server: SmtpServer, smtp_settings: Settings
) -> None:
    async with email_channel(smtp_settings) as channel:
        for i in range(5):
            await channel.send(message(notification_id=f"ntf_{i}"))
    assert len(smtp_server.handler.connections) == 1


async def test_4xx_from_server_is_transient(
    smtp_server: SmtpServer, smtp_settings: Settings
) -> None:
    smtp_server.handler.refuse("anna@example.org", "450 4.2.1 Mailbox busy, try later")
    async with email_channel(smtp_settings) as channel:
        with pytest.raises(TransientChannelError) as caught:
            await channel.send(message())
        await channel.send(message(to="bert@example.org"))
    assert caught.value.code == 450
    assert "Mailbox busy" in caught.value.response
    assert [item.rcpt_tos for item in smtp_server.handler.received] == [("bert@example.org",)]


@pytest.mark.parametrize("reply", ["550 5.1.1 Mailbox unavailable", "553 5.1.3 Bad address"])
async def test_5xx_from_server_is_permanent(
    smtp_server: SmtpServer, smtp_settings: Settings, reply: str
) -> None:
    smtp_server.handler.refuse("anna@example.org", reply)
    async with email_channel(smtp_settings) as channel:
        with pytest.raises(PermanentChannelError) as caught:
            await channel.send(message())
    assert caught.value.code == int(reply[:3])
    assert reply[4:] in caught.value.response
    assert smtp_server.handler.received == []


async def test_connection_refused_is_transient() -> None:
    settings = make_settings(smtp_url=SecretStr(f"smtp://127.0.0.1:{free_port()}"))
    async with email_channel(settings) as channel:
        with pytest.raises(TransientChannelError, match="smtp unavailable"):
            await channel.send(message())


async def test_server_down_then_back_up(smtp_server: SmtpServer, smtp_settings: Settings) -> None:
    async with email_channel(smtp_settings) as channel:
        await channel.send(message(notification_id="before"))
        with smtp_server.down(), pytest.raises(TransientChannelError):
            await channel.send(message(notification_id="while-down"))
        await channel.send(message(notification_id="after"))
    ids = [item.parsed()["Message-ID"] for item in smtp_server.handler.received]
    assert [i.split("@")[0] for i in ids] == ["<nudge.before", "<nudge.after"]


async def test_idle_connection_dropped_by_server_is_reopened(
    smtp_server: SmtpServer, smtp_settings: Settings
) -> None:
    async with email_channel(smtp_settings) as channel:
        await channel.send(message(notification_id="first"))
        smtp_server.stop()
        smtp_server.start()
        await channel.send(message(notification_id="second"))
    assert len(smtp_server.handler.received) == 2
    assert len(smtp_server.handler.connections) == 2


async def test_timeout_is_transient() -> None:
    # A listener that accepts but never greets: the SMTP banner never comes.
    silent: list[asyncio.StreamWriter] = []

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        silent.append(writer)

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    settings = make_settings(
        smtp_url=SecretStr(f"smtp://127.0.0.1:{port}"), smtp_timeout_seconds=0.3
    )
    async with server, email_channel(settings) as channel:
        with pytest.raises(TransientChannelError, match="SMTP"):
            await channel.send(message())
        for writer in silent:
            writer.close()


async def test_reserved_or_broken_headers_are_permanent(smtp_settings: Settings) -> None:
    async with email_channel(smtp_settings) as channel:
        with pytest.raises(PermanentChannelError, match="set by the channel"):
            await channel.send(message(headers={"Message-ID": "<mine@example.org>"}))
        with pytest.raises(PermanentChannelError):
            await channel.send(message(headers={"X-Evil": "a\r\nBcc: everyone@example.org"}))


async def test_authenticates_with_credentials_from_the_url() -> None:
    with SmtpServer(credentials=("mailer", "s3cr3t")) as server:
        settings = make_settings(smtp_url=SecretStr(server.url))
        async with email_channel(settings) as channel:
            await channel.send(message())
        assert len(server.handler.received) == 1

        wrong = server.url.replace("s3cr3t", "wrong")
        async with email_channel(make_settings(smtp_url=SecretStr(wrong))) as channel:
            with pytest.raises(TransientChannelError, match="smtp session refused 535"):
                await channel.send(message())


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[object, Path]:
    made = self_signed_context(tmp_path_factory.mktemp("tls"))
    if made is None:
        pytest.skip("openssl is needed to make a self-signed certificate")
    return made


@pytest.mark.parametrize("implicit", [False, True], ids=["starttls", "smtps"])
async def test_tls_with_self_signed_certificate(tls: tuple[object, Path], implicit: bool) -> None:
    context, cert = tls
    with SmtpServer(tls=context, implicit_tls=implicit) as server:  # type: ignore[arg-type]
        verified = server.url.replace("verify=false", f"cafile={cert}")
        async with email_channel(make_settings(smtp_url=SecretStr(verified))) as channel:
            await channel.send(message())
        assert len(server.handler.received) == 1


async def test_tls_rejects_untrusted_certificate(tls: tuple[object, Path]) -> None:
    context, _ = tls
    with SmtpServer(tls=context, implicit_tls=True) as server:  # type: ignore[arg-type]
        strict = server.url.replace("?verify=false", "")
        async with email_channel(make_settings(smtp_url=SecretStr(strict))) as channel:
            with pytest.raises(TransientChannelError):
                await channel.send(message())
        assert server.handler.received == []
