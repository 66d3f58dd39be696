"""The Alembic chain builds, matches the models and unwinds, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from alembic import command
from engine.platform.db import make_engine, metadata
from engine.platform.migrations import alembic_config, head_revision, migration_status, upgrade
from tests.conftest import BACKENDS
from tests.fixtures import database


@pytest.fixture(params=BACKENDS)
def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no tables at all."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    cluster = request.getfixturevalue("pg_cluster")
    yield from database.postgres_database(cluster, migrated=False)


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def _differences(url: str) -> list[Any]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return list(compare_metadata(context, metadata))
    finally:
        engine.dispose()


def test_upgrade_from_empty_reaches_head(empty_db_url: str) -> None:
    upgrade(empty_db_url)

    engine = make_engine(empty_db_url)
    try:
        status = migration_status(engine)
    finally:
        engine.dispose()
    assert status.ready
    assert status.current == head_revision()
    assert _tables(empty_db_url) == set(metadata.tables)


def test_models_and_migrations_agree(db_url: str) -> None:
    assert _differences(db_url) == []


def test_downgrade_to_base_and_up_again(empty_db_url: str) -> None:
    upgrade(empty_db_url)
    command.downgrade(alembic_config(empty_db_url), "base")
    assert _tables(empty_db_url) == set()

    upgrade(empty_db_url)
    assert _tables(empty_db_url) == set(metadata.tables)
    assert _differences(empty_db_url) == []
