"""Property: when every window a batch adds to has totals this process knows, its recognised
conditions are decided from those totals a column at a time (`added_to_known`, then
`decide_recognised` indexing the columns), and that decides exactly what running every
condition decides: the same notifications with the same values in the why, and the same
stored trigger states.

`test_fast_path` compares the two paths with rules that read hourly and earlier windows, so
its batches mostly touch a window no batch stored before; here every rule reads the day, two
metrics (energy in kWh, charges in EUR, kept in cents) feed them, and the batches after the
first of each day add to known windows unless they repeat or correct a reading."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import event
from hypothesis import strategies as st

from engine.evaluation import recognised
from engine.processes.demo.rules import ELECTRICITY, PHONE_CHARGES
from tests.api.conftest import FrozenApi
from tests.engine.evaluation.test_fast_path import (
    _decided,
    _states,
    over,
    publishing,
    send_to_both,
    subscribe_every_rule,
)
from tests.fixtures.api import TenantHandle
from tests.fixtures.rules import berlin


def _rule(key: str, metric: str, condition: str, names: list[str], **extra: Any) -> dict[str, Any]:
    kinds = {"n": "int"}
    return {
        "key": f"column.{key}",
        "title": {"en": f"Rule {key}"},
        "topic": "energy",
        "kind": "threshold",
        "metric": metric,
        "window": "day",
        "aggregate": "sum",
        "parameters": [
            {"name": n, "type": kinds.get(n, "double"), "min": -100, "max": 1000} for n in names
        ],
        "condition": condition,
        "template_key": "energy.daily_above",
        **extra,
    }


RULES = [
    _rule("sum", ELECTRICITY, "window.sum > params.limit", ["limit"]),
    _rule(
        "conj",
        ELECTRICITY,
        "window.max >= params.peak && window.count > params.n",
        ["peak", "n"],
        aggregate="max",
    ),
    _rule("avg", ELECTRICITY, "params.limit * 0.75 < window.avg", ["limit"], aggregate="avg"),
    _rule("min", ELECTRICITY, "window.min <= params.peak - 1.0", ["peak"], aggregate="min"),
    _rule("charges", PHONE_CHARGES, "window.sum > params.limit", ["limit"]),
    _rule(
        "charges_last",
        PHONE_CHARGES,
        "window.last >= params.limit * 10.0",
        ["limit"],
        aggregate="last",
    ),
]
HOURS = 48  # two Berlin days


@st.composite
def deliveries(draw: st.DrawFn) -> dict[str, Any]:
    hours = draw(st.lists(st.integers(0, HOURS - 1), min_size=2, max_size=30, unique=True))
    first = {h: (draw(st.integers(-4, 16)) / 4, draw(st.integers(0, 900)) / 100) for h in hours}
    sent: list[tuple[int, tuple[float, float]]] = list(first.items())
    # A few repeats (the same values again) and corrections (other values for the same hour).
    for hour in draw(st.lists(st.sampled_from(hours), max_size=3)):
        again = first[hour] if draw(st.booleans()) else (draw(st.integers(-4, 16)) / 4, 1.0)
        sent.append((hour, again))
    cuts = sorted(draw(st.sets(st.integers(1, len(sent) - 1), min_size=1, max_size=8)))
    bounds = [0, *cuts, len(sent)]
    return {
        "batches": [sent[a:b] for a, b in zip(bounds, bounds[1:], strict=False) if b > a],
        "limit": draw(st.integers(-8, 120)) / 4 + 0.125,
        "peak": draw(st.integers(-4, 16)) / 4,
        "n": draw(st.integers(0, 12)),
    }


def _readings(ref: str, batch: list[tuple[int, tuple[float, float]]]) -> list[dict[str, Any]]:
    rows = []
    for hour, (energy, charges) in batch:
        at = {"customer": ref, "start": berlin(hour).isoformat(), "duration": 3600}
        rows.append({**at, "metric": ELECTRICITY, "value": energy, "unit": "kWh"})
        rows.append({**at, "metric": PHONE_CHARGES, "value": charges, "unit": "EUR"})
    return rows


@pytest.fixture
def tenants(frozen: FrozenApi) -> tuple[TenantHandle, TenantHandle]:
    return publishing(frozen, RULES)


@pytest.fixture
def by_column(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """How many windows were decided from columns of known totals, batch by batch."""
    counted: list[int] = []
    gathered = recognised._gathered

    def counting(shape: Any, rows: Any, at: list[int]) -> dict[str, Any]:
        counted.append(len(at))
        return gathered(shape, rows, at)

    monkeypatch.setattr(recognised, "_gathered", counting)
    yield counted


@over(deliveries())
def test_deciding_known_windows_by_column_decides_what_full_evaluation_decides(
    frozen: FrozenApi,
    tenants: tuple[TenantHandle, TenantHandle],
    by_column: list[int],
    delivery: dict[str, Any],
) -> None:
    fast, full = subscribe_every_rule(frozen.api, tenants, delivery, RULES)
    batches = delivery["batches"]
    times = [berlin(HOURS + 1) + timedelta(minutes=7 * n) for n in range(1, len(batches) + 1)]
    before = len(by_column)
    send_to_both(frozen, (fast, full), batches, times, _readings)

    decided = _decided(frozen, fast.tenant, fast.id)
    assert decided == _decided(frozen, full.tenant, full.id)
    assert _states(frozen, fast.id) == _states(frozen, full.id)
    event(f"batches decided by column: {min(len(by_column) - before, 3)}")
    event(f"rules notifying: {len({n['rule'] for n in decided})}")


@pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)
def test_a_batch_adding_to_known_windows_is_decided_by_column_and_still_notifies(
    frozen: FrozenApi, tenants: tuple[TenantHandle, TenantHandle], by_column: list[int]
) -> None:
    """The property above compares the two paths only if batches take the column path: the
    second batch adds to the two day windows the first stored, crosses the energy limit and
    notifies, with the day's totals (in euros for the charges) in the why."""
    delivery = {"limit": 2.0, "peak": -5.0, "n": 100}
    fast, full = subscribe_every_rule(frozen.api, tenants, delivery, RULES)
    first, second = [(0, (1.0, 1.25))], [(1, (1.5, 2.5))]
    send_to_both(frozen, (fast, full), [first, second], [berlin(HOURS + 1)] * 2, _readings)

    # The first batch's windows were new; the second batch's were known: each rule's window
    # was decided by column (in groups by condition: two rules share theirs).
    assert sum(by_column) == len(RULES)
    decided = _decided(frozen, fast.tenant, fast.id)
    assert decided == _decided(frozen, full.tenant, full.id)
    by_rule = {n["rule"]: n for n in decided}
    assert set(by_rule) == {"column.sum", "column.charges"}
    assert by_rule["column.sum"]["why"]["values"]["window"]["sum"] == 2.5
    assert by_rule["column.charges"]["why"]["values"]["window"]["sum"] == 3.75
