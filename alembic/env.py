"""Alembic environment: the SQLModel metadata, batch mode on SQLite."""

from __future__ import annotations

from sqlalchemy import Connection

import engine.models  # noqa: F401  (registers every table)
from alembic import context
from engine.platform.db import make_engine, metadata

config = context.config


def _url() -> str:
    """The URL given by `engine.platform.migrations`, else the configured database
    (plain `alembic`)."""
    from engine.platform.config import get_settings

    return config.get_main_option("sqlalchemy.url") or get_settings().database_url


def _configure(connection: Connection | None = None, url: str | None = None) -> None:
    context.configure(
        connection=connection,
        url=url,
        target_metadata=metadata,
        render_as_batch=True,
        compare_type=True,
        literal_binds=connection is None,
    )


def run_offline() -> None:
    _configure(url=_url())
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is not None:
        _configure(connection=connectable)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(_url())
    with engine.connect() as connection:
        _configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
