"""What the ingest cache keeps per customer and trigger (a customer, a plan, the trigger it
plans) is invisible to the garbage collector: plain values that are never part of a reference
cycle, so a collection does not walk the hundreds of thousands of them a large tenant keeps
(and a tenant's first batches, which fill the cache, set off collections)."""

from __future__ import annotations

import gc

from engine.evaluation.plan import Plan
from tests.api.conftest import FrozenApi
from tests.fixtures.rules import berlin, post_readings, subscribe


def test_the_cached_customers_plans_and_triggers_are_not_tracked(frozen: FrozenApi) -> None:
    sub = subscribe(frozen.api, params={"limit_kwh": 5}, attributes={"tariff": "night"})
    reading = {
        "customer": sub.ref,
        "metric": "electricity.consumption",
        "start": berlin(1).isoformat(),
        "duration": 3600,
        "value": 1.5,
        "unit": "kWh",
    }
    assert post_readings(frozen.api, sub.tenant, [reading])["accepted"] == 1

    entries = frozen.runtime.cache._tenants[sub.tenant.id]
    customer = entries.refs[sub.ref]
    plan = entries.plans[customer.id]
    assert isinstance(plan, Plan)
    assert customer.attributes == {"tariff": "night"}
    assert plan.trigger.params == {"limit_kwh": 5}
    assert not any(gc.is_tracked(kept) for kept in (customer, plan, plan.trigger))
