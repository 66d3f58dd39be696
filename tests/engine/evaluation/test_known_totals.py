"""Window totals kept in columns between batches (`KnownTotals`) read back exactly as they
were stored, and a batch adding to known windows a column at a time (`added_to_known`) works
out exactly the totals and statements that adding one window at a time (`added`) does."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from engine.evaluation.adding import added, added_to_known
from engine.evaluation.aggregation import Changes
from engine.evaluation.known import KnownTotals
from engine.evaluation.totals import AggregateKey, Totals

DAY = 1772319600
# Few distinct values, so that ties (and 0.0 against -0.0) come up often.
values = st.one_of(
    st.sampled_from([0.0, -0.0, 0.5, 1.5]), st.floats(min_value=-1e12, max_value=1e12)
)
starts = st.sampled_from([DAY, DAY + 900, DAY + 1800, DAY + 86_399])


@st.composite
def windows(draw: st.DrawFn) -> tuple[AggregateKey, Totals, list[Any]]:
    """A window's stored totals and a batch's delta to it, both as ingest builds them."""
    key = (draw(st.sampled_from(["c1", "c2", "c3", "c4"])), "m", "day", DAY)
    low, high = sorted([draw(values), draw(values)])
    last = draw(starts)
    stored = Totals(
        draw(values), draw(st.sampled_from([0, 1, 7])), low, high, last, draw(values),
        last + 3600, DAY + 86_400, draw(st.sampled_from(["kWh", "EUR"])),
        draw(st.integers(0, 2**40)),
    )  # fmt: skip
    d_low, d_high = sorted([draw(values), draw(values)])
    d_start = draw(starts)
    delta = [
        draw(values), draw(st.integers(1, 5)), d_low, d_high, d_start, draw(values),
        d_start + 3600, DAY + 86_400, stored.unit, draw(starts),
    ]  # fmt: skip
    return key, stored, delta


def _changes(deltas: dict[AggregateKey, list[Any]]) -> Changes:
    return Changes(deltas, {}, {}, [])


@given(st.lists(windows(), min_size=1, max_size=8, unique_by=lambda w: w[0]), st.booleans())
def test_adding_a_column_at_a_time_is_adding_one_window_at_a_time(
    batch: list[tuple[AggregateKey, Totals, list[Any]]], guessed: bool
) -> None:
    known = KnownTotals()
    known.update({key: stored for key, stored, _ in batch})
    deltas = {key: delta for key, _, delta in batch}
    changes = _changes(deltas)
    at = known.positions(list(deltas))
    assert at is not None

    by_window = added(changes, dict(known.items()), guessed=guessed, rows=True)
    by_column = added_to_known(changes, known.rows(at), guessed=guessed, rows=True)

    if by_window is None:
        assert by_column is None
        return
    assert by_column is not None
    assert by_column.predicted == by_window.predicted
    assert list(by_column.predicted) == list(by_window.predicted)
    assert by_column.rows == by_window.rows
    # The same Python types as the database answers: floats for REAL columns, ints for the rest.
    for totals in by_column.predicted.values():
        types = [float, int, float, float, int, float, int, int, str, int]
        assert [type(v) for v in totals] == types
    # Kept by position once stored, they read back as the totals worked out one by one.
    assert by_column.columns is not None
    known.put(at, by_column.columns)
    assert dict(known.items()) == by_window.predicted


@given(st.lists(windows(), min_size=1, max_size=30), st.lists(windows(), max_size=30))
def test_known_totals_read_back_as_stored_last(
    first: list[tuple[AggregateKey, Totals, list[Any]]],
    then: list[tuple[AggregateKey, Totals, list[Any]]],
) -> None:
    known = KnownTotals()
    expected: dict[AggregateKey, Totals] = {}
    for batch in (first, then):
        stored = {key: totals for key, totals, _ in batch}
        known.update(stored)
        expected.update(stored)
    assert len(known) == len(expected)
    assert dict(known.items()) == expected
    assert known.get(("nobody", "m", "day", DAY)) is None
    assert known.positions([*expected, ("nobody", "m", "day", DAY)]) is None


def test_a_batch_that_adds_to_no_window_adds_nothing() -> None:
    # A batch of repeats only, say: no reading changes a window.
    known = KnownTotals()
    at = known.positions([])
    assert at is not None
    nothing = added_to_known(_changes({}), known.rows(at), guessed=True, rows=True)
    assert nothing is not None
    assert nothing.predicted == {}
    assert nothing.rows == ([], [])


def test_known_totals_grow_past_their_first_capacity() -> None:
    known = KnownTotals()
    many = {
        (f"c{i}", "m", "day", DAY): Totals(
            i * 0.5, i, 0.0, i * 0.5, DAY, 0.5, DAY + 3600, DAY, "kWh", i % 3
        )
        for i in range(3000)
    }
    for start in range(0, 3000, 700):
        known.update(dict(list(many.items())[start : start + 700]))
    at = known.positions(list(many))
    assert at is not None
    rows = known.rows(at)
    assert rows.floats[:, 0].tolist() == [t.total for t in many.values()]
    assert rows.ints[:, 0].tolist() == [t.samples for t in many.values()]
    assert known[("c2999", "m", "day", DAY)] == many[("c2999", "m", "day", DAY)]
