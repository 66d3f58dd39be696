"""Adding a batch's readings to window aggregates only where each window still holds what
the batch was evaluated on (SQLite checks it in the adding statement itself)."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from engine.evaluation.aggregates_repository import AggregateRepository
from engine.evaluation.totals import Totals
from engine.processes.runtime import Runtime
from tests.fixtures.api import Api

DAY = 1_772_406_000  # a window start, epoch seconds
END = DAY + 86_400


def delta(value: float, start: int) -> list[object]:
    """What one reading adds, in the order of `Totals`, then its start (the earliest)."""
    return [value, 1, value, value, start, value, start + 3600, END, "kWh", start]


@pytest.fixture
def repo(runtime: Runtime, api: Api) -> tuple[Session, AggregateRepository, str]:
    tenant = api.tenant()
    customer = api.customer(tenant, external_id="c1")
    session = Session(runtime.db)
    found = AggregateRepository(session)
    if not found.sqlite:
        session.close()
        pytest.skip("PostgreSQL compares the totals the adding statement answers instead")
    return session, found, customer["id"]


def test_adds_where_each_window_holds_what_was_read(
    repo: tuple[Session, AggregateRepository, str],
) -> None:
    session, aggregates, customer = repo
    key = (customer, "electricity.consumption", "day", DAY)
    assert aggregates.add_unmoved({key: delta(1.5, DAY)}, {key: None})
    first = aggregates.get([key])[key]
    assert first == Totals(1.5, 1, 1.5, 1.5, DAY, 1.5, DAY + 3600, END, "kWh")
    assert aggregates.add_unmoved({key: delta(2.0, DAY + 3600)}, {key: first})
    assert aggregates.get([key])[key] == Totals(
        3.5, 2, 1.5, 2.0, DAY + 3600, 2.0, DAY + 7200, END, "kWh"
    )
    session.rollback()
    session.close()


def test_refuses_a_window_that_moved(repo: tuple[Session, AggregateRepository, str]) -> None:
    session, aggregates, customer = repo
    key = (customer, "electricity.consumption", "day", DAY)
    other = (customer, "electricity.consumption", "day", DAY - 86_400)
    assert aggregates.add_unmoved({key: delta(1.5, DAY)}, {key: None})
    stored = aggregates.get([key])[key]
    # Expected no row, but one is there; expected other totals than those stored.
    assert not aggregates.add_unmoved({key: delta(2.0, DAY + 3600)}, {key: None})
    moved = stored._replace(total=1.25)
    assert not aggregates.add_unmoved(
        {other: delta(1.0, DAY - 86_400), key: delta(2.0, DAY + 3600)}, {other: None, key: moved}
    )
    assert aggregates.get([key])[key] == stored  # that window left as it was
    session.rollback()
    session.close()
