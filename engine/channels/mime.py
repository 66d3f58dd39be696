"""Builds the RFC 5322 message for email; shared by the SMTP and outbox channels."""

from __future__ import annotations

import binascii
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from email import charset
from email.header import Header
from email.utils import format_datetime, formataddr, parseaddr
from functools import lru_cache

from engine.channels.base import OutboundMessage, PermanentChannelError

RESERVED_HEADERS = frozenset(
    {"from", "to", "cc", "bcc", "subject", "date", "message-id", "mime-version", "auto-submitted"}
    | {"content-type", "content-transfer-encoding", "list-unsubscribe-post"}
)


_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_BARE_ADDRESS = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9.-]+$")
_DOMAIN = re.compile(r"^[A-Za-z0-9.-]{1,253}$")
_HEADER_NAME = re.compile(r"^[!-9;-~]+$")
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


@dataclass(frozen=True, slots=True)
class RenderedEmail:
    """The message as it goes on the wire, with its envelope sender and Message-ID."""

    envelope_from: str
    message_id: str
    raw: bytes


def render_email(
    message: OutboundMessage, default_from: str, now: datetime | None = None
) -> RenderedEmail:
    """Text (plus HTML as multipart/alternative) with delivery and unsubscribe headers.

    Written directly rather than through `email.generator`, which cost ~1 ms a message:
    the structure is fixed, bodies are quoted-printable UTF-8 (binascii does that in C)."""
    sender = message.sender or default_from
    ident = message_id(message.notification_id, sender)
    headers = [
        ("From", _address(sender)),
        ("To", _address(message.to)),
        ("Subject", _text_header(message.subject)),
        ("Date", format_datetime((now or datetime.now(UTC)).astimezone(UTC), usegmt=True)),
        ("Message-ID", ident),
        ("Auto-Submitted", "auto-generated"),
        ("MIME-Version", "1.0"),
        *_extra_headers(message),
    ]
    head, body = _body(message)
    lines = [f"{name}: {value}" for name, value in [*headers, *head]]
    raw = "\r\n".join(lines).replace("\n ", "\r\n ").encode("ascii") + b"\r\n\r\n" + body
    return RenderedEmail(envelope_sender(_address(sender)), ident, raw)


def _qp(text: str) -> bytes:
    """Quoted-printable UTF-8 with CRLF line ends (soft breaks included)."""
    encoded = binascii.b2a_qp(text.replace("\r\n", "\n").encode("utf-8"), istext=True)
    return encoded.replace(b"\n", b"\r\n")


def _part_head(subtype: str) -> list[tuple[str, str]]:
    return [
        ("Content-Type", f'text/{subtype}; charset="utf-8"'),
        ("Content-Transfer-Encoding", "quoted-printable"),
    ]


def _body(message: OutboundMessage) -> tuple[list[tuple[str, str]], bytes]:
    if message.html is None:
        return _part_head("plain"), _qp(message.text)
    boundary = f"=_nudge_{secrets.token_hex(12)}"
    parts = [(_part_head("plain"), _qp(message.text)), (_part_head("html"), _qp(message.html))]
    chunks = []
    for head, payload in parts:
        header = "".join(f"{name}: {value}\r\n" for name, value in head).encode("ascii")
        chunks.append(b"--" + boundary.encode() + b"\r\n" + header + b"\r\n" + payload)
    body = b"\r\n".join(chunks) + b"\r\n--" + boundary.encode() + b"--\r\n"
    return [("Content-Type", f'multipart/alternative; boundary="{boundary}"')], body


@lru_cache(maxsize=1024)
def envelope_sender(from_header: str) -> str:
    """The bare address of a From header, for MAIL FROM."""
    return parseaddr(from_header)[1]


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


def _extra_headers(message: OutboundMessage) -> list[tuple[str, str]]:
    headers: list[tuple[str, str]] = []
    for name, value in message.headers.items():
        if name.lower() in RESERVED_HEADERS or not _HEADER_NAME.match(name):
            raise PermanentChannelError(f"header {name!r} is set by the channel or invalid")
        if name.lower() == "list-unsubscribe":
            headers += _unsubscribe(value)
        else:
            headers.append((name, _text_header(value)))
    return headers


def _unsubscribe(value: str) -> list[tuple[str, str]]:
    # RFC 8058 one-click needs an https URI in angle brackets next to the POST marker.
    uris = [part.strip().strip("<>") for part in _single_line(value).split(",") if part.strip()]
    headers = [("List-Unsubscribe", ", ".join(f"<{uri}>" for uri in uris))]
    if any(uri.startswith("https://") for uri in uris):
        headers.append(("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"))
    return headers


def _single_line(value: str) -> str:
    if "\r" in value or "\n" in value:
        raise PermanentChannelError("header values must not contain line breaks")
    return value


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:32]
