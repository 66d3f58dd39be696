"""Customers' attributes and triggers' parameters read in bulk as JSON text (on both databases)
give the values the ORM reads for the same rows."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from engine.customers.repository import CustomerRepository
from engine.evaluation.repository import EvaluationRepository
from engine.models import Customer, Trigger
from engine.processes.runtime import Runtime
from tests.fixtures.api import Api
from tests.fixtures.rules import DAILY_ENERGY, publish, subscribe

ODD: dict[str, Any] = {
    "limit_kwh": 12.5,
    "tariff": "Öko Basis – 夜",
    "big": 2**62,
    "tiny": 1e-300,
    "negative": -3,
    "nested": {"list": [1, 2.0, None, True, "x"], "empty": {}},
    "quote": 'say "hi"\\n',
}


def test_attributes_and_parameters_read_in_bulk_equal_what_the_orm_reads(
    api: Api, runtime: Runtime
) -> None:
    tenant = api.tenant()
    publish(api, tenant, DAILY_ENERGY)
    subs = [subscribe(api, params={"limit_kwh": 5.0}, tenant=tenant) for _ in range(3)]
    odd, plain, empty = subs
    with Session(runtime.db) as session:
        session.execute(update(Customer).where(col(Customer.id) == odd.id).values(attributes=ODD))
        session.execute(
            update(Trigger).where(col(Trigger.customer_id) == odd.id).values(params=ODD)
        )
        session.execute(update(Customer).where(col(Customer.id) == empty.id).values(attributes={}))
        session.commit()

    with Session(runtime.db) as session:
        refs = CustomerRepository(session).by_refs(tenant.id, [s.ref for s in subs])
        active = EvaluationRepository(session).active([s.id for s in subs], "threshold")
        orm_customers = {s.id: session.get(Customer, s.id) for s in subs}
        orm_triggers = {t.customer_id: t for t in session.exec(select(Trigger))}

    for sub in subs:
        stored = orm_customers[sub.id]
        assert stored is not None
        assert refs[sub.ref].attributes == stored.attributes
    assert refs[odd.ref].attributes == ODD
    assert refs[empty.ref].attributes == {}
    for trigger in active:
        assert trigger.params == orm_triggers[trigger.customer_id].params
    assert next(t for t in active if t.customer_id == odd.id).params == ODD
    assert next(t for t in active if t.customer_id == plain.id).params == {"limit_kwh": 5.0}
