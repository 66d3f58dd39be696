"""Alembic from code: upgrade to head and tell whether the schema is current."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from alembic import command
from engine.platform.db import normalize_url

ROOT = Path(__file__).resolve().parents[2]


def alembic_config(url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "alembic"))
    config.set_main_option("sqlalchemy.url", normalize_url(url).replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


@dataclass(frozen=True)
class MigrationStatus:
    database: bool
    current: str | None
    head: str | None
    writable: bool = True

    @property
    def ready(self) -> bool:
        return self.database and self.writable and self.current == self.head

    def as_dict(self) -> dict[str, Any]:
        return {
            "database": self.database,
            "writable": self.writable,
            "revision": self.current,
            "head": self.head,
        }


def migration_status(engine: Engine) -> MigrationStatus:
    """Whether the database answers, takes writes, and has the latest schema."""
    head = head_revision()
    try:
        with engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
    except SQLAlchemyError:
        return MigrationStatus(False, None, head, writable=False)
    return MigrationStatus(True, current, head, writable=_writable(engine))


def _writable(engine: Engine) -> bool:
    """Try a write that changes nothing, and roll it back (a read-only file, a standby, a
    read-only transaction default, a full disk all refuse it)."""
    try:
        with engine.connect() as conn, conn.begin() as transaction:
            conn.execute(text("UPDATE alembic_version SET version_num = version_num"))
            transaction.rollback()
    except SQLAlchemyError:
        return False
    return True
