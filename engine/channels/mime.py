"""Builds the RFC 5322 message for email; shared by the SMTP and outbox channels."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from email import charset
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.policy import Compat32
from email.utils import format_datetime, formataddr, parseaddr
from functools import lru_cache

from engine.channels.base import OutboundMessage, PermanentChannelError

RESERVED_HEADERS = frozenset(
    {"from", "to", "cc", "bcc", "subject", "date", "message-id", "mime-version", "auto-submitted"}
    | {"content-type", "content-transfer-encoding", "list-unsubscribe-post"}
)


class _FastFolding(Compat32):
    """compat32 that writes short ASCII headers directly instead of through `Header`."""

    def fold_binary(self, name: str, value: str) -> bytes:
        line = f"{name}: {value}"
        if isinstance(value, str) and line.isascii() and len(line) <= 78:
            return (line + self.linesep).encode("ascii")
        return super().fold_binary(name, value)


SMTP_POLICY = _FastFolding(linesep="\r\n")
FILE_POLICY = _FastFolding()
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_BARE_ADDRESS = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9.-]+$")
_DOMAIN = re.compile(r"^[A-Za-z0-9.-]{1,253}$")
_HEADER_NAME = re.compile(r"^[!-9;-~]+$")
_UTF8_QP = charset.Charset("utf-8")
_UTF8_QP.body_encoding = charset.QP  # readable bodies instead of the utf-8 default, base64
_UTF8_B64 = charset.Charset("utf-8")
_UTF8_B64.header_encoding = (
    charset.BASE64
)  # choosing the shortest encoding costs more than it saves


@lru_cache(maxsize=1024)
def _domain(sender: str) -> str:
    address = parseaddr(sender)[1]
    domain = address.rpartition("@")[2] if "@" in address else ""
    return domain if _DOMAIN.match(domain) else "localhost"


def message_id(notification_id: str, sender: str) -> str:
    """Stable per notification, so every attempt of it carries the same Message-ID."""
    local = notification_id if _SAFE_ID.match(notification_id) else _digest(notification_id)
    return f"<nudge.{local}@{_domain(sender)}>"


def build_email(
    message: OutboundMessage, default_from: str, now: datetime | None = None
) -> Message:
    """Text (plus HTML as multipart/alternative) with delivery and unsubscribe headers."""
    # email.mime with compat32 builds ten times faster than EmailMessage's header
    # registry, which matters at hundreds of messages a second.
    sender = message.sender or default_from
    email = _body(message)
    email["From"] = _address(sender)
    email["To"] = _address(message.to)
    email["Subject"] = _text_header(message.subject)
    email["Date"] = format_datetime((now or datetime.now(UTC)).astimezone(UTC), usegmt=True)
    email["Message-ID"] = message_id(message.notification_id, sender)
    email["Auto-Submitted"] = "auto-generated"
    _add_extra_headers(email, message)
    return email


@lru_cache(maxsize=1024)
def envelope_sender(from_header: str) -> str:
    """The bare address of a From header, for MAIL FROM."""
    return parseaddr(from_header)[1]


def _body(message: OutboundMessage) -> Message:
    text = _part("plain", message.text)
    if message.html is None:
        return text
    alternative = MIMEMultipart("alternative")
    alternative.attach(text)
    alternative.attach(_part("html", message.html))
    return alternative


def _part(subtype: str, content: str) -> Message:
    part = MIMENonMultipart("text", subtype)
    part.set_payload(content, "us-ascii" if content.isascii() else _UTF8_QP)
    return part


@lru_cache(maxsize=1024)
def _address(value: str) -> str:
    if _BARE_ADDRESS.match(value):
        return value
    name, address = parseaddr(_single_line(value))
    if "@" not in address:
        raise PermanentChannelError(f"not an email address: {value!r}")
    return formataddr((name, address), charset="utf-8")


def _text_header(value: str) -> str:
    value = _single_line(value)
    return value if value.isascii() else Header(value, _UTF8_B64).encode()


def _add_extra_headers(email: Message, message: OutboundMessage) -> None:
    for name, value in message.headers.items():
        if name.lower() in RESERVED_HEADERS or not _HEADER_NAME.match(name):
            raise PermanentChannelError(f"header {name!r} is set by the channel or invalid")
        if name.lower() == "list-unsubscribe":
            _add_unsubscribe(email, value)
        else:
            email[name] = _text_header(value)


def _add_unsubscribe(email: Message, value: str) -> None:
    # RFC 8058 one-click needs an https URI in angle brackets next to the POST marker.
    uris = [part.strip().strip("<>") for part in _single_line(value).split(",") if part.strip()]
    email["List-Unsubscribe"] = ", ".join(f"<{uri}>" for uri in uris)
    if any(uri.startswith("https://") for uri in uris):
        email["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"


def _single_line(value: str) -> str:
    if "\r" in value or "\n" in value:
        raise PermanentChannelError("header values must not contain line breaks")
    return value


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:32]
