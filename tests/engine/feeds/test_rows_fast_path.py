"""The reading parser's shortcut for plain rows answers exactly as the full validation does:
it takes the plain rows a batch is made of, and leaves every unusual one to the full path."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.feeds.parsing.rows import ReadingParser, ReadingRow, parse_objects
from engine.feeds.parsing.values import RowError

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
START = "2025-12-31T23:00:00Z"
PLAIN: dict[str, Any] = {
    "customer": "c-1",
    "metric": "electricity.consumption",
    "start": START,
    "duration": 3600,
    "value": 1.5,
    "unit": "kWh",
}


def primed() -> ReadingParser:
    """A parser that has seen one plain row: it knows the metric and the start time."""
    parser = ReadingParser(NOW)
    parser.parse(dict(PLAIN), 0)
    return parser


def full(raw: dict[str, Any], index: int = 1) -> ReadingRow | str:
    try:
        return primed()._full(raw, index)
    except RowError as err:
        return f"{err.field}: {err.reason}"


@pytest.mark.parametrize(
    ("change", "value", "unit"),
    [
        ({}, 1.5, "kWh"),
        ({"value": 2}, 2.0, "kWh"),
        ({"value": -3}, -3.0, "kWh"),
        ({"value": 0.0}, 0.0, "kWh"),
        ({"value": 1500.0, "unit": "Wh"}, 1.5, "kWh"),
        ({"value": 2.0, "unit": "MWh"}, 2000.0, "kWh"),
        ({"value": 3, "unit": "m3"}, 3.0, "m3"),
        ({"customer": "x" * 200}, 1.5, "kWh"),
        ({"customer": "a b"}, 1.5, "kWh"),
        ({"duration": 1}, 1.5, "kWh"),
    ],
)
def test_plain_rows_take_the_shortcut_with_the_same_result(
    change: dict[str, Any], value: float, unit: str
) -> None:
    raw = {**PLAIN, **change}
    row = primed()._fast(raw, 7)
    assert row is not None
    assert row == full(raw, 7)
    assert (row.value, row.unit, row.index, row.quality) == (value, unit, 7, None)
    assert row.start == datetime(2025, 12, 31, 23, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "change",
    [
        {"customer": ""},
        {"customer": " c-1"},
        {"customer": "c-1 "},
        {"customer": "\tc"},
        {"customer": "x" * 201},
        {"customer": 7},
        {"metric": "gas.consumption"},  # not seen yet in this batch
        {"metric": 5},
        {"start": "2025-12-31T22:00:00Z"},  # not seen yet
        {"start": 1767222000},
        {"duration": 0},
        {"duration": -60},
        {"duration": 60.0},
        {"duration": "PT1H"},
        {"duration": True},
        {"value": True},
        {"value": "1.5"},
        {"value": math.nan},
        {"value": math.inf},
        {"value": -math.inf},
        {"value": 2**53},
        {"value": -(2**53)},
        {"unit": "furlongs"},
        {"unit": 1},
    ],
)
def test_unusual_rows_are_left_to_the_full_validation(change: dict[str, Any]) -> None:
    assert primed()._fast({**PLAIN, **change}, 1) is None


def test_rows_with_more_fields_are_left_to_the_full_validation() -> None:
    parser = primed()
    assert parser.parse({**PLAIN, "quality": "estimated"}, 1).quality == "estimated"
    assert parser.parse({**PLAIN, "colour": "red"}, 2).unit == "kWh"
    assert parser.ignored == {"colour"}


def test_large_whole_numbers_keep_their_exact_value() -> None:
    row = primed().parse({**PLAIN, "value": 10**12 - 1}, 1)
    assert row.value == float(10**12 - 1)


texts = st.one_of(
    st.sampled_from(["c-1", " c", "c ", "", "x" * 200, "x" * 201]), st.text(max_size=5)
)
raw_rows = st.fixed_dictionaries(
    {
        "customer": st.one_of(texts, st.integers(), st.none()),
        "metric": st.sampled_from(["electricity.consumption", "gas.consumption", "", "Bad"]),
        "start": st.sampled_from([START, "2025-12-31T22:00:00Z", "2099-01-01T00:00:00Z", 3]),
        "duration": st.one_of(st.integers(-5, 90000), st.floats(), st.booleans(), st.text()),
        "value": st.one_of(
            st.integers(-(2**60), 2**60), st.floats(), st.booleans(), st.text(max_size=3)
        ),
        "unit": st.sampled_from(["kWh", "Wh", "MWh", "m3", "therm", "kwh", "", "furlongs"]),
    }
)


@settings(max_examples=300, deadline=None)
@given(raw_rows)
def test_parsing_a_row_answers_as_the_full_validation_would(raw: dict[str, Any]) -> None:
    parser = primed()
    try:
        got: ReadingRow | str = parser.parse(raw, 1)
    except RowError as err:
        got = f"{err.field}: {err.reason}"
    expected = full(raw)
    if isinstance(got, ReadingRow) and isinstance(expected, ReadingRow):
        assert got == expected and got.index == expected.index
        assert math.isclose(got.value, expected.value, rel_tol=0, abs_tol=0)
    else:
        assert got == expected


def test_a_batch_keeps_indexes_rejections_and_notes() -> None:
    result = parse_objects(
        [
            (0, dict(PLAIN)),
            (1, "not an object"),
            (2, {**PLAIN, "value": "x"}),
            (3, {**PLAIN, "colour": "red", "size": 1}),
            (4, {**PLAIN, "value": 2}),
        ],
        NOW,
    )
    assert [r.index for r in result.rows] == [0, 3, 4]
    assert [(r.index, r.field) for r in result.rejections] == [(1, None), (2, "value")]
    assert result.rejections[0].reason == "a reading must be an object"
    assert result.notes == ["ignored unknown fields: colour, size"]
