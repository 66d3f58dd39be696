"""Property: deciding threshold windows of recognised conditions in bulk (running the condition
only where it holds) decides exactly what running every condition decides: the same
notifications with the same values in the why, and the same stored trigger states.

Two tenants publish the same rules, of recognised shapes and others. Each example subscribes
one customer in each with the same parameters and sends both the same batches (random values,
arrival order, duplicates and corrections), to one with the fast path on, to the other with
it off (the ingest cache's switch), through the same running service and clock."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from itertools import accumulate
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlmodel import Session

from engine.customers.repository import CustomerRepository
from engine.evaluation.plan import Plan
from engine.evaluation.repository import EvaluationRepository
from engine.processes.demo.rules import ELECTRICITY
from tests.api.conftest import FrozenApi
from tests.fixtures.api import Api, TenantHandle
from tests.fixtures.rules import (
    Subscriber,
    berlin,
    notifications,
    post_readings,
    publish,
    subscribe,
)


def _rule(
    key: str, condition: str, parameters: list[dict[str, Any]], **extra: Any
) -> dict[str, Any]:
    return {
        "key": f"fast.{key}",
        "title": {"en": f"Rule {key}"},
        "topic": "energy",
        "kind": "threshold",
        "metric": ELECTRICITY,
        "window": "day",
        "aggregate": "sum",
        "parameters": parameters,
        "condition": condition,
        "template_key": "energy.daily_above",
        **extra,
    }


LIMIT = {"name": "limit", "type": "double", "min": -100, "max": 1000}
PEAK = {"name": "peak", "type": "double", "min": -100, "max": 1000}
N = {"name": "n", "type": "int", "min": 0, "max": 100}

RECOGNISED = [
    _rule("sum", "window.sum > params.limit", [LIMIT]),
    _rule(
        "conj", "window.max >= params.peak && window.count > params.n", [PEAK, N], aggregate="max"
    ),
    _rule("avg_hour", "params.limit * 1.5 < window.avg", [LIMIT], aggregate="avg", window="hour"),
    _rule("min", "window.min <= params.limit - 1.0", [LIMIT], aggregate="min"),
    _rule("count_week", "window.count >= params.n", [N], aggregate="count", window="week"),
]
OTHERS = [
    # Re-arms on leave: a false result steps its state, so it always runs its condition.
    _rule(
        "last_leave",
        "window.last > params.limit",
        [LIMIT],
        aggregate="last",
        rearm={"mode": "on_leave", "hysteresis": 0.5},
    ),
    _rule("either", "window.sum > params.limit || window.count > params.n", [LIMIT, N]),
    _rule("previous", "window.sum > previous.sum + params.limit", [LIMIT]),
    _rule("baseline", "window.sum > baseline.sum * 1.1", [], baseline_windows=2),
]
RULES = RECOGNISED + OTHERS
RECOGNISED_KEYS = {r["key"] for r in RECOGNISED}
HOURS = 24 * 3 + 5  # three Berlin days and the start of a fourth


def _params(rule: dict[str, Any], limit: float, peak: float, n: int) -> dict[str, Any]:
    drawn = {"limit": limit, "peak": peak, "n": n}
    return {p["name"]: drawn[p["name"]] for p in rule["parameters"]}


@st.composite
def deliveries(draw: st.DrawFn) -> dict[str, Any]:
    quarters = st.integers(min_value=-4, max_value=16)
    hours = draw(st.lists(st.integers(0, HOURS - 1), min_size=1, max_size=40, unique=True))
    first = {h: draw(quarters) / 4 for h in hours}
    sent: list[tuple[int, float]] = list(first.items())
    # Duplicates (the same value again) and corrections (another value for the same hour).
    for hour in draw(st.lists(st.sampled_from(hours), max_size=12)):
        again = first[hour] if draw(st.booleans()) else draw(quarters) / 4
        sent.append((hour, again))
    order = draw(st.permutations(sent))
    cuts = sorted(draw(st.sets(st.integers(1, max(1, len(order) - 1)), max_size=6)))
    bounds = [0, *cuts, len(order)]
    batches = [order[a:b] for a, b in zip(bounds, bounds[1:], strict=False) if b > a]
    return {
        "batches": batches,
        "limit": draw(st.integers(-8, 160)) / 4 + 0.125,
        "peak": draw(st.integers(-4, 16)) / 4,
        "n": draw(st.integers(0, 12)),
        "advance": draw(st.lists(st.integers(0, 30), min_size=len(batches), max_size=len(batches))),
    }


def publishing(frozen: FrozenApi, rules: list[dict[str, Any]]) -> tuple[TenantHandle, TenantHandle]:
    """Two tenants with the same rules: one ingests with the fast path, one without."""
    pair = frozen.api.tenant(), frozen.api.tenant()
    for handle in pair:
        for rule in rules:
            publish(frozen.api, handle, rule)
    return pair


@pytest.fixture
def tenants(frozen: FrozenApi) -> tuple[TenantHandle, TenantHandle]:
    return publishing(frozen, RULES)


def _readings(ref: str, batch: list[tuple[int, float]]) -> list[dict[str, Any]]:
    return [
        {
            "customer": ref,
            "metric": ELECTRICITY,
            "start": berlin(hour).isoformat(),
            "duration": 3600,
            "value": value,
            "unit": "kWh",
        }
        for hour, value in batch
    ]


def _decided(frozen: FrozenApi, tenant: TenantHandle, customer_id: str) -> list[Any]:
    """The customer's notifications as operations staff see them, each naming its rule
    instead of the ids that differ between the two tenants."""
    keys = _rule_keys(frozen, customer_id)
    found = []
    for n in notifications(frozen.api, tenant, customer_id):
        same = {k: v for k, v in n.items() if k not in _OWN_IDS}
        same["rule"] = keys[n["trigger_id"]]
        found.append(same)
    return found


_OWN_IDS = {"id", "tenant_id", "customer_id", "trigger_id", "rule_version_id", "batch"}


def _rule_keys(frozen: FrozenApi, customer_id: str) -> dict[str, str]:
    query = text(
        "SELECT t.id, r.key FROM triggers t JOIN rule_versions v ON v.id = t.rule_version_id "
        "JOIN rules r ON r.id = v.rule_id "
        "WHERE t.customer_id = :c"
    )
    with frozen.runtime.db.connect() as conn:
        return {row[0]: row[1] for row in conn.execute(query, {"c": customer_id})}


def _states(frozen: FrozenApi, customer_id: str) -> list[Any]:
    keys = _rule_keys(frozen, customer_id)
    query = text(
        "SELECT s.trigger_id, s.window_start, s.window_end, s.state, s.last_value "
        "FROM trigger_states s JOIN triggers t ON t.id = s.trigger_id WHERE t.customer_id = :c"
    )
    with frozen.runtime.db.connect() as conn:
        rows = conn.execute(query, {"c": customer_id}).all()
    return sorted((keys[r[0]], str(r[1]), str(r[2]), str(r[3]), r[4]) for r in rows)


def subscribe_every_rule(
    api: Api,
    tenants: tuple[TenantHandle, ...],
    delivery: dict[str, Any],
    rules: list[dict[str, Any]] = RULES,
) -> list[Subscriber]:
    """One customer per tenant with a trigger on every rule, parameters from ``delivery``."""
    subs = []
    for handle in tenants:
        limit, peak, n = delivery["limit"], delivery["peak"], delivery["n"]
        first = subscribe(api, rules[0], _params(rules[0], limit, peak, n), tenant=handle)
        for rule in rules[1:]:
            body = {"rule": rule["key"], "params": _params(rule, limit, peak, n)}
            api.ok("POST", "/v1/me/triggers", first.token, 201, json=body)
        subs.append(first)
    return subs


def send_to_both(
    frozen: FrozenApi,
    subs: tuple[Subscriber, Subscriber],
    batches: Sequence[Any],
    times: Sequence[datetime],
    readings: Callable[[str, Any], list[dict[str, Any]]],
) -> None:
    """Each batch at its time, to the first customer's tenant with the fast path on, then to
    the second's with it off; both answer the same."""
    api, cache = frozen.api, frozen.runtime.cache
    try:
        for batch, at in zip(batches, times, strict=True):
            frozen.clock.set(at)
            answers = []
            for sub, on in zip(subs, (True, False), strict=True):
                cache.fast_path = on
                answer = post_readings(api, sub.tenant, readings(sub.ref, batch))
                answer.pop("batch", None)
                answers.append(answer)
            assert answers[0] == answers[1]
    finally:
        cache.fast_path = True


def over(
    strategy: st.SearchStrategy[dict[str, Any]],
) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """A property test over ``strategy`` (drawn as ``delivery``), on SQLite, with the example
    budget the fast-path property tests share."""

    def property_test(test: Callable[..., None]) -> Callable[..., None]:
        examples = settings(
            max_examples=40,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        )(given(delivery=strategy)(test))
        marked: Callable[..., None] = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)(
            examples
        )
        return marked

    return property_test


@over(deliveries())
def test_the_fast_path_decides_exactly_what_full_evaluation_decides(
    frozen: FrozenApi, tenants: tuple[TenantHandle, TenantHandle], delivery: dict[str, Any]
) -> None:
    fast, full = subscribe_every_rule(frozen.api, tenants, delivery)
    times = list(
        accumulate(
            delivery["advance"], lambda at, m: at + timedelta(minutes=m), initial=berlin(HOURS + 1)
        )
    )[1:]
    send_to_both(frozen, (fast, full), delivery["batches"], times, _readings)

    decided = _decided(frozen, fast.tenant, fast.id)
    assert decided == _decided(frozen, full.tenant, full.id)
    assert _states(frozen, fast.id) == _states(frozen, full.id)
    event(f"rules notifying: {len({n['rule'] for n in decided})}")
    event(f"recognised rules notifying: {len({n['rule'] for n in decided} & RECOGNISED_KEYS)}")


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_recognised_rules_are_planned_for_the_fast_path_and_the_others_are_not(
    frozen: FrozenApi, tenants: tuple[TenantHandle, TenantHandle]
) -> None:
    """The property above compares the two paths only if the fast one is taken."""
    api, runtime = frozen.api, frozen.runtime
    sub = subscribe(api, RULES[0], {"limit": 1.0}, tenant=tenants[0])
    for rule in RULES[1:]:
        params = _params(rule, 1.0, 1.0, 1)
        api.ok(
            "POST", "/v1/me/triggers", sub.token, 201, json={"rule": rule["key"], "params": params}
        )
    with Session(runtime.db) as session:
        ref = CustomerRepository(session).by_refs(sub.tenant.id, [sub.ref])[sub.ref]
        active = EvaluationRepository(session).active([sub.id], "threshold")
        plans = [Plan.of(trigger, ref) for trigger in active]
    planned = {p.rule.definition.key for p in plans if p.bounds is not None}
    assert len(plans) == len(RULES)
    assert planned == {r["key"] for r in RECOGNISED}
