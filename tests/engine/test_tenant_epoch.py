"""A tenant's configuration epoch as a batch reads it: the value stored, moved by a change to
one of its customers that this session has not flushed yet, and not by another tenant's."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import NoResultFound
from sqlmodel import Session

from engine.models import Customer
from engine.processes.runtime import Runtime
from engine.tenants.repository import TenantRepository
from tests.fixtures.api import Api


def test_the_epoch_moves_with_a_change_pending_in_the_same_session(
    api: Api, runtime: Runtime
) -> None:
    tenant, other = api.tenant(), api.tenant()
    customer = api.customer(tenant)

    with Session(runtime.db) as session:
        tenants = TenantRepository(session)
        before, other_before = tenants.epoch(tenant.id), tenants.epoch(other.id)
        row = session.get(Customer, customer["id"])
        assert row is not None
        row.name = "Renamed"  # pending: not flushed yet
        assert tenants.epoch(tenant.id, hold=True) == before + 1
        assert tenants.epoch(other.id) == other_before
        session.rollback()

    with Session(runtime.db) as session:
        assert TenantRepository(session).epoch(tenant.id) == before


def test_an_unknown_tenant_has_no_epoch(runtime: Runtime) -> None:
    with Session(runtime.db) as session, pytest.raises(NoResultFound):
        TenantRepository(session).epoch("ten_nobody")
