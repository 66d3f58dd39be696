"""SMS segment counting: GSM-7 (3GPP TS 23.038) when every character fits, else UCS-2."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Encoding = Literal["GSM-7", "UCS-2"]

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Sent as an escape plus the character: two septets each.
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

# Units in a single message, and per part of a concatenated one (the header takes the rest).
LIMITS: dict[Encoding, tuple[int, int]] = {"GSM-7": (160, 153), "UCS-2": (70, 67)}


@dataclass(frozen=True)
class SmsSegments:
    """How a text travels as SMS: ``units`` are septets (GSM-7) or UTF-16 code units (UCS-2)."""

    encoding: Encoding
    characters: int
    units: int
    segments: int


def is_gsm7(text: str) -> bool:
    """Whether every character has a GSM-7 code (basic or extension table)."""
    return all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text)


def non_gsm7(text: str) -> list[str]:
    """The distinct characters that force UCS-2, in order of appearance."""
    return list(dict.fromkeys(c for c in text if c not in GSM7_BASIC and c not in GSM7_EXTENSION))


def _width(char: str, encoding: Encoding) -> int:
    if encoding == "GSM-7":
        return 2 if char in GSM7_EXTENSION else 1
    return 2 if ord(char) > 0xFFFF else 1


def count_segments(text: str) -> SmsSegments:
    """Encoding, length and number of segments ``text`` is sent as (0 for an empty text)."""
    encoding: Encoding = "GSM-7" if is_gsm7(text) else "UCS-2"
    widths = [_width(c, encoding) for c in text]
    single, per_part = LIMITS[encoding]
    units = sum(widths)
    segments = 1 if 0 < units <= single else _pack(widths, per_part)
    return SmsSegments(encoding=encoding, characters=len(text), units=units, segments=segments)


def _pack(widths: list[int], per_part: int) -> int:
    # An escape pair or a surrogate pair is never split across parts, so a part may end short.
    parts, used = 0, per_part
    for width in widths:
        if used + width > per_part:
            parts, used = parts + 1, 0
        used += width
    return parts
