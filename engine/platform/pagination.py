"""Cursor pagination over time-ordered ids."""

from __future__ import annotations

import base64
from typing import Generic, TypeVar

from pydantic import BaseModel

from engine.errors import InvalidInput

T = TypeVar("T")
DEFAULT_LIMIT = 50
MAX_LIMIT = 500


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


def encode_cursor(last_id: str) -> str:
    return base64.urlsafe_b64encode(last_id.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> str | None:
    if not cursor:
        return None
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput.at(("query", "cursor"), "malformed cursor") from exc


def next_cursor(ids: list[str], limit: int) -> str | None:
    """A cursor after the last id when the page came back full (there may be more)."""
    return encode_cursor(ids[-1]) if len(ids) == limit and ids else None
