"""A customer's preferences and consents under concurrent changes: two transactions that
overlap keep both changes, and two first writes give one row and no error."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from sqlalchemy import func, select
from sqlmodel import Session

from engine.models import Consent, Preferences
from engine.preferences.schemas import PreferencesUpdate
from engine.processes.container import Services
from engine.processes.runtime import Runtime
from tests.fixtures.api import Api

HOLD_S = 0.4  # how long the first transaction keeps its change uncommitted


def _customer(api: Api) -> tuple[str, str]:
    tenant = api.tenant()
    customer = api.customer(tenant, email="ada@example.com")
    return tenant.id, customer["id"]


def _overlapping(
    runtime: Runtime, first: Callable[[Services], object], second: Callable[[Services], object]
) -> list[BaseException]:
    """Run ``first`` in a transaction held open for a while; ``second`` starts while it is
    open. Returns the errors either raised."""
    errors: list[BaseException] = []
    started = threading.Event()

    def hold() -> None:
        try:
            with runtime.services() as services:
                first(services)
                started.set()
                time.sleep(HOLD_S)
        except BaseException as exc:  # reported to the test
            errors.append(exc)
        finally:
            started.set()

    def follow() -> None:
        started.wait(10)
        try:
            with runtime.services() as services:
                second(services)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=hold), threading.Thread(target=follow)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return errors


def _patch(tenant_id: str, customer_id: str, **change: object) -> Callable[[Services], object]:
    update = PreferencesUpdate.model_validate(change)
    return lambda services: services.preferences.update(tenant_id, customer_id, update)


def test_concurrent_changes_of_different_preferences_keep_both(api: Api, runtime: Runtime) -> None:
    tenant_id, customer_id = _customer(api)

    errors = _overlapping(
        runtime,
        _patch(tenant_id, customer_id, quiet_hours={"sms": [{"start": "22:00", "end": "07:00"}]}),
        _patch(tenant_id, customer_id, frequency_caps={"email": {"max": 3, "per": "day"}}),
    )

    assert errors == []
    with runtime.services() as services:
        prefs = services.preferences.get(customer_id)
    assert [p.start for p in prefs.quiet_hours["sms"]] == ["22:00"]
    assert prefs.frequency_caps["email"].max == 3
    with Session(runtime.db) as session:
        count = session.execute(select(func.count()).select_from(Preferences)).scalar()
    assert count == 1


def test_concurrent_first_consent_grants_give_one_row_and_no_error(
    api: Api, runtime: Runtime
) -> None:
    tenant_id, customer_id = _customer(api)

    def grant(services: Services) -> object:
        return services.consent.set(tenant_id, customer_id, "sms", "energy", True, "api")

    errors = _overlapping(runtime, grant, grant)

    assert errors == []
    with Session(runtime.db) as session:
        rows = session.execute(
            select(Consent.topic, Consent.granted).where(Consent.customer_id == customer_id)
        ).all()
    assert [tuple(r) for r in rows] == [("energy", True)]


def test_a_revocation_racing_a_topic_grant_is_ordered_by_who_came_last(
    api: Api, runtime: Runtime
) -> None:
    tenant_id, customer_id = _customer(api)

    def grant_topic(services: Services) -> object:
        return services.consent.set(tenant_id, customer_id, "sms", "energy", True, "api")

    def revoke_all(services: Services) -> object:
        return services.consent.set(tenant_id, customer_id, "sms", "*", False, "api")

    assert _overlapping(runtime, grant_topic, revoke_all) == []
    with runtime.services() as services:
        assert not services.consent.is_granted(customer_id, "sms", "energy")
        revisions = sorted(c.revision for c in services.consent.list(customer_id))
    assert revisions == [1, 2]
