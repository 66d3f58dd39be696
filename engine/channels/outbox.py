"""Writes every message to a folder instead of sending it: the zero-set-up channel."""

from __future__ import annotations

import asyncio
import json
import os
import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Self

from engine.channels.base import Channel, OutboundMessage, SendResult
from engine.channels.mime import render_email
from engine.channels.twilio.twiml import voice_twiml

if TYPE_CHECKING:
    from engine.platform.config import Settings

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


class OutboxChannel(Channel):
    """Email as `.eml`, SMS, voice and any other kind as `.json`, one file per attempt."""

    name: ClassVar[str] = "outbox"
    kinds: ClassVar[frozenset[str]] = frozenset({"email", "sms", "voice"})
    max_body_length: ClassVar[int] = 1_000_000
    rate_per_second: ClassVar[float] = 5000.0
    max_concurrency: ClassVar[int] = 16
    supports_html: ClassVar[bool] = True

    def __init__(self, directory: Path, email_from: str, phone_from: str | None = None) -> None:
        self.directory = directory
        self.email_from = email_from
        self.phone_from = phone_from

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        return cls(settings.outbox_dir, settings.smtp_from, settings.twilio_from_number)

    def accepts(self, kind: str) -> bool:
        # Any kind goes: a plugin's messages land here too while it is not configured.
        return True

    async def send(self, message: OutboundMessage) -> SendResult:
        self.check(message)
        name, content = self.render(message)
        await asyncio.to_thread(write_atomically, self.directory / name, content)
        return SendResult(name, "written", str(self.directory / name))

    def render(self, message: OutboundMessage) -> tuple[str, bytes]:
        """The file name (stable per notification and attempt) and its bytes."""
        stem = f"{_UNSAFE.sub('_', message.notification_id)}.{message.attempt}.{message.channel}"
        if message.channel == "email":
            return f"{stem}.eml", render_email(message, self.email_from).raw
        record = json.dumps(self._record(message), ensure_ascii=False, indent=2)
        return f"{stem}.json", record.encode()

    def _record(self, message: OutboundMessage) -> dict[str, Any]:
        record: dict[str, Any] = {
            "channel": message.channel,
            "notification_id": message.notification_id,
            "attempt": message.attempt,
            "tenant_id": message.tenant_id,
            "customer_id": message.customer_id,
            "to": message.to,
            "from": message.sender or self.phone_from,
            "locale": message.locale,
            "status_callback": message.callback_url,
        }
        if message.channel == "voice":
            record["twiml"] = voice_twiml(message)
        else:
            record["body"] = message.text
        return record


def write_atomically(path: Path, content: bytes) -> None:
    """Write to a temporary file in the same folder, then rename: readers never see half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(content)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
