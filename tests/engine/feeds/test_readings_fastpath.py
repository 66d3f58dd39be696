"""The validator's cached fast path must decide exactly as the full check does."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from engine.feeds.parsing.rows import parse_objects

NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)

rows = st.fixed_dictionaries(
    {
        "customer": st.one_of(st.text(max_size=5), st.integers(), st.just(" c "), st.just("c")),
        "metric": st.sampled_from(["electricity.consumption", "Bad Metric", "gas.consumption"]),
        "start": st.sampled_from(
            ["2025-12-31T23:00:00Z", "2025-12-31T23:00:00", "2027-01-01T00:00:00Z", "x", 1e30]
        ),
        "duration": st.one_of(st.integers(-5, 10**6), st.floats(), st.just("PT1H")),
        "value": st.one_of(st.floats(), st.integers(-(10**400), 10**400), st.booleans()),
        "unit": st.sampled_from(["kWh", "Wh", "EUR", "xyz", "m3", 5]),
    }
)


@given(rows)
def test_fast_path_agrees_with_full_check(raw: dict[str, object]) -> None:
    # The first occurrence takes the full check and fills the caches; the second may not.
    result = parse_objects([(0, raw), (1, dict(raw))], NOW)
    if result.rows:
        assert len(result.rows) == 2
        assert result.rows[0] == result.rows[1]
    else:
        first, second = result.rejections
        assert (first.field, first.reason) == (second.field, second.reason)
