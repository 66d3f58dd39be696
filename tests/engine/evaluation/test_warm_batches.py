"""Property: a batch keyed and evaluated in one pass from what this process keeps of its
tenant (`warm_batch`, `ThresholdEvaluator.prepare_warm`) decides exactly what running every
condition decides: the same notifications with the same values in the why, the same stored
trigger states and window totals, and the same batch answers.

The batches of `test_fast_path` are one customer's, with a trigger on every rule: that
customer has several plans, which a warm batch never has. Here each customer has one trigger
(or none), and a batch is mostly one hour of several customers' readings, as a business
sends them: the batches that hold only customers of day and week rules open their windows or
add to windows stored before, and take the warm path, unless they repeat or correct a
reading or bring two readings of one window."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any, NamedTuple

import pytest
from hypothesis import event
from hypothesis import strategies as st
from sqlalchemy import text

from engine.evaluation.threshold import ThresholdEvaluator
from engine.processes.demo.rules import ELECTRICITY
from tests.api.conftest import FrozenApi
from tests.engine.evaluation.test_fast_path import (
    RULES,
    _decided,
    _params,
    _states,
    over,
    publishing,
)
from tests.fixtures.api import TenantHandle
from tests.fixtures.rules import berlin, post_readings, subscribe

HOURS = 24 * 2 + 3  # two Berlin days and the start of a third
SUM_RULE = RULES[0]  # window.sum > params.limit, over the day
Reading = tuple[int, int, float]  # customer (its place), hour, value


@st.composite
def deliveries(draw: st.DrawFn) -> dict[str, Any]:
    """Some of the rules, a customer on each and one without a trigger, and batches of their
    readings: an hour or two of some of them each, then a few repeats, corrections and
    readings of other hours, anywhere."""
    rules = draw(st.lists(st.sampled_from(RULES), min_size=1, max_size=4, unique_by=_key))
    customers = range(len(rules) + 1)
    quarters = st.integers(min_value=-4, max_value=16)
    hours = sorted(draw(st.sets(st.integers(0, HOURS - 1), min_size=2, max_size=10)))
    batches: list[list[Reading]] = []
    sent: list[Reading] = []
    for hour in hours:
        who = draw(st.lists(st.sampled_from(customers), min_size=1, unique=True))
        # Mostly an hour a batch; sometimes two, so that a day's window gains two readings.
        span = [hour, hour + 1] if hour + 1 < HOURS and draw(st.booleans()) else [hour]
        batch = [(c, h, draw(quarters) / 4) for c in who for h in span]
        batches.append(batch)
        sent.extend(batch)
    for _ in range(draw(st.integers(0, 3))):
        c, hour, value = draw(st.sampled_from(sent))
        again = value if draw(st.booleans()) else draw(quarters) / 4
        other = (draw(st.sampled_from(customers)), draw(st.integers(0, HOURS - 1)), value)
        at = draw(st.integers(0, len(batches) - 1))
        batches[at].append((c, hour, again) if draw(st.booleans()) else other)
    return {
        "rules": rules,
        "batches": batches,
        "limit": draw(st.integers(-8, 80)) / 4 + 0.125,
        "peak": draw(st.integers(-4, 16)) / 4,
        "n": draw(st.integers(0, 12)),
    }


def _key(rule: dict[str, Any]) -> str:
    key: str = rule["key"]
    return key


class Customers(NamedTuple):
    refs: list[str]  # as feeds name them
    ids: list[str]


def subscribe_one_rule_each(
    frozen: FrozenApi, tenant: TenantHandle, delivery: dict[str, Any]
) -> Customers:
    """One customer per rule drawn, each with one trigger on it, and one without a trigger."""
    api, made = frozen.api, Customers([], [])
    limit, peak, n = delivery["limit"], delivery["peak"], delivery["n"]
    for rule in delivery["rules"]:
        sub = subscribe(api, rule, _params(rule, limit, peak, n), tenant=tenant)
        made.refs.append(sub.ref)
        made.ids.append(sub.id)
    plain = api.customer(tenant)
    made.refs.append(plain["external_id"])
    made.ids.append(plain["id"])
    return made


def _readings(refs: list[str], batch: list[Reading]) -> list[dict[str, Any]]:
    return [_reading(refs[c], berlin(hour), 3600, value) for c, hour, value in batch]


def _reading(ref: str, start: datetime, duration: int, value: float) -> dict[str, Any]:
    return {
        "customer": ref,
        "metric": ELECTRICITY,
        "start": start.isoformat(),
        "duration": duration,
        "value": value,
        "unit": "kWh",
    }


@pytest.fixture
def tenants(frozen: FrozenApi) -> tuple[TenantHandle, TenantHandle]:
    return publishing(frozen, RULES)


@pytest.fixture
def warm(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """The windows of each batch evaluated on the warm path."""
    counted: list[int] = []
    prepare_warm = ThresholdEvaluator.prepare_warm

    def counting(self: ThresholdEvaluator, stores: Any, batch: Any, *rest: Any) -> Any:
        prepared = prepare_warm(self, stores, batch, *rest)
        if prepared is not None:
            counted.append(len(batch.keys))
        return prepared

    monkeypatch.setattr(ThresholdEvaluator, "prepare_warm", counting)
    yield counted


def send_to_both(
    frozen: FrozenApi,
    refs: tuple[list[str], list[str]],
    tenants: tuple[TenantHandle, TenantHandle],
    batches: list[list[Reading]],
) -> None:
    """Each batch, seven minutes after the last, to the first tenant with every shortcut on,
    then to the second with the fast path off (every condition runs, no warm batches);
    both answer the same."""
    cache = frozen.runtime.cache
    at = berlin(HOURS + 1)
    try:
        for batch in batches:
            at += timedelta(minutes=7)
            frozen.clock.set(at)
            answers = []
            for own, tenant, on in zip(refs, tenants, (True, False), strict=True):
                cache.fast_path = on
                answer = post_readings(frozen.api, tenant, _readings(own, batch))
                answer.pop("batch", None)
                answers.append(answer)
            assert answers[0] == answers[1]
    finally:
        cache.fast_path = True


def _all_decided(frozen: FrozenApi, tenant: TenantHandle, ids: list[str]) -> list[Any]:
    return [_decided(frozen, tenant, customer_id) for customer_id in ids]


def _all_states(frozen: FrozenApi, ids: list[str]) -> list[Any]:
    return [_states(frozen, customer_id) for customer_id in ids]


def _windows(frozen: FrozenApi, ids: list[str]) -> list[Any]:
    """Each customer's stored window totals (their revisions aside: a batch written again
    after a conflict adds to them)."""
    query = text(
        'SELECT metric, "window", start, "end", sum, count, min, max, last_start, last_value, '
        "covered_until, unit FROM window_aggregates WHERE customer_id = :c "
        'ORDER BY metric, "window", start'
    )
    with frozen.runtime.db.connect() as conn:
        return [[tuple(r) for r in conn.execute(query, {"c": c})] for c in ids]


@over(deliveries())
def test_warm_batches_decide_exactly_what_full_evaluation_decides(
    frozen: FrozenApi,
    tenants: tuple[TenantHandle, TenantHandle],
    warm: list[int],
    delivery: dict[str, Any],
) -> None:
    fast, full = (subscribe_one_rule_each(frozen, t, delivery) for t in tenants)
    before = len(warm)
    send_to_both(frozen, (fast.refs, full.refs), tenants, delivery["batches"])

    decided = _all_decided(frozen, tenants[0], fast.ids)
    assert decided == _all_decided(frozen, tenants[1], full.ids)
    assert _all_states(frozen, fast.ids) == _all_states(frozen, full.ids)
    assert _windows(frozen, fast.ids) == _windows(frozen, full.ids)
    event(f"warm batches: {min(len(warm) - before, 3)}")
    event(f"rules: {len(delivery['rules'])}")
    event(f"customers notified: {min(sum(1 for d in decided if d), 3)}")


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_hours_of_single_trigger_customers_are_warm_batches_and_notify(
    frozen: FrozenApi, tenants: tuple[TenantHandle, TenantHandle], warm: list[int]
) -> None:
    """The property above compares the two paths only if batches take the warm path: the
    first hour of three customers of the daily sum opens their windows, the second adds to
    them, crosses one customer's limit and notifies once, with the day's total in the why."""
    fast, full = (
        [subscribe(frozen.api, SUM_RULE, {"limit": limit}, tenant=t) for limit in (2, 5, 9)]
        for t in tenants
    )
    first = [(c, 0, 1.5) for c in range(3)]
    second = [(c, 1, 1.0 + c) for c in range(3)]
    refs = ([s.ref for s in fast], [s.ref for s in full])
    send_to_both(frozen, refs, tenants, [first, second])

    assert warm == [3, 3]  # both batches, on the first tenant
    decided = [_decided(frozen, s.tenant, s.id) for s in fast]
    assert decided == [_decided(frozen, s.tenant, s.id) for s in full]
    assert [len(d) for d in decided] == [1, 0, 0]  # 2.5 > 2; 3.5 ≤ 5; 4.5 ≤ 9
    assert decided[0][0]["why"]["values"]["window"]["sum"] == 2.5


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_windows_stored_before_the_tenant_changed_are_read_not_opened_again(
    frozen: FrozenApi, tenants: tuple[TenantHandle, TenantHandle], warm: list[int]
) -> None:
    """A change to a tenant's triggers drops what the process keeps of it, the window totals
    with it: the next batch's windows have rows the process no longer keeps, so the batch
    takes the general path, which reads them, and the day's total is still right."""
    subs = [subscribe(frozen.api, SUM_RULE, {"limit": 2}, tenant=tenants[0]) for _ in range(2)]
    refs = [s.ref for s in subs]
    frozen.clock.set(berlin(HOURS + 1))
    post_readings(frozen.api, tenants[0], _readings(refs, [(0, 0, 1.5), (1, 0, 0.5)]))
    assert warm == [2]
    subscribe(frozen.api, SUM_RULE, {"limit": 2}, tenant=tenants[0])  # a new trigger

    post_readings(frozen.api, tenants[0], _readings(refs, [(0, 1, 1.0), (1, 1, 1.0)]))
    assert warm == [2]  # the second batch was not warm
    decided = [_decided(frozen, s.tenant, s.id) for s in subs]
    assert [len(d) for d in decided] == [1, 0]  # 2.5 > 2; 1.5 ≤ 2
    assert decided[0][0]["why"]["values"]["window"]["sum"] == 2.5


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_quarter_hours_of_one_window_in_one_batch_are_folded_on_the_warm_path(
    frozen: FrozenApi, tenants: tuple[TenantHandle, TenantHandle], warm: list[int]
) -> None:
    """A meter read every quarter of an hour, sent hour by hour: each batch brings four
    readings of each customer's day, folded in order into its window, as the general path
    folds them. The second hour crosses one customer's limit."""
    fast, full = (
        [subscribe(frozen.api, SUM_RULE, {"limit": limit}, tenant=t) for limit in (3, 9)]
        for t in tenants
    )
    frozen.clock.set(berlin(HOURS + 1))
    for hour in (0, 1):
        quarters = [berlin(hour) + timedelta(minutes=15 * q) for q in range(4)]
        for subs in (fast, full):
            frozen.runtime.cache.fast_path = subs is fast
            rows = [_reading(s.ref, at, 900, 0.5) for at in quarters for s in subs]
            post_readings(frozen.api, subs[0].tenant, rows)
    frozen.runtime.cache.fast_path = True

    assert warm == [2, 2]  # two windows in each batch, four readings each
    decided = [_decided(frozen, s.tenant, s.id) for s in fast]
    assert decided == [_decided(frozen, s.tenant, s.id) for s in full]
    assert [len(d) for d in decided] == [1, 0]  # 4.0 > 3; 4.0 ≤ 9
    assert decided[0][0]["why"]["values"]["window"]["sum"] == 4.0
    assert decided[0][0]["why"]["values"]["window"]["count"] == 8
