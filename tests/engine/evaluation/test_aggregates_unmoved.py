"""Adding a batch's readings to window aggregates only where each window still holds what
the batch was evaluated on (SQLite checks it in the writing statements themselves)."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from engine.evaluation.aggregates_repository import AggregateRepository
from engine.evaluation.totals import Totals
from engine.processes.runtime import Runtime
from tests.fixtures.api import Api

DAY = 1_772_406_000  # a window start, epoch seconds
END = DAY + 86_400


def one(value: float, start: int) -> Totals:
    """A new window's totals after one reading."""
    return Totals(value, 1, value, value, start, value, start + 3600, END, "kWh", 0)


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
    assert aggregates.write_unmoved({key: (None, one(1.5, DAY))})
    first = aggregates.get([key])[key]
    assert first == Totals(1.5, 1, 1.5, 1.5, DAY, 1.5, DAY + 3600, END, "kWh", 0)
    second = Totals(3.5, 2, 1.5, 2.0, DAY + 3600, 2.0, DAY + 7200, END, "kWh", 1)
    assert aggregates.write_unmoved({key: (first, second)})
    assert aggregates.get([key])[key] == second
    session.rollback()
    session.close()


def test_refuses_a_window_that_moved(repo: tuple[Session, AggregateRepository, str]) -> None:
    session, aggregates, customer = repo
    key = (customer, "electricity.consumption", "day", DAY)
    other = (customer, "electricity.consumption", "day", DAY - 86_400)
    assert aggregates.write_unmoved({key: (None, one(1.5, DAY))})
    stored = aggregates.get([key])[key]
    # Expected no row, but one is there; expected other totals than those stored; expected a
    # row where there is none.
    assert not aggregates.write_unmoved({key: (None, one(2.0, DAY + 3600))})
    moved = stored._replace(total=1.25, revision=stored.revision + 1)
    later = stored._replace(total=3.5, samples=2)
    assert not aggregates.write_unmoved(
        {other: (None, one(1.0, DAY - 86_400)), key: (moved, later)}
    )
    assert aggregates.get([key])[key] == stored  # that window left as it was
    gone = (customer, "electricity.consumption", "day", DAY + 86_400)
    assert not aggregates.write_unmoved({gone: (stored, later)})
    assert gone not in aggregates.get([gone])
    session.rollback()
    session.close()


def test_refuses_a_window_written_since_with_the_same_totals(
    repo: tuple[Session, AggregateRepository, str],
) -> None:
    session, aggregates, customer = repo
    key = (customer, "electricity.consumption", "day", DAY)
    assert aggregates.write_unmoved({key: (None, one(1.5, DAY))})
    read = aggregates.get([key])[key]
    # Another batch recomputes the window from its readings after this one read it: the same
    # figures, but this batch's totals were worked out from a row that has been written since.
    aggregates.replace([(key, read)])
    rewritten = aggregates.get([key])[key]
    assert rewritten.figures() == read.figures()
    assert rewritten.revision == read.revision + 1
    assert not aggregates.write_unmoved({key: (read, read._replace(total=3.5, samples=2))})
    assert aggregates.get([key])[key] == rewritten
    session.rollback()
    session.close()


def test_every_statement_that_changes_a_window_adds_one_to_its_revision(
    runtime: Runtime, api: Api
) -> None:
    # What the check above relies on, on both databases (PostgreSQL compares the revision the
    # adding statement answers with the one the batch predicted).
    tenant = api.tenant()
    customer = api.customer(tenant, external_id="c1")["id"]
    key = (customer, "electricity.consumption", "day", DAY)
    with Session(runtime.db) as session:
        aggregates = AggregateRepository(session)
        delta = [*one(1.5, DAY)[:9], DAY]  # a delta as ingest builds it: then the earliest start
        assert aggregates.add({key: delta})[key].revision == 0  # a new row
        added = aggregates.add({key: [*one(2.0, DAY + 3600)[:9], DAY + 3600]})[key]
        assert (added.samples, added.revision) == (2, 1)
        aggregates.replace([(key, added)])
        assert aggregates.get([key])[key] == added._replace(revision=2)
        session.rollback()
