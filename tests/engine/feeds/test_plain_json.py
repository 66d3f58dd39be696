"""The one-pass reading of plain JSON batches (msgspec) answers exactly as the general path
(stdlib json, then each object validated): the same rows in the same order with the same
indexes, the same rejections and notes, or the same whole-body error."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from hypothesis import event, example, given, settings
from hypothesis import strategies as st

from engine.feeds.parsing.errors import FeedFormatError
from engine.feeds.parsing.plain import parse_plain
from engine.feeds.parsing.readings import parse_json, parse_json_objects
from engine.feeds.parsing.rows import ParseResult
from engine.units import CONVERSIONS

NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)
PLAIN = {
    "customer": "m1",
    "metric": "electricity.consumption",
    "start": "2025-12-31T23:00:00+00:00",
    "duration": 3600,
    "value": 1.25,
    "unit": "kWh",
}


def literal(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


# Each field as JSON text: mostly what a plain reading holds, often something else.
customers = st.one_of(
    st.sampled_from(["m1", "m2", "Ω-7", "😀", "a" * 200, "a" * 201, "", " m1", "m1\t", "\x85x"]),
    st.text(max_size=8),
    st.integers(-5, 5),
).map(literal)
metrics = st.sampled_from(
    ["electricity.consumption", "gas.consumption", "Bad Metric", "x" * 65, "", 7, None]
).map(literal)
starts = st.one_of(
    st.sampled_from(
        [
            "2025-12-31T23:00:00+00:00",
            "2025-12-31T23:00:00Z",
            "2026-01-01T00:00:00+01:00",
            "2025-12-31T23:00:00",  # no offset
            "2027-06-01T00:00:00Z",  # too far ahead
            "1900-01-01T00:00:00Z",  # too far back
            "1767222000",
            " 2025-12-31T23:00:00Z ",
            "yesterday",
        ]
    ).map(literal),
    st.sampled_from(["1767222000", "1767222000.5", "1e30"]),
)
durations = st.one_of(
    st.sampled_from(["3600", "900", "0", "-3600", "31622400", "31622401", "3600.0", "1e3"]),
    st.sampled_from(["PT1H", "P1D", "P1M", "", "3600"]).map(literal),
    st.sampled_from(["true", "null", "99999999999999999999999"]),
)
values = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.integers(-(10**30), 10**30).map(str),
    st.sampled_from(
        ["0", "-0", "-0.0", "1e400", "-1e400", "1e-400", "NaN", "Infinity", "9007199254740993"]
    ),
    st.sampled_from(["1.5", "", "x", "2.5e3"]).map(literal),
    st.sampled_from(["18446744073709551615", "18446744073709551616", "1" + "0" * 310]),
    st.sampled_from(["9.999999999999999e14", "1e15", "1.0000000000000002e15", "true"]),
)
units = st.sampled_from(["kWh", "Wh", "MWh", "GWh", "kwh", "m³", "therm", "k Wh", "EUR", "?", 5])
quality = st.sampled_from(["estimated", "", None]).map(literal)

FIELDS = {
    "customer": customers,
    "metric": metrics,
    "start": starts,
    "duration": durations,
    "value": values,
    "unit": units.map(literal),
}


@st.composite
def element(draw: st.DrawFn) -> str:
    """One array element as JSON text: usually an object, fields sometimes left out or added."""
    if draw(st.integers(0, 30)) == 0:
        return draw(st.sampled_from(["1", "null", "[]", '"x"']))
    fields = [(name, draw(strategy)) for name, strategy in FIELDS.items()]
    if draw(st.integers(0, 5)) == 0:
        fields.pop(draw(st.integers(0, len(fields) - 1)))
    if draw(st.integers(0, 8)) == 0:
        fields.append((draw(st.sampled_from(["quality", "end", "tariff"])), draw(quality)))
    if draw(st.integers(0, 10)) == 0:
        fields.append((fields[0][0], draw(FIELDS.get(fields[0][0], customers))))  # repeated
    return "{" + ", ".join(f'"{name}": {text}' for name, text in fields) + "}"


@st.composite
def bodies(draw: st.DrawFn) -> bytes:
    plain = literal(PLAIN)
    elements = draw(st.lists(st.one_of(element(), st.just(plain)), max_size=5))
    text = "[" + ", ".join(elements) + "]"
    wrap = draw(st.integers(0, 20))
    if wrap == 0:
        text = "\ufeff" + text
    elif wrap == 1:
        text = text[: draw(st.integers(0, len(text)))]  # cut off
    elif wrap == 2:
        text = " \n" + text + "\t\r\n"
    elif wrap == 3:
        text = text + " []"
    return text.encode()


def answer(parse: object, body: bytes) -> object:
    """What a parser says: its rows (with indexes), rejections and notes, or its error."""
    try:
        result = parse(body, NOW)  # type: ignore[operator]
    except FeedFormatError as err:
        return ("error", err.message, err.line, err.column)
    assert isinstance(result, ParseResult)
    return (
        [
            (r.customer, r.metric, r.start, r.duration_s, repr(r.value), r.unit, r.quality, r.index)
            for r in result.rows
        ],
        [(r.index, r.reason, r.field) for r in result.rejections],
        result.notes,
    )


@settings(deadline=None)  # a busy machine must not turn a slow example into a failure
@given(bodies())
@example(b"[]")
@example(b"")
@example(b"  ")
@example(b"{}")
@example(("[" + literal(PLAIN) + "]").encode("utf-16"))
@example(b'[{"customer": "\\ud800", "metric": "electricity.consumption"}]')
def test_same_answer_as_the_general_path(body: bytes) -> None:
    event("one pass" if parse_plain(body, NOW) is not None else "general path")
    assert answer(parse_json, body) == answer(parse_json_objects, body)


# Readings that are plain most of the time, so that the one pass reads many whole batches.
plain_fields = st.tuples(
    st.one_of(st.text(min_size=1, max_size=12), st.sampled_from(["m1", "😀", "a" * 200])),
    st.sampled_from(["electricity.consumption", "gas.consumption", "water.volume"]),
    st.sampled_from(
        ["2025-12-31T23:00:00Z", "2025-12-31T22:00:00+00:00", "2026-01-01T01:00+02:00"]
    ),
    st.one_of(st.integers(1, 31_622_400), st.just(3600)),
    st.one_of(
        st.floats(allow_nan=False, allow_infinity=False).map(repr),
        st.integers(-(10**20), 10**20).map(str),
        st.sampled_from(["-0", "-0.0", "1e-400", "9007199254740993", "1" + "0" * 300]),
    ),
    st.sampled_from(sorted(CONVERSIONS)),
)


@settings(deadline=None)
@given(st.lists(plain_fields, min_size=1, max_size=6))
def test_plain_batches_are_read_in_one_pass_where_the_general_path_accepts_them(
    fields: list[tuple[str, str, str, int, str, str]],
) -> None:
    elements = [
        f'{{"customer": {literal(c)}, "metric": "{m}", "start": "{s}", "duration": {d}, '
        f'"value": {v}, "unit": {literal(u)}}}'
        for c, m, s, d, v, u in fields
    ]
    body = ("[" + ", ".join(elements) + "]").encode()
    general = answer(parse_json_objects, body)
    plain = parse_plain(body, NOW)
    event("one pass" if plain is not None else "general path")
    if plain is not None:
        assert answer(lambda b, n: plain, body) == general
    assert answer(parse_json, body) == general


def test_the_benchmark_batch_takes_the_one_pass() -> None:
    start = datetime(2025, 12, 31, 20, tzinfo=UTC)
    rows = [
        {**PLAIN, "customer": f"m{i}", "start": (start + timedelta(hours=i % 3)).isoformat()}
        for i in range(5000)
    ]
    body = json.dumps(rows).encode()
    plain = parse_plain(body, NOW)
    assert plain is not None
    assert answer(lambda b, n: plain, body) == answer(parse_json_objects, body)
    assert len(plain.rows) == 5000
    assert [r.index for r in plain.rows] == list(range(5000))
