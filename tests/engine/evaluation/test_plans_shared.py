"""Plans of triggers loaded in bulk: what a rule version and a parameters text decide is worked
out once, and each trigger still gets the bounds of its own version and parameters."""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import Session

from engine.customers.repository import CustomerRepository
from engine.evaluation.plan import Plan
from engine.evaluation.repository import EvaluationRepository
from engine.processes.runtime import Runtime
from tests.fixtures.api import Api
from tests.fixtures.rules import DAILY_ENERGY, publish, subscribe

# Same parameter, another condition: the same parameters text gives other bounds.
DOUBLED: dict[str, Any] = {
    **DAILY_ENERGY,
    "key": "energy.daily_above_double",
    "condition": "window.sum > params.limit_kwh * 2.0",
}


def _plans(runtime: Runtime, tenant_id: str, refs: list[str]) -> list[Plan]:
    with Session(runtime.db) as session:
        customers = CustomerRepository(session).by_refs(tenant_id, refs)
        by_id = {c.id: c for c in customers.values()}
        active = EvaluationRepository(session).active(sorted(by_id), "threshold")
        return [Plan.of(trigger, by_id[trigger.customer_id]) for trigger in active]


def test_each_trigger_is_planned_with_the_bounds_of_its_own_version_and_parameters(
    api: Api, runtime: Runtime
) -> None:
    tenant = api.tenant()
    publish(api, tenant, DAILY_ENERGY)
    publish(api, tenant, DOUBLED)
    wanted = [(DAILY_ENERGY, 5.0), (DAILY_ENERGY, 7.5), (DOUBLED, 5.0), (DAILY_ENERGY, 5.0)]
    subs = [subscribe(api, rule, {"limit_kwh": v}, tenant=tenant) for rule, v in wanted]

    plans = {p.trigger.customer_id: p for p in _plans(runtime, tenant.id, [s.ref for s in subs])}

    assert [plans[s.id].bounds for s in subs] == [(5.0,), (7.5,), (10.0,), (5.0,)]
    assert [plans[s.id].rule.definition.key for s in subs] == [r["key"] for r, _ in wanted]
    assert [plans[s.id].stream[0] for s in subs] == [s.id for s in subs]
    # Planned again (from memory this time), the same bounds.
    again = {p.trigger.customer_id: p for p in _plans(runtime, tenant.id, [s.ref for s in subs])}
    assert [again[s.id].bounds for s in subs] == [(5.0,), (7.5,), (10.0,), (5.0,)]


def test_equal_parameters_texts_are_kept_once_and_each_trigger_has_its_own_values(
    api: Api, runtime: Runtime
) -> None:
    tenant = api.tenant()
    publish(api, tenant, DAILY_ENERGY)
    subs = [subscribe(api, params={"limit_kwh": v}, tenant=tenant) for v in (5.0, 5.0, 7.5)]

    with Session(runtime.db) as session:
        active = EvaluationRepository(session).active([s.id for s in subs], "threshold")

    first, second, other = (next(t for t in active if t.customer_id == s.id) for s in subs)
    # Read as text on both databases: one string for equal texts, each trigger its own value.
    assert first.params_text is second.params_text
    assert json.loads(first.params_text or "") == {"limit_kwh": 5.0}
    assert json.loads(other.params_text or "") == {"limit_kwh": 7.5}
    assert first.params == second.params == {"limit_kwh": 5.0}
    assert first.params is not second.params
    assert other.params == {"limit_kwh": 7.5}
