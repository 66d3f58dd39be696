"""The triggers a batch wakes, read in bulk: each with its own parameters, as stored."""

from __future__ import annotations

from sqlmodel import Session

from engine.evaluation.repository import EvaluationRepository
from engine.processes.runtime import Runtime
from tests.fixtures.api import Api
from tests.fixtures.rules import DAILY_ENERGY, publish, subscribe


def test_each_trigger_has_its_own_parameters_even_when_they_read_the_same(
    api: Api, runtime: Runtime
) -> None:
    tenant = api.tenant()
    publish(api, tenant, DAILY_ENERGY)
    limits = [5.0, 5.0, 7.5, 5.0]
    subs = [subscribe(api, params={"limit_kwh": v}, tenant=tenant) for v in limits]

    with Session(runtime.db) as session:
        active = EvaluationRepository(session).active([s.id for s in subs], "threshold")

    by_customer = {t.customer_id: t for t in active}
    assert [by_customer[s.id].params for s in subs] == [{"limit_kwh": v} for v in limits]
    assert [by_customer[s.id].id for s in subs] == [s.trigger["id"] for s in subs]
    # Equal parameters are still separate values: changing one trigger's leaves the others.
    by_customer[subs[0].id].params["limit_kwh"] = 1.0
    assert [by_customer[s.id].params["limit_kwh"] for s in subs] == [1.0, 5.0, 7.5, 5.0]
