"""How a batch names its customers: by external id or else by nudge id, live customers of
the batch's tenant only, with their timezone, locale and attributes as stored."""

from __future__ import annotations

from sqlmodel import Session

from engine.customers.refs import CustomerRef
from engine.customers.repository import CustomerRepository
from engine.processes.runtime import Runtime
from tests.fixtures.api import Api


def test_customers_are_found_by_external_id_or_id_in_their_tenant_only(
    api: Api, runtime: Runtime
) -> None:
    tenant, other = api.tenant(), api.tenant()
    attributes = {"tariff": "night", "rooms": 3, "solar": True, "ratio": 0.25}
    rich = api.customer(tenant, timezone="America/New_York", locale="en", attributes=attributes)
    plain = api.customer(tenant)
    erased = api.customer(tenant)
    api.ok("DELETE", f"/v1/customers/{erased['id']}", tenant.feed, 204)
    stranger = api.customer(other)
    # More names than one statement's list takes, most of them nobody's.
    unknown = [f"nobody-{i}" for i in range(2_000)]
    refs = [
        rich["external_id"],
        plain["id"],
        erased["external_id"],
        erased["id"],
        stranger["external_id"],
        stranger["id"],
        *unknown,
    ]

    with Session(runtime.db) as session:
        found = CustomerRepository(session).by_refs(tenant.id, refs)

    assert found == {
        rich["external_id"]: CustomerRef(
            rich["id"], tenant.id, "America/New_York", "en", attributes
        ),
        plain["id"]: CustomerRef(plain["id"], tenant.id, "Europe/Berlin", "de-DE", {}),
    }
