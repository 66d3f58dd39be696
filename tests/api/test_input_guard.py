"""The U+0000 guard on its own: it names exactly the JSON strings and keys that hold U+0000,
however the document spells them, and no body of any media type makes it fail."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from api.input_guard import find_nul
from api.middleware import BODY_KEY

TEXT = st.text(alphabet=st.sampled_from(["a", "\\", "u", "0", "\x00", "é", '"']), max_size=6)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12,
)
MEDIA_TYPES = [
    "application/json",
    "application/x-ndjson",
    "text/csv",
    "text/csv; charset=utf-16",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "application/atom+xml",
    "",
]


def _scope(body: bytes, content_type: str, path: str = "/v1/customers") -> dict[str, Any]:
    headers = [(b"content-type", content_type.encode())] if content_type else []
    return {"type": "http", "path": path, "query_string": b"", "headers": headers, BODY_KEY: body}


def _expected(value: Any, loc: tuple[Any, ...] = ("body",)) -> list[tuple[Any, ...]]:
    """Where U+0000 is, the plain recursive way."""
    if isinstance(value, str):
        return [loc] if "\x00" in value else []
    found: list[tuple[Any, ...]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            shown = key.replace("\x00", "\\u0000")
            found += [(*loc, shown)] if "\x00" in key else []
            found += _expected(item, (*loc, shown))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _expected(item, (*loc, index))
    return found


@settings(max_examples=300, deadline=None)
@given(JSON_VALUES, st.booleans())
def test_json_is_refused_exactly_where_it_holds_nul(value: Any, ascii_only: bool) -> None:
    body = json.dumps(value, ensure_ascii=ascii_only).encode()
    errors = asyncio.run(find_nul(_scope(body, "application/json")))
    assert [e.loc for e in errors] == _expected(value)[:20]


@settings(max_examples=300, deadline=None)
@given(
    st.binary(max_size=200) | TEXT.map(str.encode),
    st.sampled_from(MEDIA_TYPES),
    st.binary(max_size=40),
    TEXT,
)
def test_no_request_makes_the_guard_fail(
    body: bytes, content_type: str, query: bytes, segment: str
) -> None:
    """Any body of any media type, any query string and path: an answer, never an error."""
    scope = {**_scope(body, content_type, f"/v1/customers/{segment}"), "query_string": query}
    asyncio.run(find_nul(scope))
