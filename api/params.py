"""Query parameters shared by the list operations."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

CURSOR_PATTERN = "^[A-Za-z0-9_=-]*$"

# Opaque to clients: the previous page's next_cursor, URL-safe base64 of a position.
Cursor = Annotated[
    str | None,
    Query(
        max_length=200,
        pattern=CURSOR_PATTERN,
        description="opaque; pass the previous page's next_cursor",
    ),
]
