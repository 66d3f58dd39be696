"""The CSV dialect of a text nudge reads (feeds, imports): the delimiter is chosen from the
header line: a comma if it has one, else semicolon or tab, whichever it has more of."""

from __future__ import annotations

import csv


class _Semicolon(csv.excel):
    delimiter = ";"


def dialect_of(text: str) -> type[csv.Dialect]:
    """The dialect ``text`` is read with, from its first line."""
    first = text.split("\n", 1)[0]
    if "," in first:
        return csv.excel
    if first.count(";") > first.count("\t"):
        return _Semicolon
    return csv.excel_tab if "\t" in first else csv.excel
