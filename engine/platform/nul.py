"""Where a body holds U+0000: the fields of a JSON document, NDJSON lines and CSV cells.

PostgreSQL's text and JSON cannot hold the character (SQLite stores it), so any text that
would be stored is refused with it, on both databases, before anything is stored. Rows are
named as the feeds name them: 0-based array element, NDJSON line, or CSV data row after the
header (blank lines skipped), then the field or the header's name of the column.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

from engine.errors import FieldError
from engine.platform.csv_dialect import dialect_of

NUL = "\x00"
MESSAGE = "contains U+0000 (NUL), which no text may hold"
KEY_MESSAGE = "this name contains U+0000 (NUL), which no text may hold"
ERROR_TYPE = "string_nul"
JSON_ESCAPE = b"\\u0000"
Loc = tuple[str | int, ...]


def may_hold_nul(body: bytes) -> bool:
    """Cheap for the common body: a NUL byte or its JSON escape, else certainly none."""
    return b"\0" in body or JSON_ESCAPE in body


def in_json(body: bytes, root: Loc = ("body",)) -> list[FieldError]:
    try:
        document = json.loads(body)  # bytes: the encoding sniffed, as the feeds read them
    except (ValueError, RecursionError):
        return []  # malformed: the parser says so
    return list(walk(document, root))


def in_ndjson(body: bytes, root: Loc = ("body",)) -> list[FieldError]:
    """Each line a JSON value, named by its 0-based line index."""
    text = decoded(body, "utf-8")
    errors: list[FieldError] = []
    for index, line in enumerate((text or "").split("\n")):
        if NUL in line or "\\u0000" in line:
            try:
                errors += walk(json.loads(line), (*root, index))
            except (ValueError, RecursionError):
                continue  # a malformed line is the parser's to reject
    return errors


def in_csv(body: bytes, charset: str = "utf-8", root: Loc = ("body",)) -> list[FieldError]:
    """Cells named by row and by the header's name of their column."""
    text = decoded(body, charset)
    if text is None or NUL not in text:
        return []
    try:
        return _cells_with_nul(csv.reader(io.StringIO(text), dialect_of(text)), root)
    except csv.Error:
        return []  # malformed: the parser says so


def _cells_with_nul(rows: Iterator[list[str]], root: Loc) -> list[FieldError]:
    header = [name.strip().lower() for name in next(rows, [])]
    errors = (
        [FieldError((*root, "header"), KEY_MESSAGE, ERROR_TYPE)] if NUL in "".join(header) else []
    )
    index = -1
    for cells in rows:
        if not cells or cells == [""]:
            continue
        index += 1
        for column, cell in enumerate(cells):
            if NUL in cell:
                name = header[column] if column < len(header) else column + 1
                errors.append(FieldError((*root, index, shown(name)), MESSAGE, ERROR_TYPE))
    return errors


def walk(value: Any, loc: Loc) -> Iterator[FieldError]:
    """Strings and keys holding U+0000 in a decoded JSON value, in document order (a stack,
    not recursion: any depth the decoder took is walked)."""
    stack: list[tuple[Any, Loc, bool]] = [(value, loc, False)]
    while stack:
        node, here, is_key = stack.pop()
        if is_key:
            yield FieldError(here, KEY_MESSAGE, ERROR_TYPE)
        elif isinstance(node, str):
            if NUL in node:
                yield FieldError(here, MESSAGE, ERROR_TYPE)
        elif isinstance(node, dict):
            for key, item in reversed(node.items()):
                stack.append((item, (*here, shown(key)), False))
                if NUL in key:
                    stack.append((None, (*here, shown(key)), True))
        elif isinstance(node, list):
            stack.extend((item, (*here, i), False) for i, item in reversed(list(enumerate(node))))


def shown(name: str | int) -> str | int:
    """A name as an answer shows it: U+0000 written as the escape ``\\u0000``."""
    return name.replace(NUL, "\\u0000") if isinstance(name, str) else name


def decoded(body: bytes, charset: str) -> str | None:
    codec = "utf-8-sig" if charset.lower().replace("_", "-") in ("utf-8", "utf8") else charset
    try:
        return body.decode(codec)
    except (LookupError, UnicodeDecodeError):
        return None  # the parser refuses the body as it is
