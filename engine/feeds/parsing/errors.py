"""The whole-body error: a feed that cannot be read at all (as opposed to one bad row)."""

from __future__ import annotations

from engine.errors import FieldError, InvalidInput


class FeedFormatError(InvalidInput):
    """Malformed JSON/CSV/XML, a missing CSV header, a forbidden DTD: nothing in it is used."""

    slug = "malformed-feed"
    title = "Malformed feed body"

    def __init__(self, message: str, line: int | None = None, column: int | None = None) -> None:
        where = {k: v for k, v in (("line", line), ("column", column)) if v is not None}
        super().__init__(detail=message, errors=[FieldError(("body",), message)], extra=where)
        self.message = message
        self.line = line
        self.column = column
